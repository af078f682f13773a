/* callbridge-sandbox: SOSL, the subset callbridge needs:
 *
 *   FIND {term} [IN ALL|NAME|EMAIL|PHONE FIELDS]
 *   [RETURNING Obj[(f1, Rel.f [WHERE cond] [ORDER BY f DESC] [LIMIT n])], ...] [LIMIT n]
 *
 * The term is decoded as Salesforce does (a backslash before a reserved character makes it
 * literal). Phone matching tolerates formats: the digits of the term and of each phone field
 * match when one ends with the other and the shorter has at least 7 digits. Text matching is
 * a case-insensitive substring test with wildcards and quotes dropped. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sf_soql.h"

#define MIN_PHONE_DIGITS 7

enum scope { SCOPE_ALL, SCOPE_NAME, SCOPE_EMAIL, SCOPE_PHONE };

struct search {
        enum scope scope;
        char term[512];   /* decoded, wildcards and quotes dropped */
        char digits[128]; /* digits of the term */
};

static const char reserved[] = "?&|!{}[]()^~*:\\\"'+-";

/* Decode "{...}" at text+*pos into s->term; false with MALFORMED_SEARCH otherwise. */
static bool parse_term(const char *text, size_t *pos, struct search *s, struct sf_result *res)
{
        const char *p = text + *pos;
        size_t n = 0, d = 0;

        while (isspace((unsigned char)*p))
                p++;
        if (*p++ != '{')
                goto missing;
        while (*p && *p != '}') {
                char c = *p++;
                bool escaped = false;

                if (c == '\\') {
                        if (!*p || !strchr(reserved, *p)) {
                                sf_error(res, 400, "MALFORMED_SEARCH", NULL,
                                         "Invalid escape sequence in search term: '\\%c'",
                                         *p ? *p : ' ');
                                return false;
                        }
                        c = *p++;
                        escaped = true;
                }
                if (!escaped && (c == '*' || c == '?' || c == '"'))
                        continue;
                if (n + 1 < sizeof(s->term))
                        s->term[n++] = c;
                if (isdigit((unsigned char)c) && d + 1 < sizeof(s->digits))
                        s->digits[d++] = c;
        }
        if (*p != '}')
                goto missing;
        s->term[n] = '\0';
        s->digits[d] = '\0';
        *pos = (size_t)(p + 1 - text);
        return true;
missing:
        sf_error(res, 400, "MALFORMED_SEARCH", NULL,
                 "No search term found. The search term must be enclosed in braces.");
        return false;
}

static bool phone_match(const char *value, const char *term_digits)
{
        char digits[128];
        size_t n = 0, t = strlen(term_digits), shorter;

        for (; *value && n + 1 < sizeof(digits); value++) {
                if (isdigit((unsigned char)*value))
                        digits[n++] = *value;
        }
        digits[n] = '\0';
        shorter = n < t ? n : t;
        if (shorter < MIN_PHONE_DIGITS)
                return false;
        return n >= t ? strcmp(digits + n - t, term_digits) == 0
                      : strcmp(term_digits + t - n, digits) == 0;
}

static bool contains_ci(const char *hay, const char *needle)
{
        size_t n = strlen(needle);

        if (n == 0)
                return false;
        for (; *hay; hay++) {
                size_t i = 0;
                while (i < n && hay[i] &&
                       tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
                        i++;
                if (i == n)
                        return true;
        }
        return false;
}

static bool is_name_field(const char *name)
{
        static const char *const names[] = {"Name", "FirstName", "LastName", "Company", NULL};

        for (size_t i = 0; names[i]; i++) {
                if (strcmp(name, names[i]) == 0)
                        return true;
        }
        return false;
}

/* One field of one record against the search, by scope. */
static bool field_matches(const struct search *s, const char *name, const char *type,
                          const char *value)
{
        bool phone = strcmp(type, "phone") == 0;

        switch (s->scope) {
        case SCOPE_PHONE:
                return phone && phone_match(value, s->digits);
        case SCOPE_NAME:
                return is_name_field(name) && contains_ci(value, s->term);
        case SCOPE_EMAIL:
                return strcmp(type, "email") == 0 && contains_ci(value, s->term);
        case SCOPE_ALL:
        default:
                if (phone && phone_match(value, s->digits))
                        return true;
                return strcmp(type, "id") != 0 && strcmp(type, "reference") != 0 &&
                       strcmp(type, "datetime") != 0 && contains_ci(value, s->term);
        }
}

/* IN PHONE FIELDS: only the records the phone index names can match (NULL: all, when the
 * index is out of memory). Other scopes scan every record. */
static json_t *candidates(const struct search *s, const char *type)
{
        return s->scope == SCOPE_PHONE ? sb_index_phone_locked(type, s->digits) : NULL;
}

static bool keep(json_t *rec, const char *type, void *arg)
{
        const struct search *s = arg;
        json_t *fields = json_object_get(sf_schema_object_locked(type), "fields"), *f;
        size_t i;

        json_array_foreach(fields, i, f)
        {
                const char *name = json_string_value(json_object_get(f, "name"));
                const char *value = json_string_value(json_object_get(rec, name));
                const char *ftype = json_string_value(json_object_get(f, "type"));

                if (value && ftype && field_matches(s, name, ftype, value))
                        return true;
        }
        return false;
}

static bool parse_scope(struct sf_parser *p, struct search *s)
{
        static const char *const names[] = {"ALL", "NAME", "EMAIL", "PHONE", NULL};

        s->scope = SCOPE_ALL;
        if (!sf_parser_is(p, "IN"))
                return true;
        if (!sf_parser_next(p))
                return false;
        for (size_t i = 0; names[i]; i++) {
                if (sf_parser_is(p, names[i])) {
                        s->scope = (enum scope)i;
                        if (!sf_parser_next(p) || !sf_parser_is(p, "FIELDS"))
                                return sf_parser_unexpected(p);
                        return sf_parser_next(p);
                }
        }
        return sf_parser_unexpected(p);
}

/* One "Obj[(...)]" of RETURNING, run at once; its records are appended to `out`. */
static bool returning_one(struct sf_parser *p, const struct sf_op *op, struct search *s,
                          json_t *out)
{
        struct sf_select sel = {0};
        json_t *recs = NULL;
        bool ok = false;

        sel.limit = -1;
        if (p->kind != SF_T_IDENT)
                return sf_parser_unexpected(p);
        snprintf(sel.type, sizeof(sel.type), "%.*s", (int)p->tok_len, p->tok);
        if (!sf_select_resolve(p, &sel, p->tok_pos) || !sf_parser_next(p))
                goto out;
        if (sf_parser_is(p, "(")) {
                if (!sf_parser_next(p) || !sf_select_parse_fields(p, &sel) ||
                    !sf_select_resolve(p, &sel, 0) || !sf_select_parse_clauses(p, &sel))
                        goto out;
                if (!sf_parser_is(p, ")") || !sf_parser_next(p)) {
                        sf_parser_unexpected(p);
                        goto out;
                }
        } else {
                json_array_append_new(sel.fields, json_string("Id"));
        }
        sel.candidates = candidates(s, sel.type);
        recs = sf_select_run_locked(&sel, op->version, keep, s);
        ok = recs && json_array_extend(out, recs) == 0;
out:
        json_decref(recs);
        sf_select_free(&sel);
        return ok;
}

static bool parse_returning(struct sf_parser *p, const struct sf_op *op, struct search *s,
                            json_t *out)
{
        static const char *const defaults[] = {"Account", "Contact", "Lead", NULL};

        if (!sf_parser_is(p, "RETURNING")) {
                for (size_t i = 0; defaults[i]; i++) {
                        struct sf_select sel = {.limit = -1, .fields = json_pack("[s]", "Id")};
                        json_t *recs;
                        snprintf(sel.type, sizeof(sel.type), "%s", defaults[i]);
                        sel.candidates = candidates(s, sel.type);
                        recs = sf_select_run_locked(&sel, op->version, keep, s);
                        json_array_extend(out, recs);
                        json_decref(recs);
                        sf_select_free(&sel);
                }
                return true;
        }
        if (!sf_parser_next(p))
                return false;
        for (;;) {
                if (!returning_one(p, op, s, out))
                        return false;
                if (!sf_parser_is(p, ","))
                        return true;
                if (!sf_parser_next(p))
                        return false;
        }
}

void sf_search_run_locked(const struct sf_op *op, struct sf_result *res)
{
        struct sf_parser p;
        struct search s = {0};
        json_t *out = json_array();
        long limit = -1;

        if (!op->q || !*op->q || !out) {
                sf_error(res, 400, "MALFORMED_SEARCH", NULL, "A search string has to be specified");
                goto fail;
        }
        sf_parser_init(&p, op->q, res);
        p.malformed = "MALFORMED_SEARCH";
        if (!sf_parser_next(&p) || !sf_parser_is(&p, "FIND")) {
                sf_parser_unexpected(&p);
                goto fail;
        }
        p.pos = p.tok_pos + p.tok_len;
        p.tok_len = 0;
        if (!parse_term(op->q, &p.pos, &s, res) || !sf_parser_next(&p) || !parse_scope(&p, &s) ||
            !parse_returning(&p, op, &s, out))
                goto fail;
        if (sf_parser_is(&p, "LIMIT")) {
                char *end = NULL;
                if (!sf_parser_next(&p) || p.kind != SF_T_NUMBER ||
                    (limit = strtol(p.tok, &end, 10)) < 0 || !sf_parser_next(&p)) {
                        sf_parser_unexpected(&p);
                        goto fail;
                }
        }
        if (p.kind != SF_T_END) {
                sf_parser_unexpected(&p);
                goto fail;
        }
        while (limit >= 0 && json_array_size(out) > (size_t)limit)
                json_array_remove(out, json_array_size(out) - 1);
        res->status = 200;
        res->body = json_pack("{s:o}", "searchRecords", out);
        return;
fail:
        json_decref(out);
}
