/* GET /api/calls/{id}: one call with its history, jobs and call control state. */
#include "call_view.h"
#include "handlers/handlers.h"

enum MHD_Result cb_handle_call_get(struct cb_request *req)
{
        const char *id = req->params[0];
        struct cb_db *db;
        json_t *call = NULL;
        enum cb_qs qs;

        if (!cb_uuid_valid(id))
                return cb_reply_error(req, CB_ERR_NOT_FOUND, "no call %s", id);
        db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        if (db == NULL)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        /* Another agent's call is "not found" to a non-admin: existence is not leaked. */
        qs = cb_call_view(req, db, id, req->agent.admin ? NULL : req->agent.name, &call);
        cb_db_release(&db);
        if (qs < 0)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        if (qs == CB_QS_NO_RESULTS)
                return cb_reply_error(req, CB_ERR_NOT_FOUND, "no call %s", id);
        cb_call_view_finish(req, call);
        return cb_reply_json(req, 200, call);
}
