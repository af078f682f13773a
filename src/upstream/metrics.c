/* Upstream request counters and latency histograms by service (a small fixed table). */
#include <pthread.h>
#include <string.h>

#include "callbridge/upstream.h"
#include "upstream_int.h"

#define MAX_SERVICES 16
static const char *const classes[] = {"error", "1xx", "2xx", "3xx", "4xx", "5xx"};
static const double bounds_s[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                  0.25,  0.5,    1,     2.5,  5,     10};
#define NBUCKETS (sizeof(bounds_s) / sizeof(bounds_s[0]) + 1)

struct service_stats {
        char name[32];
        unsigned long by_class[6];
        unsigned long buckets[NBUCKETS];
        double sum_s;
        unsigned long count;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct service_stats services[MAX_SERVICES];
static size_t nservices;

void cb_upstream_observe(const char *service, long status, int64_t us)
{
        struct service_stats *s = NULL;
        size_t cls = status >= 100 && status < 600 ? (size_t)(status / 100) : 0;
        size_t bi = NBUCKETS - 1;
        double secs = (double)us / 1e6;

        if (service == NULL)
                service = "other";
        for (size_t i = 0; i < NBUCKETS - 1; i++) {
                if (secs <= bounds_s[i]) {
                        bi = i;
                        break;
                }
        }
        pthread_mutex_lock(&lock);
        for (size_t i = 0; i < nservices && s == NULL; i++)
                if (strcmp(services[i].name, service) == 0)
                        s = &services[i];
        if (s == NULL && nservices < MAX_SERVICES) {
                s = &services[nservices++];
                cb_strlcpy(s->name, service, sizeof(s->name));
        }
        if (s != NULL) {
                s->by_class[cls]++;
                s->buckets[bi]++;
                s->sum_s += secs;
                s->count++;
        }
        pthread_mutex_unlock(&lock);
}

void cb_upstream_metrics_write(struct cb_buf *out)
{
        pthread_mutex_lock(&lock);
        cb_buf_puts(out, "# HELP callbridge_upstream_requests_total Upstream requests by service "
                         "and status class (error = no response).\n"
                         "# TYPE callbridge_upstream_requests_total counter\n");
        for (size_t i = 0; i < nservices; i++)
                for (size_t c = 0; c < CB_ARRAY_LEN(classes); c++)
                        if (services[i].by_class[c])
                                cb_buf_printf(out,
                                              "callbridge_upstream_requests_total{service=\"%s\","
                                              "status=\"%s\"} %lu\n",
                                              services[i].name, classes[c],
                                              services[i].by_class[c]);
        cb_buf_puts(out, "# HELP callbridge_upstream_duration_seconds Upstream request time.\n"
                         "# TYPE callbridge_upstream_duration_seconds histogram\n");
        for (size_t i = 0; i < nservices; i++) {
                unsigned long cum = 0;
                for (size_t b = 0; b < NBUCKETS; b++) {
                        cum += services[i].buckets[b];
                        if (b < NBUCKETS - 1)
                                cb_buf_printf(out,
                                              "callbridge_upstream_duration_seconds_bucket{"
                                              "service=\"%s\",le=\"%g\"} %lu\n",
                                              services[i].name, bounds_s[b], cum);
                        else
                                cb_buf_printf(out,
                                              "callbridge_upstream_duration_seconds_bucket{"
                                              "service=\"%s\",le=\"+Inf\"} %lu\n",
                                              services[i].name, cum);
                }
                cb_buf_printf(out,
                              "callbridge_upstream_duration_seconds_sum{service=\"%s\"} %.6f\n"
                              "callbridge_upstream_duration_seconds_count{service=\"%s\"} %lu\n",
                              services[i].name, services[i].sum_s, services[i].name,
                              services[i].count);
        }
        pthread_mutex_unlock(&lock);
}
