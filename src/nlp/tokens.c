/* The token stream over the clean text: words (ASCII letters and digits, any non-ASCII
 * character except general punctuation and currency signs, an apostrophe inside a word, a
 * period or comma between digits), each with its sentence and whether a clause break
 * (, ; : or a dash) comes before it. Matching compares lower-case forms by hash first. */
#include <stdlib.h>
#include <string.h>

#include "nlp_int.h"

uint64_t nlp_hash_more(uint64_t h, const char *s, size_t len)
{
        for (size_t i = 0; i < len; i++) {
                h ^= (unsigned char)s[i];
                h *= 0x100000001b3ULL;
        }
        return h;
}

uint64_t nlp_hash(const char *s, size_t len)
{
        uint64_t h = nlp_hash_more(0xcbf29ce484222325ULL, s, len);
        return h ? h : 1; /* 0 marks an empty slot */
}

bool nlp_tok_is(const struct nlp_doc *d, size_t i, const char *word)
{
        size_t n = strlen(word);
        return d->tokens[i].len == n && memcmp(nlp_tok_lower(d, i), word, n) == 0;
}

static bool ascii_alnum(unsigned char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool ascii_digit(unsigned char c)
{
        return c >= '0' && c <= '9';
}

/* Bytes of the word character at s[i], 0 when it is not one. Non-ASCII counts as a letter
 * except U+2000..U+206F (dashes, quotes, ellipsis), U+20A0..U+20CF (currency) and U+00A3. */
static size_t word_char(const unsigned char *s, size_t i, size_t n)
{
        unsigned char c = s[i];
        size_t len;

        if (c < 0x80)
                return ascii_alnum(c) ? 1 : 0;
        if (c == 0xe2 && i + 1 < n && (s[i + 1] == 0x80 || s[i + 1] == 0x81 || s[i + 1] == 0x82))
                return 0;
        if (c == 0xc2 && i + 1 < n && s[i + 1] < 0xc0)
                return s[i + 1] >= 0xaa ? 2 : 0; /* Latin-1 punctuation and signs */
        len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        return i + len <= n ? len : 0;
}

/* The end of the word starting at `i`. */
static size_t word_end(const unsigned char *s, size_t i, size_t n)
{
        size_t w;

        while (i < n) {
                if ((w = word_char(s, i, n)) != 0) {
                        i += w;
                } else if (i > 0 && i + 1 < n &&
                           ((s[i] == '\'' && ascii_alnum(s[i + 1]) && ascii_alnum(s[i - 1])) ||
                            ((s[i] == '.' || s[i] == ',') && ascii_digit(s[i - 1]) &&
                             ascii_digit(s[i + 1])))) {
                        /* an apostrophe inside a word, a separator inside a number */
                        i++;
                } else {
                        break;
                }
        }
        return i;
}

static bool clause_char(unsigned char c)
{
        return c == ',' || c == ';' || c == ':' || c == '-' || c == '(' || c == ')';
}

/* Tokens of one sentence appended to d->tokens (capacity checked by the caller). */
static void tokenize_sentence(struct nlp_doc *d, size_t sidx)
{
        const unsigned char *s = (const unsigned char *)d->clean;
        struct nlp_sentence *sen = &d->sentences[sidx];
        size_t i = sen->off, end = sen->off + sen->len;
        bool brk = false;

        sen->tok_begin = d->n_tokens;
        while (i < end) {
                size_t w = word_char(s, i, end);
                if (w == 0) {
                        if (clause_char(s[i]) || s[i] == 0xe2)
                                brk = true;
                        /* A whole character: a continuation byte is no word start. */
                        i += s[i] >= 0xf0 ? 4 : s[i] >= 0xe0 ? 3 : s[i] >= 0xc0 ? 2 : 1;
                        continue;
                }
                size_t e = word_end(s, i, end);
                struct nlp_token *t = &d->tokens[d->n_tokens++];
                t->off = i;
                t->len = (uint32_t)(e - i);
                t->sentence = (uint32_t)sidx;
                t->hash = nlp_hash(d->lower + i, e - i);
                t->clause_break = brk && t != &d->tokens[sen->tok_begin];
                brk = false;
                i = e;
        }
        sen->tok_end = d->n_tokens;
}

int nlp_doc_build(struct nlp_doc *d, const char *text)
{
        size_t words = 1;

        memset(d, 0, sizeof(*d));
        d->clean = nlp_clean(text, &d->clean_len, &d->sentences, &d->n_sentences);
        if (d->clean == NULL)
                goto fail;
        d->lower = malloc(d->clean_len + 1);
        if (d->lower == NULL)
                goto fail;
        for (size_t i = 0; i <= d->clean_len; i++) {
                char c = d->clean[i];
                d->lower[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
                if (c == ' ')
                        words++;
        }
        /* A word needs a word character and something after it, or the end: this bounds it. */
        d->tokens = malloc((d->clean_len / 2 + words + 1) * sizeof(*d->tokens));
        if (d->tokens == NULL)
                goto fail;
        /* Already 0 (memset above); said again because tokens[0..n_tokens) are exactly the ones
         * written below, which the analyzer cannot see through nlp_clean's out-parameters. */
        d->n_tokens = 0;
        for (size_t s = 0; s < d->n_sentences; s++)
                tokenize_sentence(d, s);
        return 0;
fail:
        nlp_doc_free(d);
        return -1;
}

void nlp_doc_free(struct nlp_doc *d)
{
        free(d->clean);
        free(d->lower);
        free(d->sentences);
        free(d->tokens);
        memset(d, 0, sizeof(*d));
}

size_t nlp_phrase_words(const char *phrase, char words[][64], size_t max)
{
        struct nlp_doc d;
        size_t n = 0;

        if (nlp_doc_build(&d, phrase) != 0)
                return 0;
        if (d.n_tokens == 0 || d.n_tokens > max)
                goto out;
        for (size_t i = 0; i < d.n_tokens; i++) {
                if (d.tokens[i].len >= 64)
                        goto out;
                memcpy(words[i], nlp_tok_lower(&d, i), d.tokens[i].len);
                words[i][d.tokens[i].len] = '\0';
        }
        n = d.n_tokens;
out:
        nlp_doc_free(&d);
        return n;
}
