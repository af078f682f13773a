/* Agents as records: the identity an API key acts as and a call belongs to (its name), with
 * what an admin says about it — display name, CRM user id, phone, admin rights.
 *
 * This header has the pure part (src/calls/agents.c: what a valid value is, Salesforce id
 * equivalence), used by the CLI, the admin API and inbound routing; the rows are in
 * src/store/agents.c (include/callbridge/store.h). */
#ifndef CALLBRIDGE_AGENTS_H
#define CALLBRIDGE_AGENTS_H

#include <stdbool.h>
#include <stddef.h>

#define CB_SFID_LEN          18  /* a Salesforce id in its case-insensitive form */
#define CB_AGENT_DISPLAY_MAX 200 /* bytes of a display name */

/* What an admin sets on an agent (add, set, the admin API). Strings are borrowed; NULL is
 * "no value". For an update, `set_*` says which fields change (NULL with its flag clears). */
struct cb_agent_fields {
        const char *name;
        const char *display_name;
        const char *crm_user_id; /* canonical: cb_agents_crm_user_id_canon */
        const char *phone;       /* E.164 */
        bool admin;
        bool set_display_name, set_crm_user_id, set_phone, set_admin;
};

/* The 18-character form of the Salesforce id `id` into `out`: a 15-character id is
 * case-sensitive and gets its suffix; an 18-character one is case-insensitive, its suffix
 * telling which of the first 15 are capitals (restored here). False, `out` "", for anything
 * else: another length, a character that is not a letter or digit, a suffix character
 * outside A-Z0-5, or a suffix that marks a digit as a capital. */
bool cb_agents_sfid_canon(const char *id, char out[CB_SFID_LEN + 1]);
/* True when `a` and `b` are ids of the same record (a 15-character id and its 18-character
 * form, in any case the 18-character form allows); false when either is no id. */
bool cb_agents_sfid_equal(const char *a, const char *b);
/* A Salesforce User id (key prefix 005) in either form, canonicalised into `out`, or a
 * HubSpot owner id (1-12 digits) as it is; false (`out` "") for any other id or text. */
bool cb_agents_crm_user_id_canon(const char *id, char out[CB_SFID_LEN + 1]);
/* 1 to CB_AGENT_DISPLAY_MAX bytes of UTF-8 without control characters. */
bool cb_agents_display_name_valid(const char *s);

/* Normalised values of an agent, owned by the caller (cb_agents_normalise points into it). */
struct cb_agent_values {
        char crm_user_id[CB_SFID_LEN + 1];
        char phone[32];
};

enum cb_agent_check { CB_AGENT_VALID = 0, CB_AGENT_BAD_FIELD, CB_AGENT_BAD_PHONE };

/* Check what an admin gives for an agent (CLI and API alike) and normalise it in place: the
 * name an identity (cb_calls_agent_valid), the display name (cb_agents_display_name_valid),
 * the CRM user id a User id (now pointing at its 18-character form in `v`), the phone a
 * number (now E.164 in `v`, national numbers read in `region`). Values that are NULL are not
 * checked. Returns CB_AGENT_VALID, or BAD_FIELD / BAD_PHONE with *bad naming the field and a
 * one-line reason in `msg`. */
enum cb_agent_check cb_agents_normalise(struct cb_agent_fields *f, const char *region,
                                        struct cb_agent_values *v, const char **bad, char *msg,
                                        size_t msg_size);

#endif
