/* Transcript cleanup: valid UTF-8, one space between words, fillers (um, uh, "you know,",
 * "like," as filler) and stuttered repeats ("the the") removed, "i" -> "I", a capital at each
 * sentence start, and sentences split on . ? ! (and on a conjunction after ~30 words without
 * punctuation). Works on whitespace-separated chunks, so a multibyte character is never
 * split. */
#include <stdlib.h>
#include <string.h>

#include "nlp_int.h"

#define LONG_RUN 30 /* words before a conjunction ends an unpunctuated sentence */
#define HARD_RUN 60 /* words after which a sentence ends anyway */

/* A whitespace-separated chunk: `core` then trailing punctuation `trail` (. , ? ! ; :). */
struct chunk {
        size_t off, core_len;
        const char *trail;
        size_t trail_len;
        bool drop, end;
};

static bool is_space(unsigned char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_trail(char c)
{
        return c == '.' || c == ',' || c == '?' || c == '!' || c == ';' || c == ':';
}

/* The length of the valid UTF-8 sequence at `s` (n bytes left), 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
        size_t len;
        unsigned cp;

        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                len = 2, cp = s[0] & 0x1f;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                len = 3, cp = s[0] & 0x0f;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                len = 4, cp = s[0] & 0x07;
        else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
                return 0;
        return len;
}

/* Valid UTF-8 with invalid bytes as U+FFFD, curly apostrophes as ', NUL and no-break spaces
 * as spaces, at most NLP_MAX_TEXT bytes. A new string (caller frees), NULL when out of
 * memory. */
static char *sanitize(const char *text, size_t *out_len)
{
        const unsigned char *s = (const unsigned char *)text;
        size_t n = strnlen(text, NLP_MAX_TEXT);
        char *out = malloc(3 * n + 1);
        size_t o = 0;

        if (out == NULL)
                return NULL;
        for (size_t i = 0; i < n;) {
                size_t len = utf8_len(s + i, n - i);
                if (len == 0) {
                        memcpy(out + o, "\xef\xbf\xbd", 3), o += 3, i++;
                } else if (len == 3 && s[i] == 0xe2 && s[i + 1] == 0x80 &&
                           (s[i + 2] == 0x98 || s[i + 2] == 0x99)) {
                        out[o++] = '\'', i += 3;
                } else if (len == 2 && s[i] == 0xc2 && s[i + 1] == 0xa0) {
                        out[o++] = ' ', i += 2;
                } else {
                        memcpy(out + o, s + i, len), o += len, i += len;
                }
        }
        out[o] = '\0';
        *out_len = o;
        return out;
}

/* `s` (len bytes) equals lower-case `word`, ignoring ASCII case. */
static bool word_eq(const char *s, size_t len, const char *word)
{
        size_t n = strlen(word);

        if (len != n)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (c >= 'A' && c <= 'Z')
                        c = (char)(c - 'A' + 'a');
                if (c != word[i])
                        return false;
        }
        return true;
}

static bool word_in(const char *s, size_t len, const char *const *list)
{
        for (size_t i = 0; list[i] != NULL; i++)
                if (word_eq(s, len, list[i]))
                        return true;
        return false;
}

static const char *const fillers[] = {"um",  "umm", "uh", "uhh", "uhm", "er",
                                      "erm", "hmm", "hm", "mm",  "ehm", NULL};
static const char *const conjunctions[] = {"and", "but", "so", "because", "then", "or", NULL};
/* Abbreviations whose period does not end a sentence before a lower-case word or a digit. */
static const char *const abbrevs[] = {"e.g", "i.e", "etc", "vs", "approx", "inc", "ltd",
                                      "co",  "u.s", "no",  "jr", "sr",     NULL};
/* Titles: their period never ends a sentence. */
static const char *const titles[] = {"mr", "mrs", "ms", "dr", "st", "prof", NULL};
/* Words said twice on purpose. */
static const char *const doubles[] = {"that", "had", "bye", "very", "really", "so", NULL};

static bool has_end(const char *t, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (t[i] == '.' || t[i] == '?' || t[i] == '!')
                        return true;
        return false;
}

static bool only_commas(const struct chunk *c)
{
        for (size_t i = 0; i < c->trail_len; i++)
                if (c->trail[i] != ',')
                        return false;
        return true;
}

/* Split `s` into chunks; *n of them in a new array (caller frees), NULL when out of memory. */
static struct chunk *split_chunks(const char *s, size_t len, size_t *n)
{
        struct chunk *c = malloc(sizeof(*c)); /* non-NULL for an empty text too */
        size_t count = 0, cap = 1;

        if (c == NULL)
                return NULL;
        for (size_t i = 0; i < len;) {
                size_t start, end, core_end;
                while (i < len && is_space((unsigned char)s[i]))
                        i++;
                if (i >= len)
                        break;
                start = i;
                while (i < len && !is_space((unsigned char)s[i]))
                        i++;
                end = i;
                core_end = end;
                while (core_end > start && is_trail(s[core_end - 1]))
                        core_end--;
                if (count == cap) {
                        size_t ncap = cap * 2;
                        struct chunk *nc = realloc(c, ncap * sizeof(*c));
                        if (nc == NULL) {
                                free(c);
                                return NULL;
                        }
                        c = nc, cap = ncap;
                }
                c[count++] = (struct chunk){.off = start,
                                            .core_len = core_end - start,
                                            .trail = s + core_end,
                                            .trail_len = end - core_end};
        }
        *n = count;
        return c;
}

/* The chunk after `i` that is kept, or n. */
static size_t next_kept(const struct chunk *c, size_t n, size_t i)
{
        for (i++; i < n && c[i].drop; i++)
                ;
        return i;
}

/* Fillers: "um", "uh"...; "you know" and "I mean" followed by a comma; "like" followed by a
 * comma ("it's, like, huge"; "I like it" stays). A dropped filler's . ? ! moves to the word
 * before it; its comma goes with it. */
static void mark_fillers(const char *s, struct chunk *c, size_t n)
{
        size_t prev = SIZE_MAX;

        for (size_t i = 0; i < n; i++) {
                const char *w = s + c[i].off;
                size_t wl = c[i].core_len;
                bool comma = c[i].trail_len > 0 && c[i].trail[0] == ',';
                size_t two = 0; /* chunks in the filler */

                /* punctuation on its own (it joins the word before), a filler, "like," */
                if ((wl == 0 && c[i].trail_len > 0) || word_in(w, wl, fillers) ||
                    (word_eq(w, wl, "like") && comma)) {
                        two = 1;
                } else if (i + 1 < n && c[i].trail_len == 0 && c[i + 1].trail_len > 0 &&
                           c[i + 1].trail[0] == ',' &&
                           ((word_eq(w, wl, "you") &&
                             word_eq(s + c[i + 1].off, c[i + 1].core_len, "know")) ||
                            (word_eq(w, wl, "i") &&
                             word_eq(s + c[i + 1].off, c[i + 1].core_len, "mean")))) {
                        two = 2;
                }
                if (two == 0) {
                        prev = i;
                        continue;
                }
                size_t last = i + two - 1;
                if (has_end(c[last].trail, c[last].trail_len) && prev != SIZE_MAX) {
                        c[prev].trail = c[last].trail;
                        c[prev].trail_len = c[last].trail_len;
                }
                for (size_t k = i; k <= last; k++)
                        c[k].drop = true;
                i = last;
        }
}

/* Stutters: a word equal to the kept word before it (no . ? ! between) is dropped. */
static void mark_repeats(const char *s, struct chunk *c, size_t n)
{
        size_t prev = SIZE_MAX;

        for (size_t i = 0; i < n; i++) {
                if (c[i].drop)
                        continue;
                if (prev != SIZE_MAX && only_commas(&c[prev]) && c[i].core_len > 0 &&
                    c[i].core_len == c[prev].core_len &&
                    !(s[c[i].off] >= '0' && s[c[i].off] <= '9') &&
                    !word_in(s + c[i].off, c[i].core_len, doubles)) {
                        size_t k = 0;
                        while (k < c[i].core_len &&
                               ((s[c[i].off + k] | 0x20) == (s[c[prev].off + k] | 0x20)))
                                k++;
                        if (k == c[i].core_len) {
                                c[i].drop = true;
                                c[prev].trail = c[i].trail;
                                c[prev].trail_len = c[i].trail_len;
                                continue;
                        }
                }
                prev = i;
        }
}

/* Sentence ends: . ? ! (not after a title, nor after an abbreviation before a lower-case
 * word), a conjunction after LONG_RUN words, any word after HARD_RUN. */
static void mark_ends(const char *s, struct chunk *c, size_t n)
{
        static const char dot[] = ".";
        size_t words = 0, prev = SIZE_MAX;

        for (size_t i = 0; i < n; i++) {
                if (c[i].drop)
                        continue;
                const char *w = s + c[i].off;
                if (prev != SIZE_MAX && !c[prev].end &&
                    (words >= HARD_RUN ||
                     (words >= LONG_RUN && word_in(w, c[i].core_len, conjunctions)))) {
                        c[prev].end = true;
                        if (c[prev].trail_len == 0 || only_commas(&c[prev]))
                                c[prev].trail = dot, c[prev].trail_len = 1;
                        words = 0;
                }
                words++;
                prev = i;
                if (!has_end(c[i].trail, c[i].trail_len))
                        continue;
                size_t nx = next_kept(c, n, i);
                char first = nx < n ? s[c[nx].off] : 'A';
                bool lower_next = (first >= 'a' && first <= 'z') || (first >= '0' && first <= '9');
                if (c[i].trail[0] == '.' && (word_in(w, c[i].core_len, titles) ||
                                             (lower_next && word_in(w, c[i].core_len, abbrevs))))
                        continue;
                c[i].end = true;
                words = 0;
        }
        if (prev != SIZE_MAX && !c[prev].end) {
                c[prev].end = true;
                if (c[prev].trail_len == 0 || only_commas(&c[prev]))
                        c[prev].trail = dot, c[prev].trail_len = 1;
        }
}

static bool is_pronoun_i(const char *w, size_t len)
{
        return len >= 1 && w[0] == 'i' && (len == 1 || w[1] == '\'') &&
               (len == 1 || word_eq(w, len, "i'm") || word_eq(w, len, "i've") ||
                word_eq(w, len, "i'll") || word_eq(w, len, "i'd"));
}

/* Write the kept chunks into `out` (large enough), recording sentences. */
static size_t emit(const char *s, const struct chunk *c, size_t n, char *out,
                   struct nlp_sentence *sent, size_t *n_sent)
{
        size_t o = 0, ns = 0;
        bool start = true;

        for (size_t i = 0; i < n; i++) {
                if (c[i].drop)
                        continue;
                if (start) {
                        if (o > 0)
                                out[o++] = ' ';
                        sent[ns] = (struct nlp_sentence){.off = o};
                } else {
                        out[o++] = ' ';
                }
                size_t w0 = o;
                memcpy(out + o, s + c[i].off, c[i].core_len);
                o += c[i].core_len;
                if (is_pronoun_i(out + w0, c[i].core_len))
                        out[w0] = 'I';
                if (start) {
                        size_t k = w0;
                        while (k < o && (out[k] == '"' || out[k] == '\'' || out[k] == '('))
                                k++;
                        if (k < o && out[k] >= 'a' && out[k] <= 'z')
                                out[k] = (char)(out[k] - 'a' + 'A');
                }
                memcpy(out + o, c[i].trail, c[i].trail_len);
                o += c[i].trail_len;
                start = c[i].end;
                if (start) {
                        sent[ns].len = o - sent[ns].off;
                        ns++;
                }
        }
        out[o] = '\0';
        *n_sent = ns;
        return o;
}

char *nlp_clean(const char *text, size_t *len, struct nlp_sentence **sentences, size_t *n)
{
        size_t slen = 0, nc = 0;
        char *s = sanitize(text != NULL ? text : "", &slen);
        struct chunk *c = NULL;
        char *out = NULL;
        struct nlp_sentence *sent = NULL;

        *sentences = NULL;
        *n = 0;
        if (s == NULL || (c = split_chunks(s, slen, &nc)) == NULL)
                goto fail;
        mark_fillers(s, c, nc);
        mark_repeats(s, c, nc);
        mark_ends(s, c, nc);
        /* Each chunk grows by at most a space and a period. */
        out = malloc(slen + 2 * nc + 1);
        sent = malloc((nc + 1) * sizeof(*sent));
        if (out == NULL || sent == NULL)
                goto fail;
        *len = emit(s, c, nc, out, sent, n);
        *sentences = sent;
        free(c);
        free(s);
        return out;
fail:
        free(sent);
        free(out);
        free(c);
        free(s);
        return NULL;
}
