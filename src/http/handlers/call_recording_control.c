/* POST /api/calls/{id}/recording {"action": "pause"|"resume"}: pause the call's recording
 * (the paused part is left out of it: PauseBehavior skip) or resume it. Needs [twilio]
 * record; pausing a paused recording is 200 with "changed" false. */
#include <string.h>

#include "call_control.h"
#include "handlers/handlers.h"

enum MHD_Result cb_handle_call_recording_control(struct cb_request *req)
{
        const char *action = NULL, *bad = NULL;
        const struct cb_json_field fields[] = {
            {.name = "action",
             .type = CB_JSON_ENUM,
             .required = true,
             .max_len = 8,
             .choices = "pause|resume",
             .out = &action},
            CB_JSON_END,
        };
        enum cb_err e = cb_json_parse_fields(req->json, fields, &bad);

        if (e != CB_ERR_NONE)
                return cb_reply_error(req, e, "field \"%s\" must be \"pause\" or \"resume\"", bad);
        if (json_object_size(req->json) != 1)
                return cb_reply_error(req, CB_ERR_INVALID_FIELD, "recording takes only \"action\"");
        return cb_call_control_run(req, req->params[0],
                                   strcmp(action, "pause") == 0 ? CB_ACT_RECORDING_PAUSE
                                                                : CB_ACT_RECORDING_RESUME,
                                   NULL, false);
}
