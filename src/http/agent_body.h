/* The body of POST /api/admin/agents and PATCH /api/admin/agents/{name} (src/http/agent_body.c):
 * every field checked, unknown fields refused, values normalised (include/callbridge/agents.h). */
#ifndef CB_HTTP_AGENT_BODY_H
#define CB_HTTP_AGENT_BODY_H

#include "callbridge/agents.h"
#include "callbridge/http.h"

/* Read `body` into `f` (strings borrowed from `body` or held in `v`): "name" (create only,
 * required), "display_name", "crm_user_id", "phone" (string or null: null clears), "admin"
 * (boolean); `canon` is the CRM provider's user_id_canon. On an update the set_* flags say which
 * fields the body names. CB_ERR_NONE, or MISSING_FIELD / INVALID_FIELD / INVALID_PHONE with a
 * one-line reason in `msg`. */
enum cb_err cb_agent_body_parse(const json_t *body, bool create, const char *region,
                                cb_agents_user_id_canon_fn canon, struct cb_agent_fields *f,
                                struct cb_agent_values *v, char *msg, size_t msg_size);

/* The admin agent routes' name argument: an agent name, else false (answered as unknown). */
bool cb_agent_name_arg(const char *s);

#endif
