/* Pipeline latency histograms per stage (SPEC §8, issue 6): observed once per transcript when
 * its CRM write-back is done, from the timestamps PostgreSQL kept — so every stage is measured
 * on one clock, whatever instance ran it. Lock-free (relaxed atomics). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "kinds.h"

static const double bounds_s[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                  2.5,  5,     10,   15,  30,   60,  300};
#define NB (sizeof(bounds_s) / sizeof(bounds_s[0]) + 1)

static const char *const stages[] = {"stored", "transcribed", "analysed", "crm_written", "total"};
#define NS (sizeof(stages) / sizeof(stages[0]))

static struct {
        atomic_ulong buckets[NB];
        atomic_ulong count;
        atomic_ullong sum_us;
} hist[NS];

void cb_pipeline_observe(const char *stage, double seconds)
{
        size_t s, b = NB - 1;

        for (s = 0; s < NS && strcmp(stages[s], stage) != 0; s++)
                ;
        if (s == NS || seconds < 0)
                return;
        for (size_t i = 0; i < NB - 1; i++)
                if (seconds <= bounds_s[i]) {
                        b = i;
                        break;
                }
        atomic_fetch_add_explicit(&hist[s].buckets[b], 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&hist[s].count, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&hist[s].sum_us, (unsigned long long)(seconds * 1e6),
                                  memory_order_relaxed);
}

/* Analyses by tag: a small table of the tag names seen (the rules file defines them). */
#define MAX_TAGS 64
static pthread_mutex_t tags_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
        char name[64];
        unsigned long count;
} tags[MAX_TAGS];
static size_t ntags;
static unsigned long analyses;

void cb_pipeline_count_tags(const json_t *list)
{
        const json_t *v;
        size_t i, k;

        pthread_mutex_lock(&tags_lock);
        analyses++;
        json_array_foreach(list, i, v)
        {
                const char *name = json_string_value(v);
                if (name == NULL)
                        continue;
                for (k = 0; k < ntags && strcmp(tags[k].name, name) != 0; k++)
                        ;
                if (k == ntags && ntags < MAX_TAGS &&
                    cb_strlcpy(tags[k].name, name, sizeof(tags[k].name)))
                        ntags++;
                if (k < ntags)
                        tags[k].count++;
        }
        pthread_mutex_unlock(&tags_lock);
}

static void tags_write(struct cb_buf *out)
{
        cb_buf_puts(out, "# HELP callbridge_analyses_total Transcripts analysed.\n"
                         "# TYPE callbridge_analyses_total counter\n");
        pthread_mutex_lock(&tags_lock);
        cb_buf_printf(out, "callbridge_analyses_total %lu\n", analyses);
        cb_buf_puts(out, "# HELP callbridge_analysis_tags_total Analyses that got each tag.\n"
                         "# TYPE callbridge_analysis_tags_total counter\n");
        for (size_t k = 0; k < ntags; k++) {
                cb_buf_puts(out, "callbridge_analysis_tags_total{tag=\"");
                for (const char *c = tags[k].name; *c; c++) /* label values: escape " and \ */
                        cb_buf_printf(out, "%s%c", *c == '"' || *c == '\\' ? "\\" : "", *c);
                cb_buf_printf(out, "\"} %lu\n", tags[k].count);
        }
        pthread_mutex_unlock(&tags_lock);
}

void cb_pipeline_metrics_write(struct cb_buf *out)
{
        tags_write(out);
        cb_buf_puts(out, "# HELP callbridge_pipeline_stage_seconds Time of each pipeline stage:"
                         " stored (recording made -> blob stored), transcribed (stored -> "
                         "transcript), analysed, crm_written (analysed -> CRM written), total "
                         "(recording made -> CRM written).\n"
                         "# TYPE callbridge_pipeline_stage_seconds histogram\n");
        for (size_t s = 0; s < NS; s++) {
                unsigned long cum = 0;
                for (size_t i = 0; i < NB; i++) {
                        char le[32];
                        cum += atomic_load_explicit(&hist[s].buckets[i], memory_order_relaxed);
                        if (i < NB - 1)
                                snprintf(le, sizeof(le), "%g", bounds_s[i]);
                        else
                                snprintf(le, sizeof(le), "+Inf");
                        cb_buf_printf(out,
                                      "callbridge_pipeline_stage_seconds_bucket{stage=\"%s\","
                                      "le=\"%s\"} %lu\n",
                                      stages[s], le, cum);
                }
                cb_buf_printf(out, "callbridge_pipeline_stage_seconds_sum{stage=\"%s\"} %.6f\n",
                              stages[s], (double)atomic_load(&hist[s].sum_us) / 1e6);
                cb_buf_printf(out, "callbridge_pipeline_stage_seconds_count{stage=\"%s\"} %lu\n",
                              stages[s], atomic_load(&hist[s].count));
        }
}
