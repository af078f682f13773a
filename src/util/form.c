/* application/x-www-form-urlencoded decoding and encoding. */
#include "callbridge/form.h"
#include "callbridge/util.h"

#include <stdlib.h>
#include <string.h>

/* Decode [s, s+len) into a new string; NULL on a bad or NUL escape, a NUL byte or no
 * memory. */
static char *decode(const char *s, size_t len)
{
        char *out = malloc(len + 1);
        size_t o = 0;

        if (out == NULL)
                return NULL;
        for (size_t i = 0; i < len; i++) {
                int hi = -1, lo = -1;
                if (s[i] == '+') {
                        out[o++] = ' ';
                        continue;
                }
                if (s[i] != '%') {
                        if (s[i] == '\0')
                                goto bad;
                        out[o++] = s[i];
                        continue;
                }
                if (i + 2 < len) {
                        hi = cb_hex_digit(s[i + 1]);
                        lo = cb_hex_digit(s[i + 2]);
                }
                if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                        goto bad;
                out[o++] = (char)(hi * 16 + lo);
                i += 2;
        }
        out[o] = '\0';
        return out;
bad:
        free(out);
        return NULL;
}

static int add_take(struct cb_form *form, char *name, char *value)
{
        if (name == NULL || value == NULL || form->n >= CB_FORM_MAX_PARAMS)
                goto fail;
        if (form->n == form->alloc) {
                size_t alloc = form->alloc ? form->alloc * 2 : 16;
                struct cb_form_param *p = realloc(form->p, alloc * sizeof(*p));
                if (p == NULL)
                        goto fail;
                form->p = p;
                form->alloc = alloc;
        }
        form->p[form->n].name = name;
        form->p[form->n].value = value;
        form->n++;
        return 0;
fail:
        free(name);
        free(value);
        return -1;
}

int cb_form_parse(struct cb_form *form, const char *data, size_t len)
{
        size_t i = 0;

        while (i < len) {
                const char *pair = data + i;
                const char *amp = memchr(pair, '&', len - i);
                size_t plen = amp ? (size_t)(amp - pair) : len - i;
                const char *eq = memchr(pair, '=', plen);
                size_t nlen = eq ? (size_t)(eq - pair) : plen;

                i += plen + 1;
                if (plen == 0)
                        continue;
                if (add_take(form, decode(pair, nlen),
                             eq ? decode(eq + 1, plen - nlen - 1) : strdup("")) != 0) {
                        cb_form_free(form);
                        return -1;
                }
        }
        return 0;
}

int cb_form_add(struct cb_form *form, const char *name, const char *value)
{
        return add_take(form, strdup(name), strdup(value));
}

const char *cb_form_get(const struct cb_form *form, const char *name)
{
        for (size_t i = 0; i < form->n; i++)
                if (strcmp(form->p[i].name, name) == 0)
                        return form->p[i].value;
        return NULL;
}

static int encode_str(struct cb_buf *out, const char *s)
{
        static const char hex[] = "0123456789ABCDEF";
        int rc = 0;

        for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
                if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL) {
                        rc |= cb_buf_append(out, p, 1);
                } else if (*p == ' ') {
                        rc |= cb_buf_append(out, "+", 1);
                } else {
                        char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
                        rc |= cb_buf_append(out, esc, 3);
                }
        }
        return rc;
}

int cb_form_encode(const struct cb_form *form, struct cb_buf *out)
{
        int rc = 0;

        for (size_t i = 0; i < form->n; i++) {
                if (i > 0)
                        rc |= cb_buf_append(out, "&", 1);
                rc |= encode_str(out, form->p[i].name);
                rc |= cb_buf_append(out, "=", 1);
                rc |= encode_str(out, form->p[i].value);
        }
        return rc ? -1 : 0;
}

void cb_form_free(struct cb_form *form)
{
        for (size_t i = 0; i < form->n; i++) {
                free(form->p[i].name);
                free(form->p[i].value);
        }
        free(form->p);
        *form = (struct cb_form){0};
}
