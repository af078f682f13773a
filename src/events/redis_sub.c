/* The Redis side of events: publishing (one EVAL per event) and the subscriber thread (a
 * dedicated blocking connection, SUBSCRIBE `<prefix>events`, reconnect with a pause). */
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "callbridge/cache.h"
#include "callbridge/log.h"
#include "events_int.h"

#define RECONNECT_PAUSE_MS 1000

/* Takes the next id and publishes {"id":N, ...ARGV[1]'s fields}. A lost or never-set counter
 * (Redis restarted without persistence) starts again at the current time in microseconds, so
 * ids keep increasing across a Redis restart and Last-Event-ID never points into the future. */
static const char publish_lua[] =
    "local id = redis.call('INCR', KEYS[1])\n"
    "if id == 1 then\n"
    "  local t = redis.call('TIME')\n"
    "  id = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "  redis.call('SET', KEYS[1], string.format('%d', id))\n"
    "end\n"
    "redis.call('PUBLISH', ARGV[2], '{\"id\":' .. string.format('%d', id) .. ',' .. "
    "string.sub(ARGV[1], 2))\n"
    "return id\n";

static struct {
        pthread_t thread;
        bool started;
        int wake[2]; /* a byte on wake[1] interrupts the subscriber's poll */
        atomic_bool stop;
        char url[512];
        long timeout_ms;
        char channel[128];
        char seq_key[128];
} sub = {.wake = {-1, -1}};

/* Sleep up to `ms`, or less when stopping. */
static void pause_ms(long ms)
{
        struct pollfd p = {.fd = sub.wake[0], .events = POLLIN};

        if (!atomic_load(&sub.stop))
                poll(&p, 1, (int)ms);
}

/* One message payload {"id","agent","type","data"} into the hub. */
static void on_message(const char *payload, size_t len)
{
        json_error_t jerr;
        json_t *m = json_loadb(payload, len, 0, &jerr);
        json_int_t id = json_integer_value(json_object_get(m, "id"));
        const char *agent = json_string_value(json_object_get(m, "agent"));
        const char *type = json_string_value(json_object_get(m, "type"));
        json_t *data = json_object_get(m, "data");
        char *text = NULL;

        atomic_fetch_add(&cb_events_stats.received, 1);
        if (id <= 0 || !cb_events_agent_valid(agent) || !cb_events_type_valid(type) ||
            data == NULL ||
            (text = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15))) ==
                NULL) {
                atomic_fetch_add(&cb_events_stats.dropped, 1);
                cb_warn("events: ignoring a malformed message on %s", sub.channel);
        } else {
                cb_events_hub_deliver((uint64_t)id, agent, type, text);
        }
        free(text);
        json_decref(m);
}

/* Handle one reply read in subscribed mode; returns false when it is not what SUBSCRIBE
 * promises (the connection is then dropped). */
static bool on_reply(redisReply *r)
{
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
            r->element[0]->type != REDIS_REPLY_STRING)
                return false;
        if (strcmp(r->element[0]->str, "message") == 0 && r->element[2]->type == REDIS_REPLY_STRING)
                on_message(r->element[2]->str, r->element[2]->len);
        return true; /* "subscribe" confirmations and the like */
}

/* Subscribe on `c` and read the current sequence. Returns it, or -1. */
static long long subscribe(redisContext *c)
{
        redisReply *r = redisCommand(c, "SUBSCRIBE %s", sub.channel);
        bool ok = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
                  r->element[0]->type == REDIS_REPLY_STRING &&
                  strcmp(r->element[0]->str, "subscribe") == 0;
        long long seq = -1;

        freeReplyObject(r);
        if (!ok)
                return -1;
        /* Anything published after this GET reaches us: we already listen. */
        r = cb_cache_command("GET %s", sub.seq_key);
        if (r != NULL && r->type == REDIS_REPLY_NIL)
                seq = 0;
        else if (r != NULL && r->type == REDIS_REPLY_STRING)
                seq = strtoll(r->str, NULL, 10);
        freeReplyObject(r);
        return seq;
}

/* Read messages until the connection breaks or we stop. */
static void listen_loop(redisContext *c)
{
        struct pollfd p[2] = {{.fd = c->fd, .events = POLLIN},
                              {.fd = sub.wake[0], .events = POLLIN}};

        while (!atomic_load(&sub.stop)) {
                void *reply = NULL;
                if (poll(p, 2, -1) < 0)
                        continue; /* EINTR */
                if (p[1].revents != 0)
                        return;
                if (redisBufferRead(c) != REDIS_OK)
                        return;
                for (;;) {
                        if (redisGetReplyFromReader(c, &reply) != REDIS_OK)
                                return;
                        if (reply == NULL)
                                break;
                        if (!on_reply(reply)) {
                                freeReplyObject(reply);
                                return;
                        }
                        freeReplyObject(reply);
                }
        }
}

static void *subscriber_main(void *arg)
{
        bool lost = false;

        (void)arg;
        while (!atomic_load(&sub.stop)) {
                redisContext *c = cb_cache_connect(sub.url, sub.timeout_ms);
                long long seq = c ? subscribe(c) : -1;

                if (seq < 0) {
                        if (c != NULL)
                                redisFree(c);
                        pause_ms(RECONNECT_PAUSE_MS);
                        continue;
                }
                redisEnableKeepAlive(c);
                atomic_store(&cb_events_stats.subscribed, true);
                if (lost)
                        atomic_fetch_add(&cb_events_stats.reconnects, 1);
                cb_info("events: subscribed to %s (sequence at %lld)", sub.channel, seq);
                cb_events_hub_subscribed((uint64_t)seq, lost);
                listen_loop(c);
                atomic_store(&cb_events_stats.subscribed, false);
                lost = true;
                if (!atomic_load(&sub.stop))
                        cb_warn("events: subscription lost (%s); other instances' events are "
                                "missed until it is back",
                                c->errstr[0] ? c->errstr : "connection closed");
                redisFree(c);
                pause_ms(RECONNECT_PAUSE_MS);
        }
        return NULL;
}

int cb_events_start(const struct cb_config *cfg)
{
        if (sub.started) {
                cb_error("events: already started");
                return -1;
        }
        cb_strlcpy(sub.url, cfg->redis.url, sizeof(sub.url));
        sub.timeout_ms = cfg->redis.timeout_ms;
        snprintf(sub.channel, sizeof(sub.channel), "%sevents", cfg->redis.key_prefix);
        snprintf(sub.seq_key, sizeof(sub.seq_key), "%sevents:seq", cfg->redis.key_prefix);
        atomic_store(&sub.stop, false);
        if (pipe2(sub.wake, O_CLOEXEC | O_NONBLOCK) != 0) {
                cb_error("events: cannot make a wake-up pipe");
                return -1;
        }
        if (cb_events_hub_start(cfg) != 0)
                goto fail;
        if (pthread_create(&sub.thread, NULL, subscriber_main, NULL) != 0) {
                cb_error("events: cannot start the subscriber thread");
                cb_events_hub_stop();
                goto fail;
        }
        sub.started = true;
        return 0;
fail:
        close(sub.wake[0]);
        close(sub.wake[1]);
        sub.wake[0] = sub.wake[1] = -1;
        return -1;
}

void cb_events_stop(void)
{
        if (!sub.started)
                return;
        atomic_store(&sub.stop, true);
        if (write(sub.wake[1], "x", 1) < 0)
                cb_warn("events: cannot wake the subscriber; it stops within its timeout");
        pthread_join(sub.thread, NULL);
        close(sub.wake[0]);
        close(sub.wake[1]);
        sub.wake[0] = sub.wake[1] = -1;
        sub.started = false;
        cb_events_hub_stop();
}

/* The message {"agent","type","data"} of one event into `msg`, its data's text into *text
 * (caller frees). -1 (logged) for a bad agent, type or data. */
static int message(const struct cb_event_out *e, struct cb_buf *msg, char **text)
{
        *text = NULL;
        if (!cb_events_agent_valid(e->agent) || !cb_events_type_valid(e->type) || e->data == NULL ||
            (*text = json_dumps(e->data, JSON_COMPACT | JSON_ENCODE_ANY |
                                             JSON_REAL_PRECISION(15))) == NULL ||
            strlen(*text) > CB_EVENTS_DATA_MAX) {
                cb_error("events: refusing to publish a %s event (bad agent, type or data)",
                         cb_events_type_valid(e->type) ? e->type : "malformed");
                return -1;
        }
        /* Agent and type are plain characters (checked above): no JSON escaping needed. */
        return cb_buf_printf(msg, "{\"agent\":\"%s\",\"type\":\"%s\",\"data\":%s}", e->agent,
                             e->type, *text);
}

/* What the EVAL of one event answered: published (its id), or delivered locally. */
static int settle(const struct cb_event_out *e, const char *text, const redisReply *r)
{
        if (r != NULL && r->type == REDIS_REPLY_INTEGER && r->integer > 0) {
                atomic_fetch_add(&cb_events_stats.published, 1);
                /* Not listening right now: our own streams would miss it (the ring drops a
                 * duplicate if the subscription came back meanwhile). */
                if (!atomic_load(&cb_events_stats.subscribed))
                        cb_events_hub_deliver((uint64_t)r->integer, e->agent, e->type, text);
                return 0;
        }
        atomic_fetch_add(&cb_events_stats.local_only, 1);
        cb_events_hub_deliver(0, e->agent, e->type, text);
        return -1;
}

int cb_events_publish(const char *agent, const char *type, const json_t *data)
{
        struct cb_event_out e = {.agent = agent, .type = type, .data = data};

        return cb_events_publish_many(&e, 1) == 1 ? 0 : -1;
}

size_t cb_events_publish_many(const struct cb_event_out *evs, size_t n)
{
        struct cb_buf *msgs = calloc(n ? n : 1, sizeof(*msgs));
        char **texts = calloc(n ? n : 1, sizeof(*texts));
        struct cb_cache_cmd *cmds = calloc(n ? n : 1, sizeof(*cmds));
        redisReply **replies = calloc(n ? n : 1, sizeof(redisReply *));
        size_t ok = 0, m = 0;
        size_t *which = calloc(n ? n : 1, sizeof(*which));

        if (msgs == NULL || texts == NULL || cmds == NULL || replies == NULL || which == NULL)
                goto out; /* out of memory: none published (the streams re-read the call) */
        for (size_t i = 0; i < n; i++) {
                msgs[i] = (struct cb_buf){.max = CB_EVENTS_DATA_MAX + 256};
                if (message(&evs[i], &msgs[i], &texts[i]) != 0 || sub.channel[0] == '\0')
                        continue;
                cmds[m] = (struct cb_cache_cmd){
                    .argc = 6,
                    .argv = {"EVAL", publish_lua, "1", sub.seq_key, msgs[i].data, sub.channel},
                    .lens = {4, sizeof(publish_lua) - 1, 1, strlen(sub.seq_key), msgs[i].len,
                             strlen(sub.channel)}};
                which[m++] = i;
        }
        /* One round trip for all of them. */
        cb_cache_pipeline(cmds, m, replies);
        for (size_t k = 0; k < m; k++) {
                size_t i = which[k];
                if (settle(&evs[i], texts[i], replies[k]) == 0)
                        ok++;
                freeReplyObject(replies[k]);
        }
        for (size_t i = 0; i < n; i++)
                if (texts[i] != NULL && sub.channel[0] == '\0')
                        settle(&evs[i], texts[i], NULL); /* never started: local only */
out:
        for (size_t i = 0; msgs != NULL && texts != NULL && i < n; i++) {
                cb_buf_free(&msgs[i]);
                free(texts[i]);
        }
        free(msgs);
        free(texts);
        free(cmds);
        free(replies);
        free(which);
        return ok;
}

void cb_events_metrics_write(struct cb_buf *out)
{
        const struct {
                const char *name;
                const char *help;
                atomic_ulong *v;
        } counters[] = {
            {"published_total", "Events published through Redis.", &cb_events_stats.published},
            {"local_only_total", "Events delivered to this instance's streams only (Redis down).",
             &cb_events_stats.local_only},
            {"received_total", "Events received from the Redis subscription.",
             &cb_events_stats.received},
            {"delivered_total", "Event frames written to streams.", &cb_events_stats.delivered},
            {"resets_total", "event: reset frames (resume too old, slow stream, resubscribed).",
             &cb_events_stats.resets},
            {"streams_refused_total", "Streams refused (caps, stopping).",
             &cb_events_stats.refused},
            {"dropped_total", "Events not buffered (malformed, out of memory, stopping).",
             &cb_events_stats.dropped},
            {"subscriber_reconnects_total", "Redis subscriptions made again after a loss.",
             &cb_events_stats.reconnects},
        };

        for (size_t i = 0; i < CB_ARRAY_LEN(counters); i++)
                cb_buf_printf(out,
                              "# HELP callbridge_events_%s %s\n# TYPE callbridge_events_%s "
                              "counter\ncallbridge_events_%s %lu\n",
                              counters[i].name, counters[i].help, counters[i].name,
                              counters[i].name, atomic_load(counters[i].v));
        cb_buf_printf(out,
                      "# HELP callbridge_events_streams Open event streams.\n"
                      "# TYPE callbridge_events_streams gauge\ncallbridge_events_streams %ld\n"
                      "# HELP callbridge_events_subscribed 1 while the Redis subscription is up.\n"
                      "# TYPE callbridge_events_subscribed gauge\ncallbridge_events_subscribed "
                      "%d\n",
                      atomic_load(&cb_events_stats.streams),
                      atomic_load(&cb_events_stats.subscribed) ? 1 : 0);
}
