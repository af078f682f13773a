/* POST /api/call/transcribe {"call_id","recording_id"?,"engine"?,"language"?}: transcribe a
 * recording now, whatever [stt] policy says (and again if it was): 202 {"job_id","status"}.
 * The recording is the call's newest unless named; `engine` may only name the configured one;
 * `language` is ISO 639-1. */
#include <string.h>

#include "callbridge/jobs.h"
#include "callbridge/store_transcripts.h"
#include "handlers/handlers.h"

enum MHD_Result cb_handle_call_transcribe(struct cb_request *req)
{
        const char *call_id = NULL, *rec_id = NULL, *engine = NULL, *language = NULL;
        const char *bad = NULL;
        const struct cb_json_field fields[] = {
            {.name = "call_id",
             .type = CB_JSON_STRING,
             .required = true,
             .max_len = 64,
             .out = &call_id},
            {.name = "recording_id", .type = CB_JSON_STRING, .max_len = 64, .out = &rec_id},
            {.name = "engine",
             .type = CB_JSON_ENUM,
             .max_len = 16,
             .choices = "openai|google|offline",
             .out = &engine},
            {.name = "language", .type = CB_JSON_STRING, .max_len = 8, .out = &language},
            CB_JSON_END,
        };
        struct cb_db *db;
        char job[24];
        enum cb_err e = cb_json_parse_fields(req->json, fields, &bad);
        enum cb_qs qs;

        if (e != CB_ERR_NONE)
                return cb_reply_error(req, e, "field \"%s\" is missing or wrong", bad);
        if (language != NULL && (strlen(language) != 2 || !cb_str_charset(language, 2, "")))
                return cb_reply_error(req, CB_ERR_INVALID_FIELD,
                                      "language is a two-letter ISO 639-1 code");
        if (engine != NULL && strcmp(engine, req->env->cfg->stt.engine) != 0)
                return cb_reply_error(req, CB_ERR_INVALID_FIELD,
                                      "engine %s is not the configured one ([stt] engine = %s)",
                                      engine, req->env->cfg->stt.engine);
        if (strcmp(req->env->cfg->stt.engine, "none") == 0)
                return cb_reply_error(req, CB_ERR_NOT_READY,
                                      "no speech-to-text engine is configured ([stt] engine)");
        if (!cb_uuid_valid(call_id) || (rec_id != NULL && !cb_uuid_valid(rec_id)))
                return cb_reply_error(req, CB_ERR_NOT_FOUND, "no such call or recording");
        db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        if (db == NULL)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        qs = cb_store_transcribe_queue(db, call_id, req->agent.admin ? NULL : req->agent.name,
                                       rec_id, language, job);
        cb_db_release(&db);
        if (qs < 0)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        if (qs == 0)
                return cb_reply_error(req, CB_ERR_NOT_FOUND,
                                      "no such call, or it has no recording to transcribe");
        cb_jobs_wake(req->env->jobs);
        return cb_reply_json(req, 202, json_pack("{s:s,s:s}", "job_id", job, "status", "queued"));
}
