/* The batch crm ops on Salesforce: call logs, attachments and follow-up tasks of many calls
 * written with sObject Collections upserts by External ID (PATCH
 * composite/sobjects/<object>/<field>, allOrNone false, at most 200 records a request, API 46.0
 * and later), each record with its own UpsertResult so one bad record never fails or repeats
 * the others. Every record is keyed as the one-by-one writes key it, so a batch run twice (or
 * after a one-by-one run) changes nothing more. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/log.h"
#include "sf.h"

#define COLLECTION_MAX 200 /* records a Collections request may carry */
#define ROUNDS         2   /* a record sent again after a refused field or owner */

static const char *str(const json_t *obj, const char *key)
{
        return json_string_value(json_object_get(obj, key));
}

/* A record's refusal: RETRY for what passes (a locked row, a rollback), WAIT for the API
 * allowance, FAIL for the record itself (DUPLICATE_EXTERNAL_ID included: the org holds
 * several records with its key, as a 300 to a single upsert; a request never names one key
 * twice, merge_same sees to it). */
static enum cb_result record_refusal(const char *code)
{
        static const char *const retry[] = {"UNABLE_TO_LOCK_ROW",
                                            "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                                            "SERVER_UNAVAILABLE", "UNKNOWN_EXCEPTION"};

        if (strcmp(code, "REQUEST_LIMIT_EXCEEDED") == 0)
                return CB_RESULT_WAIT;
        for (size_t i = 0; i < CB_ARRAY_LEN(retry); i++)
                if (strcmp(code, retry[i]) == 0)
                        return CB_RESULT_RETRY;
        return CB_RESULT_FAIL;
}

bool sf_collections_supported(const struct sf *sf)
{
        const char *v = sf->cfg->salesforce.api_version;
        return v != NULL && v[0] == 'v' && strtol(v + 1, NULL, 10) >= 46;
}

/* Drop the relationship fields ("X__r": {"Key__c": ...}) of `record`; true when it had any. */
static bool drop_relationships(json_t *record)
{
        const char *key;
        json_t *value;
        void *tmp;
        bool dropped = false;

        json_object_foreach_safe(record, tmp, key, value)
        {
                size_t len = strlen(key);
                if (json_is_object(value) && len > 3 && strcmp(key + len - 3, "__r") == 0) {
                        json_object_del(record, key);
                        dropped = true;
                }
        }
        return dropped;
}

bool sf_upsert_settle(struct sf *sf, const char *object, struct sf_upsert_item *it,
                      const json_t *res, bool last)
{
        const json_t *e = json_array_get(json_object_get(res, "errors"), 0);
        const char *code = str(e, "statusCode") ?: "UNKNOWN_EXCEPTION";
        const char *message = str(e, "message") ?: "refused";

        if (json_is_true(json_object_get(res, "success")) && str(res, "id") != NULL) {
                it->r = CB_RESULT_OK;
                cb_strlcpy(it->id, str(res, "id"), sizeof(it->id));
                return false;
        }
        snprintf(it->err, sizeof(it->err), "%s: %s", code, message);
        if (strcmp(code, "INVALID_FIELD") == 0 &&
            strncmp(message, "Foreign key external ID", 23) == 0 &&
            drop_relationships(it->record)) {
                /* The record it links to is not there (its own write failed): the rest of the
                 * record is written without the link; whoever asked for it is told. */
                cb_strlcpy(it->unlinked, it->err, sizeof(it->unlinked));
                it->r = CB_RESULT_RETRY;
                return !last;
        }
        if (strcmp(code, "INVALID_FIELD") == 0) {
                /* Never dead for a schema change: describe again and drop what is gone. */
                sf_schema_forget(sf, object);
                it->r = CB_RESULT_RETRY;
                return !last;
        }
        if (sf_owner_refused(code) && json_object_get(it->record, "OwnerId") != NULL && !last) {
                cb_warn("salesforce: %s refused OwnerId %s (%s); writing it without an owner",
                        object, str(it->record, "OwnerId"), code);
                json_object_del(it->record, "OwnerId");
                return true;
        }
        it->r = record_refusal(code);
        return false;
}

/* Send the items `idx[0..k)` in one request; `again[i]` set for those to send once more. */
static void send_chunk(struct sf *sf, const char *object, const char *field,
                       struct sf_upsert_item *items, const size_t *idx, size_t k,
                       enum cb_crm_priority prio, bool last, bool *again)
{
        struct cb_buf path = {.max = 512};
        json_t *records = json_array(),
               *body = json_pack("{s:b,s:o}", "allOrNone", 0, "records", records);
        json_t *out = NULL;
        struct sf_answer ans;
        char err[256] = "out of memory";
        enum cb_result r = CB_RESULT_RETRY;

        for (size_t j = 0; body != NULL && j < k; j++) {
                json_t *rec = json_copy(items[idx[j]].record);
                if (rec == NULL)
                        break;
                json_object_set_new(rec, "attributes", json_pack("{s:s}", "type", object));
                json_object_set_new(rec, field, json_string(items[idx[j]].value));
                json_array_append_new(records, rec);
        }
        cb_buf_printf(&path, "/services/data/%s/composite/sobjects/%s/%s",
                      sf->cfg->salesforce.api_version, object, field);
        if (body != NULL && json_array_size(records) == k && cb_buf_append(&path, "", 1) == 0)
                r = sf_rest(sf, "PATCH", path.data, body, prio, &ans, &out, err, sizeof(err));
        if (r == CB_RESULT_OK && json_array_size(out) != k) {
                snprintf(err, sizeof(err), "Collections answered %zu results for %zu records",
                         json_array_size(out), k);
                r = CB_RESULT_RETRY;
        }
        for (size_t j = 0; j < k; j++) {
                struct sf_upsert_item *it = &items[idx[j]];
                if (r != CB_RESULT_OK) {
                        it->r = r;
                        cb_strlcpy(it->err, err, sizeof(it->err));
                } else {
                        again[idx[j]] =
                            sf_upsert_settle(sf, object, it, json_array_get(out, j), last);
                }
        }
        json_decref(out);
        json_decref(body);
        cb_buf_free(&path);
}

void sf_upsert_merge(struct sf_upsert_item *items, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                items[i].same = i;
                for (size_t j = 0; j < i; j++)
                        if (items[j].same == j && strcmp(items[j].value, items[i].value) == 0) {
                                json_object_update(items[j].record, items[i].record);
                                items[i].same = j;
                                break;
                        }
        }
}

static void one_by_one(struct sf *sf, const char *object, const char *field,
                       struct sf_upsert_item *items, size_t n, enum cb_crm_priority prio)
{
        for (size_t i = 0; i < n; i++)
                items[i].r =
                    sf_upsert(sf, object, field, items[i].value, items[i].record, prio, items[i].id,
                              sizeof(items[i].id), items[i].err, sizeof(items[i].err));
}

void sf_upsert_share(struct sf_upsert_item *items, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (items[i].same != i) {
                        const struct sf_upsert_item *first = &items[items[i].same];
                        items[i].r = first->r;
                        cb_strlcpy(items[i].id, first->id, sizeof(items[i].id));
                        cb_strlcpy(items[i].err, first->err, sizeof(items[i].err));
                        cb_strlcpy(items[i].unlinked, first->unlinked, sizeof(items[i].unlinked));
                }
}

void sf_upsert_many(struct sf *sf, const char *object, const char *field,
                    struct sf_upsert_item *items, size_t n, enum cb_crm_priority prio)
{
        bool *again = calloc(n ? n : 1, sizeof(*again));
        size_t *idx = calloc(n ? n : 1, sizeof(*idx));

        for (size_t i = 0; i < n; i++) {
                items[i].r = CB_RESULT_RETRY;
                items[i].id[0] = items[i].err[0] = items[i].unlinked[0] = '\0';
                again[i] = true;
        }
        if (again == NULL || idx == NULL || !sf_collections_supported(sf)) {
                one_by_one(sf, object, field, items, n, prio);
                goto out;
        }
        sf_upsert_merge(items, n);
        for (int round = 0; round < ROUNDS; round++) {
                size_t k = 0;
                for (size_t i = 0; i < n; i++) {
                        if (items[i].same != i || !again[i])
                                continue;
                        again[i] = false;
                        sf_schema_filter(sf, object, items[i].record);
                        idx[k++] = i;
                        if (k == COLLECTION_MAX) {
                                send_chunk(sf, object, field, items, idx, k, prio,
                                           round == ROUNDS - 1, again);
                                k = 0;
                        }
                }
                if (k > 0)
                        send_chunk(sf, object, field, items, idx, k, prio, round == ROUNDS - 1,
                                   again);
        }
        sf_upsert_share(items, n);
out:
        free(again);
        free(idx);
}

static void item_fail(struct cb_crm_item *it, enum cb_result r, const char *err)
{
        it->result = r;
        cb_strlcpy(it->err, err, sizeof(it->err));
}

void sf_log_calls(void *self, struct cb_crm_item *items, size_t n)
{
        struct sf *sf = self;
        struct sf_upsert_item *up = calloc(n, sizeof(*up));
        size_t *map = calloc(n, sizeof(*map)), k = 0;
        bool single = strcmp(sf->cfg->crm.write_mode, "single") == 0;

        for (size_t i = 0; i < n; i++) {
                items[i].logged.id[0] = items[i].err[0] = '\0';
                items[i].logged.state = "pending";
                items[i].result = CB_RESULT_OK;
                if (single && !cb_calls_status_final(items[i].call->status))
                        continue; /* one write when the call ends */
                if (up == NULL || map == NULL ||
                    (up[k].record = sf_call_record(sf, items[i].call, NULL)) == NULL) {
                        item_fail(&items[i], CB_RESULT_RETRY, "out of memory");
                        continue;
                }
                up[k].value = items[i].call->id;
                map[k++] = i;
        }
        sf_upsert_many(sf, sf->cfg->salesforce.call_log_object,
                       sf->cfg->salesforce.external_id_field, up, k, CB_CRM_PRIO_HIGH);
        for (size_t j = 0; j < k; j++) {
                struct cb_crm_item *it = &items[map[j]];
                it->result = up[j].r;
                cb_strlcpy(it->err, up[j].err, sizeof(it->err));
                if (up[j].r == CB_RESULT_OK) {
                        cb_strlcpy(it->logged.id, up[j].id, sizeof(it->logged.id));
                        it->logged.state = "synced";
                }
                json_decref(up[j].record);
        }
        free(up);
        free(map);
}

/* The transcripts' parts of the items of priority `prio` (those with a "transcript"), in one
 * upsert: each such item's first part id into `first[i]`; an item whose part failed gets the
 * failure (and is not written further). */
static void attach_parts(struct sf *sf, struct cb_crm_item *items, size_t n,
                         enum cb_crm_priority prio, char (*first)[CB_CRM_ID_MAX])
{
        json_t *all = json_array(), *parts, *p;
        struct sf_upsert_item *up = NULL;
        size_t *owner = NULL, k = 0, j;

        for (size_t i = 0; all != NULL && i < n; i++) {
                const char *text = str(items[i].fields, "transcript");
                if (items[i].prio != prio || items[i].result != CB_RESULT_OK || text == NULL)
                        continue;
                parts = sf_transcript_records(items[i].call, items[i].call->crm_log_id, text,
                                              json_object_get(items[i].fields, "entities"));
                json_array_foreach(parts, j, p)
                    json_object_set_new(p, "item", json_integer((json_int_t)i));
                if (parts == NULL || json_array_extend(all, parts) != 0)
                        item_fail(&items[i], CB_RESULT_RETRY, "out of memory");
                json_decref(parts);
        }
        up = calloc(json_array_size(all) + 1, sizeof(*up));
        owner = calloc(json_array_size(all) + 1, sizeof(*owner));
        json_array_foreach(all, j, p)
        {
                if (up == NULL || owner == NULL)
                        break;
                up[k].record = json_object_get(p, "record");
                up[k].value = str(p, "key");
                owner[k++] = (size_t)json_integer_value(json_object_get(p, "item"));
        }
        sf_upsert_many(sf, "Callbridge_Transcript__c", "Callbridge_Key__c", up, k, prio);
        for (j = 0; j < k; j++) {
                struct cb_crm_item *it = &items[owner[j]];
                if (up[j].r != CB_RESULT_OK && it->result == CB_RESULT_OK)
                        item_fail(it, up[j].r, up[j].err);
                else if (up[j].r == CB_RESULT_OK && first[owner[j]][0] == '\0')
                        cb_strlcpy(first[owner[j]], up[j].id, CB_CRM_ID_MAX);
        }
        if (all != NULL && (up == NULL || owner == NULL))
                for (size_t i = 0; i < n; i++)
                        if (items[i].prio == prio && str(items[i].fields, "transcript") != NULL)
                                item_fail(&items[i], CB_RESULT_RETRY, "out of memory");
        free(up);
        free(owner);
        json_decref(all);
}

/* The call logs of the items of priority `prio`: their fields, and the link to the first part
 * of their transcript, in one upsert. */
static void attach_logs(struct sf *sf, struct cb_crm_item *items, size_t n,
                        enum cb_crm_priority prio, char (*first)[CB_CRM_ID_MAX])
{
        struct sf_upsert_item *up = calloc(n, sizeof(*up));
        size_t *map = calloc(n, sizeof(*map)), k = 0;

        for (size_t i = 0; i < n; i++) {
                json_t *rec;
                if (items[i].prio != prio || items[i].result != CB_RESULT_OK)
                        continue;
                rec = up && map ? sf_attach_record(sf, items[i].call, items[i].fields) : NULL;
                if (rec == NULL) {
                        item_fail(&items[i], CB_RESULT_RETRY, "out of memory");
                        continue;
                }
                if (first[i][0] != '\0')
                        json_object_set_new(rec, "Callbridge_Transcript__c", json_string(first[i]));
                if (json_object_size(rec) == 0) {
                        json_decref(rec);
                        continue;
                }
                up[k].record = rec;
                up[k].value = items[i].call->id;
                map[k++] = i;
        }
        sf_upsert_many(sf, sf->cfg->salesforce.call_log_object,
                       sf->cfg->salesforce.external_id_field, up, k, prio);
        for (size_t j = 0; j < k; j++) {
                if (up[j].r != CB_RESULT_OK)
                        item_fail(&items[map[j]], up[j].r, up[j].err);
                json_decref(up[j].record);
        }
        free(up);
        free(map);
}

void sf_attach_many(void *self, struct cb_crm_item *items, size_t n)
{
        struct sf *sf = self;
        char(*first)[CB_CRM_ID_MAX] = calloc(n, sizeof(*first));

        for (size_t i = 0; i < n; i++) {
                items[i].err[0] = '\0';
                items[i].result = first ? CB_RESULT_OK : CB_RESULT_RETRY;
                if (first == NULL)
                        cb_strlcpy(items[i].err, "out of memory", sizeof(items[i].err));
        }
        if (first == NULL)
                return;
        /* High-priority writes first; low ones may be held back by the API budget. */
        for (int p = CB_CRM_PRIO_HIGH; p <= CB_CRM_PRIO_LOW; p++) {
                attach_parts(sf, items, n, (enum cb_crm_priority)p, first);
                attach_logs(sf, items, n, (enum cb_crm_priority)p, first);
        }
        free(first);
}

void sf_create_tasks(void *self, struct cb_crm_item *items, size_t n)
{
        struct sf *sf = self;
        struct sf_upsert_item *up = calloc(n, sizeof(*up));
        size_t *map = calloc(n, sizeof(*map)), k = 0;
        char err[256];
        enum cb_result check = sf_task_key_check(sf, err, sizeof(err));

        for (size_t i = 0; i < n; i++) {
                items[i].id[0] = items[i].err[0] = '\0';
                items[i].result = CB_RESULT_OK;
                if (check == CB_RESULT_FAIL) {
                        item_fail(&items[i], CB_RESULT_FAIL, err);
                        continue;
                }
                if (up == NULL || map == NULL ||
                    (up[k].record = sf_task_record(items[i].call, items[i].fields)) == NULL) {
                        item_fail(&items[i], CB_RESULT_RETRY, "out of memory");
                        continue;
                }
                up[k].value = items[i].key;
                map[k++] = i;
        }
        sf_upsert_many(sf, sf->cfg->salesforce.call_log_object, "Callbridge_Followup_Key__c", up, k,
                       CB_CRM_PRIO_HIGH);
        for (size_t j = 0; j < k; j++) {
                struct cb_crm_item *it = &items[map[j]];
                it->result = up[j].r;
                cb_strlcpy(it->id, up[j].id, sizeof(it->id));
                cb_strlcpy(it->err, up[j].err, sizeof(it->err));
                json_decref(up[j].record);
        }
        free(up);
        free(map);
}
