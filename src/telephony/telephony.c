/* Chooses the telephony provider the configuration asks for. Add a provider: write
 * src/telephony/<name>.c from none.c and list its ops here. */
#include "callbridge/telephony.h"

#include <stdlib.h>
#include <string.h>

#include "callbridge/log.h"

static const struct cb_telephony_ops *const providers[] = {&cb_telephony_none,
                                                           &cb_telephony_twilio};

/* The softphone token issuer: the first provider with CB_TEL_CAP_SOFTPHONE, whichever places
 * calls. 0, or -1 when its keys are set but unusable (logged). */
static int softphone_create(struct cb_telephony *tel, const struct cb_config *cfg)
{
        for (size_t i = 0; i < CB_ARRAY_LEN(providers); i++) {
                if ((providers[i]->caps & CB_TEL_CAP_SOFTPHONE) == 0)
                        continue;
                tel->softphone = providers[i];
                return tel->softphone->softphone_create(cfg, &tel->tokens);
        }
        return 0;
}

struct cb_telephony *cb_telephony_create(const struct cb_config *cfg)
{
        const char *want = cfg->twilio.enabled ? "twilio" : "none";
        struct cb_telephony *tel = NULL;

        for (size_t i = 0; i < CB_ARRAY_LEN(providers); i++) {
                if (strcmp(providers[i]->name, want) != 0)
                        continue;
                tel = calloc(1, sizeof(*tel));
                if (tel == NULL)
                        return NULL;
                tel->ops = providers[i];
                if (softphone_create(tel, cfg) != 0 ||
                    (tel->self = tel->ops->create(cfg)) == NULL) {
                        cb_telephony_destroy(&tel);
                        return NULL;
                }
                return tel;
        }
        cb_error("telephony provider %s is not part of this build", want);
        return NULL;
}

void cb_telephony_destroy(struct cb_telephony **telp)
{
        struct cb_telephony *tel = *telp;

        if (tel == NULL)
                return;
        if (tel->self != NULL)
                tel->ops->destroy(tel->self);
        if (tel->softphone != NULL)
                tel->softphone->softphone_destroy(tel->tokens);
        free(tel);
        *telp = NULL;
}

const char *cb_telephony_softphone_off(const struct cb_telephony *tel)
{
        if (tel->softphone == NULL)
                return "no telephony provider of this build issues softphone tokens";
        return tel->tokens == NULL ? tel->softphone->softphone_off : NULL;
}

enum cb_err cb_telephony_softphone_token(const struct cb_telephony *tel, const char *identity,
                                         long ttl_s, char **token_take, long *expires_in,
                                         const char **msg)
{
        *token_take = NULL;
        *msg = cb_telephony_softphone_off(tel);
        if (*msg != NULL)
                return CB_ERR_TOKENS_NOT_CONFIGURED;
        return tel->softphone->softphone_token(tel->tokens, identity, ttl_s, token_take, expires_in,
                                               msg);
}
