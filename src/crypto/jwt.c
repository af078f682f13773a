/* Compact JWTs: base64url(header) "." base64url(claims) "." base64url(signature). */
#include "callbridge/jwt.h"

#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/crypto.h"
#include "callbridge/log.h"
#include "callbridge/util.h"

EVP_PKEY *cb_jwt_load_private_key(const char *path)
{
        FILE *f = fopen(path, "r");
        EVP_PKEY *key = NULL;

        if (f == NULL) {
                cb_error("cannot open private key %s: %m", path);
                return NULL;
        }
        key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
        if (key == NULL)
                cb_error("%s holds no readable PEM private key", path);
        return key;
}

/* base64url(JSON of `v`) appended to `b`; -1 on out of memory. */
static int append_json_b64(struct cb_buf *b, const json_t *v)
{
        char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
        char *enc = NULL;
        int rc = -1;

        if (text == NULL)
                return -1;
        enc = malloc(4 * (strlen(text) / 3 + 1) + 1);
        if (enc != NULL) {
                cb_base64url_encode((const unsigned char *)text, strlen(text), enc);
                rc = cb_buf_puts(b, enc);
        }
        free(enc);
        free(text);
        return rc;
}

/* "<header>.<claims>" into `b`. */
static int signing_input(struct cb_buf *b, const json_t *header, const json_t *claims)
{
        if (append_json_b64(b, header) != 0 || cb_buf_append(b, ".", 1) != 0 ||
            append_json_b64(b, claims) != 0)
                return -1;
        return 0;
}

/* Append "." base64url(sig) and a NUL; returns the buffer's data (now owned by the caller). */
static char *finish(struct cb_buf *b, const unsigned char *sig, size_t sig_len)
{
        char *enc = malloc(4 * (sig_len / 3 + 1) + 1);
        char *out = NULL;

        if (enc == NULL)
                goto fail;
        cb_base64url_encode(sig, sig_len, enc);
        if (cb_buf_append(b, ".", 1) != 0 || cb_buf_puts(b, enc) != 0 ||
            cb_buf_append(b, "", 1) != 0)
                goto fail;
        out = b->data;
        b->data = NULL;
fail:
        free(enc);
        cb_buf_free(b);
        return out;
}

char *cb_jwt_sign_rs256(EVP_PKEY *key, const json_t *claims)
{
        struct cb_buf b = {.max = (size_t)64 * 1024};
        json_t *header = json_pack("{s:s,s:s}", "alg", "RS256", "typ", "JWT");
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        unsigned char sig[1024];
        size_t sig_len = sizeof(sig);
        char *out = NULL;

        if (header == NULL || md == NULL || EVP_PKEY_base_id(key) != EVP_PKEY_RSA ||
            EVP_PKEY_size(key) > (int)sizeof(sig) || signing_input(&b, header, claims) != 0)
                goto out;
        if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
            EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)b.data, b.len) != 1)
                goto out;
        out = finish(&b, sig, sig_len);
out:
        cb_buf_free(&b);
        EVP_MD_CTX_free(md);
        json_decref(header);
        return out;
}

char *cb_jwt_sign_hs256(const void *secret, size_t secret_len, const json_t *header,
                        const json_t *claims)
{
        struct cb_buf b = {.max = (size_t)64 * 1024};
        json_t *h = header ? json_deep_copy(header) : json_object();
        unsigned char sig[32];
        char *out = NULL;

        if (h == NULL || json_object_set_new(h, "alg", json_string("HS256")) != 0 ||
            json_object_set_new(h, "typ", json_string("JWT")) != 0 ||
            signing_input(&b, h, claims) != 0)
                goto out;
        if (!cb_hmac_sha256(secret, secret_len, b.data, b.len, sig))
                goto out;
        out = finish(&b, sig, sizeof(sig));
out:
        cb_buf_free(&b);
        json_decref(h);
        return out;
}
