/* The batch crm ops on HubSpot (include/callbridge/crm.h: log_calls, attach_many,
 * create_tasks): the call objects, transcript notes and follow-up tasks of many calls written
 * with batch upserts by their unique properties (hs_upsert_many) and associated in batch
 * (hs_associate_many), each item with its own outcome. Every object is keyed as the one-by-one
 * writes key it (call id, "<call id>:transcript", the follow-up's key), so a batch run twice,
 * or after a one-by-one run, changes nothing more. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/log.h"
#include "hs.h"

static const char *str(const json_t *obj, const char *key)
{
        return json_string_value(json_object_get(obj, key));
}

static void item_fail(struct cb_crm_item *it, enum cb_result r, const char *err)
{
        if (it->result != CB_RESULT_OK)
                return; /* its first failure says why */
        it->result = r;
        cb_strlcpy(it->err, err, sizeof(it->err));
}

/* The association of `id` (an object of ours) with the contact or company of item `it`'s call
 * into `a` (to_type NULL when none: not linked, or linked to neither). RETRY/FAIL fail the
 * item. */
static void record_assoc(struct hs *hs, struct cb_crm_item *it, const char *id,
                         struct hs_assoc_item *a)
{
        const char *object = NULL;
        char err[256];
        enum cb_result r;

        a->from_id = id;
        a->to_type = NULL;
        a->to_id = it->call->crm_record_id;
        if (it->result != CB_RESULT_OK || it->call->crm_record_id[0] == '\0' || id[0] == '\0')
                return;
        r = hs_record_object(hs, it->call->crm_record_id, &object, err, sizeof(err));
        if (r != CB_RESULT_OK)
                item_fail(it, r, err);
        else if (object == NULL)
                cb_warn("hubspot: call %s is linked to %s, neither a contact nor a company; "
                        "written unassociated",
                        it->call->id, it->call->crm_record_id);
        a->to_type = r == CB_RESULT_OK ? object : NULL;
}

/* Associate what `ids[i]` (objects of `from_type`, "" none) made for items[i] with each call's
 * record, in batch; a failed association fails its item. */
static void associate_all(struct hs *hs, const char *from_type, struct cb_crm_item *items, size_t n,
                          char (*ids)[CB_CRM_ID_MAX], enum cb_crm_priority prio)
{
        struct hs_assoc_item *a = calloc(n ? n : 1, sizeof(*a));
        size_t *map = calloc(n ? n : 1, sizeof(*map)), k = 0;

        for (size_t i = 0; i < n; i++) {
                if (a == NULL || map == NULL) {
                        item_fail(&items[i], CB_RESULT_RETRY, "out of memory");
                        continue;
                }
                record_assoc(hs, &items[i], ids[i], &a[k]);
                if (a[k].to_type != NULL)
                        map[k++] = i;
        }
        if (a != NULL && map != NULL)
                hs_associate_many(hs, from_type, a, k, prio);
        for (size_t j = 0; j < k; j++)
                if (a[j].r != CB_RESULT_OK)
                        item_fail(&items[map[j]], a[j].r, a[j].err);
        free(a);
        free(map);
}

/* Upsert `props[i]` (NULL: nothing for items[i]; taken) for the items still OK into `object` by
 * `idprop` = `keys[i]`; each object's id into `ids[i]`, a failure into its item. */
static void upsert_all(struct hs *hs, const char *object, const char *idprop,
                       struct cb_crm_item *items, size_t n, const char *const *keys, json_t **props,
                       char (*ids)[CB_CRM_ID_MAX], enum cb_crm_priority prio)
{
        struct hs_upsert_item *up = calloc(n ? n : 1, sizeof(*up));
        size_t *map = calloc(n ? n : 1, sizeof(*map)), k = 0;

        for (size_t i = 0; i < n; i++) {
                if (props[i] == NULL || items[i].result != CB_RESULT_OK)
                        continue;
                if (up == NULL || map == NULL) {
                        item_fail(&items[i], CB_RESULT_RETRY, "out of memory");
                        continue;
                }
                up[k] = (struct hs_upsert_item){.value = keys[i], .props = props[i]};
                map[k++] = i;
        }
        if (up != NULL && map != NULL)
                hs_upsert_many(hs, object, idprop, up, k, prio);
        for (size_t j = 0; j < k; j++) {
                if (up[j].r == CB_RESULT_OK)
                        cb_strlcpy(ids[map[j]], up[j].id, CB_CRM_ID_MAX);
                else
                        item_fail(&items[map[j]], up[j].r, up[j].err);
        }
        for (size_t i = 0; i < n; i++) {
                json_decref(props[i]);
                props[i] = NULL;
        }
        free(up);
        free(map);
}

/* What every batch op needs: per item a key, properties and the id written. */
struct scratch {
        const char **keys;
        json_t **props;
        char (*ids)[CB_CRM_ID_MAX];
        char (*keybuf)[CB_CRM_ID_MAX + 16];
};

static bool scratch_new(struct scratch *s, size_t n)
{
        n = n ? n : 1;
        s->keys = calloc(n, sizeof(*s->keys));
        s->props = calloc(n, sizeof(json_t *));
        s->ids = calloc(n, sizeof(*s->ids));
        s->keybuf = calloc(n, sizeof(*s->keybuf));
        return s->keys && s->props && s->ids && s->keybuf;
}

static void scratch_free(struct scratch *s, size_t n)
{
        for (size_t i = 0; s->props != NULL && i < n; i++)
                json_decref(s->props[i]);
        free(s->keys);
        free(s->props);
        free(s->ids);
        free(s->keybuf);
}

/* Start every item OK; false (each item RETRY) when the scratch cannot be had. */
static bool begin(struct cb_crm_item *items, size_t n, struct scratch *s)
{
        bool ok = scratch_new(s, n);

        for (size_t i = 0; i < n; i++) {
                items[i].err[0] = items[i].id[0] = '\0';
                items[i].logged.id[0] = '\0';
                items[i].logged.state = "pending";
                items[i].result = ok ? CB_RESULT_OK : CB_RESULT_RETRY;
                if (!ok)
                        cb_strlcpy(items[i].err, "out of memory", sizeof(items[i].err));
        }
        return ok;
}

void hs_log_calls(void *self, struct cb_crm_item *items, size_t n)
{
        struct hs *hs = self;
        struct scratch s;

        if (begin(items, n, &s)) {
                for (size_t i = 0; i < n; i++) {
                        if (hs_single_write(hs->cfg) &&
                            !cb_calls_status_final(items[i].call->status))
                                continue; /* one write when the call ends */
                        s.keys[i] = items[i].call->id;
                        s.props[i] = hs_call_properties(hs->cfg, items[i].call, NULL);
                        if (s.props[i] == NULL)
                                item_fail(&items[i], CB_RESULT_RETRY, "out of memory");
                }
                upsert_all(hs, "calls", hs->cfg->hubspot.call_id_property, items, n, s.keys,
                           s.props, s.ids, CB_CRM_PRIO_HIGH);
                associate_all(hs, "calls", items, n, s.ids, CB_CRM_PRIO_HIGH);
                for (size_t i = 0; i < n; i++)
                        if (items[i].result == CB_RESULT_OK && s.ids[i][0] != '\0') {
                                cb_strlcpy(items[i].logged.id, s.ids[i],
                                           sizeof(items[i].logged.id));
                                items[i].logged.state = "synced";
                        }
        }
        scratch_free(&s, n);
}

/* The notes of the items written at priority `prio` (`pr[i]`) with a transcript, and their
 * associations with the call's record and (a nicety: an account without the default type keeps
 * the note on the record's timeline) with the call object `call_ids[i]`. */
static void attach_notes(struct hs *hs, struct cb_crm_item *items, size_t n,
                         const enum cb_crm_priority *pr, enum cb_crm_priority prio,
                         struct scratch *s, char (*call_ids)[CB_CRM_ID_MAX])
{
        struct hs_assoc_item *a = calloc(n ? n : 1, sizeof(*a));
        size_t k = 0;

        for (size_t i = 0; i < n; i++) {
                s->ids[i][0] = '\0';
                if (pr[i] != prio || str(items[i].fields, "transcript") == NULL ||
                    items[i].result != CB_RESULT_OK)
                        continue;
                snprintf(s->keybuf[i], sizeof(s->keybuf[i]), "%s:transcript", items[i].call->id);
                s->keys[i] = s->keybuf[i];
                if ((s->props[i] = hs_note_properties(items[i].call, items[i].fields)) == NULL)
                        item_fail(&items[i], CB_RESULT_RETRY, "out of memory");
        }
        upsert_all(hs, "notes", hs->cfg->hubspot.note_key_property, items, n, s->keys, s->props,
                   s->ids, prio);
        associate_all(hs, "notes", items, n, s->ids, prio);
        for (size_t i = 0; a != NULL && i < n; i++)
                if (pr[i] == prio && items[i].result == CB_RESULT_OK && s->ids[i][0] != '\0' &&
                    call_ids[i][0] != '\0')
                        a[k++] = (struct hs_assoc_item){
                            .from_id = s->ids[i], .to_type = "calls", .to_id = call_ids[i]};
        if (k > 0 && !atomic_load(&hs->note_call_refused)) {
                hs_associate_many(hs, "notes", a, k, prio);
                for (size_t j = 0; j < k; j++)
                        if (a[j].r == CB_RESULT_FAIL &&
                            !atomic_exchange(&hs->note_call_refused, true))
                                cb_info("hubspot: notes are not associated with calls here (%s)",
                                        a[j].err);
        }
        free(a);
}

/* The call objects and notes of the items written at priority `prio` (`pr[i]`). */
static void attach_at(struct hs *hs, struct cb_crm_item *items, size_t n,
                      const enum cb_crm_priority *pr, enum cb_crm_priority prio, struct scratch *s,
                      char (*call_ids)[CB_CRM_ID_MAX])
{
        for (size_t i = 0; i < n; i++) {
                if (pr[i] != prio)
                        continue;
                cb_strlcpy(call_ids[i], items[i].call->crm_log_id, CB_CRM_ID_MAX);
                s->keys[i] = items[i].call->id;
                s->props[i] = hs_attach_call_properties(hs, items[i].call, items[i].fields);
                if (s->props[i] == NULL) {
                        item_fail(&items[i], CB_RESULT_RETRY, "out of memory");
                } else if (json_object_size(s->props[i]) == 0) {
                        json_decref(s->props[i]); /* nothing on the call itself */
                        s->props[i] = NULL;
                }
        }
        upsert_all(hs, "calls", hs->cfg->hubspot.call_id_property, items, n, s->keys, s->props,
                   call_ids, prio);
        attach_notes(hs, items, n, pr, prio, s, call_ids);
}

void hs_attach_many(void *self, struct cb_crm_item *items, size_t n)
{
        struct hs *hs = self;
        struct scratch s;
        char(*call_ids)[CB_CRM_ID_MAX] = calloc(n ? n : 1, sizeof(*call_ids));
        enum cb_crm_priority *pr = calloc(n ? n : 1, sizeof(*pr));
        /* While the budget is not low nothing is held back: the low-priority fields of a call
         * go in the same input as its high ones (one upsert of the call object, not two). */
        bool together = !hs_budget_low(hs);

        if (begin(items, n, &s) && call_ids != NULL && pr != NULL) {
                for (size_t i = 0; i < n; i++)
                        pr[i] = together ? CB_CRM_PRIO_HIGH : items[i].prio;
                /* High-priority writes first; low ones may be held back by the API budget. */
                attach_at(hs, items, n, pr, CB_CRM_PRIO_HIGH, &s, call_ids);
                attach_at(hs, items, n, pr, CB_CRM_PRIO_LOW, &s, call_ids);
        } else {
                for (size_t i = 0; i < n; i++)
                        item_fail(&items[i], CB_RESULT_RETRY, "out of memory");
        }
        free(call_ids);
        free(pr);
        scratch_free(&s, n);
}

/* The tasks made already for the items' keys (POST /crm/v3/objects/tasks/batch/read by the
 * key property, up to 100 a request): their ids into `ids[i]`. A key not found stays "". */
static void existing_tasks(struct hs *hs, struct cb_crm_item *items, size_t n,
                           char (*ids)[CB_CRM_ID_MAX])
{
        const char *keyprop = hs->cfg->hubspot.task_key_property;

        for (size_t from = 0; from < n; from += 100) {
                size_t to = from + 100 < n ? from + 100 : n, i;
                json_t *inputs = json_array(), *out = NULL, *res;
                json_t *body = json_pack("{s:s,s:o,s:[s]}", "idProperty", keyprop, "inputs", inputs,
                                         "properties", keyprop);
                struct hs_answer ans = {0};
                char err[256] = "out of memory";
                enum cb_result r = CB_RESULT_RETRY;

                for (i = from; body != NULL && i < to; i++) {
                        size_t j = from;
                        while (j < i && strcmp(items[j].key, items[i].key) != 0)
                                j++;
                        if (j == i) /* HubSpot refuses an id named twice */
                                json_array_append_new(inputs,
                                                      json_pack("{s:s}", "id", items[i].key));
                }
                if (body != NULL)
                        r = hs_rest(hs, "POST", "/crm/v3/objects/tasks/batch/read", body,
                                    CB_CRM_PRIO_HIGH, &ans, &out, err, sizeof(err));
                /* 200: all found; 207: some not found (errors); 404: none found. */
                if (r == CB_RESULT_FAIL && ans.status == 404)
                        r = CB_RESULT_OK;
                for (i = from; i < to; i++)
                        if (r != CB_RESULT_OK)
                                item_fail(&items[i], r, err);
                json_array_foreach(r == CB_RESULT_OK ? json_object_get(out, "results") : NULL, i,
                                   res)
                {
                        const char *key = str(json_object_get(res, "properties"), keyprop);
                        for (size_t j = from; key != NULL && j < to; j++)
                                if (strcmp(items[j].key, key) == 0)
                                        cb_strlcpy(ids[j], str(res, "id") ?: "", CB_CRM_ID_MAX);
                }
                json_decref(out);
                json_decref(body);
        }
}

void hs_create_tasks(void *self, struct cb_crm_item *items, size_t n)
{
        struct hs *hs = self;
        const char *keyprop = hs->cfg->hubspot.task_key_property;
        struct scratch s;
        char err[256];
        enum cb_result r;

        if (!begin(items, n, &s))
                goto out;
        if ((r = hs_schema_load(hs, "tasks", err, sizeof(err))) == CB_RESULT_OK &&
            !hs_schema_has(hs, "tasks", keyprop)) {
                hs_schema_forget(hs, "tasks"); /* read again next time: setup may have run */
                snprintf(err, sizeof(err),
                         "hubspot: tasks has no unique property %s: follow-ups cannot be made "
                         "exactly once (run `callbridge crm setup`)",
                         keyprop);
                r = CB_RESULT_RETRY;
        }
        for (size_t i = 0; r != CB_RESULT_OK && i < n; i++)
                item_fail(&items[i], r, err);
        if (r != CB_RESULT_OK)
                goto out;
        /* Made already: left as it is (the rep may have completed or edited it). */
        existing_tasks(hs, items, n, s.ids);
        for (size_t i = 0; i < n; i++) {
                if (items[i].result != CB_RESULT_OK || s.ids[i][0] != '\0')
                        continue;
                s.keys[i] = items[i].key;
                if ((s.props[i] = hs_task_properties(items[i].call, items[i].fields)) == NULL)
                        item_fail(&items[i], CB_RESULT_RETRY, "out of memory");
        }
        upsert_all(hs, "tasks", keyprop, items, n, s.keys, s.props, s.ids, CB_CRM_PRIO_HIGH);
        associate_all(hs, "tasks", items, n, s.ids, CB_CRM_PRIO_HIGH);
        for (size_t i = 0; i < n; i++)
                if (items[i].result == CB_RESULT_OK)
                        cb_strlcpy(items[i].id, s.ids[i], sizeof(items[i].id));
out:
        scratch_free(&s, n);
}
