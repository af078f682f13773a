/* Bounded string helpers: copy, checked integer parsing, choice lists, charsets, UUID syntax,
 * errors. */
#include "callbridge/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool cb_strlcpy(char *dst, const char *src, size_t size)
{
        size_t n = strlen(src);

        if (size == 0)
                return false;
        if (n >= size) {
                memcpy(dst, src, size - 1);
                dst[size - 1] = '\0';
                return false;
        }
        memcpy(dst, src, n + 1);
        return true;
}

bool cb_parse_long(const char *s, long min, long max, long *out)
{
        char *end = NULL;
        long v;

        if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
                return false;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || *end != '\0' || v < min || v > max)
                return false;
        *out = v;
        return true;
}

bool cb_choice_match(const char *choices, const char *value, bool prefix)
{
        const char *p = choices;

        while (p != NULL && *p != '\0') {
                const char *bar = strchr(p, '|');
                size_t n = bar ? (size_t)(bar - p) : strlen(p);
                if (prefix ? strncmp(value, p, n) == 0 && value[n] != '\0'
                           : strlen(value) == n && strncmp(value, p, n) == 0)
                        return true;
                p = bar ? bar + 1 : NULL;
        }
        return false;
}

bool cb_str_charset(const char *s, size_t max, const char *extra)
{
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > max)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)s[i]) && strchr(extra, s[i]) == NULL)
                        return false;
        return true;
}

void cb_err_printf(char *err, size_t size, const char *fmt, ...)
{
        va_list ap;

        if (err == NULL || size == 0)
                return;
        va_start(ap, fmt);
        vsnprintf(err, size, fmt, ap);
        va_end(ap);
}

bool cb_uuid_valid(const char *s)
{
        if (s == NULL || strlen(s) != CB_UUID_LEN)
                return false;
        for (size_t i = 0; i < CB_UUID_LEN; i++) {
                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (s[i] != '-')
                                return false;
                } else if (!isxdigit((unsigned char)s[i])) {
                        return false;
                }
        }
        return true;
}
