/* Phrase matching: one pass over the tokens; at each word the chain of phrases starting with
 * it (looked up by hash) is compared word by word within the sentence. O(words x phrases
 * sharing a first word). A phrase with a negation within the 3 words before it ("we don't
 * need a demo", "never had an outage") does not count for the rules, unless the phrase starts
 * with a negation itself ("not working"); dictionary terms count either way (a competitor
 * named is a competitor mentioned). */
#include <stdlib.h>
#include <string.h>

#include "nlp_int.h"

void nlp_hits_free(struct nlp_hits *h)
{
        free(h->count);
        free(h->first_tok);
        free(h->term_count);
        free(h->term_first);
        free(h->sentence_weight);
        memset(h, 0, sizeof(*h));
}

static bool phrase_at(const struct nlp_phrase *p, const struct nlp_doc *d, size_t i, size_t end)
{
        if (i + p->n_words > end)
                return false;
        for (size_t k = 0; k < p->n_words; k++) {
                const struct nlp_token *t = &d->tokens[i + k];
                if (t->hash != p->hashes[k] || strlen(p->words[k]) != t->len ||
                    memcmp(nlp_tok_lower(d, i + k), p->words[k], t->len) != 0)
                        return false;
        }
        return true;
}

int nlp_match(const struct cb_nlp_rules *r, const struct nlp_doc *d, struct nlp_hits *h)
{
        h->count = calloc(r->n_phrases + 1, sizeof(*h->count));
        h->first_tok = malloc((r->n_phrases + 1) * sizeof(*h->first_tok));
        h->term_count = calloc(r->n_phrases + 1, sizeof(*h->term_count));
        h->term_first = malloc((r->n_phrases + 1) * sizeof(*h->term_first));
        h->sentence_weight = calloc(d->n_sentences + 1, sizeof(*h->sentence_weight));
        if (h->count == NULL || h->first_tok == NULL || h->term_count == NULL ||
            h->term_first == NULL || h->sentence_weight == NULL) {
                nlp_hits_free(h);
                return -1;
        }
        for (size_t s = 0; s < d->n_sentences; s++) {
                size_t end = d->sentences[s].tok_end, covered = 0;
                for (size_t i = d->sentences[s].tok_begin; i < end; i++) {
                        const struct nlp_phrase *best = NULL;
                        int negated = -1; /* computed when a phrase matches here */
                        uint64_t hash = d->tokens[i].hash;
                        size_t slot = (size_t)hash & r->heads_mask;
                        while (r->heads[slot] != 0 &&
                               r->phrases[r->heads[slot] - 1].hashes[0] != hash)
                                slot = (slot + 1) & r->heads_mask;
                        for (size_t id = r->heads[slot]; id != 0;
                             id = r->phrases[id - 1].next + 1) {
                                const struct nlp_phrase *p = &r->phrases[id - 1];
                                if (!phrase_at(p, d, i, end))
                                        continue;
                                if (p->term && (best == NULL || p->n_words > best->n_words))
                                        best = p;
                                if (negated < 0)
                                        negated = !nlp_is_negation(r->lexicon, d, i) &&
                                                  nlp_negated_before(r->lexicon, d,
                                                                     d->sentences[s].tok_begin, i);
                                if (negated)
                                        continue;
                                if (h->count[id - 1]++ == 0)
                                        h->first_tok[id - 1] = (uint32_t)i;
                                h->sentence_weight[s] += p->weight;
                        }
                        if (best != NULL && i >= covered) {
                                size_t id = (size_t)(best - r->phrases);
                                if (h->term_count[id]++ == 0)
                                        h->term_first[id] = (uint32_t)i;
                                covered = i + best->n_words;
                        }
                }
        }
        return 0;
}
