/* Job telephony.reconcile (periodic, [twilio] reconcile_interval_s): recover what lost
 * webhooks never told us. A provider delivers a status or recording callback a few times at
 * most; one that met a killed daemon or a 503 is gone. So, one instance at a time (a session
 * advisory lock on the job's connection; another instance finds it taken and leaves the work),
 * the calls not final [twilio] reconcile_after_s after their last change are looked up at the
 * provider and what it says goes through the status webhook's path (the state machine, its
 * once-per-status dedupe, the CRM finalisation it queues); completed calls with talk time and
 * recording on but no recording get the provider's recordings announced as the recording
 * webhook would (recording.fetch queued once per recording sid). Never fails: what could not
 * be asked now is asked again next time. */
#include <stdio.h>
#include <string.h>

#include "callbridge/events.h"
#include "callbridge/jobs.h"
#include "callbridge/log.h"
#include "callbridge/store_calls.h"
#include "callbridge/store_lifecycle.h"
#include "kinds.h"

#define LOCK_KEY "1667396722" /* "cbtr" */
#define BATCH    100

/* Feed the provider's status of one call through the webhook's path. */
static void reconcile_status(struct cb_job *job, struct cb_db *db, const char *call_id,
                             const char *sid)
{
        struct cb_telephony *tel = job->env->tel;
        struct cb_status_outcome out = {0};
        struct cb_status_event ev = {
            .call_id = call_id,
            .provider = tel->ops->name,
            .provider_call_id = sid,
            .missed_task = job->env->cfg->twilio.missed_call_task,
        };
        const struct cb_status_event *evs[1] = {&ev};
        json_t *data;
        char err[256];
        enum cb_qs qs;

        if (tel->ops->call_status(tel->self, sid, &ev.status, &ev.duration_s, err, sizeof(err)) !=
            CB_RESULT_OK) {
                cb_warn("reconcile: call %s: %s", call_id, err);
                return;
        }
        qs = cb_store_call_status_events(db, evs, 1, &out);
        if (qs < 0 || !out.advanced)
                return;
        cb_info("reconcile: call %s is %s at the provider (its webhook was lost)", call_id,
                cb_calls_status_name(ev.status));
        if (cb_calls_status_final(ev.status))
                cb_jobs_wake(job->env->jobs);
        data = json_pack("{s:s,s:s,s:s}", "call_id", call_id, "status",
                         cb_calls_status_name(ev.status), "direction", out.direction);
        if (data != NULL && ev.duration_s >= 0 && cb_calls_status_final(ev.status))
                json_object_set_new(data, "duration_s", json_integer(ev.duration_s));
        if (data != NULL)
                cb_events_publish(out.agent, "call_status", data);
        json_decref(data);
}

/* Announce the provider's recordings of one completed call, as the recording webhook. */
static void reconcile_recordings(struct cb_job *job, struct cb_db *db, const char *call_id,
                                 const char *sid)
{
        struct cb_telephony *tel = job->env->tel;
        json_t *recs = NULL, *rec;
        char err[256], call[CB_UUID_LEN + 1];
        size_t i;

        if (tel->ops->call_recordings(tel->self, sid, &recs, err, sizeof(err)) != CB_RESULT_OK) {
                cb_warn("reconcile: recordings of call %s: %s", call_id, err);
                return;
        }
        json_array_foreach(recs, i, rec)
        {
                struct cb_recording_new r = {
                    .call_id = call_id,
                    .provider = tel->ops->name,
                    .provider_call_id = sid,
                    .provider_sid = json_string_value(json_object_get(rec, "sid")),
                    .source_url = json_string_value(json_object_get(rec, "url")),
                    .duration_s = (long)json_integer_value(json_object_get(rec, "duration_s")),
                };
                bool created = false;

                if (cb_store_recording_announce(db, &r, call, &created) >= 0 && created) {
                        cb_info("reconcile: call %s: recording %s found at the provider "
                                "(its webhook was lost)",
                                call_id, r.provider_sid);
                        cb_jobs_wake(job->env->jobs);
                }
        }
        json_decref(recs);
}

enum cb_result cb_job_telephony_reconcile(struct cb_job *job)
{
        const struct cb_config *cfg = job->env->cfg;
        struct cb_telephony *tel = job->env->tel;
        bool recordings = cfg->twilio.record && tel->ops->call_recordings != NULL;
        json_t *rows = NULL, *row;
        struct cb_db *db;
        PGresult *res;
        bool locked;
        size_t i;

        if (tel->ops->call_status == NULL || cfg->twilio.reconcile_after_s <= 0)
                return CB_RESULT_OK;
        db = cb_job_db(job);
        if (db == NULL)
                return CB_RESULT_OK; /* the next run asks again */
        res = PQexec(cb_db_conn(db), "SELECT pg_try_advisory_lock(" LOCK_KEY ")");
        locked = PQresultStatus(res) == PGRES_TUPLES_OK && PQgetvalue(res, 0, 0)[0] == 't';
        PQclear(res);
        if (!locked) {
                cb_db_release(&db);
                return CB_RESULT_OK; /* another instance is reconciling */
        }
        if (cb_store_calls_to_reconcile(db, tel->ops->name, cfg->twilio.reconcile_after_s, BATCH,
                                        recordings, &rows) < 0)
                cb_warn("reconcile: cannot list the calls to reconcile");
        json_array_foreach(rows, i, row)
        {
                const char *id = json_string_value(json_array_get(row, 0));
                const char *sid = json_string_value(json_array_get(row, 1));
                const char *what = json_string_value(json_array_get(row, 2));

                if (strcmp(what, "status") == 0)
                        reconcile_status(job, db, id, sid);
                else
                        reconcile_recordings(job, db, id, sid);
        }
        json_decref(rows);
        PQclear(PQexec(cb_db_conn(db), "SELECT pg_advisory_unlock(" LOCK_KEY ")"));
        cb_db_release(&db);
        return CB_RESULT_OK;
}
