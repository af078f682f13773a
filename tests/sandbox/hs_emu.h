/* callbridge-sandbox: what the HubSpot emulation's files share (hs_*.c). Sandbox-local.
 *
 * HubSpot's CRM v3 as callbridge uses it: contacts, companies, calls, tasks and notes, each
 * object {"id","properties":{...},"createdAt","updatedAt","archived":false}. Everything lives
 * under the state mutex of sb_state.c: functions named *_locked must be called with
 * sb_state_lock() held; borrowed JSON they return is only valid until the lock is released.
 *
 * Every lookup is indexed: objects by id (a JSON object is a hash map), and for each type an
 * equality index {"<property>":{"<lower-case value>":{"<id>":true}}} over the unique-value
 * properties, the phone properties (with the calculated searchable ones) and email/domain.
 * Search uses it whenever a filter group holds an EQ or IN filter on an indexed property. */
#ifndef CALLBRIDGE_SANDBOX_HS_H
#define CALLBRIDGE_SANDBOX_HS_H

#include "sandbox.h"

#define HS_PORTAL_ID          62515
#define HS_EXPIRES_IN_S       1800
#define HS_DEFAULT_MAX_PER_10 190
#define HS_DEFAULT_SEARCH_S   5
#define HS_DEFAULT_DAILY      1000000
#define HS_SEARCH_MAX_LIMIT   200
#define HS_MAX_GROUPS         5
#define HS_MAX_FILTERS        6
#define HS_NOTE_BODY_MAX      65536

enum hs_type { HS_CONTACTS, HS_COMPANIES, HS_CALLS, HS_TASKS, HS_NOTES, HS_NTYPES };

/* "contacts"... and HubSpot's object type ids "0-1"... */
const char *hs_type_name(enum hs_type t);
const char *hs_type_object_id(enum hs_type t);
/* The type named `name` (plural, "contacts", or the object type id "0-1"), or -1. */
int hs_type_parse(const char *name);

/* ---- errors (hs_api.c) ------------------------------------------------------------------ */

/* HubSpot's error body {"status":"error","message","correlationId","category"[,"errors"]};
 * `errors` (stolen, may be NULL). New reference, NULL when out of memory. */
json_t *hs_error_body(const char *category, json_t *errors, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The body above into `reply` with `status`. */
void hs_reply_error(struct sb_reply *reply, unsigned int status, const char *category,
                    json_t *errors, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* One entry of "errors": {"message","code","context":{"propertyName":[name]}}; new reference. */
json_t *hs_error_detail(const char *code, const char *prop, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- the store (hs_state.c) ------------------------------------------------------------- */

/* Borrowed maps of one type, NULL before the first reset: {"<id>":object}. */
json_t *hs_objects_locked(enum hs_type t);
/* Property definitions of a type {"<name>":{"name","label","type","fieldType","groupName",
 * "hasUniqueValue","modificationMetadata":{"readOnlyValue"},"options"?}} (borrowed). */
json_t *hs_props_locked(enum hs_type t);
/* Ids ({"<id>":true}, borrowed) whose `prop` equals `value` (case-insensitive), or NULL when
 * none or `prop` is not indexed. `*indexed` tells which. */
json_t *hs_index_get_locked(enum hs_type t, const char *prop, const char *value, bool *indexed);
/* Does the index cover `prop`? */
bool hs_index_covers_locked(enum hs_type t, const char *prop);
/* A new object of type `t`, with `id` (NULL: next id) and the stamps and derived properties.
 * The caller then sets properties with hs_object_set_locked. Borrowed; NULL when out of
 * memory or the id is taken. */
json_t *hs_object_new_locked(enum hs_type t, const char *id);
/* Set the properties of `props` (string/number/bool values; "" or null clears) on `obj`,
 * keeping the indexes and the calculated phone properties right and bumping updatedAt.
 * No validation here (hs_props_validate_locked). -1 when out of memory. */
int hs_object_set_locked(enum hs_type t, json_t *obj, json_t *props);
/* The object whose unique property `prop` has `value` (borrowed), or NULL. */
json_t *hs_object_by_unique_locked(enum hs_type t, const char *prop, const char *value);
/* Record an association (deduplicated); -1 when out of memory. */
int hs_assoc_add_locked(enum hs_type from, const char *from_id, enum hs_type to, const char *to_id,
                        int type_id);
/* Property groups of a type {"<name>":{"name","label","displayOrder","archived"}} (borrowed). */
json_t *hs_groups_locked(enum hs_type t);
/* Owners {"<id>":{"id","email","firstName","lastName","userId",...}} (borrowed). */
json_t *hs_owners_locked(void);
/* Drop property `name` of `t` (schema drift); false when it does not exist. */
bool hs_prop_drop_locked(enum hs_type t, const char *name);
/* The digits of a phone number without the country code ("+1 415-555-0100" → "4155550100"),
 * as HubSpot's hs_searchable_calculated_* properties hold them; "" when no digits. */
void hs_phone_calc(const char *number, char *out, size_t outlen);
/* Now as "2026-12-07T18:20:00.123Z" into `out` (32 bytes). */
void hs_now_iso(char out[32]);

/* ---- tokens and limits (hs_state.c) ----------------------------------------------------- */

enum hs_auth { HS_AUTH_OK, HS_AUTH_INVALID, HS_AUTH_EXPIRED };

/* Check a bearer token against the private-app token and the issued OAuth tokens. */
enum hs_auth hs_token_check_locked(const struct sb_config *cfg, const char *token);
/* Mint an OAuth access token living expires_in seconds (stored); new string or NULL. */
char *hs_token_mint_locked(long *expires_in);
/* Mark every issued token expired; returns how many. `lifetime` > 0 sets the lifetime of the
 * tokens issued from now on. */
size_t hs_token_expire_all_locked(long lifetime);

/* The rate-limit verdict of one request. */
struct hs_rate {
        bool limited;       /* refuse with 429 */
        const char *policy; /* "TEN_SECONDLY_ROLLING", "DAILY" or "SECONDLY" when limited */
        long max, remaining, daily, daily_remaining;
};
/* Count one request (a search when `search`) against the budgets; a refused one is not
 * counted. */
void hs_rate_take_locked(bool search, struct hs_rate *out);
/* Set budgets; a value <= 0 leaves that one as it is. */
void hs_rate_set_locked(long max_per_10s, long search_per_s, long daily);
/* The budgets as JSON {"max_per_10s","search_per_s","daily","daily_used"}; new reference. */
json_t *hs_rate_json_locked(void);

/* ---- operations (hs_objects.c, hs_search.c, hs_assoc.c) -------------------------------- */

/* A parsed API request: the type and the path segments after it. */
struct hs_op {
        const struct sb_request *req;
        enum hs_type type;
        const char *seg[12]; /* path segments (pointers into `buf`) */
        size_t nseg;
        char buf[512];
};

/* Render an object for the API: {"id","properties":{...},"createdAt","updatedAt","archived"}
 * with the properties named in `names` (array of strings; unset ones as null) or the type's
 * defaults when `names` is NULL. New reference or NULL when out of memory. */
json_t *hs_render_locked(enum hs_type t, json_t *obj, json_t *names);
/* Check the property values of a write: each name exists, is not read-only, enumerations hold
 * an option, values are strings/numbers/booleans/null. NULL when fine, else a new error detail
 * (hs_error_detail). */
json_t *hs_props_validate_locked(enum hs_type t, json_t *props);
/* A unique property of `props` whose value another object (not `self`, may be NULL) holds:
 * that object (borrowed) with the property name in *prop, or NULL. */
json_t *hs_unique_clash_locked(enum hs_type t, json_t *props, json_t *self, const char **prop);
/* Apply "associations" of a create; NULL when fine, else a new error detail. */
json_t *hs_assoc_check_locked(enum hs_type t, json_t *assocs);
int hs_assoc_apply_locked(enum hs_type t, const char *id, json_t *assocs);

void hs_objects_create_locked(struct hs_op *op, struct sb_reply *reply);
void hs_objects_get_locked(struct hs_op *op, struct sb_reply *reply);
void hs_objects_update_locked(struct hs_op *op, struct sb_reply *reply);
void hs_objects_upsert_locked(struct hs_op *op, struct sb_reply *reply);
void hs_search_locked(struct hs_op *op, struct sb_reply *reply);
void hs_assoc_put_locked(struct hs_op *op, struct sb_reply *reply);
/* POST /crm/v4/associations/{from}/{to}/batch/associate/default (hs_assoc.c). */
void hs_assoc_batch_locked(struct hs_op *op, struct sb_reply *reply);
/* POST /crm/v3/objects/{type}/batch/read (hs_batch_read.c). */
void hs_objects_batch_read_locked(struct hs_op *op, struct sb_reply *reply);
void hs_props_list_locked(struct hs_op *op, struct sb_reply *reply);
void hs_props_get_locked(struct hs_op *op, struct sb_reply *reply);
void hs_props_create_locked(struct hs_op *op, struct sb_reply *reply);
/* GET and POST /crm/v3/properties/{type}/groups (201; 409 when the name exists). */
void hs_groups_list_locked(struct hs_op *op, struct sb_reply *reply);
void hs_groups_create_locked(struct hs_op *op, struct sb_reply *reply);

#endif
