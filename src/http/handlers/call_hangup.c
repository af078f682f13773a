/* POST /api/calls/{id}/hangup: end the call through the telephony provider (answered: hung
 * up; still ringing: cancelled). No body, or {}. Again after it: 200 with "changed" false;
 * on a call that ended otherwise: 409 invalid_call_state. The provider's final status then
 * ends the call as usual (one CRM log). */
#include "call_control.h"
#include "handlers/handlers.h"

enum MHD_Result cb_handle_call_hangup(struct cb_request *req)
{
        if (req->json != NULL && json_object_size(req->json) != 0)
                return cb_reply_error(req, CB_ERR_INVALID_FIELD, "hangup takes no fields");
        return cb_call_control_run(req, req->params[0], CB_ACT_HANGUP, NULL, false);
}
