/* GET /api/agent/call: the call the agent's console restores after a reload — the agent's
 * active call (as GET /api/calls/{id} shows it), its phase, and the live transcript's final
 * segments so far with their keyword hits. {"call": null, "phase": null, "transcript": []} when
 * there is none. */
#include <limits.h>
#include <stdlib.h>

#include "call_view.h"
#include "callbridge/nlp.h"
#include "callbridge/store_calls.h"
#include "callbridge/store_transcripts.h"
#include "handlers/handlers.h"

/* [[sequence, speaker, text], ...] (transcript_segments, stored as sent: not sealed) as
 * [{"speaker","text","sequence","keywords"}]; steals `rows`. NULL when out of memory. */
static json_t *transcript(json_t *rows)
{
        struct cb_nlp_rules *rules = cb_nlp_current();
        json_t *out = json_array(), *row;
        size_t i;

        json_array_foreach(rows, i, row)
        {
                const char *text = json_string_value(json_array_get(row, 2));
                long seq = 0;
                json_t *seg;

                (void)cb_parse_long(json_string_value(json_array_get(row, 0)), 0, LONG_MAX, &seq);
                seg = json_pack("{s:O,s:s,s:I,s:o}", "speaker", json_array_get(row, 1), "text",
                                text ? text : "", "sequence", (json_int_t)seq, "keywords",
                                cb_nlp_keyword_hits(rules, text ? text : ""));
                if (out == NULL || json_array_append_new(out, seg) != 0) {
                        json_decref(out);
                        out = NULL;
                        break;
                }
        }
        cb_nlp_rules_unref(&rules);
        json_decref(rows);
        return out;
}

enum MHD_Result cb_handle_agent_call(struct cb_request *req)
{
        char id[CB_UUID_LEN + 1];
        enum cb_call_status status = CB_CALL_QUEUED;
        json_t *call = NULL, *rows = NULL;
        struct cb_db *db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        enum cb_qs qs;

        if (db == NULL)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        /* Always the caller's own call, admins included. */
        qs = cb_store_agent_active_call(db, req->agent.name, id, &status);
        if (qs == CB_QS_ONE_RESULT)
                qs = cb_call_view(req, db, id, req->agent.name, &call);
        if (qs == CB_QS_ONE_RESULT && cb_store_live_segments(db, id, &rows) < 0)
                qs = CB_QS_HARD_ERROR;
        cb_db_release(&db);
        if (qs < 0) {
                json_decref(call);
                json_decref(rows);
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        }
        if (call == NULL) /* none, or it vanished between the two reads (retention) */
                return cb_reply_json(req, 200,
                                     json_pack("{s:n,s:n,s:[]}", "call", "phase", "transcript"));
        cb_call_view_finish(req, call);
        return cb_reply_json(req, 200,
                             json_pack("{s:o,s:s,s:o}", "call", call, "phase",
                                       cb_calls_phase(status), "transcript", transcript(rows)));
}
