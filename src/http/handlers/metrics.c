/* GET /metrics: Prometheus text exposition. */
#include <string.h>

#include "callbridge/cache.h"
#include "callbridge/calls.h"
#include "callbridge/crm.h"
#include "callbridge/events.h"
#include "callbridge/redact.h"
#include "callbridge/nlp_llm.h"
#include "callbridge/store_jobs.h"
#include "callbridge/upstream.h"
#include "handlers/handlers.h"

static void queue_depth(struct cb_request *req, struct cb_buf *out)
{
        struct cb_db *db = cb_db_acquire(req->env->pool, 1000);
        json_t *rows = NULL;
        size_t i;
        json_t *row;

        cb_buf_puts(out, "# HELP callbridge_jobs Jobs by kind and state (done jobs excluded).\n"
                         "# TYPE callbridge_jobs gauge\n");
        if (db == NULL)
                return;
        if (cb_store_job_depth(db, &rows) < 0)
                rows = NULL;
        cb_db_release(&db);
        json_array_foreach(rows, i, row)
        {
                cb_buf_printf(out, "callbridge_jobs{kind=\"%s\",state=\"%s\"} %lld\n",
                              json_string_value(json_array_get(row, 0)),
                              json_string_value(json_array_get(row, 1)),
                              (long long)json_integer_value(json_array_get(row, 2)));
        }
        cb_buf_puts(out, "# HELP callbridge_jobs_oldest_seconds Age of the oldest job by kind "
                         "and state.\n# TYPE callbridge_jobs_oldest_seconds gauge\n");
        json_array_foreach(rows, i, row)
        {
                cb_buf_printf(out,
                              "callbridge_jobs_oldest_seconds{kind=\"%s\",state=\"%s\"} %.3f\n",
                              json_string_value(json_array_get(row, 0)),
                              json_string_value(json_array_get(row, 1)),
                              json_real_value(json_array_get(row, 3)));
        }
        cb_buf_puts(out, "# HELP callbridge_jobs_waiting Queued jobs an upstream told to wait "
                         "(allowance, 429, budget hold), by kind.\n"
                         "# TYPE callbridge_jobs_waiting gauge\n");
        json_array_foreach(rows, i, row)
        {
                if (strcmp(json_string_value(json_array_get(row, 1)), "queued") == 0)
                        cb_buf_printf(out, "callbridge_jobs_waiting{kind=\"%s\"} %lld\n",
                                      json_string_value(json_array_get(row, 0)),
                                      (long long)json_integer_value(json_array_get(row, 4)));
        }
        json_decref(rows);
}

enum MHD_Result cb_handle_metrics(struct cb_request *req)
{
        struct cb_buf out = {.max = 1 << 22};
        enum MHD_Result ret;

        cb_http_metrics_write(&out);
        cb_jobs_metrics_write(&out);
        queue_depth(req, &out);
        cb_upstream_metrics_write(&out);
        cb_cache_metrics_write(&out);
        cb_lookup_metrics_write(&out);
        cb_webhook_metrics_write(&out);
        cb_twilio_status_metrics_write(&out);
        cb_pipeline_metrics_write(&out);
        cb_redact_metrics_write(&out);
        cb_nlp_llm_metrics_write(&out);
        (void)cb_calls_metrics_write(&out); /* a short text is still worth serving */
        cb_retention_metrics_write(&out);
        if (req->env->stt != NULL && req->env->stt->ops->metrics != NULL)
                req->env->stt->ops->metrics(req->env->stt->self, &out);
        cb_events_metrics_write(&out);
        if (req->env->crm->ops->metrics != NULL)
                req->env->crm->ops->metrics(req->env->crm->self, &out);
        ret = cb_reply_text(req, 200, "text/plain; version=0.0.4; charset=utf-8",
                            out.data ? out.data : "", out.len);
        cb_buf_free(&out);
        return ret;
}
