/* POST /api/calls/{id}/hold {"on": bool}: put the customer on hold (the hold music of the
 * provider) or take them off it. Needs the call bridged through a conference ([twilio]
 * conference = true); holding a held call is 200 with "changed" false. */
#include "call_control.h"
#include "handlers/handlers.h"

enum MHD_Result cb_handle_call_hold(struct cb_request *req)
{
        bool on = false;
        const char *bad = NULL;
        const struct cb_json_field fields[] = {
            {.name = "on", .type = CB_JSON_BOOL, .required = true, .out = &on},
            CB_JSON_END,
        };
        enum cb_err e = cb_json_parse_fields(req->json, fields, &bad);

        if (e != CB_ERR_NONE)
                return cb_reply_error(req, e, "field \"%s\" must be true or false", bad);
        if (json_object_size(req->json) != 1)
                return cb_reply_error(req, CB_ERR_INVALID_FIELD, "hold takes only \"on\"");
        return cb_call_control_run(req, req->params[0], on ? CB_ACT_HOLD : CB_ACT_UNHOLD, NULL,
                                   false);
}
