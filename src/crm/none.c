/* The local-only CRM: call logs live in PostgreSQL alone, nothing is looked up or written
 * anywhere else. Copy this file to add a CRM, then list its ops in src/crm/crm.c. The writes
 * get the call as a `const struct cb_call *` (include/callbridge/calls.h: typed fields, ""
 * for what is unknown); a provider that matches on field names can ask cb_calls_to_json. */
#include "callbridge/crm.h"

#include <stdio.h>

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

static enum cb_result none_lookup_phone(void *self, const char *e164, json_t **matches, char *err,
                                        size_t err_size)
{
        (void)self;
        (void)e164;
        *matches = json_array();
        if (*matches != NULL)
                return CB_RESULT_OK;
        snprintf(err, err_size, "out of memory");
        return CB_RESULT_RETRY;
}

static enum cb_result none_get_record(void *self, const char *type, const char *id, json_t **record,
                                      char *err, size_t err_size)
{
        (void)self;
        (void)type;
        *record = NULL;
        snprintf(err, err_size, "the local CRM holds no record %s", id);
        return CB_RESULT_FAIL;
}

static enum cb_result none_create_lead(void *self, const char *e164, json_t **match, char *err,
                                       size_t err_size)
{
        (void)self;
        (void)e164;
        *match = NULL;
        snprintf(err, err_size, "the local CRM cannot create leads");
        return CB_RESULT_FAIL;
}

static enum cb_result none_log_call(void *self, const struct cb_call *call,
                                    struct cb_crm_logged *out, char *err, size_t err_size)
{
        (void)self;
        (void)call;
        (void)err;
        (void)err_size;
        out->id[0] = '\0';
        out->state = "local";
        return CB_RESULT_OK;
}

/* What is attached is already in PostgreSQL (GET /api/calls/{id} shows it). */
static enum cb_result none_attach(void *self, const struct cb_call *call, const json_t *fields,
                                  enum cb_crm_priority prio, char *err, size_t err_size)
{
        (void)self;
        (void)call;
        (void)fields;
        (void)prio;
        (void)err;
        (void)err_size;
        return CB_RESULT_OK;
}

static enum cb_result none_create_task(void *self, const struct cb_call *call, const char *key,
                                       const json_t *task, char *task_id, size_t task_id_size,
                                       char *err, size_t err_size)
{
        (void)self;
        (void)call;
        (void)task;
        (void)err;
        (void)err_size;
        snprintf(task_id, task_id_size, "local:%s", key);
        return CB_RESULT_OK;
}

static enum cb_result none_describe(void *self, const char *object, json_t **fields, char *err,
                                    size_t err_size)
{
        (void)self;
        (void)object;
        *fields = json_array();
        if (*fields != NULL)
                return CB_RESULT_OK;
        snprintf(err, err_size, "out of memory");
        return CB_RESULT_RETRY;
}

const struct cb_crm_ops cb_crm_none = {
    .name = "none",
    .caps = 0, /* no records: lookups always answer empty */
    .create = none_create,
    .destroy = none_destroy,
    .lookup_phone = none_lookup_phone,
    .get_record = none_get_record,
    .create_lead = none_create_lead,
    .log_call = none_log_call,
    .attach = none_attach,
    .create_task = none_create_task,
    .describe = none_describe,
    .session_agent = NULL,
    .health = NULL,
    .instance_url = NULL,
    .metrics = NULL,
};
