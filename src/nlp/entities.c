/* Entities found by hand-written scanners over the tokens (the clean text is looked at for
 * currency signs, '%' and ISO dates): money ("$5,000", "5k dollars", "€200", "£1.2m"),
 * percentages ("15%", "20 percent") and dates ("2026-12-01", "today", "tomorrow", "next
 * Tuesday", "Friday", "March 3rd", "the 3rd of March", "next week", "next month", "end of
 * the month"), resolved against the call's day when they can be. */
#include <stdlib.h>
#include <string.h>

#include "nlp_int.h"

#define ENTITY_WEIGHT 1.5

int nlp_entities_push(struct nlp_entities *e, size_t off, json_t *obj)
{
        if (obj == NULL)
                return -1;
        if (e->n == e->cap) {
                size_t cap = e->cap ? e->cap * 2 : 16;
                struct nlp_entity *v = realloc(e->v, cap * sizeof(*v));
                if (v == NULL) {
                        json_decref(obj);
                        return -1;
                }
                e->v = v, e->cap = cap;
        }
        e->v[e->n++] = (struct nlp_entity){off, obj};
        return 0;
}

void nlp_entities_free(struct nlp_entities *e)
{
        for (size_t i = 0; i < e->n; i++)
                json_decref(e->v[i].obj);
        free(e->v);
        memset(e, 0, sizeof(*e));
}

/* A number token ("5", "5,000", "2.5", "5k", "1.2m") as a value; false if it is not one. */
static bool number_token(const struct nlp_doc *d, size_t i, double *out)
{
        const char *s = nlp_tok_lower(d, i);
        size_t n = d->tokens[i].len, k = 0;
        double v = 0, scale = 0;

        if (n == 0 || s[0] < '0' || s[0] > '9')
                return false;
        for (; k < n; k++) {
                char c = s[k];
                if (c >= '0' && c <= '9') {
                        if (scale > 0)
                                v += (c - '0') * scale, scale /= 10;
                        else
                                v = v * 10 + (c - '0');
                } else if (c == '.' && scale == 0) {
                        scale = 0.1;
                } else if (c != ',') {
                        break;
                }
        }
        if (k < n && k + 1 == n && (s[k] == 'k' || s[k] == 'm'))
                v *= s[k] == 'k' ? 1e3 : 1e6, k++;
        *out = v;
        return k == n;
}

static bool tok_in(const struct nlp_doc *d, size_t i, const char *const *list)
{
        for (size_t k = 0; list[k] != NULL; k++)
                if (nlp_tok_is(d, i, list[k]))
                        return true;
        return false;
}

static json_t *entity(const struct nlp_doc *d, const char *type, size_t from, size_t to)
{
        return json_pack("{s:s, s:s%}", "type", type, "text", d->clean + from, to - from);
}

static json_t *with_value(json_t *e, json_t *value)
{
        if (e != NULL && value != NULL)
                json_object_set_new(e, "value", value);
        else
                json_decref(value);
        return e;
}

/* Money at token i: a sign before it or a currency word after it. Tokens used in *used. */
static json_t *money_at(const struct nlp_doc *d, size_t i, size_t end, size_t *used, size_t *start)
{
        static const char *const scale_words[] = {"thousand", "grand", "million", "k", NULL};
        static const char *const usd[] = {"dollars", "dollar", "bucks", "usd", NULL};
        static const char *const eur[] = {"euros", "euro", "eur", NULL};
        static const char *const gbp[] = {"pounds", "gbp", "quid", NULL};
        size_t off = d->tokens[i].off, j = i + 1;
        const char *cur = NULL;
        double v;

        if (!number_token(d, i, &v))
                return NULL;
        *start = off;
        if (off >= 1 && d->clean[off - 1] == '$')
                cur = "USD", *start = off - 1;
        else if (off >= 3 && memcmp(d->clean + off - 3, "\xe2\x82\xac", 3) == 0)
                cur = "EUR", *start = off - 3;
        else if (off >= 2 && memcmp(d->clean + off - 2, "\xc2\xa3", 2) == 0)
                cur = "GBP", *start = off - 2;
        if (j < end && tok_in(d, j, scale_words) && !d->tokens[j].clause_break)
                v *= nlp_tok_is(d, j, "million") ? 1e6 : 1e3, j++;
        if (j < end && !d->tokens[j].clause_break) {
                const char *word = tok_in(d, j, usd)   ? "USD"
                                   : tok_in(d, j, eur) ? "EUR"
                                   : tok_in(d, j, gbp) ? "GBP"
                                                       : NULL;
                if (word != NULL && (cur == NULL || strcmp(cur, word) == 0))
                        cur = word, j++;
        }
        if (cur == NULL)
                return NULL;
        *used = j - i;
        size_t to = d->tokens[j - 1].off + d->tokens[j - 1].len;
        json_t *e = with_value(entity(d, "money", *start, to), json_real(v));
        if (e != NULL)
                json_object_set_new(e, "currency", json_string(cur));
        return e;
}

static json_t *percent_at(const struct nlp_doc *d, size_t i, size_t end, size_t *used)
{
        size_t to = d->tokens[i].off + d->tokens[i].len;
        double v;

        if (!number_token(d, i, &v))
                return NULL;
        if (d->clean[to] == '%') {
                to++;
                *used = 1;
        } else if (i + 1 < end && nlp_tok_is(d, i + 1, "percent")) {
                to = d->tokens[i + 1].off + d->tokens[i + 1].len;
                *used = 2;
        } else {
                return NULL;
        }
        return with_value(entity(d, "percent", d->tokens[i].off, to), json_real(v));
}

int nlp_entities_scan(const struct nlp_doc *d, const struct nlp_date *today,
                      struct nlp_entities *out, double *sentence_weight)
{
        for (size_t s = 0; s < d->n_sentences; s++) {
                size_t end = d->sentences[s].tok_end;
                for (size_t i = d->sentences[s].tok_begin; i < end;) {
                        size_t used = 0, start = d->tokens[i].off;
                        json_t *e = money_at(d, i, end, &used, &start);
                        if (e == NULL)
                                e = percent_at(d, i, end, &used);
                        if (e == NULL)
                                e = nlp_date_at(d, i, end, today, &used);
                        if (e == NULL) {
                                i++;
                                continue;
                        }
                        if (nlp_entities_push(out, start, e) != 0)
                                return -1;
                        sentence_weight[s] += ENTITY_WEIGHT;
                        i += used;
                }
        }
        return 0;
}
