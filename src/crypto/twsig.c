/* Twilio request signatures (X-Twilio-Signature). */
#include "callbridge/twsig.h"

#include <openssl/hmac.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
        const struct cb_form_param **sorted = n ? malloc(n * sizeof(*sorted)) : NULL;
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
                qsort(sorted, n, sizeof(*sorted), cmp_param);
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

/* Where the authority of `url` ends and its port (or NULL) begins. */
static const char *authority(const char *url, const char **port, size_t *scheme_len)
{
        const char *host = strstr(url, "://");
        const char *end;

        *port = NULL;
        if (host == NULL)
                return NULL;
        *scheme_len = (size_t)(host - url);
        host += 3;
        end = host + strcspn(host, "/?#");
        if (*host == '[') { /* IPv6 literal: the port follows the ']' */
                const char *rb = memchr(host, ']', (size_t)(end - host));
                if (rb != NULL && rb + 1 < end && rb[1] == ':')
                        *port = rb + 1;
        } else {
                const char *colon = memchr(host, ':', (size_t)(end - host));
                if (colon != NULL)
                        *port = colon;
        }
        return end;
}

/* The other spelling of `url`: the scheme's default port added when it has no port, removed
 * when it has exactly the default. NULL when there is no other spelling (or no memory). */
static char *other_spelling(const char *url)
{
        const char *port;
        size_t scheme_len = 0;
        const char *end = authority(url, &port, &scheme_len);
        const char *def;
        char *out;

        if (end == NULL)
                return NULL;
        if (scheme_len == 5 && strncasecmp(url, "https", 5) == 0)
                def = ":443";
        else if (scheme_len == 4 && strncasecmp(url, "http", 4) == 0)
                def = ":80";
        else
                return NULL;
        if (port == NULL) {
                size_t head = (size_t)(end - url);
                out = malloc(strlen(url) + strlen(def) + 1);
                if (out == NULL)
                        return NULL;
                memcpy(out, url, head);
                strcpy(out + head, def);
                strcat(out, end);
                return out;
        }
        if ((size_t)(end - port) != strlen(def) || strncmp(port, def, strlen(def)) != 0)
                return NULL;
        out = malloc(strlen(url) + 1);
        if (out == NULL)
                return NULL;
        memcpy(out, url, (size_t)(port - url));
        strcpy(out + (port - url), end);
        return out;
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
