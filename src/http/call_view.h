/* One call as GET /api/calls/{id} shows it (src/http/call_view.c): the row with its history,
 * recordings (with their links), transcripts (read from their sealed documents) and call
 * control state. GET /api/agent/call shows the agent's active call the same way. */
#ifndef CB_HTTP_CALL_VIEW_H
#define CB_HTTP_CALL_VIEW_H

#include "callbridge/http.h"

/* The call `id` with its call control state, read on a leased `db`; NO_RESULTS when there is
 * none or `agent` (non-NULL) is not its agent (another agent's call is "not found").
 * ONE_RESULT with *out (caller decrefs); negative qs on a database failure (*out NULL). */
CB_MUST_CHECK enum cb_qs cb_call_view(struct cb_request *req, struct cb_db *db, const char *id,
                                      const char *agent, json_t **out);
/* Then, with the database connection released: the recordings' links and the transcripts'
 * text from their sealed documents (storage reads). A document that cannot be read is
 * reported in place (text null); the rest of the call still answers. */
void cb_call_view_finish(struct cb_request *req, json_t *call);

#endif
