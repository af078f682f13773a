/* callbridge-sandbox: Twilio's webhook signature, see tw_sig.h. OpenSSL only (EVP_MAC for the
 * HMAC, EVP_EncodeBlock for base64): nothing of the daemon's signature or encoding code. The
 * HMAC is fed piece by piece, so no message buffer is built. */
#include "tw_sig.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdlib.h>
#include <string.h>

/* Order of two parameters: by name, then by value (bytes, as strcmp). */
static int pair_order(const struct cb_form_param *a, const struct cb_form_param *b)
{
        int by_name = strcmp(a->name, b->name);

        return by_name != 0 ? by_name : strcmp(a->value, b->value);
}

static int pair_cmp(const void *x, const void *y)
{
        return pair_order(*(const struct cb_form_param *const *)x,
                          *(const struct cb_form_param *const *)y);
}

static int mac_feed(EVP_MAC_CTX *mac, const char *s)
{
        return EVP_MAC_update(mac, (const unsigned char *)s, strlen(s)) == 1 ? 0 : -1;
}

/* Feed `url`, then the pairs of `params` in order (identical pairs once). -1 on failure. */
static int mac_message(EVP_MAC_CTX *mac, const char *url, const struct cb_form *params)
{
        size_t n = params != NULL ? params->n : 0;
        const struct cb_form_param **order = NULL;
        int rc = mac_feed(mac, url);

        if (rc != 0 || n == 0)
                return rc;
        order = malloc(n * sizeof(const struct cb_form_param *));
        if (order == NULL)
                return -1;
        for (size_t i = 0; i < n; i++)
                order[i] = &params->p[i];
        qsort(order, n, sizeof(const struct cb_form_param *), pair_cmp);
        for (size_t i = 0; i < n && rc == 0; i++) {
                if (i > 0 && pair_order(order[i - 1], order[i]) == 0)
                        continue;
                rc = mac_feed(mac, order[i]->name) | mac_feed(mac, order[i]->value);
        }
        free(order);
        return rc;
}

/* See tw_sig.h. */
int tw_sig_compute(const char *token, const char *url, const struct cb_form *params,
                   char out[TW_SIG_LEN + 1])
{
        EVP_MAC *hmac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
        EVP_MAC_CTX *mac = hmac != NULL ? EVP_MAC_CTX_new(hmac) : NULL;
        OSSL_PARAM digest[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA1", 0),
            OSSL_PARAM_construct_end(),
        };
        unsigned char md[20];
        size_t md_len = 0;
        int rc = -1;

        out[0] = '\0';
        if (mac != NULL &&
            EVP_MAC_init(mac, (const unsigned char *)token, strlen(token), digest) == 1 &&
            mac_message(mac, url, params) == 0 &&
            EVP_MAC_final(mac, md, &md_len, sizeof(md)) == 1 && md_len == sizeof(md) &&
            EVP_EncodeBlock((unsigned char *)out, md, (int)md_len) == TW_SIG_LEN)
                rc = 0;
        else
                out[0] = '\0';
        EVP_MAC_CTX_free(mac);
        EVP_MAC_free(hmac);
        return rc;
}
