/* PATCH /api/admin/agents/{name} {"display_name"?,"crm_user_id"?,"phone"?,"admin"?}: change
 * the fields the body names (null clears a text field), 200 with the record. Admin keys only;
 * 404 for an unknown name, 409 crm_user_id_taken when another agent has that CRM user id.
 * A change of admin rights reaches every instance's key cache within a second
 * (src/http/auth.c). An empty object changes nothing and answers the record. */
#include "agent_body.h"
#include "handlers/handlers.h"
#include "callbridge/store_agents.h"

enum MHD_Result cb_handle_admin_agent_patch(struct cb_request *req)
{
        struct cb_agent_fields f;
        struct cb_agent_values v;
        enum cb_agent_refusal why = CB_AGENT_REFUSED_NONE;
        const char *name = req->params[0];
        json_t *agent = NULL;
        struct cb_db *db;
        char msg[256];
        enum cb_err e;
        enum cb_qs qs;

        if (!req->agent.admin)
                return cb_reply_error(req, CB_ERR_FORBIDDEN, "admin keys only");
        if (!cb_agent_name_arg(name))
                return cb_reply_error(req, CB_ERR_NOT_FOUND, "no such agent");
        e = cb_agent_body_parse(req->json, false, req->env->cfg->server.default_region,
                                req->env->crm->ops->user_id_canon, &f, &v, msg, sizeof(msg));
        if (e != CB_ERR_NONE)
                return cb_reply_error(req, e, "%s", msg);
        f.name = name;
        db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        if (db == NULL)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        if (f.set_display_name || f.set_crm_user_id || f.set_phone || f.set_admin)
                qs = cb_store_agent_update(db, &f, &agent, &why);
        else
                qs = cb_store_agent_get(db, name, &agent);
        cb_db_release(&db);
        if (qs < 0)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        if (why == CB_AGENT_CRM_ID_TAKEN)
                return cb_reply_error(req, CB_ERR_CRM_USER_ID_TAKEN,
                                      "another agent has CRM user id %s", f.crm_user_id);
        if (qs == CB_QS_NO_RESULTS)
                return cb_reply_error(req, CB_ERR_NOT_FOUND, "no agent %s", name);
        return cb_reply_json(req, 200, agent);
}
