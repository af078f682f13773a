/* Internals of src/events/: the ring of recent events and SSE framing (ring.c, pure), the
 * hub of streams (hub.c) and the Redis side (redis_sub.c). Unit tests include this. */
#ifndef CB_EVENTS_INT_H
#define CB_EVENTS_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "callbridge/events.h"

#define CB_EVENTS_RETRY_MS 3000

/* One event as every stream writes it. id 0: delivered locally only (Redis was down), no
 * `id:` line. agent "": a marker for every stream (an `event: reset` after a lost
 * subscription). */
struct cb_events_entry {
        uint64_t id;
        char *agent;
        char *frame;
        size_t len;
};

/* A fixed-size ring. Position p (0, 1, 2, ... in arrival order) lives in e[p % cap] while
 * head - cap <= p < head. */
struct cb_events_ring {
        struct cb_events_entry *e;
        size_t cap;
        uint64_t head;
        /* Events with an id <= floor may be missing from the ring (evicted, or published while
         * we were not subscribed); floor_known false: we cannot vouch for any id. */
        uint64_t floor;
        bool floor_known;
};

/* Allocate `cap` (>= 1) empty slots. Returns 0, or -1 when out of memory. */
int cb_events_ring_init(struct cb_events_ring *r, size_t cap);
/* Free every entry and the slots; the ring may be initialised again. */
void cb_events_ring_free(struct cb_events_ring *r);
/* Append copies of `agent` and `frame`, evicting the oldest entry when full (its id raises
 * the floor). An id already among the last 64 entries is skipped (a local delivery racing
 * the subscriber). Returns 1 appended, 0 skipped, -1 out of memory (ring unchanged). */
int cb_events_ring_append(struct cb_events_ring *r, uint64_t id, const char *agent,
                          const char *frame, size_t len);
/* The oldest position still held. */
uint64_t cb_events_ring_oldest(const struct cb_events_ring *r);
/* The entry at `pos`, or NULL when evicted or not yet written. Borrowed until the next
 * append. */
const struct cb_events_entry *cb_events_ring_at(const struct cb_events_ring *r, uint64_t pos);
/* True when the ring holds every event of an id > `last_id` this instance received. */
bool cb_events_ring_covers(const struct cb_events_ring *r, uint64_t last_id);

/* Append one SSE frame: "id: N\n" (unless id is 0), "event: TYPE\n", "data: DATA\n", "\n".
 * `data` must be one line (compact JSON). Returns 0 or -1 (buffer cap or memory). */
int cb_events_frame(struct cb_buf *out, uint64_t id, const char *type, const char *data);
/* Event types: 1..CB_EVENTS_TYPE_MAX of [a-z0-9_]. Agents: the apikey charset. */
bool cb_events_type_valid(const char *type);
bool cb_events_agent_valid(const char *agent);

/* The hub (hub.c). */
/* Make the ring ([server] sse_buffer_events) and start the heartbeat thread. 0 or -1. */
int cb_events_hub_start(const struct cb_config *cfg);
/* End every stream, join the heartbeat thread, free the ring. */
void cb_events_hub_stop(void);
/* Append an event (data: compact JSON text) and wake the agent's suspended streams. Dropped
 * (counted) when the hub is not running or out of memory. */
void cb_events_hub_deliver(uint64_t id, const char *agent, const char *type, const char *data);
/* The subscriber is (again) listening and Redis's sequence was at `seq`: ids above it will
 * arrive. After a lost subscription every stream also gets `event: reset` (events published
 * in between were missed). */
void cb_events_hub_subscribed(uint64_t seq, bool after_loss);

/* Counters shown by cb_events_metrics_write. */
struct cb_events_stats {
        atomic_ulong published;  /* through Redis */
        atomic_ulong local_only; /* Redis down: this instance's streams only */
        atomic_ulong received;   /* messages from the subscription */
        atomic_ulong delivered;  /* frames written to streams */
        atomic_ulong resets;     /* `event: reset` frames written */
        atomic_ulong refused;    /* streams refused by a cap or while stopping */
        atomic_ulong dropped;    /* events not appended (hub down, memory, bad message) */
        atomic_ulong reconnects; /* subscriptions made again after a loss */
        atomic_long streams;     /* open now */
        atomic_bool subscribed;
};
extern struct cb_events_stats cb_events_stats;

#endif
