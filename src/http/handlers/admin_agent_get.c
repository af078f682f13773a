/* GET /api/admin/agents/{name}: one agent. Admin keys only; 404 for an unknown name. */
#include "agent_body.h"
#include "handlers/handlers.h"
#include "callbridge/store_agents.h"

enum MHD_Result cb_handle_admin_agent_get(struct cb_request *req)
{
        const char *name = req->params[0];
        json_t *agent = NULL;
        struct cb_db *db;
        enum cb_qs qs;

        if (!req->agent.admin)
                return cb_reply_error(req, CB_ERR_FORBIDDEN, "admin keys only");
        if (!cb_agent_name_arg(name))
                return cb_reply_error(req, CB_ERR_NOT_FOUND, "no such agent");
        db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        if (db == NULL)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        qs = cb_store_agent_get(db, name, &agent);
        cb_db_release(&db);
        if (qs < 0)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        if (qs == CB_QS_NO_RESULTS)
                return cb_reply_error(req, CB_ERR_NOT_FOUND, "no agent %s", name);
        return cb_reply_json(req, 200, agent);
}
