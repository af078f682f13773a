/* The CRM interface. A provider is one src/crm/<name>.c defining a `struct cb_crm_ops`;
 * src/crm/none.c is the template to copy, and src/crm/crm.c lists the providers. */
#ifndef CALLBRIDGE_CRM_H
#define CALLBRIDGE_CRM_H

#include <jansson.h>
#include <stddef.h>

#include "callbridge/config.h"
#include "callbridge/util.h"

struct cb_crm_ops {
        const char *name;
        /* Build the provider's state from the configuration. NULL (reason logged) when the
         * configuration is unusable; destroy(NULL) must be safe. */
        void *(*create)(const struct cb_config *cfg);
        void (*destroy)(void *self);
        /* Create or update the call log for `call` (the API view of the call,
         * without history or jobs: cb_store_call_for_job).
         * Idempotent: called again for the same call it must not create a second record.
         * On OK `log_id` holds the CRM record id ("" if none); on RETRY/FAIL `err` says why. */
        enum cb_result (*log_call)(void *self, const json_t *call, char *log_id, size_t log_id_size,
                                   char *err, size_t err_size);
        /* The call's crm_state after a successful log: "synced", or "local" when the
         * provider keeps nothing outside PostgreSQL. */
        const char *logged_state;
};

struct cb_crm {
        const struct cb_crm_ops *ops;
        void *self;
};

/* The provider the configuration selects ([salesforce] enabled → salesforce, else none).
 * NULL (logged) when it cannot be built. Free with cb_crm_destroy. */
struct cb_crm *cb_crm_create(const struct cb_config *cfg);
void cb_crm_destroy(struct cb_crm **crm);

extern const struct cb_crm_ops cb_crm_none;

#endif
