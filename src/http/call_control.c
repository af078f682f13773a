/* Call control: load the call and its control state, ask src/calls/ whether the action is
 * allowed (and whether it is already in effect), have the telephony provider carry it out,
 * then record the new state and its history event (source agent) and tell the agent's
 * softphones (SSE "call_control"). The database connection is not held while the provider
 * is asked. */
#include <stdio.h>
#include <string.h>

#include "call_control.h"
#include "callbridge/agent_status.h"
#include "callbridge/events.h"
#include "callbridge/jobs.h"
#include "callbridge/log.h"
#include "callbridge/store_agents.h"
#include "callbridge/store_calls.h"
#include "callbridge/telephony.h"

/* What was loaded for a decision. */
struct loaded {
        struct cb_call call;
        struct cb_call_controls now;
        long version;
};

/* May the request's agent act on the call? Its agent may, an admin may, and so may the agent
 * who transferred it to its agent (so that their retry of the transfer is answered as one). */
static bool may_act(struct cb_request *req, struct cb_db *db, const struct cb_call *call,
                    enum cb_qs *qs)
{
        char from[CB_AGENT_MAX] = "";

        *qs = CB_QS_ONE_RESULT;
        if (req->agent.admin || strcmp(call->agent, req->agent.name) == 0)
                return true;
        *qs = cb_store_call_transferred_from(db, call->id, from, sizeof(from));
        return *qs >= 0 && strcmp(from, req->agent.name) == 0;
}

/* The call (one the request's agent may act on) and its control state. CB_ERR_NONE, or the
 * error to answer (404, 503). */
static enum cb_err load(struct cb_request *req, const char *call_id, struct loaded *l)
{
        struct cb_db *db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        enum cb_qs qs;
        enum cb_err e = CB_ERR_NONE;

        if (db == NULL)
                return CB_ERR_DB_UNAVAILABLE;
        qs = cb_store_call_load(db, call_id, &l->call);
        /* Another agent's call is "not found" to a non-admin: existence is not leaked. */
        if (qs == CB_QS_ONE_RESULT && !may_act(req, db, &l->call, &qs) && qs >= 0)
                qs = CB_QS_NO_RESULTS;
        if (qs == CB_QS_ONE_RESULT)
                qs = cb_store_controls_load(db, call_id, &l->now, &l->version);
        else if (qs == CB_QS_NO_RESULTS)
                e = CB_ERR_NOT_FOUND;
        if (qs < 0)
                e = CB_ERR_DB_UNAVAILABLE;
        cb_db_release(&db);
        return e;
}

static enum MHD_Result reply_state(struct cb_request *req, const struct cb_call *call,
                                   enum cb_call_action action, bool changed,
                                   const struct cb_call_controls *c, unsigned status)
{
        json_t *controls = cb_calls_controls_to_json(c, req->env->cfg->twilio.record);

        return cb_reply_json(req, status,
                             json_pack("{s:s,s:s,s:b,s:o*}", "call_id", call->id, "action",
                                       cb_calls_action_name(action), "changed", changed, "controls",
                                       controls));
}

/* The provider's request for the decided action. */
static void provider_request(const struct cb_request *req, const struct loaded *l,
                             enum cb_call_action action, const char *to, bool to_agent,
                             struct cb_tel_control *c)
{
        const char *caller_id = req->env->cfg->twilio.caller_id;
        const struct cb_call *call = &l->call;
        /* Our side's number: the one the customer dialled, or the one we called from. */
        const char *ours = call->direction == CB_CALL_INBOUND ? call->to : call->from;

        *c = (struct cb_tel_control){.action = action,
                                     .call_sid = call->provider_call_id,
                                     .to = to,
                                     .to_agent = to_agent,
                                     .caller_id = caller_id ? caller_id
                                                  : ours[0] ? ours
                                                            : NULL};
        if (action == CB_ACT_TRANSFER_COMPLETE || action == CB_ACT_TRANSFER_CANCEL) {
                c->to = l->now.transfer_to;
                c->to_agent = l->now.transfer_to[0] != '+';
        }
}

/* A transfer's target agent must be one of the agents table: true (a 422 unknown_agent, or a
 * 503, queued into *ret) when it is not. */
static bool unknown_agent(struct cb_request *req, const char *name, enum MHD_Result *ret)
{
        struct cb_db *db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        enum cb_qs qs = db ? cb_store_agent_exists(db, name) : CB_QS_HARD_ERROR;

        cb_db_release(&db);
        if (qs == CB_QS_ONE_RESULT)
                return false;
        *ret = qs < 0 ? cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL)
                      : cb_reply_error(req, CB_ERR_UNKNOWN_AGENT, "no agent \"%s\"", name);
        return true;
}

/* Ask the provider; CB_ERR_NONE when it did it, else the answer is queued into *ret. */
static bool provider_failed(struct cb_request *req, const struct loaded *l,
                            enum cb_call_action action, const char *to, bool to_agent,
                            enum MHD_Result *ret)
{
        const struct cb_telephony *tel = req->env->tel;
        struct cb_tel_control c;
        char err[512] = "", masked[512];
        enum cb_tel_ctl r;

        provider_request(req, l, action, to, to_agent, &c);
        r = tel->ops->control(tel->self, &c, err, sizeof(err));
        if (r == CB_TEL_CTL_OK)
                return false;
        if (r == CB_TEL_CTL_STATE) {
                *ret = cb_reply_error(req, CB_ERR_INVALID_CALL_STATE, "%s", err);
                return true;
        }
        cb_mask_digits(err, masked, sizeof(masked)); /* Twilio's messages may quote numbers */
        cb_warn("call %s: %s failed: %s", l->call.id, cb_calls_action_name(action), masked);
        *ret = cb_reply_error(req, CB_ERR_UPSTREAM_UNAVAILABLE,
                              "the telephony provider did not carry out the action; retry");
        return true;
}

/* Record the new state over the one decided from; false when the database failed. A transfer
 * to another agent done now hands them the call, and ends the agent's busy (or wrap-up) for
 * it: a failure there is logged (the agent may set their status), the transfer stands. */
static bool record(struct cb_request *req, const struct loaded *l, const struct cb_call_decision *d,
                   bool *recorded)
{
        struct cb_db *db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        const char *new_agent = cb_calls_control_new_agent(&l->now, &d->after);
        enum cb_qs qs;

        if (db == NULL)
                return false;
        qs = cb_store_controls_record(db, l->call.id, &d->after, l->version, d->event, new_agent);
        *recorded = qs == CB_QS_ONE_RESULT;
        if (*recorded && new_agent != NULL &&
            cb_agent_status_call_left(db, l->call.agent, l->call.id) < 0)
                cb_warn("call %s: handed on, but agent %s's status was not changed", l->call.id,
                        l->call.agent);
        cb_db_release(&db);
        if (*recorded && new_agent != NULL)
                cb_jobs_wake(req->env->jobs);
        return qs >= 0;
}

/* Tell the call's agent's softphones, and the agent a transfer handed the call to. */
static void notify(const struct loaded *l, const struct cb_call_decision *d, bool recorded)
{
        const char *new_agent = cb_calls_control_new_agent(&l->now, &d->after);
        json_t *data = json_pack("{s:s,s:s,s:o*}", "call_id", l->call.id, "action", d->event,
                                 "controls", cb_calls_controls_to_json(&d->after, recorded));

        if (data != NULL) {
                cb_events_publish(l->call.agent, "call_control", data);
                if (new_agent != NULL)
                        cb_events_publish(new_agent, "call_control", data);
        }
        json_decref(data);
}

enum MHD_Result cb_call_control_run(struct cb_request *req, const char *call_id,
                                    enum cb_call_action action, const char *to, bool to_agent)
{
        const struct cb_telephony *tel = req->env->tel;
        struct loaded l = {0};
        struct cb_call_control_env env;
        struct cb_call_decision d;
        enum MHD_Result ret;
        enum cb_err e;
        bool recorded = false;

        if (!cb_uuid_valid(call_id))
                return cb_reply_error(req, CB_ERR_NOT_FOUND, "no call %s", call_id);
        e = load(req, call_id, &l);
        if (e == CB_ERR_NOT_FOUND)
                return cb_reply_error(req, e, "no call %s", call_id);
        if (e != CB_ERR_NONE)
                return cb_reply_error(req, e, NULL);
        if ((tel->ops->caps & CB_TEL_CAP_CONTROL) == 0 ||
            strcmp(l.call.telephony, tel->ops->name) != 0)
                return cb_reply_error(req, CB_ERR_CONTROL_UNSUPPORTED,
                                      "call %s is handled by telephony provider \"%s\", which "
                                      "cannot control calls",
                                      call_id, l.call.telephony[0] ? l.call.telephony : "none");
        env = (struct cb_call_control_env){.status = l.call.status,
                                           .placed = l.call.provider_call_id[0] != '\0',
                                           .conference = req->env->cfg->twilio.conference,
                                           .recorded = req->env->cfg->twilio.record};
        cb_calls_control_decide(&env, &l.now, action, to, &d);
        if (d.verdict == CB_CTL_BAD_STATE)
                return cb_reply_error(req, CB_ERR_INVALID_CALL_STATE, "%s", d.why);
        if (d.verdict == CB_CTL_ALREADY)
                return reply_state(req, &l.call, action, false, &l.now, 200);
        if ((to != NULL && to_agent && unknown_agent(req, to, &ret)) ||
            provider_failed(req, &l, action, to, to_agent, &ret))
                return ret;
        if (!record(req, &l, &d, &recorded))
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE,
                                      "the action was carried out but not recorded; retry");
        if (recorded)
                notify(&l, &d, env.recorded);
        /* Not recorded: another action on the call was recorded meanwhile; this one was
         * carried out all the same and its state stands for the answer. */
        return reply_state(req, &l.call, action, recorded, &d.after,
                           action == CB_ACT_TRANSFER_WARM ? 202 : 200);
}
