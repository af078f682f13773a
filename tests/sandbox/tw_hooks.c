/* callbridge-sandbox: what a played call sends and records — the parameters of its status
 * callbacks, the updates to its entry in the state (under the state lock, abandoned after a
 * reset), and the recording stored at its end with its callback. Used by the call driver
 * (tw_driver.c). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "callbridge/util.h"
#include "tw_emu.h"

/* ---- parameters ------------------------------------------------------------------------- */

/* Add name=value; a failure is remembered in *rc. */
static void add(struct cb_form *f, const char *name, const char *value, int *rc)
{
        *rc |= cb_form_add(f, name, value);
}

static void add_long(struct cb_form *f, const char *name, long value, int *rc)
{
        char num[32];

        snprintf(num, sizeof(num), "%ld", value);
        add(f, name, num, rc);
}

/* The parameters every call webhook carries. */
void tw_call_params(const struct tw_job *job, const char *call_status, struct cb_form *f, int *rc)
{
        add(f, "AccountSid", job->account, rc);
        add(f, "ApiVersion", TW_API_VERSION, rc);
        add(f, "CallSid", job->sid, rc);
        add(f, "CallStatus", call_status, rc);
        add(f, "Called", job->to, rc);
        add(f, "Caller", job->from, rc);
        add(f, "Direction", "outbound-api", rc);
        add(f, "From", job->from, rc);
        add(f, "To", job->to, rc);
}

/* A status callback for `status` with this SequenceNumber; the final one carries the
 * durations (`duration` >= 0). False when out of memory (hk->params then freed). */
bool tw_status_hook(const struct tw_job *job, const char *status, unsigned seq, long duration,
                    struct tw_hook *hk)
{
        char now[TW_DATE_LEN];
        int rc = 0;

        memset(hk, 0, sizeof(*hk));
        hk->kind = "status";
        snprintf(hk->status, sizeof(hk->status), "%s", status);
        hk->url = job->status_cb;
        hk->method = job->status_cb_method;
        tw_date(time(NULL), now);
        tw_call_params(job, status, &hk->params, &rc);
        add(&hk->params, "Timestamp", now, &rc);
        add(&hk->params, "CallbackSource", "call-progress-events", &rc);
        add_long(&hk->params, "SequenceNumber", (long)seq, &rc);
        if (duration >= 0) {
                add_long(&hk->params, "CallDuration", duration, &rc);
                add_long(&hk->params, "Duration", (duration + 59) / 60, &rc);
        }
        if (rc != 0)
                cb_form_free(&hk->params);
        return rc == 0;
}

/* ---- state updates ---------------------------------------------------------------------- */

/* Set `key` on the call's entry (value stolen); false when the call was abandoned. */
bool tw_call_set(const struct tw_job *job, const char *key, json_t *value)
{
        json_t *call;
        bool current;

        sb_state_lock();
        current = tw_generation_locked() == job->generation;
        call = current ? tw_call_find_locked(job->sid) : NULL;
        if (call) {
                char now[TW_DATE_LEN];
                tw_date(time(NULL), now);
                if (strcmp(key, "status") == 0 && json_is_string(value))
                        tw_call_status_locked(call, json_string_value(value));
                json_object_set(call, key, value);
                json_object_set_new(call, "date_updated", json_string(now));
                if (strcmp(key, "start_time") == 0)
                        json_object_set_new(json_object_get(call, "sandbox"), "started_at",
                                            json_integer((json_int_t)time(NULL)));
        }
        sb_state_unlock();
        json_decref(value);
        return current;
}

bool tw_call_set_now(const struct tw_job *job, const char *key)
{
        char now[TW_DATE_LEN];

        tw_date(time(NULL), now);
        return tw_call_set(job, key, json_string(now));
}

/* Store the recording of a completed call; returns its duration, -1 when abandoned. */
static long recording_store(const struct tw_job *job, const char *sid, time_t started)
{
        long dur = job->outcome.recording_duration >= 0 ? job->outcome.recording_duration
                                                        : job->outcome.duration_s;
        char start[TW_DATE_LEN], now[TW_DATE_LEN];
        json_t *rec;

        tw_date(started, start);
        tw_date(time(NULL), now);
        rec = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:b}", "sid", sid, "call_sid", job->sid,
                        "account_sid", job->account, "duration", (json_int_t)dur, "start_time",
                        start, "date_created", now, "deleted", 0);
        if (!tw_call_set(job, "recording_sid", json_string(sid))) {
                json_decref(rec);
                return -1;
        }
        sb_state_lock();
        if (rec && tw_generation_locked() == job->generation)
                tw_recording_add_locked(json_incref(rec));
        sb_state_unlock();
        json_decref(rec);
        return dur;
}

/* The sid of the recording that ran since the answer, else the outcome's, else a new one. */
static void running_recording_sid(const struct tw_job *job, char sid[TW_SID_LEN + 1])
{
        const char *got;

        sb_state_lock();
        got = json_string_value(json_object_get(
            json_object_get(json_object_get(tw_call_find_locked(job->sid), "sandbox"), "recording"),
            "sid"));
        if (got != NULL && tw_generation_locked() == job->generation)
                snprintf(sid, TW_SID_LEN + 1, "%s", got);
        else if (job->outcome.recording_sid[0])
                snprintf(sid, TW_SID_LEN + 1, "%s", job->outcome.recording_sid);
        else
                tw_new_sid("RE", sid);
        sb_state_unlock();
}

/* Store the recording and send its status callback when one was asked for. */
bool tw_record_call(CURL *curl, const struct tw_job *job, time_t started)
{
        char sid[TW_SID_LEN + 1], url[512], start[TW_DATE_LEN];
        struct tw_hook hk = {.kind = "recording"};
        long dur;
        int rc = 0;
        bool ok;

        running_recording_sid(job, sid);
        dur = recording_store(job, sid, started);
        if (dur < 0)
                return false;
        if (!job->rec_cb || !job->rec_completed)
                return true;
        hk.url = job->rec_cb;
        hk.method = job->rec_cb_method;
        snprintf(url, sizeof(url), "%s" TW_PREFIX "%s/Recordings/%s", tw_base_url(), job->account,
                 sid);
        tw_date(started, start);
        add(&hk.params, "AccountSid", job->account, &rc);
        add(&hk.params, "CallSid", job->sid, &rc);
        add(&hk.params, "RecordingSid", sid, &rc);
        add(&hk.params, "RecordingUrl", url, &rc);
        add(&hk.params, "RecordingStatus", "completed", &rc);
        add_long(&hk.params, "RecordingDuration", dur, &rc);
        add(&hk.params, "RecordingChannels", "1", &rc);
        add(&hk.params, "RecordingSource", "OutboundAPI", &rc);
        add(&hk.params, "RecordingStartTime", start, &rc);
        add(&hk.params, "ErrorCode", "0", &rc);
        ok = rc == 0 && tw_deliver(curl, job, &hk, NULL);
        cb_form_free(&hk.params);
        return ok;
}
