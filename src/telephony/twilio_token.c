/* Twilio Voice access tokens for the softphone SDKs (Twilio Voice JS, iOS, Android), as the
 * CB_TEL_CAP_SOFTPHONE ops of the Twilio provider: the keys are [twilio] account_sid,
 * api_key_sid, api_key_secret_file (read once, at start, never logged) and twiml_app_sid,
 * whatever [twilio] enabled says; the token is made by cb_twtoken_create
 * (src/crypto/twtoken.c) and lives at most [twilio] token_ttl_s (re-read on every token, so
 * a reload applies). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbridge/log.h"
#include "callbridge/twtoken.h"
#include "twilio_int.h"

#define STR_(x) #x
#define STR(x)  STR_(x)

struct twilio_tokens {
        const struct cb_config *cfg; /* borrowed: token_ttl_s follows reloads */
        struct cb_twtoken_keys *keys;
};

static bool set(const char *s)
{
        return s != NULL && s[0] != '\0';
}

/* The keys of `cfg`, or NULL (logged) when the secret cannot be read or memory runs out. */
static struct cb_twtoken_keys *keys_load(const struct cb_config *cfg)
{
        struct cb_twtoken_keys *keys;
        char *secret = cb_config_read_secret(cfg->twilio.api_key_secret_file);

        if (secret == NULL || secret[0] == '\0') {
                cb_error("[twilio] api_key_secret_file %s: %s", cfg->twilio.api_key_secret_file,
                         secret == NULL ? strerror(errno) : "empty");
                free(secret);
                return NULL;
        }
        keys = cb_twtoken_keys_create(cfg->twilio.account_sid, cfg->twilio.api_key_sid,
                                      cfg->twilio.twiml_app_sid, secret);
        if (keys == NULL)
                cb_error("softphone tokens: out of memory");
        return keys;
}

int cb_twilio_softphone_create(const struct cb_config *cfg, void **tokens)
{
        const char *names[] = {"account_sid", "api_key_sid", "api_key_secret_file",
                               "twiml_app_sid"};
        const char *values[] = {cfg->twilio.account_sid, cfg->twilio.api_key_sid,
                                cfg->twilio.api_key_secret_file, cfg->twilio.twiml_app_sid};
        char missing[128] = "";
        size_t o = 0;
        struct twilio_tokens *tt;

        *tokens = NULL;
        for (size_t i = 0; i < CB_ARRAY_LEN(names); i++)
                if (!set(values[i]) && o < sizeof(missing))
                        o += (size_t)snprintf(missing + o, sizeof(missing) - o, "%s%s",
                                              o ? ", " : "", names[i]);
        if (o > 0) {
                cb_info("softphone tokens are off: [twilio] %s not set", missing);
                return 0;
        }
        tt = calloc(1, sizeof(*tt));
        if (tt == NULL) {
                cb_error("softphone tokens: out of memory");
                return -1;
        }
        tt->cfg = cfg;
        tt->keys = keys_load(cfg);
        if (tt->keys == NULL) {
                free(tt);
                return -1;
        }
        cb_info("softphone tokens on (API key %s, TwiML App %s)", cfg->twilio.api_key_sid,
                cfg->twilio.twiml_app_sid);
        *tokens = tt;
        return 0;
}

void cb_twilio_softphone_destroy(void *tokens)
{
        struct twilio_tokens *tt = tokens;

        if (tt == NULL)
                return;
        cb_twtoken_keys_destroy(&tt->keys);
        free(tt);
}

enum cb_err cb_twilio_softphone_token(void *tokens, const char *identity, long ttl_s,
                                      char **token_take, long *expires_in, const char **msg)
{
        const struct twilio_tokens *tt = tokens;
        long ttl = tt->cfg->twilio.token_ttl_s;

        *token_take = NULL;
        *msg = NULL;
        if (ttl_s > 0 && ttl_s < ttl)
                ttl = ttl_s;
        if (!cb_twtoken_identity_valid(identity)) {
                *msg = "the agent name cannot be a Twilio client identity (1-" STR(
                    CB_TWTOKEN_IDENTITY_MAX) " letters, digits and @ . _ -)";
                return CB_ERR_INVALID_FIELD;
        }
        *token_take = cb_twtoken_create(tt->keys, identity, (int64_t)time(NULL), ttl);
        if (*token_take == NULL) {
                cb_error("softphone token for %s: out of memory", identity);
                return CB_ERR_INTERNAL;
        }
        *expires_in = ttl;
        return CB_ERR_NONE;
}
