/* POST /webhooks/twilio/status: a call status callback (signature already checked).
 *
 * Drives the call state machine: each (call, status) is recorded once, a call only moves
 * forward (a late "ringing" after "completed" is kept in the history but changes nothing), and
 * the first final status queues the CRM log finalisation (and, for a missed inbound call, the
 * follow-up task) in the same statement, and the moves that change the call's agent (an
 * inbound call answered, any call ending) queue agent.call_status. A callback for a CallSid we do
 * not know is an inbound call whose voice webhook never reached the database (PostgreSQL was down):
 * it is created then, so the server still logs it. Answers 204; 503 when the database is
 * unavailable so nothing is half-written and the callback can be replayed.
 *
 * Twilio repeats callbacks (retries, duplicates): a (call, CallSid, status) this process saw
 * recorded is answered from a memo (MEMO_ENTRIES, MEMO_TTL_MS) without PostgreSQL — exact, as a
 * status once recorded for a call stays recorded; the signature was checked before, as for
 * every callback. The `call_status` events of a batch are published from the batcher thread in
 * one pipelined Redis round trip (on_commit). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/cache.h"

#include "callbridge/events.h"
#include "callbridge/log.h"
#include "callbridge/store_lifecycle.h"
#include "handlers/handlers.h"
#include "call_reported.h"

/* The provider's parse of the parameters into `ev` (and `st`, which keeps the rest for
 * finish). True when they were refused (a 400/422 queued, returned through `ret`). */
static bool bad_params(struct cb_request *req, struct cb_status_event *ev, struct cb_tel_status *st,
                       enum MHD_Result *ret)
{
        const struct cb_telephony *tel = req->env->tel;
        struct cb_tel_params p;
        const char *msg = NULL;
        enum cb_err e;

        if (tel->ops->parse_status == NULL) {
                *ret = cb_reply_error(req, CB_ERR_ROUTE_NOT_FOUND, NULL);
                return true;
        }
        cb_webhook_params(req, &p);
        e = tel->ops->parse_status(tel->self, &p, st, &msg);
        if (e != CB_ERR_NONE) {
                *ret = cb_reply_error(req, e, "%s", msg);
                return true;
        }
        ev->provider = tel->ops->name;
        ev->call_id = st->call_id;
        ev->provider_call_id = st->call_sid;
        ev->status = st->status;
        ev->duration_s = st->duration_s;
        ev->missed_task = req->env->cfg->twilio.missed_call_task;
        return false;
}

/* An inbound call we have not seen: create it for the fallback agent. */
static enum cb_qs create_unknown(struct cb_request *req, const struct cb_status_event *ev,
                                 const struct cb_tel_status *st)
{
        struct cb_call_request rq = {
            .direction = CB_CALL_INBOUND,
            .provider_call_id = ev->provider_call_id,
            .from = st->from,
            .to = st->to,
            .agent = NULL, /* the fallback agent's (cb_calls_plan) */
        };
        char id[CB_UUID_LEN + 1];

        return cb_call_reported_create(req->env, &rq, NULL, id);
}

#define MEMO_ENTRIES 16384
#define MEMO_TTL_MS  (10L * 60 * 1000)

static struct cb_lcache *memo;
static pthread_once_t memo_once = PTHREAD_ONCE_INIT;
static atomic_ulong memo_hits;

/* The `call_status` event of an item that moved its call, or NULL. */
static json_t *status_data(const struct cb_status_event *ev, const struct cb_status_outcome *out)
{
        json_t *data = json_pack("{s:s,s:s,s:s}", "call_id", out->call_id, "status",
                                 cb_calls_status_name(ev->status), "direction", out->direction);

        if (data != NULL && ev->duration_s >= 0 && cb_calls_status_final(ev->status))
                json_object_set_new(data, "duration_s", json_integer(ev->duration_s));
        return data;
}

/* On the batcher thread, after a batch: tell the agents' softphones (any instance) where their
 * calls are, one Redis round trip for the batch. Best effort: a lost event leaves the stream to
 * re-read the call. */
static void on_commit(struct cb_status_item *const *items, size_t n)
{
        struct cb_event_out evs[CB_BATCH_MAX];
        size_t m = 0;

        for (size_t i = 0; i < n && m < CB_BATCH_MAX; i++) {
                const struct cb_status_item *it = items[i];
                if (it->qs != CB_QS_ONE_RESULT || !it->out.advanced)
                        continue;
                evs[m] = (struct cb_event_out){.agent = it->out.agent,
                                               .type = "call_status",
                                               .data = status_data(it->ev, &it->out)};
                if (evs[m].data != NULL)
                        m++;
        }
        if (m > 0)
                (void)cb_events_publish_many(evs, m);
        for (size_t i = 0; i < m; i++)
                json_decref((json_t *)evs[i].data);
}

static void memo_start(void)
{
        memo = cb_lcache_create(MEMO_ENTRIES); /* NULL (out of memory): every callback asks PG */
        cb_status_batcher_on_commit(on_commit);
}

/* The memo's key for an event: "status call_id CallSid"; false when it does not fit. */
static bool memo_key(const struct cb_status_event *ev, char *key, size_t size)
{
        int n = snprintf(key, size, "%s %s %s", cb_calls_status_name(ev->status),
                         ev->call_id ? ev->call_id : "-", ev->provider_call_id);

        return n > 0 && (size_t)n < size;
}

/* Was this event recorded already (seen by this process)? */
static bool memo_seen(const struct cb_status_event *ev)
{
        char key[CB_LCACHE_KEY_MAX];
        struct cb_lcache_val *v;
        bool seen;

        if (!memo_key(ev, key, sizeof(key)))
                return false;
        v = cb_lcache_get(memo, key);
        seen = v != NULL;
        cb_lcache_val_release(&v);
        return seen;
}

/* The event is recorded (committed): its repeats need not ask PostgreSQL. */
static void memo_note(const struct cb_status_event *ev)
{
        char key[CB_LCACHE_KEY_MAX];
        struct cb_lcache_val *v;

        if (!memo_key(ev, key, sizeof(key)))
                return;
        v = cb_lcache_val_new("", 0, 0);
        cb_lcache_put(memo, key, v, MEMO_TTL_MS);
        cb_lcache_val_release(&v);
}

void cb_twilio_status_metrics_write(struct cb_buf *out)
{
        cb_buf_printf(out,
                      "# HELP callbridge_webhook_memo_hits_total Status callbacks answered as "
                      "duplicates from the in-process memo (also counted as duplicate above).\n"
                      "# TYPE callbridge_webhook_memo_hits_total counter\n"
                      "callbridge_webhook_memo_hits_total %lu\n",
                      atomic_load(&memo_hits));
}

/* Did the move queue jobs (the first final status; an answered inbound call's agent)? */
static bool queued_jobs(const struct cb_status_event *ev, const struct cb_status_outcome *out)
{
        enum cb_call_direction dir = CB_CALL_OUTBOUND;

        if (!cb_calls_direction_parse(out->direction, &dir))
                return true; /* cannot tell: waking is cheap */
        return cb_calls_reach(ev->status, dir, ev->missed_task).job_count > 0;
}

/* The call ended here: count it in the call metrics (/metrics). */
static void observe_end(const struct cb_status_event *ev, const struct cb_status_outcome *out)
{
        enum cb_call_direction dir =
            strcmp(out->direction, "inbound") == 0 ? CB_CALL_INBOUND : CB_CALL_OUTBOUND;
        struct cb_call_sample s = {
            .agent = out->agent,
            .direction = dir,
            .outcome = cb_calls_outcome(dir, ev->status, out->answered),
            .wait_s = dir == CB_CALL_INBOUND && out->answered ? out->wait_s : -1,
            .talk_s = out->answered ? out->talk_s : -1,
        };

        cb_calls_metrics_observe(&s);
}

/* A callback's state while its event waits for the group commit; freed with the request. */
struct status_ctx {
        struct cb_status_item item; /* first: req->ctx is also the item */
        struct cb_status_event ev;
        struct cb_tel_status st; /* the parsed callback (borrows from the request) */
};

/* Back on the connection's thread with the committed event (req->ctx). */
static enum MHD_Result finish(struct cb_request *req)
{
        struct status_ctx *sc = req->ctx;
        struct cb_status_item *it = &sc->item;
        const struct cb_status_event *ev = it->ev;
        const char *direction = sc->st.direction;
        enum cb_qs qs = it->qs;

        if (qs == CB_QS_NO_RESULTS && ev->call_id == NULL && sc->st.inbound) {
                /* Rare (the voice webhook missed the database): blocking is fine here. */
                qs = create_unknown(req, ev, &sc->st);
                if (qs >= 0)
                        qs = cb_status_batcher_record(req->env->status_batcher, ev, &it->out);
        }
        if (qs < 0)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        if (qs == CB_QS_NO_RESULTS) {
                cb_webhook_count(CB_WH_UNKNOWN);
                cb_info("status %s for a call we do not know (%s), ignored",
                        cb_calls_status_name(ev->status), direction ? direction : "no direction");
                return cb_reply_text(req, 204, NULL, "", 0);
        }
        cb_webhook_count(it->out.advanced   ? CB_WH_ADVANCED
                         : it->out.recorded ? CB_WH_RECORDED
                                            : CB_WH_DUPLICATE);
        memo_note(ev);
        if (it->out.advanced && queued_jobs(ev, &it->out))
                cb_jobs_wake(req->env->jobs);
        if (it->out.advanced && cb_calls_status_final(ev->status))
                observe_end(ev, &it->out);
        return cb_reply_text(req, 204, NULL, "", 0);
}

/* Parses, then parks the request until the group commit has the event: many callbacks in
 * flight make big batches without a thread each. */
enum MHD_Result cb_handle_twilio_status(struct cb_request *req)
{
        struct status_ctx *sc = calloc(1, sizeof(*sc));
        enum MHD_Result ret;

        if (sc == NULL)
                return cb_reply_error(req, CB_ERR_INTERNAL, NULL);
        req->ctx = sc;
        req->ctx_free = free;
        if (bad_params(req, &sc->ev, &sc->st, &ret))
                return ret;
        pthread_once(&memo_once, memo_start);
        if (memo_seen(&sc->ev)) {
                atomic_fetch_add(&memo_hits, 1);
                cb_webhook_count(CB_WH_DUPLICATE);
                return cb_reply_text(req, 204, NULL, "", 0);
        }
        /* Woken on the batcher thread once the event is committed (or failed). */
        sc->item = (struct cb_status_item){.ev = &sc->ev, .done = cb_request_wake, .arg = req};
        ret = cb_request_park(req, finish);
        if (cb_status_batcher_submit(req->env->status_batcher, &sc->item) != 0)
                cb_request_wake(req); /* out of memory: item.qs is an error, finish says 503 */
        return ret;
}
