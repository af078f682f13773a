/* GET /api/calls/{call_id}/recording/{recording_id}: the decrypted audio, streamed, with Range
 * support (audio_reply.c). Another agent's recording is "not found" to a non-admin. */
#include "callbridge/store.h"
#include "http/audio_reply.h"
#include "http/handlers/handlers.h"

enum MHD_Result cb_handle_recording_get(struct cb_request *req)
{
        const char *call_id = req->params[0], *id = req->params[1];
        struct cb_db *db;
        json_t *rec = NULL;
        enum cb_qs qs;
        enum MHD_Result ret;

        if (!cb_uuid_valid(call_id) || !cb_uuid_valid(id))
                return cb_reply_error(req, CB_ERR_NOT_FOUND, "no such recording");
        db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        if (db == NULL)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        qs = cb_store_recording_get(db, id, call_id, req->agent.admin ? NULL : req->agent.name,
                                    &rec);
        cb_db_release(&db);
        if (qs < 0)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        if (qs == CB_QS_NO_RESULTS)
                return cb_reply_error(req, CB_ERR_NOT_FOUND, "no such recording");
        ret = cb_reply_recording(req, rec);
        json_decref(rec);
        return ret;
}
