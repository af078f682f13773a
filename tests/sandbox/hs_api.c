/* callbridge-sandbox: HubSpot's API entry — bearer authentication, the rate-limit budgets and
 * their X-HubSpot-RateLimit-* headers, HubSpot's error bodies, dispatch of every /crm/ and
 * /account-info/ route, the OAuth token endpoint and injected faults in HubSpot's dialect.
 *
 * A request runs whole under the state lock. Order: authentication (401, not counted), the
 * budgets (429, not counted), then the operation. Search answers carry no rate-limit headers
 * (as HubSpot's do not) and have their own per-second budget. */
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hs_emu.h"
#include "sf_emu.h" /* sf_form_get, sf_url_decode */

static void correlation_id(char out[37])
{
        static const char hexd[] = "0123456789abcdef";
        unsigned char r[16] = {0};
        size_t o = 0;

        (void)RAND_bytes(r, (int)sizeof(r));
        r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
        r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
        for (size_t i = 0; i < 16; i++) {
                if (i == 4 || i == 6 || i == 8 || i == 10)
                        out[o++] = '-';
                out[o++] = hexd[r[i] >> 4];
                out[o++] = hexd[r[i] & 15];
        }
        out[o] = '\0';
}

static json_t *error_body_v(const char *category, json_t *errors, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static json_t *error_body_v(const char *category, json_t *errors, const char *fmt, va_list ap)
{
        char msg[1024], cid[37];
        json_t *body;

        vsnprintf(msg, sizeof(msg), fmt, ap);
        correlation_id(cid);
        body = json_pack("{s:s,s:s,s:s,s:s}", "status", "error", "message", msg, "correlationId",
                         cid, "category", category);
        if (body && errors)
                json_object_set(body, "errors", errors);
        json_decref(errors);
        return body;
}

json_t *hs_error_body(const char *category, json_t *errors, const char *fmt, ...)
{
        va_list ap;
        json_t *body;

        va_start(ap, fmt);
        body = error_body_v(category, errors, fmt, ap);
        va_end(ap);
        return body;
}

void hs_reply_error(struct sb_reply *reply, unsigned int status, const char *category,
                    json_t *errors, const char *fmt, ...)
{
        va_list ap;
        json_t *body;

        va_start(ap, fmt);
        body = error_body_v(category, errors, fmt, ap);
        va_end(ap);
        sb_reply_json_take(reply, status, body);
}

json_t *hs_error_detail(const char *code, const char *prop, const char *fmt, ...)
{
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (!prop)
                return json_pack("{s:s,s:s}", "message", msg, "code", code);
        return json_pack("{s:s,s:s,s:{s:[s]}}", "message", msg, "code", code, "context",
                         "propertyName", prop);
}

static void rate_headers(struct sb_reply *reply, const struct hs_rate *r)
{
        char v[32];

        snprintf(v, sizeof(v), "%ld", r->max);
        sb_reply_header(reply, "X-HubSpot-RateLimit-Max", v);
        snprintf(v, sizeof(v), "%ld", r->remaining);
        sb_reply_header(reply, "X-HubSpot-RateLimit-Remaining", v);
        sb_reply_header(reply, "X-HubSpot-RateLimit-Interval-Milliseconds", "10000");
        snprintf(v, sizeof(v), "%ld", r->daily);
        sb_reply_header(reply, "X-HubSpot-RateLimit-Daily", v);
        snprintf(v, sizeof(v), "%ld", r->daily_remaining);
        sb_reply_header(reply, "X-HubSpot-RateLimit-Daily-Remaining", v);
}

/* HubSpot's 429: the policy names the budget that ran out. */
static void rate_limited(struct sb_reply *reply, const char *policy)
{
        json_t *body;

        if (strcmp(policy, "DAILY") == 0)
                body = hs_error_body("RATE_LIMITS", NULL, "You have reached your daily limit.");
        else if (strcmp(policy, "SECONDLY") == 0)
                body = hs_error_body("RATE_LIMITS", NULL, "You have reached your secondly limit.");
        else
                body = hs_error_body("RATE_LIMITS", NULL,
                                     "You have reached your ten_secondly_rolling limit.");
        if (body) {
                json_object_set_new(body, "errorType", json_string("RATE_LIMIT"));
                json_object_set_new(body, "policyName", json_string(policy));
                json_object_del(body, "category");
        }
        sb_reply_json_take(reply, 429, body);
}

static const char *bearer(const struct sb_request *req)
{
        const char *auth = sb_request_header(req, "Authorization");

        return auth && strncasecmp(auth, "Bearer ", 7) == 0 ? auth + 7 : NULL;
}

/* Split the path after `skip` characters into op->seg; false when too many segments. */
static bool split(struct hs_op *op, const char *path)
{
        char *p, *save = NULL;

        snprintf(op->buf, sizeof(op->buf), "%s", path);
        op->nseg = 0;
        for (p = strtok_r(op->buf, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
                if (op->nseg == sizeof(op->seg) / sizeof(op->seg[0]))
                        return false;
                op->seg[op->nseg++] = p;
        }
        return true;
}

static void not_found(struct sb_reply *reply, const struct sb_request *req)
{
        hs_reply_error(reply, 404, "OBJECT_NOT_FOUND", NULL, "Resource not found: %s %s",
                       req->method, req->path);
}

/* /crm/v3/objects/<type>/... and /crm/v3/properties/<type>/... (seg[2] is the kind). */
static void dispatch_typed(struct hs_op *op, struct sb_reply *reply)
{
        const char *m = op->req->method;
        int t = op->nseg >= 4 ? hs_type_parse(op->seg[3]) : -1;
        size_t rest = op->nseg - 4;

        if (t < 0) {
                hs_reply_error(reply, 400, "VALIDATION_ERROR", NULL,
                               "Unable to infer object type from: %s",
                               op->nseg >= 4 ? op->seg[3] : "");
                return;
        }
        op->type = (enum hs_type)t;
        if (strcmp(op->seg[2], "properties") == 0) {
                if (rest == 0 && strcmp(m, "GET") == 0)
                        hs_props_list_locked(op, reply);
                else if (rest == 0 && strcmp(m, "POST") == 0)
                        hs_props_create_locked(op, reply);
                else if (rest == 1 && strcmp(op->seg[4], "groups") == 0 && strcmp(m, "GET") == 0)
                        hs_groups_list_locked(op, reply);
                else if (rest == 1 && strcmp(op->seg[4], "groups") == 0 && strcmp(m, "POST") == 0)
                        hs_groups_create_locked(op, reply);
                else if (rest == 1 && strcmp(m, "GET") == 0)
                        hs_props_get_locked(op, reply);
                else
                        not_found(reply, op->req);
        } else if (rest == 0 && strcmp(m, "POST") == 0) {
                hs_objects_create_locked(op, reply);
        } else if (rest == 1 && strcmp(op->seg[4], "search") == 0 && strcmp(m, "POST") == 0) {
                hs_search_locked(op, reply);
        } else if (rest == 2 && strcmp(op->seg[4], "batch") == 0 &&
                   strcmp(op->seg[5], "upsert") == 0 && strcmp(m, "POST") == 0) {
                hs_objects_upsert_locked(op, reply);
        } else if (rest == 2 && strcmp(op->seg[4], "batch") == 0 &&
                   strcmp(op->seg[5], "read") == 0 && strcmp(m, "POST") == 0) {
                hs_objects_batch_read_locked(op, reply);
        } else if (rest == 1 && strcmp(m, "GET") == 0) {
                hs_objects_get_locked(op, reply);
        } else if (rest == 1 && strcmp(m, "PATCH") == 0) {
                hs_objects_update_locked(op, reply);
        } else {
                not_found(reply, op->req);
        }
}

/* GET /crm/v3/owners/{id} and GET /crm/v3/owners/?email= */
static void owners(struct hs_op *op, struct sb_reply *reply)
{
        json_t *all = hs_owners_locked(), *o, *list;
        const char *email = sb_request_query(op->req, "email"), *id;

        if (op->nseg == 4) {
                o = json_object_get(all, op->seg[3]);
                if (!o)
                        hs_reply_error(reply, 404, "OBJECT_NOT_FOUND", NULL,
                                       "No owner found with id %s", op->seg[3]);
                else
                        sb_reply_json_take(reply, 200, json_deep_copy(o));
                return;
        }
        list = json_array();
        json_object_foreach(all, id, o)
        {
                const char *oe = json_string_value(json_object_get(o, "email"));
                if (!email || (oe && strcasecmp(oe, email) == 0))
                        json_array_append_new(list, json_deep_copy(o));
        }
        sb_reply_json_take(reply, 200, json_pack("{s:o}", "results", list));
}

static void account_info(struct sb_reply *reply)
{
        sb_reply_json_take(reply, 200,
                           json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:s}", "portalId", HS_PORTAL_ID,
                                     "accountType", "STANDARD", "timeZone", "US/Eastern",
                                     "companyCurrency", "USD", "utcOffset", "-05:00", "uiDomain",
                                     "app.hubspot.com", "dataHostingLocation", "na1"));
}

static void dispatch_locked(struct hs_op *op, struct sb_reply *reply)
{
        const char *m = op->req->method;

        if (op->nseg >= 3 && strcmp(op->seg[0], "account-info") == 0) {
                if (strcmp(op->seg[2], "details") == 0 && strcmp(m, "GET") == 0)
                        account_info(reply);
                else
                        not_found(reply, op->req);
        } else if (op->nseg >= 3 && strcmp(op->seg[1], "v4") == 0) {
                if (strcmp(m, "PUT") == 0)
                        hs_assoc_put_locked(op, reply);
                else if (strcmp(m, "POST") == 0 && op->nseg == 8 &&
                         strcmp(op->seg[2], "associations") == 0 &&
                         strcmp(op->seg[5], "batch") == 0 && strcmp(op->seg[6], "associate") == 0 &&
                         strcmp(op->seg[7], "default") == 0)
                        hs_assoc_batch_locked(op, reply);
                else
                        not_found(reply, op->req);
        } else if (op->nseg >= 3 && strcmp(op->seg[2], "owners") == 0 && op->nseg <= 4) {
                owners(op, reply);
        } else if (op->nseg >= 3 &&
                   (strcmp(op->seg[2], "objects") == 0 || strcmp(op->seg[2], "properties") == 0)) {
                dispatch_typed(op, reply);
        } else {
                not_found(reply, op->req);
        }
}

void sb_hs_api(const struct sb_request *req, struct sb_reply *reply)
{
        struct hs_op op = {.req = req};
        struct hs_rate rate;
        enum hs_auth auth;
        size_t plen = strlen(req->path);
        bool search = plen > 7 && strcmp(req->path + plen - 7, "/search") == 0;

        sb_state_lock();
        auth = hs_token_check_locked(req->cfg, bearer(req));
        if (auth == HS_AUTH_EXPIRED) {
                hs_reply_error(reply, 401, "EXPIRED_AUTHENTICATION", NULL,
                               "The OAuth token used to make this call expired.");
        } else if (auth != HS_AUTH_OK) {
                hs_reply_error(reply, 401, "INVALID_AUTHENTICATION", NULL,
                               "Authentication credentials not found. This API supports OAuth "
                               "2.0 authentication and you can find more details at "
                               "https://developers.hubspot.com/docs/methods/auth/oauth-overview");
        } else {
                hs_rate_take_locked(search, &rate);
                if (rate.limited)
                        rate_limited(reply, rate.policy);
                else if (!split(&op, req->path))
                        not_found(reply, req);
                else
                        dispatch_locked(&op, reply);
                if (!search)
                        rate_headers(reply, &rate);
        }
        sb_state_unlock();
}

/* POST /oauth/v1/token: grant_type=refresh_token with the configured client and token. */
void sb_hs_token(const struct sb_request *req, struct sb_reply *reply)
{
        const struct sb_config *cfg = req->cfg;
        char *grant = sf_form_get(req->body, "grant_type");
        char *cid = sf_form_get(req->body, "client_id");
        char *secret = sf_form_get(req->body, "client_secret");
        char *refresh = sf_form_get(req->body, "refresh_token");
        const char *status = NULL, *msg = NULL;
        char *token = NULL;
        long expires_in = 0;

        if (!grant || strcmp(grant, "refresh_token") != 0) {
                status = "BAD_GRANT_TYPE";
                msg = "grant_type must be refresh_token";
        } else if (!cfg->hs_client_id || !cid || strcmp(cid, cfg->hs_client_id) != 0) {
                status = "BAD_CLIENT_ID";
                msg = "missing or unknown client_id";
        } else if (!cfg->hs_client_secret || !secret ||
                   strcmp(secret, cfg->hs_client_secret) != 0) {
                status = "BAD_CLIENT_SECRET";
                msg = "missing or unknown client_secret";
        } else if (!cfg->hs_refresh_token || !refresh ||
                   strcmp(refresh, cfg->hs_refresh_token) != 0) {
                status = "BAD_REFRESH_TOKEN";
                msg = "missing or unknown refresh token";
        }
        if (status) {
                char cid_buf[37];
                correlation_id(cid_buf);
                sb_reply_json_take(reply, 400,
                                   json_pack("{s:s,s:s,s:s}", "status", status, "message", msg,
                                             "correlationId", cid_buf));
        } else {
                sb_state_lock();
                token = hs_token_mint_locked(&expires_in);
                sb_state_unlock();
                if (!token)
                        hs_reply_error(reply, 500, "INTERNAL_ERROR", NULL, "out of memory");
                else
                        sb_reply_json_take(reply, 200,
                                           json_pack("{s:s,s:s,s:s,s:I}", "token_type", "bearer",
                                                     "refresh_token", cfg->hs_refresh_token,
                                                     "access_token", token, "expires_in",
                                                     (json_int_t)expires_in));
        }
        free(token);
        free(grant);
        free(cid);
        free(secret);
        free(refresh);
}

static void fault_reply(enum sb_fault fault, const struct sb_request *req, struct sb_reply *reply)
{
        struct hs_rate r = {.max = HS_DEFAULT_MAX_PER_10, .daily = HS_DEFAULT_DAILY};

        if (fault == SB_FAULT_RATE_LIMIT) {
                rate_limited(reply, "TEN_SECONDLY_ROLLING");
                r.daily_remaining = r.daily;
                rate_headers(reply, &r);
        } else {
                hs_reply_error(reply, 502, "INTERNAL_ERROR", NULL,
                               "sandbox fault: HubSpot is temporarily unavailable");
        }
}

const struct sb_upstream sb_hs_upstream = {.name = "hubspot", .fault_reply = fault_reply};
