/* callbridge-sandbox: POST /crm/v3/objects/{type}/search — filterGroups (OR of AND groups),
 * sorts, properties, limit/after paging.
 *
 * Candidates come from the equality index whenever a group holds an EQ or IN filter on an
 * indexed property (unique-value ones, the phone properties and their calculated searchable
 * forms, email, domain) or on hs_object_id; only a group without one walks the objects of its
 * type. Every filter of the group is then checked on each candidate. Lock held (hs_api.c). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hs_emu.h"

/* A filter's value as text ("" when absent); numbers and booleans formatted into `buf`. */
static const char *text_of(json_t *v, char *buf, size_t len)
{
        if (json_is_string(v))
                return json_string_value(v);
        if (json_is_number(v)) {
                snprintf(buf, len, "%.15g", json_number_value(v));
                return buf;
        }
        if (json_is_boolean(v))
                return json_is_true(v) ? "true" : "false";
        return "";
}

/* The property's value on `obj` or NULL ("id" is hs_object_id). */
static const char *value_of(json_t *obj, const char *prop)
{
        if (strcmp(prop, "id") == 0)
                prop = "hs_object_id";
        return json_string_value(json_object_get(json_object_get(obj, "properties"), prop));
}

/* Numbers compare as numbers, everything else case-insensitively as text. */
static int compare_values(const char *a, const char *b)
{
        char *ea = NULL, *eb = NULL;
        double da = strtod(a, &ea), db = strtod(b, &eb);

        if (*a && *b && ea && eb && *ea == '\0' && *eb == '\0')
                return da < db ? -1 : da > db ? 1 : 0;
        return strcasecmp(a, b);
}

/* Does a token of `value` match `want` (with a leading/trailing '*' as wildcard)? */
static bool contains_token(const char *value, const char *want)
{
        size_t wn = strlen(want);
        bool pre = wn && want[0] == '*', suf = wn > 1 && want[wn - 1] == '*';
        const char *w = want + pre;

        wn -= (size_t)pre + (size_t)suf;
        while (*value) {
                size_t n = 0;
                while (value[n] && (isalnum((unsigned char)value[n]) || value[n] == '@' ||
                                    value[n] == '.' || value[n] == '+'))
                        n++;
                for (size_t off = 0; n >= wn && off <= n - wn; off++) {
                        if ((off == 0 || pre) && (off + wn == n || suf) &&
                            strncasecmp(value + off, w, wn) == 0)
                                return true;
                }
                value += n ? n : 1;
        }
        return false;
}

/* Does `obj` pass filter `f`? `op` was checked beforehand. */
static bool passes(json_t *obj, json_t *f)
{
        const char *op = json_string_value(json_object_get(f, "operator"));
        const char *v = value_of(obj, json_string_value(json_object_get(f, "propertyName")));
        char buf[64], hb[64];
        const char *want = text_of(json_object_get(f, "value"), buf, sizeof(buf));
        json_t *values = json_object_get(f, "values"), *x;
        bool in = false;
        size_t i;

        if (strcmp(op, "HAS_PROPERTY") == 0)
                return v != NULL;
        if (strcmp(op, "NOT_HAS_PROPERTY") == 0)
                return v == NULL;
        if (strcmp(op, "IN") == 0 || strcmp(op, "NOT_IN") == 0) {
                json_array_foreach(values, i, x)
                {
                        in |= v && strcasecmp(v, text_of(x, buf, sizeof(buf))) == 0;
                }
                return op[0] == 'I' ? in : !in;
        }
        if (strcmp(op, "NEQ") == 0)
                return !v || strcasecmp(v, want) != 0;
        if (strcmp(op, "NOT_CONTAINS_TOKEN") == 0)
                return !v || !contains_token(v, want);
        if (!v)
                return false;
        if (strcmp(op, "EQ") == 0)
                return strcasecmp(v, want) == 0;
        if (strcmp(op, "CONTAINS_TOKEN") == 0)
                return contains_token(v, want);
        if (strcmp(op, "GT") == 0)
                return compare_values(v, want) > 0;
        if (strcmp(op, "GTE") == 0)
                return compare_values(v, want) >= 0;
        if (strcmp(op, "LT") == 0)
                return compare_values(v, want) < 0;
        if (strcmp(op, "LTE") == 0)
                return compare_values(v, want) <= 0;
        /* BETWEEN */
        return compare_values(v, want) >= 0 &&
               compare_values(v, text_of(json_object_get(f, "highValue"), hb, sizeof(hb))) <= 0;
}

/* Check the request's shape; NULL when fine, else a message (static or in `buf`). */
static const char *check_body(enum hs_type t, json_t *groups, char *buf, size_t len)
{
        static const char *const ops[] = {"EQ",
                                          "NEQ",
                                          "LT",
                                          "LTE",
                                          "GT",
                                          "GTE",
                                          "BETWEEN",
                                          "IN",
                                          "NOT_IN",
                                          "HAS_PROPERTY",
                                          "NOT_HAS_PROPERTY",
                                          "CONTAINS_TOKEN",
                                          "NOT_CONTAINS_TOKEN",
                                          NULL};
        json_t *g, *f;
        size_t i, k;

        if (groups && (!json_is_array(groups) || json_array_size(groups) > HS_MAX_GROUPS))
                return "filterGroups must be an array of at most 5 groups";
        json_array_foreach(groups, i, g)
        {
                json_t *filters = json_object_get(g, "filters");
                if (!json_is_array(filters) || json_array_size(filters) > HS_MAX_FILTERS)
                        return "each filter group must have an array of at most 6 filters";
                json_array_foreach(filters, k, f)
                {
                        const char *p = json_string_value(json_object_get(f, "propertyName"));
                        const char *op = json_string_value(json_object_get(f, "operator"));
                        size_t o = 0;
                        while (op && ops[o] && strcmp(ops[o], op) != 0)
                                o++;
                        if (!op || !ops[o]) {
                                snprintf(buf, len, "Unknown operator: %s", op ? op : "(none)");
                                return buf;
                        }
                        if (!p ||
                            (strcmp(p, "id") != 0 && !json_object_get(hs_props_locked(t), p))) {
                                snprintf(buf, len,
                                         "There was a problem with the request: "
                                         "property %s does not exist",
                                         p ? p : "(none)");
                                return buf;
                        }
                }
        }
        return NULL;
}

/* The index hits of the group's best filter into `cand` ({"<id>":true}); false when the group
 * has no indexable filter. */
static bool indexed_candidates(enum hs_type t, json_t *filters, json_t *cand)
{
        json_t *f, *x;
        size_t i, k;
        char buf[64];

        json_array_foreach(filters, i, f)
        {
                const char *op = json_string_value(json_object_get(f, "operator"));
                const char *p = json_string_value(json_object_get(f, "propertyName"));
                bool by_id = strcmp(p, "id") == 0 || strcmp(p, "hs_object_id") == 0;
                bool eq = strcmp(op, "EQ") == 0, in = strcmp(op, "IN") == 0;
                json_t *values = eq ? json_pack("[O]", json_object_get(f, "value"))
                                    : json_incref(json_object_get(f, "values"));

                if ((!eq && !in) || (!by_id && !hs_index_covers_locked(t, p))) {
                        json_decref(values);
                        continue;
                }
                json_array_foreach(values, k, x)
                {
                        const char *want = text_of(x, buf, sizeof(buf));
                        bool indexed;
                        if (by_id) {
                                if (json_object_get(hs_objects_locked(t), want))
                                        json_object_set_new(cand, want, json_true());
                        } else {
                                json_object_update(cand, hs_index_get_locked(t, p, want, &indexed));
                        }
                }
                json_decref(values);
                return true;
        }
        return false;
}

/* Add the objects of one group to `hits` ({"<id>":object}). */
static void run_group(enum hs_type t, json_t *filters, json_t *hits)
{
        json_t *cand = json_object(), *all = hs_objects_locked(t), *obj, *f, *src;
        const char *id;
        size_t i;

        src = indexed_candidates(t, filters, cand) ? cand : all;
        json_object_foreach(src, id, obj)
        {
                bool ok = true;
                obj = json_object_get(all, id);
                if (!obj || json_object_get(hits, id))
                        continue;
                json_array_foreach(filters, i, f)
                {
                        if (!(ok = passes(obj, f)))
                                break;
                }
                if (ok)
                        json_object_set(hits, id, obj);
        }
        json_decref(cand);
}

struct sort_key {
        const char *prop; /* NULL: by id */
        bool desc;
};

/* One search hit (an object of the store, borrowed). */
struct hit {
        json_t *obj;
};

static int by_sort(const void *pa, const void *pb, void *arg)
{
        const struct sort_key *k = arg;
        json_t *a = ((const struct hit *)pa)->obj, *b = ((const struct hit *)pb)->obj;
        const char *va = value_of(a, k->prop ? k->prop : "hs_object_id");
        const char *vb = value_of(b, k->prop ? k->prop : "hs_object_id");
        int c;

        if (!va || !vb)
                c = va ? -1 : vb ? 1 : 0; /* missing values last either way */
        else
                c = k->desc ? -compare_values(va, vb) : compare_values(va, vb);
        if (c == 0)
                c = compare_values(value_of(a, "hs_object_id"), value_of(b, "hs_object_id"));
        return c;
}

/* The sort key of "sorts" ([{"propertyName","direction"}] or ["prop"/"-prop"]). */
static struct sort_key sort_of(json_t *sorts)
{
        json_t *s = json_array_get(sorts, 0);
        struct sort_key k = {NULL, false};

        if (json_is_string(s)) {
                k.prop = json_string_value(s);
                if (k.prop[0] == '-') {
                        k.desc = true;
                        k.prop++;
                }
        } else if (json_is_object(s)) {
                k.prop = json_string_value(json_object_get(s, "propertyName"));
                k.desc =
                    json_string_value(json_object_get(s, "direction")) &&
                    strcmp(json_string_value(json_object_get(s, "direction")), "DESCENDING") == 0;
        }
        return k;
}

/* Sort `hits`, then answer the page [after, after+limit). */
static void answer_page(enum hs_type t, json_t *hits, json_t *doc, long limit, long after,
                        struct sb_reply *reply)
{
        size_t n = json_object_size(hits), i = 0;
        struct hit *arr = calloc(n ? n : 1, sizeof(*arr));
        json_t *obj, *results = json_array(), *body;
        struct sort_key key = sort_of(json_object_get(doc, "sorts"));
        const char *id;

        if (!arr || !results) {
                free(arr);
                json_decref(results);
                hs_reply_error(reply, 500, "INTERNAL_ERROR", NULL, "out of memory");
                return;
        }
        json_object_foreach(hits, id, obj)
        {
                arr[i++].obj = obj;
        }
        qsort_r(arr, n, sizeof(*arr), by_sort, &key);
        for (i = (size_t)after; i < n && i < (size_t)(after + limit); i++)
                json_array_append_new(
                    results, hs_render_locked(t, arr[i].obj, json_object_get(doc, "properties")));
        free(arr);
        body = json_pack("{s:I,s:o}", "total", (json_int_t)n, "results", results);
        if ((size_t)(after + limit) < n) {
                char next[32];
                snprintf(next, sizeof(next), "%ld", after + limit);
                json_object_set_new(
                    body, "paging",
                    json_pack("{s:{s:s,s:s+}}", "next", "after", next, "link", "?after=", next));
        }
        sb_reply_json_take(reply, 200, body);
}

void hs_search_locked(struct hs_op *op, struct sb_reply *reply)
{
        json_t *doc = sb_request_json(op->req, reply), *groups, *hits, *g, *lim, *aft;
        long limit = 10, after = 0;
        const char *bad;
        char buf[256];
        size_t i;

        if (!doc)
                return;
        groups = json_object_get(doc, "filterGroups");
        lim = json_object_get(doc, "limit");
        aft = json_object_get(doc, "after");
        if (lim)
                limit = json_is_integer(lim) ? (long)json_integer_value(lim) : -1;
        if (json_is_string(aft))
                after = strtol(json_string_value(aft), NULL, 10);
        else if (json_is_integer(aft))
                after = (long)json_integer_value(aft);
        bad = check_body(op->type, groups, buf, sizeof(buf));
        if (!bad && (limit < 0 || limit > HS_SEARCH_MAX_LIMIT))
                bad = "limit must be between 0 and 200";
        if (!bad && after < 0)
                bad = "after must not be negative";
        if (bad) {
                hs_reply_error(reply, 400, "VALIDATION_ERROR", NULL, "%s", bad);
                json_decref(doc);
                return;
        }
        hits = json_object();
        if (json_array_size(groups) == 0) {
                json_t *none = json_array();
                run_group(op->type, none, hits); /* no filters: every object */
                json_decref(none);
        }
        json_array_foreach(groups, i, g)
        {
                run_group(op->type, json_object_get(g, "filters"), hits);
        }
        answer_page(op->type, hits, doc, limit, after, reply);
        json_decref(hits);
        json_decref(doc);
}
