/* What keeps unauthenticated traffic cheap (src/http/auth_guard.c): a per-address budget of
 * failed authentications, a negative cache of refused CRM session tokens and a bound
 * on session checks in flight. Used by src/http/auth.c only. */
#ifndef CB_HTTP_AUTH_GUARD_H
#define CB_HTTP_AUTH_GUARD_H

#include <stdbool.h>
#include <sys/socket.h>

#include "callbridge/http.h"

/* True when `peer` spent its failed authentications of this minute ([auth]
 * unauth_per_ip_per_min); *retry_after_s: until the minute ends. NULL peer: false. */
bool cb_auth_guard_blocked(const struct cb_config *cfg, const struct sockaddr *peer,
                           int *retry_after_s);
/* Count one failed authentication of `peer` (NULL: nothing). */
void cb_auth_guard_failed(const struct cb_config *cfg, const struct sockaddr *peer);

/* Check a bearer that is not one of our keys against the CRM (its session_agent op, when its
 * session_auth_enabled says so):
 * refused tokens are remembered for [auth] session_negative_ttl_s (by hash, in memory and in
 * Redis), and at most [auth] session_max_checks run at once. Returns CB_ERR_NONE (agent
 * filled), UNAUTHORIZED, RATE_LIMITED (too many checks in flight; *retry_after_s) or
 * UPSTREAM_UNAVAILABLE (the CRM did not answer: not cached). */
enum cb_err cb_auth_guard_session(struct cb_http_env *env, const char *token,
                                  struct cb_agent *agent, int *retry_after_s);

#endif
