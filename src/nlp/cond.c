/* A rule's `when`: parsed into phrase ids and indexes at load (every problem recorded with
 * its JSON path), evaluated against what one transcript matched. Every condition present must
 * hold; within a list, `any`, `dictionary`, `intent`, `tag` and `entity` need one member,
 * `all` needs every member and `none` needs no member. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nlp_int.h"

static const char *const cond_keys[] = {"any",           "all",  "none",   "dictionary",
                                        "intent",        "tag",  "entity", "sentiment_min",
                                        "sentiment_max", "call", NULL};

/* A JSON path below `fmt`'s parent; a path too long for `out` is cut (messages only). */
static void subpath(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void subpath(char *out, size_t size, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(out, size, fmt, ap);
        va_end(ap);
}

static const char *const builtin_entities[] = {"money", "date", "percent", NULL};

void nlp_cond_free(struct nlp_cond *c)
{
        free(c->any.ids);
        free(c->all.ids);
        free(c->none.ids);
        free(c->dictionaries.ids);
        free(c->intents.ids);
        free(c->tags.ids);
        for (size_t i = 0; i < c->n_entities; i++)
                free(c->entities[i]);
        free(c->entities);
        memset(c, 0, sizeof(*c));
}

/* `v` as a non-empty array of strings; NULL after recording the problem. */
static json_t *string_array(struct nlp_loader *L, json_t *v, const char *path)
{
        size_t i;
        json_t *s;
        char p[320];

        if (!json_is_array(v) || json_array_size(v) == 0) {
                nlp_problem(L, path, "expected a non-empty array of strings");
                return NULL;
        }
        json_array_foreach(v, i, s)
        {
                subpath(p, sizeof(p), "%s[%zu]", path, i);
                if (!json_is_string(s)) {
                        nlp_problem(L, p, "expected a string");
                        return NULL;
                }
        }
        return v;
}

static void phrase_list(struct nlp_loader *L, json_t *v, const char *path, int weight,
                        struct nlp_list *out)
{
        size_t i;
        json_t *s;
        char p[320];

        if (string_array(L, v, path) == NULL)
                return;
        out->ids = calloc(json_array_size(v), sizeof(size_t));
        if (out->ids == NULL) {
                nlp_problem(L, path, "out of memory");
                return;
        }
        json_array_foreach(v, i, s)
        {
                subpath(p, sizeof(p), "%s[%zu]", path, i);
                long id = nlp_phrase_add(L, json_string_value(s), weight, p);
                if (id >= 0)
                        out->ids[out->n++] = (size_t)id;
        }
}

/* Names (of dictionaries, intents or tags) resolved to indexes. */
static void name_list(struct nlp_loader *L, json_t *v, const char *path, const char *what,
                      const char *(*name_at)(const struct cb_nlp_rules *, size_t), size_t count,
                      struct nlp_list *out)
{
        size_t i;
        json_t *s;
        char p[320];

        if (string_array(L, v, path) == NULL)
                return;
        out->ids = calloc(json_array_size(v), sizeof(size_t));
        if (out->ids == NULL) {
                nlp_problem(L, path, "out of memory");
                return;
        }
        json_array_foreach(v, i, s)
        {
                size_t k = 0;
                while (k < count && (name_at(L->r, k) == NULL ||
                                     strcmp(name_at(L->r, k), json_string_value(s)) != 0))
                        k++;
                subpath(p, sizeof(p), "%s[%zu]", path, i);
                if (k == count)
                        nlp_problem(L, p, "no %s named \"%s\"", what, json_string_value(s));
                else
                        out->ids[out->n++] = k;
        }
}

static const char *dict_at(const struct cb_nlp_rules *r, size_t i)
{
        return r->dicts[i].name;
}

static const char *intent_at(const struct cb_nlp_rules *r, size_t i)
{
        return r->intents[i].name;
}

static const char *tag_at(const struct cb_nlp_rules *r, size_t i)
{
        return r->tags[i].name;
}

static void entity_list(struct nlp_loader *L, json_t *v, const char *path, struct nlp_cond *c)
{
        size_t i;
        json_t *s;
        char p[320];

        if (string_array(L, v, path) == NULL)
                return;
        c->entities = calloc(json_array_size(v), sizeof(char *));
        json_array_foreach(v, i, s)
        {
                const char *t = json_string_value(s);
                bool known = false;
                for (size_t k = 0; builtin_entities[k] != NULL; k++)
                        known = known || strcmp(t, builtin_entities[k]) == 0;
                for (size_t k = 0; k < L->r->n_dicts; k++)
                        known = known || strcmp(t, L->r->dicts[k].name) == 0;
                subpath(p, sizeof(p), "%s[%zu]", path, i);
                if (!known)
                        nlp_problem(L, p,
                                    "no entity type \"%s\" (money, date, percent or a "
                                    "dictionary)",
                                    t);
                else if (c->entities != NULL && (c->entities[c->n_entities] = strdup(t)) != NULL)
                        c->n_entities++;
        }
}

static void sentiment_bound(struct nlp_loader *L, json_t *v, const char *path, bool *has,
                            double *out)
{
        if (!json_is_number(v) || json_number_value(v) < -1 || json_number_value(v) > 1) {
                nlp_problem(L, path, "expected a number from -1 to 1");
                return;
        }
        *has = true;
        *out = json_number_value(v);
}

static void call_cond(struct nlp_loader *L, json_t *v, const char *path, struct nlp_cond *c)
{
        const char *key;
        json_t *want, *w;
        char p[320];
        size_t i;

        if (!json_is_object(v) || json_object_size(v) == 0) {
                nlp_problem(L, path, "expected an object of field: value or [values]");
                return;
        }
        json_object_foreach(v, key, want)
        {
                subpath(p, sizeof(p), "%s.%s", path, key);
                if (json_is_array(want) && json_array_size(want) > 0) {
                        json_array_foreach(want, i, w) if (!json_is_string(w) &&
                                                           !json_is_number(w) &&
                                                           !json_is_boolean(w))
                        {
                                nlp_problem(L, p, "expected strings, numbers or booleans");
                                return;
                        }
                } else if (!json_is_string(want) && !json_is_number(want) &&
                           !json_is_boolean(want)) {
                        nlp_problem(L, p, "expected a string, number, boolean or array of them");
                        return;
                }
        }
        c->call = v;
}

/* One key of `when`. */
static void cond_key(struct nlp_loader *L, const char *key, json_t *v, const char *path,
                     enum nlp_section sec, struct nlp_cond *c)
{
        const struct cb_nlp_rules *r = L->r;
        int weight = sec == SEC_INTENTS ? 3 : 1;

        if (strcmp(key, "any") == 0)
                phrase_list(L, v, path, weight, &c->any);
        else if (strcmp(key, "all") == 0)
                phrase_list(L, v, path, weight, &c->all);
        else if (strcmp(key, "none") == 0)
                phrase_list(L, v, path, 0, &c->none);
        else if (strcmp(key, "dictionary") == 0)
                name_list(L, v, path, "dictionary", dict_at, r->n_dicts, &c->dictionaries);
        else if (strcmp(key, "intent") == 0 && sec == SEC_INTENTS)
                nlp_problem(L, path, "an intent cannot test intents");
        else if (strcmp(key, "intent") == 0)
                name_list(L, v, path, "intent", intent_at, r->n_intents, &c->intents);
        else if (strcmp(key, "tag") == 0 && sec != SEC_FOLLOW_UPS)
                nlp_problem(L, path, "only follow_ups can test tags");
        else if (strcmp(key, "tag") == 0)
                name_list(L, v, path, "tag", tag_at, r->n_tags, &c->tags);
        else if (strcmp(key, "entity") == 0)
                entity_list(L, v, path, c);
        else if (strcmp(key, "sentiment_min") == 0)
                sentiment_bound(L, v, path, &c->has_min, &c->sentiment_min);
        else if (strcmp(key, "sentiment_max") == 0)
                sentiment_bound(L, v, path, &c->has_max, &c->sentiment_max);
        else
                call_cond(L, v, path, c);
}

void nlp_cond_parse(struct nlp_loader *L, json_t *when, const char *path, enum nlp_section sec,
                    struct nlp_cond *out)
{
        const char *key;
        json_t *v;
        char p[320];

        if (when == NULL) {
                nlp_problem(L, path, "required");
                return;
        }
        if (!json_is_object(when) || json_object_size(when) == 0) {
                nlp_problem(L, path, "expected an object with at least one condition");
                return;
        }
        json_object_foreach(when, key, v)
        {
                bool known = false;
                for (size_t k = 0; cond_keys[k] != NULL; k++)
                        known = known || strcmp(cond_keys[k], key) == 0;
                subpath(p, sizeof(p), "%s.%s", path, key);
                if (!known)
                        nlp_problem(L, p,
                                    "unknown condition (any, all, none, dictionary, "
                                    "intent, tag, entity, sentiment_min, sentiment_max, "
                                    "call)");
                else
                        cond_key(L, key, v, p, sec, out);
        }
        if (out->has_min && out->has_max && out->sentiment_min > out->sentiment_max)
                nlp_problem(L, path, "sentiment_min is above sentiment_max");
}

/* ---- evaluation ---------------------------------------------------------------------------- */

static bool scalar_equal(const json_t *want, const json_t *have)
{
        if (json_is_string(want))
                return json_is_string(have) &&
                       strcasecmp(json_string_value(want), json_string_value(have)) == 0;
        if (json_is_number(want))
                return json_is_number(have) && json_number_value(want) == json_number_value(have);
        return json_is_boolean(have) && json_is_true(want) == json_is_true(have);
}

static bool call_matches(const json_t *cond, const json_t *call)
{
        const char *key;
        json_t *want, *w;
        size_t i;

        json_object_foreach((json_t *)cond, key, want)
        {
                const json_t *have = call ? json_object_get(call, key) : NULL;
                bool ok = false;
                if (have == NULL)
                        return false;
                if (json_is_array(want))
                        json_array_foreach(want, i, w) ok = ok || scalar_equal(w, have);
                else
                        ok = scalar_equal(want, have);
                if (!ok)
                        return false;
        }
        return true;
}

static bool entity_found(const json_t *entities, const char *type)
{
        size_t i;
        json_t *e;

        json_array_foreach((json_t *)entities, i, e)
        {
                const char *t = json_string_value(json_object_get(e, "type"));
                if (t != NULL && strcmp(t, type) == 0)
                        return true;
        }
        return false;
}

bool nlp_cond_eval(const struct nlp_cond *c, const struct nlp_facts *f, unsigned *score)
{
        const uint32_t *count = f->hits->count;
        unsigned s = 0;
        bool ok;

        for (size_t i = 0; i < c->none.n; i++)
                if (count[c->none.ids[i]] > 0)
                        return false;
        for (size_t i = 0; i < c->all.n; i++) {
                if (count[c->all.ids[i]] == 0)
                        return false;
                s += count[c->all.ids[i]];
        }
        if (c->any.n > 0) {
                for (size_t i = 0; i < c->any.n; i++)
                        s += count[c->any.ids[i]];
                if (s == 0)
                        return false;
        }
        if (c->dictionaries.n > 0) {
                unsigned ds = 0;
                for (size_t i = 0; i < c->dictionaries.n; i++) {
                        const struct nlp_list *t = &f->r->dicts[c->dictionaries.ids[i]].terms;
                        for (size_t k = 0; k < t->n; k++)
                                ds += f->hits->term_count[t->ids[k]];
                }
                if (ds == 0)
                        return false;
                s += ds;
        }
        ok = c->intents.n == 0;
        for (size_t i = 0; i < c->intents.n && !ok; i++)
                ok = f->intents[c->intents.ids[i]];
        if (!ok)
                return false;
        ok = c->tags.n == 0;
        for (size_t i = 0; i < c->tags.n && !ok; i++)
                ok = f->tags[c->tags.ids[i]];
        if (!ok)
                return false;
        ok = c->n_entities == 0;
        for (size_t i = 0; i < c->n_entities && !ok; i++)
                ok = entity_found(f->entities, c->entities[i]);
        if (!ok || (c->has_min && f->sentiment < c->sentiment_min) ||
            (c->has_max && f->sentiment > c->sentiment_max))
                return false;
        if (c->call != NULL && !call_matches(c->call, f->call))
                return false;
        *score = s;
        return true;
}
