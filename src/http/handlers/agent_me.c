/* GET /api/agent: the caller's own agent record, for any key. An agent without a row (a
 * CRM session's user) gets its name and rights with the other fields null. */
#include "handlers/handlers.h"
#include "callbridge/store_agents.h"

enum MHD_Result cb_handle_agent_me(struct cb_request *req)
{
        json_t *agent = NULL;
        struct cb_db *db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        enum cb_qs qs;

        if (db == NULL)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        qs = cb_store_agent_get(db, req->agent.name, &agent);
        cb_db_release(&db);
        if (qs < 0)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        if (qs == CB_QS_NO_RESULTS)
                agent = json_pack("{s:s,s:n,s:n,s:n,s:b,s:n,s:n}", "name", req->agent.name,
                                  "display_name", "crm_user_id", "phone", "admin", req->agent.admin,
                                  "created_at", "updated_at");
        else /* the rights this request was granted (the cache may lag a change by a second) */
                json_object_set_new(agent, "admin", json_boolean(req->agent.admin));
        return cb_reply_json(req, 200, agent);
}
