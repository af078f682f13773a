/* callbridge-sandbox: SOQL conditions: string literals decoded as Salesforce decodes them,
 * the WHERE tree, its evaluation (case-insensitive like Salesforce's text comparisons), LIKE
 * matching, and running a parsed select (filter, ORDER BY, LIMIT, render).
 *
 * Literal escapes: \' \" \\ \n \r \t \b \f \uXXXX everywhere; \_ and \% are a literal
 * underscore and percent sign inside LIKE (elsewhere they stay as written, backslash
 * included); any other escape is MALFORMED_QUERY. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sf_soql.h"

enum cond_kind { C_AND, C_OR, C_NOT, C_CMP };
enum cmp_op { OP_EQ, OP_NE, OP_LT, OP_GT, OP_LE, OP_GE, OP_LIKE, OP_IN, OP_NOT_IN };

/* A literal: text (decoded; NULL for null) and, for LIKE, a wildcard mask per byte. */
struct literal {
        char *text;
        char *wild;
        size_t len;
};

struct sf_cond {
        enum cond_kind kind;
        struct sf_cond *left, *right;
        char field[512];
        enum cmp_op op;
        struct literal *values;
        size_t n_values;
};

void sf_cond_free(struct sf_cond *c)
{
        if (!c)
                return;
        sf_cond_free(c->left);
        sf_cond_free(c->right);
        for (size_t i = 0; i < c->n_values; i++) {
                free(c->values[i].text);
                free(c->values[i].wild);
        }
        free(c->values);
        free(c);
}

static void put_utf8(struct literal *l, unsigned long cp)
{
        char *o = l->text + l->len;

        if (cp < 0x80) {
                o[0] = (char)cp;
                l->len += 1;
        } else if (cp < 0x800) {
                o[0] = (char)(0xC0 | (cp >> 6));
                o[1] = (char)(0x80 | (cp & 0x3F));
                l->len += 2;
        } else if (cp < 0x10000) {
                o[0] = (char)(0xE0 | (cp >> 12));
                o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
                o[2] = (char)(0x80 | (cp & 0x3F));
                l->len += 3;
        } else {
                o[0] = (char)(0xF0 | (cp >> 18));
                o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
                o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
                o[3] = (char)(0x80 | (cp & 0x3F));
                l->len += 4;
        }
}

/* Four hex digits at s into *cp; false otherwise. */
static bool hex4(const char *s, unsigned long *cp)
{
        char buf[5];

        for (int i = 0; i < 4; i++) {
                if (!isxdigit((unsigned char)s[i]))
                        return false;
                buf[i] = s[i];
        }
        buf[4] = '\0';
        *cp = strtoul(buf, NULL, 16);
        return true;
}

static bool bad_escape(struct sf_parser *p, const char *at)
{
        char msg[400];

        snprintf(msg, sizeof(msg),
                 "Invalid string literal '%.*s'. Illegal character sequence '\\%c' in string "
                 "literal.",
                 (int)(p->tok_len > 300 ? 300 : p->tok_len - 2), p->tok + 1, at[1] ? at[1] : ' ');
        sf_error(p->res, 400, p->malformed, NULL, "%s", msg);
        p->failed = true;
        return false;
}

/* One escape at s (s[0] == '\\') into l; returns the characters consumed or 0 when bad. */
static size_t decode_escape(const char *s, bool like, struct literal *l)
{
        static const char simple_in[] = "'\"\\nrtbf", simple_out[] = "'\"\\\n\r\t\b\f";
        const char *hit = s[1] ? strchr(simple_in, s[1]) : NULL;
        unsigned long cp, lo;

        if (hit) {
                l->text[l->len++] = simple_out[hit - simple_in];
                return 2;
        }
        if (s[1] == '_' || s[1] == '%') {
                if (!like)
                        l->text[l->len++] = '\\';
                l->text[l->len++] = s[1];
                return 2;
        }
        if (s[1] != 'u' || !hex4(s + 2, &cp))
                return 0;
        if (cp >= 0xD800 && cp < 0xDC00 && s[6] == '\\' && s[7] == 'u' && hex4(s + 8, &lo) &&
            lo >= 0xDC00 && lo < 0xE000) {
                put_utf8(l, 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00));
                return 12;
        }
        put_utf8(l, cp);
        return 6;
}

/* Decode the current string token into `l` (for LIKE: with its wildcard mask). */
static bool decode_literal(struct sf_parser *p, bool like, struct literal *l)
{
        const char *s = p->tok + 1, *end = p->tok + p->tok_len - 1;

        l->text = calloc(1, p->tok_len * 2 + 8);
        l->wild = calloc(1, p->tok_len * 2 + 8);
        l->len = 0;
        if (!l->text || !l->wild)
                return false;
        while (s < end) {
                if (*s == '\\') {
                        size_t n = decode_escape(s, like, l);
                        if (n == 0)
                                return bad_escape(p, s);
                        s += n;
                        continue;
                }
                if (like && (*s == '%' || *s == '_'))
                        l->wild[l->len] = 1;
                l->text[l->len++] = *s++;
        }
        l->text[l->len] = '\0';
        return true;
}

/* One value of a comparison: string, number, true/false/null, or a date-like identifier. */
static bool parse_value(struct sf_parser *p, bool like, struct literal *l)
{
        if (p->kind == SF_T_STRING) {
                if (!decode_literal(p, like, l))
                        return false;
        } else if (!like && (p->kind == SF_T_NUMBER || p->kind == SF_T_IDENT)) {
                if (!sf_parser_is(p, "null")) {
                        l->text = strndup(p->tok, p->tok_len);
                        l->len = p->tok_len;
                        if (!l->text)
                                return false;
                }
        } else {
                return sf_parser_unexpected(p);
        }
        return sf_parser_next(p);
}

static bool parse_in_list(struct sf_parser *p, struct sf_cond *c)
{
        if (!sf_parser_is(p, "(") || !sf_parser_next(p))
                return sf_parser_unexpected(p);
        for (;;) {
                struct literal *grown = realloc(c->values, (c->n_values + 1) * sizeof(*grown));
                if (!grown)
                        return false;
                c->values = grown;
                memset(&c->values[c->n_values], 0, sizeof(*grown));
                c->n_values++;
                if (!parse_value(p, false, &c->values[c->n_values - 1]))
                        return false;
                if (sf_parser_is(p, ")"))
                        return sf_parser_next(p);
                if (!sf_parser_is(p, ",") || !sf_parser_next(p))
                        return sf_parser_unexpected(p);
        }
}

static bool parse_operator(struct sf_parser *p, struct sf_cond *c)
{
        static const struct {
                const char *text;
                enum cmp_op op;
        } ops[] = {{"=", OP_EQ},  {"!=", OP_NE}, {"<>", OP_NE}, {"<", OP_LT},      {">", OP_GT},
                   {"<=", OP_LE}, {">=", OP_GE}, {"IN", OP_IN}, {"LIKE", OP_LIKE}, {NULL, 0}};

        if (sf_parser_is(p, "NOT")) {
                if (!sf_parser_next(p) || !sf_parser_is(p, "IN"))
                        return sf_parser_unexpected(p);
                c->op = OP_NOT_IN;
                return sf_parser_next(p);
        }
        for (size_t i = 0; ops[i].text; i++) {
                if (sf_parser_is(p, ops[i].text)) {
                        c->op = ops[i].op;
                        return sf_parser_next(p);
                }
        }
        return sf_parser_unexpected(p);
}

static struct sf_cond *parse_or(struct sf_parser *p, const char *type);

static struct sf_cond *parse_comparison(struct sf_parser *p, const char *type)
{
        struct sf_cond *c = calloc(1, sizeof(*c));
        char raw[512];

        if (!c)
                return NULL;
        c->kind = C_CMP;
        if (p->kind != SF_T_IDENT) {
                sf_parser_unexpected(p);
                goto fail;
        }
        snprintf(raw, sizeof(raw), "%.*s", (int)p->tok_len, p->tok);
        if (!sf_soql_resolve_path(p, type, raw, p->tok_pos, c->field, sizeof(c->field)) ||
            !sf_parser_next(p) || !parse_operator(p, c))
                goto fail;
        if (c->op == OP_IN || c->op == OP_NOT_IN) {
                if (!parse_in_list(p, c))
                        goto fail;
                return c;
        }
        c->values = calloc(1, sizeof(*c->values));
        if (!c->values)
                goto fail;
        c->n_values = 1;
        if (!parse_value(p, c->op == OP_LIKE, &c->values[0]))
                goto fail;
        return c;
fail:
        sf_cond_free(c);
        return NULL;
}

static struct sf_cond *parse_unary(struct sf_parser *p, const char *type)
{
        struct sf_cond *c;

        if (sf_parser_is(p, "NOT")) {
                c = calloc(1, sizeof(*c));
                if (!c || !sf_parser_next(p) || !(c->left = parse_unary(p, type))) {
                        sf_cond_free(c);
                        return NULL;
                }
                c->kind = C_NOT;
                return c;
        }
        if (!sf_parser_is(p, "("))
                return parse_comparison(p, type);
        if (!sf_parser_next(p) || !(c = parse_or(p, type)))
                return NULL;
        if (!sf_parser_is(p, ")") || !sf_parser_next(p)) {
                sf_parser_unexpected(p);
                sf_cond_free(c);
                return NULL;
        }
        return c;
}

/* left (OP right)* for AND (and_level) or OR. */
static struct sf_cond *parse_chain(struct sf_parser *p, const char *type, bool and_level)
{
        struct sf_cond *left = and_level ? parse_unary(p, type) : parse_chain(p, type, true);

        while (left && sf_parser_is(p, and_level ? "AND" : "OR")) {
                struct sf_cond *c = calloc(1, sizeof(*c));
                if (!c || !sf_parser_next(p)) {
                        free(c);
                        sf_cond_free(left);
                        return NULL;
                }
                c->kind = and_level ? C_AND : C_OR;
                c->left = left;
                c->right = and_level ? parse_unary(p, type) : parse_chain(p, type, true);
                left = c;
                if (!c->right) {
                        sf_cond_free(c);
                        return NULL;
                }
        }
        return left;
}

static struct sf_cond *parse_or(struct sf_parser *p, const char *type)
{
        return parse_chain(p, type, false);
}

struct sf_cond *sf_cond_parse(struct sf_parser *p, const char *type)
{
        struct sf_cond *c = parse_or(p, type);

        if (!c && !p->failed) {
                sf_error(p->res, 500, "UNKNOWN_EXCEPTION", NULL, "out of memory");
                p->failed = true;
        }
        return c;
}

/* Length of the UTF-8 character starting at s (1 for a stray byte). */
static size_t char_len(const char *s)
{
        unsigned char c = (unsigned char)*s;
        size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;

        for (size_t i = 1; i < n; i++) {
                if (!s[i])
                        return i;
        }
        return n;
}

/* Case-insensitive LIKE: '%' any run, '_' one character, escaped ones literal. */
static bool like_match(const char *s, const struct literal *pat, size_t pi)
{
        while (pi < pat->len) {
                if (pat->wild[pi] && pat->text[pi] == '%') {
                        for (;;) {
                                if (like_match(s, pat, pi + 1))
                                        return true;
                                if (!*s)
                                        return false;
                                s += char_len(s);
                        }
                }
                if (!*s)
                        return false;
                if (pat->wild[pi]) {
                        s += char_len(s);
                        pi++;
                        continue;
                }
                if (tolower((unsigned char)*s) != tolower((unsigned char)pat->text[pi]))
                        return false;
                s++;
                pi++;
        }
        return *s == '\0';
}

int sf_value_compare(json_t *a, json_t *b)
{
        if (json_is_number(a) && json_is_number(b)) {
                double x = json_number_value(a), y = json_number_value(b);
                return x < y ? -1 : x > y;
        }
        if (json_is_boolean(a) && json_is_boolean(b))
                return (int)json_is_true(a) - (int)json_is_true(b);
        if (json_is_string(a) && json_is_string(b))
                return sf_strcasecmp(json_string_value(a), json_string_value(b));
        return 0;
}

static bool compare(json_t *v, enum cmp_op op, const struct literal *l)
{
        bool is_null = !v || json_is_null(v);
        int cmp;

        if (!l->text)
                return op == OP_NE ? !is_null : op == OP_EQ && is_null;
        if (op == OP_NE)
                return is_null || !sf_value_equals(v, l->text);
        if (is_null)
                return false;
        if (op == OP_EQ || op == OP_IN)
                return sf_value_equals(v, l->text);
        if (op == OP_LIKE)
                return json_is_string(v) && like_match(json_string_value(v), l, 0);
        if (json_is_number(v)) {
                json_t *num = json_real(strtod(l->text, NULL));
                cmp = sf_value_compare(v, num);
                json_decref(num);
        } else {
                cmp = json_is_string(v) ? sf_strcasecmp(json_string_value(v), l->text) : 0;
        }
        return op == OP_LT ? cmp < 0 : op == OP_GT ? cmp > 0 : op == OP_LE ? cmp <= 0 : cmp >= 0;
}

json_t *sf_cond_pinned(const struct sf_cond *c, char *field, size_t field_size)
{
        json_t *out;

        if (!c)
                return NULL;
        if (c->kind == C_AND) {
                out = sf_cond_pinned(c->left, field, field_size);
                return out ? out : sf_cond_pinned(c->right, field, field_size);
        }
        if (c->kind != C_CMP || (c->op != OP_EQ && c->op != OP_IN) || strchr(c->field, '.'))
                return NULL;
        for (size_t i = 0; i < c->n_values; i++) {
                if (!c->values[i].text)
                        return NULL; /* = null: records without the field, no index has them */
        }
        out = json_array();
        for (size_t i = 0; out && i < c->n_values; i++)
                json_array_append_new(out, json_string(c->values[i].text));
        snprintf(field, field_size, "%s", c->field);
        return out;
}

bool sf_cond_eval(const struct sf_cond *c, const char *type, json_t *rec)
{
        json_t *v;

        if (!c)
                return true;
        switch (c->kind) {
        case C_AND:
                return sf_cond_eval(c->left, type, rec) && sf_cond_eval(c->right, type, rec);
        case C_OR:
                return sf_cond_eval(c->left, type, rec) || sf_cond_eval(c->right, type, rec);
        case C_NOT:
                return !sf_cond_eval(c->left, type, rec);
        case C_CMP:
        default:
                break;
        }
        v = sf_record_value_locked(type, rec, c->field);
        if (c->op == OP_IN || c->op == OP_NOT_IN) {
                bool any = false;
                for (size_t i = 0; i < c->n_values && !any; i++)
                        any = compare(v, OP_EQ, &c->values[i]);
                return c->op == OP_IN ? any : !any;
        }
        return compare(v, c->op, &c->values[0]);
}
