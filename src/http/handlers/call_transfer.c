/* POST /api/calls/{id}/transfer: hand the customer to another agent or a number.
 *   {"to": "<agent name>|<E.164>", "mode": "blind"}  (mode optional, blind by default): the
 *       customer's leg rings the target at once and the agent leaves the call: 200.
 *   {"to": ..., "mode": "warm"}: the customer waits on hold while the target is added to the
 *       call's conference (needs [twilio] conference = true): 202, the transfer pending;
 *   {"action": "complete"}: the target stays with the customer, the agent leaves: 200;
 *   {"action": "cancel"}: the target leaves, the customer is back with the agent: 200.
 * The same transfer again is 200 with "changed" false. A number is E.164 ("+" and digits);
 * anything else must be an agent's name (letters, digits, "@._-") in the agents table, else
 * 422 unknown_agent. A transfer to an agent, once done (blind at once, warm on complete),
 * makes the call theirs (calls.agent) and ends the transferring agent's busy for it. */
#include <string.h>

#include "call_control.h"
#include "callbridge/phone.h"
#include "handlers/handlers.h"

/* The target into `out` (E.164, or an agent name as given: cb_call_control_run checks it is
 * one of the agents table); 0, or -1 after a 422 queued in *ret. */
static int target(struct cb_request *req, const char *to, char *out, size_t size, bool *agent,
                  enum MHD_Result *ret)
{
        *agent = to[0] != '+';
        if (*agent && cb_calls_agent_valid(to) && strcmp(to, req->agent.name) != 0) {
                cb_strlcpy(out, to, size);
                return 0;
        }
        if (!*agent && strspn(to + 1, "0123456789") == strlen(to + 1) &&
            cb_phone_to_e164(to, req->env->cfg->server.default_region, out, size) == 0)
                return 0;
        *ret = cb_reply_error(req, *agent ? CB_ERR_INVALID_FIELD : CB_ERR_INVALID_PHONE,
                              *agent ? "\"to\" must be another agent's name or an E.164 number"
                                     : "\"to\" is not an E.164 number");
        return -1;
}

enum MHD_Result cb_handle_call_transfer(struct cb_request *req)
{
        const char *to = NULL, *mode = NULL, *action = NULL, *bad = NULL;
        const struct cb_json_field fields[] = {
            {.name = "to", .type = CB_JSON_STRING, .max_len = CB_TRANSFER_TO_MAX - 1, .out = &to},
            {.name = "mode",
             .type = CB_JSON_ENUM,
             .max_len = 8,
             .choices = "blind|warm",
             .out = &mode},
            {.name = "action",
             .type = CB_JSON_ENUM,
             .max_len = 10,
             .choices = "complete|cancel",
             .out = &action},
            CB_JSON_END,
        };
        char dest[CB_TRANSFER_TO_MAX];
        bool agent = false;
        enum MHD_Result ret;
        enum cb_err e = cb_json_parse_fields(req->json, fields, &bad);

        if (e != CB_ERR_NONE)
                return cb_reply_error(req, e, "field \"%s\" is missing or wrong", bad);
        if ((to == NULL) == (action == NULL) || (action != NULL && mode != NULL))
                return cb_reply_error(
                    req, to == NULL && action == NULL ? CB_ERR_MISSING_FIELD : CB_ERR_INVALID_FIELD,
                    "give {\"to\", \"mode\"?} or {\"action\"}, not both");
        if (action != NULL)
                return cb_call_control_run(req, req->params[0],
                                           strcmp(action, "complete") == 0
                                               ? CB_ACT_TRANSFER_COMPLETE
                                               : CB_ACT_TRANSFER_CANCEL,
                                           NULL, false);
        if (target(req, to, dest, sizeof(dest), &agent, &ret) != 0)
                return ret;
        return cb_call_control_run(req, req->params[0],
                                   mode != NULL && strcmp(mode, "warm") == 0
                                       ? CB_ACT_TRANSFER_WARM
                                       : CB_ACT_TRANSFER_BLIND,
                                   dest, agent);
}
