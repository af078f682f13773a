/* /r/{id} for a browser with a session cookie (the link in a CRM record, clicked): who may hear
 * the recording — the call's own agent, an admin, or a user signed in with the CRM whom the
 * CRM lets read the call's log record (asked with the user's own credential) — and, for a
 * page load (Accept: text/html, no ?play=1), a small player page whose <audio> asks for
 * ?play=1. A browser that is not signed in (or whose session ended) is sent to the console's
 * sign-in, which comes back here. */
#include <stdio.h>
#include <string.h>

#include "audio_reply.h"
#include "html.h"
#include "recording_page.h"
#include "session.h"
#include "callbridge/store_calls.h"
#include "callbridge/store_recordings.h"

/* 302 to the console's sign-in, which comes back to this link. */
static enum MHD_Result to_sign_in(struct cb_request *req, const char *id)
{
        char loc[128];

        snprintf(loc, sizeof(loc), "/console/?return_to=/r/%s", id);
        return cb_reply_redirect(req, 302, loc);
}

/* A refusal (403, 404) as a page for a browser's page load; JSON otherwise. */
static enum MHD_Result refuse(struct cb_request *req, bool html, enum cb_err err,
                              const char *reason)
{
        const struct cb_err_info *info = cb_err_info(err);

        if (html && (info->status == 403 || info->status == 404))
                return cb_reply_html_message(req, info->status, "Recording unavailable",
                                             reason != NULL ? reason : info->message);
        return reason != NULL ? cb_reply_error(req, err, "%s", reason)
                              : cb_reply_error(req, err, NULL);
}

/* The recording (any agent's) and its call; CB_ERR_NONE, NOT_FOUND or DB_UNAVAILABLE. */
static enum cb_err load(struct cb_request *req, const char *id, json_t **rec, json_t **call)
{
        struct cb_db *db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        enum cb_qs qs = CB_QS_HARD_ERROR;
        const char *call_id;

        *rec = *call = NULL;
        if (db != NULL)
                qs = cb_store_recording_get(db, id, NULL, NULL, rec);
        call_id = json_string_value(json_object_get(*rec, "call_id"));
        if (qs == CB_QS_ONE_RESULT && call_id != NULL)
                qs = cb_store_call_get_json(db, call_id, NULL, call);
        cb_db_release(&db);
        if (qs < 0)
                return CB_ERR_DB_UNAVAILABLE;
        return qs == CB_QS_ONE_RESULT && *rec != NULL && *call != NULL ? CB_ERR_NONE
                                                                       : CB_ERR_NOT_FOUND;
}

/* The player page. */
static enum MHD_Result player(struct cb_request *req, const char *id, json_t *call)
{
        const char *dir = json_string_value(json_object_get(call, "direction"));
        const char *party = json_string_value(json_object_get(call, "party_name"));
        const char *number = json_string_value(
            json_object_get(call, dir != NULL && strcmp(dir, "inbound") == 0 ? "from" : "to"));
        const char *when = json_string_value(json_object_get(call, "created_at"));
        struct cb_buf b = {.max = 16384};
        enum MHD_Result ret = MHD_NO;

        if (cb_buf_puts(&b, "<main><h1>Call recording</h1><dl><dt>Date</dt><dd><time>") == 0 &&
            cb_html_escape(&b, when != NULL ? when : "") == 0 &&
            cb_buf_puts(&b, "</time></dd><dt>") == 0 &&
            cb_buf_puts(&b, dir != NULL && strcmp(dir, "inbound") == 0 ? "Caller" : "Called") ==
                0 &&
            cb_buf_puts(&b, "</dt><dd>") == 0 &&
            cb_html_escape(&b, party != NULL    ? party
                               : number != NULL ? number
                                                : "unknown") == 0 &&
            (party == NULL || number == NULL || cb_buf_puts(&b, " (") != 0 ||
             cb_html_escape(&b, number) == 0) &&
            (party == NULL || number == NULL || cb_buf_puts(&b, ")") == 0) &&
            cb_buf_puts(&b, "</dd></dl><audio controls preload=\"metadata\" "
                            "data-testid=\"recording-player\" src=\"/r/") == 0 &&
            cb_buf_puts(&b, id) == 0 &&
            cb_buf_puts(&b, "?play=1\">Your browser cannot play this recording.</audio>"
                            "<p><a href=\"/console/\">Open the console</a></p></main>") == 0)
                ret = cb_reply_html(req, 200, "Call recording", b.data);
        cb_buf_free(&b);
        return ret;
}

/* May the session's agent hear a recording of `call`? */
static enum cb_err allowed(struct cb_request *req, json_t *rec, json_t *call, bool *ok)
{
        const char *owner = json_string_value(json_object_get(rec, "agent"));
        const char *log_id =
            json_string_value(json_object_get(json_object_get(call, "crm"), "log_id"));
        struct cb_session_info s;
        enum cb_err err;

        *ok = req->agent.admin || (owner != NULL && strcmp(owner, req->agent.name) == 0);
        if (*ok || log_id == NULL)
                return CB_ERR_NONE;
        err = cb_session_of(req, &s);
        if (err != CB_ERR_NONE)
                return err;
        return cb_record_access_check(req->env, &s, log_id, ok);
}

enum MHD_Result cb_recording_for_session(struct cb_request *req, const char *id)
{
        const char *play = cb_request_arg(req, "play");
        bool html = cb_request_wants_html(req) && play == NULL;
        int retry_after_s = 1;
        enum cb_err err = cb_request_auth_check(req, &retry_after_s);
        json_t *rec = NULL, *call = NULL;
        enum MHD_Result ret;
        bool ok = false;

        if (err == CB_ERR_UNAUTHORIZED && cb_request_wants_html(req))
                return to_sign_in(req, id);
        if (err != CB_ERR_NONE)
                return cb_request_auth_refuse(req, err, retry_after_s);
        err = load(req, id, &rec, &call);
        if (err == CB_ERR_NONE)
                err = allowed(req, rec, call, &ok);
        if (err == CB_ERR_NOT_FOUND)
                ret = refuse(req, html, err, "no such recording");
        else if (err != CB_ERR_NONE)
                ret = refuse(req, html, err, NULL);
        else if (!ok)
                ret = refuse(req, html, CB_ERR_FORBIDDEN, "you may not hear this recording");
        else if (html)
                ret = player(req, id, call);
        else
                ret = cb_reply_recording(req, id, NULL, NULL);
        json_decref(rec);
        json_decref(call);
        return ret;
}
