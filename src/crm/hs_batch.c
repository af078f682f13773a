/* Many HubSpot writes in few requests: batch upserts by a unique property (POST
 * /crm/v3/objects/<object>/batch/upsert, at most 100 inputs a request) and default associations
 * in batch (POST /crm/v4/associations/<from>/<to>/batch/associate/default), every input with its
 * own outcome. A 207 (some inputs refused) or a 4xx naming its inputs fails only those; a
 * refusal that names no input is never pinned on the others: each input of that request is
 * then written alone (hs_upsert, the single-record path). A 429 makes every input of its request
 * WAIT (no attempt spent); a property HubSpot says is gone makes the schema be read again and
 * the input sent once more without it, as hs_upsert does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/log.h"
#include "hs.h"

#define UPSERT_MAX 100 /* inputs a batch upsert may carry (HubSpot's documented limit) */
#define ASSOC_MAX  100 /* inputs per batch association request we send (HubSpot takes more) */
#define ROUNDS     3   /* an input sent again after its owner, then a property, was refused */

static const char *str(const json_t *obj, const char *key)
{
        return json_string_value(json_object_get(obj, key));
}

/* What a refused input should do next. */
enum next { SETTLED, AGAIN, ALONE };

/* An input HubSpot refused with the error object `e` ({"category","message","errors":[...]}):
 * drop a refused owner or a property that is gone and send it again (before the `last`
 * round), else FAIL it — RETRY when a property named is gone (never dead for a schema change). */
static enum next refused(struct hs *hs, const char *object, struct hs_upsert_item *it,
                         const json_t *e, long status, bool last)
{
        const char *category, *message, *property;
        bool named;

        hs_error_of(e, &category, &message, &property);
        snprintf(it->err, sizeof(it->err), "hubspot %ld %s: %.200s", status, category, message);
        it->r = CB_RESULT_FAIL;
        if (strcmp(category, "VALIDATION_ERROR") != 0)
                return SETTLED;
        if ((strcmp(property, "hubspot_owner_id") == 0 ||
             strstr(message, "hubspot_owner_id") != NULL) &&
            json_object_get(it->props, "hubspot_owner_id") != NULL && !last) {
                cb_warn("hubspot: %s refused hubspot_owner_id %s; writing it without an owner",
                        object, str(it->props, "hubspot_owner_id"));
                json_object_del(it->props, "hubspot_owner_id");
                return AGAIN;
        }
        named = property[0] != '\0';
        if (!named && strstr(message, "does not exist") == NULL)
                return SETTLED;
        /* A bad value of a property that is there (asked again): FAIL. */
        if (it->reread && named && hs_schema_has(hs, object, property))
                return SETTLED;
        /* Read the schema again, drop what is gone, send again. */
        hs_schema_forget(hs, object);
        it->reread = true;
        it->r = CB_RESULT_RETRY;
        return last ? SETTLED : AGAIN;
}

/* Does a whole-request refusal say a property is gone? Its schema is then forgotten. */
static bool drift_all(struct hs *hs, const char *object, const json_t *out)
{
        const char *category, *message, *property;

        hs_error_of(out, &category, &message, &property);
        if (strcmp(category, "VALIDATION_ERROR") != 0 ||
            (property[0] == '\0' && strstr(message, "does not exist") == NULL))
                return false;
        hs_schema_forget(hs, object);
        return true;
}

/* The item of chunk `idx[0..k)` whose value is `value`, or k. */
static size_t find(const struct hs_upsert_item *items, const size_t *idx, size_t k,
                   const char *value)
{
        for (size_t j = 0; value != NULL && j < k; j++)
                if (strcmp(items[idx[j]].value, value) == 0)
                        return j;
        return k;
}

/* Settle the chunk from a 2xx or 4xx answer `out`; `next[j]` says what each input does next.
 * Results are matched by the idProperty value they carry, errors by their context.ids. */
static void settle(struct hs *hs, const char *object, const char *idprop,
                   struct hs_upsert_item *items, const size_t *idx, size_t k, const json_t *out,
                   long status, bool last, enum next *next)
{
        const json_t *results = json_object_get(out, "results"), *errors, *e, *res, *ids;
        bool *seen = calloc(k ? k : 1, sizeof(*seen));
        size_t i, j, m;

        if (seen == NULL)
                return; /* every input stays RETRY "no answer" */
        json_array_foreach(results, i, res)
        {
                j = find(items, idx, k, str(json_object_get(res, "properties"), idprop));
                if (j == k && json_array_size(results) == k && status < 300)
                        j = i; /* no value echoed: HubSpot answers in input order */
                if (j == k || seen[j])
                        continue;
                seen[j] = true;
                items[idx[j]].r = CB_RESULT_OK;
                items[idx[j]].err[0] = '\0';
                cb_strlcpy(items[idx[j]].id, str(res, "id") ?: "", sizeof(items[idx[j]].id));
        }
        errors = json_object_get(out, "errors");
        json_array_foreach(errors, i, e)
        {
                ids = json_object_get(json_object_get(e, "context"), "ids");
                json_array_foreach(ids, m, res)
                {
                        j = find(items, idx, k, json_string_value(res));
                        if (j == k || seen[j])
                                continue;
                        seen[j] = true;
                        next[j] = refused(hs, object, &items[idx[j]], e, status, last);
                }
        }
        for (j = 0; j < k; j++) {
                if (seen[j] || status < 300)
                        continue;
                /* Refused without saying which input: a property gone is dropped from all
                 * (schema read again); else each alone, to tell. */
                next[j] = !last && drift_all(hs, object, out) ? AGAIN : ALONE;
        }
        free(seen);
}

/* Send the inputs `idx[0..k)` in one request; `next[j]` says what each does next. */
static void send_chunk(struct hs *hs, const char *object, const char *idprop,
                       struct hs_upsert_item *items, const size_t *idx, size_t k,
                       enum cb_crm_priority prio, bool last, enum next *next)
{
        char path[128], err[256] = "out of memory";
        json_t *inputs = json_array(), *body = json_pack("{s:o}", "inputs", inputs), *out = NULL;
        struct hs_answer ans = {0};
        enum cb_result r = CB_RESULT_RETRY;

        for (size_t j = 0; body != NULL && j < k; j++) {
                next[j] = SETTLED;
                items[idx[j]].r = CB_RESULT_RETRY;
                snprintf(items[idx[j]].err, sizeof(items[idx[j]].err),
                         "hubspot: no answer for this input");
                json_array_append_new(inputs, json_pack("{s:s,s:s,s:O}", "idProperty", idprop, "id",
                                                        items[idx[j]].value, "properties",
                                                        items[idx[j]].props));
        }
        snprintf(path, sizeof(path), "/crm/v3/objects/%s/batch/upsert", object);
        if (body != NULL && json_array_size(inputs) == k)
                r = hs_rest(hs, "POST", path, body, prio, &ans, &out, err, sizeof(err));
        if (r == CB_RESULT_OK || (r == CB_RESULT_FAIL && ans.status >= 400)) {
                settle(hs, object, idprop, items, idx, k, out, ans.status, last, next);
        } else {
                for (size_t j = 0; j < k; j++) { /* WAIT (429), RETRY: the whole request */
                        items[idx[j]].r = r;
                        cb_strlcpy(items[idx[j]].err, err, sizeof(items[idx[j]].err));
                }
        }
        json_decref(out);
        json_decref(body);
}

/* Merge items sharing a value into the first of them (in order: later fields win): HubSpot
 * refuses a request naming one id twice. */
static void merge_same(struct hs_upsert_item *items, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                items[i].same = i;
                for (size_t j = 0; j < i; j++)
                        if (items[j].same == j && strcmp(items[j].value, items[i].value) == 0) {
                                json_object_update(items[j].props, items[i].props);
                                items[i].same = j;
                                break;
                        }
        }
}

/* One round: every input still to send, in chunks of UPSERT_MAX; `todo` in, what to do next
 * out. */
static void round_of(struct hs *hs, const char *object, const char *idprop,
                     struct hs_upsert_item *items, size_t n, enum cb_crm_priority prio, bool last,
                     enum next *todo, size_t *idx, enum next *next)
{
        size_t k = 0;

        for (size_t i = 0; i <= n; i++) {
                if (i < n && items[i].same == i && todo[i] == AGAIN) {
                        hs_schema_filter(hs, object, items[i].props);
                        idx[k++] = i;
                        todo[i] = SETTLED;
                }
                if (k == UPSERT_MAX || (i == n && k > 0)) {
                        send_chunk(hs, object, idprop, items, idx, k, prio, last, next);
                        for (size_t j = 0; j < k; j++)
                                todo[idx[j]] = next[j];
                        k = 0;
                }
        }
        for (size_t i = 0; i < n; i++)
                if (items[i].same == i && todo[i] == ALONE) {
                        items[i].r = hs_upsert(hs, object, idprop, items[i].value, items[i].props,
                                               prio, items[i].id, sizeof(items[i].id), items[i].err,
                                               sizeof(items[i].err));
                        todo[i] = SETTLED;
                }
}

void hs_upsert_many(struct hs *hs, const char *object, const char *idprop,
                    struct hs_upsert_item *items, size_t n, enum cb_crm_priority prio)
{
        enum next *todo = calloc(n ? n : 1, sizeof(*todo)),
                  *next = calloc(n ? n : 1, sizeof(*next));
        size_t *idx = calloc(n ? n : 1, sizeof(*idx));
        char err[256] = "out of memory";

        for (size_t i = 0; i < n; i++) {
                items[i].r = CB_RESULT_RETRY;
                items[i].id[0] = '\0';
                cb_strlcpy(items[i].err, err, sizeof(items[i].err));
                if (todo != NULL)
                        todo[i] = AGAIN;
        }
        if (n == 0 || todo == NULL || next == NULL || idx == NULL)
                goto out;
        if (hs_schema_load(hs, object, err, sizeof(err)) == CB_RESULT_OK &&
            !hs_schema_has(hs, object, idprop)) {
                hs_schema_forget(hs, object); /* read again next time: setup may have run */
                for (size_t i = 0; i < n; i++)
                        snprintf(items[i].err, sizeof(items[i].err),
                                 "hubspot: %s has no unique property %s (run `callbridge crm "
                                 "setup`)",
                                 object, idprop);
                goto out;
        }
        merge_same(items, n);
        for (int round = 0; round < ROUNDS; round++)
                round_of(hs, object, idprop, items, n, prio, round == ROUNDS - 1, todo, idx, next);
        for (size_t i = 0; i < n; i++)
                if (items[i].same != i) {
                        const struct hs_upsert_item *first = &items[items[i].same];
                        items[i].r = first->r;
                        cb_strlcpy(items[i].id, first->id, sizeof(items[i].id));
                        cb_strlcpy(items[i].err, first->err, sizeof(items[i].err));
                }
out:
        free(todo);
        free(next);
        free(idx);
}

/* ---- associations ---- */

/* Send the associations `idx[0..k)` from `from_type` to `to_type` in one request. */
static void assoc_chunk(struct hs *hs, const char *from_type, const char *to_type,
                        struct hs_assoc_item *a, const size_t *idx, size_t k,
                        enum cb_crm_priority prio)
{
        char path[160], err[256] = "out of memory";
        json_t *inputs = json_array(), *body = json_pack("{s:o}", "inputs", inputs), *out = NULL;
        const json_t *res;
        struct hs_answer ans = {0};
        enum cb_result r = CB_RESULT_RETRY;
        size_t i;

        for (size_t j = 0; body != NULL && j < k; j++)
                json_array_append_new(inputs,
                                      json_pack("{s:{s:s},s:{s:s}}", "from", "id",
                                                a[idx[j]].from_id, "to", "id", a[idx[j]].to_id));
        snprintf(path, sizeof(path), "/crm/v4/associations/%s/%s/batch/associate/default",
                 from_type, to_type);
        if (body != NULL && json_array_size(inputs) == k)
                r = hs_rest(hs, "POST", path, body, prio, &ans, &out, err, sizeof(err));
        for (size_t j = 0; j < k; j++) {
                a[idx[j]].r = r == CB_RESULT_OK ? CB_RESULT_FAIL : r;
                cb_strlcpy(a[idx[j]].err, err, sizeof(a[idx[j]].err));
        }
        if (r == CB_RESULT_OK && json_array_size(json_object_get(out, "errors")) > 0) {
                /* 207: those without a result failed; say why with the first error. */
                const char *category, *message, *property;
                hs_error_of(json_array_get(json_object_get(out, "errors"), 0), &category, &message,
                            &property);
                for (size_t j = 0; j < k; j++)
                        snprintf(a[idx[j]].err, sizeof(a[idx[j]].err), "hubspot %ld %s: %.200s",
                                 ans.status, category, message);
        }
        json_array_foreach(r == CB_RESULT_OK ? json_object_get(out, "results") : NULL, i, res)
        {
                const char *f = str(json_object_get(res, "from"), "id");
                const char *t = str(json_object_get(res, "to"), "id");
                for (size_t j = 0; f != NULL && t != NULL && j < k; j++)
                        if (strcmp(a[idx[j]].from_id, f) == 0 && strcmp(a[idx[j]].to_id, t) == 0) {
                                a[idx[j]].r = CB_RESULT_OK;
                                a[idx[j]].err[0] = '\0';
                        }
        }
        json_decref(out);
        json_decref(body);
}

/* Every association of `a` to `to_type`, in chunks; those this process made are OK unsent. */
static void assoc_to(struct hs *hs, const char *from_type, const char *to_type,
                     struct hs_assoc_item *a, size_t n, enum cb_crm_priority prio, size_t *idx,
                     uint64_t *h)
{
        size_t k = 0;

        for (size_t i = 0; i <= n; i++) {
                if (i < n && strcmp(a[i].to_type, to_type) == 0 && a[i].r == CB_RESULT_RETRY) {
                        const char *const parts[4] = {from_type, a[i].from_id, to_type, a[i].to_id};
                        a[i].r = CB_RESULT_OK;
                        if (!hs_assoc_claim(hs, parts, &h[i]))
                                idx[k++] = i;
                }
                if (k == ASSOC_MAX || (i == n && k > 0)) {
                        assoc_chunk(hs, from_type, to_type, a, idx, k, prio);
                        for (size_t j = 0; j < k; j++)
                                if (a[idx[j]].r != CB_RESULT_OK)
                                        hs_assoc_unclaim(hs, h[idx[j]]);
                        k = 0;
                }
        }
}

void hs_associate_many(struct hs *hs, const char *from_type, struct hs_assoc_item *a, size_t n,
                       enum cb_crm_priority prio)
{
        static const char *const to_types[] = {"contacts", "companies", "calls"};
        size_t *idx = calloc(n ? n : 1, sizeof(*idx));
        uint64_t *h = calloc(n ? n : 1, sizeof(*h));

        for (size_t i = 0; i < n; i++) {
                a[i].r = CB_RESULT_RETRY;
                cb_strlcpy(a[i].err, idx && h ? "hubspot: no association type" : "out of memory",
                           sizeof(a[i].err));
        }
        for (size_t t = 0; idx != NULL && h != NULL && t < CB_ARRAY_LEN(to_types); t++)
                assoc_to(hs, from_type, to_types[t], a, n, prio, idx, h);
        free(idx);
        free(h);
}
