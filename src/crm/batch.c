/* The batch writes of the CRM seam: the provider's batch op when it has one, else one item at a
 * time through the single-record op (same outcomes, one request per item). */
#include <stdio.h>

#include "callbridge/crm.h"

void cb_crm_log_calls(struct cb_crm *crm, struct cb_crm_item *items, size_t n)
{
        if (n == 0)
                return;
        if (crm->ops->log_calls != NULL) {
                crm->ops->log_calls(crm->self, items, n);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                items[i].err[0] = '\0';
                items[i].result = crm->ops->log_call(crm->self, items[i].call, &items[i].logged,
                                                     items[i].err, sizeof(items[i].err));
        }
}

void cb_crm_attach_many(struct cb_crm *crm, struct cb_crm_item *items, size_t n)
{
        if (n == 0)
                return;
        if (crm->ops->attach_many != NULL) {
                crm->ops->attach_many(crm->self, items, n);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                items[i].err[0] = '\0';
                items[i].result =
                    crm->ops->attach(crm->self, items[i].call, items[i].fields, items[i].prio,
                                     items[i].err, sizeof(items[i].err));
        }
}

void cb_crm_create_tasks(struct cb_crm *crm, struct cb_crm_item *items, size_t n)
{
        if (n == 0)
                return;
        if (crm->ops->create_tasks != NULL) {
                crm->ops->create_tasks(crm->self, items, n);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                items[i].err[0] = '\0';
                items[i].result = crm->ops->create_task(
                    crm->self, items[i].call, items[i].key, items[i].fields, items[i].id,
                    sizeof(items[i].id), items[i].err, sizeof(items[i].err));
        }
}

void cb_crm_write_batch(struct cb_crm *crm, struct cb_crm_batch *batch)
{
        if (batch->nlogs + batch->nattaches + batch->ntasks == 0)
                return;
        if (crm->ops->write_batch != NULL) {
                crm->ops->write_batch(crm->self, batch);
                return;
        }
        cb_crm_log_calls(crm, batch->logs, batch->nlogs);
        cb_crm_attach_many(crm, batch->attaches, batch->nattaches);
        cb_crm_create_tasks(crm, batch->tasks, batch->ntasks);
}
