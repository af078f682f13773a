/* callbridge-sandbox: Twilio's Calls resource.
 *
 *   POST /2010-04-01/Accounts/{AC}/Calls.json       place a call (form body) → 201 Call JSON
 *   GET  /2010-04-01/Accounts/{AC}/Calls.json       list, newest first, with Twilio's filters
 *   GET  /2010-04-01/Accounts/{AC}/Calls/{CA}.json  one call
 *   GET  /2010-04-01/Accounts/{AC}/Calls/{CA}/Recordings.json  the call's recordings
 *
 * A placed call is stored in twilio_calls and handed to the driver (tw_driver.c), which plays
 * it and sends its webhooks. Validation errors use Twilio's codes (see README). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbridge/util.h"
#include "tw_emu.h"

#define DEFAULT_PAGE_SIZE 50
#define MAX_PAGE_SIZE     1000

/* A validation failure: Twilio error code and message. */
struct verdict {
        int code;
        char message[256];
};

static bool reject(struct verdict *v, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool reject(struct verdict *v, int code, const char *fmt, ...)
{
        va_list ap;

        v->code = code;
        va_start(ap, fmt);
        vsnprintf(v->message, sizeof(v->message), fmt, ap);
        va_end(ap);
        return false;
}

static bool method_ok(const char *m)
{
        return !m || strcmp(m, "GET") == 0 || strcmp(m, "POST") == 0;
}

/* OR the events named by every `name` parameter (space-separated values allowed) into *mask.
 * False on an unknown event. `choices` maps index i to bit 1<<i. */
static bool events(const struct cb_form *form, const char *name, const char *const *choices,
                   unsigned *mask, bool *given)
{
        for (size_t i = 0; i < form->n; i++) {
                const char *p = form->p[i].value;
                if (strcmp(form->p[i].name, name) != 0)
                        continue;
                *given = true;
                while (*p) {
                        size_t n = strcspn(p, " ,"), k;
                        for (k = 0; choices[k]; k++) {
                                if (strlen(choices[k]) == n && strncmp(choices[k], p, n) == 0)
                                        break;
                        }
                        if (n && !choices[k])
                                return false;
                        if (n)
                                *mask |= 1u << k;
                        p += n;
                        p += strspn(p, " ,");
                }
        }
        return true;
}

/* Copy an optional parameter into *dst; false when out of memory. */
static bool take(const struct cb_form *form, const char *name, const char *def, char **dst)
{
        const char *v = cb_form_get(form, name);

        if (!v || !v[0])
                v = def;
        if (!v)
                return true;
        *dst = strdup(v);
        return *dst != NULL;
}

/* Check the create parameters like Twilio does, in its order, and fill `job`. */
static bool validate(const struct cb_form *f, struct tw_job *job, struct verdict *v)
{
        static const char *const call_ev[] = {"initiated", "ringing", "answered", "completed",
                                              NULL};
        static const char *const rec_ev[] = {"in-progress", "completed", "absent", NULL};
        const char *to = cb_form_get(f, "To"), *from = cb_form_get(f, "From");
        const char *url = cb_form_get(f, "Url"), *sc = cb_form_get(f, "StatusCallback");
        const char *rec = cb_form_get(f, "Record"),
                   *rsc = cb_form_get(f, "RecordingStatusCallback");
        int sources = (url != NULL) + (cb_form_get(f, "Twiml") != NULL) +
                      (cb_form_get(f, "ApplicationSid") != NULL);
        bool given = false;
        unsigned rec_mask = 0;

        if (!to || !to[0])
                return reject(v, 21201, "No 'To' number is specified");
        if (!from || !from[0])
                return reject(v, 21213, "No 'From' number is specified");
        if (sources == 0)
                return reject(v, 21205, "Url parameter is required.");
        if (sources > 1)
                return reject(v, 21205, "Only one of Url, Twiml or ApplicationSid may be given.");
        if (url && !tw_url_ok(url))
                return reject(v, 21205, "Url is not a valid URL: %s", url);
        if (!method_ok(cb_form_get(f, "Method")))
                return reject(v, 21209, "Method is not valid: %s", cb_form_get(f, "Method"));
        if (sc && !tw_url_ok(sc))
                return reject(v, 21609, "StatusCallback is not a valid URL: %s", sc);
        if (!method_ok(cb_form_get(f, "StatusCallbackMethod")))
                return reject(v, 21209, "StatusCallbackMethod is not valid: %s",
                              cb_form_get(f, "StatusCallbackMethod"));
        if (!events(f, "StatusCallbackEvent", call_ev, &job->events, &given))
                return reject(v, 21626, "Invalid StatusCallbackEvents");
        if (!given)
                job->events = TW_EV_COMPLETED; /* Twilio's default */
        if (rec && strcmp(rec, "true") != 0 && strcmp(rec, "false") != 0)
                return reject(v, 20001, "Record must be true or false: %s", rec);
        if (rsc && !tw_url_ok(rsc))
                return reject(v, 13256, "RecordingStatusCallback is not a valid URL: %s", rsc);
        if (!method_ok(cb_form_get(f, "RecordingStatusCallbackMethod")))
                return reject(v, 21209, "RecordingStatusCallbackMethod is not valid: %s",
                              cb_form_get(f, "RecordingStatusCallbackMethod"));
        given = false;
        if (!events(f, "RecordingStatusCallbackEvent", rec_ev, &rec_mask, &given))
                return reject(v, 13621, "Invalid RecordingStatusCallbackEvent");
        job->rec_completed = !given || (rec_mask & 2u);
        job->record = rec && strcmp(rec, "true") == 0;
        if (!take(f, "To", NULL, &job->to) || !take(f, "From", NULL, &job->from) ||
            !take(f, "Url", NULL, &job->url) || !take(f, "Method", "POST", &job->method) ||
            !take(f, "StatusCallback", NULL, &job->status_cb) ||
            !take(f, "StatusCallbackMethod", "POST", &job->status_cb_method) ||
            !take(f, "RecordingStatusCallback", NULL, &job->rec_cb) ||
            !take(f, "RecordingStatusCallbackMethod", "POST", &job->rec_cb_method))
                return reject(v, 20500, "An internal server error has occurred");
        return true;
}

/* "(415) 867-5309" for a North American E.164 number, else the number itself. */
static void formatted(const char *num, char out[64])
{
        if (strlen(num) == 12 && strncmp(num, "+1", 2) == 0 && strspn(num + 1, "0123456789") == 11)
                snprintf(out, 64, "(%.3s) %.3s-%.4s", num + 2, num + 5, num + 8);
        else
                snprintf(out, 64, "%s", num);
}

/* The request's parameters as {"Name":"value"} ({"Name":[...]} when repeated). */
static json_t *params_json(const struct cb_form *f)
{
        json_t *obj = json_object();

        for (size_t i = 0; obj && i < f->n; i++) {
                json_t *old = json_object_get(obj, f->p[i].name);
                if (json_is_array(old)) {
                        json_array_append_new(old, json_string(f->p[i].value));
                } else if (old) {
                        json_object_set_new(obj, f->p[i].name,
                                            json_pack("[O,s]", old, f->p[i].value));
                } else {
                        json_object_set_new(obj, f->p[i].name, json_string(f->p[i].value));
                }
        }
        return obj;
}

/* The stored entry of a new call: Twilio's Call JSON + twiml, recording_sid, sandbox. NULL
 * when out of memory. */
static json_t *call_entry(const struct tw_job *job, const struct cb_form *f)
{
        static const char *const nulls[] = {"annotation",       "answered_by",
                                            "caller_name",      "duration",
                                            "end_time",         "forwarded_from",
                                            "group_sid",        "parent_call_sid",
                                            "phone_number_sid", "price",
                                            "start_time",       "trunk_sid",
                                            "recording_sid",    NULL};
        char now[TW_DATE_LEN], base[128], to_f[64], from_f[64];
        const char *twiml = cb_form_get(f, "Twiml");
        time_t t = time(NULL);
        json_t *e, *subs;
        int bad = 0;

        tw_date(t, now);
        formatted(job->to, to_f);
        formatted(job->from, from_f);
        snprintf(base, sizeof(base), TW_PREFIX "%s/Calls/%s", job->account, job->sid);
        e = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s+,s:s?}", "account_sid",
                      job->account, "api_version", TW_API_VERSION, "date_created", now,
                      "date_updated", now, "direction", "outbound-api", "from", job->from,
                      "from_formatted", from_f, "price_unit", "USD", "queue_time", "0", "sid",
                      job->sid, "status", "queued", "to", job->to, "uri", base, ".json", "twiml",
                      twiml);
        subs = json_pack("{s:s+,s:s+,s:s+,s:s+,s:s+}", "notifications", base, "/Notifications.json",
                         "recordings", base, "/Recordings.json", "events", base, "/Events.json",
                         "siprec", base, "/Siprec.json", "streams", base, "/Streams.json");
        if (!e || !subs) {
                json_decref(e);
                json_decref(subs);
                return NULL;
        }
        for (size_t i = 0; nulls[i]; i++)
                bad |= json_object_set_new(e, nulls[i], json_null());
        bad |= json_object_set_new(e, "to_formatted", json_string(to_f));
        bad |= json_object_set_new(e, "subresource_uris", subs);
        bad |= json_object_set_new(e, "sandbox",
                                   json_pack("{s:o,s:I,s:n,s:n}", "params", params_json(f),
                                             "created_at", (json_int_t)t, "started_at", "outcome"));
        if (bad) {
                json_decref(e);
                return NULL;
        }
        return e;
}

/* A copy of a stored call as the REST API shows it (sandbox keys removed). */
static json_t *call_view(json_t *entry)
{
        json_t *view = json_copy(entry);

        if (view) {
                json_object_del(view, "twiml");
                json_object_del(view, "recording_sid");
                json_object_del(view, "sandbox");
        }
        return view;
}

unsigned tw_calls_place(const struct sb_request *req, struct sb_reply *reply,
                        const struct cb_form *form, const char *account, struct tw_job **job_out,
                        json_t **view_out)
{
        struct tw_job *job = calloc(1, sizeof(*job));
        struct verdict v = {0};
        json_t *entry = NULL, *view = NULL;
        unsigned status = 500;
        bool stored;

        (void)req;
        *job_out = NULL;
        *view_out = NULL;
        if (!job)
                goto fail;
        snprintf(job->account, sizeof(job->account), "%s", account);
        if (!validate(form, job, &v)) {
                status = v.code == 20500 ? 500 : 400;
                tw_error(reply, status, v.code, "%s", v.message);
                tw_job_free(job);
                return status;
        }
        tw_new_sid("CA", job->sid);
        entry = call_entry(job, form);
        view = entry ? call_view(entry) : NULL;
        if (!view)
                goto fail;
        sb_state_lock();
        tw_outcome_for_locked(job->to, &job->outcome);
        job->generation = tw_generation_locked();
        json_object_set_new(json_object_get(entry, "sandbox"), "outcome",
                            json_string(job->outcome.status));
        stored = tw_call_add_locked(entry) == 0;
        sb_state_unlock();
        entry = NULL;
        if (!stored)
                goto fail;
        *job_out = job;
        *view_out = view;
        return 0;
fail:
        json_decref(entry);
        json_decref(view);
        tw_job_free(job);
        tw_error(reply, 500, 20500, "An internal server error has occurred");
        return 500;
}

void sb_tw_calls_create(const struct sb_request *req, struct sb_reply *reply)
{
        struct cb_form form = {0};
        struct tw_job *job = NULL;
        char account[TW_SID_LEN + 1];
        json_t *view = NULL;

        if (!tw_auth(req, reply, account))
                return;
        if (cb_form_parse(&form, req->body, req->body_len) != 0) {
                tw_error(reply, 400, 20001, "The request body is not a valid form");
                return;
        }
        if (tw_calls_place(req, reply, &form, account, &job, &view) != 0)
                goto out;
        if (job->outcome.hold_create_ms > 0) {
                /* The call exists but its answer (and its playing) waits: a client killed
                 * meanwhile never learns the sid. Blocks this server thread (tests only). */
                struct timespec ts = {job->outcome.hold_create_ms / 1000,
                                      (job->outcome.hold_create_ms % 1000) * 1000000L};
                while (nanosleep(&ts, &ts) != 0)
                        ;
        }
        sb_reply_json_take(reply, 201, view);
        tw_driver_enqueue_take(job);
out:
        cb_form_free(&form);
}

void sb_tw_calls_fetch(const struct sb_request *req, struct sb_reply *reply)
{
        char account[TW_SID_LEN + 1], sid[TW_SID_LEN + 1], ext[8];
        json_t *view = NULL;

        if (!tw_auth(req, reply, account))
                return;
        if (tw_path_sid(req->path, "CA", sid, ext) && strcmp(ext, "json") == 0) {
                sb_state_lock();
                json_t *entry = tw_call_find_locked(sid);
                view = entry ? call_view(entry) : NULL;
                sb_state_unlock();
        }
        if (view)
                sb_reply_json_take(reply, 200, view);
        else
                sb_tw_unrouted(req, reply);
}

/* The Call Recording resource of a stored recording (twilio-oai
 * api.v2010.account.call.call_recording): the Recording JSON with the call-scoped uri. */
static json_t *call_recording_json_locked(json_t *rec, const char *account, const char *call_sid)
{
        json_t *out = tw_recording_json_locked(rec);
        char uri[256];

        if (!out)
                return NULL;
        snprintf(uri, sizeof(uri), TW_PREFIX "%s/Calls/%s/Recordings/%s.json", account, call_sid,
                 json_string_value(json_object_get(rec, "sid")));
        json_object_set_new(out, "uri", json_string(uri));
        json_object_set_new(out, "track", json_string("both"));
        json_object_del(out, "subresource_uris");
        json_object_del(out, "media_url");
        return out;
}

void sb_tw_call_recordings(const struct sb_request *req, struct sb_reply *reply)
{
        static const char suffix[] = "/Recordings.json";
        char account[TW_SID_LEN + 1], sid[TW_SID_LEN + 1], ext[8], path[256], uri[320];
        size_t n = strlen(req->path);
        json_t *list = json_array(), *call, *rec;
        bool found = false;

        if (!list || !tw_auth(req, reply, account))
                goto out;
        if (n < sizeof(suffix) || n - (sizeof(suffix) - 1) >= sizeof(path) ||
            strcmp(req->path + n - (sizeof(suffix) - 1), suffix) != 0)
                goto unrouted;
        snprintf(path, sizeof(path), "%.*s", (int)(n - (sizeof(suffix) - 1)), req->path);
        if (!tw_path_sid(path, "CA", sid, ext) || ext[0])
                goto unrouted;
        sb_state_lock();
        call = tw_call_find_locked(sid);
        found = call != NULL;
        rec = call ? tw_recording_find_locked(
                         json_string_value(json_object_get(call, "recording_sid")) ?: "")
                   : NULL;
        if (rec && !json_is_true(json_object_get(rec, "deleted")))
                json_array_append_new(list, call_recording_json_locked(rec, account, sid));
        sb_state_unlock();
        if (!found)
                goto unrouted;
        snprintf(uri, sizeof(uri), "%s?PageSize=50&Page=0", req->path);
        sb_reply_json_take(reply, 200,
                           json_pack("{s:O,s:I,s:s,s:n,s:I,s:I,s:n,s:I,s:s}", "recordings", list,
                                     "end", (json_int_t)0, "first_page_uri", uri, "next_page_uri",
                                     "page", (json_int_t)0, "page_size", (json_int_t)50,
                                     "previous_page_uri", "start", (json_int_t)0, "uri", uri));
        goto out;
unrouted:
        sb_tw_unrouted(req, reply);
out:
        json_decref(list);
}

/* ---- list ------------------------------------------------------------------------------- */

/* The list filters of GET Calls.json. Bounds are Unix seconds; -1 when not given. */
struct filter {
        const char *to, *from, *status;
        long long start_min, start_max; /* start_min <= started_at < start_max */
};

/* The `n` decimal digits at `s` into *out; false unless all `n` are digits (a sign, a space
 * or a shorter field is not a date's field). */
static bool fixed_digits(const char *s, int n, int *out)
{
        *out = 0;
        for (int i = 0; i < n; i++) {
                if (!isdigit((unsigned char)s[i]))
                        return false;
                *out = *out * 10 + (s[i] - '0');
        }
        return true;
}

/* A date as Twilio's OpenAPI gives StartTime (format date-time, "Specify a date as
 * YYYY-MM-DD in UTC"): "YYYY-MM-DD" is that day from 00:00 UTC (*whole_day true), and
 * "YYYY-MM-DDTHH:MM:SSZ" (the helper libraries' ISO 8601 form) that instant. */
static bool parse_date(const char *s, long long *out, bool *whole_day)
{
        struct tm tm = {0};
        int y, m, d, hh = 0, mm = 0, ss = 0;

        /* Each field is read only when everything before it matched: no read past the NUL. */
        if (!fixed_digits(s, 4, &y) || s[4] != '-' || !fixed_digits(s + 5, 2, &m) || s[7] != '-' ||
            !fixed_digits(s + 8, 2, &d) || m < 1 || m > 12 || d < 1 || d > 31)
                return false;
        *whole_day = s[10] == '\0';
        if (!*whole_day &&
            (s[10] != 'T' || !fixed_digits(s + 11, 2, &hh) || s[13] != ':' ||
             !fixed_digits(s + 14, 2, &mm) || s[16] != ':' || !fixed_digits(s + 17, 2, &ss) ||
             strcmp(s + 19, "Z") != 0 || hh > 23 || mm > 59 || ss > 60))
                return false;
        tm.tm_year = y - 1900;
        tm.tm_mon = m - 1;
        tm.tm_mday = d;
        tm.tm_hour = hh;
        tm.tm_min = mm;
        tm.tm_sec = ss;
        *out = (long long)timegm(&tm);
        return true;
}

/* Read the filters as Twilio documents them: StartTime "started on this date", StartTime<
 * "started before this date", StartTime> "started on or after this date" (>= and <= are the
 * same filters sent unencoded: "StartTime>=d" arrives as StartTime> = "=d"; <= includes
 * that day). False (after a 400 20001) when a date is malformed. */
static bool filter_read(const struct sb_request *req, struct sb_reply *reply, struct filter *f)
{
        static const char *const names[] = {"StartTime", "StartTime>", "StartTime>=", "StartTime<",
                                            "StartTime<="};
        long long at;
        bool day;

        f->to = sb_request_query(req, "To");
        f->from = sb_request_query(req, "From");
        f->status = sb_request_query(req, "Status");
        f->start_min = f->start_max = -1;
        for (size_t i = 0; i < CB_ARRAY_LEN(names); i++) {
                const char *v = sb_request_query(req, names[i]);
                if (!v && (i == 2 || i == 4)) {
                        v = sb_request_query(req, names[i - 1]);
                        v = v && v[0] == '=' ? v + 1 : NULL;
                } else if (v && (i == 1 || i == 3) && v[0] == '=') {
                        v = NULL;
                }
                if (!v)
                        continue;
                if (!parse_date(v, &at, &day)) {
                        tw_error(reply, 400, 20001,
                                 "%s must be a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ): %s",
                                 names[i], v);
                        return false;
                }
                if (i == 0 && !day)
                        at -= at % 86400, day = true; /* StartTime: the day of that instant */
                if (i == 0 || i == 1 || i == 2)
                        f->start_min = at; /* on (or on or after) that date */
                if (i == 0 || i == 4)
                        f->start_max = at + (day ? 86400 : 1); /* through that day */
                else if (i == 3)
                        f->start_max = at; /* before that date */
        }
        return true;
}

static bool str_match(const char *want, json_t *have)
{
        return !want || (json_string_value(have) && strcmp(want, json_string_value(have)) == 0);
}

/* A call matches when every given filter does; a call not started yet (queued: no
 * start_time) matches no StartTime filter, as none says it "started" then. */
static bool filter_match(const struct filter *f, json_t *call)
{
        json_t *started = json_object_get(json_object_get(call, "sandbox"), "started_at");
        long long at = json_is_integer(started) ? json_integer_value(started) : -1;

        if (at < 0 && (f->start_min >= 0 || f->start_max >= 0))
                return false;
        return str_match(f->to, json_object_get(call, "to")) &&
               str_match(f->from, json_object_get(call, "from")) &&
               str_match(f->status, json_object_get(call, "status")) &&
               (f->start_min < 0 || at >= f->start_min) && (f->start_max < 0 || at < f->start_max);
}

/* The page URI with the request's filters, or JSON null for page < 0. */
static json_t *page_uri(const struct sb_request *req, long size, long page)
{
        static const char *const keep[] = {
            "To",         "From",        "Status",     "StartTime",
            "StartTime>", "StartTime>=", "StartTime<", "StartTime<="};
        struct cb_form q = {0};
        struct cb_buf buf = {.max = 8192};
        char num[32];
        json_t *out = NULL;
        int rc = 0;

        if (page < 0)
                return json_null();
        for (size_t i = 0; i < CB_ARRAY_LEN(keep); i++) {
                const char *v = sb_request_query(req, keep[i]);
                if (v)
                        rc |= cb_form_add(&q, keep[i], v);
        }
        snprintf(num, sizeof(num), "%ld", size);
        rc |= cb_form_add(&q, "PageSize", num);
        snprintf(num, sizeof(num), "%ld", page);
        rc |= cb_form_add(&q, "Page", num);
        rc |= cb_buf_puts(&buf, req->path);
        rc |= cb_buf_puts(&buf, "?");
        if (rc == 0 && cb_form_encode(&q, &buf) == 0)
                out = json_string(buf.data);
        cb_buf_free(&buf);
        cb_form_free(&q);
        return out;
}

/* PageSize and Page from the query; false after a 400 20001. */
static bool paging(const struct sb_request *req, struct sb_reply *reply, long *size, long *page)
{
        const char *ps = sb_request_query(req, "PageSize"), *pg = sb_request_query(req, "Page");

        *size = DEFAULT_PAGE_SIZE;
        *page = 0;
        if ((ps && !cb_parse_long(ps, 1, MAX_PAGE_SIZE, size)) ||
            (pg && !cb_parse_long(pg, 0, 1000000, page))) {
                tw_error(reply, 400, 20001, "PageSize must be 1-%d and Page a whole number >= 0",
                         MAX_PAGE_SIZE);
                return false;
        }
        return true;
}

void sb_tw_calls_list(const struct sb_request *req, struct sb_reply *reply)
{
        char account[TW_SID_LEN + 1];
        struct filter f;
        long size, page, matched = 0, first;
        json_t *calls = json_array(), *all;
        bool more = false;

        if (!calls || !tw_auth(req, reply, account) || !filter_read(req, reply, &f) ||
            !paging(req, reply, &size, &page))
                goto out;
        first = page * size;
        sb_state_lock();
        /* With To (as callbridge's search for an earlier placement sends it), only that
         * number's calls are looked at. */
        all = f.to ? tw_calls_to_locked(f.to) : sb_state_twilio_calls_locked();
        for (size_t i = json_array_size(all); i-- > 0;) {
                json_t *call = json_array_get(all, i);
                if (!filter_match(&f, call))
                        continue;
                if (matched >= first + size) {
                        more = true;
                        break;
                }
                if (matched++ >= first)
                        json_array_append_new(calls, call_view(call));
        }
        sb_state_unlock();
        sb_reply_json_take(
            reply, 200,
            json_pack(
                "{s:O,s:I,s:o,s:o,s:I,s:I,s:o,s:I,s:o}", "calls", calls, "end",
                (json_int_t)(json_array_size(calls) ? first + (long)json_array_size(calls) - 1 : 0),
                "first_page_uri", page_uri(req, size, 0), "next_page_uri",
                page_uri(req, size, more ? page + 1 : -1), "page", (json_int_t)page, "page_size",
                (json_int_t)size, "previous_page_uri", page_uri(req, size, page - 1), "start",
                (json_int_t)first, "uri", page_uri(req, size, page)));
out:
        json_decref(calls);
}
