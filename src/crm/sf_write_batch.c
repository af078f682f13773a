/* The crm op write_batch on Salesforce: the call logs, additions and follow-up tasks of a batch
 * as three collections of one Composite request (sf_upsert_composite), in dependency order:
 * the transcript parts (Callbridge_Transcript__c by Callbridge_Key__c), then ONE Task record
 * per call merging its log, recording link and analysis fields (by the call-id External ID,
 * later fields winning), linked to its transcript's first part through the relationship by
 * External ID ("Callbridge_Transcript__r": {"Callbridge_Key__c": "<call id>:1"}) so that no
 * id has to come back first, then the follow-up Tasks (by Callbridge_Followup_Key__c). Every
 * record is keyed as the one-by-one writes key it: the batch run again changes nothing more. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/log.h"
#include "sf.h"

#define NONE ((size_t)-1)

enum { COLL_PARTS, COLL_TASKS, COLL_FOLLOWUPS, COLLS };

/* The batch as collections, and which record each item went into. */
struct wb {
        struct sf_collection coll[COLLS];
        size_t cap_parts;
        size_t *part_owner;        /* the attach item of each part */
        size_t *log_rec, *att_rec; /* each log's and attach's Task record, or NONE */
        size_t *task_rec;          /* each follow-up's record, or NONE */
        json_t *keep;              /* the transcript parts the part records are borrowed from */
};

static const char *str(const json_t *obj, const char *key)
{
        return json_string_value(json_object_get(obj, key));
}

static void item_set(struct cb_crm_item *it, enum cb_result r, const char *err)
{
        it->result = r;
        cb_strlcpy(it->err, err, sizeof(it->err));
}

/* Add `record` (taken) keyed `value` (borrowed) to collection `c`; its index, or NONE when
 * out of memory (the record freed). The arrays hold what the batch can have. */
static size_t add(struct wb *w, int c, json_t *record, const char *value)
{
        struct sf_collection *col = &w->coll[c];

        if (record == NULL)
                return NONE;
        if (c == COLL_PARTS && col->n == w->cap_parts) {
                size_t cap = w->cap_parts ? w->cap_parts * 2 : 16;
                struct sf_upsert_item *items = realloc(col->items, cap * sizeof(*items));
                size_t *owner = items ? realloc(w->part_owner, cap * sizeof(*owner)) : NULL;
                if (items != NULL)
                        col->items = items;
                if (owner == NULL) {
                        json_decref(record);
                        return NONE;
                }
                w->part_owner = owner;
                w->cap_parts = cap;
        }
        memset(&col->items[col->n], 0, sizeof(col->items[0]));
        col->items[col->n].record = record;
        col->items[col->n].value = value;
        return col->n++;
}

static void add_logs(struct sf *sf, struct wb *w, struct cb_crm_item *logs, size_t n)
{
        bool single = strcmp(sf->cfg->crm.write_mode, "single") == 0;

        for (size_t i = 0; i < n; i++) {
                logs[i].logged.id[0] = logs[i].err[0] = '\0';
                logs[i].logged.state = "pending";
                logs[i].result = CB_RESULT_OK;
                w->log_rec[i] = NONE;
                if (single && !cb_calls_status_final(logs[i].call->status))
                        continue; /* one write when the call ends */
                w->log_rec[i] =
                    add(w, COLL_TASKS, sf_call_record(sf, logs[i].call, NULL), logs[i].call->id);
                if (w->log_rec[i] == NONE)
                        item_set(&logs[i], CB_RESULT_RETRY, "out of memory");
        }
}

/* The transcript of attach `it` (number `i`) as parts, and the link of its Task `rec` to the
 * first part by External ID; false when out of memory. */
static bool add_transcript(struct wb *w, struct cb_crm_item *it, size_t i, json_t *rec)
{
        json_t *parts =
            sf_transcript_records(it->call, it->call->crm_log_id, str(it->fields, "transcript"),
                                  json_object_get(it->fields, "entities"));
        json_t *p;
        char key[96];
        size_t j, k;

        if (parts == NULL || json_array_append_new(w->keep, parts) != 0)
                return false;
        json_array_foreach(parts, j, p)
        {
                k = add(w, COLL_PARTS, json_incref(json_object_get(p, "record")), str(p, "key"));
                if (k == NONE)
                        return false;
                w->part_owner[k] = i;
        }
        snprintf(key, sizeof(key), "%s:1", it->call->id);
        return json_object_set_new(rec, "Callbridge_Transcript__r",
                                   json_pack("{s:{s:s},s:s}", "attributes", "type",
                                             "Callbridge_Transcript__c", "Callbridge_Key__c",
                                             key)) == 0;
}

static void add_attaches(struct sf *sf, struct wb *w, struct cb_crm_item *att, size_t n)
{
        char held[256] = "";
        bool low = false;

        for (size_t i = 0; i < n; i++)
                low |= att[i].prio == CB_CRM_PRIO_LOW;
        /* Low-priority additions stay out while the API budget holds them (no attempt). */
        if (low && !sf_rest_budget_holds(sf, held, sizeof(held)))
                held[0] = '\0';
        /* High-priority additions first, as attach_many writes them: a low one's fields win
         * in the merged record (its Description carries the summary). */
        for (size_t k = 0; k < 2 * n; k++) {
                size_t i = k % n;
                json_t *rec;
                if ((k < n) != (att[i].prio == CB_CRM_PRIO_HIGH))
                        continue;
                att[i].err[0] = '\0';
                att[i].result = CB_RESULT_OK;
                w->att_rec[i] = NONE;
                if (att[i].prio == CB_CRM_PRIO_LOW && held[0] != '\0') {
                        item_set(&att[i], CB_RESULT_WAIT, held);
                        continue;
                }
                rec = sf_attach_record(sf, att[i].call, att[i].fields);
                if (rec != NULL && str(att[i].fields, "transcript") != NULL &&
                    !add_transcript(w, &att[i], i, rec)) {
                        json_decref(rec);
                        rec = NULL;
                }
                if (rec != NULL && json_object_size(rec) == 0) {
                        json_decref(rec); /* nothing for the Task */
                        continue;
                }
                w->att_rec[i] = add(w, COLL_TASKS, rec, att[i].call->id);
                if (w->att_rec[i] == NONE)
                        item_set(&att[i], CB_RESULT_RETRY, "out of memory");
        }
}

static void add_tasks(struct sf *sf, struct wb *w, struct cb_crm_item *tasks, size_t n)
{
        char err[256];
        enum cb_result check = n > 0 ? sf_task_key_check(sf, err, sizeof(err)) : CB_RESULT_OK;

        for (size_t i = 0; i < n; i++) {
                tasks[i].id[0] = tasks[i].err[0] = '\0';
                tasks[i].result = CB_RESULT_OK;
                w->task_rec[i] = NONE;
                if (check == CB_RESULT_FAIL) {
                        item_set(&tasks[i], CB_RESULT_FAIL, err);
                        continue;
                }
                w->task_rec[i] = add(w, COLL_FOLLOWUPS,
                                     sf_task_record(tasks[i].call, tasks[i].fields), tasks[i].key);
                if (w->task_rec[i] == NONE)
                        item_set(&tasks[i], CB_RESULT_RETRY, "out of memory");
        }
}

/* The outcome of attach `i`: its parts' first failure, else its Task record's. */
static void attach_outcome(struct wb *w, struct cb_crm_item *it, size_t i)
{
        const struct sf_collection *parts = &w->coll[COLL_PARTS];
        const struct sf_upsert_item *rec;
        bool linked = false;

        if (it->result != CB_RESULT_OK)
                return; /* held, or out of memory */
        for (size_t k = 0; k < parts->n; k++)
                if (w->part_owner[k] == i) {
                        linked = true;
                        if (parts->items[k].r != CB_RESULT_OK) {
                                item_set(it, parts->items[k].r, parts->items[k].err);
                                return;
                        }
                }
        if (w->att_rec[i] == NONE)
                return;
        rec = &w->coll[COLL_TASKS].items[w->att_rec[i]];
        if (rec->r != CB_RESULT_OK) {
                item_set(it, rec->r, rec->err);
        } else if (linked && rec->unlinked[0] != '\0') {
                /* The Task was written without its link to the transcript: again later. */
                char err[sizeof(it->err)];
                snprintf(err, sizeof(err), "the transcript link: %.200s", rec->unlinked);
                item_set(it, CB_RESULT_RETRY, err);
        }
}

static void outcomes(struct wb *w, struct cb_crm_batch *b)
{
        for (size_t i = 0; i < b->nlogs; i++) {
                const struct sf_upsert_item *rec;
                if (w->log_rec[i] == NONE)
                        continue;
                rec = &w->coll[COLL_TASKS].items[w->log_rec[i]];
                item_set(&b->logs[i], rec->r, rec->r == CB_RESULT_OK ? "" : rec->err);
                if (rec->r == CB_RESULT_OK) {
                        cb_strlcpy(b->logs[i].logged.id, rec->id, sizeof(b->logs[i].logged.id));
                        b->logs[i].logged.state = "synced";
                }
        }
        for (size_t i = 0; i < b->nattaches; i++)
                attach_outcome(w, &b->attaches[i], i);
        for (size_t i = 0; i < b->ntasks; i++) {
                const struct sf_upsert_item *rec;
                if (w->task_rec[i] == NONE)
                        continue;
                rec = &w->coll[COLL_FOLLOWUPS].items[w->task_rec[i]];
                item_set(&b->tasks[i], rec->r, rec->r == CB_RESULT_OK ? "" : rec->err);
                cb_strlcpy(b->tasks[i].id, rec->id, sizeof(b->tasks[i].id));
        }
}

/* Everything in one batch fails with `r` (out of memory). */
static void fail_all(struct cb_crm_batch *b, enum cb_result r, const char *err)
{
        for (size_t i = 0; i < b->nlogs; i++) {
                b->logs[i].logged.id[0] = '\0';
                b->logs[i].logged.state = "pending";
                item_set(&b->logs[i], r, err);
        }
        for (size_t i = 0; i < b->nattaches; i++)
                item_set(&b->attaches[i], r, err);
        for (size_t i = 0; i < b->ntasks; i++)
                item_set(&b->tasks[i], r, err);
}

void sf_write_batch(void *self, struct cb_crm_batch *b)
{
        struct sf *sf = self;
        struct wb w;
        size_t n = b->nlogs + b->nattaches + 1;

        if (!sf_collections_supported(sf)) { /* before API 46.0: the writes one by one */
                sf_log_calls(self, b->logs, b->nlogs);
                sf_attach_many(self, b->attaches, b->nattaches);
                sf_create_tasks(self, b->tasks, b->ntasks);
                return;
        }
        memset(&w, 0, sizeof(w));
        w.coll[COLL_PARTS] =
            (struct sf_collection){"Callbridge_Transcript__c", "Callbridge_Key__c", NULL, 0};
        w.coll[COLL_TASKS] = (struct sf_collection){sf->cfg->salesforce.call_log_object,
                                                    sf->cfg->salesforce.external_id_field,
                                                    calloc(n, sizeof(struct sf_upsert_item)), 0};
        w.coll[COLL_FOLLOWUPS] = (struct sf_collection){
            sf->cfg->salesforce.call_log_object, "Callbridge_Followup_Key__c",
            calloc(b->ntasks + 1, sizeof(struct sf_upsert_item)), 0};
        w.log_rec = calloc(b->nlogs + 1, sizeof(size_t));
        w.att_rec = calloc(b->nattaches + 1, sizeof(size_t));
        w.task_rec = calloc(b->ntasks + 1, sizeof(size_t));
        w.keep = json_array();
        if (w.coll[COLL_TASKS].items == NULL || w.coll[COLL_FOLLOWUPS].items == NULL ||
            w.log_rec == NULL || w.att_rec == NULL || w.task_rec == NULL || w.keep == NULL) {
                fail_all(b, CB_RESULT_RETRY, "out of memory");
                goto out;
        }
        add_logs(sf, &w, b->logs, b->nlogs);
        add_attaches(sf, &w, b->attaches, b->nattaches);
        add_tasks(sf, &w, b->tasks, b->ntasks);
        sf_upsert_composite(sf, w.coll, COLLS, CB_CRM_PRIO_HIGH);
        outcomes(&w, b);
out:
        for (int c = 0; c < COLLS; c++) {
                for (size_t i = 0; i < w.coll[c].n; i++)
                        json_decref(w.coll[c].items[i].record);
                free(w.coll[c].items);
        }
        free(w.part_owner);
        free(w.log_rec);
        free(w.att_rec);
        free(w.task_rec);
        json_decref(w.keep);
}
