/* callbridge-sandbox: small helpers of the Salesforce emulation (decoding, results, paths). */
#include <ctype.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sf_emu.h"

static int b64url_value(char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '-' || c == '+')
                return 62;
        if (c == '_' || c == '/')
                return 63;
        return -1;
}

unsigned char *sf_b64url_decode(const char *in, size_t inlen, size_t *outlen)
{
        unsigned char *out = malloc(inlen / 4 * 3 + 4);
        unsigned int acc = 0;
        int bits = 0;
        size_t n = 0;

        if (!out)
                return NULL;
        while (inlen && in[inlen - 1] == '=')
                inlen--;
        for (size_t i = 0; i < inlen; i++) {
                int v = b64url_value(in[i]);
                if (v < 0) {
                        free(out);
                        return NULL;
                }
                acc = (acc << 6) | (unsigned int)v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[n++] = (unsigned char)(acc >> bits);
                        acc &= (1u << bits) - 1;
                }
        }
        if (bits >= 6) { /* a lone trailing character cannot encode a byte */
                free(out);
                return NULL;
        }
        out[n] = '\0';
        *outlen = n;
        return out;
}

char *sf_url_decode(const char *in, size_t len, bool form)
{
        char *out = malloc(len + 1);
        size_t n = 0;

        if (!out)
                return NULL;
        for (size_t i = 0; i < len; i++) {
                if (in[i] == '%' && i + 2 < len && isxdigit((unsigned char)in[i + 1]) &&
                    isxdigit((unsigned char)in[i + 2])) {
                        char hex[3] = {in[i + 1], in[i + 2], '\0'};
                        out[n++] = (char)strtol(hex, NULL, 16);
                        i += 2;
                } else if (form && in[i] == '+') {
                        out[n++] = ' ';
                } else {
                        out[n++] = in[i];
                }
        }
        out[n] = '\0';
        return out;
}

char *sf_form_get(const char *body, const char *name)
{
        size_t nlen = strlen(name);
        const char *p = body;

        while (p && *p) {
                const char *end = strchr(p, '&');
                size_t len = end ? (size_t)(end - p) : strlen(p);
                const char *eq = memchr(p, '=', len);
                size_t klen = eq ? (size_t)(eq - p) : len;
                char *key = sf_url_decode(p, klen, true);

                if (key && strlen(key) == nlen && memcmp(key, name, nlen) == 0) {
                        free(key);
                        return eq ? sf_url_decode(eq + 1, len - klen - 1, true) : strdup("");
                }
                free(key);
                p = end ? end + 1 : NULL;
        }
        return NULL;
}

int sf_strcasecmp(const char *a, const char *b)
{
        for (;; a++, b++) {
                int ca = tolower((unsigned char)*a), cb = tolower((unsigned char)*b);
                if (ca != cb || ca == 0)
                        return ca - cb;
        }
}

void sf_result_clear(struct sf_result *res)
{
        json_decref(res->body);
        free(res->location);
        res->body = NULL;
        res->location = NULL;
        res->status = 0;
}

void sf_error(struct sf_result *res, unsigned int status, const char *code, json_t *fields,
              const char *fmt, ...)
{
        char msg[1024];
        json_t *err;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        sf_result_clear(res);
        err = json_pack("{s:s,s:s}", "message", msg, "errorCode", code);
        if (err && fields)
                json_object_set_new(err, "fields", fields);
        else
                json_decref(fields);
        res->status = err ? status : 500;
        res->body = err ? json_pack("[o]", err) : NULL;
}

bool sf_op_split(struct sf_op *op, const char *path)
{
        const char *p = path;

        op->nseg = 0;
        while (*p) {
                const char *end = strchr(p, '/');
                size_t len = end ? (size_t)(end - p) : strlen(p);

                if (op->nseg == SF_MAX_SEGMENTS)
                        return false;
                op->seg[op->nseg] = strndup(p, len);
                if (!op->seg[op->nseg])
                        return false;
                op->nseg++;
                if (!end)
                        break;
                p = end + 1;
                if (!*p) { /* a trailing slash is an empty last segment */
                        if (op->nseg == SF_MAX_SEGMENTS)
                                return false;
                        op->seg[op->nseg] = strdup("");
                        if (!op->seg[op->nseg])
                                return false;
                        op->nseg++;
                }
        }
        return true;
}

void sf_op_free_segments(struct sf_op *op)
{
        for (size_t i = 0; i < op->nseg; i++)
                free(op->seg[i]);
        op->nseg = 0;
}

bool sf_version_ok(const char *v)
{
        const char *p = v;

        if (*p++ != 'v' || !isdigit((unsigned char)*p))
                return false;
        while (isdigit((unsigned char)*p))
                p++;
        if (*p++ != '.' || !isdigit((unsigned char)*p))
                return false;
        while (isdigit((unsigned char)*p))
                p++;
        return *p == '\0';
}

json_t *sf_jwt_part(const char *s, size_t len)
{
        size_t n = 0;
        unsigned char *raw = sf_b64url_decode(s, len, &n);
        json_t *doc = raw ? json_loadb((const char *)raw, n, 0, NULL) : NULL;

        free(raw);
        if (doc && !json_is_object(doc)) {
                json_decref(doc);
                doc = NULL;
        }
        return doc;
}

bool sf_jwt_rs256_ok(EVP_PKEY *key, const char *signed_part, size_t signed_len, const char *sig64)
{
        size_t sig_len = 0;
        unsigned char *sig = sf_b64url_decode(sig64, strlen(sig64), &sig_len);
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        bool ok = false;

        if (key && sig && md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1)
                ok = EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)signed_part,
                                      signed_len) == 1;
        EVP_MD_CTX_free(md);
        free(sig);
        return ok;
}
