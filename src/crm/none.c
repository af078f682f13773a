/* The local-only CRM: call logs live in PostgreSQL alone. Copy this file to add a CRM. */
#include "callbridge/crm.h"

#include <stdlib.h>

static int none_self; /* a non-NULL token: this provider has no state */

static void *none_create(const struct cb_config *cfg)
{
        (void)cfg;
        return &none_self;
}

static void none_destroy(void *self)
{
        (void)self;
}

static enum cb_result none_log_call(void *self, const json_t *call, char *log_id,
                                    size_t log_id_size, char *err, size_t err_size)
{
        (void)self;
        (void)call;
        (void)err;
        (void)err_size;
        if (log_id_size > 0)
                log_id[0] = '\0';
        return CB_RESULT_OK;
}

const struct cb_crm_ops cb_crm_none = {
    .name = "none",
    .create = none_create,
    .destroy = none_destroy,
    .log_call = none_log_call,
    .logged_state = "local",
};
