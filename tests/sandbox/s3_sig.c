/* callbridge-sandbox: AWS Signature Version 4 verification; see s3_sig.h. */
#include "s3_sig.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ALGORITHM "AWS4-HMAC-SHA256"

static void hex(const unsigned char *in, size_t len, char *out)
{
        static const char digits[] = "0123456789abcdef";

        for (size_t i = 0; i < len; i++) {
                out[2 * i] = digits[in[i] >> 4];
                out[2 * i + 1] = digits[in[i] & 15];
        }
        out[2 * len] = '\0';
}

/* AWS URI encoding: unreserved characters kept, '/' kept when `keep_slash`, the rest %XX. */
static void uri_encode(FILE *f, const char *s, bool keep_slash)
{
        for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
                if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~' ||
                    (keep_slash && *p == '/'))
                        fputc(*p, f);
                else
                        fprintf(f, "%%%02X", *p);
        }
}

/* An encoded query pair, for sorting. */
struct pair {
        char *name;
        char *value;
};

static char *encoded(const char *s)
{
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);

        if (f == NULL)
                return NULL;
        uri_encode(f, s ? s : "", false);
        if (fclose(f) != 0) {
                free(out);
                return NULL;
        }
        return out;
}

static int pair_cmp(const void *a, const void *b)
{
        const struct pair *x = a, *y = b;
        int c = strcmp(x->name, y->name);

        return c != 0 ? c : strcmp(x->value, y->value);
}

/* "a=1&b=2": the arguments encoded, sorted by name then value. -1 when out of memory. */
static int canonical_query(FILE *f, const struct sb_sigv4_request *req)
{
        struct pair *pairs = calloc(req->n_query ? req->n_query : 1, sizeof(*pairs));
        int rc = -1;

        if (pairs == NULL)
                return -1;
        for (size_t i = 0; i < req->n_query; i++) {
                pairs[i].name = encoded(req->query[i].name);
                pairs[i].value = encoded(req->query[i].value);
                if (pairs[i].name == NULL || pairs[i].value == NULL)
                        goto out;
        }
        qsort(pairs, req->n_query, sizeof(*pairs), pair_cmp);
        for (size_t i = 0; i < req->n_query; i++)
                fprintf(f, "%s%s=%s", i ? "&" : "", pairs[i].name, pairs[i].value);
        rc = 0;
out:
        for (size_t i = 0; i < req->n_query; i++) {
                free(pairs[i].name);
                free(pairs[i].value);
        }
        free(pairs);
        return rc;
}

/* Write the value trimmed, runs of blanks as one space. */
static void header_value(FILE *f, const char *v)
{
        bool space = false, any = false;

        for (; *v != '\0'; v++) {
                if (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n') {
                        space = any;
                        continue;
                }
                if (space)
                        fputc(' ', f);
                fputc(*v, f);
                space = false;
                any = true;
        }
}

/* "name:v1,v2\n" for the header `name` (values of repeated headers joined by ','). False when
 * the request does not have it. */
static bool canonical_header(FILE *f, const struct sb_sigv4_request *req, const char *name)
{
        bool found = false;

        for (size_t i = 0; i < req->n_headers; i++) {
                if (strcasecmp(req->headers[i].name, name) != 0)
                        continue;
                fprintf(f, found ? "," : "%s:", name);
                header_value(f, req->headers[i].value ? req->headers[i].value : "");
                found = true;
        }
        if (found)
                fputc('\n', f);
        return found;
}

char *sb_sigv4_canonical_request(const struct sb_sigv4_request *req, const char *signed_headers)
{
        char *out = NULL, *names = strdup(signed_headers), *save = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        bool ok = f != NULL && names != NULL;

        if (ok) {
                fprintf(f, "%s\n", req->method);
                uri_encode(f, req->path[0] ? req->path : "/", true);
                fputc('\n', f);
                ok = canonical_query(f, req) == 0;
                fputc('\n', f);
        }
        for (char *n = ok ? strtok_r(names, ";", &save) : NULL; n != NULL && ok;
             n = strtok_r(NULL, ";", &save))
                ok = canonical_header(f, req, n);
        if (ok)
                fprintf(f, "\n%s\n%s", signed_headers, req->payload_hash);
        free(names);
        if (f != NULL && fclose(f) != 0)
                ok = false;
        if (!ok) {
                free(out);
                return NULL;
        }
        return out;
}

char *sb_sigv4_string_to_sign(const char *amz_date, const char *scope, const char *creq)
{
        unsigned char sum[SHA256_DIGEST_LENGTH];
        char sum_hex[2 * SHA256_DIGEST_LENGTH + 1];
        char *out = NULL;

        SHA256((const unsigned char *)creq, strlen(creq), sum);
        hex(sum, sizeof(sum), sum_hex);
        if (asprintf(&out, ALGORITHM "\n%s\n%s\n%s", amz_date, scope, sum_hex) < 0)
                return NULL;
        return out;
}

static void hmac(const void *key, size_t key_len, const char *data, unsigned char out[32])
{
        unsigned int n = 32;

        HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)data, strlen(data), out, &n);
}

void sb_sigv4_signature(const char *secret, const char *date8, const char *region,
                        const char *service, const char *sts, char out[65])
{
        unsigned char k[32], k2[32];
        char *first = NULL;

        if (asprintf(&first, "AWS4%s", secret) < 0) {
                out[0] = '\0';
                return;
        }
        hmac(first, strlen(first), date8, k);
        OPENSSL_cleanse(first, strlen(first));
        free(first);
        hmac(k, sizeof(k), region, k2);
        hmac(k2, sizeof(k2), service, k);
        hmac(k, sizeof(k), "aws4_request", k2);
        hmac(k2, sizeof(k2), sts, k);
        hex(k, sizeof(k), out);
        OPENSSL_cleanse(k2, sizeof(k2));
}

/* The parts of an Authorization header. */
struct auth {
        char credential[256];
        char signed_headers[1024];
        char signature[128];
};

/* Copy `len` bytes of `s` into `out`; false when it does not fit. */
static bool copy_n(char *out, size_t size, const char *s, size_t len)
{
        if (len >= size)
                return false;
        memcpy(out, s, len);
        out[len] = '\0';
        return true;
}

static bool parse_auth(const char *h, struct auth *a)
{
        const char *p;

        memset(a, 0, sizeof(*a));
        if (strncmp(h, ALGORITHM " ", sizeof(ALGORITHM)) != 0)
                return false;
        p = h + sizeof(ALGORITHM);
        while (*p != '\0') {
                size_t n;
                const char *eq;

                p += strspn(p, " ,");
                n = strcspn(p, ",");
                eq = memchr(p, '=', n);
                if (n == 0)
                        break;
                if (eq == NULL)
                        return false;
                while (n > 0 && p[n - 1] == ' ')
                        n--;
                if (strncmp(p, "Credential=", 11) == 0) {
                        if (!copy_n(a->credential, sizeof(a->credential), eq + 1, n - 11))
                                return false;
                } else if (strncmp(p, "SignedHeaders=", 14) == 0) {
                        if (!copy_n(a->signed_headers, sizeof(a->signed_headers), eq + 1, n - 14))
                                return false;
                } else if (strncmp(p, "Signature=", 10) == 0) {
                        if (!copy_n(a->signature, sizeof(a->signature), eq + 1, n - 10))
                                return false;
                }
                p += strcspn(p, ",");
        }
        return a->credential[0] && a->signed_headers[0] && strlen(a->signature) == 64;
}

static const char *header(const struct sb_sigv4_request *req, const char *name)
{
        for (size_t i = 0; i < req->n_headers; i++)
                if (strcasecmp(req->headers[i].name, name) == 0)
                        return req->headers[i].value;
        return NULL;
}

/* True when the ';'-list `list` names `name`. */
static bool listed(const char *list, const char *name)
{
        size_t n = strlen(name);

        for (const char *p = list; p != NULL; p = strchr(p, ';') ? strchr(p, ';') + 1 : NULL)
                if (strncmp(p, name, n) == 0 && (p[n] == ';' || p[n] == '\0'))
                        return true;
        return false;
}

/* Split "AKID/date/region/service/aws4_request" (the key id may not contain '/'). */
static enum sb_sigv4_status check_scope(const struct auth *a, const struct sb_sigv4_keys *keys,
                                        const char *amz_date, char *scope, size_t scope_size,
                                        char *why, size_t why_size)
{
        char key[128], date8[16], region[64], service[64], term[32];
        const char *slash = strchr(a->credential, '/');

        if (slash == NULL ||
            !copy_n(key, sizeof(key), a->credential, (size_t)(slash - a->credential)) ||
            sscanf(slash + 1, "%15[^/]/%63[^/]/%63[^/]/%31s", date8, region, service, term) != 4) {
                snprintf(why, why_size, "the Credential is malformed: %s", a->credential);
                return SB_SIGV4_MALFORMED;
        }
        if (strcmp(key, keys->access_key_id) != 0) {
                snprintf(why, why_size, "The AWS Access Key Id you provided does not exist");
                return SB_SIGV4_UNKNOWN_KEY;
        }
        if (strcmp(region, keys->region) != 0) {
                snprintf(why, why_size, "the region '%s' is wrong; expecting '%s'", region,
                         keys->region);
                return SB_SIGV4_WRONG_REGION;
        }
        if (strcmp(service, keys->service) != 0 || strcmp(term, "aws4_request") != 0 ||
            strlen(amz_date) != 16 || strncmp(date8, amz_date, 8) != 0) {
                snprintf(why, why_size, "the credential scope %s does not match the request",
                         slash + 1);
                return SB_SIGV4_MALFORMED;
        }
        snprintf(scope, scope_size, "%s", slash + 1);
        return SB_SIGV4_OK;
}

enum sb_sigv4_status sb_sigv4_verify(const struct sb_sigv4_request *req,
                                     const struct sb_sigv4_keys *keys, char *why, size_t why_size)
{
        const char *authz = header(req, "Authorization");
        const char *amz_date = header(req, "X-Amz-Date");
        enum sb_sigv4_status st;
        char scope[256], date8[9], sig[65];
        char *creq = NULL, *sts = NULL;
        struct auth a;

        why[0] = '\0';
        if (authz == NULL) {
                snprintf(why, why_size, "Access Denied (no Authorization header)");
                return SB_SIGV4_MISSING;
        }
        if (!parse_auth(authz, &a) || amz_date == NULL || !listed(a.signed_headers, "host")) {
                snprintf(why, why_size,
                         "the authorization header is malformed (want " ALGORITHM
                         " Credential, SignedHeaders with host, "
                         "Signature, and an X-Amz-Date header)");
                return SB_SIGV4_MALFORMED;
        }
        st = check_scope(&a, keys, amz_date, scope, sizeof(scope), why, why_size);
        if (st != SB_SIGV4_OK)
                return st;
        creq = sb_sigv4_canonical_request(req, a.signed_headers);
        sts = creq ? sb_sigv4_string_to_sign(amz_date, scope, creq) : NULL;
        if (sts == NULL) {
                snprintf(why, why_size, "a signed header is missing from the request");
                st = SB_SIGV4_MISMATCH;
                goto out;
        }
        memcpy(date8, amz_date, 8);
        date8[8] = '\0';
        sb_sigv4_signature(keys->secret, date8, keys->region, keys->service, sts, sig);
        if (CRYPTO_memcmp(sig, a.signature, 64) != 0) {
                snprintf(why, why_size,
                         "The request signature we calculated does not match the signature you "
                         "provided. Check your key and signing method.");
                st = SB_SIGV4_MISMATCH;
        }
out:
        free(creq);
        free(sts);
        return st;
}
