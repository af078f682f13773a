/* callbridge-sandbox: the Twilio emulation's state beside the placed calls, under the state
 * mutex of sb_state.c, and its control route:
 *
 *   POST /__sandbox/twilio/outcome {"to":"+1...|*","status","duration_s","answer_ms","talk_ms",
 *                                   "recording_duration_s","recording_sid","hold_create_ms"}
 *                                   → the outcome
 *
 *   GET  /__sandbox/summary        → (its "twilio") counts of calls by status, deliveries by kind
 * and outcome, redeliveries, recordings (bounded however many calls were placed) GET
 * /__sandbox/twilio/calls?Page=&PageSize=&To= → one page of twilio_calls, oldest first
 *
 * outcomes   {"<to>|*": {"status","duration_s","answer_ms","talk_ms",...}}
 * webhooks   [{"call_sid","kind","status"?,"url","http_status","sent_at","retry"?}] every
 *            delivery attempt ("retry": its number when it is a redelivery)
 * recordings {"<RE sid>": {"sid","call_sid","account_sid","duration","start_time",
 *                          "date_created","deleted"}} */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tw_emu.h"

#define MAX_DELAY_MS 600000L

static json_t *outcomes;
static json_t *webhooks;
static json_t *recordings;
static json_t *calls_by_sid; /* {"CA...": call} the entries of twilio_calls by sid */
static json_t *calls_by_to;  /* {"+1...": [call, ...]} by To, oldest first */
static unsigned long generation;
/* The counts of GET /__sandbox/summary, kept as the state changes so that answering costs
 * the same however many calls were placed. */
static json_t *count_status;  /* {"<status>": n} calls by their current status */
static json_t *count_hooks;   /* {"<kind> <2xx|error|no answer>": n} delivery attempts */
static json_int_t count_live; /* calls not yet in a final status */
static json_int_t count_retries, count_rec_deleted;

static const char *const final_statuses[] = {"completed", "busy", "no-answer", "failed",
                                             "canceled"};

static bool status_final(const char *status)
{
        for (size_t f = 0; f < sizeof(final_statuses) / sizeof(final_statuses[0]); f++) {
                if (strcmp(status, final_statuses[f]) == 0)
                        return true;
        }
        return false;
}

/* Add `delta` to obj[key]; out of memory: the count is off by one. */
static void count_add(json_t *obj, const char *key, json_int_t delta)
{
        json_t *n = json_object_get(obj, key);

        if (n)
                json_integer_set(n, json_integer_value(n) + delta);
        else if (obj)
                json_object_set_new(obj, key, json_integer(delta));
}

void tw_call_status_locked(json_t *call, const char *status)
{
        const char *old = json_string_value(json_object_get(call, "status"));

        if (old) {
                count_add(count_status, old, -1);
                count_live -= !status_final(old);
        }
        count_add(count_status, status, 1);
        count_live += !status_final(status);
}

void tw_recording_deleted_locked(void)
{
        count_rec_deleted++;
}

void sb_tw_state_clear_locked(void)
{
        json_decref(outcomes);
        json_decref(webhooks);
        json_decref(recordings);
        json_decref(calls_by_sid);
        json_decref(calls_by_to);
        json_decref(count_status);
        json_decref(count_hooks);
        outcomes = webhooks = recordings = calls_by_sid = calls_by_to = NULL;
        count_status = count_hooks = NULL;
        count_live = count_retries = count_rec_deleted = 0;
        tw_conf_clear_locked();
}

int sb_tw_state_reset_locked(void)
{
        sb_tw_state_clear_locked();
        generation++;
        outcomes = json_object();
        webhooks = json_array();
        recordings = json_object();
        calls_by_sid = json_object();
        calls_by_to = json_object();
        count_status = json_object();
        count_hooks = json_object();
        tw_conf_reset_locked();
        if (!outcomes || !webhooks || !recordings || !calls_by_sid || !calls_by_to ||
            !count_status || !count_hooks) {
                sb_tw_state_clear_locked();
                return -1;
        }
        return 0;
}

int sb_tw_state_snapshot_locked(json_t *snap)
{
        json_t *recs = json_array(), *rec;
        const char *sid;
        int bad = 0;

        json_object_foreach(recordings, sid, rec)
        {
                bad |= json_array_append(recs, rec);
        }
        bad |= json_object_set_new(snap, "twilio_webhooks", json_deep_copy(webhooks));
        bad |= json_object_set_new(snap, "twilio_recordings", json_deep_copy(recs));
        json_decref(recs);
        return bad ? -1 : 0;
}

unsigned long tw_generation_locked(void)
{
        return generation;
}

json_t *tw_call_find_locked(const char *sid)
{
        return json_object_get(calls_by_sid, sid);
}

json_t *tw_calls_to_locked(const char *to)
{
        return json_object_get(calls_by_to, to);
}

int tw_call_add_locked(json_t *call)
{
        json_t *calls = sb_state_twilio_calls_locked(), *same;
        const char *sid = json_string_value(json_object_get(call, "sid"));
        const char *to = json_string_value(json_object_get(call, "to"));
        int rc = -1;

        if (!calls || !calls_by_sid || !calls_by_to || !sid || !to)
                goto out;
        same = json_object_get(calls_by_to, to);
        if (!same && json_object_set_new(calls_by_to, to, same = json_array()) != 0)
                goto out;
        if (json_array_append(calls, call) != 0)
                goto out;
        /* Both indexes or neither: a call listed but not found would confuse the driver. */
        if (json_object_set(calls_by_sid, sid, call) != 0 || json_array_append(same, call) != 0) {
                json_object_del(calls_by_sid, sid);
                json_array_remove(calls, json_array_size(calls) - 1);
                goto out;
        }
        count_add(count_status, json_string_value(json_object_get(call, "status")) ?: "?", 1);
        count_live += !status_final(json_string_value(json_object_get(call, "status")) ?: "?");
        rc = 0;
out:
        json_decref(call);
        return rc;
}

void tw_outcome_for_locked(const char *to, struct tw_outcome *out)
{
        json_t *o = json_object_get(outcomes, to);
        json_t *rd;

        if (!o)
                o = json_object_get(outcomes, "*");
        memset(out, 0, sizeof(*out));
        snprintf(out->status, sizeof(out->status), "completed");
        out->duration_s = 7;
        out->recording_duration = -1;
        if (!o)
                return;
        snprintf(out->status, sizeof(out->status), "%s",
                 json_string_value(json_object_get(o, "status")));
        out->duration_s = (long)json_integer_value(json_object_get(o, "duration_s"));
        out->answer_ms = (long)json_integer_value(json_object_get(o, "answer_ms"));
        out->talk_ms = (long)json_integer_value(json_object_get(o, "talk_ms"));
        rd = json_object_get(o, "recording_duration_s");
        out->recording_duration = rd ? (long)json_integer_value(rd) : -1;
        snprintf(out->recording_sid, sizeof(out->recording_sid), "%s",
                 json_string_value(json_object_get(o, "recording_sid")) ?: "");
        out->hold_create_ms = (long)json_integer_value(json_object_get(o, "hold_create_ms"));
}

void tw_webhook_log_locked(const char *call_sid, const char *kind, const char *status,
                           const char *url, long http_status, long attempt)
{
        char now[TW_DATE_LEN], key[64];
        json_t *entry;

        if (!webhooks)
                return;
        snprintf(key, sizeof(key), "%s %s", kind,
                 http_status >= 200 && http_status < 300 ? "2xx"
                 : http_status == 0                      ? "no answer"
                                                         : "error");
        count_add(count_hooks, key, 1);
        count_retries += attempt > 0;
        tw_date(time(NULL), now);
        entry = json_pack("{s:s,s:s,s:s,s:i,s:s}", "call_sid", call_sid, "kind", kind, "url", url,
                          "http_status", (int)http_status, "sent_at", now);
        if (entry && status)
                json_object_set_new(entry, "status", json_string(status));
        if (entry && attempt > 0)
                json_object_set_new(entry, "retry", json_integer(attempt));
        if (entry)
                json_array_append_new(webhooks, entry);
}

void tw_recording_add_locked(json_t *rec)
{
        const char *sid = json_string_value(json_object_get(rec, "sid"));

        if (recordings && sid) {
                /* A replaced deleted recording no longer counts as deleted. */
                count_rec_deleted -=
                    json_is_true(json_object_get(json_object_get(recordings, sid), "deleted"));
                json_object_set(recordings, sid, rec);
        }
        json_decref(rec);
}

json_t *tw_recording_find_locked(const char *sid)
{
        return json_object_get(recordings, sid);
}

/* ---- POST /__sandbox/twilio/outcome ----------------------------------------------------- */

/* A whole number in [0,max] from `doc` into *out (absent: `def`). False when invalid. */
static bool whole(json_t *doc, const char *name, long max, long def, long *out)
{
        json_t *v = json_object_get(doc, name);

        *out = def;
        if (!v)
                return true;
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
                return false;
        *out = (long)json_integer_value(v);
        return true;
}

static bool status_ok(const char *s)
{
        return s && cb_choice_match("completed|busy|no-answer|failed|canceled", s, false);
}

/* Validate an outcome document into a new normalised JSON object; NULL after a 400. */
static json_t *outcome_parse(json_t *doc, struct sb_reply *reply)
{
        static const char *const keys[] = {"to",
                                           "status",
                                           "duration_s",
                                           "answer_ms",
                                           "talk_ms",
                                           "recording_duration_s",
                                           "recording_sid",
                                           "hold_create_ms",
                                           NULL};
        const char *key, *status = "completed", *rsid = NULL;
        long dur, ans, talk, rdur, hold;
        char sid[TW_SID_LEN + 1], ext[8];
        json_t *val, *out;

        json_object_foreach(doc, key, val)
        {
                size_t i;
                for (i = 0; keys[i] && strcmp(keys[i], key) != 0; i++)
                        ;
                if (!keys[i]) {
                        sb_reply_error(reply, 400, "unknown_field", "unknown field \"%s\"", key);
                        return NULL;
                }
        }
        if (json_object_get(doc, "status"))
                status = json_string_value(json_object_get(doc, "status"));
        if (json_object_get(doc, "recording_sid")) {
                char path[64];
                rsid = json_string_value(json_object_get(doc, "recording_sid"));
                snprintf(path, sizeof(path), "/%s", rsid ? rsid : "");
                if (!rsid || !tw_path_sid(path, "RE", sid, ext) || ext[0]) {
                        sb_reply_error(reply, 400, "invalid_field",
                                       "recording_sid must be RE + 32 hex digits");
                        return NULL;
                }
        }
        if (!status_ok(status) || !whole(doc, "duration_s", TW_MAX_DURATION, 7, &dur) ||
            !whole(doc, "answer_ms", MAX_DELAY_MS, 0, &ans) ||
            !whole(doc, "talk_ms", MAX_DELAY_MS, 0, &talk) ||
            !whole(doc, "recording_duration_s", TW_MAX_DURATION, -1, &rdur) ||
            !whole(doc, "hold_create_ms", MAX_DELAY_MS, 0, &hold)) {
                sb_reply_error(reply, 400, "invalid_field",
                               "status must be completed|busy|no-answer|failed|canceled; "
                               "duration_s and recording_duration_s whole seconds 0-%d; "
                               "answer_ms, talk_ms and hold_create_ms whole milliseconds 0-%ld",
                               TW_MAX_DURATION, MAX_DELAY_MS);
                return NULL;
        }
        if (strcmp(status, "completed") != 0)
                dur = 0; /* an unanswered call has no duration */
        out = json_pack("{s:s,s:I,s:I,s:I}", "status", status, "duration_s", (json_int_t)dur,
                        "answer_ms", (json_int_t)ans, "talk_ms", (json_int_t)talk);
        if (out && rdur >= 0)
                json_object_set_new(out, "recording_duration_s", json_integer(rdur));
        if (out && rsid)
                json_object_set_new(out, "recording_sid", json_string(rsid));
        if (out && hold > 0)
                json_object_set_new(out, "hold_create_ms", json_integer(hold));
        if (!out)
                sb_reply_error(reply, 500, "internal", "out of memory");
        return out;
}

void sb_tw_control_outcome(const struct sb_request *req, struct sb_reply *reply)
{
        json_t *doc = sb_request_json(req, reply), *outcome = NULL;
        const char *to;
        int rc = -1;

        if (!doc)
                return;
        to = json_string_value(json_object_get(doc, "to"));
        if (!json_is_object(doc) || !to || !to[0]) {
                sb_reply_error(reply, 400, "missing_field", "to is required (a number or \"*\")");
                goto out;
        }
        outcome = outcome_parse(doc, reply);
        if (!outcome)
                goto out;
        sb_state_lock();
        if (outcomes)
                rc = json_object_set(outcomes, to, outcome);
        sb_state_unlock();
        if (rc != 0) {
                sb_reply_error(reply, 500, "internal", "out of memory");
                goto out;
        }
        json_object_set_new(outcome, "to", json_string(to));
        sb_reply_json_take(reply, 200, json_incref(outcome));
out:
        json_decref(outcome);
        json_decref(doc);
}

/* ---- the Twilio counts of GET /__sandbox/summary, GET /__sandbox/twilio/calls
 * ------------------------- */

/* A copy of a counts object without its zero counts (new reference). */
static json_t *nonzero(json_t *counts)
{
        json_t *out = json_object(), *n;
        const char *key;

        json_object_foreach(counts, key, n)
        {
                if (json_integer_value(n) != 0)
                        json_object_set_new(out, key, json_integer(json_integer_value(n)));
        }
        return out;
}

json_t *sb_tw_state_summary_locked(void)
{
        if (!count_status || !count_hooks)
                return NULL;
        return json_pack("{s:I,s:o,s:I,s:I,s:o,s:I,s:I,s:I}", "calls",
                         (json_int_t)json_array_size(sb_state_twilio_calls_locked()),
                         "calls_by_status", nonzero(count_status), "calls_live", count_live,
                         "webhooks", (json_int_t)json_array_size(webhooks), "webhooks_by_outcome",
                         nonzero(count_hooks), "webhook_retries", count_retries, "recordings",
                         (json_int_t)json_object_size(recordings), "recordings_deleted",
                         count_rec_deleted);
}

void sb_tw_control_calls(const struct sb_request *req, struct sb_reply *reply)
{
        const char *ps = sb_request_query(req, "PageSize"), *pg = sb_request_query(req, "Page");
        const char *to = sb_request_query(req, "To");
        long size = 100, page = 0;
        json_t *page_calls = json_array(), *all;
        size_t total;

        if ((ps && !cb_parse_long(ps, 1, 1000, &size)) ||
            (pg && !cb_parse_long(pg, 0, 10000000, &page)) || !page_calls) {
                sb_reply_error(reply, 400, "invalid_field", "PageSize 1-1000, Page >= 0");
                json_decref(page_calls);
                return;
        }
        sb_state_lock();
        all = to ? tw_calls_to_locked(to) : sb_state_twilio_calls_locked();
        total = json_array_size(all);
        for (size_t i = (size_t)(page * size); i < total && i < (size_t)((page + 1) * size); i++)
                json_array_append_new(page_calls, json_deep_copy(json_array_get(all, i)));
        sb_state_unlock();
        sb_reply_json_take(reply, 200,
                           json_pack("{s:o,s:I,s:I,s:I}", "calls", page_calls, "page",
                                     (json_int_t)page, "page_size", (json_int_t)size, "total",
                                     (json_int_t)total));
}
