/* POST /api/softphone/token: a Twilio Voice access token for the caller's agent, so the
 * softphone (Twilio Voice SDK) can register as that client identity and place calls through
 * the TwiML App. Body optional: none, {} or {"ttl_s": N} (60-86400; the token lives
 * min(N, [twilio] token_ttl_s)). The API key secret is read once at start, never logged. */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbridge/log.h"
#include "handlers/handlers.h"

#define TTL_MIN 60

static bool set(const char *s)
{
        return s != NULL && s[0] != '\0';
}

int cb_softphone_tokens_load(const struct cb_config *cfg, struct cb_twtoken_keys **keys)
{
        const char *names[] = {"account_sid", "api_key_sid", "api_key_secret_file",
                               "twiml_app_sid"};
        const char *values[] = {cfg->twilio.account_sid, cfg->twilio.api_key_sid,
                                cfg->twilio.api_key_secret_file, cfg->twilio.twiml_app_sid};
        char missing[128] = "";
        size_t o = 0;
        char *secret;

        *keys = NULL;
        for (size_t i = 0; i < CB_ARRAY_LEN(names); i++)
                if (!set(values[i]) && o < sizeof(missing))
                        o += (size_t)snprintf(missing + o, sizeof(missing) - o, "%s%s",
                                              o ? ", " : "", names[i]);
        if (o > 0) {
                cb_info("softphone tokens are off: [twilio] %s not set", missing);
                return 0;
        }
        secret = cb_config_read_secret(cfg->twilio.api_key_secret_file);
        if (secret == NULL || secret[0] == '\0') {
                cb_error("[twilio] api_key_secret_file %s: %s", cfg->twilio.api_key_secret_file,
                         secret == NULL ? strerror(errno) : "empty");
                free(secret);
                return -1;
        }
        *keys = cb_twtoken_keys_create(cfg->twilio.account_sid, cfg->twilio.api_key_sid,
                                       cfg->twilio.twiml_app_sid, secret);
        if (*keys == NULL) {
                cb_error("softphone tokens: out of memory");
                return -1;
        }
        cb_info("softphone tokens on (API key %s, TwiML App %s)", cfg->twilio.api_key_sid,
                cfg->twilio.twiml_app_sid);
        return 0;
}

/* The lifetime asked for in the optional body into *ttl, capped by the configured one. True
 * when it was refused (a 422 queued, returned through `ret`). */
static bool bad_ttl(struct cb_request *req, long *ttl, enum MHD_Result *ret)
{
        json_int_t want = 0;
        const struct cb_json_field fields[] = {
            {.name = "ttl_s", .type = CB_JSON_INT, .out = &want},
            CB_JSON_END,
        };
        const char *bad = NULL;

        const json_t *given = req->json ? json_object_get(req->json, "ttl_s") : NULL;

        if (given == NULL || json_is_null(given))
                return false;
        if (cb_json_parse_fields(req->json, fields, &bad) != CB_ERR_NONE || want < TTL_MIN ||
            want > CB_TWTOKEN_TTL_MAX) {
                *ret = cb_reply_error(req, CB_ERR_INVALID_FIELD,
                                      "field \"ttl_s\" must be an integer from %d to %d", TTL_MIN,
                                      CB_TWTOKEN_TTL_MAX);
                return true;
        }
        if (want < *ttl)
                *ttl = (long)want;
        return false;
}

enum MHD_Result cb_handle_softphone_token(struct cb_request *req)
{
        const struct cb_twtoken_keys *keys = req->env->tokens;
        const char *identity = req->agent.name;
        long ttl = req->env->cfg->twilio.token_ttl_s;
        enum MHD_Result ret;
        char *jwt;

        if (keys == NULL)
                return cb_reply_error(req, CB_ERR_TOKENS_NOT_CONFIGURED,
                                      "softphone tokens need [twilio] account_sid, api_key_sid, "
                                      "api_key_secret_file and twiml_app_sid");
        if (bad_ttl(req, &ttl, &ret))
                return ret;
        if (!cb_twtoken_identity_valid(identity))
                return cb_reply_error(req, CB_ERR_INVALID_FIELD,
                                      "the agent name cannot be a Twilio client identity (1-%d "
                                      "letters, digits and @ . _ -)",
                                      CB_TWTOKEN_IDENTITY_MAX);
        jwt = cb_twtoken_create(keys, identity, (int64_t)time(NULL), ttl);
        if (jwt == NULL) {
                cb_error("softphone token for %s: out of memory", identity);
                return cb_reply_error(req, CB_ERR_INTERNAL, NULL);
        }
        ret = cb_reply_json(req, 200,
                            json_pack("{s:s,s:s,s:I}", "token", jwt, "identity", identity,
                                      "expires_in", (json_int_t)ttl));
        OPENSSL_cleanse(jwt, strlen(jwt));
        free(jwt);
        return ret;
}
