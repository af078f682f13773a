/* cb_nlp_analyse: cleanup, sentiment, phrase matching, entities, intents, tags, follow-ups
 * and the summary, in one pass each over the transcript. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "callbridge/nlp.h"
#include "callbridge/util.h"
#include "nlp_int.h"

#define MAX_ENTITIES 200 /* distinct entities reported */
#define SUMMARY_MAX  3
#define SENTIMENT_W  2.0
#define SHORT_TOKENS 4

/* Everything one analysis holds; freed by work_free. */
struct work {
        const struct cb_nlp_rules *r;
        struct nlp_doc doc;
        struct nlp_hits hits;
        struct nlp_entities ents;
        double *sent_scores, *sent_raw;
        bool *sent_has;
        bool *intents, *tags;
        double sentiment;
        struct nlp_date today;
};

static void work_free(struct work *w)
{
        nlp_doc_free(&w->doc);
        nlp_hits_free(&w->hits);
        nlp_entities_free(&w->ents);
        free(w->sent_scores);
        free(w->sent_raw);
        free(w->sent_has);
        free(w->intents);
        free(w->tags);
}

/* The call's day (started_at or created_at, ISO 8601), else today in UTC. */
static void reference_day(const json_t *call, struct nlp_date *out)
{
        static const char *const keys[] = {"started_at", "created_at"};
        time_t now = time(NULL);
        struct tm tm;

        for (size_t i = 0; call != NULL && i < 2; i++)
                if (nlp_date_parse(json_string_value(json_object_get(call, keys[i])), out))
                        return;
        gmtime_r(&now, &tm);
        *out = (struct nlp_date){tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
}

static int by_offset(const void *a, const void *b)
{
        const struct nlp_entity *x = a, *y = b;
        return x->off < y->off ? -1 : x->off > y->off;
}

/* Dictionary terms found become entities of the dictionary's type. */
static int dictionary_entities(struct work *w)
{
        const struct cb_nlp_rules *r = w->r;

        for (size_t k = 0; k < r->n_dicts; k++) {
                for (size_t t = 0; t < r->dicts[k].terms.n; t++) {
                        size_t id = r->dicts[k].terms.ids[t];
                        if (w->hits.term_count[id] == 0)
                                continue;
                        const struct nlp_token *first = &w->doc.tokens[w->hits.term_first[id]];
                        const struct nlp_token *last = first + r->phrases[id].n_words - 1;
                        json_t *e =
                            json_pack("{s:s, s:s%, s:s}", "type", r->dicts[k].name, "text",
                                      w->doc.clean + first->off, last->off + last->len - first->off,
                                      "value", r->phrases[id].text);
                        if (nlp_entities_push(&w->ents, first->off, e) != 0)
                                return -1;
                }
        }
        return 0;
}

/* The hash of (type, text) with the text's ASCII letters folded. */
static uint64_t entity_key(const json_t *e)
{
        const char *type = json_string_value(json_object_get(e, "type"));
        const char *text = json_string_value(json_object_get(e, "text"));
        uint64_t h = nlp_hash(type, strlen(type));

        for (const char *p = text; *p; p++) {
                char c = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
                h = nlp_hash_more(h, &c, 1);
        }
        return h;
}

/* The entities in text order, each (type, text) once (by hash), at most MAX_ENTITIES. */
static json_t *entity_array(struct work *w)
{
        uint64_t keys[MAX_ENTITIES];
        size_t n = 0;
        json_t *out = json_array();

        if (out == NULL)
                return NULL;
        if (w->ents.n > 1)
                qsort(w->ents.v, w->ents.n, sizeof(*w->ents.v), by_offset);
        for (size_t i = 0; i < w->ents.n && n < MAX_ENTITIES; i++) {
                uint64_t key = entity_key(w->ents.v[i].obj);
                size_t k = 0;
                while (k < n && keys[k] != key)
                        k++;
                if (k < n)
                        continue;
                keys[n++] = key;
                if (json_array_append(out, w->ents.v[i].obj) != 0) {
                        json_decref(out);
                        return NULL;
                }
        }
        return out;
}

/* Dictionary terms found, most frequent first (then first seen). */
static json_t *keyword_array(const struct work *w)
{
        const struct cb_nlp_rules *r = w->r;
        size_t *ids = malloc((r->n_phrases + 1) * sizeof(*ids));
        size_t n = 0;
        json_t *out = json_array();

        if (ids == NULL || out == NULL)
                goto fail;
        for (size_t k = 0; k < r->n_dicts; k++)
                for (size_t t = 0; t < r->dicts[k].terms.n; t++) {
                        size_t id = r->dicts[k].terms.ids[t], j = 0;
                        if (w->hits.term_count[id] == 0)
                                continue;
                        while (j < n && ids[j] != id)
                                j++;
                        if (j == n)
                                ids[n++] = id;
                }
        for (size_t i = 1; i < n; i++) { /* insertion sort: few keywords */
                size_t id = ids[i], j = i;
                const uint32_t *c = w->hits.term_count, *f = w->hits.term_first;
                while (j > 0 && (c[ids[j - 1]] < c[id] ||
                                 (c[ids[j - 1]] == c[id] && f[ids[j - 1]] > f[id]))) {
                        ids[j] = ids[j - 1];
                        j--;
                }
                ids[j] = id;
        }
        for (size_t i = 0; i < n; i++)
                if (json_array_append_new(out, json_string(r->phrases[ids[i]].text)) != 0)
                        goto fail;
        free(ids);
        return out;
fail:
        free(ids);
        json_decref(out);
        return NULL;
}

/* The 1-3 sentences with the most hits, entities and sentiment, in their order. */
static json_t *summary(const struct work *w)
{
        size_t best[SUMMARY_MAX];
        double score[SUMMARY_MAX];
        size_t nb = 0;
        struct cb_buf b = {.max = (size_t)2 * NLP_MAX_TEXT};
        json_t *out;

        for (size_t s = 0; s < w->doc.n_sentences; s++) {
                const struct nlp_sentence *sen = &w->doc.sentences[s];
                double v = w->hits.sentence_weight[s] + SENTIMENT_W * fabs(w->sent_scores[s]);
                if (sen->tok_end - sen->tok_begin < SHORT_TOKENS)
                        v *= 0.5;
                if (v <= 0 && !(s == 0 && nb == 0))
                        continue;
                size_t j = nb < SUMMARY_MAX ? nb++ : SUMMARY_MAX;
                if (j == SUMMARY_MAX && v <= score[SUMMARY_MAX - 1])
                        continue;
                if (j == SUMMARY_MAX)
                        j = SUMMARY_MAX - 1;
                while (j > 0 && score[j - 1] < v) {
                        best[j] = best[j - 1], score[j] = score[j - 1];
                        j--;
                }
                best[j] = s, score[j] = v;
        }
        /* A zero-score first sentence only stands in when nothing scored. */
        if (nb > 1 && score[nb - 1] <= 0)
                nb--;
        for (size_t i = 1; i < nb; i++) /* back into text order */
                for (size_t j = i; j > 0 && best[j - 1] > best[j]; j--) {
                        size_t t = best[j];
                        best[j] = best[j - 1], best[j - 1] = t;
                }
        for (size_t i = 0; i < nb; i++) {
                const struct nlp_sentence *sen = &w->doc.sentences[best[i]];
                if ((i > 0 && cb_buf_append(&b, " ", 1) != 0) ||
                    cb_buf_append(&b, w->doc.clean + sen->off, sen->len) != 0) {
                        cb_buf_free(&b);
                        return NULL;
                }
        }
        out = json_stringn(b.data ? b.data : "", b.len);
        cb_buf_free(&b);
        return out;
}

/* The sentence of the earliest phrase of `c` that was found, or NULL. */
static json_t *trigger_sentence(const struct work *w, const struct nlp_cond *c)
{
        const struct nlp_list *lists[] = {&c->any, &c->all};
        uint32_t first = UINT32_MAX;

        for (size_t l = 0; l < 2; l++)
                for (size_t i = 0; i < lists[l]->n; i++) {
                        size_t id = lists[l]->ids[i];
                        if (w->hits.count[id] > 0 && w->hits.first_tok[id] < first)
                                first = w->hits.first_tok[id];
                }
        if (first == UINT32_MAX)
                return NULL;
        const struct nlp_sentence *s = &w->doc.sentences[w->doc.tokens[first].sentence];
        return json_stringn(w->doc.clean + s->off, s->len);
}

/* Add each matched intent's valence (churn -3, expansion +2.5) to the sentences where its
 * phrases were found (once per intent and sentence), and rescore the transcript: "we signed
 * with Aircall" holds no sentiment word, yet it is bad news. The new score replaces
 * out.sentiment. -1 when out of memory. */
static int lean(struct work *w, json_t *out)
{
        const struct cb_nlp_rules *r = w->r;
        size_t *last = calloc(w->doc.n_sentences + 1, sizeof(*last)); /* intent + 1 */
        double total = 0;
        size_t counted = 0;
        bool changed = false;

        if (last == NULL)
                return -1;
        for (size_t i = 0; i < r->n_intents; i++) {
                const struct nlp_cond *c = &r->intents[i].when;
                const struct nlp_list *lists[] = {&c->any, &c->all};
                if (!w->intents[i] || r->intents[i].valence == 0)
                        continue;
                for (size_t l = 0; l < 2; l++)
                        for (size_t k = 0; k < lists[l]->n; k++) {
                                size_t id = lists[l]->ids[k];
                                if (w->hits.count[id] == 0)
                                        continue;
                                size_t s = w->doc.tokens[w->hits.first_tok[id]].sentence;
                                if (last[s] == i + 1)
                                        continue;
                                last[s] = i + 1;
                                w->sent_raw[s] += r->intents[i].valence;
                                w->sent_has[s] = changed = true;
                        }
        }
        free(last);
        if (!changed)
                return 0;
        for (size_t s = 0; s < w->doc.n_sentences; s++) {
                double x = w->sent_raw[s];
                w->sent_scores[s] = x / sqrt(x * x + NLP_NORM_ALPHA);
                if (w->sent_has[s])
                        total += w->sent_scores[s], counted++;
        }
        w->sentiment = counted ? total / (double)counted : 0;
        double score = round(w->sentiment * 10000) / 10000;
        return json_object_set_new(
            out, "sentiment",
            json_pack("{s:f, s:s}", "score", score, "label", nlp_sentiment_label(score)));
}

/* Intents, tags and follow-ups into `out`; -1 when out of memory. Intents see the lexicon's
 * sentiment, tags and follow-ups the one after the intents' valence (lean). */
static int apply_rules(struct work *w, const json_t *call, json_t *out)
{
        const struct cb_nlp_rules *r = w->r;
        struct nlp_facts f = {.r = r,
                              .hits = &w->hits,
                              .intents = w->intents,
                              .tags = w->tags,
                              .entities = json_object_get(out, "entities"),
                              .sentiment = w->sentiment,
                              .call = call};
        json_t *intents = json_array(), *tags = json_array(), *fus = json_array();
        long primary = -1;
        unsigned best = 0, score;

        if (json_object_set_new(out, "intents", intents) != 0 ||
            json_object_set_new(out, "tags", tags) != 0 ||
            json_object_set_new(out, "follow_ups", fus) != 0)
                return -1;
        for (size_t i = 0; i < r->n_intents; i++) {
                if (!(w->intents[i] = nlp_cond_eval(&r->intents[i].when, &f, &score)))
                        continue;
                if (primary < 0 || score > best)
                        primary = (long)i, best = score;
                if (json_array_append_new(intents, json_string(r->intents[i].name)) != 0)
                        return -1;
        }
        if (json_object_set_new(out, "intent",
                                primary < 0 ? json_null()
                                            : json_string(r->intents[primary].name)) != 0 ||
            lean(w, out) != 0)
                return -1;
        f.sentiment = w->sentiment;
        for (size_t i = 0; i < r->n_tags; i++)
                if ((w->tags[i] = nlp_cond_eval(&r->tags[i].when, &f, &score)) &&
                    json_array_append_new(tags, json_string(r->tags[i].name)) != 0)
                        return -1;
        for (size_t i = 0; i < r->n_follow_ups; i++) {
                const struct nlp_rule *fu = &r->follow_ups[i];
                if (!nlp_cond_eval(&fu->when, &f, &score))
                        continue;
                json_t *desc =
                    fu->description ? json_string(fu->description) : trigger_sentence(w, &fu->when);
                if (desc == NULL)
                        desc = json_incref(json_object_get(out, "summary"));
                json_t *o = json_pack("{s:s, s:s, s:o, s:s}", "rule", fu->name, "subject",
                                      fu->subject, "description", desc, "due", fu->due);
                if (o != NULL && fu->priority != NULL)
                        json_object_set_new(o, "priority", json_string(fu->priority));
                if (json_array_append_new(fus, o) != 0)
                        return -1;
        }
        return 0;
}

/* Sentences as a JSON array. */
static json_t *sentence_array(const struct nlp_doc *d)
{
        json_t *out = json_array();

        for (size_t s = 0; out != NULL && s < d->n_sentences; s++)
                if (json_array_append_new(out, json_stringn(d->clean + d->sentences[s].off,
                                                            d->sentences[s].len)) != 0) {
                        json_decref(out);
                        return NULL;
                }
        return out;
}

json_t *cb_nlp_analyse(const struct cb_nlp_rules *rules, const char *transcript, const json_t *call)
{
        struct work w = {.r = rules};
        json_t *out = NULL;

        reference_day(call, &w.today);
        if (nlp_doc_build(&w.doc, transcript) != 0 || nlp_match(rules, &w.doc, &w.hits) != 0)
                goto fail;
        w.sent_scores = calloc(w.doc.n_sentences + 1, sizeof(*w.sent_scores));
        w.sent_raw = calloc(w.doc.n_sentences + 1, sizeof(*w.sent_raw));
        w.sent_has = calloc(w.doc.n_sentences + 1, sizeof(bool));
        w.intents = calloc(rules->n_intents + 1, sizeof(bool));
        w.tags = calloc(rules->n_tags + 1, sizeof(bool));
        if (w.sent_scores == NULL || w.sent_raw == NULL || w.sent_has == NULL ||
            w.intents == NULL || w.tags == NULL)
                goto fail;
        w.sentiment = nlp_sentiment(rules->lexicon, &w.doc, w.sent_scores, w.sent_raw, w.sent_has);
        if (dictionary_entities(&w) != 0 ||
            nlp_entities_scan(&w.doc, &w.today, &w.ents, w.hits.sentence_weight) != 0)
                goto fail;
        /* Rounded to 4 places: stable in JSON and in tests. */
        double score = round(w.sentiment * 10000) / 10000;
        out = json_pack("{s:s%, s:I, s:o, s:{s:f, s:s}, s:o, s:o, s:o}", "clean_text", w.doc.clean,
                        w.doc.clean_len, "words", (json_int_t)w.doc.n_tokens, "sentences",
                        sentence_array(&w.doc), "sentiment", "score", score, "label",
                        nlp_sentiment_label(score), "keywords", keyword_array(&w), "entities",
                        entity_array(&w), "summary", summary(&w));
        if (out == NULL || apply_rules(&w, call, out) != 0)
                goto fail;
        work_free(&w);
        return out;
fail:
        json_decref(out);
        work_free(&w);
        return NULL;
}
