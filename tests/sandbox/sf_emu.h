/* callbridge-sandbox: what the Salesforce emulation's files share (sf_*.c). Sandbox-local.
 *
 * Everything Salesforce keeps (records, tokens, API usage, schema) lives under the state mutex
 * of sb_state.c: functions named *_locked must be called with sb_state_lock() held, and borrowed
 * JSON they return is only valid until the lock is released. A REST request runs whole under
 * the lock, so a composite request can roll back by swapping the records object. */
#ifndef CALLBRIDGE_SANDBOX_SF_H
#define CALLBRIDGE_SANDBOX_SF_H

#include "sandbox.h"

#define SF_ORG_ID          "00D8d0000004CbEEAU"
#define SF_DEFAULT_API_MAX 15000
#define SF_JWT_SKEW_S      180
#define SF_MAX_SEGMENTS    8
#define SF_VERSION_MAX     32 /* a version segment "v60.0" and its NUL, at most */

/* ---- one REST operation (sf_api.c, sf_query.c, sf_search.c, sf_composite.c) ------------- */

/* A REST call after routing and authentication, from the wire or from a composite body. */
struct sf_op {
        const char *version;  /* "v60.0" */
        const char *instance; /* "http://host:port" */
        const char *user_id;  /* the token's User Id */
        const char *method;
        char *seg[SF_MAX_SEGMENTS]; /* path segments after /services/data/<version>/ */
        size_t nseg;
        const char *q;      /* decoded ?q= or NULL */
        const char *fields; /* decoded ?fields= or NULL */
        const char *body;   /* NUL-terminated */
        size_t body_len;
};

/* What an operation answers; sf_result_clear frees it. */
struct sf_result {
        unsigned int status;
        json_t *body;   /* NULL: no body (204) */
        char *location; /* malloc'd Location of a created record, or NULL */
};

void sf_result_clear(struct sf_result *res);
/* Replace res with the Salesforce error array [{"message","errorCode"[,"fields"]}]. `fields`
 * (may be NULL) is stolen. Out of memory leaves a bodyless 500. */
void sf_error(struct sf_result *res, unsigned int status, const char *code, json_t *fields,
              const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Run one operation (lock held): dispatch on method and segments. Unknown → 404 NOT_FOUND. */
void sf_rest_dispatch_locked(const struct sf_op *op, struct sf_result *res);
void sf_query_run_locked(const struct sf_op *op, struct sf_result *res);
void sf_search_run_locked(const struct sf_op *op, struct sf_result *res);
void sf_composite_run_locked(const struct sf_op *op, struct sf_result *res);
/* composite/sobjects/<Obj>/<Field> PATCH: sObject Collections upsert (sf_collections.c). */
void sf_collections_upsert_locked(const struct sf_op *op, struct sf_result *res);
/* sobjects/<Obj> POST, sobjects/<Obj>/<Id> PATCH, sobjects/<Obj>/<Field>/<value> PATCH. */
void sf_write_create_locked(const struct sf_op *op, struct sf_result *res);
void sf_write_update_locked(const struct sf_op *op, struct sf_result *res);
void sf_write_upsert_locked(const struct sf_op *op, struct sf_result *res);

/* Split "a/b/c" into at most SF_MAX_SEGMENTS malloc'd segments; false when there are more or
 * out of memory (op->seg then holds what was split; sf_op_free_segments frees it). */
bool sf_op_split(struct sf_op *op, const char *path);
void sf_op_free_segments(struct sf_op *op);
/* True for a version segment "v<digits>.<digits>". */
bool sf_version_ok(const char *v);

/* ---- records (sf_record.c) -------------------------------------------------------------- */

/* The object whose key prefix starts `id` ("001..." → "Account"), or NULL. Lock held. */
const char *sf_type_of_id_locked(const char *id);
/* The 18-character form of a record id into `out` (19 bytes): 15 characters are
 * case-sensitive and get their suffix; 18 are case-insensitive, the suffix restoring the
 * capitals of the first 15. False (`out` "") when `id` is no id, as Salesforce's MALFORMED_ID. */
bool sf_id_canon(const char *id, char out[19]);
/* A record by type and Id (borrowed), or NULL. Lock held. */
json_t *sf_record_get_locked(const char *type, const char *id);
/* The value of `path` ("Phone" or "Account.Name") on `rec`, following reference fields.
 * Borrowed; NULL when unset or the parent is missing. Lock held. */
json_t *sf_record_value_locked(const char *type, json_t *rec, const char *path);
/* A new {"attributes":{"type","url"}, <fields>...} view of `rec` for the field list `fields`
 * (array of path strings, stolen; NULL = every schema field). NULL when out of memory. */
json_t *sf_record_render_locked(const char *version, const char *type, json_t *rec, json_t *fields);
/* Case-insensitive (ASCII) equality of a stored value and a string; numbers and booleans are
 * compared by their text. */
bool sf_value_equals(json_t *value, const char *s);
/* "/services/data/<version>/sobjects/<type>/<id>" into a new string; NULL when out of memory. */
char *sf_record_url(const char *version, const char *type, const char *id);

/* ---- schema (sf_describe.c) ------------------------------------------------------------- */

/* Build the default schema (JSON {"Obj":{"name","label","keyPrefix","fields":[...]}}); new
 * reference or NULL when out of memory. */
json_t *sf_schema_default(void);
/* The describe JSON of an object (borrowed) or NULL. Lock held. */
json_t *sf_schema_object_locked(const char *type);
/* A field description of an object (borrowed) or NULL; `name` compared case-insensitively. */
json_t *sf_schema_field_locked(const char *type, const char *name);
/* The field whose relationshipName is `rel` on `type` (borrowed) or NULL. */
json_t *sf_schema_relationship_locked(const char *type, const char *rel);
/* Apply {"Obj":{"drop":[...],"add":[{...}]}}; false with a message in `err` when invalid
 * (nothing changed then). Lock held. */
bool sf_schema_change_locked(json_t *change, char *err, size_t errlen);

/* ---- Salesforce state (sf_state.c) ------------------------------------------------------ */

/* The whole schema object (borrowed), the token and refresh-token maps. Lock held. */
json_t *sf_state_schema_locked(void);
/* Mint an access token for `user` (copied); returns a new string or NULL. Lock held. */
char *sf_state_token_mint_locked(json_t *user);
/* The User record copy behind a valid access token (borrowed) or NULL. Lock held. */
json_t *sf_state_token_user_locked(const char *token);
/* Forget one token (or all when NULL); returns how many were forgotten. Lock held. */
size_t sf_state_token_expire_locked(const char *token);
char *sf_state_refresh_mint_locked(json_t *user);
json_t *sf_state_refresh_user_locked(const char *refresh_token);
bool sf_state_refresh_revoke_locked(const char *refresh_token);
/* Count one REST request and write the header value "api-usage=N/M" into `buf`. Returns
 * false when the count is now over the limit (the request is refused). Lock held. */
bool sf_state_usage_count_locked(char *buf, size_t len);
void sf_state_usage_set_locked(long used, long max);
/* A new 18-character record Id with this 3-character key prefix into `out` (19 bytes). */
void sf_state_new_id_locked(const char *prefix, char out[19]);
/* Now as "2026-11-30T19:43:40.000+0000" into `out` (48 bytes). */
void sf_now_iso(char out[48]);

/* ---- the authorize step (sf_authorize.c) ------------------------------------------------ */

/* Take (remove) authorization code `code`: {"user","client_id","redirect_uri","challenge"?,
 * "exp"} (new reference) or NULL when unknown or used. Lock held. */
json_t *sf_code_take_locked(const char *code);
/* Is base64url(SHA-256(verifier)) == challenge (PKCE S256)? */
bool sf_pkce_matches(const char *verifier, const char *challenge);

/* ---- helpers (sf_util.c) ---------------------------------------------------------------- */

/* Decode base64url (no padding needed) into a malloc'd buffer; NULL on bad input. */
unsigned char *sf_b64url_decode(const char *in, size_t inlen, size_t *outlen);
/* One base64url JSON object of a JWT (header or claims); new reference, NULL when invalid. */
json_t *sf_jwt_part(const char *s, size_t len);
/* Does base64url `sig64` verify `signed_part` (header.claims) with RS256 under `key`? The
 * sandbox's checks of the Salesforce and Google service-account assertions. */
bool sf_jwt_rs256_ok(EVP_PKEY *key, const char *signed_part, size_t signed_len, const char *sig64);
/* Percent-decode (and '+' → ' ' when `form`) into a new NUL-terminated string or NULL. */
char *sf_url_decode(const char *in, size_t len, bool form);
/* The decoded value of `name` in an x-www-form-urlencoded body or query string; new string or
 * NULL when absent. */
char *sf_form_get(const char *body, const char *name);
/* Case-insensitive ASCII comparison of two strings. */
int sf_strcasecmp(const char *a, const char *b);

#endif
