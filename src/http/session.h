/* Browser sessions (src/http/session.c, session_util.c): the `cb_session` cookie the console
 * holds after signing in with an API key or with the CRM. PostgreSQL keeps the token's
 * SHA-256 (include/callbridge/sessions.h); verified sessions are cached in memory like API keys
 * and dropped within a second of a revocation on every instance (the auth watcher calls
 * cb_session_watch_tick). */
#ifndef CB_HTTP_SESSION_H
#define CB_HTTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "callbridge/http.h"
#include "callbridge/recordings.h"
#include "callbridge/crm.h"
#include "callbridge/sessions.h"

#define CB_SESSION_COOKIE     "cb_session"
#define CB_SESSION_TOKEN_LEN  43 /* base64url of 32 random bytes */
#define CB_RETURN_TO_MAX      512
#define CB_PKCE_VERIFIER_LEN  64 /* base64url of 48 random bytes */
#define CB_PKCE_CHALLENGE_LEN 43

/* ---- pure helpers (session_util.c) ---- */

/* The value of cookie `name` in a Cookie header ("a=1; cb_session=xyz") copied into `out`:
 * true when present (the first one), non-empty and shorter than `out_size`. */
bool cb_cookie_get(const char *header, const char *name, char *out, size_t out_size);
/* True for a token of our shape: CB_SESSION_TOKEN_LEN base64url characters. */
bool cb_session_token_shape(const char *token);
/* True when `path` is a local path a sign-in may go back to: starts with one '/', not "//"
 * nor "/\", no scheme, no control characters or backslashes, shorter than CB_RETURN_TO_MAX. */
bool cb_return_to_valid(const char *path);
/* `path` when cb_return_to_valid, else "/console/". Borrowed. */
const char *cb_return_to_or_default(const char *path);
/* The PKCE S256 challenge of `verifier`: base64url(SHA-256(verifier)) without padding, into
 * `out` (CB_PKCE_CHALLENGE_LEN + 1 bytes). */
void cb_pkce_challenge(const char *verifier, char out[CB_PKCE_CHALLENGE_LEN + 1]);
/* True when `verifier` is a valid PKCE verifier (RFC 7636: 43..128 of [A-Za-z0-9-._~]). */
bool cb_pkce_verifier_valid(const char *verifier);
/* The Set-Cookie value for `token` (NULL: one that clears the cookie, Max-Age=0) under
 * [auth] cookie_samesite, Secure when [server] public_url is https. New string, or NULL when
 * out of memory. */
char *cb_session_cookie(const struct cb_config *cfg, const char *token, long max_age_s);
/* `t` (unix seconds) as "2026-12-07T15:00:00Z" into `out`. */
void cb_iso_utc(int64_t t, char out[32]);

/* ---- sessions (session.c) ---- */

/* What a verified session says. */
struct cb_session_info {
        struct cb_session_row row;
        char hash_hex[65];
};

/* Verify `token` (the cookie's value): CB_ERR_NONE with `out` filled, UNAUTHORIZED (unknown,
 * revoked, expired, idle; counted against `peer`), RATE_LIMITED (`peer` spent its failures of
 * the minute; *retry_after_s) or DB_UNAVAILABLE. */
enum cb_err cb_session_check(struct cb_http_env *env, const char *token,
                             const struct sockaddr *peer, struct cb_session_info *out,
                             int *retry_after_s);
/* The verified session behind req->session (set by cb_request_authenticate), from the cache
 * or PostgreSQL: CB_ERR_NONE, UNAUTHORIZED (not cookie-authenticated) or DB_UNAVAILABLE. */
enum cb_err cb_session_of(struct cb_request *req, struct cb_session_info *out);
/* Sign `agent` in: a new session row, req->set_cookie set, and the JSON the sign-in routes
 * answer ({"agent":{name, display_name, admin, crm_user_id}, "csrf_token", "expires_at"}) in
 * *body (caller frees). `crm_user_id` and `crm_cred_sealed_hex` NULL for an API-key sign-in.
 * CB_ERR_NONE, or DB_UNAVAILABLE / UNAUTHORIZED (the agent is gone) with nothing written. */
enum cb_err cb_session_start(struct cb_request *req, const char *agent, const char *how,
                             const char *crm_user_id, const char *crm_cred_sealed_hex,
                             json_t **body);
/* The sign-in JSON for the verified session `s` (its own csrf token). New reference, or NULL
 * (*err says why: DB_UNAVAILABLE, UNAUTHORIZED when the agent is gone). */
json_t *cb_session_body(struct cb_http_env *env, const struct cb_session_info *s, enum cb_err *err);
/* Revoke the session of `hash_hex` here (cache) and in PostgreSQL. CB_ERR_NONE or
 * DB_UNAVAILABLE. */
enum cb_err cb_session_revoke(struct cb_http_env *env, const char *hash_hex);
/* Called by the auth watcher (src/http/auth.c) on every tick with a connection: drop the
 * sessions revoked lately and those of agents changed since they were read, and every
 * `touch` ticks record which sessions were used (last_seen_at). False when PostgreSQL could not
 * be asked. */
bool cb_session_watch_tick(struct cb_db *db, bool touch);
/* Drop every cached session. */
void cb_session_cache_clear(void);

/* ---- Sign in with the CRM (session_crm.c; the provider's sign_in_* ops) ---- */

/* True when the CRM provider signs users in (its sign_in_* ops, and its configuration). */
bool cb_crm_sign_in_ready(const struct cb_crm *crm);
/* <[server] public_url>/auth/<provider>/callback into `out` (the callback URL registered
 * with the CRM's OAuth app; a trailing '/' of public_url is dropped). */
void cb_crm_sign_in_redirect_uri(const struct cb_config *cfg, const struct cb_crm *crm, char *out,
                                 size_t out_size);

/* The signed-in user's credential `cred` (the provider's text) sealed with the recording
 * keyring as hex (new string), or NULL when recordings have no keyring (the credential is
 * then not kept) or out of memory. */
char *cb_session_cred_seal(const struct cb_recordings *rec, const char *cred);
/* Open what cb_session_cred_seal made into `out` (wipe it after use); false when it does not
 * authenticate, does not fit or the keyring is gone. */
bool cb_session_cred_open(const struct cb_recordings *rec, const char *hex, char *out,
                          size_t out_size);

/* ---- what a CRM user may read (record_access.c) ---- */

/* May the CRM user of session `s` read record `record_id`? Asked of the CRM with the user's
 * own credential (the provider's user_can_read) and remembered for a minute (a refusal for
 * ten seconds) per session and record. CB_ERR_NONE with *can_read (false too when the session
 * was not signed in with this CRM, keeps no credential or the provider cannot tell),
 * DB_UNAVAILABLE, or UPSTREAM_UNAVAILABLE when the CRM did not answer (not remembered). */
enum cb_err cb_record_access_check(struct cb_http_env *env, const struct cb_session_info *s,
                                   const char *record_id, bool *can_read);

#endif
