/* Shared by the Twilio webhook handlers: the calls Twilio reports first. */
#include <string.h>

#include "callbridge/crypto.h"
#include "callbridge/jobs.h"
#include "callbridge/store.h"
#include "twilio_calls.h"

enum cb_qs cb_twilio_call_create(struct cb_http_env *env, const struct cb_twilio_call *tc,
                                 char id_out[CB_UUID_LEN + 1])
{
        struct cb_call_request rq = {
            .origin = CB_CALL_ORIGIN_PROVIDER,
            .direction = CB_CALL_INBOUND,
            .agent = tc->agent,
            .fallback_agent = env->cfg->twilio.fallback_agent,
            .to = tc->to,
            .from = tc->from,
            .region = env->cfg->server.default_region,
            .crm_record_id = tc->crm_record_id,
            .provider_call_id = tc->call_sid,
        };
        struct cb_call_plan plan;
        struct cb_call_new c = {0};
        char id[CB_UUID_LEN + 1];
        bool created = false, same = false;
        enum cb_qs qs;

        if (!cb_calls_direction_parse(tc->direction, &rq.direction))
                return CB_QS_HARD_ERROR; /* a caller's bug: "inbound" or "outbound" */
        /* From the provider nothing is refused: no usable caller id leaves `from` NULL. */
        (void)cb_calls_plan(&rq, &plan);
        cb_uuid_v4(id);
        c.id = id;
        c.agent = plan.agent;
        c.direction = cb_calls_direction_name(plan.direction);
        c.from_e164 = plan.has_from ? plan.from : NULL;
        c.to_e164 = plan.to;
        c.crm_record_id = tc->crm_record_id;
        c.telephony = env->tel->ops->name;
        c.provider_call_id = tc->call_sid;
        c.crm = env->crm->ops->name;
        memcpy(c.request_hash, plan.request_hash, sizeof(c.request_hash));
        c.status = plan.created.status;
        c.job_kinds = plan.created.jobs;
        c.job_count = plan.created.job_count;
        qs = cb_call_batcher_insert(env->batcher, &c, id_out, &created, &same);
        if (qs >= 0 && created)
                cb_jobs_wake(env->jobs);
        return qs < 0 ? qs : CB_QS_ONE_RESULT;
}
