/* GET /api/agent/status: the calling agent's state, 200 {"agent","status","reason"?,"since",
 * "call_id"?,"wrap_up_until"?,"next_status"?,"next_reason"?} (callbridge/agent_status.h). An
 * agent never seen before is available from now on (its row is created). 503 when the
 * database is unavailable. */
#include "callbridge/agent_status.h"
#include "handlers/handlers.h"

enum MHD_Result cb_handle_agent_status_get(struct cb_request *req)
{
        struct cb_db *db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        struct cb_agent_state st;
        int64_t now_us;
        enum cb_qs qs;
        json_t *body;

        if (db == NULL)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        qs = cb_store_agent_status_get(db, req->agent.name, false, &st, &now_us);
        cb_db_release(&db);
        if (qs < 0)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        body = cb_agent_state_to_json(req->agent.name, &st);
        if (body == NULL)
                return cb_reply_error(req, CB_ERR_INTERNAL, NULL);
        return cb_reply_json(req, 200, body);
}
