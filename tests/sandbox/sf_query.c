/* callbridge-sandbox: SOQL, the subset callbridge needs, parsed and run over the records.
 *
 *   SELECT f1, f2, Rel.f FROM Obj [WHERE cond] [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST]]
 *   [LIMIT n]
 *
 * cond: Field =|!=|<>|<|>|<=|>= literal, Field [NOT] LIKE 'pat', Field [NOT] IN (...),
 * Field = null, combined with AND, OR, NOT and parentheses. String literals are decoded as
 * Salesforce does (sf_literal.c); errors are MALFORMED_QUERY, INVALID_FIELD, INVALID_TYPE with
 * Salesforce's "ERROR at Row:1:Column:N" messages. The lexer and the select machinery are
 * shared with SOSL (sf_search.c). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sf_soql.h"

void sf_parser_init(struct sf_parser *p, const char *text, struct sf_result *res)
{
        memset(p, 0, sizeof(*p));
        p->text = text;
        p->res = res;
        p->malformed = "MALFORMED_QUERY";
}

/* Fail with the parser's MALFORMED_* code and this message. */
static bool fail_malformed(struct sf_parser *p, const char *msg)
{
        if (!p->failed)
                sf_error(p->res, 400, p->malformed, NULL, "%s", msg);
        p->failed = true;
        return false;
}

bool sf_parser_unexpected(struct sf_parser *p)
{
        char msg[160];

        if (p->kind == SF_T_END)
                return fail_malformed(p, "unexpected token: <EOF>");
        snprintf(msg, sizeof(msg), "unexpected token: '%.*s'",
                 (int)(p->tok_len > 100 ? 100 : p->tok_len), p->tok);
        return fail_malformed(p, msg);
}

/* Scan a quoted literal starting at p->pos; the token keeps its quotes. */
static bool scan_string(struct sf_parser *p)
{
        const char *s = p->text + p->pos;
        size_t i = 1;

        while (s[i] && s[i] != '\'') {
                if (s[i] == '\\' && s[i + 1])
                        i++;
                i++;
        }
        if (!s[i]) {
                char msg[96];
                snprintf(msg, sizeof(msg), "line 1:%zu mismatched character '<EOF>' expecting '''",
                         p->pos + i);
                return fail_malformed(p, msg);
        }
        p->kind = SF_T_STRING;
        p->tok_len = i + 1;
        return true;
}

bool sf_parser_next(struct sf_parser *p)
{
        const char *s;

        if (p->failed)
                return false;
        p->pos += p->tok_len;
        while (isspace((unsigned char)p->text[p->pos]))
                p->pos++;
        s = p->text + p->pos;
        p->tok = s;
        p->tok_pos = p->pos;
        p->tok_len = 0;
        if (!*s) {
                p->kind = SF_T_END;
                return true;
        }
        if (*s == '\'')
                return scan_string(p);
        if (isalpha((unsigned char)*s) || *s == '_') {
                while (isalnum((unsigned char)s[p->tok_len]) || s[p->tok_len] == '_' ||
                       s[p->tok_len] == '.')
                        p->tok_len++;
                p->kind = SF_T_IDENT;
                return true;
        }
        if (isdigit((unsigned char)*s) || (*s == '-' && isdigit((unsigned char)s[1]))) {
                p->tok_len = 1;
                while (isdigit((unsigned char)s[p->tok_len]) || s[p->tok_len] == '.')
                        p->tok_len++;
                p->kind = SF_T_NUMBER;
                return true;
        }
        p->kind = SF_T_PUNCT;
        if ((s[0] == '!' && s[1] == '=') || (s[0] == '<' && (s[1] == '>' || s[1] == '=')) ||
            (s[0] == '>' && s[1] == '='))
                p->tok_len = 2;
        else if (strchr("(),=<>", *s))
                p->tok_len = 1;
        else {
                char msg[32];
                snprintf(msg, sizeof(msg), "unexpected token: '%c'", *s);
                p->tok_len = 1;
                return fail_malformed(p, msg);
        }
        return true;
}

bool sf_parser_is(const struct sf_parser *p, const char *kw)
{
        size_t n = strlen(kw);

        if (p->failed || p->kind == SF_T_END || p->kind == SF_T_STRING || p->tok_len != n)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (tolower((unsigned char)p->tok[i]) != tolower((unsigned char)kw[i]))
                        return false;
        }
        return true;
}

/* The current token as a new JSON string. */
static json_t *tok_string(const struct sf_parser *p)
{
        return json_stringn(p->tok, p->tok_len);
}

bool sf_select_parse_fields(struct sf_parser *p, struct sf_select *sel)
{
        if (!sel->raw)
                sel->raw = json_array();
        for (;;) {
                if (p->kind != SF_T_IDENT)
                        return sf_parser_unexpected(p);
                json_array_append_new(sel->raw,
                                      json_pack("[o,I]", tok_string(p), (json_int_t)p->tok_pos));
                if (!sf_parser_next(p))
                        return false;
                if (!sf_parser_is(p, ","))
                        return true;
                if (!sf_parser_next(p))
                        return false;
        }
}

/* "\n<query>\n   ^\nERROR at Row:1:Column:N\n<what>" as Salesforce words query errors. */
static bool fail_at(struct sf_parser *p, const char *code, size_t col, const char *what)
{
        if (!p->failed)
                sf_error(p->res, 400, code, NULL, "\n%s\n%*s^\nERROR at Row:1:Column:%zu\n%s",
                         p->text, (int)col, "", col + 1, what);
        p->failed = true;
        return false;
}

bool sf_soql_resolve_path(struct sf_parser *p, const char *type, const char *path, size_t col,
                          char *canon, size_t canon_len)
{
        char what[512], seg[128];
        const char *dot = strchr(path, '.');
        json_t *f;

        if (!dot) {
                f = sf_schema_field_locked(type, path);
                if (!f) {
                        snprintf(what, sizeof(what),
                                 "No such column '%s' on entity '%s'. If you are attempting to "
                                 "use a custom field, be sure to append the '__c' after the "
                                 "custom field name. Please reference your WSDL or the describe "
                                 "call for the appropriate names.",
                                 path, type);
                        return fail_at(p, "INVALID_FIELD", col, what);
                }
                snprintf(canon, canon_len, "%s", json_string_value(json_object_get(f, "name")));
                return true;
        }
        snprintf(seg, sizeof(seg), "%.*s", (int)(dot - path), path);
        f = sf_schema_relationship_locked(type, seg);
        if (!f) {
                snprintf(what, sizeof(what),
                         "Didn't understand relationship '%s' in field path. If you are "
                         "attempting to use a custom relationship, be sure to append the '__r' "
                         "after the custom relationship name. Please reference your WSDL or the "
                         "describe call for the appropriate names.",
                         seg);
                return fail_at(p, "INVALID_FIELD", col, what);
        }
        {
                json_t *targets = json_object_get(f, "referenceTo"), *t;
                const char *rel = json_string_value(json_object_get(f, "relationshipName"));
                size_t i, used = (size_t)snprintf(canon, canon_len, "%s.", rel);
                struct sf_parser probe = *p;

                /* Polymorphic (Who, What): the field must exist on one of the targets. */
                json_array_foreach(targets, i, t)
                {
                        struct sf_result scratch = {0};
                        probe.failed = false;
                        probe.res = &scratch;
                        if (sf_soql_resolve_path(&probe, json_string_value(t), dot + 1, col,
                                                 canon + used, canon_len - used)) {
                                sf_result_clear(&scratch);
                                return true;
                        }
                        sf_result_clear(&scratch);
                }
                return sf_soql_resolve_path(
                    p, json_string_value(json_array_get(targets, json_array_size(targets) - 1)),
                    dot + 1, col, canon + used, canon_len - used);
        }
}

bool sf_select_resolve(struct sf_parser *p, struct sf_select *sel, size_t type_pos)
{
        json_t *item;
        size_t i;
        char canon[512], what[512];

        if (!sf_schema_object_locked(sel->type)) {
                snprintf(what, sizeof(what),
                         "sObject type '%s' is not supported. If you are attempting to use a "
                         "custom object, be sure to append the '__c' after the entity name. "
                         "Please reference your WSDL or the describe call for the appropriate "
                         "names.",
                         sel->type);
                return fail_at(p, "INVALID_TYPE", type_pos, what);
        }
        if (!sel->fields)
                sel->fields = json_array();
        json_array_foreach(sel->raw, i, item)
        {
                const char *name = json_string_value(json_array_get(item, 0));
                size_t col = (size_t)json_integer_value(json_array_get(item, 1));
                if (!sf_soql_resolve_path(p, sel->type, name, col, canon, sizeof(canon)))
                        return false;
                json_array_append_new(sel->fields, json_string(canon));
        }
        return true;
}

/* A whole-number token into *out; false (MALFORMED_QUERY) otherwise. */
static bool parse_count(struct sf_parser *p, long *out)
{
        char buf[32], *end = NULL;

        if (p->kind != SF_T_NUMBER || p->tok_len >= sizeof(buf))
                return sf_parser_unexpected(p);
        memcpy(buf, p->tok, p->tok_len);
        buf[p->tok_len] = '\0';
        *out = strtol(buf, &end, 10);
        if (*end || *out < 0)
                return sf_parser_unexpected(p);
        return sf_parser_next(p);
}

static bool parse_order(struct sf_parser *p, struct sf_select *sel)
{
        size_t col;
        char raw[256];

        if (!sf_parser_next(p) || !sf_parser_is(p, "BY"))
                return sf_parser_unexpected(p);
        if (!sf_parser_next(p) || p->kind != SF_T_IDENT)
                return sf_parser_unexpected(p);
        snprintf(raw, sizeof(raw), "%.*s", (int)p->tok_len, p->tok);
        col = p->tok_pos;
        if (!sf_soql_resolve_path(p, sel->type, raw, col, sel->order, sizeof(sel->order)) ||
            !sf_parser_next(p))
                return false;
        if (sf_parser_is(p, "ASC") || sf_parser_is(p, "DESC")) {
                sel->desc = sf_parser_is(p, "DESC");
                if (!sf_parser_next(p))
                        return false;
        }
        sel->nulls_last = sel->desc;
        if (sf_parser_is(p, "NULLS")) {
                if (!sf_parser_next(p) || !(sf_parser_is(p, "FIRST") || sf_parser_is(p, "LAST")))
                        return sf_parser_unexpected(p);
                sel->nulls_last = sf_parser_is(p, "LAST");
                return sf_parser_next(p);
        }
        return true;
}

bool sf_select_parse_clauses(struct sf_parser *p, struct sf_select *sel)
{
        sel->limit = -1;
        if (sf_parser_is(p, "WHERE")) {
                if (!sf_parser_next(p))
                        return false;
                sel->where = sf_cond_parse(p, sel->type);
                if (!sel->where)
                        return false;
        }
        if (sf_parser_is(p, "ORDER") && !parse_order(p, sel))
                return false;
        if (sf_parser_is(p, "LIMIT")) {
                if (!sf_parser_next(p) || !parse_count(p, &sel->limit))
                        return false;
        }
        return !p->failed;
}

void sf_select_free(struct sf_select *sel)
{
        json_decref(sel->fields);
        json_decref(sel->raw);
        sf_cond_free(sel->where);
        json_decref(sel->candidates);
        sel->fields = sel->raw = sel->candidates = NULL;
        sel->where = NULL;
}

/* ORDER BY context for qsort (one sort per thread at a time). */
static _Thread_local const struct sf_select *sort_sel;

static int order_cmp(const void *pa, const void *pb)
{
        json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
        json_t *va = sf_record_value_locked(sort_sel->type, a, sort_sel->order);
        json_t *vb = sf_record_value_locked(sort_sel->type, b, sort_sel->order);
        bool na = !va || json_is_null(va), nb = !vb || json_is_null(vb);
        int c;

        if (na || nb)
                return na == nb ? 0 : (na ? -1 : 1) * (sort_sel->nulls_last ? -1 : 1);
        c = sf_value_compare(va, vb);
        return sort_sel->desc ? -c : c;
}

/* Is there a seeded UserRecordAccess row for (user, record)? */
static bool access_seeded(json_t *seeded, const char *user, const char *record)
{
        json_t *r;
        size_t i;

        json_array_foreach(seeded, i, r)
        {
                if (sf_value_equals(json_object_get(r, "UserId"), user) &&
                    sf_value_equals(json_object_get(r, "RecordId"), record))
                        return true;
        }
        return false;
}

/* The records of `type` a condition can match (new array, in the records' order): those the
 * index gives for the values it pins a field to; NULL when it pins none (then every record). */
static json_t *pinned_records_locked(const struct sf_cond *where, const char *type)
{
        char field[512];
        json_t *values = sf_cond_pinned(where, field, sizeof(field)), *out, *v, *found, *r;
        size_t i, k;

        if (!values)
                return NULL;
        out = json_array();
        json_array_foreach(values, i, v)
        {
                found = sb_index_match_locked(type, field, json_string_value(v));
                if (!found) {
                        json_decref(out);
                        out = NULL; /* out of memory: scan */
                        break;
                }
                json_array_foreach(found, k, r)
                {
                        bool dup = false;
                        json_t *seen;
                        size_t j;
                        json_array_foreach(out, j, seen) dup |= seen == r;
                        if (!dup)
                                json_array_append(out, r);
                }
                json_decref(found);
        }
        json_decref(values);
        if (out)
                sb_index_order_locked(type, out);
        return out;
}

/* UserRecordAccess as Salesforce computes it, simplified: the seeded rows, and for every
 * record with an owner a row saying its owner may read and edit it; only the records whose
 * Id the condition pins RecordId to when it does. New reference. */
static json_t *access_rows_locked(const struct sf_cond *where)
{
        json_t *seeded = sb_state_records_locked("UserRecordAccess", false);
        json_t *rows = seeded ? json_copy(seeded) : json_array(), *recs, *r;
        char field[512];
        json_t *ids = sf_cond_pinned(where, field, sizeof(field)), *v;
        const char *type;
        json_t *def;
        size_t i, k;

        if (ids && sf_strcasecmp(field, "RecordId") != 0) {
                json_decref(ids);
                ids = NULL;
        }
        json_object_foreach(sf_state_schema_locked(), type, def)
        {
                (void)def;
                if (!strcmp(type, "UserRecordAccess"))
                        continue;
                recs = ids ? json_array() : json_incref(sb_state_records_locked(type, false));
                json_array_foreach(ids, k, v)
                {
                        json_t *found = sb_index_match_locked(type, "Id", json_string_value(v));
                        json_array_extend(recs, found);
                        json_decref(found);
                }
                if (ids)
                        sb_index_order_locked(type, recs);
                json_array_foreach(recs, i, r)
                {
                        const char *owner = json_string_value(json_object_get(r, "OwnerId"));
                        const char *id = json_string_value(json_object_get(r, "Id"));
                        if (!owner || !id || access_seeded(seeded, owner, id))
                                continue;
                        json_array_append_new(rows, json_pack("{s:s,s:s,s:s,s:b,s:b,s:b,s:s}", "Id",
                                                              id, "UserId", owner, "RecordId", id,
                                                              "HasReadAccess", 1, "HasEditAccess",
                                                              1, "HasDeleteAccess", 1,
                                                              "MaxAccessLevel", "All"));
                }
                json_decref(recs);
        }
        json_decref(ids);
        return rows;
}

json_t *sf_select_run_locked(const struct sf_select *sel, const char *version,
                             bool (*keep)(json_t *rec, const char *type, void *arg), void *arg)
{
        bool access = strcmp(sel->type, "UserRecordAccess") == 0;
        json_t *arr = sel->candidates ? json_incref(sel->candidates)
                      : access        ? access_rows_locked(sel->where)
                                      : pinned_records_locked(sel->where, sel->type);
        json_t *rec, *out = json_array();
        json_t **hits;
        size_t i, n = 0;

        if (!arr) /* no field pinned: every record of the type */
                arr = json_incref(sb_state_records_locked(sel->type, false));
        hits = calloc(json_array_size(arr) + 1, sizeof(json_t *));

        if (!out || !hits)
                goto fail;
        json_array_foreach(arr, i, rec)
        {
                if (sf_cond_eval(sel->where, sel->type, rec) &&
                    (!keep || keep(rec, sel->type, arg)))
                        hits[n++] = rec;
        }
        if (sel->order[0]) {
                sort_sel = sel;
                qsort(hits, n, sizeof(json_t *), order_cmp);
                sort_sel = NULL;
        }
        for (i = 0; i < n && (sel->limit < 0 || (long)i < sel->limit); i++) {
                json_t *view =
                    sf_record_render_locked(version, sel->type, hits[i], json_copy(sel->fields));
                if (json_array_append_new(out, view) != 0)
                        goto fail;
        }
        free(hits);
        json_decref(arr);
        return out;
fail:
        free(hits);
        json_decref(arr);
        json_decref(out);
        return NULL;
}

void sf_query_run_locked(const struct sf_op *op, struct sf_result *res)
{
        struct sf_parser p;
        struct sf_select sel = {0};
        json_t *records;
        size_t type_pos;

        if (!op->q || !*op->q) {
                sf_error(res, 400, "MALFORMED_QUERY", NULL, "A query string has to be specified");
                return;
        }
        sf_parser_init(&p, op->q, res);
        if (!sf_parser_next(&p) || !sf_parser_is(&p, "SELECT")) {
                sf_parser_unexpected(&p);
                goto out;
        }
        if (!sf_parser_next(&p) || !sf_select_parse_fields(&p, &sel))
                goto out;
        if (!sf_parser_is(&p, "FROM") || !sf_parser_next(&p) || p.kind != SF_T_IDENT) {
                sf_parser_unexpected(&p);
                goto out;
        }
        snprintf(sel.type, sizeof(sel.type), "%.*s", (int)p.tok_len, p.tok);
        type_pos = p.tok_pos;
        if (!sf_select_resolve(&p, &sel, type_pos) || !sf_parser_next(&p) ||
            !sf_select_parse_clauses(&p, &sel))
                goto out;
        if (p.kind != SF_T_END) {
                sf_parser_unexpected(&p);
                goto out;
        }
        records = sf_select_run_locked(&sel, op->version, NULL, NULL);
        res->status = records ? 200 : 500;
        res->body =
            records ? json_pack("{s:I,s:b,s:o}", "totalSize", (json_int_t)json_array_size(records),
                                "done", 1, "records", records)
                    : NULL;
out:
        sf_select_free(&sel);
}
