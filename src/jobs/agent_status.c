/* Agent states, the service: each rule (src/calls/agent_state.c) runs in one transaction on
 * the agent's locked row, then the change is published as an `agent_status` event. Also the
 * two job kinds — agent.call_status (a call's move made the agent busy or ended their call)
 * and agent.wrap_up_end (queued with available_at = wrap_up_until, so wrap-up ends on time
 * on whichever instance, after any restart) — and routing's availability question. */
#include <stdio.h>
#include <string.h>

#include "callbridge/agent_status.h"
#include "callbridge/events.h"
#include "callbridge/jobs.h"
#include "callbridge/log.h"
#include "kinds.h"

/* One rule to run on an agent's locked state. */
struct txn {
        const char *agent;
        const struct cb_agent_policy *policy;
        /* Decide from the locked state; fills t->chg (and the rule's own result). */
        void (*decide)(struct txn *t, const struct cb_agent_state *cur, int64_t now_us);
        /* the rule's inputs */
        enum cb_agent_status want;
        const char *reason;
        const struct cb_call *call;
        const char *call_id;
        /* outputs */
        struct cb_agent_change chg;
        enum cb_agent_put_result put;
        bool done;       /* wrap-up end: nothing more to wait for */
        int64_t wait_us; /* wrap-up end: until wrap_up_until */
        /* the state the rule found, and when it decided (for the wrap-up's length) */
        enum cb_agent_status was;
        int64_t was_since_us, now_us;
};

static enum cb_qs txn_run(struct cb_db *db, void *arg)
{
        struct txn *t = arg;
        struct cb_agent_state cur;
        int64_t now_us = 0;
        enum cb_qs qs = cb_store_agent_status_get(db, t->agent, true, &cur, &now_us);

        if (qs < 0)
                return qs;
        t->was = cur.status;
        t->was_since_us = cur.since_us;
        t->now_us = now_us;
        t->decide(t, &cur, now_us);
        if (!t->chg.changed)
                return CB_QS_ONE_RESULT;
        return cb_store_agent_status_put(db, t->agent, &t->chg);
}

/* Run `t` in a transaction; publish its change once committed. Best effort for the event: a
 * lost one leaves the softphone to GET the status. */
static enum cb_qs txn_commit(struct cb_db *db, struct txn *t)
{
        enum cb_qs qs = cb_db_transaction(db, "agent_status", txn_run, t);
        json_t *ev = NULL;

        if (qs < 0 || !t->chg.changed)
                return qs;
        ev = cb_agent_state_to_json(t->agent, &t->chg.state);
        if (ev != NULL)
                cb_events_publish(t->agent, "agent_status", ev);
        json_decref(ev);
        cb_info("agent %s: %s", t->agent, cb_agent_status_name(t->chg.state.status));
        if (t->was == CB_AGENT_WRAP_UP && t->chg.state.status != CB_AGENT_WRAP_UP)
                cb_calls_metrics_wrap_up(t->agent, (double)(t->now_us - t->was_since_us) / 1e6);
        return qs;
}

static void decide_put(struct txn *t, const struct cb_agent_state *cur, int64_t now_us)
{
        t->put = cb_agent_rule_put(cur, t->want, t->reason, t->policy, now_us, &t->chg);
}

enum cb_agent_put_result cb_agent_status_set(struct cb_db *db, const struct cb_agent_policy *policy,
                                             const char *agent, enum cb_agent_status want,
                                             const char *reason, struct cb_agent_state *out,
                                             enum cb_qs *qs)
{
        struct txn t = {
            .agent = agent, .policy = policy, .decide = decide_put, .want = want, .reason = reason};

        *qs = txn_commit(db, &t);
        *out = t.chg.state;
        return t.put;
}

static void decide_left(struct txn *t, const struct cb_agent_state *cur, int64_t now_us)
{
        cb_agent_rule_call_left(cur, t->call_id, now_us, &t->chg);
}

enum cb_qs cb_agent_status_call_left(struct cb_db *db, const char *agent, const char *call_id)
{
        struct txn t = {.agent = agent, .decide = decide_left, .call_id = call_id};

        return txn_commit(db, &t);
}

bool cb_agent_status_available(void *ctx, const char *agent)
{
        struct cb_db *db = cb_db_acquire(ctx, 500);
        enum cb_agent_status s = CB_AGENT_AVAILABLE;
        enum cb_qs qs = db ? cb_store_agent_status_peek(db, agent, &s) : CB_QS_HARD_ERROR;

        cb_db_release(&db);
        if (qs < 0)
                cb_warn("agent %s: status unknown (database), presence alone decides", agent);
        return qs < 0 || cb_agent_routable(s);
}

static void policy_of(const struct cb_job *job, struct cb_agent_policy *p)
{
        p->wrap_up_s = job->env->cfg->agents.wrap_up_s;
        p->disposition_required = job->env->cfg->agents.disposition_required;
}

static void decide_call(struct txn *t, const struct cb_agent_state *cur, int64_t now_us)
{
        cb_agent_rule_call(cur, t->call, t->policy, now_us, &t->chg);
}

/* Job agent.call_status: the call moved (it went live, or it ended). Reads the call as it is
 * now, so a late or repeated run decides the same. */
enum cb_result cb_job_agent_call(struct cb_job *job)
{
        struct cb_agent_policy policy;
        struct cb_call call;
        struct txn t = {.policy = &policy, .decide = decide_call, .call = &call};
        enum cb_result r = cb_job_load_call(job, &call);
        struct cb_db *db;
        enum cb_qs qs;

        if (r != CB_RESULT_OK)
                return r;
        if (!cb_calls_agent_valid(call.agent) || strcmp(call.agent, "unassigned") == 0)
                return CB_RESULT_OK; /* nobody's call: no agent to change */
        policy_of(job, &policy);
        t.agent = call.agent;
        db = cb_job_db(job);
        if (db == NULL)
                return CB_RESULT_RETRY;
        qs = txn_commit(db, &t);
        cb_db_release(&db);
        if (qs < 0) {
                snprintf(job->error, sizeof(job->error), "agent %s: status not stored", call.agent);
                return CB_RESULT_RETRY;
        }
        if (t.chg.schedule_end)
                cb_jobs_wake(job->env->jobs);
        return CB_RESULT_OK;
}

static void decide_end(struct txn *t, const struct cb_agent_state *cur, int64_t now_us)
{
        t->done = cb_agent_rule_wrap_up_end(cur, t->call_id, t->policy, now_us, &t->chg);
        t->wait_us = cur->wrap_up_until_us - now_us;
}

/* Job agent.wrap_up_end (payload {"agent"}): wrap-up ends once wrap_up_until has passed and,
 * with disposition_required, the call has its disposition; until then the job waits (no
 * attempt spent) and asks again. */
enum cb_result cb_job_agent_wrap_up_end(struct cb_job *job)
{
        const char *agent = json_string_value(json_object_get(job->row->payload, "agent"));
        struct cb_agent_policy policy;
        struct txn t = {.policy = &policy, .decide = decide_end, .call_id = job->row->call_id};
        struct cb_db *db;
        enum cb_qs qs;

        if (!cb_calls_agent_valid(agent) || !cb_uuid_valid(job->row->call_id)) {
                snprintf(job->error, sizeof(job->error), "payload has no agent, or no call");
                return CB_RESULT_FAIL;
        }
        policy_of(job, &policy);
        t.agent = agent;
        db = cb_job_db(job);
        if (db == NULL)
                return CB_RESULT_RETRY;
        qs = txn_commit(db, &t);
        cb_db_release(&db);
        if (qs < 0) {
                snprintf(job->error, sizeof(job->error), "agent %s: status not stored", agent);
                return CB_RESULT_RETRY;
        }
        if (t.done)
                return CB_RESULT_OK;
        snprintf(job->error, sizeof(job->error), "agent %s: wrap-up goes on (%s)", agent,
                 t.wait_us > 0 ? "until wrap_up_until" : "the disposition is required");
        if (t.wait_us > 0)
                cb_wait_hint_set(t.wait_us / 1000 + 1);
        return CB_RESULT_WAIT;
}
