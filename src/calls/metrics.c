/* Call metrics for /metrics: per agent, counters of finished calls by direction and outcome,
 * histograms of wait (ring until answer), talk and wrap-up time. In memory, since the process
 * started; one mutex (a call ends a few hundred times a second at most, and the work under
 * the lock is a hash probe and a few additions). */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/calls.h"

#define AGENTS_MAX 1000 /* then "other" */
#define SLOTS      2048 /* open addressing, a power of two > AGENTS_MAX */

static const double wait_bounds[] = {1, 2, 5, 10, 15, 20, 30, 45, 60, 120, 300};
static const double talk_bounds[] = {10, 30, 60, 120, 300, 600, 1200, 1800, 3600};
static const double wrap_bounds[] = {5, 10, 20, 30, 60, 120, 300, 600};
#define NB_MAX 12 /* the longest bounds list, + "+Inf" */

struct histogram {
        uint64_t buckets[NB_MAX]; /* not cumulative; the writer adds them up */
        double sum;
        uint64_t count;
};

struct agent_stats {
        char name[CB_AGENT_MAX];
        uint64_t calls[2][CB_OUTCOME_COUNT]; /* [direction][outcome] */
        struct histogram wait, talk, wrap;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct agent_stats *slots[SLOTS];
static struct agent_stats *order[AGENTS_MAX + 1]; /* in first-seen order; + "other" */
static size_t n_agents;
static struct agent_stats other = {.name = "other"};
static bool other_used;

static uint32_t fnv1a(const char *s)
{
        uint32_t h = 2166136261u;

        for (; *s != '\0'; s++)
                h = (h ^ (unsigned char)*s) * 16777619u;
        return h;
}

/* The agent's record, created on first sight; "other" past AGENTS_MAX, for names that are no
 * valid identity, or when out of memory. Under `lock` (agent_locked, which also notes that
 * "other" is in use). */
static struct agent_stats *find_locked(const char *name)
{
        uint32_t i;

        if (!cb_calls_agent_valid(name))
                return &other;
        for (i = fnv1a(name) & (SLOTS - 1); slots[i] != NULL; i = (i + 1) & (SLOTS - 1))
                if (strcmp(slots[i]->name, name) == 0)
                        return slots[i];
        if (n_agents == AGENTS_MAX)
                return &other;
        slots[i] = calloc(1, sizeof(*slots[i])); /* lives as long as the process */
        if (slots[i] == NULL)
                return &other;
        cb_strlcpy(slots[i]->name, name, sizeof(slots[i]->name));
        order[n_agents++] = slots[i];
        return slots[i];
}

static struct agent_stats *agent_locked(const char *name)
{
        struct agent_stats *a = find_locked(name);

        if (a == &other)
                other_used = true;
        return a;
}

static void observe(struct histogram *h, const double *bounds, size_t nb, double v)
{
        size_t b = 0;

        while (b < nb && v > bounds[b])
                b++;
        h->buckets[b]++;
        h->sum += v;
        h->count++;
}

void cb_calls_metrics_observe(const struct cb_call_sample *s)
{
        if ((unsigned)s->outcome >= CB_OUTCOME_COUNT || (unsigned)s->direction > CB_CALL_INBOUND)
                return;
        pthread_mutex_lock(&lock);
        struct agent_stats *a = agent_locked(s->agent);
        a->calls[s->direction][s->outcome]++;
        if (s->wait_s >= 0)
                observe(&a->wait, wait_bounds, CB_ARRAY_LEN(wait_bounds), s->wait_s);
        if (s->talk_s >= 0)
                observe(&a->talk, talk_bounds, CB_ARRAY_LEN(talk_bounds), s->talk_s);
        pthread_mutex_unlock(&lock);
}

void cb_calls_metrics_wrap_up(const char *agent, double seconds)
{
        if (seconds < 0)
                return;
        pthread_mutex_lock(&lock);
        observe(&agent_locked(agent)->wrap, wrap_bounds, CB_ARRAY_LEN(wrap_bounds), seconds);
        pthread_mutex_unlock(&lock);
}

static int write_histogram(struct cb_buf *out, const char *metric, const char *agent,
                           const struct histogram *h, const double *bounds, size_t nb)
{
        uint64_t cum = 0;
        int rc = 0;

        for (size_t b = 0; b < nb; b++) {
                cum += h->buckets[b];
                rc |= cb_buf_printf(out, "%s_bucket{agent=\"%s\",le=\"%g\"} %llu\n", metric, agent,
                                    bounds[b], (unsigned long long)cum);
        }
        cum += h->buckets[nb];
        rc |= cb_buf_printf(out, "%s_bucket{agent=\"%s\",le=\"+Inf\"} %llu\n", metric, agent,
                            (unsigned long long)cum);
        rc |= cb_buf_printf(out, "%s_sum{agent=\"%s\"} %.3f\n", metric, agent, h->sum);
        return rc | cb_buf_printf(out, "%s_count{agent=\"%s\"} %llu\n", metric, agent,
                                  (unsigned long long)h->count);
}

/* The agents seen so far, and "other" once it was used. Under `lock`. */
static size_t agents_locked(const struct agent_stats **list)
{
        size_t n = 0;

        for (; n < n_agents; n++)
                list[n] = order[n];
        if (other_used)
                list[n++] = &other;
        return n;
}

int cb_calls_metrics_write(struct cb_buf *out)
{
        static const struct agent_stats *list[AGENTS_MAX + 1];
        int rc = 0;
        size_t n;

        pthread_mutex_lock(&lock);
        n = agents_locked(list);
        rc |= cb_buf_puts(out, "# HELP callbridge_calls_total Finished calls by agent, direction "
                               "and outcome.\n# TYPE callbridge_calls_total counter\n");
        for (size_t i = 0; i < n; i++)
                for (int d = 0; d <= CB_CALL_INBOUND; d++)
                        for (int o = 0; o < CB_OUTCOME_COUNT; o++)
                                if (list[i]->calls[d][o] != 0)
                                        rc |= cb_buf_printf(
                                            out,
                                            "callbridge_calls_total{agent=\"%s\",direction=\"%s\","
                                            "outcome=\"%s\"} %llu\n",
                                            list[i]->name,
                                            cb_calls_direction_name((enum cb_call_direction)d),
                                            cb_calls_outcome_name((enum cb_call_outcome)o),
                                            (unsigned long long)list[i]->calls[d][o]);
        rc |=
            cb_buf_puts(out, "# HELP callbridge_call_wait_seconds Answered inbound calls: "
                             "ring until answer.\n# TYPE callbridge_call_wait_seconds histogram\n");
        for (size_t i = 0; i < n; i++)
                rc |= write_histogram(out, "callbridge_call_wait_seconds", list[i]->name,
                                      &list[i]->wait, wait_bounds, CB_ARRAY_LEN(wait_bounds));
        rc |= cb_buf_puts(out, "# HELP callbridge_call_talk_seconds Answered calls: talk time.\n"
                               "# TYPE callbridge_call_talk_seconds histogram\n");
        for (size_t i = 0; i < n; i++)
                rc |= write_histogram(out, "callbridge_call_talk_seconds", list[i]->name,
                                      &list[i]->talk, talk_bounds, CB_ARRAY_LEN(talk_bounds));
        rc |= cb_buf_puts(out, "# HELP callbridge_agent_wrap_up_seconds Time agents spent in "
                               "wrap-up after a call.\n"
                               "# TYPE callbridge_agent_wrap_up_seconds histogram\n");
        for (size_t i = 0; i < n; i++)
                rc |= write_histogram(out, "callbridge_agent_wrap_up_seconds", list[i]->name,
                                      &list[i]->wrap, wrap_bounds, CB_ARRAY_LEN(wrap_bounds));
        pthread_mutex_unlock(&lock);
        return rc != 0 ? -1 : 0;
}
