/* GET /api/calls/{call_id}/recording/{recording_id}: the decrypted audio, streamed, with Range
 * support (audio_reply.c). Another agent's recording is "not found" to a non-admin. */
#include "audio_reply.h"
#include "handlers/handlers.h"

enum MHD_Result cb_handle_recording_get(struct cb_request *req)
{
        const char *call_id = req->params[0], *id = req->params[1];

        if (!cb_uuid_valid(call_id) || !cb_uuid_valid(id))
                return cb_reply_error(req, CB_ERR_NOT_FOUND, "no such recording");
        return cb_reply_recording(req, id, call_id, req->agent.admin ? NULL : req->agent.name);
}
