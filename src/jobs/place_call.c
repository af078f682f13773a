/* Job telephony.place_call: ask the telephony provider to dial the call, once.
 *
 * A call is never placed twice: when the call already has a provider id (stored by an earlier
 * attempt or by a status callback, whose URL names the call) there is nothing to do, and a
 * retry first asks the provider for calls to the same numbers that no call of ours claims yet
 * — an earlier attempt may have reached the provider before it timed out. */
#include <stdio.h>
#include <string.h>

#include "callbridge/jobs.h"
#include "callbridge/log.h"
#include "callbridge/phone.h"
#include "callbridge/store_calls.h"
#include "callbridge/store_lifecycle.h"
#include "kinds.h"

/* Store the provider's id on the call. RETRY when the database cannot say. */
static enum cb_result store_id(struct cb_job *job, const char *provider_id)
{
        struct cb_db *db = cb_job_db(job);
        enum cb_qs qs;

        if (db == NULL)
                return CB_RESULT_RETRY;
        qs = cb_store_call_set_provider_id(db, job->row->call_id, provider_id);
        cb_db_release(&db);
        if (qs < 0) {
                snprintf(job->error, sizeof(job->error), "storing the provider call id failed");
                return CB_RESULT_RETRY;
        }
        return CB_RESULT_OK;
}

/* A call placed by an earlier attempt, found at the provider: OK with `found` set (or "" when
 * there is none), RETRY when the provider or the database cannot tell. */
static enum cb_result find_earlier(struct cb_job *job, const struct cb_call *call, char *found,
                                   size_t size)
{
        struct cb_telephony *tel = job->env->tel;
        struct cb_buf arr = {.max = (size_t)64 * 1024};
        json_t *ids = NULL, *claimed = NULL, *v;
        struct cb_db *db = NULL;
        enum cb_result r;
        size_t i, k;

        found[0] = '\0';
        r = tel->ops->find_placed(tel->self, call, &ids, job->error, sizeof(job->error));
        if (r != CB_RESULT_OK || json_array_size(ids) == 0)
                goto out;
        cb_buf_puts(&arr, "{");
        json_array_foreach(ids, i, v)
            cb_buf_printf(&arr, "%s\"%s\"", i ? "," : "", json_string_value(v));
        if (cb_buf_puts(&arr, "}") != 0 || (db = cb_job_db(job)) == NULL ||
            cb_store_provider_ids_claimed(db, tel->ops->name, arr.data, &claimed) < 0) {
                snprintf(job->error, sizeof(job->error), "cannot check earlier placements");
                r = CB_RESULT_RETRY;
                goto out;
        }
        json_array_foreach(ids, i, v)
        {
                bool taken = false;
                json_t *c;
                json_array_foreach(claimed, k, c) taken = taken || json_equal(c, v);
                if (!taken) {
                        cb_strlcpy(found, json_string_value(v), size);
                        break;
                }
        }
out:
        cb_db_release(&db);
        json_decref(ids);
        json_decref(claimed);
        cb_buf_free(&arr);
        return r;
}

/* Twilio dials an outbound call that names no `from` from [twilio] caller_id: the call's
 * `from` says so (the CRM log and GET /api/calls/{id} show it). A failure only logs: the call
 * is placed all the same. */
static void store_from(struct cb_job *job, const struct cb_call *call)
{
        const char *caller_id = job->env->cfg->twilio.caller_id;
        char e164[CB_E164_MAX];
        struct cb_db *db;

        if (call->from[0] != '\0' || call->direction != CB_CALL_OUTBOUND ||
            strcmp(job->env->tel->ops->name, "twilio") != 0 || caller_id == NULL ||
            cb_phone_to_e164(caller_id, NULL, e164, sizeof(e164)) != 0)
                return;
        db = cb_job_db(job);
        if (db == NULL || cb_store_call_set_from(db, job->row->call_id, e164) < 0)
                cb_warn("call %s: could not record the caller id it was dialled from",
                        job->row->call_id);
        cb_db_release(&db);
}

enum cb_result cb_job_place_call(struct cb_job *job)
{
        struct cb_telephony *tel = job->env->tel;
        char provider_id[128] = "";
        struct cb_call call;
        enum cb_result r = cb_job_load_call(job, &call);

        if (r != CB_RESULT_OK)
                return r;
        if (call.provider_call_id[0] != '\0' || call.status != CB_CALL_QUEUED)
                return r; /* placed already: the provider has reported on it */
        if (job->row->attempts > 1 && tel->ops->find_placed != NULL) {
                r = find_earlier(job, &call, provider_id, sizeof(provider_id));
                if (r != CB_RESULT_OK)
                        return r;
                if (provider_id[0] != '\0') {
                        cb_info("call %s: adopting %s placed by an earlier attempt",
                                job->row->call_id, provider_id);
                        r = store_id(job, provider_id);
                        if (r == CB_RESULT_OK)
                                store_from(job, &call);
                        return r;
                }
        }
        r = tel->ops->place_call(tel->self, &call, provider_id, sizeof(provider_id), job->error,
                                 sizeof(job->error));
        if (r == CB_RESULT_OK && provider_id[0] != '\0')
                r = store_id(job, provider_id);
        if (r == CB_RESULT_OK)
                store_from(job, &call);
        return r;
}

/* The provider refused the call for good: the call failed, and its CRM log says so; it counts
 * as a call that ended unanswered (/metrics). */
void cb_job_place_call_dead(struct cb_job *job)
{
        struct cb_db *db = cb_db_acquire(job->env->pool, 2000);
        enum cb_qs qs = db != NULL ? cb_store_call_fail(db, job->row->call_id) : CB_QS_SOFT_ERROR;
        struct cb_call call;

        if (qs < 0)
                cb_warn("could not mark call %s as failed", job->row->call_id);
        if (qs == CB_QS_ONE_RESULT && cb_store_call_load(db, job->row->call_id, &call) > 0) {
                struct cb_call_sample s = {
                    .agent = call.agent,
                    .direction = call.direction,
                    .outcome = cb_calls_outcome(call.direction, call.status, call.answered_us != 0),
                    .wait_s = -1,
                    .talk_s = -1,
                };
                cb_calls_metrics_observe(&s);
        }
        cb_db_release(&db);
}
