/* Helpers the job kinds share. */
#include <stdio.h>

#include "callbridge/jobs.h"
#include "callbridge/store_calls.h"
#include "callbridge/store_recordings.h"
#include "kinds.h"

struct cb_db *cb_job_db(struct cb_job *job)
{
        struct cb_db *db = cb_db_acquire(job->env->pool, 2000);

        if (db == NULL)
                snprintf(job->error, sizeof(job->error), "database unavailable");
        return db;
}

enum cb_result cb_job_load_call(struct cb_job *job, struct cb_call *call)
{
        struct cb_db *db = cb_job_db(job);
        enum cb_qs qs;

        if (db == NULL)
                return CB_RESULT_RETRY;
        qs = cb_store_call_load(db, job->row->call_id, call);
        cb_db_release(&db);
        if (qs == CB_QS_NO_RESULTS) {
                snprintf(job->error, sizeof(job->error), "call %s no longer exists",
                         job->row->call_id);
                return CB_RESULT_FAIL;
        }
        if (qs < 0) {
                snprintf(job->error, sizeof(job->error), "loading call failed");
                return CB_RESULT_RETRY;
        }
        return CB_RESULT_OK;
}

enum cb_result cb_job_load_recording(struct cb_job *job, json_t **rec)
{
        const char *id = json_string_value(json_object_get(job->row->payload, "recording_id"));
        struct cb_db *db;
        enum cb_qs qs;

        *rec = NULL;
        if (!cb_uuid_valid(id)) {
                snprintf(job->error, sizeof(job->error), "payload has no recording_id");
                return CB_RESULT_FAIL;
        }
        db = cb_job_db(job);
        if (db == NULL)
                return CB_RESULT_RETRY;
        qs = cb_store_recording_get(db, id, NULL, NULL, rec);
        cb_db_release(&db);
        if (qs == CB_QS_NO_RESULTS) {
                snprintf(job->error, sizeof(job->error), "recording %s no longer exists", id);
                return CB_RESULT_FAIL;
        }
        if (qs < 0) {
                snprintf(job->error, sizeof(job->error), "loading recording failed");
                return CB_RESULT_RETRY;
        }
        return CB_RESULT_OK;
}

enum cb_result cb_job_note_blob(struct cb_job *job, const char *key)
{
        struct cb_db *db = cb_job_db(job);
        enum cb_qs qs = db ? cb_store_storage_intent_note(db, key) : CB_QS_HARD_ERROR;

        cb_db_release(&db);
        if (qs < 0) {
                snprintf(job->error, sizeof(job->error), "noting the blob %s failed", key);
                return CB_RESULT_RETRY;
        }
        return CB_RESULT_OK;
}
