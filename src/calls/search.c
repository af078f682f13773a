/* The calls search's term (GET /api/calls?q=): what it is and the LIKE pattern it becomes. */
#include <string.h>

#include "callbridge/calls.h"

/* Length of the UTF-8 character at `s` (1-4), or 0 when it is not one (overlong, surrogate,
 * beyond U+10FFFF, truncated). */
static size_t utf8_char(const unsigned char *s)
{
        size_t n;
        unsigned long cp;

        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xC2 && s[0] <= 0xDF)
                n = 2, cp = s[0] & 0x1F;
        else if (s[0] >= 0xE0 && s[0] <= 0xEF)
                n = 3, cp = s[0] & 0x0F;
        else if (s[0] >= 0xF0 && s[0] <= 0xF4)
                n = 4, cp = s[0] & 0x07;
        else
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xC0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3F);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
                return 0;
        return n;
}

/* The term's characters are valid UTF-8, none a control character, at most
 * CB_CALL_SEARCH_MAX of them; *number tells whether they are only digits and phone
 * punctuation with one digit at least. */
static bool term_ok(const char *t, size_t len, bool *number)
{
        const unsigned char *s = (const unsigned char *)t;
        size_t chars = 0, digits = 0;

        *number = true;
        for (size_t i = 0; i < len; chars++) {
                size_t n = utf8_char(s + i);
                if (n == 0 || i + n > len || s[i] < 0x20 || s[i] == 0x7F ||
                    (n == 2 && s[i] == 0xC2 && s[i + 1] < 0xA0)) /* C1 controls */
                        return false;
                if (s[i] >= '0' && s[i] <= '9')
                        digits++;
                else if (n > 1 || strchr("+-(). ", s[i]) == NULL)
                        *number = false;
                i += n;
        }
        *number = *number && digits > 0;
        return chars <= CB_CALL_SEARCH_MAX;
}

enum cb_call_search cb_calls_search_term(const char *q, char *pattern, size_t pattern_size)
{
        size_t len, o = 0;
        bool number;

        if (pattern_size < CB_CALL_SEARCH_PATTERN_MAX)
                return CB_CALL_SEARCH_INVALID;
        pattern[0] = '\0';
        if (q == NULL)
                return CB_CALL_SEARCH_INVALID;
        while (*q == ' ')
                q++;
        len = strlen(q);
        while (len > 0 && q[len - 1] == ' ')
                len--;
        if (len == 0 || !term_ok(q, len, &number))
                return CB_CALL_SEARCH_INVALID;
        pattern[o++] = '%';
        for (size_t i = 0; i < len; i++) {
                if (number) { /* the digits alone: "(415) 555-01" finds +14155550123 */
                        if (q[i] >= '0' && q[i] <= '9')
                                pattern[o++] = q[i];
                        continue;
                }
                if (q[i] == '%' || q[i] == '_' || q[i] == '\\')
                        pattern[o++] = '\\'; /* LIKE's default escape */
                pattern[o++] = q[i];
        }
        pattern[o++] = '%';
        pattern[o] = '\0';
        return number ? CB_CALL_SEARCH_NUMBER : CB_CALL_SEARCH_TEXT;
}
