/* Job recording.fetch {"recording_id"}: download a recording the provider announced, check it
 * is audio, seal it into storage, check its length against what the provider announced, then
 * record it as stored — which queues the CRM update and (with [twilio] delete_after_download)
 * the deletion at the provider, only now that our copy is durable. A repeat finds the
 * recording stored and does nothing; a run that loses the race removes its own blob.
 *
 * An error from the save is ambiguous: PostgreSQL may have committed the row before the
 * connection died. The blob is then never removed (the row may point at it); the run re-reads
 * the row and adopts a commit it finds, else retries, and a blob no row names is an orphan
 * for the retention sweep, never a hole under a stored row: its key was noted (storage_intents)
 * before the first byte, and the retention sweep removes it once [retention] orphan_grace_s
 * has passed without a row naming it. No note, no blob: the run retries. */
#include <stdio.h>
#include <string.h>

#include "callbridge/jobs.h"
#include "callbridge/log.h"
#include "callbridge/store_recordings.h"
#include "kinds.h"

struct fetch {
        struct cb_rec_writer *w;
        enum cb_err err;
        char msg[256];
};

static int to_writer(void *ctx, const void *data, size_t len)
{
        struct fetch *f = ctx;

        f->err = cb_rec_writer_write(f->w, data, len, f->msg, sizeof(f->msg));
        return f->err == CB_ERR_NONE ? 0 : -1;
}

/* Download into a new blob; OK with `out` filled. */
static enum cb_result download(struct cb_job *job, const json_t *rec, struct cb_rec_stored *out)
{
        struct cb_telephony *tel = job->env->tel;
        const char *url = json_string_value(json_object_get(rec, "source_url"));
        struct fetch f = {.err = CB_ERR_NONE};
        uint64_t declared = UINT64_MAX;
        enum cb_result r;

        if (url == NULL || tel->ops->fetch_media == NULL) {
                snprintf(job->error, sizeof(job->error), "no way to fetch this recording");
                return CB_RESULT_FAIL;
        }
        f.w = cb_rec_writer_new(job->env->rec, NULL, job->error, sizeof(job->error));
        if (f.w == NULL)
                return CB_RESULT_RETRY;
        if (cb_job_note_blob(job, cb_rec_writer_key(f.w)) != CB_RESULT_OK) {
                cb_rec_writer_abort(&f.w);
                return CB_RESULT_RETRY;
        }
        r = tel->ops->fetch_media(tel->self, url, to_writer, &f, &declared, job->error,
                                  sizeof(job->error));
        if (f.err != CB_ERR_NONE) {
                /* Not audio is final; a storage failure is worth another try. */
                snprintf(job->error, sizeof(job->error), "%s", f.msg);
                r = f.err == CB_ERR_UNSUPPORTED_MEDIA_TYPE ? CB_RESULT_FAIL : CB_RESULT_RETRY;
        }
        /* Noted again: a long download's grace starts over before its blob becomes visible. */
        if (r == CB_RESULT_OK && cb_job_note_blob(job, cb_rec_writer_key(f.w)) != CB_RESULT_OK)
                r = CB_RESULT_RETRY;
        if (r == CB_RESULT_OK) {
                enum cb_err e = cb_rec_writer_finish(&f.w, out, f.msg, sizeof(f.msg));
                if (e != CB_ERR_NONE) {
                        snprintf(job->error, sizeof(job->error), "%s", f.msg);
                        r = e == CB_ERR_UNSUPPORTED_MEDIA_TYPE ? CB_RESULT_FAIL : CB_RESULT_RETRY;
                } else if (declared != UINT64_MAX && declared != out->bytes) {
                        snprintf(job->error, sizeof(job->error),
                                 "downloaded %llu bytes, the provider announced %llu",
                                 (unsigned long long)out->bytes, (unsigned long long)declared);
                        r = CB_RESULT_RETRY;
                }
        }
        cb_rec_writer_abort(&f.w);
        return r;
}

/* Remove a blob nobody will point at; a leftover only costs space. */
static void drop_blob(struct cb_job *job, const char *key)
{
        struct cb_storage *st = job->env->rec->storage;
        char err[256];

        if (st->ops->remove(st->self, key, err, sizeof(err)) != 0)
                cb_warn("could not remove the unused blob %s: %s", key, err);
}

/* After an ambiguous save: does the row now say stored with our blob? False when it does not
 * or cannot be read (the caller retries; the blob stays). */
static bool committed_anyway(struct cb_job *job, const char *key)
{
        json_t *now = NULL;
        bool ours = false;

        if (cb_job_load_recording(job, &now) == CB_RESULT_OK) {
                const char *state = json_string_value(json_object_get(now, "state"));
                const char *k = json_string_value(json_object_get(now, "storage_key"));
                ours = state && k && strcmp(state, "stored") == 0 && strcmp(k, key) == 0;
        }
        json_decref(now);
        if (ours)
                cb_info("recording %s: the save committed though its answer was lost",
                        json_string_value(json_object_get(job->row->payload, "recording_id")));
        return ours;
}

enum cb_result cb_job_recording_fetch(struct cb_job *job)
{
        json_t *rec = NULL;
        struct cb_rec_stored out;
        struct cb_db *db = NULL;
        enum cb_result r = cb_job_load_recording(job, &rec);
        const char *state;
        enum cb_qs qs;

        if (r != CB_RESULT_OK)
                goto done;
        state = json_string_value(json_object_get(rec, "state"));
        if (state == NULL || strcmp(state, "pending") != 0)
                goto done; /* stored by an earlier run, or failed/deleted: nothing to do */
        r = cb_job_recording_check_source(job, rec);
        if (r != CB_RESULT_OK)
                goto done;
        r = download(job, rec, &out);
        if (r != CB_RESULT_OK)
                goto done;
        db = cb_job_db(job);
        if (db == NULL) {
                drop_blob(job, out.key);
                r = CB_RESULT_RETRY;
                goto done;
        }
        qs = cb_store_recording_mark_stored(
            db,
            &(struct cb_rec_row){.id = json_string_value(json_object_get(rec, "recording_id")),
                                 .storage_key = out.key,
                                 .content_type = out.content_type,
                                 .bytes = out.bytes,
                                 .sha256 = out.sha256,
                                 .key_id = out.key_id},
            job->env->cfg->twilio.delete_after_download);
        cb_db_release(&db);
        if (qs > 0 && job->env->cfg->workers.debug_lost_commit_reply) {
                cb_warn("recording %s: [workers] debug_lost_commit_reply: reporting the "
                        "committed save as failed",
                        json_string_value(json_object_get(rec, "recording_id")));
                qs = CB_QS_HARD_ERROR;
        }
        if (qs == 0)
                drop_blob(job, out.key); /* definitely not ours: another run stored it first */
        if (qs < 0 && committed_anyway(job, out.key))
                qs = CB_QS_ONE_RESULT;
        if (qs > 0)
                cb_jobs_wake(job->env->jobs); /* the CRM link and the transcription it queued */
        if (qs < 0) {
                cb_warn("recording %s: saving the row failed, the blob %s is kept (the row may "
                        "have committed; an orphan is left to the storage sweep)",
                        json_string_value(json_object_get(rec, "recording_id")), out.key);
                snprintf(job->error, sizeof(job->error), "recording the stored blob failed");
                r = CB_RESULT_RETRY;
        }
done:
        cb_db_release(&db);
        json_decref(rec);
        return r;
}

void cb_job_recording_fetch_dead(struct cb_job *job)
{
        const char *id = json_string_value(json_object_get(job->row->payload, "recording_id"));
        struct cb_db *db = cb_db_acquire(job->env->pool, 2000);

        if (db == NULL || !cb_uuid_valid(id) ||
            cb_store_recording_fail(db, id, job->error[0] ? job->error : "fetch failed") < 0)
                cb_warn("could not mark recording %s as failed", id ? id : "?");
        cb_db_release(&db);
}
