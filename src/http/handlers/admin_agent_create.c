/* POST /api/admin/agents {"name","display_name"?,"crm_user_id"?,"phone"?,"admin"?}: a new
 * agent, 201 with its record. Admin keys only; 409 agent_exists for a name in use, 409
 * crm_user_id_taken when another agent has that CRM user id; nothing is written then. */
#include "agent_body.h"
#include "handlers/handlers.h"
#include "callbridge/store_agents.h"

enum MHD_Result cb_handle_admin_agent_create(struct cb_request *req)
{
        struct cb_agent_fields f;
        struct cb_agent_values v;
        enum cb_agent_refusal why = CB_AGENT_REFUSED_NONE;
        json_t *agent = NULL;
        struct cb_db *db;
        char msg[256];
        enum cb_err e;
        enum cb_qs qs;

        if (!req->agent.admin)
                return cb_reply_error(req, CB_ERR_FORBIDDEN, "admin keys only");
        e = cb_agent_body_parse(req->json, true, req->env->cfg->server.default_region,
                                req->env->crm->ops->user_id_canon, &f, &v, msg, sizeof(msg));
        if (e != CB_ERR_NONE)
                return cb_reply_error(req, e, "%s", msg);
        db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        if (db == NULL)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        qs = cb_store_agent_insert(db, &f, &agent, &why);
        cb_db_release(&db);
        if (qs < 0)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        if (why == CB_AGENT_NAME_TAKEN)
                return cb_reply_error(req, CB_ERR_AGENT_EXISTS, "agent %s exists", f.name);
        if (qs == CB_QS_NO_RESULTS)
                return cb_reply_error(req, CB_ERR_CRM_USER_ID_TAKEN,
                                      "another agent has CRM user id %s", f.crm_user_id);
        return cb_reply_json(req, 201, agent);
}
