/* PUT /api/agent/status {"status":"available"|"away"|"offline","reason"?}: the rep's own
 * status, 200 with the state after it (as GET answers). `reason` (1-200 characters) goes
 * with away or offline only. busy and wrap_up are automatic: 422 status_automatic. While the
 * agent is busy — or in wrap-up waiting for a required disposition and asking for
 * available — the choice is recorded as next_status and taken when that ends (the answer
 * shows status busy/wrap_up and next_status). Durable before the 200; an agent_status event
 * follows every change. */
#include "callbridge/agent_status.h"
#include "handlers/handlers.h"

enum MHD_Result cb_handle_agent_status_put(struct cb_request *req)
{
        const char *status = NULL, *reason = NULL, *bad = NULL;
        const struct cb_json_field fields[] = {
            {.name = "status",
             .type = CB_JSON_STRING,
             .required = true,
             .max_len = 32,
             .out = &status},
            {.name = "reason",
             .type = CB_JSON_STRING,
             .max_len = CB_AGENT_REASON_MAX - 1,
             .out = &reason},
            CB_JSON_END,
        };
        const struct cb_agent_policy policy = {.wrap_up_s = req->env->cfg->agents.wrap_up_s,
                                               .disposition_required =
                                                   req->env->cfg->agents.disposition_required};
        enum cb_err e = cb_json_parse_fields(req->json, fields, &bad);
        enum cb_agent_status want;
        struct cb_agent_state st;
        struct cb_db *db;
        enum cb_qs qs;
        json_t *body;

        if (e != CB_ERR_NONE)
                return cb_reply_error(req, e, "field \"%s\" is missing or wrong", bad);
        if (!cb_agent_status_parse(status, &want))
                return cb_reply_error(req, CB_ERR_INVALID_FIELD,
                                      "status is one of available, away, offline");
        if (cb_agent_status_automatic(want))
                return cb_reply_error(req, CB_ERR_STATUS_AUTOMATIC, NULL);
        if (reason != NULL && want == CB_AGENT_AVAILABLE)
                return cb_reply_error(req, CB_ERR_INVALID_FIELD,
                                      "a reason goes with away or offline only");
        if (reason != NULL && !cb_agent_reason_valid(reason))
                return cb_reply_error(req, CB_ERR_INVALID_FIELD,
                                      "reason is 1-%d characters, no control characters",
                                      CB_AGENT_REASON_CHARS);
        db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        if (db == NULL)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        (void)cb_agent_status_set(db, &policy, req->agent.name, want, reason, &st, &qs);
        cb_db_release(&db);
        if (qs < 0)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        body = cb_agent_state_to_json(req->agent.name, &st);
        if (body == NULL)
                return cb_reply_error(req, CB_ERR_INTERNAL, NULL);
        return cb_reply_json(req, 200, body);
}
