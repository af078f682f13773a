/* callbridge-sandbox: the Salesforce part of the control API (never faulted, never counted):
 *
 *   POST /__sandbox/salesforce/expire        {} or {"token"}   → {"expired":N}
 *   POST /__sandbox/salesforce/session       {"username"}      → {"access_token","instance_url",
 *                                                                  "user_id"}
 *   POST /__sandbox/salesforce/refresh_token {"username"}      → {"refresh_token"}
 *   POST /__sandbox/salesforce/revoke        {"refresh_token"} → {"revoked":bool}
 *   POST /__sandbox/salesforce/schema        {"Obj":{"drop":[...],"add":[...]}} → {"schema":{..}}
 *   POST /__sandbox/salesforce/limits        {"used":N,"max":M} → {"used","max"}
 *
 * Errors use the control API's {"error":{"code","message"}} shape. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sf_emu.h"

/* The body as a JSON object, or NULL after a 400. */
static json_t *body_object(const struct sb_request *req, struct sb_reply *reply)
{
        json_t *doc = req->body_len ? sb_request_json(req, reply) : json_object();

        if (doc && !json_is_object(doc)) {
                json_decref(doc);
                sb_reply_error(reply, 400, "invalid_body", "the body must be a JSON object");
                return NULL;
        }
        return doc;
}

void sb_sf_control_expire(const struct sb_request *req, struct sb_reply *reply)
{
        json_t *doc = body_object(req, reply), *token;
        size_t n;

        if (!doc)
                return;
        token = json_object_get(doc, "token");
        if (token && !json_is_string(token)) {
                sb_reply_error(reply, 400, "invalid_field", "token must be a string");
                goto out;
        }
        sb_state_lock();
        n = sf_state_token_expire_locked(json_string_value(token));
        sb_state_unlock();
        sb_reply_json_take(reply, 200, json_pack("{s:I}", "expired", (json_int_t)n));
out:
        json_decref(doc);
}

/* The seeded User named by the body's "username" (copied), or NULL after a 400/404. */
static json_t *named_user(const struct sb_request *req, struct sb_reply *reply)
{
        json_t *doc = body_object(req, reply), *users, *u, *found = NULL;
        const char *name;
        size_t i;

        if (!doc)
                return NULL;
        name = json_string_value(json_object_get(doc, "username"));
        if (!name) {
                sb_reply_error(reply, 400, "missing_field", "username is required");
                json_decref(doc);
                return NULL;
        }
        sb_state_lock();
        users = sb_state_records_locked("User", false);
        json_array_foreach(users, i, u)
        {
                const char *un = json_string_value(json_object_get(u, "Username"));
                if (un && sf_strcasecmp(un, name) == 0) {
                        found = json_deep_copy(u);
                        break;
                }
        }
        sb_state_unlock();
        if (!found)
                sb_reply_error(reply, 404, "unknown_user", "no seeded User has Username %s", name);
        json_decref(doc);
        return found;
}

void sb_sf_control_session(const struct sb_request *req, struct sb_reply *reply)
{
        json_t *user = named_user(req, reply);
        const char *host = sb_request_header(req, "Host");
        char instance[300], *token;

        if (!user)
                return;
        snprintf(instance, sizeof(instance), "http://%s", host ? host : "localhost");
        sb_state_lock();
        token = sf_state_token_mint_locked(user);
        sb_state_unlock();
        sb_reply_json_take(reply, 200,
                           json_pack("{s:s?,s:s,s:O}", "access_token", token, "instance_url",
                                     instance, "user_id", json_object_get(user, "Id")));
        free(token);
        json_decref(user);
}

void sb_sf_control_refresh_token(const struct sb_request *req, struct sb_reply *reply)
{
        json_t *user = named_user(req, reply);
        char *rt;

        if (!user)
                return;
        sb_state_lock();
        rt = sf_state_refresh_mint_locked(user);
        sb_state_unlock();
        sb_reply_json_take(reply, 200, json_pack("{s:s?}", "refresh_token", rt));
        free(rt);
        json_decref(user);
}

void sb_sf_control_revoke(const struct sb_request *req, struct sb_reply *reply)
{
        json_t *doc = body_object(req, reply);
        const char *rt;
        bool revoked;

        if (!doc)
                return;
        rt = json_string_value(json_object_get(doc, "refresh_token"));
        if (!rt) {
                sb_reply_error(reply, 400, "missing_field", "refresh_token is required");
        } else {
                sb_state_lock();
                revoked = sf_state_refresh_revoke_locked(rt);
                sb_state_unlock();
                sb_reply_json_take(reply, 200, json_pack("{s:b}", "revoked", revoked));
        }
        json_decref(doc);
}

void sb_sf_control_schema(const struct sb_request *req, struct sb_reply *reply)
{
        json_t *doc = body_object(req, reply), *copy = NULL;
        char err[256];
        bool ok;

        if (!doc)
                return;
        sb_state_lock();
        ok = sf_schema_change_locked(doc, err, sizeof(err));
        if (ok)
                copy = json_deep_copy(sf_state_schema_locked());
        sb_state_unlock();
        if (ok)
                sb_reply_json_take(reply, 200, json_pack("{s:o}", "schema", copy));
        else
                sb_reply_error(reply, 400, "invalid_schema_change", "%s", err);
        json_decref(doc);
}

void sb_sf_control_limits(const struct sb_request *req, struct sb_reply *reply)
{
        json_t *doc = body_object(req, reply);
        json_t *used, *max;

        if (!doc)
                return;
        used = json_object_get(doc, "used");
        max = json_object_get(doc, "max");
        if ((used && (!json_is_integer(used) || json_integer_value(used) < 0)) ||
            (max && (!json_is_integer(max) || json_integer_value(max) < 1))) {
                sb_reply_error(reply, 400, "invalid_field",
                               "used must be a whole number >= 0 and max >= 1");
        } else {
                long u = used ? (long)json_integer_value(used) : 0;
                long m = max ? (long)json_integer_value(max) : SF_DEFAULT_API_MAX;
                sb_state_lock();
                sf_state_usage_set_locked(u, m);
                sb_state_unlock();
                sb_reply_json_take(
                    reply, 200,
                    json_pack("{s:I,s:I}", "used", (json_int_t)u, "max", (json_int_t)m));
        }
        json_decref(doc);
}
