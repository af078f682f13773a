/* Internals of PII redaction (redact.c): the digit-run tokenizer of redact_spoken.c, which
 * reads written and spoken digits with their offsets, and the matchers of redact.c, which
 * decide what a run holds. Nothing here is used outside src/nlp. */
#ifndef CB_NLP_REDACT_INT_H
#define CB_NLP_REDACT_INT_H

#include <stdbool.h>
#include <stddef.h>

#define REDACT_MAX_TOK 48 /* tokens in one run; a longer run is cut there */
#define REDACT_MAX_DIG 64 /* digits in one written group (and in a match) */

/* One token of a digit run, [start, end) in the text. Written digits: n < 0, the -n digits
 * are text[start..]; spoken ones: n > 0 digits in `digits` ("double five": "55"). */
struct redact_tok {
        size_t start, end;
        char digits[4];
        int n;
        bool spoken;
};

/* The run of digit tokens that starts at `i`, a word boundary: written groups ("4111 1111",
 * "(415) 555-0142") and digit words ("four one one", "oh", "double five"), joined by spaces,
 * dashes, dots, brackets (a comma only between spoken digits). At most `max` tokens into
 * t[0..*n). Returns the position after its last token, or 0 when no run starts at `i` (*n and
 * t[1..] then unset). Cannot fail. */
size_t redact_read_run(const char *text, size_t i, struct redact_tok *t, size_t max, size_t *n);

#endif
