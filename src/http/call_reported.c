/* Calls the telephony provider reports first: planned by src/calls, inserted here. */
#include "call_reported.h"
#include "callbridge/crypto.h"
#include "callbridge/jobs.h"
#include "callbridge/store_calls.h"

enum cb_qs cb_call_reported_create(struct cb_http_env *env, struct cb_call_request *rq,
                                   const json_t *party, char id_out[CB_UUID_LEN + 1])
{
        struct cb_call_plan plan;
        struct cb_call_new c;
        char id[CB_UUID_LEN + 1];
        bool created = false, same = false;
        enum cb_qs qs;

        rq->origin = CB_CALL_ORIGIN_PROVIDER;
        rq->fallback_agent = env->cfg->twilio.fallback_agent;
        rq->region = env->cfg->server.default_region;
        /* From the provider nothing is refused: no usable caller id leaves `from` out. */
        (void)cb_calls_plan(rq, &plan);
        cb_uuid_v4(id);
        cb_store_call_new_planned(&c, id, rq, &plan);
        c.telephony = env->tel->ops->name;
        c.crm = env->crm->ops->name;
        cb_store_call_new_party(&c, party);
        qs = cb_call_batcher_insert(env->batcher, &c, id_out, &created, &same);
        if (qs >= 0 && created)
                cb_jobs_wake(env->jobs);
        return qs < 0 ? qs : CB_QS_ONE_RESULT;
}
