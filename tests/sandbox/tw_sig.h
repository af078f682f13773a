/* callbridge-sandbox: Twilio's webhook signature (X-Twilio-Signature), computed the sandbox's
 * own way. Sandbox-local, never installed. The daemon checks signatures with its own code
 * (src/crypto/twsig.c); the sandbox must not share it, or a mistake in one would be signed and
 * accepted alike. Both are checked against Twilio's published vectors (tests/unit/test_twsig.c,
 * tests/unit/test_sb_twsig.c). A pure function (no sandbox state), so a unit test compiles it in.
 *
 * As Twilio documents it: HMAC-SHA1 keyed with the auth token over the full URL followed by
 * every POST parameter, sorted by name, as name then value; the digest in standard base64. A
 * name given several times is sorted by value, and an identical name=value pair counts once (as
 * twilio-python and twilio-php do). A GET (or a JSON body) is signed over the URL alone. */
#ifndef CALLBRIDGE_SANDBOX_TW_SIG_H
#define CALLBRIDGE_SANDBOX_TW_SIG_H

#include "callbridge/form.h"

#define TW_SIG_LEN 28 /* base64 of the 20-byte HMAC-SHA1 */

/* The signature of `url` and `params` (NULL or empty: the URL alone) with `token` into `out`.
 * Returns 0, or -1 when OpenSSL or malloc fails (out is then ""). Nothing to free. */
int tw_sig_compute(const char *token, const char *url, const struct cb_form *params,
                   char out[TW_SIG_LEN + 1]);

#endif
