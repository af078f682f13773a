/* Sign in with the CRM: whether the provider can, its callback URL, and the signed-in user's
 * credential at rest: sealed with the recording keyring (blob.h, bound to the name
 * "sessions/sf_token", the name it had before the credential was the provider's opaque text;
 * kept so sealed sessions still open) into the session row, as hex; opened again when the
 * user's own rights are asked (recording links). Plain copies are wiped. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

#define BIND "sessions/sf_token"

bool cb_crm_sign_in_ready(const struct cb_crm *crm)
{
        const struct cb_crm_ops *o = crm != NULL ? crm->ops : NULL;

        return o != NULL && o->sign_in_enabled != NULL && o->sign_in_url != NULL &&
               o->sign_in_exchange != NULL && o->sign_in_enabled(crm->self);
}

void cb_crm_sign_in_redirect_uri(const struct cb_config *cfg, const struct cb_crm *crm, char *out,
                                 size_t out_size)
{
        size_t n = strlen(cfg->server.public_url);

        while (n > 0 && cfg->server.public_url[n - 1] == '/')
                n--;
        snprintf(out, out_size, "%.*s/auth/%s/callback", (int)n, cfg->server.public_url,
                 crm->ops->name);
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

char *cb_session_cred_seal(const struct cb_recordings *rec, const char *cred)
{
        struct cb_buf sealed = {.max = 65536};
        struct cb_sealer *s = NULL;
        char *hex = NULL;

        if (rec == NULL || rec->keys == NULL)
                return NULL;
        s = cb_sealer_new_bound(rec->keys, BIND, to_buf, &sealed);
        if (s != NULL && cb_sealer_write(s, cred, strlen(cred)) == 0 && cb_sealer_finish(s) == 0 &&
            (hex = malloc(sealed.len * 2 + 1)) != NULL)
                cb_hex((const unsigned char *)sealed.data, sealed.len, hex);
        cb_sealer_free(&s);
        cb_buf_free(&sealed);
        return hex;
}

static int nib(char c)
{
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

bool cb_session_cred_open(const struct cb_recordings *rec, const char *hex, char *out,
                          size_t out_size)
{
        size_t n = hex != NULL ? strlen(hex) / 2 : 0;
        unsigned char *raw = n > 0 ? malloc(n) : NULL;
        struct mem_src src = {raw, n};
        struct cb_opener *o = NULL;
        char err[128];
        size_t got = 0;
        bool ok = false;

        if (out_size > 0)
                out[0] = '\0';
        if (raw == NULL || rec == NULL || rec->keys == NULL || out_size == 0)
                goto out;
        for (size_t i = 0; i < n; i++) {
                int hi = nib(hex[2 * i]), lo = nib(hex[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        goto out;
                raw[i] = (unsigned char)(hi << 4 | lo);
        }
        o = cb_opener_new_bound(rec->keys, BIND, from_mem, &src, n, err, sizeof(err));
        if (o == NULL || cb_opener_plain_size(o) >= (uint64_t)out_size ||
            cb_opener_read(o, 0, out, (size_t)cb_opener_plain_size(o), &got) != 0) {
                OPENSSL_cleanse(out, out_size);
                out[0] = '\0';
                goto out;
        }
        out[got] = '\0';
        ok = got > 0 && strlen(out) == got;
out:
        cb_opener_free(&o);
        free(raw);
        return ok;
}
