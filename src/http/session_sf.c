/* A Salesforce session's user token at rest: sealed with the recording keyring (blob.h, bound
 * to the name "sessions/sf_token") into the session row, as hex; opened again when the user's
 * own rights are asked (recording links). Plain copies are wiped. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

#define BIND "sessions/sf_token"

bool cb_sf_login_enabled(const struct cb_config *cfg)
{
        return cfg->salesforce.enabled && cfg->salesforce.client_id != NULL &&
               cfg->salesforce.client_id[0] != '\0';
}

void cb_sf_login_redirect_uri(const struct cb_config *cfg, char *out, size_t out_size)
{
        size_t n = strlen(cfg->server.public_url);

        while (n > 0 && cfg->server.public_url[n - 1] == '/')
                n--;
        snprintf(out, out_size, "%.*s/auth/salesforce/callback", (int)n, cfg->server.public_url);
}

static int to_buf(void *ctx, const void *data, size_t len)
{
        return cb_buf_append(ctx, data, len);
}

struct mem_src {
        const unsigned char *p;
        size_t n;
};

static int from_mem(void *ctx, uint64_t off, void *buf, size_t len)
{
        struct mem_src *m = ctx;

        if (off > m->n || len > m->n - off)
                return -1;
        memcpy(buf, m->p + off, len);
        return 0;
}

char *cb_session_sf_seal(const struct cb_recordings *rec, const struct cb_sf_user_token *t)
{
        struct cb_buf sealed = {.max = 65536};
        struct cb_sealer *s = NULL;
        char *plain = NULL, *hex = NULL;
        json_t *j;

        if (rec == NULL || rec->keys == NULL)
                return NULL;
        j = json_pack("{s:s,s:s}", "t", t->access_token, "i", t->instance_url);
        plain = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
        if (j != NULL) {
                OPENSSL_cleanse((char *)json_string_value(json_object_get(j, "t")),
                                strlen(t->access_token));
                json_decref(j);
        }
        s = plain != NULL ? cb_sealer_new_bound(rec->keys, BIND, to_buf, &sealed) : NULL;
        if (s != NULL && cb_sealer_write(s, plain, strlen(plain)) == 0 &&
            cb_sealer_finish(s) == 0 && (hex = malloc(sealed.len * 2 + 1)) != NULL)
                cb_hex((const unsigned char *)sealed.data, sealed.len, hex);
        cb_sealer_free(&s);
        if (plain != NULL) {
                OPENSSL_cleanse(plain, strlen(plain));
                free(plain);
        }
        cb_buf_free(&sealed);
        return hex;
}

static int nib(char c)
{
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

bool cb_session_sf_open(const struct cb_recordings *rec, const char *hex,
                        struct cb_sf_user_token *out)
{
        size_t n = hex != NULL ? strlen(hex) / 2 : 0;
        unsigned char *raw = n > 0 ? malloc(n) : NULL;
        struct mem_src src = {raw, n};
        struct cb_opener *o = NULL;
        char err[128], *plain = NULL;
        size_t got = 0;
        json_t *j = NULL;
        bool ok = false;

        memset(out, 0, sizeof(*out));
        if (raw == NULL || rec == NULL || rec->keys == NULL)
                goto out;
        for (size_t i = 0; i < n; i++) {
                int hi = nib(hex[2 * i]), lo = nib(hex[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        goto out;
                raw[i] = (unsigned char)(hi << 4 | lo);
        }
        o = cb_opener_new_bound(rec->keys, BIND, from_mem, &src, n, err, sizeof(err));
        if (o == NULL || cb_opener_plain_size(o) > 8192 ||
            (plain = calloc(1, (size_t)cb_opener_plain_size(o) + 1)) == NULL ||
            cb_opener_read(o, 0, plain, (size_t)cb_opener_plain_size(o), &got) != 0)
                goto out;
        j = json_loadb(plain, got, 0, NULL);
        ok = cb_strlcpy(out->access_token, json_string_value(json_object_get(j, "t")) ?: "",
                        sizeof(out->access_token)) &&
             cb_strlcpy(out->instance_url, json_string_value(json_object_get(j, "i")) ?: "",
                        sizeof(out->instance_url)) &&
             out->access_token[0] != '\0';
out:
        if (j != NULL) {
                json_t *t = json_object_get(j, "t");
                if (json_is_string(t))
                        OPENSSL_cleanse((char *)json_string_value(t), json_string_length(t));
                json_decref(j);
        }
        if (plain != NULL) {
                OPENSSL_cleanse(plain, got);
                free(plain);
        }
        cb_opener_free(&o);
        free(raw);
        return ok;
}
