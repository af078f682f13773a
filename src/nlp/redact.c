/* PII redaction (include/callbridge/redact.h). Two passes over the text: e-mail addresses
 * first (written or spoken; their words may hold digits), then runs of digits (read by
 * redact_spoken.c), written ("4111 1111-1111 1111", "(415) 555-0142") or spoken ("four one
 * one one", "oh" for zero, "double five"), each run searched for the longest card, SSN or phone
 * number at each of its tokens. Words like "fifty" or "thirty" are not digits, so amounts, times
 * and counts said in words never form a run; a run right after a currency sign is an amount and
 * left alone. */
#include <ctype.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "callbridge/phone.h"
#include "callbridge/redact.h"
#include "callbridge/util.h"
#include "redact_int.h"

static const char *const kind_names[CB_REDACT_NKINDS] = {"cards", "ssn", "email", "phone"};
/* The tokens by kind, then the unfinished number of a partial (CB_REDACT_PARTIAL). */
#define K_UNFINISHED CB_REDACT_NKINDS
static const char *const tokens[CB_REDACT_NKINDS + 1] = {"[card]", "[ssn]", "[email]", "[phone]",
                                                         "[number]"};

const char *cb_redact_kind_name(int kind)
{
        return kind >= 0 && kind < CB_REDACT_NKINDS ? kind_names[kind] : NULL;
}

int cb_redact_parse(const char *list, unsigned *kinds, char *err, size_t err_size)
{
        const char *p = list ? list : "";

        *kinds = 0;
        while (*p != '\0') {
                size_t n;
                int k;

                while (*p == ' ' || *p == '\t' || *p == ',')
                        p++;
                for (n = 0; p[n] != '\0' && p[n] != ',' && p[n] != ' ' && p[n] != '\t'; n++)
                        ;
                if (n == 0)
                        break;
                for (k = 0; k < CB_REDACT_NKINDS; k++)
                        if (strlen(kind_names[k]) == n && strncasecmp(p, kind_names[k], n) == 0)
                                break;
                if (k < CB_REDACT_NKINDS)
                        *kinds |= 1u << k;
                else if (n == 3 && strncasecmp(p, "all", 3) == 0)
                        *kinds = CB_REDACT_ALL;
                else if (!(n == 4 && strncasecmp(p, "none", 4) == 0)) {
                        snprintf(err, err_size,
                                 "unknown kind \"%.*s\" (cards, ssn, email, phone, all, none)",
                                 (int)(n > 40 ? 40 : n), p);
                        return -1;
                }
                p += n;
        }
        return 0;
}

/* ---- spans: what to replace, found on one pass, applied at its end ---- */

struct span {
        size_t start, end;
        int kind;
};

struct spans {
        struct span *v;
        size_t n, cap;
        bool oom;
};

static void span_add(struct spans *s, size_t start, size_t end, int kind)
{
        if (s->n == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 8;
                struct span *v = realloc(s->v, cap * sizeof(*v));
                if (v == NULL) {
                        s->oom = true;
                        return;
                }
                s->v = v;
                s->cap = cap;
        }
        s->v[s->n++] = (struct span){start, end, kind};
}

/* `text` with the spans (in order, not overlapping) replaced; frees the spans. NULL when out
 * of memory. */
static char *apply(const char *text, struct spans *s, unsigned counts[CB_REDACT_NKINDS])
{
        struct cb_buf out = {.max = SIZE_MAX - 1};
        size_t at = 0;
        bool ok = !s->oom;

        for (size_t i = 0; ok && i < s->n; i++) {
                ok = cb_buf_append(&out, text + at, s->v[i].start - at) == 0 &&
                     cb_buf_puts(&out, tokens[s->v[i].kind]) == 0;
                at = s->v[i].end;
                if (counts != NULL && s->v[i].kind < CB_REDACT_NKINDS)
                        counts[s->v[i].kind]++;
        }
        ok = ok && cb_buf_puts(&out, text + at) == 0 && cb_buf_append(&out, "", 1) == 0;
        free(s->v);
        if (!ok) {
                cb_buf_free(&out);
                return NULL;
        }
        return out.data;
}

/* ---- e-mail addresses ---- */

/* Items: words of [A-Za-z0-9_%+-], and the connectors between them: "." or the word "dot",
 * "@" or the word "at". Anything else between two words breaks the chain. */
enum item_type { I_WORD, I_DOT, I_AT, I_BREAK };

struct item {
        enum item_type type;
        size_t start, end;
        bool spoken; /* a connector said as a word */
};

static bool email_char(char c)
{
        return isalnum((unsigned char)c) || c == '_' || c == '%' || c == '+' || c == '-';
}

static bool word_is(const char *text, const struct item *it, const char *w)
{
        size_t n = strlen(w);
        return it->end - it->start == n && strncasecmp(text + it->start, w, n) == 0;
}

static const char *const tlds[] = {
    "com", "net",   "org",    "edu", "gov",   "mil", "int", "io", "co",  "us",  "uk",
    "ca",  "de",    "fr",     "es",  "it",    "nl",  "be",  "ch", "at",  "se",  "no",
    "dk",  "fi",    "ie",     "pl",  "pt",    "au",  "nz",  "jp", "cn",  "in",  "br",
    "mx",  "ar",    "za",     "ru",  "info",  "biz", "me",  "ai", "app", "dev", "tech",
    "us",  "email", "online", "xyz", "cloud", "eu",  NULL};

static bool tld(const char *text, const struct item *it, bool spoken)
{
        size_t n = it->end - it->start;

        if (!spoken) { /* written: any alphabetic label of 2+ letters */
                for (size_t i = it->start; i < it->end; i++)
                        if (!isalpha((unsigned char)text[i]))
                                return false;
                return n >= 2;
        }
        for (size_t i = 0; tlds[i] != NULL; i++)
                if (word_is(text, it, tlds[i]))
                        return true;
        return false;
}

/* Split `text` into items; *n of them (caller frees). NULL when out of memory. */
static struct item *email_items(const char *text, size_t *n)
{
        size_t len = strlen(text), cap = len + 1, k = 0, i = 0;
        struct item *v = malloc(cap * sizeof(*v));

        if (v == NULL)
                return NULL;
        while (i < len) {
                size_t s = i;
                if (email_char(text[i])) {
                        while (i < len && email_char(text[i]))
                                i++;
                        v[k] = (struct item){I_WORD, s, i, true};
                        if (word_is(text, &v[k], "dot"))
                                v[k].type = I_DOT;
                        else if (word_is(text, &v[k], "at"))
                                v[k].type = I_AT;
                        k++;
                        continue;
                }
                while (i < len && !email_char(text[i]))
                        i++;
                /* A lone "." or "@" joins words; whitespace separates them; else a break. */
                if (i - s == 1 && (text[s] == '.' || text[s] == '@') && s > 0 && i < len)
                        v[k++] = (struct item){text[s] == '.' ? I_DOT : I_AT, s, i, false};
                else if (strspn(text + s, " \t\r\n") < i - s)
                        v[k++] = (struct item){I_BREAK, s, i, false};
        }
        *n = k;
        return v;
}

/* The address around the AT item `a`, if any: [*start, *end) in the text. */
static bool email_at(const char *text, const struct item *v, size_t n, size_t a, size_t *start,
                     size_t *end)
{
        size_t first, last = 0, j;
        bool spoken = v[a].spoken, found = false;

        if (a == 0 || v[a - 1].type != I_WORD || a + 1 >= n)
                return false;
        first = a - 1;
        while (first >= 2 && v[first - 1].type == I_DOT && v[first - 2].type == I_WORD &&
               a - first < 8)
                first -= 2;
        for (j = a + 1; j < n && v[j].type == I_WORD; j += 2) {
                if (j > a + 1 && tld(text, &v[j], spoken || v[j - 1].spoken)) {
                        last = j;
                        found = true;
                }
                if (j + 2 >= n || v[j + 1].type != I_DOT)
                        break;
                spoken = spoken || v[j + 1].spoken;
        }
        if (!found)
                return false;
        *start = v[first].start;
        *end = v[last].end;
        return true;
}

static char *redact_emails(const char *text, unsigned counts[CB_REDACT_NKINDS])
{
        struct spans s = {0};
        size_t n = 0, start, end, next = 0;
        struct item *v = email_items(text, &n);

        if (v == NULL)
                return NULL;
        for (size_t a = 0; a < n; a++) {
                if (v[a].type != I_AT || !email_at(text, v, n, a, &start, &end) || start < next)
                        continue;
                span_add(&s, start, end, CB_REDACT_EMAIL);
                next = end;
        }
        free(v);
        return apply(text, &s, counts);
}

/* ---- digit runs (tokens: redact_spoken.c) ---- */

static bool luhn(const char *d, size_t n)
{
        int sum = 0;
        bool zero = true;

        for (size_t i = 0; i < n; i++) {
                int v = d[n - 1 - i] - '0';
                if (i % 2 == 1 && (v *= 2) > 9)
                        v -= 9;
                sum += v;
                zero = zero && d[i] == '0';
        }
        return !zero && sum % 10 == 0;
}

/* A number the SSA could have issued: area not 000, 666 or 9xx; group not 00; serial not
 * 0000. */
static bool ssn_valid(const char *d)
{
        return !(d[0] == '0' && d[1] == '0' && d[2] == '0') &&
               !(d[0] == '6' && d[1] == '6' && d[2] == '6') && d[0] != '9' &&
               !(d[3] == '0' && d[4] == '0') && strncmp(d + 5, "0000", 4) != 0;
}

/* Could the digits be a phone number, before libphonenumber is asked? With "+", 8 to 15
 * digits; else a national number of 10 or 11 digits, in North America (US, CA) a valid NANP
 * one ([1] NXX NXX XXXX, N = 2-9): ordinary counts and references are not. */
static bool phone_shape(const char *d, size_t n, bool plus, const char *region)
{
        if (plus)
                return n >= 8 && n <= 15;
        if (n < 10 || n > 11)
                return false;
        if (strcasecmp(region, "US") != 0 && strcasecmp(region, "CA") != 0)
                return true;
        if (n == 11) {
                if (d[0] != '1')
                        return false;
                d++;
        }
        return d[0] >= '2' && d[3] >= '2';
}

struct run {
        const char *text;
        struct redact_tok t[REDACT_MAX_TOK];
        size_t n;
        unsigned kinds;
        const char *region;
};

/* Which kind tokens [a, e) of the run are, or -1. */
static int classify(const struct run *r, size_t a, size_t e)
{
        char d[REDACT_MAX_DIG + 1], e164[32];
        size_t n = 0;
        bool spoken = true, plus = r->t[a].start > 0 && r->text[r->t[a].start - 1] == '+';

        for (size_t i = a; i < e; i++) {
                const struct redact_tok *t = &r->t[i];
                size_t m = t->n < 0 ? (size_t)-t->n : (size_t)t->n;
                if (n + m > REDACT_MAX_DIG)
                        return -1;
                memcpy(d + n, t->n < 0 ? r->text + t->start : t->digits, m);
                n += m;
                spoken = spoken && t->spoken;
        }
        d[n] = '\0';
        if ((r->kinds & (1u << CB_REDACT_CARD)) && n >= 13 && n <= 19 && luhn(d, n))
                return CB_REDACT_CARD;
        /* Nine written digits are an SSN only as 3-2-4; nine spoken ones always; either only
         * spoken ones only as a whole run (nine digits of a longer number are not one). */
        if ((r->kinds & (1u << CB_REDACT_SSN)) && n == 9 && ssn_valid(d) &&
            ((spoken && a == 0 && e == r->n) ||
             (e - a == 3 && r->t[a].n == -3 && r->t[a + 1].n == -2 && r->t[a + 2].n == -4)))
                return CB_REDACT_SSN;
        if ((r->kinds & (1u << CB_REDACT_PHONE)) && phone_shape(d, n, plus, r->region)) {
                char in[REDACT_MAX_DIG + 2];
                snprintf(in, sizeof(in), "%s%s", plus ? "+" : "", d);
                if (cb_phone_to_e164(in, r->region, e164, sizeof(e164)) == 0)
                        return CB_REDACT_PHONE;
        }
        return -1;
}

/* Where after token `a` a match may start: after a leading "oh" ("oh, four one one ..."),
 * or at a written group after a space ("123-45-6789 4155550142"); never elsewhere inside a
 * spoken number (13 of its digits may pass Luhn by chance: they are not a card). */
static size_t next_start(const struct run *r, size_t a)
{
        if (r->t[a].spoken && r->t[a].n == 1 && r->t[a].digits[0] == '0')
                return a + 1;
        for (size_t i = a + 1; i < r->n; i++)
                if (!r->t[i].spoken &&
                    memchr(r->text + r->t[i - 1].end, ' ', r->t[i].start - r->t[i - 1].end) != NULL)
                        return i;
        return r->n;
}

/* The longest match at the run's start, then the longest after it, and so on, into `s`.
 * Returns the index of the first token after the last match (0 when none). */
static size_t run_matches(const struct run *r, struct spans *s)
{
        size_t a = 0, covered = 0;

        while (a < r->n) {
                size_t e;
                int kind = -1;
                for (e = r->n; e > a && kind < 0; e--)
                        kind = classify(r, a, e);
                if (kind < 0) {
                        a = next_start(r, a);
                        continue;
                }
                e++; /* the loop stepped past the match */
                size_t start = r->t[a].start, end = r->t[e - 1].end;
                if (start > 0 && (r->text[start - 1] == '+' || r->text[start - 1] == '('))
                        start--;
                span_add(s, start, end, kind);
                a = covered = e;
        }
        return covered;
}

/* A partial segment that ends in a number not yet complete ("it's four one one one"): the
 * tokens from `from` to the run's end, 4 digits or more, masked as "[number]" so a card or
 * SSN is not shown a few digits at a time before its final segment is masked. */
static void unfinished(const struct run *r, size_t from, struct spans *s)
{
        size_t j = r->t[r->n - 1].end, digits = 0;

        while (r->text[j] != '\0' &&
               (ispunct((unsigned char)r->text[j]) || isspace((unsigned char)r->text[j])))
                j++;
        for (size_t i = from; i < r->n; i++)
                digits += (size_t)(r->t[i].n < 0 ? -r->t[i].n : r->t[i].n);
        if (r->text[j] == '\0' && from < r->n && digits >= 4)
                span_add(s, r->t[from].start, r->t[r->n - 1].end, K_UNFINISHED);
}

/* Is the run at `i` an amount: after "$", "€" or "£" (UTF-8), spaces between allowed? */
static bool currency(const char *text, size_t i)
{
        while (i > 0 && text[i - 1] == ' ')
                i--;
        return (i > 0 && text[i - 1] == '$') ||
               (i > 1 && memcmp(text + i - 2, "\xc2\xa3", 2) == 0) ||
               (i > 2 && memcmp(text + i - 3, "\xe2\x82\xac", 3) == 0);
}

static char *redact_digits(const char *text, unsigned kinds, const char *region,
                           unsigned counts[CB_REDACT_NKINDS])
{
        struct spans s = {0};
        struct run *r = malloc(sizeof(*r));
        size_t i = 0;

        if (r == NULL)
                return NULL;
        r->text = text;
        r->kinds = kinds;
        r->region = region ? region : "US";
        while (text[i] != '\0') {
                size_t next = redact_read_run(text, i, r->t, REDACT_MAX_TOK, &r->n);
                if (next == 0) {
                        i++;
                        continue;
                }
                if (!currency(text, r->t[0].start)) {
                        size_t covered = run_matches(r, &s);
                        if (kinds & CB_REDACT_PARTIAL)
                                unfinished(r, covered, &s);
                }
                i = next;
        }
        free(r);
        return apply(text, &s, counts);
}

char *cb_redact_text(const char *text, unsigned kinds, const char *region,
                     unsigned counts[CB_REDACT_NKINDS])
{
        char *mid, *out;

        if (text == NULL)
                text = "";
        if ((kinds & CB_REDACT_ALL) == 0)
                return strdup(text);
        mid = (kinds & (1u << CB_REDACT_EMAIL)) ? redact_emails(text, counts) : strdup(text);
        if (mid == NULL || (kinds & ~(1u << CB_REDACT_EMAIL)) == 0)
                return mid;
        out = redact_digits(mid, kinds, region, counts);
        free(mid);
        return out;
}

/* Replace obj["text"] by its redaction; replacements added to *total. -1 out of memory. */
static int redact_field(json_t *obj, unsigned kinds, const char *region,
                        unsigned counts[CB_REDACT_NKINDS], int *total)
{
        const char *text = json_string_value(json_object_get(obj, "text"));
        unsigned mine[CB_REDACT_NKINDS] = {0};
        char *out;

        if (text == NULL)
                return 0;
        out = cb_redact_text(text, kinds, region, mine);
        if (out == NULL || json_object_set_new(obj, "text", json_string(out)) != 0) {
                free(out);
                return -1;
        }
        free(out);
        for (int k = 0; k < CB_REDACT_NKINDS; k++) {
                *total += (int)mine[k];
                if (counts != NULL)
                        counts[k] += mine[k];
        }
        return 0;
}

int cb_redact_result(json_t *result, unsigned kinds, const char *region,
                     unsigned counts[CB_REDACT_NKINDS])
{
        json_t *seg;
        size_t i;
        int total = 0;

        kinds &= CB_REDACT_ALL;
        if (kinds == 0 || !json_is_object(result))
                return 0;
        if (redact_field(result, kinds, region, counts, &total) != 0)
                return -1;
        json_array_foreach(json_object_get(result, "segments"), i, seg)
        {
                /* Segment counts are not added: they repeat the text's. */
                if (json_is_object(seg) && redact_field(seg, kinds, region, NULL, &total) != 0)
                        return -1;
        }
        return total;
}

static atomic_ulong redactions[CB_REDACT_NKINDS];

void cb_redact_count(const unsigned counts[CB_REDACT_NKINDS])
{
        for (int k = 0; k < CB_REDACT_NKINDS; k++)
                atomic_fetch_add_explicit(&redactions[k], counts[k], memory_order_relaxed);
}

void cb_redact_metrics_write(struct cb_buf *out)
{
        cb_buf_puts(out, "# HELP callbridge_redactions_total PII replaced in transcripts "
                         "([nlp] redact), by kind.\n"
                         "# TYPE callbridge_redactions_total counter\n");
        for (int k = 0; k < CB_REDACT_NKINDS; k++)
                cb_buf_printf(out, "callbridge_redactions_total{kind=\"%s\"} %lu\n", kind_names[k],
                              atomic_load_explicit(&redactions[k], memory_order_relaxed));
}
