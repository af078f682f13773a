/* Twilio request signatures (X-Twilio-Signature). */
#include "callbridge/twsig.h"

#include <openssl/hmac.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "callbridge/crypto.h"
#include "callbridge/util.h"

static int cmp_param(const void *a, const void *b)
{
        const struct cb_form_param *x = *(const struct cb_form_param *const *)a;
        const struct cb_form_param *y = *(const struct cb_form_param *const *)b;
        int c = strcmp(x->name, y->name);

        return c != 0 ? c : strcmp(x->value, y->value);
}

int cb_twsig_compute(const char *token, const char *url, const struct cb_form *params,
                     char out[CB_TWSIG_LEN + 1])
{
        size_t n = params ? params->n : 0;
        const struct cb_form_param **sorted =
            n ? malloc(n * sizeof(const struct cb_form_param *)) : NULL;
        struct cb_buf msg = {.max = 1 << 24};
        unsigned char mac[20];
        unsigned int mac_len = 0;
        int rc = -1;

        out[0] = '\0';
        if (n > 0 && sorted == NULL)
                goto out;
        for (size_t i = 0; i < n; i++)
                sorted[i] = &params->p[i];
        if (n > 1)
                qsort(sorted, n, sizeof(const struct cb_form_param *), cmp_param);
        rc = cb_buf_puts(&msg, url);
        for (size_t i = 0; i < n; i++) {
                if (i > 0 && cmp_param(&sorted[i - 1], &sorted[i]) == 0)
                        continue;
                rc |= cb_buf_puts(&msg, sorted[i]->name);
                rc |= cb_buf_puts(&msg, sorted[i]->value);
        }
        if (rc != 0 ||
            HMAC(EVP_sha1(), token, (int)strlen(token), (unsigned char *)msg.data, msg.len, mac,
                 &mac_len) == NULL ||
            mac_len != sizeof(mac)) {
                rc = -1;
                goto out;
        }
        cb_base64_encode(mac, sizeof(mac), out);
out:
        cb_buf_free(&msg);
        free(sorted);
        return rc;
}

/* The authority of `url`: *host is where the host begins (after any "user:pass@"), *port
 * where its ":port" begins (== *end when it has none), *end where the authority ends.
 * Returns the scheme's default port (":443", ":80"), or NULL for another scheme or no
 * "://". */
static const char *authority(const char *url, size_t *host, size_t *port, size_t *end)
{
        const char *sep = strstr(url, "://");
        const char *a, *e, *at, *h, *colon;
        const char *def;

        if (sep == NULL)
                return NULL;
        if (sep - url == 5 && strncasecmp(url, "https", 5) == 0)
                def = ":443";
        else if (sep - url == 4 && strncasecmp(url, "http", 4) == 0)
                def = ":80";
        else
                return NULL;
        a = sep + 3;
        e = a + strcspn(a, "/?#");
        h = a;
        while ((at = memchr(h, '@', (size_t)(e - h))) != NULL) /* the host follows the last @ */
                h = at + 1;
        if (*h == '[') { /* IPv6 literal: the port follows the ']' */
                const char *rb = memchr(h, ']', (size_t)(e - h));
                colon = rb != NULL && rb + 1 < e && rb[1] == ':' ? rb + 1 : NULL;
        } else {
                colon = memchr(h, ':', (size_t)(e - h));
        }
        *host = (size_t)(h - url);
        *port = (size_t)((colon != NULL ? colon : e) - url);
        *end = (size_t)(e - url);
        return def;
}

/* `url` with [cut, end) replaced by `insert`. malloc'd; NULL when out of memory. */
static char *splice(const char *url, size_t cut, size_t end, const char *insert)
{
        size_t len = strlen(url), ins = strlen(insert);
        char *out = malloc(len - (end - cut) + ins + 1);

        if (out == NULL)
                return NULL;
        memcpy(out, url, cut);
        memcpy(out + cut, insert, ins);
        memcpy(out + cut + ins, url + end, len - end);
        out[len - (end - cut) + ins] = '\0';
        return out;
}

/* The other spelling of `url` that Twilio may have signed, as the official helper libraries
 * try it: without a port, the scheme's default port added; with the default port, the port
 * removed; https with any other port, the port removed too (Twilio has signed https URLs
 * without their port). An http URL with a non-default port has no other spelling: the port
 * is part of what was signed. NULL when there is none (or no memory). Caller frees. */
static char *other_spelling(const char *url)
{
        size_t host, port, end;
        const char *def = authority(url, &host, &port, &end);
        bool is_default;

        if (def == NULL || host == port) /* no host name */
                return NULL;
        if (port == end)
                return splice(url, end, end, def);
        is_default = end - port == strlen(def) && memcmp(url + port, def, end - port) == 0;
        if (is_default || strcmp(def, ":443") == 0)
                return splice(url, port, end, "");
        return NULL;
}

/* The hex bodySHA256 query parameter of `url` matches `body`. */
static bool body_hash_ok(const char *url, const void *body, size_t len)
{
        const char *q = strchr(url, '?');
        struct cb_form query = {0};
        const char *want;
        unsigned char digest[32];
        char hex[65];
        bool ok = false;

        if (q == NULL || cb_form_parse(&query, q + 1, strcspn(q + 1, "#")) != 0)
                return false;
        want = cb_form_get(&query, "bodySHA256");
        cb_sha256(body, len, digest);
        cb_hex(digest, sizeof(digest), hex);
        ok = want != NULL && strlen(want) == 64 && cb_ct_equal(hex, want, 64);
        cb_form_free(&query);
        return ok;
}

static bool matches(const char *token, const char *url, const struct cb_form *params,
                    const char *signature)
{
        char want[CB_TWSIG_LEN + 1];

        return cb_twsig_compute(token, url, params, want) == 0 &&
               strlen(signature) == CB_TWSIG_LEN && cb_ct_equal(want, signature, CB_TWSIG_LEN);
}

bool cb_twsig_valid(const char *token, const char *url, const struct cb_form *params,
                    const void *json_body, size_t json_len, const char *signature)
{
        char *other;
        bool ok;

        if (token == NULL || url == NULL || signature == NULL || token[0] == '\0')
                return false;
        if (params == NULL && !body_hash_ok(url, json_body, json_len))
                return false;
        ok = matches(token, url, params, signature);
        other = ok ? NULL : other_spelling(url);
        if (other != NULL)
                ok = matches(token, other, params, signature);
        free(other);
        return ok;
}
