/* callbridge-sandbox: the call driver. A bounded pool of sender threads takes placed calls from one
 * queue and play them like Twilio: status callbacks (initiated, ringing, in-progress, the final
 * status), the TwiML fetch from Url when the call is answered, then the recording callback.
 * Every webhook is signed and delivered by tw_deliver.c (with Twilio's connection overrides)
 * and logged in twilio_webhooks. libmicrohttpd threads only ever enqueue.
 *
 * Faults: webhook_duplicate_rate sends a webhook twice (same idempotency token);
 * webhook_shuffle sends a call's status callbacks in random order once the call has ended.
 * A reset abandons the calls being played (their generation no longer matches). */
#include <curl/curl.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbridge/util.h"
#include "tw_emu.h"

/* A bounded pool (--twilio-senders, default 64): each sender plays one call at a time, pauses
 * included (answer_ms, talk_ms, redelivery back-off), so that many calls are in flight at once;
 * more wait in the queue. Senders mostly sleep: their stacks are kept small. */
#define SENDER_STACK     ((size_t)1024 * 1024)
#define MAX_ANSWER_BYTES ((size_t)64 * 1024)
#define MAX_HOOKS        4

static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qcond;    /* pausing senders: a call hung up, or stopping */
static pthread_cond_t workcond; /* idle senders: a job queued, or stopping */
static struct tw_job *head, *tail;
static bool running, stopping;
static pthread_t *threads; /* n_threads of them */
static size_t n_threads;
static char *base_url;
static const char *auth_token;

const char *tw_driver_auth_token(void)
{
        return auth_token;
}

const char *tw_base_url(void)
{
        return base_url ? base_url : "http://127.0.0.1";
}

void tw_job_free(struct tw_job *job)
{
        if (!job)
                return;
        free(job->to);
        free(job->from);
        free(job->url);
        free(job->method);
        free(job->status_cb);
        free(job->status_cb_method);
        free(job->rec_cb);
        free(job->rec_cb_method);
        free(job);
}

void tw_driver_enqueue_take(struct tw_job *job)
{
        pthread_mutex_lock(&qlock);
        if (stopping) {
                pthread_mutex_unlock(&qlock);
                tw_job_free(job);
                return;
        }
        /* The server answers before sb_tw_start has run: such calls wait in the queue. */
        job->next = NULL;
        if (tail)
                tail->next = job;
        else
                head = job;
        tail = job;
        if (running)
                pthread_cond_signal(&workcond); /* one idle sender; pausing ones sleep on */
        pthread_mutex_unlock(&qlock);
}

void tw_driver_wake(void)
{
        pthread_mutex_lock(&qlock);
        if (running)
                pthread_cond_broadcast(&qcond);
        pthread_mutex_unlock(&qlock);
}

bool tw_driver_pause_ms(long ms)
{
        struct timespec ts;
        bool ok;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += ms / 1000;
        ts.tv_nsec += (ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&qlock);
        while (!stopping && ms > 0 && pthread_cond_timedwait(&qcond, &qlock, &ts) == 0)
                ;
        ok = !stopping;
        pthread_mutex_unlock(&qlock);
        return ok;
}

bool tw_driver_stopping(void)
{
        return __atomic_load_n(&stopping, __ATOMIC_RELAXED);
}

/* True once the call was marked to hang up (Calls update, its conference ended, kicked). */
static bool hung_up(const struct tw_job *job)
{
        json_t *call;
        bool yes;

        sb_state_lock();
        call = tw_generation_locked() == job->generation ? tw_call_find_locked(job->sid) : NULL;
        yes = json_is_true(json_object_get(json_object_get(call, "sandbox"), "hangup"));
        sb_state_unlock();
        return yes;
}

/* Wait `ms` unless the call is hung up (then *cut set) or the driver stops (false). */
static bool pause_call(const struct tw_job *job, long ms, bool *cut)
{
        struct timespec ts;
        bool ok;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += ms / 1000;
        ts.tv_nsec += (ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&qlock);
        /* Lock order: qlock, then the state lock (hung_up); wakers release the state first. */
        while (!stopping && !(*cut = hung_up(job)) && ms > 0 &&
               pthread_cond_timedwait(&qcond, &qlock, &ts) == 0)
                ;
        if (!stopping && !*cut)
                *cut = hung_up(job);
        ok = !stopping;
        pthread_mutex_unlock(&qlock);
        return ok;
}

/* ---- playing a call --------------------------------------------------------------------- */

/* The status callbacks of one call not sent yet (all of them under webhook_shuffle). */
struct run {
        struct tw_hook hooks[MAX_HOOKS];
        size_t n;
        unsigned seq;
        bool shuffle;
};

/* Send the pending status callbacks, in random order when shuffling, and free them. False
 * when the call was abandoned. */
static bool flush(CURL *curl, const struct tw_job *job, struct run *run)
{
        bool ok = true;

        for (size_t i = run->n; run->shuffle && i > 1; i--) {
                size_t j = (size_t)(sb_random_unit() * (double)i);
                struct tw_hook tmp = run->hooks[i - 1];
                run->hooks[i - 1] = run->hooks[j < i ? j : i - 1];
                run->hooks[j < i ? j : i - 1] = tmp;
        }
        for (size_t i = 0; i < run->n; i++) {
                if (ok)
                        ok = tw_deliver(curl, job, &run->hooks[i], NULL);
                cb_form_free(&run->hooks[i].params);
        }
        run->n = 0;
        return ok;
}

/* A status callback for `status` if `event` was asked for: sent now, or kept for the end
 * when shuffling. Out of memory loses the callback (logged). False when abandoned. */
static bool status_event(CURL *curl, const struct tw_job *job, struct run *run, unsigned event,
                         const char *status, long duration)
{
        if (!job->status_cb || !(job->events & event) || run->n >= MAX_HOOKS)
                return true;
        if (!tw_status_hook(job, status, run->seq, duration, &run->hooks[run->n])) {
                sb_log("warn", "twilio: out of memory, %s callback of %s lost", status, job->sid);
                return true;
        }
        run->seq++;
        run->n++;
        return run->shuffle || flush(curl, job, run);
}

/* The answered call's TwiML takes effect: a <Conference> joins it (its participant, queued
 * when added by the Participants API, is connected now); with Record the recording runs
 * (Recordings update may pause it). */
static void answered_locked(const struct tw_job *job, json_t *call)
{
        const char *twiml = json_string_value(json_object_get(call, "twiml"));
        struct tw_conf_noun noun;
        char sid[TW_SID_LEN + 1], now[TW_DATE_LEN];

        if (json_is_true(json_object_get(json_object_get(call, "sandbox"), "hangup")))
                return; /* hung up (kicked) as it was answered: it joins nothing */
        if (tw_twiml_conference(twiml, &noun)) {
                json_t *conf = tw_conf_open_locked(job->account, noun.name);
                if (conf != NULL)
                        tw_conf_join_locked(conf, job->sid, noun.label[0] ? noun.label : NULL,
                                            noun.end_on_exit, noun.start_on_enter, "connected");
        }
        if (!job->record)
                return;
        if (job->outcome.recording_sid[0])
                snprintf(sid, sizeof(sid), "%s", job->outcome.recording_sid);
        else
                tw_new_sid("RE", sid);
        tw_date(time(NULL), now);
        json_object_set_new(json_object_get(call, "sandbox"), "recording",
                            json_pack("{s:s,s:s,s:n,s:i,s:s,s:s}", "sid", sid, "status",
                                      "in-progress", "pause_behavior", "pauses", 0, "date_created",
                                      now, "date_updated", now));
}

static bool call_answered(const struct tw_job *job)
{
        json_t *call;
        bool current;

        sb_state_lock();
        current = tw_generation_locked() == job->generation;
        call = current ? tw_call_find_locked(job->sid) : NULL;
        if (call != NULL)
                answered_locked(job, call);
        sb_state_unlock();
        return current;
}

/* The call is answered: in-progress, then the TwiML from Url (stored on the call). */
static bool answer_call(CURL *curl, const struct tw_job *job, struct run *run)
{
        struct tw_hook hk = {.kind = "voice"};
        struct cb_buf answer = {.max = MAX_ANSWER_BYTES};
        int rc = 0;
        bool ok;

        if (!tw_call_set(job, "status", json_string("in-progress")) ||
            !status_event(curl, job, run, TW_EV_ANSWERED, "in-progress", -1))
                return false;
        if (!job->url) /* Twiml given inline (stored at create) or an ApplicationSid */
                return call_answered(job);
        hk.url = job->url;
        hk.method = job->method;
        hk.close = job->outcome.talk_ms > 0; /* the talk follows */
        tw_call_params(job, "in-progress", &hk.params, &rc);
        ok = rc == 0 && tw_deliver(curl, job, &hk, &answer);
        if (ok)
                ok = tw_call_set(job, "twiml",
                                 answer.data ? json_stringn(answer.data, answer.len) : json_null());
        if (ok)
                ok = call_answered(job);
        cb_form_free(&hk.params);
        cb_buf_free(&answer);
        return ok;
}

/* The call leaves its conference as it ends; members the conference's end hangs up are
 * woken. */
static void leave_conference(const struct tw_job *job)
{
        bool ended;

        sb_state_lock();
        ended = tw_generation_locked() == job->generation && tw_conf_leave_locked(job->sid, false);
        sb_state_unlock();
        if (ended)
                tw_driver_wake();
}

/* The call ends with `status` (the outcome's, or completed/canceled when hung up) after
 * `duration` seconds of talk: the entry is final, the completed callback sent, then (Record,
 * answered, duration > 0) the recording. */
static bool finish_call(CURL *curl, const struct tw_job *job, struct run *run, time_t answered_at,
                        const char *status, long duration)
{
        char num[32];

        if (!answered_at)
                duration = 0;
        snprintf(num, sizeof(num), "%ld", duration);
        leave_conference(job);
        /* end_time last: whoever sees it set sees the final status and duration too. */
        if (!tw_call_set(job, "duration", json_string(num)) ||
            !tw_call_set(job, "status", json_string(status)) || !tw_call_set_now(job, "end_time") ||
            !status_event(curl, job, run, TW_EV_COMPLETED, status, duration) ||
            !flush(curl, job, run))
                return false;
        if (job->record && answered_at && duration > 0)
                return tw_record_call(curl, job, answered_at);
        return true;
}

/* The talk time: a pause, or with <Start><Transcription> in the call's TwiML the
 * conversation played as transcription callbacks (tw_talk.c); cut short by a hang-up. */
static bool talk(CURL *curl, const struct tw_job *job, bool *cut)
{
        char *twiml = NULL;
        json_t *call;
        bool ok;

        sb_state_lock();
        call = tw_generation_locked() == job->generation ? tw_call_find_locked(job->sid) : NULL;
        if (json_string_value(json_object_get(call, "twiml")) != NULL)
                twiml = strdup(json_string_value(json_object_get(call, "twiml")));
        sb_state_unlock();
        ok = tw_talk_play(curl, job, twiml, job->outcome.talk_ms, pause_call, cut);
        free(twiml);
        return ok;
}

static void play(CURL *curl, const struct tw_job *job)
{
        const struct tw_outcome *o = &job->outcome;
        struct run run = {.shuffle = sb_fault_webhook_shuffle()};
        const char *status = o->status;
        long duration = o->duration_s;
        time_t answered_at = 0;
        bool ok, cut = false;

        ok = tw_call_set_now(job, "start_time") &&
             status_event(curl, job, &run, TW_EV_INITIATED, "initiated", -1) &&
             tw_call_set(job, "status", json_string("ringing")) &&
             status_event(curl, job, &run, TW_EV_RINGING, "ringing", -1) &&
             pause_call(job, o->answer_ms, &cut);
        if (ok && cut) {
                status = "canceled"; /* hung up while ringing */
        } else if (ok && strcmp(o->status, "completed") == 0) {
                answered_at = time(NULL);
                ok = answer_call(curl, job, &run) && talk(curl, job, &cut);
                if (ok && cut) /* hung up: the talk lasted as long as it did */
                        duration = (long)(time(NULL) - answered_at) + 1;
        }
        if (ok) /* finish_call false: stopped early; nothing follows either way */
                (void)finish_call(curl, job, &run, answered_at, status, duration);
        for (size_t i = 0; i < run.n; i++)
                cb_form_free(&run.hooks[i].params); /* left by an abandoned call */
}

/* ---- threads ---------------------------------------------------------------------------- */

/* A sender with no call to play drops its handle, and with it its keep-alive connection: a
 * queued call wakes any idle sender, so over time every one of hundreds of senders would
 * hold an idle connection to the receiver, past its per-client limit (callbridge: [server]
 * max_connections_per_ip, and libmicrohttpd's limit per thread), where Twilio's webhooks
 * come from many addresses. Busy, a sender keeps its connection from call to call. */
static void *sender_main(void *arg)
{
        CURL *curl = NULL; /* NULL after curl_easy_init failed: deliveries logged as status 0 */

        for (;;) {
                struct tw_job *job;

                pthread_mutex_lock(&qlock);
                if (!head && !stopping && curl) {
                        pthread_mutex_unlock(&qlock);
                        curl_easy_cleanup(curl);
                        curl = NULL;
                        pthread_mutex_lock(&qlock);
                }
                while (!head && !stopping)
                        pthread_cond_wait(&workcond, &qlock);
                if (stopping) {
                        pthread_mutex_unlock(&qlock);
                        break;
                }
                job = head;
                head = job->next;
                if (!head)
                        tail = NULL;
                pthread_mutex_unlock(&qlock);
                if (!curl)
                        curl = curl_easy_init();
                play(curl, job);
                tw_job_free(job);
        }
        if (curl)
                curl_easy_cleanup(curl);
        return NULL;
}

/* "http://host:port" from --listen and the bound port; wildcard hosts become loopback. */
static char *listen_url(const struct sb_config *cfg, unsigned int port)
{
        const char *host = cfg->listen_host;
        char buf[320];

        if (!host[0] || strcmp(host, "0.0.0.0") == 0)
                host = "127.0.0.1";
        else if (strcmp(host, "::") == 0)
                host = "::1";
        snprintf(buf, sizeof(buf), strchr(host, ':') ? "http://[%s]:%u" : "http://%s:%u", host,
                 port);
        return strdup(buf);
}

int sb_tw_start(const struct sb_config *cfg, unsigned int port)
{
        pthread_condattr_t ca;
        pthread_attr_t attr;

        base_url = cfg->public_url ? strdup(cfg->public_url) : listen_url(cfg, port);
        auth_token = cfg->twilio_auth_token ? cfg->twilio_auth_token : "";
        if (!base_url || tw_media_init() != 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
                sb_log("error", "twilio: cannot initialise (out of memory or no CSPRNG)");
                return -1;
        }
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&qcond, &ca);
        pthread_cond_init(&workcond, NULL);
        pthread_condattr_destroy(&ca);
        pthread_mutex_lock(&qlock);
        running = true; /* from now on enqueue may signal workcond */
        pthread_mutex_unlock(&qlock);
        threads = calloc(cfg->twilio_senders ? cfg->twilio_senders : 1, sizeof(*threads));
        if (!threads) {
                sb_log("error", "twilio: out of memory");
                return -1;
        }
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, SENDER_STACK);
        for (n_threads = 0; n_threads < cfg->twilio_senders; n_threads++) {
                if (pthread_create(&threads[n_threads], &attr, sender_main, NULL) != 0) {
                        pthread_attr_destroy(&attr);
                        sb_log("error", "twilio: cannot start the webhook senders");
                        return -1; /* sb_tw_stop joins the ones started */
                }
        }
        pthread_attr_destroy(&attr);
        return 0;
}

void sb_tw_stop(void)
{
        struct tw_job *job;

        pthread_mutex_lock(&qlock);
        if (!running) {
                stopping = true;
                while ((job = head)) {
                        head = job->next;
                        tw_job_free(job);
                }
                tail = NULL;
                pthread_mutex_unlock(&qlock);
                free(base_url);
                base_url = NULL;
                return;
        }
        __atomic_store_n(&stopping, true, __ATOMIC_RELAXED);
        pthread_cond_broadcast(&qcond);
        pthread_cond_broadcast(&workcond);
        pthread_mutex_unlock(&qlock);
        for (size_t i = 0; i < n_threads; i++)
                pthread_join(threads[i], NULL);
        while ((job = head)) {
                head = job->next;
                tw_job_free(job);
        }
        tail = NULL;
        n_threads = 0;
        free(threads);
        threads = NULL;
        running = false;
        pthread_cond_destroy(&qcond);
        pthread_cond_destroy(&workcond);
        curl_global_cleanup();
        free(base_url);
        base_url = NULL;
}
