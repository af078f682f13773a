/* Shared by the Twilio webhook handlers: the calls Twilio reports first. */
#include <string.h>

#include "callbridge/jobs.h"
#include "callbridge/phone.h"
#include "callbridge/store.h"
#include "http/twilio_calls.h"

enum cb_qs cb_twilio_call_create(struct cb_http_env *env, const struct cb_twilio_call *tc,
                                 char id_out[CB_UUID_LEN + 1])
{
        static const char *const jobs[] = {CB_JOB_LOG_CALL};
        const char *region = env->cfg->server.default_region;
        struct cb_call_new c = {0};
        char id[CB_UUID_LEN + 1];
        char from[32], to[32];
        bool created = false, same = false;
        enum cb_qs qs;

        cb_uuid_v4(id);
        c.id = id;
        c.agent = tc->agent;
        c.direction = tc->direction;
        /* A caller id Twilio cannot give ("anonymous") leaves `from` empty; `to` is always
         * our number or the one the softphone dialled. */
        c.from_e164 =
            tc->from && cb_phone_to_e164(tc->from, region, from, sizeof(from)) == 0 ? from : NULL;
        if (tc->to == NULL || cb_phone_to_e164(tc->to, region, to, sizeof(to)) != 0)
                cb_strlcpy(to, "unknown", sizeof(to));
        c.to_e164 = to;
        c.crm_record_id = tc->crm_record_id;
        c.telephony = env->tel->ops->name;
        c.provider_call_id = tc->call_sid;
        c.crm = env->crm->ops->name;
        cb_sha256(tc->call_sid, strlen(tc->call_sid), c.request_hash);
        c.job_kinds = jobs;
        c.job_count = CB_ARRAY_LEN(jobs);
        qs = cb_call_batcher_insert(env->batcher, &c, id_out, &created, &same);
        if (qs >= 0 && created)
                cb_jobs_wake(env->jobs);
        return qs < 0 ? qs : CB_QS_ONE_RESULT;
}
