/* Twilio access tokens with a Voice grant (HS256 JWT). */
#include "callbridge/twtoken.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/jwt.h"
#include "callbridge/util.h"

struct cb_twtoken_keys *cb_twtoken_keys_create(const char *account_sid, const char *api_key_sid,
                                               const char *twiml_app_sid, char *secret_take)
{
        struct cb_twtoken_keys *k = NULL;

        if (account_sid == NULL || api_key_sid == NULL || twiml_app_sid == NULL ||
            secret_take == NULL)
                goto fail;
        k = calloc(1, sizeof(*k));
        if (k == NULL)
                goto fail;
        k->secret = secret_take;
        k->secret_len = strlen(secret_take);
        secret_take = NULL;
        k->account_sid = strdup(account_sid);
        k->api_key_sid = strdup(api_key_sid);
        k->twiml_app_sid = strdup(twiml_app_sid);
        if (k->account_sid == NULL || k->api_key_sid == NULL || k->twiml_app_sid == NULL)
                goto fail;
        return k;
fail:
        if (secret_take != NULL) {
                OPENSSL_cleanse(secret_take, strlen(secret_take));
                free(secret_take);
        }
        cb_twtoken_keys_destroy(&k);
        return NULL;
}

void cb_twtoken_keys_destroy(struct cb_twtoken_keys **keys)
{
        struct cb_twtoken_keys *k = keys ? *keys : NULL;

        if (k == NULL)
                return;
        if (k->secret != NULL)
                OPENSSL_cleanse(k->secret, k->secret_len);
        free(k->secret);
        free(k->account_sid);
        free(k->api_key_sid);
        free(k->twiml_app_sid);
        free(k);
        *keys = NULL;
}

bool cb_twtoken_identity_valid(const char *identity)
{
        return identity != NULL && cb_str_charset(identity, CB_TWTOKEN_IDENTITY_MAX, "@._-");
}

char *cb_twtoken_create(const struct cb_twtoken_keys *keys, const char *identity, int64_t now,
                        long ttl_s)
{
        static const char cty[] = "twilio-fpa;v=1";
        char jti[128];
        json_t *header = NULL, *claims = NULL;
        char *jwt = NULL;

        if (keys == NULL || !cb_twtoken_identity_valid(identity) || ttl_s < 1 ||
            ttl_s > CB_TWTOKEN_TTL_MAX || now < 0)
                return NULL;
        if (snprintf(jti, sizeof(jti), "%s-%lld", keys->api_key_sid, (long long)now) >=
            (int)sizeof(jti))
                return NULL;
        header = json_pack("{s:s}", "cty", cty);
        claims =
            json_pack("{s:s,s:s,s:s,s:I,s:I,s:{s:s,s:{s:{s:b},s:{s:s}}}}", "jti", jti, "iss",
                      keys->api_key_sid, "sub", keys->account_sid, "iat", (json_int_t)now, "exp",
                      (json_int_t)now + ttl_s, "grants", "identity", identity, "voice", "incoming",
                      "allow", 1, "outgoing", "application_sid", keys->twiml_app_sid);
        if (header != NULL && claims != NULL)
                jwt = cb_jwt_sign_hs256(keys->secret, keys->secret_len, header, claims);
        json_decref(header);
        json_decref(claims);
        return jwt;
}
