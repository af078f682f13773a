/* POST /api/softphone/token: an access token for the caller's agent from the telephony
 * provider that issues them (Twilio: a Voice access token, so the softphone can register as
 * that client identity and place calls through the TwiML App; src/telephony/twilio_token.c).
 * Body optional: none, {} or {"ttl_s": N} (60-86400; the token lives min(N, the provider's
 * configured lifetime, [twilio] token_ttl_s)). */
#include "handlers/handlers.h"

#define TTL_MIN 60
#define TTL_MAX 86400 /* a day: Twilio's limit too */

/* The lifetime asked for in the optional body into *ttl (0 when none is). True when it was
 * refused (a 422 queued, returned through `ret`). */
static bool bad_ttl(struct cb_request *req, long *ttl, enum MHD_Result *ret)
{
        json_int_t want = 0;
        const struct cb_json_field fields[] = {
            {.name = "ttl_s", .type = CB_JSON_INT, .out = &want},
            CB_JSON_END,
        };
        const char *bad = NULL;

        const json_t *given = req->json ? json_object_get(req->json, "ttl_s") : NULL;

        *ttl = 0;
        if (given == NULL || json_is_null(given))
                return false;
        if (cb_json_parse_fields(req->json, fields, &bad) != CB_ERR_NONE || want < TTL_MIN ||
            want > TTL_MAX) {
                *ret = cb_reply_error(req, CB_ERR_INVALID_FIELD,
                                      "field \"ttl_s\" must be an integer from %d to %d", TTL_MIN,
                                      TTL_MAX);
                return true;
        }
        *ttl = (long)want;
        return false;
}

enum MHD_Result cb_handle_softphone_token(struct cb_request *req)
{
        const struct cb_telephony *tel = req->env->tel;
        const char *identity = req->agent.name;
        const char *msg = cb_telephony_softphone_off(tel);
        long ttl, expires_in = 0;
        enum MHD_Result ret;
        enum cb_err err;
        char *token;

        if (msg != NULL)
                return cb_reply_error(req, CB_ERR_TOKENS_NOT_CONFIGURED, "%s", msg);
        if (bad_ttl(req, &ttl, &ret))
                return ret;
        err = cb_telephony_softphone_token(tel, identity, ttl, &token, &expires_in, &msg);
        if (err != CB_ERR_NONE)
                return cb_reply_error(req, err, msg == NULL ? NULL : "%s", msg);
        ret = cb_reply_json(req, 200,
                            json_pack("{s:s,s:s,s:I}", "token", token, "identity", identity,
                                      "expires_in", (json_int_t)expires_in));
        cb_secret_free(token);
        return ret;
}
