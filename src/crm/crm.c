/* Chooses the CRM provider the configuration asks for. Add a provider: write
 * src/crm/<name>.c from none.c and list its ops here. */
#include "callbridge/crm.h"

#include <stdlib.h>
#include <string.h>

#include "callbridge/log.h"

static const struct cb_crm_ops *const providers[] = {&cb_crm_none, &cb_crm_salesforce};

struct cb_crm *cb_crm_create(const struct cb_config *cfg)
{
        const char *want = cfg->salesforce.enabled ? "salesforce" : "none";
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
        /* The same choice as cb_crm_create's. */
        const char *want = cfg->salesforce.enabled ? "salesforce" : "none";

        for (size_t i = 0; i < CB_ARRAY_LEN(providers); i++)
                if (strcmp(providers[i]->name, want) == 0)
                        return providers[i];
        return &cb_crm_none;
}
