/* Twilio request signatures: X-Twilio-Signature = base64(HMAC-SHA1(auth token, URL + every
 * POST parameter sorted by name, name then value)). JSON bodies are signed over the URL
 * alone, whose query carries bodySHA256 = hex SHA-256 of the body. The daemon checks webhooks
 * with it; the sandbox signs the webhooks it sends with it. */
#ifndef CALLBRIDGE_TWSIG_H
#define CALLBRIDGE_TWSIG_H

#include <stdbool.h>
#include <stddef.h>

#include "callbridge/form.h"

#define CB_TWSIG_LEN 28 /* base64 of a 20-byte digest */

/* The signature of `url` and `params` (NULL: none) into `out`. Returns 0, or -1 when out of
 * memory (out is then ""). Parameters are sorted by name, then value; identical name=value
 * pairs count once (as twilio-python, -node and -php do). */
int cb_twsig_compute(const char *token, const char *url, const struct cb_form *params,
                     char out[CB_TWSIG_LEN + 1]);

/* Check `signature` for a request to `url` (public URL + the request target as received).
 * Form requests pass their decoded `params`; JSON requests pass params NULL and the raw body,
 * and their URL must carry a matching bodySHA256. The URL is tried as given and in one other
 * spelling, as Twilio's helper libraries do: the scheme's default port added when it has no
 * port; the port removed when it is the default, or when the scheme is https (whatever the
 * port). "user:pass@" is kept. An http URL with another port is only tried as given.
 * Constant-time comparison; false for a NULL or empty token, URL or signature. */
bool cb_twsig_valid(const char *token, const char *url, const struct cb_form *params,
                    const void *json_body, size_t json_len, const char *signature);

#endif
