/* Chooses the CRM provider the configuration asks for. Add a provider: write
 * src/crm/<name>.c from none.c and list its ops here. */
#include "callbridge/crm.h"

#include <stdlib.h>
#include <string.h>

#include "callbridge/log.h"

static const struct cb_crm_ops *const providers[] = {&cb_crm_none, &cb_crm_salesforce,
                                                     &cb_crm_hubspot};

/* `[crm] provider`, with auto resolved: salesforce when enabled, else hubspot, else none. */
static const char *wanted(const struct cb_config *cfg)
{
        const char *p = cfg->crm.provider != NULL ? cfg->crm.provider : "auto";

        if (strcmp(p, "auto") != 0)
                return p;
        if (cfg->salesforce.enabled)
                return cb_crm_salesforce.name;
        return cfg->hubspot.enabled ? cb_crm_hubspot.name : cb_crm_none.name;
}

struct cb_crm *cb_crm_create(const struct cb_config *cfg)
{
        const char *want = wanted(cfg);
        struct cb_crm *crm = NULL;

        for (size_t i = 0; i < CB_ARRAY_LEN(providers); i++) {
                if (strcmp(providers[i]->name, want) != 0)
                        continue;
                crm = calloc(1, sizeof(*crm));
                if (crm == NULL)
                        return NULL;
                crm->ops = providers[i];
                crm->self = crm->ops->create(cfg);
                if (crm->self == NULL) {
                        free(crm);
                        return NULL;
                }
                return crm;
        }
        cb_error("CRM provider %s is not part of this build", want);
        return NULL;
}

void cb_crm_destroy(struct cb_crm **crmp)
{
        struct cb_crm *crm = *crmp;

        if (crm == NULL)
                return;
        crm->ops->destroy(crm->self);
        free(crm);
        *crmp = NULL;
}

const struct cb_crm_ops *cb_crm_ops_of(const struct cb_config *cfg)
{
        const char *want = wanted(cfg); /* the same choice as cb_crm_create's */

        for (size_t i = 0; i < CB_ARRAY_LEN(providers); i++)
                if (strcmp(providers[i]->name, want) == 0)
                        return providers[i];
        return &cb_crm_none;
}
