/* GET /api/admin/agents: every agent by name, {"agents":[...]}. Admin keys only. */
#include "handlers/handlers.h"
#include "callbridge/store_agents.h"

enum MHD_Result cb_handle_admin_agents_list(struct cb_request *req)
{
        json_t *agents = NULL;
        struct cb_db *db;
        enum cb_qs qs;

        if (!req->agent.admin)
                return cb_reply_error(req, CB_ERR_FORBIDDEN, "admin keys only");
        db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        if (db == NULL)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        qs = cb_store_agents_list(db, &agents);
        cb_db_release(&db);
        if (qs < 0)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        return cb_reply_json(req, 200, json_pack("{s:o}", "agents", agents));
}
