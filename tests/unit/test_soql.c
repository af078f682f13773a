/* SOQL string-literal and SOSL FIND-term escaping (src/crm/soql.c).
 * Vector sources:
 *  [QSE]  SOQL and SOSL Reference, "Quoted String Escape Sequences"
 *         developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/
 *         sforce_api_calls_soql_select_quotedstringescapes.htm
 *  [RES]  same reference, "Reserved Characters" (SOQL): Bob's BBQ
 *  [FIND] same reference, "FIND {SearchQuery}", Reserved Characters: {1+1}:2
 *  [SSF]  simple-salesforce, simple_salesforce/tests/test_format.py (TestFormatSoql) */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/soql.h"
#include "callbridge/util.h"

enum kind { SOQL, SOQL_LIKE, SOSL };

struct esc_case {
        enum kind kind;
        const char *in;
        const char *want; /* NULL: must fail with the buffer unchanged */
};

static const struct esc_case cases[] = {
    /* [SSF] test_no_escape_needed, test_escaped_chars, test_like */
    {SOQL, "value1", "value1"},
    {SOQL, "val'ue1\n", "val\\'ue1\\n"},
    {SOQL, "val'ue2\n", "val\\'ue2\\n"},
    {SOQL_LIKE, "foo'%bar_", "foo\\'\\%bar\\_"},
    /* [RES] */
    {SOQL, "Bob's BBQ", "Bob\\'s BBQ"},
    /* [QSE] the LIKE examples: 'Ter\%' matches exactly "Ter%" */
    {SOQL_LIKE, "Ter%", "Ter\\%"},
    /* [QSE] every sequence of the table, one at a time and together */
    {SOQL, "'", "\\'"},
    {SOQL, "\"", "\\\""},
    {SOQL, "\\", "\\\\"},
    {SOQL, "\n", "\\n"},
    {SOQL, "\r", "\\r"},
    {SOQL, "\t", "\\t"},
    {SOQL, "\b", "\\b"},
    {SOQL, "\f", "\\f"},
    {SOQL, "a'b\"c\\d\ne\rf\tg\bh\fi", "a\\'b\\\"c\\\\d\\ne\\rf\\tg\\bh\\fi"},
    {SOQL, "C:\\temp\\new", "C:\\\\temp\\\\new"},
    {SOQL, "\\'", "\\\\\\'"},                       /* an escape in the input is not trusted */
    {SOQL, "' OR Name != '", "\\' OR Name != \\'"}, /* injection stays inside the literal */
    {SOQL_LIKE, "'\"\\\n\r\t\b\f", "\\'\\\"\\\\\\n\\r\\t\\b\\f"},
    /* % and _ only matter in LIKE */
    {SOQL, "100%_done", "100%_done"},
    {SOQL_LIKE, "100%_done", "100\\%\\_done"},
    {SOQL, "%", "%"},
    {SOQL_LIKE, "_", "\\_"},
    {SOQL_LIKE, "%%__", "\\%\\%\\_\\_"},
    /* SOSL's reserved characters are plain in a SOQL literal */
    {SOQL, "?&|!{}[]()^~*:+-", "?&|!{}[]()^~*:+-"},
    /* other control characters have no SOQL escape and are copied as is */
    {SOQL, "a\x01\x0b\x7f", "a\x01\x0b\x7f"},
    /* empty */
    {SOQL, "", ""},
    {SOQL_LIKE, "", ""},
    {SOSL, "", ""},
    /* UTF-8 text passes through unchanged (2-, 3- and 4-byte sequences) */
    {SOQL, "Zo\xc3\xab \xe5\x8c\x97\xe4\xba\xac \xf0\x9f\x98\x80",
     "Zo\xc3\xab \xe5\x8c\x97\xe4\xba\xac \xf0\x9f\x98\x80"},
    {SOQL_LIKE, "Zo\xc3\xab_%", "Zo\xc3\xab\\_\\%"},
    {SOSL, "Zo\xc3\xab \xe5\x8c\x97\xe4\xba\xac \xf0\x9f\x98\x80",
     "Zo\xc3\xab \xe5\x8c\x97\xe4\xba\xac \xf0\x9f\x98\x80"},
    {SOQL,
     "O\xe2\x80\x99"
     "Brien",
     "O\xe2\x80\x99"
     "Brien"}, /* U+2019 is not a quote to SOQL */
    {SOQL, "\xef\xbf\xbf\xf4\x8f\xbf\xbf", "\xef\xbf\xbf\xf4\x8f\xbf\xbf"}, /* U+FFFF, U+10FFFF */
    {SOQL, "\xed\x9f\xbf\xee\x80\x80", "\xed\x9f\xbf\xee\x80\x80"}, /* around the surrogates */
    /* [FIND] the reference's own example */
    {SOSL, "{1+1}:2", "\\{1\\+1\\}\\:2"},
    /* every SOSL reserved character, together */
    {SOSL, "?&|!{}[]()^~*:\\\"'+-", "\\?\\&\\|\\!\\{\\}\\[\\]\\(\\)\\^\\~\\*\\:\\\\\\\"\\'\\+\\-"},
    {SOSL, "+1 (415) 555-0123", "\\+1 \\(415\\) 555\\-0123"},
    {SOSL, "joe@example.com", "joe@example.com"},
    {SOSL, "Joe Sm?th*", "Joe Sm\\?th\\*"}, /* wildcards become literal */
    {SOSL, "AT&T", "AT\\&T"},
    /* SOQL's own escapes are not SOSL's: % _ and control characters are copied */
    {SOSL, "100%_done\n", "100%_done\n"},
    /* ill-formed UTF-8 (Unicode Table 3-7) */
    {SOQL, "\xff", NULL},
    {SOQL, "\xfe", NULL},
    {SOQL, "abc\x80", NULL},      /* lone continuation byte */
    {SOQL, "\xc3", NULL},         /* truncated at the end */
    {SOQL, "\xe5\x8c", NULL},     /* truncated 3-byte */
    {SOQL, "\xf0\x9f\x98", NULL}, /* truncated 4-byte */
    {SOQL, "\xc3\x61", NULL},     /* lead byte followed by ASCII 'a' */
    /* a lead byte where a continuation byte belongs */
    {SOQL, "\xc3\xc3", NULL},
    {SOQL, "\xe5\x8c\xe5", NULL},
    {SOQL, "\xf0\x9f\x98\xf0", NULL},
    {SOQL, "\xc3\xc3\xab", NULL},
    {SOQL, "\xe5\xe5\x8c\x97", NULL},
    {SOQL, "\xf0\x9f\xf0\x9f\x98\x80", NULL},
    {SOQL, "\xc0\xaf", NULL},             /* overlong '/' */
    {SOQL, "\xc1\xbf", NULL},             /* overlong */
    {SOQL, "\xe0\x80\xaf", NULL},         /* overlong 3-byte */
    {SOQL, "\xf0\x80\x80\xaf", NULL},     /* overlong 4-byte */
    {SOQL, "\xed\xa0\x80", NULL},         /* U+D800, a surrogate */
    {SOQL, "\xed\xbf\xbf", NULL},         /* U+DFFF */
    {SOQL, "\xf4\x90\x80\x80", NULL},     /* U+110000 */
    {SOQL, "\xf5\x80\x80\x80", NULL},     /* beyond U+10FFFF */
    {SOQL, "\xf8\x88\x80\x80\x80", NULL}, /* 5-byte form */
    {SOQL_LIKE, "ok' \xff", NULL},        /* fails even after escapable text */
    {SOSL, "{\xe2\x82}", NULL},
    {SOSL, "\xed\xa0\x80", NULL},
};

static const char *kind_name(enum kind k)
{
        return k == SOQL ? "soql" : k == SOQL_LIKE ? "soql-like" : "sosl";
}

static int run(enum kind k, struct cb_buf *b, const char *in)
{
        if (k == SOSL)
                return cb_sosl_escape(b, in);
        return cb_soql_escape(b, in, k == SOQL_LIKE);
}

static void test_vectors(void **state)
{
        (void)state;
        for (size_t i = 0; i < CB_ARRAY_LEN(cases); i++) {
                const struct esc_case *c = &cases[i];
                struct cb_buf b = {.max = 4096};
                int rc;

                /* appended after what the buffer already holds */
                assert_int_equal(cb_buf_puts(&b, "pre:"), 0);
                rc = run(c->kind, &b, c->in);
                if (c->want == NULL) {
                        if (rc != -1)
                                fail_msg("case %zu (%s): accepted ill-formed input", i,
                                         kind_name(c->kind));
                        assert_int_equal(b.len, 4);
                        assert_string_equal(b.data, "pre:");
                } else {
                        if (rc != 0)
                                fail_msg("case %zu (%s): rc %d", i, kind_name(c->kind), rc);
                        if (b.len != 4 + strlen(c->want) || strcmp(b.data + 4, c->want) != 0)
                                fail_msg("case %zu (%s): got \"%s\" want \"%s\"", i,
                                         kind_name(c->kind), b.data + 4, c->want);
                        assert_memory_equal(b.data, "pre:", 4);
                }
                cb_buf_free(&b);
        }
}

/* Each reserved character on its own gets exactly one backslash; every other printable
 * ASCII character is copied as is. */
static void test_sosl_ascii(void **state)
{
        const char *reserved = "?&|!{}[]()^~*:\\\"'+-";
        (void)state;

        for (int c = 0x01; c < 0x80; c++) {
                char in[2] = {(char)c, '\0'};
                struct cb_buf b = {.max = 16};
                bool is_reserved = strchr(reserved, c) != NULL;

                assert_int_equal(cb_sosl_escape(&b, in), 0);
                if (is_reserved) {
                        assert_int_equal(b.len, 2);
                        assert_int_equal(b.data[0], '\\');
                        assert_int_equal(b.data[1], c);
                } else {
                        assert_int_equal(b.len, 1);
                        assert_int_equal(b.data[0], c);
                }
                cb_buf_free(&b);
        }
        assert_int_equal(strlen(reserved), 19);
}

/* The SOQL escapes are exactly the documented ten: nothing else in ASCII changes. */
static void test_soql_ascii(void **state)
{
        const char *always = "'\"\\\n\r\t\b\f";
        (void)state;

        for (int c = 0x01; c < 0x80; c++) {
                char in[2] = {(char)c, '\0'};
                for (int like = 0; like <= 1; like++) {
                        struct cb_buf b = {.max = 16};
                        bool esc = strchr(always, c) != NULL || (like && (c == '%' || c == '_'));

                        assert_int_equal(cb_soql_escape(&b, in, like), 0);
                        assert_int_equal(b.len, esc ? 2 : 1);
                        if (esc)
                                assert_int_equal(b.data[0], '\\');
                        else
                                assert_int_equal(b.data[0], c);
                        cb_buf_free(&b);
                }
        }
}

/* Reaching the cap fails as a whole: nothing of `in` is written. */
static void test_cap(void **state)
{
        struct cb_buf b = {.max = 8};
        (void)state;

        assert_int_equal(cb_buf_puts(&b, "ab"), 0);
        /* "x'y" escapes to 4 bytes: 2 + 4 fits in 8 */
        assert_int_equal(cb_soql_escape(&b, "x'y", false), 0);
        assert_string_equal(b.data, "abx\\'y");
        /* 6 + 3 > 8, although the raw input (2 bytes) would fit */
        assert_int_equal(cb_soql_escape(&b, "''", false), -1);
        assert_int_equal(b.len, 6);
        assert_string_equal(b.data, "abx\\'y");
        assert_int_equal(cb_soql_escape(&b, "%", true), 0); /* exactly 8 */
        assert_string_equal(b.data, "abx\\'y\\%");
        assert_int_equal(cb_soql_escape(&b, "a", false), -1);
        assert_int_equal(cb_sosl_escape(&b, "a"), -1);
        assert_int_equal(cb_soql_escape(&b, "", false), 0); /* nothing to add still fits */
        assert_string_equal(b.data, "abx\\'y\\%");
        cb_buf_free(&b);

        /* a multi-byte character is never cut */
        b = (struct cb_buf){.max = 5};
        assert_int_equal(cb_sosl_escape(&b, "ab\xf0\x9f\x98\x80"), -1);
        assert_int_equal(b.len, 0);
        assert_int_equal(cb_sosl_escape(&b, "a\xf0\x9f\x98\x80"), 0);
        assert_int_equal(b.len, 5);
        cb_buf_free(&b);

        /* a zero cap takes only the empty string */
        b = (struct cb_buf){.max = 0};
        assert_int_equal(cb_soql_escape(&b, "", true), 0);
        assert_int_equal(cb_soql_escape(&b, "a", true), -1);
        assert_int_equal(cb_sosl_escape(&b, "-"), -1);
        assert_int_equal(b.len, 0);
        cb_buf_free(&b);
}

static void test_null_arguments(void **state)
{
        struct cb_buf b = {.max = 16};
        (void)state;

        assert_int_equal(cb_soql_escape(&b, NULL, false), -1);
        assert_int_equal(cb_sosl_escape(&b, NULL), -1);
        assert_int_equal(cb_soql_escape(NULL, "a", false), -1);
        assert_int_equal(cb_sosl_escape(NULL, "a"), -1);
        assert_int_equal(b.len, 0);
        cb_buf_free(&b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_vectors),        cmocka_unit_test(test_sosl_ascii),
            cmocka_unit_test(test_soql_ascii),     cmocka_unit_test(test_cap),
            cmocka_unit_test(test_null_arguments),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
