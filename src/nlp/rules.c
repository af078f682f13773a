/* The rules file: load, validate (every problem, with the line for JSON syntax and the JSON
 * path for the schema), compile phrases into a table keyed by their first word, and keep the
 * current set behind a mutex with reference counts so a reload never disturbs an analysis in
 * flight. docs/nlp-rules.md describes the schema. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/nlp.h"
#include "nlp_int.h"

#define DEFAULT_LEXICON "/usr/share/callbridge/sentiment-lexicon.tsv"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct cb_nlp_rules *current;
static char lexicon_path[4096] = DEFAULT_LEXICON;

void cb_nlp_set_lexicon(const char *path)
{
        pthread_mutex_lock(&lock);
        snprintf(lexicon_path, sizeof(lexicon_path), "%s",
                 path != NULL && path[0] != '\0' ? path : DEFAULT_LEXICON);
        pthread_mutex_unlock(&lock);
}

void nlp_problem(struct nlp_loader *L, const char *path, const char *fmt, ...)
{
        va_list ap;
        int w;

        L->problems++;
        if (L->err_size == 0 || L->used + 1 >= L->err_size)
                return;
        w = snprintf(L->err + L->used, L->err_size - L->used, "%s%s: %s: ", L->used ? "\n" : "",
                     L->file, path[0] ? path : "(top level)");
        L->used += w > 0 ? (size_t)w : 0;
        if (L->used + 1 >= L->err_size) {
                L->used = L->err_size - 1;
                return;
        }
        va_start(ap, fmt);
        w = vsnprintf(L->err + L->used, L->err_size - L->used, fmt, ap);
        va_end(ap);
        L->used += w > 0 ? (size_t)w : 0;
        if (L->used >= L->err_size)
                L->used = L->err_size - 1;
}

/* The slot of the chain of phrases starting with `h` (or the empty slot for it). */
static size_t head_slot(const struct cb_nlp_rules *r, uint64_t h)
{
        size_t i = (size_t)h & r->heads_mask;

        while (r->heads[i] != 0 && r->phrases[r->heads[i] - 1].hashes[0] != h)
                i = (i + 1) & r->heads_mask;
        return i;
}

long nlp_phrase_add(struct nlp_loader *L, const char *text, int weight, const char *path)
{
        struct cb_nlp_rules *r = L->r;
        char words[NLP_MAX_WORDS][64];
        size_t n = nlp_phrase_words(text, words, NLP_MAX_WORDS);
        struct nlp_phrase *p;
        size_t slot, id;

        if (n == 0) {
                nlp_problem(L, path, "expected 1 to %d words of letters or digits", NLP_MAX_WORDS);
                return -1;
        }
        slot = head_slot(r, nlp_hash(words[0], strlen(words[0])));
        for (id = r->heads[slot]; id != 0; id = r->phrases[id - 1].next + 1) {
                p = &r->phrases[id - 1];
                size_t k = 0;
                while (k < n && p->n_words == n && strcmp(p->words[k], words[k]) == 0)
                        k++;
                if (k == n && p->n_words == n) {
                        p->weight = weight > p->weight ? weight : p->weight;
                        return (long)(id - 1);
                }
                if (p->next == SIZE_MAX)
                        break;
        }
        if (r->n_phrases >= L->max_phrases)
                return -1; /* cannot happen: max_phrases counts every string of the file */
        p = &r->phrases[r->n_phrases];
        p->text = strdup(text);
        for (size_t k = 0; k < n; k++) {
                p->words[k] = strdup(words[k]);
                p->hashes[k] = nlp_hash(words[k], strlen(words[k]));
        }
        p->n_words = n;
        p->weight = weight;
        p->next = r->heads[slot] ? r->heads[slot] - 1 : SIZE_MAX;
        r->heads[slot] = ++r->n_phrases;
        if (p->text == NULL || p->words[n - 1] == NULL) {
                nlp_problem(L, path, "out of memory");
                return -1;
        }
        return (long)(r->n_phrases - 1);
}

/* Every string in `j`: a bound on the phrases. */
static size_t count_strings(json_t *j)
{
        size_t n = 0, i;
        const char *k;
        json_t *v;

        if (json_is_string(j))
                return 1;
        if (json_is_array(j))
                json_array_foreach(j, i, v) n += count_strings(v);
        else if (json_is_object(j))
                json_object_foreach(j, k, v) n += count_strings(v);
        return n;
}

static void rule_free(struct nlp_rule *rule)
{
        free(rule->name);
        free(rule->subject);
        free(rule->description);
        free(rule->due);
        free(rule->priority);
        nlp_cond_free(&rule->when);
}

static void rules_free(struct cb_nlp_rules *r)
{
        for (size_t i = 0; i < r->n_phrases; i++) {
                free(r->phrases[i].text);
                for (size_t k = 0; k < r->phrases[i].n_words; k++)
                        free(r->phrases[i].words[k]);
        }
        for (size_t i = 0; i < r->n_dicts; i++) {
                free(r->dicts[i].name);
                free(r->dicts[i].terms.ids);
        }
        for (size_t i = 0; i < r->n_intents; i++)
                rule_free(&r->intents[i]);
        for (size_t i = 0; i < r->n_tags; i++)
                rule_free(&r->tags[i]);
        for (size_t i = 0; i < r->n_follow_ups; i++)
                rule_free(&r->follow_ups[i]);
        free(r->intents);
        free(r->tags);
        free(r->follow_ups);
        free(r->dicts);
        free(r->phrases);
        free(r->heads);
        free(r->hints);
        nlp_lexicon_free(&r->lexicon);
        json_decref(r->json);
        free(r);
}

void cb_nlp_rules_ref(struct cb_nlp_rules *r)
{
        if (r != NULL)
                atomic_fetch_add(&r->refs, 1);
}

void cb_nlp_rules_unref(struct cb_nlp_rules **r)
{
        if (r == NULL || *r == NULL)
                return;
        if (atomic_fetch_sub(&(*r)->refs, 1) == 1)
                rules_free(*r);
        *r = NULL;
}

/* A dictionary's terms: its value, an array, or {"terms": [...], "color"?: "#rrggbb"}; its
 * colour into `color`. NULL (problem recorded) when an object has other keys or no terms. */
static json_t *dictionary_terms(struct nlp_loader *L, json_t *v, const char *base, const char *name,
                                char color[CB_NLP_COLOR_SIZE])
{
        const char *key;
        json_t *m;
        char path[512];

        cb_nlp_default_color(name, color);
        if (!json_is_object(v))
                return v;
        json_object_foreach(v, key, m)
        {
                snprintf(path, sizeof(path), "%.255s.%.200s", base, key);
                if (strcmp(key, "terms") != 0 && strcmp(key, "color") != 0)
                        nlp_problem(L, path, "unknown key");
        }
        nlp_color_member(L, v, base, name, color);
        m = json_object_get(v, "terms");
        if (m == NULL) {
                snprintf(path, sizeof(path), "%.255s.terms", base);
                nlp_problem(L, path, "required");
        }
        return m;
}

static void parse_dictionaries(struct nlp_loader *L, json_t *dicts)
{
        struct cb_nlp_rules *r = L->r;
        const char *name;
        json_t *terms, *t;
        char path[256];
        size_t i;

        if (dicts == NULL)
                return;
        if (!json_is_object(dicts)) {
                nlp_problem(L, "dictionaries", "expected an object of name: [terms]");
                return;
        }
        r->dicts = calloc(json_object_size(dicts) + 1, sizeof(*r->dicts));
        if (r->dicts == NULL) {
                nlp_problem(L, "dictionaries", "out of memory");
                return;
        }
        json_object_foreach(dicts, name, terms)
        {
                struct nlp_dictionary *d = &r->dicts[r->n_dicts++];
                snprintf(path, sizeof(path), "dictionaries.%s", name);
                d->name = strdup(name);
                if (name[0] == '\0')
                        nlp_problem(L, path, "empty dictionary name");
                terms = dictionary_terms(L, terms, path, name, d->color);
                if (!json_is_array(terms) || json_array_size(terms) == 0) {
                        if (terms != NULL)
                                nlp_problem(L, path, "expected a non-empty array of strings");
                        continue;
                }
                d->terms.ids = calloc(json_array_size(terms), sizeof(size_t));
                json_array_foreach(terms, i, t)
                {
                        snprintf(path, sizeof(path), "dictionaries.%s[%zu]", name, i);
                        long id = json_is_string(t)
                                      ? nlp_phrase_add(L, json_string_value(t), 2, path)
                                      : -1;
                        if (id >= 0)
                                r->phrases[id].term = true;
                        if (!json_is_string(t))
                                nlp_problem(L, path, "expected a string");
                        if (id >= 0 && d->terms.ids != NULL)
                                d->terms.ids[d->terms.n++] = (size_t)id;
                }
        }
}

/* A required (or optional) non-empty string member copied into *out. */
static void str_member(struct nlp_loader *L, json_t *obj, const char *key, const char *base,
                       bool required, char **out)
{
        json_t *v = json_object_get(obj, key);
        char path[256];

        snprintf(path, sizeof(path), "%s.%s", base, key);
        if (v == NULL) {
                if (required)
                        nlp_problem(L, path, "required");
        } else if (!json_is_string(v)) {
                nlp_problem(L, path, "expected a string");
        } else if (json_string_length(v) == 0) {
                nlp_problem(L, path, "must not be empty");
        } else if ((*out = strdup(json_string_value(v))) == NULL) {
                nlp_problem(L, path, "out of memory");
        }
}

static const char *const section_names[] = {"intents", "tags", "follow_ups"};

/* One intent, tag or follow-up; problems recorded. */
static void parse_rule(struct nlp_loader *L, json_t *obj, const char *base, enum nlp_section sec,
                       struct nlp_rule *rule)
{
        static const char *const keys[][8] = {
            {"name", "when", "color", "valence", NULL},
            {"name", "when", "color", NULL},
            {"rule", "when", "subject", "description", "due", "priority", "color", NULL}};
        const char *key;
        json_t *v;
        char path[256];

        if (!json_is_object(obj)) {
                nlp_problem(L, base, "expected an object");
                return;
        }
        json_object_foreach(obj, key, v)
        {
                bool known = false;
                for (size_t k = 0; keys[sec][k] != NULL; k++)
                        known = known || strcmp(keys[sec][k], key) == 0;
                snprintf(path, sizeof(path), "%s.%s", base, key);
                if (!known)
                        nlp_problem(L, path, "unknown key");
        }
        str_member(L, obj, sec == SEC_FOLLOW_UPS ? "rule" : "name", base, true, &rule->name);
        nlp_color_member(L, obj, base, rule->name, rule->color);
        if ((v = json_object_get(obj, "valence")) != NULL) {
                snprintf(path, sizeof(path), "%s.valence", base);
                if (!json_is_number(v) || json_number_value(v) < -4 || json_number_value(v) > 4)
                        nlp_problem(L, path, "expected a number from -4 to 4");
                else
                        rule->valence = json_number_value(v);
        }
        if (sec == SEC_FOLLOW_UPS) {
                char day[11];
                str_member(L, obj, "subject", base, true, &rule->subject);
                str_member(L, obj, "description", base, false, &rule->description);
                str_member(L, obj, "priority", base, false, &rule->priority);
                str_member(L, obj, "due", base, false, &rule->due);
                snprintf(path, sizeof(path), "%s.due", base);
                if (rule->due != NULL && cb_nlp_due_date(rule->due, "2026-01-01", day) != 0)
                        nlp_problem(L, path, "expected today, next_business_day, +Nd or +Nbd");
                if (rule->due == NULL)
                        rule->due = strdup("next_business_day");
        }
        snprintf(path, sizeof(path), "%s.when", base);
        nlp_cond_parse(L, json_object_get(obj, "when"), path, sec, &rule->when);
}

static void parse_section(struct nlp_loader *L, json_t *arr, enum nlp_section sec)
{
        const char *sname = section_names[sec];
        struct nlp_rule **rules = sec == SEC_INTENTS ? &L->r->intents
                                  : sec == SEC_TAGS  ? &L->r->tags
                                                     : &L->r->follow_ups;
        size_t *n = sec == SEC_INTENTS ? &L->r->n_intents
                    : sec == SEC_TAGS  ? &L->r->n_tags
                                       : &L->r->n_follow_ups;
        char path[128];
        json_t *v;
        size_t i;

        if (arr == NULL)
                return;
        if (!json_is_array(arr)) {
                nlp_problem(L, sname, "expected an array");
                return;
        }
        *rules = calloc(json_array_size(arr) + 1, sizeof(**rules));
        if (*rules == NULL) {
                nlp_problem(L, sname, "out of memory");
                return;
        }
        json_array_foreach(arr, i, v)
        {
                snprintf(path, sizeof(path), "%s[%zu]", sname, i);
                parse_rule(L, v, path, sec, &(*rules)[i]);
                *n = i + 1;
                for (size_t k = 0; k < i && (*rules)[i].name != NULL; k++)
                        if ((*rules)[k].name != NULL &&
                            strcmp((*rules)[k].name, (*rules)[i].name) == 0)
                                nlp_problem(L, path, "duplicate name \"%s\" (also %s[%zu])",
                                            (*rules)[i].name, sname, k);
        }
}

static void parse_top(struct nlp_loader *L, json_t *root)
{
        static const char *const top[] = {"version", "dictionaries", "intents",
                                          "tags",    "follow_ups",   NULL};
        const char *key;
        json_t *v;

        if (!json_is_object(root)) {
                nlp_problem(L, "", "expected an object");
                return;
        }
        json_object_foreach(root, key, v)
        {
                bool known = false;
                for (size_t k = 0; top[k] != NULL; k++)
                        known = known || strcmp(top[k], key) == 0;
                if (!known)
                        nlp_problem(L, key, "unknown key");
        }
        v = json_object_get(root, "version");
        if (v == NULL)
                nlp_problem(L, "version", "required (1)");
        else if (!json_is_integer(v) || json_integer_value(v) != 1)
                nlp_problem(L, "version", "expected 1");
        parse_dictionaries(L, json_object_get(root, "dictionaries"));
        /* In this order: tags test intents, follow-ups test both. */
        parse_section(L, json_object_get(root, "intents"), SEC_INTENTS);
        parse_section(L, json_object_get(root, "tags"), SEC_TAGS);
        parse_section(L, json_object_get(root, "follow_ups"), SEC_FOLLOW_UPS);
}

/* The dictionary terms, NULL-terminated, for speech engines' keyword hints. Borrows the
 * phrases' text. 0, or -1 when out of memory. */
static int build_hints(struct cb_nlp_rules *r)
{
        size_t n = 0;

        r->hints = calloc(r->n_phrases + 1, sizeof(*r->hints));
        if (r->hints == NULL)
                return -1;
        for (size_t i = 0; i < r->n_phrases; i++)
                if (r->phrases[i].term)
                        r->hints[n++] = r->phrases[i].text;
        return 0;
}

const char *const *cb_nlp_rules_hints(const struct cb_nlp_rules *r)
{
        return r ? r->hints : NULL;
}

struct cb_nlp_rules *cb_nlp_rules_load(const char *path, char *err, size_t err_size)
{
        const char *slash = strrchr(path, '/');
        struct nlp_loader L = {.file = slash ? slash + 1 : path, .err = err, .err_size = err_size};
        struct cb_nlp_rules *r = calloc(1, sizeof(*r));
        char lexicon[4096];
        json_error_t je;
        size_t heads = 16;

        if (err_size > 0)
                err[0] = '\0';
        if (r == NULL) {
                nlp_problem(&L, "", "out of memory");
                return NULL;
        }
        atomic_init(&r->refs, 1);
        L.r = r;
        r->json = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
        if (r->json == NULL) {
                L.problems++;
                snprintf(err, err_size, "%s: line %d, column %d: %s", L.file, je.line, je.column,
                         je.text);
                goto fail;
        }
        L.max_phrases = count_strings(r->json) + 1;
        while (heads < 2 * L.max_phrases)
                heads *= 2;
        r->phrases = calloc(L.max_phrases, sizeof(*r->phrases));
        r->heads = calloc(heads, sizeof(*r->heads));
        r->heads_mask = heads - 1;
        if (r->phrases == NULL || r->heads == NULL) {
                nlp_problem(&L, "", "out of memory");
                goto fail;
        }
        parse_top(&L, r->json);
        pthread_mutex_lock(&lock);
        snprintf(lexicon, sizeof(lexicon), "%s", lexicon_path);
        pthread_mutex_unlock(&lock);
        if (L.problems == 0) {
                r->lexicon = nlp_lexicon_load(lexicon, err, err_size);
                if (r->lexicon == NULL)
                        goto fail;
        }
        if (L.problems > 0)
                goto fail;
        if (build_hints(r) != 0) {
                nlp_problem(&L, "", "out of memory");
                goto fail;
        }
        return r;
fail:
        rules_free(r);
        return NULL;
}

struct cb_nlp_rules *cb_nlp_current(void)
{
        struct cb_nlp_rules *r;

        pthread_mutex_lock(&lock);
        r = current;
        cb_nlp_rules_ref(r);
        pthread_mutex_unlock(&lock);
        return r;
}

int cb_nlp_reload(const char *path, char *err, size_t err_size)
{
        struct cb_nlp_rules *fresh = cb_nlp_rules_load(path, err, err_size);
        struct cb_nlp_rules *old;

        if (fresh == NULL)
                return -1; /* the current rules stay */
        pthread_mutex_lock(&lock);
        old = current;
        current = fresh;
        pthread_mutex_unlock(&lock);
        cb_nlp_rules_unref(&old); /* freed when the last analysis using it lets go */
        return 0;
}

int cb_nlp_init(const char *path, char *err, size_t err_size)
{
        return cb_nlp_reload(path, err, err_size);
}

void cb_nlp_shutdown(void)
{
        struct cb_nlp_rules *old;

        pthread_mutex_lock(&lock);
        old = current;
        current = NULL;
        pthread_mutex_unlock(&lock);
        cb_nlp_rules_unref(&old);
}
