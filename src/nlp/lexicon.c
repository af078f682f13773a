/* The sentiment lexicon: a TSV file of `term<TAB>kind<TAB>value` lines ('#' comments),
 * kinds valence (-4..4), booster (a factor added to 1: 0.3 "very", -0.3 "slightly"),
 * negation and contrast (value "-"). Terms may be several words ("a bit", "rip off").
 * Loaded into an open-addressed table keyed by the hash of the lower-case term. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlp_int.h"

#define LEX_MAX_TERMS 50000

static const struct {
        const char *name;
        enum nlp_lex_kind kind;
} kinds[] = {{"valence", LEX_VALENCE},
             {"booster", LEX_BOOSTER},
             {"negation", LEX_NEGATION},
             {"contrast", LEX_CONTRAST}};

void nlp_lexicon_free(struct nlp_lexicon **lex)
{
        if (lex == NULL || *lex == NULL)
                return;
        for (size_t i = 0; i <= (*lex)->mask; i++)
                free((*lex)->slots[i].term);
        free((*lex)->slots);
        free(*lex);
        *lex = NULL;
}

/* The slot for `hash` with `term` (a match or the empty slot where it would go). */
static struct nlp_lex_entry *slot_for(const struct nlp_lexicon *lex, uint64_t hash,
                                      const char *term, size_t len)
{
        size_t i = (size_t)hash & lex->mask;

        for (;; i = (i + 1) & lex->mask) {
                struct nlp_lex_entry *e = &lex->slots[i];
                if (e->hash == 0 ||
                    (e->hash == hash && strlen(e->term) == len && memcmp(e->term, term, len) == 0))
                        return e;
        }
}

/* Double the table; -1 (table unchanged) when out of memory. */
static int grow(struct nlp_lexicon *lex)
{
        struct nlp_lexicon bigger = {.mask = lex->mask * 2 + 1, .count = lex->count};

        bigger.slots = calloc(bigger.mask + 1, sizeof(*bigger.slots));
        if (bigger.slots == NULL)
                return -1;
        for (size_t i = 0; i <= lex->mask; i++) {
                struct nlp_lex_entry *e = &lex->slots[i];
                if (e->hash != 0)
                        *slot_for(&bigger, e->hash, e->term, strlen(e->term)) = *e;
        }
        free(lex->slots);
        *lex = bigger;
        return 0;
}

/* Insert (or find) `term`; NULL when out of memory. */
static struct nlp_lex_entry *insert(struct nlp_lexicon *lex, const char *term, size_t len)
{
        uint64_t h = nlp_hash(term, len);
        struct nlp_lex_entry *e;

        if (2 * (lex->count + 1) > lex->mask && grow(lex) != 0)
                return NULL;
        e = slot_for(lex, h, term, len);

        if (e->hash != 0)
                return e;
        e->term = strndup(term, len);
        if (e->term == NULL)
                return NULL;
        e->hash = h;
        lex->count++;
        return e;
}

/* Parse one data line into the table; false with `why` for a bad line. */
static bool add_line(struct nlp_lexicon *lex, char *line, const char **why)
{
        char *term = line, *kind, *value, *end;
        char words[NLP_MAX_WORDS][64];
        char joined[NLP_MAX_WORDS * 64];
        size_t n, jl = 0;
        struct nlp_lex_entry *e;
        int k = -1;

        if ((kind = strchr(term, '\t')) == NULL || (value = strchr(kind + 1, '\t')) == NULL)
                return *why = "expected term<TAB>kind<TAB>value", false;
        *kind++ = '\0';
        *value++ = '\0';
        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
                if (strcmp(kind, kinds[i].name) == 0)
                        k = (int)kinds[i].kind;
        if (k < 0)
                return *why = "kind must be valence, booster, negation or contrast", false;
        n = nlp_phrase_words(term, words, NLP_MAX_WORDS);
        if (n == 0)
                return *why = "the term has no words (or more than 8)", false;
        for (size_t i = 0; i < n; i++) {
                size_t wl = strlen(words[i]);
                if (i > 0)
                        joined[jl++] = ' ';
                memcpy(joined + jl, words[i], wl);
                jl += wl;
        }
        errno = 0;
        double v = (k == LEX_VALENCE || k == LEX_BOOSTER) ? strtod(value, &end) : 0;
        if ((k == LEX_VALENCE || k == LEX_BOOSTER) &&
            (errno != 0 || end == value || *end != '\0' || v < -4 || v > 4))
                return *why = "value must be a number from -4 to 4", false;
        if ((e = insert(lex, joined, jl)) == NULL)
                return *why = "out of memory", false;
        if (e->kind != LEX_NONE)
                return *why = "duplicate term", false;
        e->kind = (uint8_t)k;
        e->value = (float)v;
        /* The first word learns how long the terms it starts can be. */
        if ((e = insert(lex, words[0], strlen(words[0]))) == NULL)
                return *why = "out of memory", false;
        if (e->longest < n)
                e->longest = (uint8_t)n;
        return true;
}

/* Append "path:line: why" to err. */
static void add_err(char *err, size_t size, size_t *used, const char *path, size_t line,
                    const char *why)
{
        int w;

        if (*used >= size)
                return;
        w = snprintf(err + *used, size - *used, "%s%s:%zu: %s", *used ? "\n" : "", path, line, why);
        *used += w > 0 ? (size_t)w : 0;
}

struct nlp_lexicon *nlp_lexicon_load(const char *path, char *err, size_t err_size)
{
        struct nlp_lexicon *lex = calloc(1, sizeof(*lex));
        char line[1024];
        size_t lineno = 0, used = 0;
        FILE *f = NULL;

        if (err_size > 0)
                err[0] = '\0';
        if (lex == NULL || (lex->slots = calloc(1024, sizeof(*lex->slots))) == NULL) {
                add_err(err, err_size, &used, path, 0, "out of memory");
                goto fail;
        }
        lex->mask = 1023;
        if ((f = fopen(path, "r")) == NULL) {
                add_err(err, err_size, &used, path, 0, strerror(errno));
                goto fail;
        }
        while (fgets(line, sizeof(line), f) != NULL) {
                const char *why = NULL;
                size_t len = strcspn(line, "\r\n");
                lineno++;
                if (line[len] == '\0' && !feof(f)) {
                        add_err(err, err_size, &used, path, lineno, "line longer than 1023 bytes");
                        goto fail;
                }
                line[len] = '\0';
                if (line[0] == '#' || line[strspn(line, " \t")] == '\0')
                        continue;
                if (lex->count >= LEX_MAX_TERMS) {
                        add_err(err, err_size, &used, path, lineno, "more than 50000 terms");
                        goto fail;
                }
                if (!add_line(lex, line, &why))
                        add_err(err, err_size, &used, path, lineno, why);
        }
        if (used == 0 && lex->count == 0)
                add_err(err, err_size, &used, path, lineno, "no terms");
        if (used > 0)
                goto fail;
        fclose(f);
        return lex;
fail:
        if (f != NULL)
                fclose(f);
        if (lex != NULL && lex->slots == NULL)
                free(lex), lex = NULL;
        nlp_lexicon_free(&lex);
        return NULL;
}

const struct nlp_lex_entry *nlp_lexicon_match(const struct nlp_lexicon *lex,
                                              const struct nlp_doc *d, size_t i, size_t end,
                                              size_t *words)
{
        const struct nlp_token *t = &d->tokens[i];
        const char *low = nlp_tok_lower(d, i);
        const struct nlp_lex_entry *first = slot_for(lex, t->hash, low, t->len);

        if (first->hash == 0)
                return NULL;
        /* Longest first: "a bit" before "a". */
        for (size_t n = first->longest; n > 1; n--) {
                if (i + n > end)
                        continue;
                char buf[NLP_MAX_WORDS * 64];
                size_t bl = 0;
                for (size_t k = 0; k < n; k++) {
                        const struct nlp_token *tk = &d->tokens[i + k];
                        if (tk->len >= 64 || (k > 0 && tk->clause_break))
                                goto next;
                        if (k > 0)
                                buf[bl++] = ' ';
                        memcpy(buf + bl, nlp_tok_lower(d, i + k), tk->len);
                        bl += tk->len;
                }
                const struct nlp_lex_entry *e = slot_for(lex, nlp_hash(buf, bl), buf, bl);
                if (e->hash != 0 && e->kind != LEX_NONE) {
                        *words = n;
                        return e;
                }
        next:;
        }
        *words = 1;
        return first->kind != LEX_NONE ? first : NULL;
}
