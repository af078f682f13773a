/* Request counters and latency histograms per route, lock-free (relaxed atomics). */
#include <stdatomic.h>
#include <string.h>

#include "callbridge/http.h"
#include "access_log.h"
#include "conn_guard.h"

#define MAX_ROUTES 64
static const unsigned int statuses[] = {200, 201, 202, 204, 400, 401, 403, 404, 405, 409,
                                        413, 414, 415, 422, 429, 500, 502, 503, 504};
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]) + 1) /* + "other" */
static const double bounds_s[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                  0.05,   0.1,   0.25,   0.5,   1,    2.5};
#define NBUCKETS (sizeof(bounds_s) / sizeof(bounds_s[0]) + 1) /* + "+Inf" */

struct route_stats {
        atomic_ulong by_status[NSTATUS];
        atomic_ulong buckets[NBUCKETS];
        atomic_ulong sum_us;
        atomic_ulong count;
};
static struct route_stats stats[MAX_ROUTES + 1]; /* last slot: unmatched */

static size_t route_slot(const struct cb_route *route)
{
        if (route == NULL)
                return MAX_ROUTES;
        size_t i = (size_t)(route - cb_routes);
        return i < MAX_ROUTES ? i : MAX_ROUTES;
}

void cb_http_metrics_observe(const struct cb_route *route, unsigned int status, int64_t us)
{
        struct route_stats *s = &stats[route_slot(route)];
        size_t si = NSTATUS - 1;
        size_t bi = NBUCKETS - 1;

        for (size_t i = 0; i < NSTATUS - 1; i++)
                if (statuses[i] == status)
                        si = i;
        for (size_t i = 0; i < NBUCKETS - 1; i++) {
                if ((double)us <= bounds_s[i] * 1e6) {
                        bi = i;
                        break;
                }
        }
        atomic_fetch_add_explicit(&s->by_status[si], 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&s->buckets[bi], 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&s->sum_us, (unsigned long)(us > 0 ? us : 0),
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
}

static const char *slot_name(size_t i)
{
        return i < cb_routes_count && i < MAX_ROUTES ? cb_routes[i].pattern : "unmatched";
}

void cb_http_metrics_write(struct cb_buf *out)
{
        size_t nslots = cb_routes_count < MAX_ROUTES ? cb_routes_count : MAX_ROUTES;

        cb_buf_puts(out,
                    "# HELP callbridge_http_requests_total HTTP requests by route and status.\n"
                    "# TYPE callbridge_http_requests_total counter\n");
        for (size_t r = 0; r <= MAX_ROUTES; r++) {
                if (r >= nslots && r != MAX_ROUTES)
                        continue;
                for (size_t i = 0; i < NSTATUS; i++) {
                        unsigned long n = atomic_load(&stats[r].by_status[i]);
                        if (n == 0)
                                continue;
                        if (i < NSTATUS - 1)
                                cb_buf_printf(out,
                                              "callbridge_http_requests_total{route=\"%s\","
                                              "status=\"%u\"} %lu\n",
                                              slot_name(r), statuses[i], n);
                        else
                                cb_buf_printf(out,
                                              "callbridge_http_requests_total{route=\"%s\","
                                              "status=\"other\"} %lu\n",
                                              slot_name(r), n);
                }
        }
        cb_buf_puts(out, "# HELP callbridge_http_request_duration_seconds Time to answer.\n"
                         "# TYPE callbridge_http_request_duration_seconds histogram\n");
        for (size_t r = 0; r <= MAX_ROUTES; r++) {
                unsigned long cum = 0;
                unsigned long count = atomic_load(&stats[r].count);
                if ((r >= nslots && r != MAX_ROUTES) || count == 0)
                        continue;
                for (size_t i = 0; i < NBUCKETS; i++) {
                        cum += atomic_load(&stats[r].buckets[i]);
                        if (i < NBUCKETS - 1)
                                cb_buf_printf(out,
                                              "callbridge_http_request_duration_seconds_bucket{"
                                              "route=\"%s\",le=\"%g\"} %lu\n",
                                              slot_name(r), bounds_s[i], cum);
                        else
                                cb_buf_printf(out,
                                              "callbridge_http_request_duration_seconds_bucket{"
                                              "route=\"%s\",le=\"+Inf\"} %lu\n",
                                              slot_name(r), cum);
                }
                cb_buf_printf(out,
                              "callbridge_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
                              "callbridge_http_request_duration_seconds_count{route=\"%s\"} %lu\n",
                              slot_name(r), (double)atomic_load(&stats[r].sum_us) / 1e6,
                              slot_name(r), count);
        }
        cb_buf_printf(out,
                      "# HELP callbridge_http_slow_requests_cut_total Connections closed because "
                      "their request did not arrive within [server] connection_timeout_s.\n"
                      "# TYPE callbridge_http_slow_requests_cut_total counter\n"
                      "callbridge_http_slow_requests_cut_total %lu\n",
                      cb_conn_guard_cuts());
        cb_access_log_metrics_write(out);
}
