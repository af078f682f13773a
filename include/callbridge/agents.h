/* Agents as records: the identity an API key acts as and a call belongs to (its name), with
 * what an admin says about it — display name, CRM user id, phone, admin rights.
 *
 * This header has the pure part (src/calls/agents.c: what a valid value is; a CRM user id is
 * canonicalised by the CRM provider's user_id_canon), used by the CLI and the admin API; the
 * rows are in src/store/agents.c (include/callbridge/store.h). */
#ifndef CALLBRIDGE_AGENTS_H
#define CALLBRIDGE_AGENTS_H

#include <stdbool.h>
#include <stddef.h>

#define CB_AGENT_DISPLAY_MAX  200 /* bytes of a display name */
#define CB_AGENT_CRM_USER_MAX 64  /* a CRM user id, with its NUL */

/* A CRM provider's canonical form of a user id (struct cb_crm_ops.user_id_canon): true with
 * `out` set, false for what is no user id of that CRM. */
typedef bool (*cb_agents_user_id_canon_fn)(const char *id, char *out, size_t out_size);

/* What an admin sets on an agent (add, set, the admin API). Strings are borrowed; NULL is
 * "no value". For an update, `set_*` says which fields change (NULL with its flag clears). */
struct cb_agent_fields {
        const char *name;
        const char *display_name;
        const char *crm_user_id; /* canonical: the CRM provider's user_id_canon */
        const char *phone;       /* E.164 */
        bool admin;
        bool set_display_name, set_crm_user_id, set_phone, set_admin;
};

/* 1 to CB_AGENT_DISPLAY_MAX bytes of UTF-8 without control characters. */
bool cb_agents_display_name_valid(const char *s);

/* Normalised values of an agent, owned by the caller (cb_agents_normalise points into it). */
struct cb_agent_values {
        char crm_user_id[CB_AGENT_CRM_USER_MAX];
        char phone[32];
};

enum cb_agent_check { CB_AGENT_VALID = 0, CB_AGENT_BAD_FIELD, CB_AGENT_BAD_PHONE };

/* Check what an admin gives for an agent (CLI and API alike) and normalise it in place: the
 * name an identity (cb_calls_agent_valid), the display name (cb_agents_display_name_valid),
 * the CRM user id one `canon` accepts (now pointing at its canonical form in `v`; NULL canon,
 * a CRM without users: 1 to CB_AGENT_CRM_USER_MAX - 1 letters, digits and . _ @ : -), the
 * phone a number (now E.164 in `v`, national numbers read in `region`). Values that are NULL
 * are not checked. Returns CB_AGENT_VALID, or BAD_FIELD / BAD_PHONE with *bad naming the
 * field and a one-line reason in `msg`. */
enum cb_agent_check cb_agents_normalise(struct cb_agent_fields *f, const char *region,
                                        cb_agents_user_id_canon_fn canon, struct cb_agent_values *v,
                                        const char **bad, char *msg, size_t msg_size);

#endif
