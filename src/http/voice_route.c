/* The voice webhook's routing, run on a helper thread under a deadline (see voice_route.h):
 * the I/O (CRM lookup, presence, the call insert, the screen pop) around the pure decisions of
 * src/calls/route.c. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbridge/agent_status.h"
#include "callbridge/agents.h"
#include "callbridge/cache.h"
#include "callbridge/events.h"
#include "callbridge/log.h"
#include "callbridge/phone.h"
#include "callbridge/store_agents.h"
#include "call_reported.h"
#include "voice_route.h"

/* Helpers still running (they use the pool and the batcher: shutdown waits for them). */
static atomic_int helpers;

/* Shared by the webhook and its helper; the last of the two to let go frees it. */
struct task {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        int refs;
        bool decided;   /* the route is chosen (the webhook may answer it) */
        bool done;      /* the call is recorded too (or could not be) */
        bool abandoned; /* the webhook answered the fallback: record the call for it */
        struct cb_http_env *env;
        /* inputs, copied */
        enum cb_call_direction direction;
        char call_sid[CB_CALL_SID_MAX];
        char from[64];
        char to[64];
        char agent[CB_AGENT_MAX]; /* the softphone that dialled (outbound) */
        /* outputs */
        struct cb_call_route route;
        char record_id[CB_CRM_ID_MAX];
        json_t *matches; /* the caller's CRM matches, for the screen pop (owned) */
};

static void task_unref(struct task *t)
{
        bool last;

        pthread_mutex_lock(&t->lock);
        last = --t->refs == 0;
        pthread_mutex_unlock(&t->lock);
        if (!last)
                return;
        pthread_mutex_destroy(&t->lock);
        pthread_cond_destroy(&t->cond);
        json_decref(t->matches);
        free(t);
}

void cb_voice_route_rules(const struct cb_config *cfg, struct cb_db_pool *pool,
                          struct cb_call_route_rules *rules)
{
        *rules = (struct cb_call_route_rules){.route_to_owner = cfg->twilio.route_to_owner,
                                              .fallback_agent = cfg->twilio.fallback_agent,
                                              .fallback_number = cfg->twilio.fallback_number,
                                              .region = cfg->server.default_region,
                                              .online = cb_presence_online,
                                              .available = cb_agent_status_available,
                                              .available_ctx = pool};
}

/* The agents whose CRM user ids own `matches` (a new array for cb_calls_route_inbound; NULL
 * when no match has an owner or PostgreSQL cannot say in time: the fallback then). */
static json_t *owner_agents(struct task *t, const json_t *matches)
{
        struct cb_buf ids = {.max = 4096};
        struct cb_db *db = NULL;
        json_t *agents = NULL;
        const json_t *m;
        size_t i;

        json_array_foreach(matches, i, m)
        {
                /* the provider gives owner ids in the form agents.crm_user_id keeps */
                const char *id = json_string_value(json_object_get(m, "owner_id"));
                if (id != NULL && cb_str_charset(id, CB_AGENT_CRM_USER_MAX - 1, "._@:-"))
                        cb_buf_printf(&ids, "%s%s", ids.len ? "," : "", id);
        }
        if (ids.len > 0 && cb_buf_append(&ids, "", 1) == 0)
                db = cb_db_acquire(t->env->pool, (int)t->env->cfg->twilio.voice_deadline_ms);
        if (db != NULL && cb_store_agents_by_crm_user_ids(db, ids.data, &agents) < 0)
                cb_warn("inbound routing: could not read the agents of the caller's owners");
        cb_db_release(&db);
        cb_buf_free(&ids);
        return agents;
}

/* Each match's `owner` as the agent's display name when its owner is one of our agents
 * (agents.crm_user_id); other matches keep the CRM's own (the owner's username). */
static void name_owners(json_t *matches, const json_t *agents)
{
        json_t *m, *a;
        size_t i, k;

        json_array_foreach(matches, i, m)
        {
                const char *id = json_string_value(json_object_get(m, "owner_id"));
                if (id == NULL)
                        continue;
                json_array_foreach(agents, k, a)
                {
                        const char *mine = json_string_value(json_object_get(a, "crm_user_id"));
                        if (mine != NULL && strcmp(mine, id) == 0) {
                                json_object_set(m, "owner", json_object_get(a, "display_name"));
                                break;
                        }
                }
        }
}

/* An incoming call: look the caller up (Redis first, then the CRM), map the owners of what
 * matched to agents (agents.crm_user_id: the screen pop's owner names, and the routing rule
 * when [twilio] route_to_owner) and apply the rule. */
static void route_inbound(struct task *t, const struct cb_call_route_rules *rules,
                          struct cb_call_route *route)
{
        const struct cb_config *cfg = t->env->cfg;
        struct cb_lookup_result res = {0};
        json_t *agents = NULL;
        char e164[32];
        char err[256];

        if (cb_phone_to_e164(t->from, cfg->server.default_region, e164, sizeof(e164)) != 0 ||
            cb_lookup(t->env->crm, cfg, e164, false, &res, err, sizeof(err)) != CB_RESULT_OK)
                cb_lookup_result_clear(&res); /* no matches: the fallback */
        /* Our own copy: the lookup's may be shared with other callers. */
        t->matches = res.matches ? json_deep_copy(res.matches) : NULL;
        agents = owner_agents(t, res.matches);
        name_owners(t->matches, agents);
        cb_calls_route_inbound(rules, res.matches, rules->route_to_owner ? agents : NULL, route,
                               t->record_id);
        json_decref(agents);
        cb_lookup_result_clear(&res);
}

/* The match the call was linked to (its party), or NULL. Borrowed from t->matches. */
static const json_t *party_of(const struct task *t)
{
        const json_t *m;
        size_t i;

        json_array_foreach(t->matches, i, m)
        {
                const char *id = json_string_value(json_object_get(m, "id"));
                if (t->record_id[0] != '\0' && id != NULL && strcmp(id, t->record_id) == 0)
                        return m;
        }
        return NULL;
}

/* The agent the call rings sees who calls before answering: SPEC §4 screen_pop. */
static void screen_pop(const struct task *t, const char *call_id, const char *agent)
{
        json_t *matches = t->matches ? json_incref(t->matches) : json_array();
        json_t *data =
            json_pack("{s:s,s:s,s:o}", "call_id", call_id, "from", t->from, "matches", matches);

        if (data != NULL)
                cb_events_publish(agent, "screen_pop", data);
        json_decref(data);
}

static void *task_main(void *arg)
{
        struct task *t = arg;
        struct cb_call_route route = {0};
        struct cb_call_request rq = {.direction = t->direction,
                                     .provider_call_id = t->call_sid,
                                     .from = t->from,
                                     .to = t->to};
        struct cb_call_route_rules rules;
        char id[CB_UUID_LEN + 1] = "";
        bool inbound = t->direction == CB_CALL_INBOUND;

        cb_voice_route_rules(t->env->cfg, t->env->pool, &rules);
        if (inbound)
                route_inbound(t, &rules, &route);
        else
                cb_calls_route_outbound(&rules, t->to, &route);
        pthread_mutex_lock(&t->lock);
        if (!t->abandoned) {
                t->route = route;
                t->decided = true;
                pthread_cond_signal(&t->cond);
        }
        /* Who the call belongs to: the softphone that dialled, the agent we ring, or whoever
         * takes the fallback. */
        rq.agent =
            cb_calls_route_agent(&rules, t->direction, t->agent, t->abandoned ? NULL : &route);
        pthread_mutex_unlock(&t->lock);
        rq.crm_record_id = t->record_id[0] ? t->record_id : NULL;
        if (cb_call_reported_create(t->env, &rq, party_of(t), id) < 0)
                cb_warn("could not record call %s; its status callbacks will", t->call_sid);
        if (id[0] != '\0' && inbound)
                screen_pop(t, id, rq.agent);
        pthread_mutex_lock(&t->lock);
        cb_strlcpy(t->route.call_id, id, sizeof(t->route.call_id));
        t->done = true;
        pthread_cond_signal(&t->cond);
        pthread_mutex_unlock(&t->lock);
        task_unref(t);
        atomic_fetch_sub(&helpers, 1);
        return NULL;
}

bool cb_voice_route_drain(long timeout_ms)
{
        int64_t deadline = cb_mono_us() + timeout_ms * 1000;

        while (atomic_load(&helpers) > 0 && cb_mono_us() < deadline) {
                struct timespec ts = {.tv_sec = 0, .tv_nsec = 10000000};
                nanosleep(&ts, NULL);
        }
        return atomic_load(&helpers) == 0;
}

static struct task *task_new(struct cb_http_env *env, const struct cb_call_request *rq)
{
        struct task *t = calloc(1, sizeof(*t));

        if (t == NULL)
                return NULL;
        pthread_mutex_init(&t->lock, NULL);
        pthread_cond_init(&t->cond, NULL);
        t->refs = 2;
        t->env = env;
        t->direction = rq->direction;
        cb_strlcpy(t->call_sid, rq->provider_call_id, sizeof(t->call_sid));
        cb_strlcpy(t->from, rq->from ? rq->from : "", sizeof(t->from));
        cb_strlcpy(t->to, rq->to ? rq->to : "", sizeof(t->to));
        cb_strlcpy(t->agent, rq->agent ? rq->agent : "", sizeof(t->agent));
        return t;
}

bool cb_voice_route(struct cb_http_env *env, const struct cb_call_request *rq,
                    struct cb_call_route *route)
{
        struct cb_call_route_rules rules;
        struct task *t = task_new(env, rq);
        struct timespec deadline;
        pthread_attr_t attr;
        pthread_t th;
        bool decided = false;
        int rc = 0;

        memset(route, 0, sizeof(*route));
        if (t == NULL)
                goto fallback;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        atomic_fetch_add(&helpers, 1);
        if (pthread_create(&th, &attr, task_main, t) != 0) {
                atomic_fetch_sub(&helpers, 1);
                pthread_attr_destroy(&attr);
                t->refs = 1;
                task_unref(t);
                goto fallback;
        }
        pthread_attr_destroy(&attr);
        cb_deadline_after_ms(env->cfg->twilio.voice_deadline_ms, &deadline);
        pthread_mutex_lock(&t->lock);
        while (!t->done && rc == 0)
                rc = pthread_cond_timedwait(&t->cond, &t->lock, &deadline);
        decided = t->decided;
        if (decided)
                *route = t->route; /* the insert may still be under way: the route stands */
        else
                t->abandoned = true;
        pthread_mutex_unlock(&t->lock);
        task_unref(t);
        if (decided)
                return false;
fallback:
        cb_voice_route_rules(env->cfg, env->pool, &rules);
        cb_calls_route_fallback(&rules, route);
        return true;
}
