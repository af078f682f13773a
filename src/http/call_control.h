/* Call control for the handlers of POST /api/calls/{id}/hangup|hold|transfer|recording
 * (src/http/call_control.c): the I/O around the pure decision of src/calls/control.c. */
#ifndef CB_HTTP_CALL_CONTROL_H
#define CB_HTTP_CALL_CONTROL_H

#include "callbridge/calls.h"
#include "callbridge/http.h"

/* Carry out `action` on call `call_id` for the request's agent (another agent's call is 404
 * unless the agent is an admin) and answer: 200 {"call_id","action","changed","controls"}
 * (202 for the start of a warm transfer, which waits for its completion), 404, 409
 * invalid_call_state / call_control_unsupported, 502 upstream_unavailable (the provider did
 * not do it; nothing recorded), 503 db_unavailable. `to` (transfers) is an agent name
 * (`to_agent`) or an E.164 number, borrowed. The provider is asked in the request, with a
 * short timeout: a rep pressing Hold expects it now, and a late hold is worse than an error. */
enum MHD_Result cb_call_control_run(struct cb_request *req, const char *call_id,
                                    enum cb_call_action action, const char *to, bool to_agent);

#endif
