/* callbridge-sandbox: the SOQL machinery that query (sf_query.c), conditions and literals
 * (sf_cond.c) and SOSL (sf_search.c) share. Sandbox-local. */
#ifndef CALLBRIDGE_SANDBOX_SF_SOQL_H
#define CALLBRIDGE_SANDBOX_SF_SOQL_H

#include "sf_emu.h"

enum sf_tok { SF_T_END, SF_T_IDENT, SF_T_STRING, SF_T_NUMBER, SF_T_PUNCT };

/* A parser over one SOQL/SOSL text. After an error `res` holds the Salesforce error and
 * `failed` is set; every parse function then returns false at once. */
struct sf_parser {
        const char *text;
        size_t pos;       /* where the next token starts */
        enum sf_tok kind; /* the current token */
        const char *tok;  /* its text (into `text`) */
        size_t tok_len;
        size_t tok_pos; /* its offset, for "ERROR at Row:1:Column:N" */
        struct sf_result *res;
        const char *malformed; /* "MALFORMED_QUERY" (SOQL) or "MALFORMED_SEARCH" (SOSL) */
        bool failed;
};

struct sf_cond;

/* One object's SELECT (or SOSL RETURNING) after parsing. */
struct sf_select {
        char type[128];
        json_t *fields; /* canonical paths */
        json_t *raw;    /* [[name, column],...] as written, until validated */
        struct sf_cond *where;
        char order[256]; /* "" when none */
        bool desc, nulls_last;
        long limit;         /* -1 when none */
        json_t *candidates; /* the records to consider (owned; an index's answer), NULL: all */
};

void sf_parser_init(struct sf_parser *p, const char *text, struct sf_result *res);
/* Advance to the next token; false (with MALFORMED_QUERY) on a bad or unterminated token. */
bool sf_parser_next(struct sf_parser *p);
/* True when the current token is the keyword `kw` (case-insensitive) or punctuation `kw`. */
bool sf_parser_is(const struct sf_parser *p, const char *kw);
/* Fail with MALFORMED_QUERY "unexpected token: ..." for the current token. */
bool sf_parser_unexpected(struct sf_parser *p);
/* Parse "f1, f2, Rel.f" up to (not including) the first token that is not part of it. */
bool sf_select_parse_fields(struct sf_parser *p, struct sf_select *sel);
/* Check the object and the collected field names, INVALID_TYPE / INVALID_FIELD. */
bool sf_select_resolve(struct sf_parser *p, struct sf_select *sel, size_t type_pos);
/* Parse [WHERE cond] [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST]] [LIMIT n]. */
bool sf_select_parse_clauses(struct sf_parser *p, struct sf_select *sel);
/* The matching records of sel->type, filtered by `keep` too when not NULL, ordered and
 * limited, rendered; new array or NULL when out of memory. Lock held. */
json_t *sf_select_run_locked(const struct sf_select *sel, const char *version,
                             bool (*keep)(json_t *rec, const char *type, void *arg), void *arg);
void sf_select_free(struct sf_select *sel);

/* Resolve a field path ("Phone", "Account.Name", "Who.Name") on `type` into its canonical
 * spelling in `canon`; false with INVALID_FIELD (reported at column `col`) otherwise. */
bool sf_soql_resolve_path(struct sf_parser *p, const char *type, const char *path, size_t col,
                          char *canon, size_t canon_len);

/* Parse a condition at the current token for records of `type`; NULL after an error. */
struct sf_cond *sf_cond_parse(struct sf_parser *p, const char *type);
/* True when `rec` of `type` satisfies `c` (NULL: always). Lock held. */
bool sf_cond_eval(const struct sf_cond *c, const char *type, json_t *rec);
/* When every record satisfying `c` has its top-level `field` equal to one of a few values
 * (c is "field = 'v'", "field IN (...)", or an AND with such a side), those values as a new
 * array of strings and the field's name in `field`; NULL otherwise. */
json_t *sf_cond_pinned(const struct sf_cond *c, char *field, size_t field_size);
void sf_cond_free(struct sf_cond *c);
/* Compare two stored values for ORDER BY (nulls handled by the caller). */
int sf_value_compare(json_t *a, json_t *b);

#endif
