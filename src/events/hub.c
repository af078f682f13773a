/* The hub: open streams, the ring of recent events, wake-ups and the heartbeat.
 *
 * One mutex guards everything here. A stream's reader takes it, finds nothing to send, marks
 * the client suspended and suspends the connection before letting go; deliveries and
 * heartbeats take it, and resume only clients marked suspended (clearing the mark). So a
 * wake-up cannot be lost between "nothing to send" and the suspension, and a connection is
 * never resumed twice. */
/* POLLRDHUP needs _GNU_SOURCE, which the build defines. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/cache.h"
#include "callbridge/log.h"
#include "events_int.h"

#define OUT_MAX     (CB_EVENTS_DATA_MAX + 4096) /* one client's pending bytes */
#define FILL_TARGET 16384                       /* stop gathering frames past this */

struct cb_events_stats cb_events_stats;

struct cb_events_client {
        struct cb_events_client *prev;
        struct cb_events_client *next;
        char agent[CB_EVENTS_AGENT_MAX];
        struct cb_events_waker waker;
        struct cb_buf out; /* bytes not yet handed to the server, from `off` */
        size_t off;
        uint64_t cursor;       /* next ring position to look at */
        uint64_t replay_until; /* positions below this are sent only when id > replay_after */
        uint64_t replay_after; /* resumed: the client has every id up to this one (0: new) */
        bool suspended;
        bool ping_due;
        bool gone; /* the client hung up: the next read ends the stream */
};

static struct {
        pthread_mutex_t mu;
        pthread_cond_t cond;
        struct cb_events_ring ring;
        struct cb_events_client *clients;
        long nclients;
        long ngone; /* clients marked gone, still registered until their response ends */
        const struct cb_config *cfg;
        pthread_t heartbeat;
        bool running;
        bool stopping;
} hub = {.mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static bool matches(const struct cb_events_client *c, const struct cb_events_entry *e)
{
        return e->agent[0] == '\0' || strcmp(e->agent, c->agent) == 0;
}

/* Caller holds the lock. */
static void wake(struct cb_events_client *c)
{
        if (!c->suspended)
                return;
        c->suspended = false;
        c->waker.resume(c->waker.ctx);
}

static int put_reset(struct cb_events_client *c, const char *reason)
{
        char data[96];

        snprintf(data, sizeof(data), "{\"reason\":\"%s\"}", reason);
        atomic_fetch_add(&cb_events_stats.resets, 1);
        return cb_events_frame(&c->out, 0, "reset", data);
}

/* Gather pending frames into c->out (empty on entry). Caller holds the lock. Returns 0, or -1
 * when out of memory. */
static int fill(struct cb_events_client *c)
{
        const struct cb_events_ring *r = &hub.ring;

        if (c->cursor < cb_events_ring_oldest(r)) {
                /* Too slow: the ring overran this stream's position. */
                if (put_reset(c, "overrun") != 0)
                        return -1;
                c->cursor = r->head;
        }
        while (c->cursor < r->head && c->out.len < FILL_TARGET) {
                const struct cb_events_entry *e = cb_events_ring_at(r, c->cursor);
                /* A resumed client has seen every id up to replay_after, wherever the ring
                 * holds it: an instance appends its own events at once and others' as its
                 * subscriber reads them, so the ring is not always in id order. */
                if (!matches(c, e) || (e->id != 0 && e->id <= c->replay_after) ||
                    (c->cursor < c->replay_until && e->id == 0)) {
                        c->cursor++;
                        continue;
                }
                if (cb_buf_append(&c->out, e->frame, e->len) != 0)
                        return -1;
                c->cursor++;
                atomic_fetch_add(&cb_events_stats.delivered, 1);
        }
        if (c->out.len == 0 && c->ping_due && cb_buf_puts(&c->out, ": ping\n\n") != 0)
                return -1;
        c->ping_due = false; /* any byte written proves the stream alive */
        return 0;
}

long cb_events_client_read(struct cb_events_client *c, char *buf, size_t max)
{
        long n = -1;

        pthread_mutex_lock(&hub.mu);
        if (c->gone)
                goto out; /* end of stream: libmicrohttpd closes the connection */
        if (c->off >= c->out.len) {
                c->out.len = 0;
                c->off = 0;
                if (hub.stopping || !hub.running || fill(c) != 0)
                        goto out; /* end of stream */
                if (c->out.len == 0) {
                        c->suspended = true;
                        c->waker.suspend(c->waker.ctx);
                        n = 0;
                        goto out;
                }
        }
        n = (long)(c->out.len - c->off < max ? c->out.len - c->off : max);
        memcpy(buf, c->out.data + c->off, (size_t)n);
        c->off += (size_t)n;
out:
        pthread_mutex_unlock(&hub.mu);
        return n;
}

/* A suspended stream's connection is not watched by libmicrohttpd, so a client that left
 * would hold its slot until the next heartbeat write fails. At a cap, ask the kernel
 * whether each stream's peer hung up, and end those streams at once. Caller holds the lock. */
static void reap_gone(const char *agent)
{
        for (struct cb_events_client *c = hub.clients; c != NULL; c = c->next) {
                struct pollfd p = {.fd = c->waker.fd, .events = POLLRDHUP};
                if (c->gone || c->waker.fd <= 0 || (agent != NULL && strcmp(c->agent, agent) != 0))
                        continue;
                if (poll(&p, 1, 0) != 1 || (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) == 0)
                        continue;
                c->gone = true;
                hub.ngone++;
                wake(c);
        }
}

static long agent_streams(const char *agent)
{
        long n = 0;

        for (const struct cb_events_client *c = hub.clients; c != NULL; c = c->next)
                n += !c->gone && strcmp(c->agent, agent) == 0;
        return n;
}

/* Set the start of a new stream: retry hint, then replay from `last` or a reset. Caller holds
 * the lock. */
static int begin(struct cb_events_client *c, uint64_t last, bool resume)
{
        const struct cb_events_ring *r = &hub.ring;

        if (cb_buf_printf(&c->out, "retry: %d\n\n", CB_EVENTS_RETRY_MS) != 0)
                return -1;
        c->cursor = r->head;
        if (!resume)
                return 0;
        if (!cb_events_ring_covers(r, last))
                return put_reset(c, "too_old");
        c->cursor = cb_events_ring_oldest(r);
        c->replay_until = r->head;
        c->replay_after = last;
        return 0;
}

struct cb_events_client *cb_events_client_open(const char *agent, uint64_t last_event_id,
                                               bool resume, const struct cb_events_waker *waker,
                                               enum cb_err *err)
{
        struct cb_events_client *c = NULL;

        *err = CB_ERR_INTERNAL;
        pthread_mutex_lock(&hub.mu);
        if (hub.running && hub.nclients - hub.ngone >= hub.cfg->server.sse_max_streams)
                reap_gone(NULL);
        if (!hub.running || hub.stopping ||
            hub.nclients - hub.ngone >= hub.cfg->server.sse_max_streams) {
                *err = CB_ERR_NOT_READY;
                goto refused;
        }
        if (agent_streams(agent) >= hub.cfg->server.sse_max_streams_per_agent)
                reap_gone(agent);
        if (agent_streams(agent) >= hub.cfg->server.sse_max_streams_per_agent) {
                *err = CB_ERR_TOO_MANY_STREAMS;
                goto refused;
        }
        c = calloc(1, sizeof(*c));
        if (c == NULL || !cb_strlcpy(c->agent, agent, sizeof(c->agent)))
                goto fail;
        c->waker = *waker;
        c->out.max = OUT_MAX;
        if (begin(c, last_event_id, resume) != 0)
                goto fail;
        c->next = hub.clients;
        if (hub.clients != NULL)
                hub.clients->prev = c;
        hub.clients = c;
        hub.nclients++;
        atomic_store(&cb_events_stats.streams, hub.nclients);
        pthread_mutex_unlock(&hub.mu);
        cb_presence_touch(c->agent, hub.cfg->server.sse_heartbeat_s * 3);
        return c;
refused:
        atomic_fetch_add(&cb_events_stats.refused, 1);
fail:
        pthread_mutex_unlock(&hub.mu);
        if (c != NULL)
                cb_buf_free(&c->out);
        free(c);
        return NULL;
}

void cb_events_client_close(struct cb_events_client **cp)
{
        struct cb_events_client *c = *cp;

        if (c == NULL)
                return;
        pthread_mutex_lock(&hub.mu);
        if (c->prev != NULL)
                c->prev->next = c->next;
        else
                hub.clients = c->next;
        if (c->next != NULL)
                c->next->prev = c->prev;
        hub.nclients--;
        if (c->gone)
                hub.ngone--;
        atomic_store(&cb_events_stats.streams, hub.nclients);
        pthread_mutex_unlock(&hub.mu);
        cb_buf_free(&c->out);
        free(c);
        *cp = NULL;
}

/* Caller holds the lock. */
static void append_and_wake(uint64_t id, const char *agent, const char *frame, size_t len)
{
        int rc;

        if (!hub.running || hub.stopping) {
                atomic_fetch_add(&cb_events_stats.dropped, 1);
                return;
        }
        rc = cb_events_ring_append(&hub.ring, id, agent, frame, len);
        if (rc < 0)
                atomic_fetch_add(&cb_events_stats.dropped, 1);
        if (rc <= 0)
                return;
        for (struct cb_events_client *c = hub.clients; c != NULL; c = c->next)
                if (agent[0] == '\0' || strcmp(c->agent, agent) == 0)
                        wake(c);
}

void cb_events_hub_deliver(uint64_t id, const char *agent, const char *type, const char *data)
{
        struct cb_buf frame = {.max = CB_EVENTS_DATA_MAX + 256};

        if (cb_events_frame(&frame, id, type, data) != 0) {
                atomic_fetch_add(&cb_events_stats.dropped, 1);
                cb_error("events: cannot frame a %s event (%zu bytes of data)", type, strlen(data));
                return;
        }
        pthread_mutex_lock(&hub.mu);
        append_and_wake(id, agent, frame.data, frame.len);
        pthread_mutex_unlock(&hub.mu);
        cb_buf_free(&frame);
}

void cb_events_hub_subscribed(uint64_t seq, bool after_loss)
{
        static const char reset[] = "event: reset\ndata: {\"reason\":\"resubscribed\"}\n\n";

        pthread_mutex_lock(&hub.mu);
        if (hub.running) {
                /* Ids up to `seq` were published before we listened (or while we did not). */
                if (!hub.ring.floor_known || seq > hub.ring.floor)
                        hub.ring.floor = seq;
                hub.ring.floor_known = true;
                if (after_loss) {
                        atomic_fetch_add(&cb_events_stats.resets, (unsigned long)hub.nclients);
                        append_and_wake(0, "", reset, sizeof(reset) - 1);
                }
        }
        pthread_mutex_unlock(&hub.mu);
}

/* Mark the agents with a stream here as online (cb_presence_*), outside the hub lock: a slow
 * Redis must not hold up the streams. Presence lasts three heartbeats, so an instance that
 * dies takes its agents offline by itself. */
static void touch_presence(char (*agents)[CB_EVENTS_AGENT_MAX], size_t n)
{
        long ttl = hub.cfg->server.sse_heartbeat_s * 3;

        for (size_t i = 0; i < n; i++)
                cb_presence_touch(agents[i], ttl);
}

#define PRESENCE_BATCH 256

static void *heartbeat_main(void *arg)
{
        static char agents[PRESENCE_BATCH][CB_EVENTS_AGENT_MAX];

        (void)arg;
        pthread_mutex_lock(&hub.mu);
        while (!hub.stopping) {
                struct timespec ts;
                size_t n = 0;
                cb_deadline_after_ms(hub.cfg->server.sse_heartbeat_s * 1000, &ts);
                if (pthread_cond_timedwait(&hub.cond, &hub.mu, &ts) != ETIMEDOUT)
                        continue; /* stop, or a spurious wake-up: check and wait again */
                for (struct cb_events_client *c = hub.clients; c != NULL; c = c->next) {
                        c->ping_due = true;
                        wake(c);
                        if (n < PRESENCE_BATCH)
                                cb_strlcpy(agents[n++], c->agent, sizeof(agents[0]));
                }
                pthread_mutex_unlock(&hub.mu);
                touch_presence(agents, n);
                pthread_mutex_lock(&hub.mu);
        }
        pthread_mutex_unlock(&hub.mu);
        return NULL;
}

int cb_events_hub_start(const struct cb_config *cfg)
{
        int rc = -1;

        pthread_mutex_lock(&hub.mu);
        if (hub.running) {
                cb_error("events: the hub is already running");
                goto out;
        }
        if (cb_events_ring_init(&hub.ring, (size_t)cfg->server.sse_buffer_events) != 0) {
                cb_error("events: out of memory for %ld buffered events",
                         cfg->server.sse_buffer_events);
                goto out;
        }
        hub.cfg = cfg;
        hub.stopping = false;
        if (pthread_create(&hub.heartbeat, NULL, heartbeat_main, NULL) != 0) {
                cb_error("events: cannot start the heartbeat thread");
                cb_events_ring_free(&hub.ring);
                goto out;
        }
        hub.running = true;
        rc = 0;
out:
        pthread_mutex_unlock(&hub.mu);
        return rc;
}

void cb_events_hub_stop(void)
{
        pthread_mutex_lock(&hub.mu);
        if (!hub.running || hub.stopping) {
                pthread_mutex_unlock(&hub.mu);
                return;
        }
        hub.stopping = true;
        for (struct cb_events_client *c = hub.clients; c != NULL; c = c->next)
                wake(c); /* its reader sees `stopping` and ends the stream */
        pthread_cond_broadcast(&hub.cond);
        pthread_mutex_unlock(&hub.mu);
        pthread_join(hub.heartbeat, NULL);
        pthread_mutex_lock(&hub.mu);
        cb_events_ring_free(&hub.ring); /* readers no longer look at it: `stopping` */
        hub.running = false;
        pthread_mutex_unlock(&hub.mu);
}
