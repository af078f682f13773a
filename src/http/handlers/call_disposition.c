/* POST /api/calls/{id}/disposition {"disposition", "notes"?}: the agent's wrap-up of a call,
 * at any status (during the call, after it, or for one that never connected). The body is the
 * whole wrap-up: it replaces the disposition and the notes the call had (no notes: none). 200
 * {"call_id", "disposition", "label", "notes", "disposed_at", "idempotent_replay"} once it is
 * committed with its history event and the CRM log job (src/store/wrapup.c); the same wrap-up
 * again is a replay that changes and queues nothing. Another agent's call is 404, as an unknown
 * one. */
#include <stdio.h>
#include <string.h>

#include "callbridge/agent_status.h"
#include "callbridge/calls.h"
#include "callbridge/log.h"
#include "callbridge/store_calls.h"
#include "handlers/handlers.h"

/* Any string the body can hold, so that a long unknown one is refused as unknown (with the
 * list); the route's body cap bounds it. */
#define DISPOSITION_BYTES_MAX 65536

/* The 422 for a value the list does not have: the message lists the allowed ones. */
static enum MHD_Result refuse_disposition(struct cb_request *req)
{
        char values[CB_DISPOSITIONS_MAX * (CB_DISPOSITION_VALUE_MAX + 2) + 1];

        cb_calls_dispositions_values(req->env->cfg->agents.dispositions, values, sizeof(values));
        return cb_reply_error(req, CB_ERR_INVALID_DISPOSITION, "disposition must be one of: %s",
                              values);
}

/* The wrap-up as the call now has it. */
static json_t *wrapup_json(const struct cb_call_disposal *d, const char *label,
                           const struct cb_call_disposed *done)
{
        return json_pack("{s:s,s:s,s:s,s:o,s:s,s:b}", "call_id", d->call_id, "disposition",
                         d->disposition, "label", label, "notes",
                         d->notes ? json_string(d->notes) : json_null(), "disposed_at",
                         done->disposed_at, "idempotent_replay", !done->changed);
}

enum MHD_Result cb_handle_call_disposition(struct cb_request *req)
{
        struct cb_call_disposal d = {.call_id = req->params[0], .by = req->agent.name};
        struct cb_call_disposed done;
        const char *bad = NULL;
        const struct cb_json_field fields[] = {
            {.name = "disposition",
             .type = CB_JSON_STRING,
             .required = true,
             .max_len = DISPOSITION_BYTES_MAX,
             .out = &d.disposition},
            {.name = "notes", .type = CB_JSON_STRING, .max_len = CB_NOTES_MAX - 1, .out = &d.notes},
            CB_JSON_END,
        };
        char label[CB_DISPOSITION_LABEL_MAX + 1];
        struct cb_db *db;
        enum cb_err e = cb_json_parse_fields(req->json, fields, &bad);
        enum cb_qs qs;
        bool wake;

        if (e == CB_ERR_INVALID_FIELD && strcmp(bad, "notes") == 0)
                return cb_reply_error(req, e, "notes must be a string of at most %d characters",
                                      CB_NOTES_MAX_CHARS);
        if (e != CB_ERR_NONE)
                return cb_reply_error(req, e, "field \"%s\" is missing or wrong", bad);
        if (!cb_calls_disposition_label(req->env->cfg->agents.dispositions, d.disposition, label,
                                        sizeof(label)))
                return refuse_disposition(req);
        if (!cb_calls_notes_valid(d.notes))
                return cb_reply_error(req, CB_ERR_INVALID_FIELD,
                                      "notes must be a string of at most %d characters",
                                      CB_NOTES_MAX_CHARS);
        if (d.notes != NULL && d.notes[0] == '\0')
                d.notes = NULL; /* "" is no notes: no column holds an empty string */
        if (!cb_uuid_valid(d.call_id))
                return cb_reply_error(req, CB_ERR_NOT_FOUND, "no call %s", d.call_id);
        d.agent = req->agent.admin ? NULL : req->agent.name;
        db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        if (db == NULL)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        qs = cb_store_call_dispose(db, &d, &done);
        if (qs == CB_QS_SOFT_ERROR) /* a deadlock or serialization failure: once more */
                qs = cb_store_call_dispose(db, &d, &done);
        /* An agent in wrap-up waiting for this disposition ([agents] disposition_required) ends
         * it now. Best effort: the waiting wrap-up end job asks again by itself. */
        wake = qs > 0 && done.changed && cb_agent_status_call_disposed(db, d.call_id) > 0;
        cb_db_release(&db);
        if (qs < 0)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        if (qs == CB_QS_NO_RESULTS)
                return cb_reply_error(req, CB_ERR_NOT_FOUND, "no call %s", d.call_id);
        if (done.changed)
                cb_info("call %s: disposition %s (%s) by %s", d.call_id, d.disposition,
                        d.notes ? "with notes" : "no notes", d.by);
        if (wake || done.job_queued)
                cb_jobs_wake(req->env->jobs);
        return cb_reply_json(req, 200, wrapup_json(&d, label, &done));
}
