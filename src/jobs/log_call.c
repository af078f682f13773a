/* Job crm.log_call: link the call to its CRM record (the number's lookup, or a new Lead by
 * the `unknown` policy) when the softphone named none, write (upsert) the call log, then
 * record the outcome on the call. Every step is idempotent, so the job may run again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/jobs.h"
#include "callbridge/log.h"
#include "callbridge/store_calls.h"
#include "callbridge/upstream.h"
#include "kinds.h"

/* The record to link `call` to: the lookup's newest match, or a Lead created for an unknown
 * caller. OK with *match (a new reference: its "id", "name", "company", "url") or NULL when
 * the call stays unlinked. */
static enum cb_result find_record(struct cb_job *job, const struct cb_call *call, json_t **match)
{
        const struct cb_config *cfg = job->env->cfg;
        struct cb_crm *crm = job->env->crm;
        const char *other = call->direction == CB_CALL_INBOUND ? call->from : call->to;
        struct cb_lookup_result res = {0};
        enum cb_result r;

        *match = NULL;
        if (other[0] == '\0')
                return CB_RESULT_OK;
        r = cb_lookup(crm, cfg, other, false, &res, job->error, sizeof(job->error));
        if (r != CB_RESULT_OK)
                return r;
        if (json_array_size(res.matches) > 0) {
                *match = json_incref(json_array_get(res.matches, 0));
        } else if (strcmp(cfg->crm.unknown, "create_lead") == 0 && crm->ops->create_lead != NULL) {
                r = crm->ops->create_lead(crm->self, other, match, job->error, sizeof(job->error));
                if (r == CB_RESULT_OK)
                        cb_lookup_invalidate(other);
        }
        cb_lookup_result_clear(&res);
        return r;
}

/* A call the softphone linked itself: its party from the cached lookup of the number, when
 * the record is among the matches. Best effort (the CRM is not asked, a failure is ignored):
 * the call log does not need it. */
static void fill_party(struct cb_job *job, const struct cb_call *call)
{
        const char *other = call->direction == CB_CALL_INBOUND ? call->from : call->to;
        struct cb_lookup_result res = {0};
        struct cb_db *db = NULL;
        json_t *m;
        char err[128];
        size_t i;

        if (other[0] == '\0' || cb_lookup(job->env->crm, job->env->cfg, other, true, &res, err,
                                          sizeof(err)) != CB_RESULT_OK)
                return;
        json_array_foreach(res.matches, i, m)
        {
                const char *id = json_string_value(json_object_get(m, "id"));
                if (id == NULL || strcmp(id, call->crm_record_id) != 0)
                        continue;
                db = cb_job_db(job);
                if (db != NULL &&
                    cb_store_call_set_party(db, job->row->call_id, call->crm_record_id, m) < 0)
                        cb_warn("call %s: could not record its party", job->row->call_id);
                cb_db_release(&db);
                break;
        }
        cb_lookup_result_clear(&res);
}

/* Link the call to a record when it has none; updates `call` to match. */
static enum cb_result link_record(struct cb_job *job, struct cb_call *call)
{
        const char *id = NULL;
        json_t *match = NULL;
        struct cb_db *db = NULL;
        enum cb_result r;

        if (call->crm_record_id[0] != '\0') {
                fill_party(job, call);
                return CB_RESULT_OK;
        }
        r = find_record(job, call, &match);
        id = json_string_value(json_object_get(match, "id"));
        if (r != CB_RESULT_OK || id == NULL || id[0] == '\0')
                goto out;
        db = cb_job_db(job);
        if (db == NULL) {
                r = CB_RESULT_RETRY;
                goto out;
        }
        if (cb_store_call_link_record(db, job->row->call_id, id, match) < 0) {
                snprintf(job->error, sizeof(job->error), "recording the CRM link failed");
                r = CB_RESULT_RETRY;
        }
        cb_db_release(&db);
        if (r == CB_RESULT_OK)
                cb_strlcpy(call->crm_record_id, id, sizeof(call->crm_record_id));
out:
        json_decref(match);
        return r;
}

/* What the CRM log shows of a call: when it changed while we wrote, we write again. */
static bool same_view(const struct cb_call *a, const struct cb_call *b)
{
        return a->status == b->status && a->duration_s == b->duration_s &&
               strcmp(a->disposition, b->disposition) == 0 && strcmp(a->notes, b->notes) == 0 &&
               strcmp(a->crm_record_id, b->crm_record_id) == 0;
}

/* write_mode = single and the call is over: one write with everything (log_call_single.c). */
static bool single_once(const struct cb_job *job, const struct cb_call *call)
{
        return strcmp(job->env->cfg->crm.write_mode, "single") == 0 &&
               cb_calls_status_final(call->status) && job->env->crm->ops->log_call_once != NULL;
}

bool cb_job_log_first(struct cb_job *job, const struct cb_call *call, enum cb_result *r)
{
        bool single = strcmp(job->env->cfg->crm.write_mode, "single") == 0 &&
                      job->env->crm->ops->log_call_once != NULL;

        if (!cb_calls_crm_log_first(single, call))
                return false;
        cb_wait_hint_set(1000);
        snprintf(job->error, sizeof(job->error), "%s",
                 single ? "single write: the call log is written first"
                        : "the call log is written first (it links the CRM record)");
        *r = CB_RESULT_WAIT;
        return true;
}

/* Several log jobs of one call may run at once (the start of the call, its final status): each
 * re-reads the call after its write and writes again while it moved, so the last write is
 * always of the newest state. */
#define MAX_REWRITES 4

/* Record where the call log ended up on the call. */
static enum cb_result record_state(struct cb_job *job, const struct cb_crm_logged *logged)
{
        struct cb_db *db = NULL;
        enum cb_result r = CB_RESULT_OK;

        if (logged->state == NULL) /* NULL: a newer job writes it */
                return r;
        db = cb_job_db(job);
        if (db == NULL || cb_store_call_set_crm(db, job->row->call_id, logged->state,
                                                logged->id[0] ? logged->id : NULL) < 0) {
                /* The CRM write is idempotent, so running it again is safe. */
                snprintf(job->error, sizeof(job->error), "recording the CRM state failed");
                r = CB_RESULT_RETRY;
        }
        cb_db_release(&db);
        return r;
}

enum cb_result cb_job_log_call(struct cb_job *job)
{
        struct cb_crm *crm = job->env->crm;
        struct cb_crm_logged logged = {.state = NULL};
        struct cb_call call, now;
        enum cb_result r = cb_job_load_call(job, &call);

        if (r != CB_RESULT_OK)
                return r;
        r = link_record(job, &call);
        for (int i = 0; r == CB_RESULT_OK && i < MAX_REWRITES; i++) {
                if (single_once(job, &call))
                        r = cb_job_log_call_single(job, &call, &logged);
                else
                        r = crm->ops->log_call(crm->self, &call, &logged, job->error,
                                               sizeof(job->error));
                if (r != CB_RESULT_OK)
                        return r;
                r = cb_job_load_call(job, &now);
                if (r != CB_RESULT_OK || same_view(&call, &now))
                        break;
                call = now;
        }
        return r == CB_RESULT_OK ? record_state(job, &logged) : r;
}

/* After the batch wrote `written`: record it, or when the call moved meanwhile write again
 * alone (the last write is always of the newest state). */
static enum cb_result after_batch(struct cb_job *job, const struct cb_call *written,
                                  const struct cb_crm_item *item)
{
        struct cb_call now;
        enum cb_result r = item->result;

        if (r != CB_RESULT_OK) {
                cb_strlcpy(job->error, item->err, sizeof(job->error));
                return r;
        }
        r = cb_job_load_call(job, &now);
        if (r != CB_RESULT_OK)
                return r;
        if (!same_view(written, &now))
                return cb_job_log_call(job);
        return record_state(job, &item->logged);
}

enum cb_result cb_job_log_call_prepare(struct cb_job *job, struct cb_job_crm *ctx,
                                       struct cb_job_crm_batch *batch)
{
        struct cb_crm_item item = {.call = &ctx->call};
        enum cb_result r = cb_job_load_call(job, &ctx->call);

        if (r == CB_RESULT_OK)
                r = link_record(job, &ctx->call);
        if (r != CB_RESULT_OK)
                return r;
        if (single_once(job, &ctx->call)) { /* one write with everything, alone */
                ctx->finished = true;
                return cb_job_log_call(job);
        }
        if (cb_job_crm_add(batch, ctx, CB_JOB_CRM_LOG, &item) != 0) {
                snprintf(job->error, sizeof(job->error), "out of memory");
                return CB_RESULT_RETRY;
        }
        return CB_RESULT_OK;
}

enum cb_result cb_job_log_call_settle(struct cb_job *job, struct cb_job_crm *ctx,
                                      const struct cb_crm_batch *batch)
{
        return after_batch(job, &ctx->call, cb_job_crm_item(batch, ctx, CB_JOB_CRM_LOG, 0));
}

void cb_job_log_call_dead(struct cb_job *job)
{
        struct cb_db *db = cb_db_acquire(job->env->pool, 2000);

        if (db == NULL || cb_store_call_set_crm(db, job->row->call_id, "failed", NULL) < 0)
                cb_warn("could not mark call %s as failed in the CRM state", job->row->call_id);
        cb_db_release(&db);
}
