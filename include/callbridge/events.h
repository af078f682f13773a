/* Server-Sent Events per agent (GET /api/events), fanned out between instances through Redis
 * pub/sub (src/events/).
 *
 * cb_events_publish runs one EVAL that takes the next global id (`<prefix>events:seq`) and
 * PUBLISHes {"id","agent","type","data"} on `<prefix>events`; every instance's subscriber
 * thread appends what it receives to a bounded ring of recent events and wakes that agent's
 * streams. Ids are global and increasing, so `Last-Event-ID` resumes on any instance whose
 * ring still holds the events. When Redis cannot be reached an event is delivered to this
 * instance's streams only, without an id (it cannot be resumed; the client's last id stays
 * valid). */
#ifndef CALLBRIDGE_EVENTS_H
#define CALLBRIDGE_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callbridge/config.h"
#include "callbridge/errors.h"
#include "callbridge/util.h"

#define CB_EVENTS_DATA_MAX  32768 /* bytes of one event's compact JSON data */
#define CB_EVENTS_TYPE_MAX  32    /* event type: 1-32 of [a-z0-9_] */
#define CB_EVENTS_AGENT_MAX 128   /* agent names are shorter than this (CB_AGENT_MAX) */

/* Start the Redis subscriber thread and the heartbeat timer. An unreachable Redis is not a
 * failure (the subscriber retries with a pause). Returns 0, or -1 (logged) when a thread or
 * the ring cannot be made. `cfg` must outlive cb_events_stop; [server] sse_heartbeat_s is
 * re-read every beat, so a SIGHUP reload applies to the next one. */
int cb_events_start(const struct cb_config *cfg);
/* End every open stream (each reader sees end-of-stream, so SIGTERM drains fast), refuse new
 * ones, join the threads and free the ring. Safe when never started; idempotent. */
void cb_events_stop(void);

/* Publish an event to one agent's streams on every instance. Never blocks on a slow client;
 * may block at most [redis] timeout_ms on Redis. `data` is borrowed (serialised compactly,
 * at most CB_EVENTS_DATA_MAX bytes). Returns 0, or -1 when it could only be delivered
 * locally (Redis down; counted in metrics) or not at all (bad agent, type or data, logged as
 * an error). */
int cb_events_publish(const char *agent, const char *type, const json_t *data);
/* One event to publish; everything borrowed. */
struct cb_event_out {
        const char *agent;
        const char *type;
        const json_t *data;
};
/* cb_events_publish for `n` events in one Redis round trip (pipelined), in order. Returns how
 * many went through Redis; the others were delivered locally or refused (logged), as above. */
size_t cb_events_publish_many(const struct cb_event_out *evs, size_t n);

/* Append Prometheus text: open streams, events published/received/delivered/local-only,
 * resets sent, streams refused, subscriber state and reconnects. */
void cb_events_metrics_write(struct cb_buf *out);

/* ---- streams: used by the GET /api/events handler --------------------------------------- */

/* How the hub parks and wakes a stream's connection. suspend() is called from inside
 * cb_events_client_read (the server's content-reader callback), resume() from any thread;
 * both run under the hub's lock, so a wake-up can never slip between "nothing to send" and
 * the suspension. Neither may call back into this module. */
struct cb_events_waker {
        void (*suspend)(void *ctx);
        void (*resume)(void *ctx);
        void *ctx;
        int fd; /* the client's socket, polled for a hang-up at a cap; <= 0: unknown */
};

struct cb_events_client;

/* Parse a Last-Event-ID: 1-20 decimal digits fitting uint64. False (out untouched) else. */
bool cb_events_parse_id(const char *s, uint64_t *out);

/* Open a stream for `agent`. `last_event_id`: NULL, or the decimal id from Last-Event-ID;
 * newer buffered events of the agent are replayed first, or `event: reset` is sent when the
 * ring no longer covers them. Returns the client, or NULL with *err = NOT_READY (not started,
 * stopping, or [server] sse_max_streams reached), TOO_MANY_STREAMS (the agent's
 * sse_max_streams_per_agent reached) or INTERNAL (out of memory). */
struct cb_events_client *cb_events_client_open(const char *agent, uint64_t last_event_id,
                                               bool resume, const struct cb_events_waker *waker,
                                               enum cb_err *err);
/* Copy up to `max` bytes of pending frames into `buf`. Returns the count; 0 when nothing is
 * pending, after waker->suspend was called (the hub resumes it when something arrives or a
 * heartbeat is due); -1 at end of stream (stopping, or out of memory). */
long cb_events_client_read(struct cb_events_client *c, char *buf, size_t max);
/* Unregister and free the client (the response's free callback). Clears *c; NULL is fine. */
void cb_events_client_close(struct cb_events_client **c);

#endif
