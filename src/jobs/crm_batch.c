/* One runner for every CRM kind: the claimed jobs of the kinds with crm_prepare/crm_settle
 * (call logs, recording links, analyses, follow-ups) are prepared by their kinds into one
 * batch, which goes to the CRM in ONE cb_crm_write_batch (Salesforce: one Composite request),
 * and each job is settled from its own items: one job's failure never fails another. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/jobs.h"
#include "kinds.h"

/* The list `list` of `b` and its length. */
static struct cb_crm_item **list_of(struct cb_crm_batch *b, enum cb_job_crm_list list, size_t **len)
{
        switch (list) {
        case CB_JOB_CRM_LOG:
                *len = &b->nlogs;
                return &b->logs;
        case CB_JOB_CRM_ATTACH:
                *len = &b->nattaches;
                return &b->attaches;
        default:
                *len = &b->ntasks;
                return &b->tasks;
        }
}

int cb_job_crm_add(struct cb_job_crm_batch *batch, struct cb_job_crm *ctx,
                   enum cb_job_crm_list list, const struct cb_crm_item *item)
{
        size_t *len;
        struct cb_crm_item **items = list_of(&batch->b, list, &len);

        if (*len == batch->cap[list]) {
                size_t cap = batch->cap[list] ? batch->cap[list] * 2 : 16;
                struct cb_crm_item *grown = realloc(*items, cap * sizeof(**items));
                if (grown == NULL)
                        return -1;
                *items = grown;
                batch->cap[list] = cap;
        }
        if (ctx->count[list] == 0)
                ctx->first[list] = *len;
        (*items)[(*len)++] = *item;
        ctx->count[list]++;
        return 0;
}

const struct cb_crm_item *cb_job_crm_item(const struct cb_crm_batch *batch,
                                          const struct cb_job_crm *ctx, enum cb_job_crm_list list,
                                          size_t i)
{
        size_t *len;
        struct cb_crm_item **items = list_of((struct cb_crm_batch *)batch, list, &len);

        return &(*items)[ctx->first[list] + i];
}

enum cb_result cb_job_crm_outcome(struct cb_job *job, const struct cb_job_crm *ctx,
                                  const struct cb_crm_batch *batch)
{
        for (int l = 0; l < CB_JOB_CRM_LISTS; l++)
                for (size_t i = 0; i < ctx->count[l]; i++) {
                        const struct cb_crm_item *it =
                            cb_job_crm_item(batch, ctx, (enum cb_job_crm_list)l, i);
                        if (it->result != CB_RESULT_OK) {
                                cb_strlcpy(job->error, it->err[0] ? it->err : "CRM write failed",
                                           sizeof(job->error));
                                return it->result;
                        }
                }
        return CB_RESULT_OK;
}

enum cb_result cb_job_crm_settle_items(struct cb_job *job, struct cb_job_crm *ctx,
                                       const struct cb_crm_batch *batch)
{
        return cb_job_crm_outcome(job, ctx, batch);
}

void cb_job_crm_run(struct cb_job *jobs, const struct cb_job_kind *const *kinds, size_t n,
                    enum cb_result *res)
{
        struct cb_job_crm *ctx = calloc(n ? n : 1, sizeof(*ctx));
        struct cb_job_crm_batch batch;
        bool *settle = calloc(n ? n : 1, sizeof(*settle));

        memset(&batch, 0, sizeof(batch));
        for (size_t i = 0; i < n; i++) {
                if (ctx == NULL || settle == NULL) { /* out of memory: one by one */
                        res[i] = kinds[i]->run(&jobs[i]);
                        continue;
                }
                res[i] = kinds[i]->crm_prepare(&jobs[i], &ctx[i], &batch);
                settle[i] = res[i] == CB_RESULT_OK && !ctx[i].finished;
        }
        if (n > 0 && ctx != NULL && settle != NULL)
                cb_crm_write_batch(jobs[0].env->crm, &batch.b);
        for (size_t i = 0; ctx != NULL && settle != NULL && i < n; i++) {
                if (settle[i])
                        res[i] = kinds[i]->crm_settle(&jobs[i], &ctx[i], &batch.b);
                if (res[i] == CB_RESULT_RETRY && jobs[i].error[0] == '\0')
                        snprintf(jobs[i].error, sizeof(jobs[i].error), "out of memory");
                json_decref(ctx[i].hold);
        }
        free(batch.b.logs);
        free(batch.b.attaches);
        free(batch.b.tasks);
        free(ctx);
        free(settle);
}
