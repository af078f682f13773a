/* The agent's wrap-up: the list of dispositions ([agents] dispositions, "value:Label, ...")
 * read in place, and the bounds of the notes. Pure: no allocation, no I/O. */
#include <stdio.h>
#include <string.h>

#include "callbridge/calls.h"

/* One item of the list: pointers into the list text, not NUL-terminated. */
struct item {
        const char *value;
        size_t value_len;
        const char *label;
        size_t label_len;
};

static bool is_space(char c)
{
        return c == ' ' || c == '\t';
}

/* [s, s+len) without its surrounding spaces. */
static void trim(const char **s, size_t *len)
{
        while (*len > 0 && is_space(**s)) {
                (*s)++;
                (*len)--;
        }
        while (*len > 0 && is_space((*s)[*len - 1]))
                (*len)--;
}

static bool value_ok(const char *v, size_t n)
{
        if (n == 0 || n > CB_DISPOSITION_VALUE_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') || v[i] == '_' ||
                      v[i] == '-'))
                        return false;
        return true;
}

static bool label_ok(const char *l, size_t n)
{
        if (n == 0 || n > CB_DISPOSITION_LABEL_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)l[i] < 0x20 || l[i] == 0x7f || l[i] == ':')
                        return false;
        return true;
}

/* The item starting at *p (which then points past it and its comma). False at the end of the
 * list. The item is not checked. */
static bool next_item(const char **p, struct item *it)
{
        const char *s = *p, *comma, *colon;
        size_t len;

        if (s == NULL || *s == '\0')
                return false;
        comma = strchr(s, ',');
        len = comma ? (size_t)(comma - s) : strlen(s);
        *p = comma ? comma + 1 : s + len;
        colon = memchr(s, ':', len);
        it->value = s;
        it->value_len = colon ? (size_t)(colon - s) : len;
        it->label = colon ? colon + 1 : s;
        it->label_len = colon ? len - (size_t)(colon + 1 - s) : len;
        trim(&it->value, &it->value_len);
        trim(&it->label, &it->label_len);
        return true;
}

bool cb_calls_dispositions_check(const char *list, char *err, size_t err_size)
{
        const char *p = list, *q;
        struct item it, other;
        int n = 0;

        if (list == NULL || strspn(list, " \t") == strlen(list)) {
                snprintf(err, err_size, "at least one disposition is needed (value:Label, ...)");
                return false;
        }
        while (next_item(&p, &it)) {
                n++;
                if (!value_ok(it.value, it.value_len)) {
                        snprintf(err, err_size,
                                 "item %d: the value \"%.*s\" must be 1-%d of a-z, 0-9, _ and -", n,
                                 (int)(it.value_len > 80 ? 80 : it.value_len), it.value,
                                 CB_DISPOSITION_VALUE_MAX);
                        return false;
                }
                if (!label_ok(it.label, it.label_len)) {
                        snprintf(err, err_size,
                                 "item %d (%.*s): the label must be 1-%d bytes, one colon "
                                 "and no control character",
                                 n, (int)it.value_len, it.value, CB_DISPOSITION_LABEL_MAX);
                        return false;
                }
                if (n > CB_DISPOSITIONS_MAX) {
                        snprintf(err, err_size, "more than %d dispositions", CB_DISPOSITIONS_MAX);
                        return false;
                }
                for (q = list; next_item(&q, &other) && other.value != it.value;)
                        if (other.value_len == it.value_len &&
                            memcmp(other.value, it.value, it.value_len) == 0) {
                                snprintf(err, err_size, "the value \"%.*s\" is listed twice",
                                         (int)it.value_len, it.value);
                                return false;
                        }
        }
        if (p > list && p[-1] == ',') { /* "a:A," ends with an empty item */
                snprintf(err, err_size, "item %d is empty", n + 1);
                return false;
        }
        return true;
}

bool cb_calls_disposition_label(const char *list, const char *value, char *label, size_t label_size)
{
        char err[8];
        const char *p = list;
        struct item it;
        size_t n = value ? strlen(value) : 0;

        if (label_size > 0)
                label[0] = '\0';
        if (n == 0 || !cb_calls_dispositions_check(list, err, sizeof(err)))
                return false;
        while (next_item(&p, &it)) {
                if (it.value_len == n && memcmp(it.value, value, n) == 0) {
                        snprintf(label, label_size, "%.*s", (int)it.label_len, it.label);
                        return true;
                }
        }
        return false;
}

void cb_calls_dispositions_values(const char *list, char *out, size_t out_size)
{
        char err[8];
        const char *p = list;
        struct item it;
        size_t used = 0;

        if (out_size == 0)
                return;
        out[0] = '\0';
        if (!cb_calls_dispositions_check(list, err, sizeof(err)))
                return;
        while (next_item(&p, &it) && used < out_size) {
                int w = snprintf(out + used, out_size - used, "%s%.*s", used ? ", " : "",
                                 (int)it.value_len, it.value);
                if (w < 0)
                        break;
                used += (size_t)w;
        }
}

bool cb_calls_notes_valid(const char *notes)
{
        size_t chars = 0;

        if (notes == NULL)
                return true;
        for (const unsigned char *s = (const unsigned char *)notes; *s != '\0'; s++)
                if ((*s & 0xC0) != 0x80) /* not a continuation byte: a character starts */
                        chars++;
        return chars <= CB_NOTES_MAX_CHARS && strlen(notes) < CB_NOTES_MAX;
}
