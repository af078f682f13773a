/* Chooses the telephony provider the configuration asks for. Add a provider: write
 * src/telephony/<name>.c from none.c and list its ops here. */
#include "callbridge/telephony.h"

#include <stdlib.h>
#include <string.h>

#include "callbridge/log.h"

static const struct cb_telephony_ops *const providers[] = {&cb_telephony_none,
                                                           &cb_telephony_twilio};

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
                tel->self = tel->ops->create(cfg);
                if (tel->self == NULL) {
                        free(tel);
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
        tel->ops->destroy(tel->self);
        free(tel);
        *telp = NULL;
}
