/* Sentiment from the lexicon, sentence by sentence, in the spirit of VADER (Hutto & Gilbert
 * 2014) but with our own data and rules:
 * - a valence word's value (-4..4) is scaled by each booster ("very" +0.3, "slightly" -0.3)
 *   within the 2 words before it, and flipped and damped (x -0.6) by an odd number of
 *   negations ("not", "never", "isn't") within the 3 words before it; neither looks past a
 *   clause break (, ; :) or a contrast word;
 * - in a sentence with a contrast word ("but", "however"), words before the last one count
 *   half and words after it 1.5 times;
 * - in a question, mild praise (valence 1..3) in its last clause does not count: "how does
 *   it work?", "what's the best way to...?" ask, they do not praise;
 * - each "!" (up to 3) adds 0.3 in the direction of the sentence's sum;
 * - the sum x becomes x / sqrt(x^2 + 15), in [-1, 1].
 * The document's score is the mean over the sentences that hold a valence word, so small
 * talk does not dilute it. "not unhappy" is mildly positive (litotes: -2 x -0.6 = +1.2). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nlp_int.h"

#define NEGATION_FACTOR (-0.6)
#define NEGATION_WINDOW 3
#define BOOSTER_WINDOW  2
#define BANG_BONUS      0.3

/* What the lexicon says about the token at `i`, for the look-back. */
struct mark {
        uint8_t kind;
        float value;
};

static bool ends_nt(const struct nlp_doc *d, size_t i)
{
        const char *w = nlp_tok_lower(d, i);
        size_t n = d->tokens[i].len;

        return n > 3 && memcmp(w + n - 3, "n't", 3) == 0;
}

/* Mark every token of the sentence: a multi-word term marks its last word (so distances
 * count from where it ends) and LEX_NONE on the others. */
static void mark_sentence(const struct nlp_lexicon *lex, const struct nlp_doc *d,
                          const struct nlp_sentence *s, struct mark *m)
{
        for (size_t i = s->tok_begin; i < s->tok_end;) {
                size_t words = 1;
                const struct nlp_lex_entry *e = nlp_lexicon_match(lex, d, i, s->tok_end, &words);
                for (size_t k = 0; k < words; k++)
                        m[i + k - s->tok_begin] = (struct mark){LEX_NONE, 0};
                if (e != NULL)
                        m[i + words - 1 - s->tok_begin] = (struct mark){e->kind, e->value};
                else if (ends_nt(d, i))
                        m[i - s->tok_begin] = (struct mark){LEX_NEGATION, 0};
                i += words;
        }
}

/* "like" is a valence word only as a verb after a subject or an adverb ("I like", "we
 * really like"), not in "something like $5,000" nor in "I'd like". */
static bool like_as_verb(const struct nlp_doc *d, const struct nlp_sentence *s, size_t i)
{
        /* Not after "would" or "I'd": "I'd like a demo" asks, it does not praise. */
        static const char *const before[] = {
            "i",    "we",     "you",   "they", "really",   "do",  "definitely", "actually",
            "also", "people", "users", "team", "everyone", "not", "never",      NULL};
        if (i == s->tok_begin)
                return false;
        if (ends_nt(d, i - 1)) /* "don't like", "didn't like" */
                return true;
        for (size_t k = 0; before[k] != NULL; k++)
                if (nlp_tok_is(d, i - 1, before[k]))
                        return true;
        return false;
}

/* Whether `s` ends with '?'. */
static bool is_question(const struct nlp_doc *d, const struct nlp_sentence *s)
{
        size_t n = s->len;

        while (n > 0 && (d->clean[s->off + n - 1] == ' ' || d->clean[s->off + n - 1] == '.'))
                n--;
        return n > 0 && d->clean[s->off + n - 1] == '?';
}

/* Mild praise in the last clause of a question asks rather than praises. */
static bool asks(const struct nlp_doc *d, const struct nlp_sentence *s, size_t i, double v,
                 bool question)
{
        if (!question || v <= 0 || v > 3)
                return false;
        for (size_t j = i + 1; j < s->tok_end; j++)
                if (d->tokens[j].clause_break)
                        return false;
        return true;
}

bool nlp_is_negation(const struct nlp_lexicon *lex, const struct nlp_doc *d, size_t i)
{
        size_t words = 1;
        const struct nlp_lex_entry *e = nlp_lexicon_match(lex, d, i, i + 1, &words);

        return (e != NULL && e->kind == LEX_NEGATION) || ends_nt(d, i);
}

bool nlp_negated_before(const struct nlp_lexicon *lex, const struct nlp_doc *d, size_t begin,
                        size_t i)
{
        for (size_t dist = 1; dist <= NEGATION_WINDOW && i >= begin + dist; dist++) {
                size_t j = i - dist, words = 1;
                if (d->tokens[j + 1].clause_break)
                        return false;
                const struct nlp_lex_entry *e = nlp_lexicon_match(lex, d, j, j + 1, &words);
                if (e != NULL && e->kind == LEX_CONTRAST)
                        return false;
                if ((e != NULL && e->kind == LEX_NEGATION) || ends_nt(d, j))
                        return true;
        }
        return false;
}

/* The value of the valence word at `i` after the look-back. */
static double shaped(const struct nlp_doc *d, const struct nlp_sentence *s, const struct mark *m,
                     size_t i, double v)
{
        int negations = 0;

        for (size_t dist = 1; dist <= NEGATION_WINDOW && i >= s->tok_begin + dist; dist++) {
                size_t j = i - dist;
                const struct mark *mj = &m[j - s->tok_begin];
                if (d->tokens[j + 1].clause_break || mj->kind == LEX_CONTRAST)
                        break;
                if (mj->kind == LEX_NEGATION)
                        negations++;
                else if (mj->kind == LEX_BOOSTER && dist <= BOOSTER_WINDOW)
                        v *= 1.0 + mj->value;
        }
        if (negations % 2 == 1)
                v *= NEGATION_FACTOR;
        return v;
}

/* The sum of one sentence before normalisation; *has set when it holds a valence word
 * (one of value 0, "if that works", only neutralises the words it spans). */
static double sentence_sum(const struct nlp_lexicon *lex, const struct nlp_doc *d,
                           const struct nlp_sentence *s, struct mark *m, bool *has)
{
        size_t contrast = SIZE_MAX;
        bool question = is_question(d, s);
        double sum = 0;
        int bangs = 0;

        mark_sentence(lex, d, s, m);
        for (size_t i = s->tok_begin; i < s->tok_end; i++)
                if (m[i - s->tok_begin].kind == LEX_CONTRAST && i > s->tok_begin)
                        contrast = i;
        *has = false;
        for (size_t i = s->tok_begin; i < s->tok_end; i++) {
                const struct mark *mi = &m[i - s->tok_begin];
                if (mi->kind != LEX_VALENCE)
                        continue;
                if ((nlp_tok_is(d, i, "like") && !like_as_verb(d, s, i)) || mi->value == 0 ||
                    asks(d, s, i, mi->value, question))
                        continue;
                double v = shaped(d, s, m, i, mi->value);
                if (contrast != SIZE_MAX)
                        v *= i < contrast ? 0.5 : 1.5;
                sum += v;
                *has = true;
        }
        for (size_t k = 0; k < s->len && bangs < 3; k++)
                bangs += d->clean[s->off + k] == '!';
        if (sum > 0)
                sum += BANG_BONUS * bangs;
        else if (sum < 0)
                sum -= BANG_BONUS * bangs;
        return sum;
}

double nlp_sentiment(const struct nlp_lexicon *lex, const struct nlp_doc *d, double *out,
                     double *raw, bool *has)
{
        struct mark stack[256];
        struct mark *m = stack;
        size_t longest = 0;
        double total = 0;
        size_t counted = 0;

        for (size_t s = 0; s < d->n_sentences; s++) {
                size_t n = d->sentences[s].tok_end - d->sentences[s].tok_begin;
                longest = n > longest ? n : longest;
        }
        if (longest > sizeof(stack) / sizeof(stack[0])) {
                m = malloc(longest * sizeof(*m));
                if (m == NULL)
                        return 0; /* out of memory: neutral rather than nothing */
        }
        for (size_t s = 0; s < d->n_sentences; s++) {
                raw[s] = sentence_sum(lex, d, &d->sentences[s], m, &has[s]);
                out[s] = raw[s] / sqrt(raw[s] * raw[s] + NLP_NORM_ALPHA);
                if (has[s]) {
                        total += out[s];
                        counted++;
                }
        }
        if (m != stack)
                free(m);
        return counted ? total / (double)counted : 0;
}

const char *nlp_sentiment_label(double score)
{
        return score >= 0.05 ? "positive" : score <= -0.05 ? "negative" : "neutral";
}
