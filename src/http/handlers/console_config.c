/* GET /api/console/config: what the agent console needs before it draws anything — who is
 * signed in, the wrap-up choices, the rules' highlight colours, what the telephony and CRM can
 * do, and the agents a call may be transferred to. */
#include <string.h>

#include "callbridge/calls.h"
#include "callbridge/crm.h"
#include "callbridge/nlp.h"
#include "callbridge/store_agents.h"
#include "callbridge/telephony.h"
#include "handlers/handlers.h"

/* [agents] dispositions as [{"value","label"}] in their configured order; NULL when out of
 * memory. */
static json_t *dispositions(const char *list)
{
        char values[CB_DISPOSITIONS_MAX * (CB_DISPOSITION_VALUE_MAX + 2) + 1];
        char label[CB_DISPOSITION_LABEL_MAX + 1];
        json_t *out = json_array();
        char *p = values, *comma;

        cb_calls_dispositions_values(list, values, sizeof(values));
        while (out != NULL && *p != '\0') {
                comma = strstr(p, ", ");
                if (comma != NULL)
                        *comma = '\0';
                cb_calls_disposition_label(list, p, label, sizeof(label));
                if (json_array_append_new(out, json_pack("{s:s,s:s}", "value", p, "label",
                                                         label[0] ? label : p)) != 0) {
                        json_decref(out);
                        return NULL;
                }
                p = comma ? comma + 2 : p + strlen(p);
        }
        return out;
}

/* The rules' colours ([] before the rules are loaded). */
static json_t *rule_colors(void)
{
        struct cb_nlp_rules *r = cb_nlp_current();
        json_t *out = cb_nlp_rules_colors(r);

        cb_nlp_rules_unref(&r);
        return out;
}

static json_t *telephony(const struct cb_http_env *env)
{
        const struct cb_config *cfg = env->cfg;
        bool twilio = strcmp(env->tel->ops->name, "twilio") == 0;
        char masked[64];

        if (twilio && cfg->twilio.caller_id != NULL && cfg->twilio.caller_id[0] != '\0')
                cb_mask_phone(cfg->twilio.caller_id, masked, sizeof(masked));
        else
                masked[0] = '\0';
        return json_pack("{s:s,s:b,s:b,s:o}", "provider", twilio ? "twilio" : "none", "conference",
                         twilio && cfg->twilio.conference, "live_transcription",
                         twilio && cfg->twilio.live_transcription, "caller_id_masked",
                         masked[0] ? json_string(masked) : json_null());
}

static json_t *crm(const struct cb_http_env *env)
{
        const struct cb_crm *c = env->crm;
        char url[1024];
        bool have = c->ops->instance_url != NULL && c->ops->instance_url(c->self, url, sizeof(url));

        return json_pack("{s:s,s:o}", "provider", c->ops->name, "instance_url",
                         have ? json_string(url) : json_null());
}

/* The caller's agent in the sign-in shape ({"name","display_name","admin","crm_user_id"}). */
static json_t *agent_view(const struct cb_request *req, json_t *row)
{
        return json_pack("{s:s,s:O,s:b,s:O}", "name", req->agent.name, "display_name",
                         row ? json_object_get(row, "display_name") : json_null(), "admin",
                         req->agent.admin, "crm_user_id",
                         row ? json_object_get(row, "crm_user_id") : json_null());
}

enum MHD_Result cb_handle_console_config(struct cb_request *req)
{
        const struct cb_config *cfg = req->env->cfg;
        json_t *row = NULL, *targets = NULL, *body;
        struct cb_db *db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        enum cb_qs qs;

        if (db == NULL)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        qs = cb_store_agent_get(db, req->agent.name, &row);
        if (qs >= 0)
                qs = cb_store_agents_transfer_targets(db, req->agent.name, &targets);
        cb_db_release(&db);
        if (qs < 0) {
                json_decref(row);
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        }
        body = json_pack("{s:o,s:o,s:b,s:I,s:o,s:o,s:o,s:o}", "agent", agent_view(req, row),
                         "dispositions", dispositions(cfg->agents.dispositions),
                         "disposition_required", cfg->agents.disposition_required, "wrap_up_s",
                         (json_int_t)cfg->agents.wrap_up_s, "rules", rule_colors(), "telephony",
                         telephony(req->env), "crm", crm(req->env), "transfer_targets", targets);
        json_decref(row);
        return cb_reply_json(req, 200, body);
}
