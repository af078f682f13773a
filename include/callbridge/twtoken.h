/* Twilio access tokens with a Voice grant, for the softphone SDKs (Twilio Voice JS, iOS,
 * Android): an HS256 JWT signed with an API key secret, header
 * {"alg":"HS256","cty":"twilio-fpa;v=1","typ":"JWT"}, claims jti ("<key sid>-<iat>"), iss
 * (API key SID), sub (Account SID), iat, exp and grants {"identity", "voice": {"incoming":
 * {"allow": true}, "outgoing": {"application_sid": TwiML App SID}}}. */
#ifndef CALLBRIDGE_TWTOKEN_H
#define CALLBRIDGE_TWTOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CB_TWTOKEN_IDENTITY_MAX 121   /* Twilio's limit on a client identity */
#define CB_TWTOKEN_TTL_MAX      86400 /* Twilio refuses tokens valid for more than 24 h */

/* What a token is made from. The strings are owned by the struct. */
struct cb_twtoken_keys {
        char *account_sid;   /* AC... */
        char *api_key_sid;   /* SK... */
        char *twiml_app_sid; /* AP... */
        char *secret;        /* the API key secret: never logged; wiped by _destroy */
        size_t secret_len;
};

/* Copies of the three SIDs; takes `secret_take` (malloc'd, NUL-terminated) in every case
 * (freed and wiped on failure). Returns NULL when out of memory or an argument is NULL. */
struct cb_twtoken_keys *cb_twtoken_keys_create(const char *account_sid, const char *api_key_sid,
                                               const char *twiml_app_sid, char *secret_take);
/* Wipe the secret, free everything, clear *keys. NULL and *keys NULL are fine. */
void cb_twtoken_keys_destroy(struct cb_twtoken_keys **keys);

/* True when `identity` may be a Twilio client identity here: 1..121 bytes of ASCII letters,
 * digits and @ . _ - (no spaces, nothing that needs escaping in TwiML <Client>). */
bool cb_twtoken_identity_valid(const char *identity);

/* A token for `identity`, issued at `now` (Unix seconds), valid for `ttl_s` (1..86400).
 * Returns the malloc'd JWT (caller frees), or NULL when the identity is invalid, the TTL out
 * of range, or out of memory. */
char *cb_twtoken_create(const struct cb_twtoken_keys *keys, const char *identity, int64_t now,
                        long ttl_s);

#endif
