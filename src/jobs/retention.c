/* Job retention.sweep: delete the recordings (and transcripts; live transcripts and their
 * segments by when the transcription started) older than [retention] days (calls
 * under legal hold are kept), one instance at a time — a session advisory lock on the job's
 * connection; an instance that cannot take it leaves the work to the one that has it. Each
 * recording: the blob is removed from storage first, then the row says deleted and retention_log
 * keeps a line; a crash in between only repeats a removal. /r/{id} then answers 410 Gone.
 *
 * Then, under the same lock, the orphans: every writer notes a blob's key (storage_intents)
 * before writing it; an intent older than [retention] orphan_grace_s whose key a recording or
 * transcript row names is forgotten, one no row names is a blob whose save failed or never
 * happened — removed from storage (a missing blob is fine), then forgotten. Each key in its own
 * transaction holding the intent's row: a writer that notes the key again meanwhile (an upload
 * does, just before its blob becomes visible) waits, then starts a new grace. A crash in
 * between only repeats a removal. */
#include <stdatomic.h>
#include <stdio.h>

#include "callbridge/jobs.h"
#include "callbridge/log.h"
#include "callbridge/store_recordings.h"
#include "callbridge/store_transcripts.h"
#include "kinds.h"

#define LOCK_KEY         "1667393394" /* "cbre" */
#define BATCH            200
#define MAX_BATCH        50 /* per run: 10,000 recordings; the next run goes on */
#define ORPHAN_BATCH     200
#define ORPHAN_MAX_BATCH 50 /* per run: 10,000 intents; the next run goes on */

static atomic_ulong orphans_removed;

void cb_retention_metrics_write(struct cb_buf *out)
{
        cb_buf_printf(out,
                      "# HELP callbridge_storage_orphans_removed_total Blobs the retention sweep "
                      "removed because no row named them (a save that failed or never ran).\n"
                      "# TYPE callbridge_storage_orphans_removed_total counter\n"
                      "callbridge_storage_orphans_removed_total %lu\n",
                      atomic_load_explicit(&orphans_removed, memory_order_relaxed));
}

static int sweep_batch(struct cb_job *job, struct cb_db *db, int *removed)
{
        struct cb_storage *st = job->env->rec->storage;
        json_t *rows = NULL, *row;
        size_t i;
        int n;

        if (cb_store_recordings_expired(db, job->env->cfg->retention.days, BATCH, &rows) < 0)
                return -1;
        n = (int)json_array_size(rows);
        json_array_foreach(rows, i, row)
        {
                const char *id = json_string_value(json_array_get(row, 0));
                const char *keys[2] = {json_string_value(json_array_get(row, 1)),
                                       json_string_value(json_array_get(row, 2))};
                char err[256];
                for (int k = 0; k < 2; k++) {
                        if (keys[k] == NULL || keys[k][0] == '\0' ||
                            st->ops->remove(st->self, keys[k], err, sizeof(err)) == 0)
                                continue;
                        cb_warn("retention: cannot remove %s: %s", keys[k], err);
                        json_decref(rows);
                        return -1;
                }
                if (cb_store_recording_deleted(db, id) < 0) {
                        json_decref(rows);
                        return -1;
                }
                (*removed)++;
        }
        json_decref(rows);
        return n;
}

/* Live transcripts (no recording of their own): the sealed document, then the rows. The number
 * listed, or -1. */
static int sweep_live(struct cb_job *job, struct cb_db *db, int *removed)
{
        struct cb_storage *st = job->env->rec->storage;
        json_t *rows = NULL, *row;
        size_t i;
        int n = -1;

        if (cb_store_live_expired(db, job->env->cfg->retention.days, BATCH, &rows) < 0)
                return -1;
        json_array_foreach(rows, i, row)
        {
                const char *call = json_string_value(json_array_get(row, 0));
                const char *key = json_string_value(json_array_get(row, 1));
                char err[256];
                if (key != NULL && key[0] != '\0' &&
                    st->ops->remove(st->self, key, err, sizeof(err)) != 0) {
                        cb_warn("retention: cannot remove %s: %s", key, err);
                        goto out;
                }
                if (cb_store_live_deleted(db, call) < 0)
                        goto out;
                (*removed)++;
        }
        n = (int)json_array_size(rows);
out:
        json_decref(rows);
        return n;
}

struct orphan {
        struct cb_job *job;
        const char *key;
        bool removed; /* a blob was there and is gone (set by settle_orphan) */
};

/* In one transaction: claim the intent (still past the grace, now locked), remove the blob no
 * row names (a missing one is fine: an upload refused before it was written), forget the
 * intent. Negative when storage or the database fails (the intent stays for the next run). */
static enum cb_qs settle_orphan(struct cb_db *db, void *arg)
{
        struct orphan *o = arg;
        struct cb_storage *st = o->job->env->rec->storage;
        bool referenced = false;
        uint64_t size;
        char err[256];
        int there;
        enum cb_qs qs = cb_store_storage_intent_claim(
            db, o->key, o->job->env->cfg->retention.orphan_grace_s, &referenced);

        if (qs <= 0)
                return qs; /* an error, or noted again / forgotten since the listing */
        there = referenced ? 1 : st->ops->size(st->self, o->key, &size, err, sizeof(err));
        if (there == 0 && st->ops->remove(st->self, o->key, err, sizeof(err)) != 0)
                there = -1;
        if (there < 0) {
                cb_warn("retention: cannot remove the orphan %s: %s", o->key, err);
                return CB_QS_HARD_ERROR;
        }
        o->removed |= there == 0; /* kept if a retried transaction finds it gone */
        return cb_store_storage_intent_forget(db, o->key);
}

/* One batch of intents past the grace, oldest first. The number listed, or -1 (storage or
 * database trouble: the run retries). */
static int orphan_batch(struct cb_job *job, struct cb_db *db, int *removed)
{
        json_t *rows = NULL, *row;
        size_t i;
        int n = -1;

        if (cb_store_storage_intents_due(db, job->env->cfg->retention.orphan_grace_s, ORPHAN_BATCH,
                                         &rows) < 0)
                return -1;
        json_array_foreach(rows, i, row)
        {
                struct orphan o = {.job = job, .key = json_string_value(json_array_get(row, 0))};

                if (cb_db_transaction(db, "orphan", settle_orphan, &o) < 0)
                        goto out;
                if (o.removed) {
                        cb_debug("retention: removed the orphan blob %s (no row names it)", o.key);
                        (*removed)++;
                        atomic_fetch_add_explicit(&orphans_removed, 1, memory_order_relaxed);
                }
        }
        n = (int)json_array_size(rows);
out:
        json_decref(rows);
        return n;
}

/* The orphans' step: bounded batches. 0, or -1 when a batch failed. */
static int sweep_orphans(struct cb_job *job, struct cb_db *db)
{
        int removed = 0, n = ORPHAN_BATCH, rc = 0;

        for (int b = 0; b < ORPHAN_MAX_BATCH && n == ORPHAN_BATCH; b++) {
                n = orphan_batch(job, db, &removed);
                if (n < 0)
                        rc = -1;
        }
        if (removed > 0)
                cb_info("retention: removed %d orphan blobs (noted for writing, named by no row, "
                        "older than %ld s)",
                        removed, job->env->cfg->retention.orphan_grace_s);
        return rc;
}

enum cb_result cb_job_retention_sweep(struct cb_job *job)
{
        struct cb_db *db;
        PGresult *res;
        bool locked;
        int removed = 0, live = 0, n = BATCH;
        enum cb_result r = CB_RESULT_OK;

        if (!cb_recordings_enabled(job->env->rec))
                return CB_RESULT_OK;
        db = cb_job_db(job);
        if (db == NULL)
                return CB_RESULT_RETRY;
        res = PQexec(cb_db_conn(db), "SELECT pg_try_advisory_lock(" LOCK_KEY ")");
        locked = PQresultStatus(res) == PGRES_TUPLES_OK && PQgetvalue(res, 0, 0)[0] == 't';
        PQclear(res);
        if (!locked) {
                cb_info("retention: another instance is sweeping");
                cb_db_release(&db);
                return CB_RESULT_OK;
        }
        for (int b = 0; b < MAX_BATCH && n == BATCH; b++) {
                n = sweep_batch(job, db, &removed);
                if (n < 0) {
                        snprintf(job->error, sizeof(job->error), "retention sweep failed");
                        r = CB_RESULT_RETRY;
                        break;
                }
        }
        n = BATCH;
        for (int b = 0; b < MAX_BATCH && n == BATCH && r == CB_RESULT_OK; b++) {
                n = sweep_live(job, db, &live);
                if (n < 0) {
                        snprintf(job->error, sizeof(job->error), "live transcript sweep failed");
                        r = CB_RESULT_RETRY;
                }
        }
        if (sweep_orphans(job, db) < 0) {
                snprintf(job->error, sizeof(job->error), "orphan sweep failed");
                r = CB_RESULT_RETRY;
        }
        PQclear(PQexec(cb_db_conn(db), "SELECT pg_advisory_unlock(" LOCK_KEY ")"));
        cb_db_release(&db);
        if (removed > 0)
                cb_info("retention: deleted %d recordings older than %ld days", removed,
                        job->env->cfg->retention.days);
        if (live > 0)
                cb_info("retention: deleted the live transcripts of %d calls older than %ld days",
                        live, job->env->cfg->retention.days);
        return r;
}
