/* The ring of recent events and SSE framing: pure logic, no locks (hub.c holds its lock). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "events_int.h"

#define DEDUP_WINDOW 64

int cb_events_ring_init(struct cb_events_ring *r, size_t cap)
{
        memset(r, 0, sizeof(*r));
        r->e = calloc(cap ? cap : 1, sizeof(*r->e));
        if (r->e == NULL)
                return -1;
        r->cap = cap ? cap : 1;
        return 0;
}

void cb_events_ring_free(struct cb_events_ring *r)
{
        if (r->e != NULL) {
                for (size_t i = 0; i < r->cap; i++) {
                        free(r->e[i].agent);
                        free(r->e[i].frame);
                }
                free(r->e);
        }
        memset(r, 0, sizeof(*r));
}

uint64_t cb_events_ring_oldest(const struct cb_events_ring *r)
{
        return r->head > r->cap ? r->head - r->cap : 0;
}

const struct cb_events_entry *cb_events_ring_at(const struct cb_events_ring *r, uint64_t pos)
{
        if (r->e == NULL || pos >= r->head || pos < cb_events_ring_oldest(r))
                return NULL;
        return &r->e[pos % r->cap];
}

static bool seen_recently(const struct cb_events_ring *r, uint64_t id)
{
        uint64_t oldest = cb_events_ring_oldest(r);
        uint64_t from = r->head > DEDUP_WINDOW ? r->head - DEDUP_WINDOW : 0;

        if (from < oldest)
                from = oldest;
        for (uint64_t p = from; p < r->head; p++)
                if (r->e[p % r->cap].id == id)
                        return true;
        return false;
}

int cb_events_ring_append(struct cb_events_ring *r, uint64_t id, const char *agent,
                          const char *frame, size_t len)
{
        struct cb_events_entry *slot;
        char *a;
        char *f;

        if (r->e == NULL)
                return -1;
        if (id != 0 && seen_recently(r, id))
                return 0;
        a = strdup(agent);
        f = malloc(len + 1);
        if (a == NULL || f == NULL) {
                free(a);
                free(f);
                return -1;
        }
        memcpy(f, frame, len);
        f[len] = '\0';
        slot = &r->e[r->head % r->cap];
        if (slot->frame != NULL && slot->id > r->floor)
                r->floor = slot->id; /* evicted: ids up to here may now be missing */
        free(slot->agent);
        free(slot->frame);
        *slot = (struct cb_events_entry){.id = id, .agent = a, .frame = f, .len = len};
        r->head++;
        return 1;
}

bool cb_events_ring_covers(const struct cb_events_ring *r, uint64_t last_id)
{
        return r->floor_known && last_id >= r->floor;
}

int cb_events_frame(struct cb_buf *out, uint64_t id, const char *type, const char *data)
{
        size_t before = out->len;
        int rc = 0;

        if (id != 0)
                rc = cb_buf_printf(out, "id: %" PRIu64 "\n", id);
        if (rc == 0)
                rc = cb_buf_printf(out, "event: %s\ndata: %s\n\n", type, data);
        if (rc != 0)
                out->len = before; /* no half frame */
        return rc;
}

bool cb_events_type_valid(const char *type)
{
        size_t n;

        if (type == NULL)
                return false;
        n = strspn(type, "abcdefghijklmnopqrstuvwxyz0123456789_");
        return n >= 1 && n <= CB_EVENTS_TYPE_MAX && type[n] == '\0';
}

bool cb_events_agent_valid(const char *agent)
{
        return cb_str_charset(agent, CB_EVENTS_AGENT_MAX - 1, "._@-");
}

bool cb_events_parse_id(const char *s, uint64_t *out)
{
        uint64_t v = 0;
        size_t n = 0;

        if (s == NULL)
                return false;
        for (; s[n] != '\0'; n++) {
                unsigned d = (unsigned)(s[n] - '0');
                if (d > 9 || n >= 20 || v > (UINT64_MAX - d) / 10)
                        return false;
                v = v * 10 + d;
        }
        if (n == 0)
                return false;
        *out = v;
        return true;
}
