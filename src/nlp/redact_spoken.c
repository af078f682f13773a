/* The tokenizer of PII redaction (redact_int.h): runs of digits, written ("4111 1111-1111
 * 1111", "(415) 555-0142") or spoken ("four one one one", "oh" for zero, "double five"), each
 * token with its offsets in the text. Words like "fifty" or "thirty" are not digits, so
 * amounts, times and counts said in words never form a run. What a run holds is redact.c's
 * question. */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "redact_int.h"

static const char *const digit_words[] = {"zero", "one", "two",   "three", "four",
                                          "five", "six", "seven", "eight", "nine"};

/* The digit a word says ('0'-'9'), or 0. */
static char spoken_digit(const char *w, size_t n)
{
        if ((n == 2 && strncasecmp(w, "oh", 2) == 0) || (n == 1 && (*w == 'o' || *w == 'O')))
                return '0';
        for (int d = 0; d < 10; d++)
                if (strlen(digit_words[d]) == n && strncasecmp(w, digit_words[d], n) == 0)
                        return (char)('0' + d);
        return 0;
}

/* Read one token at `i` (a word boundary) into *t: a group of written digits, a digit word,
 * or "double"/"triple" and a digit. The position after it, or 0 when there is none. */
static size_t read_token(const char *text, size_t i, struct redact_tok *t)
{
        size_t j = i;

        memset(t, 0, sizeof(*t));
        t->start = i;
        if (isdigit((unsigned char)text[i])) {
                while (isdigit((unsigned char)text[j]))
                        j++;
                if (isalpha((unsigned char)text[j]) || j - i > REDACT_MAX_DIG)
                        return 0;
                t->end = j;
                t->n = -(int)(j - i); /* written: the digits are read from the text */
                return j;
        }
        while (isalpha((unsigned char)text[j]))
                j++;
        char d = spoken_digit(text + i, j - i);
        int times = 1;
        if (d == 0 && j - i == 6 &&
            (strncasecmp(text + i, "double", 6) == 0 || strncasecmp(text + i, "triple", 6) == 0)) {
                times = tolower((unsigned char)text[i]) == 'd' ? 2 : 3;
                size_t k = j;
                while (text[k] == ' ')
                        k++;
                size_t e = k;
                while (isalpha((unsigned char)text[e]))
                        e++;
                d = e > k ? spoken_digit(text + k, e - k) : 0;
                if (d == 0 && isdigit((unsigned char)text[k]) &&
                    !isalnum((unsigned char)text[k + 1]))
                        d = text[k], e = k + 1;
                j = e;
        }
        if (d == 0)
                return 0;
        for (int k = 0; k < times; k++)
                t->digits[k] = d;
        t->n = times;
        t->spoken = true;
        t->end = j;
        return j;
}

/* Does the gap between two tokens keep them in one run? Spaces, dashes, dots, brackets;
 * a comma only between spoken digits (speech engines punctuate "four, one, one"). */
static bool joins(const char *text, const struct redact_tok *a, const struct redact_tok *b)
{
        size_t n = b->start - a->end;
        int commas = 0;

        if (n == 0 || n > 3)
                return false;
        for (size_t i = a->end; i < b->start; i++) {
                char c = text[i];
                if (c == ',')
                        commas++;
                else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')')
                        return false;
        }
        return commas == 0 || (commas == 1 && a->spoken && b->spoken);
}

size_t redact_read_run(const char *text, size_t i, struct redact_tok *t, size_t max, size_t *n)
{
        size_t next;

        if ((i > 0 && isalnum((unsigned char)text[i - 1])) || !isalnum((unsigned char)text[i]) ||
            (next = read_token(text, i, &t[0])) == 0)
                return 0;
        *n = 1;
        while (*n < max) {
                size_t j = next;
                struct redact_tok tok;
                while (text[j] != '\0' && !isalnum((unsigned char)text[j]) && j - next < 4)
                        j++;
                if (!isalnum((unsigned char)text[j]) || read_token(text, j, &tok) == 0 ||
                    !joins(text, &t[*n - 1], &tok))
                        break;
                t[(*n)++] = tok;
                next = tok.end;
        }
        return next;
}
