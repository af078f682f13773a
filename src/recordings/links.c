/* Signed playback links: /r/{id}?exp=<unix seconds>&sig=<hex HMAC-SHA256("<id>:<exp>")>. The
 * HMAC key is derived from a recording key (HMAC of the label below under it), so nothing more
 * needs configuring, and every key of the ring is tried: links survive key rotation. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "callbridge/crypto.h"
#include "callbridge/recordings.h"

#define LABEL "callbridge recording links v1"

static void sign_with(const struct cb_recordings *rec, size_t key_index, const char *id,
                      long long exp, char sig[65])
{
        unsigned char key[32], mac[32];
        char msg[CB_UUID_LEN + 32];

        sig[0] = '\0';
        if (cb_keyring_derive(rec->keys, key_index, LABEL, key) != 0)
                return;
        snprintf(msg, sizeof(msg), "%s:%lld", id, exp);
        if (cb_hmac_sha256(key, sizeof(key), msg, strlen(msg), mac))
                cb_hex(mac, sizeof(mac), sig);
        OPENSSL_cleanse(key, sizeof(key));
}

void cb_rec_link_sign(const struct cb_recordings *rec, const char *id, long long exp, char sig[65])
{
        sig[0] = '\0';
        if (cb_recordings_enabled(rec))
                sign_with(rec, cb_keyring_count(rec->keys) - 1, id, exp, sig);
}

bool cb_rec_link_valid(const struct cb_recordings *rec, const char *id, long long exp,
                       const char *sig)
{
        char want[65];
        bool ok = false;

        if (!cb_recordings_enabled(rec) || sig == NULL || strlen(sig) != 64)
                return false;
        for (size_t i = 0; i < cb_keyring_count(rec->keys); i++) {
                sign_with(rec, i, id, exp, want);
                ok |= want[0] != '\0' && cb_ct_equal(want, sig, 64);
        }
        return ok;
}
