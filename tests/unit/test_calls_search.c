/* The calls search's term (src/calls/search.c): numbers by their digits, text as an escaped
 * substring pattern, and every term refused (empty, too long, bad UTF-8, control characters). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/calls.h"

static void test_classify(void **state)
{
        static const struct {
                const char *q;
                enum cb_call_search kind;
                const char *pattern;
        } cases[] = {
            {"+14155550123", CB_CALL_SEARCH_NUMBER, "%14155550123%"},
            {"(415) 555-0123", CB_CALL_SEARCH_NUMBER, "%4155550123%"},
            {"555.01", CB_CALL_SEARCH_NUMBER, "%55501%"},
            {"  0123  ", CB_CALL_SEARCH_NUMBER, "%0123%"},
            {"7", CB_CALL_SEARCH_NUMBER, "%7%"},
            {"Ada", CB_CALL_SEARCH_TEXT, "%Ada%"},
            {"  ada lovelace ", CB_CALL_SEARCH_TEXT, "%ada lovelace%"},
            {"Acme 2", CB_CALL_SEARCH_TEXT, "%Acme 2%"},
            {"call back", CB_CALL_SEARCH_TEXT, "%call back%"},
            {"100%", CB_CALL_SEARCH_TEXT, "%100\\%%"},
            {"no_answer", CB_CALL_SEARCH_TEXT, "%no\\_answer%"},
            {"a\\b", CB_CALL_SEARCH_TEXT, "%a\\\\b%"},
            {"+-()", CB_CALL_SEARCH_TEXT, "%+-()%"}, /* punctuation without a digit */
            {"Zoë", CB_CALL_SEARCH_TEXT, "%Zoë%"},
            {"日本", CB_CALL_SEARCH_TEXT, "%日本%"},
            {"\xF0\x9F\x93\x9E", CB_CALL_SEARCH_TEXT, "%\xF0\x9F\x93\x9E%"},
            {"'; DROP TABLE calls; --", CB_CALL_SEARCH_TEXT, "%'; DROP TABLE calls; --%"},
        };
        char pattern[CB_CALL_SEARCH_PATTERN_MAX];

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                enum cb_call_search k = cb_calls_search_term(cases[i].q, pattern, sizeof(pattern));
                if (k != cases[i].kind || strcmp(pattern, cases[i].pattern) != 0)
                        fail_msg("\"%s\": kind %d pattern \"%s\", want %d \"%s\"", cases[i].q,
                                 (int)k, pattern, (int)cases[i].kind, cases[i].pattern);
        }
}

static void test_refused(void **state)
{
        static const char *const bad[] = {
            "",
            "   ",
            "a\tb",
            "a\nb",
            "\x7f",
            "\xC2\x85", /* NEL, a C1 control */
            "\xC3",     /* truncated */
            "\xC3\x28", /* bad continuation */
            "\xC0\xAF", /* overlong */
            "\xE0\x80\xAF",
            "\xED\xA0\x80",     /* a surrogate */
            "\xF4\x90\x80\x80", /* beyond U+10FFFF */
            "\xFF",
        };
        char pattern[CB_CALL_SEARCH_PATTERN_MAX];
        char text[512];

        (void)state;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (cb_calls_search_term(bad[i], pattern, sizeof(pattern)) !=
                    CB_CALL_SEARCH_INVALID)
                        fail_msg("accepted term %zu", i);
        assert_int_equal(cb_calls_search_term(NULL, pattern, sizeof(pattern)),
                         CB_CALL_SEARCH_INVALID);
        /* 100 characters, even of 4 bytes each, pass; 101 do not. */
        text[0] = '\0';
        for (int i = 0; i < CB_CALL_SEARCH_MAX; i++)
                strcat(text, "\xF0\x9F\x93\x9E");
        assert_int_equal(cb_calls_search_term(text, pattern, sizeof(pattern)), CB_CALL_SEARCH_TEXT);
        strcat(text, "x");
        assert_int_equal(cb_calls_search_term(text, pattern, sizeof(pattern)),
                         CB_CALL_SEARCH_INVALID);
        memset(text, '%', CB_CALL_SEARCH_MAX); /* the longest pattern fits */
        text[CB_CALL_SEARCH_MAX] = '\0';
        assert_int_equal(cb_calls_search_term(text, pattern, sizeof(pattern)), CB_CALL_SEARCH_TEXT);
        assert_int_equal(strlen(pattern), 2 * CB_CALL_SEARCH_MAX + 2);
        /* Spaces around do not count. */
        memset(text, '1', CB_CALL_SEARCH_MAX);
        strcpy(text + CB_CALL_SEARCH_MAX, "   ");
        assert_int_equal(cb_calls_search_term(text, pattern, sizeof(pattern)),
                         CB_CALL_SEARCH_NUMBER);
        /* A buffer too small is refused, not overrun. */
        assert_int_equal(cb_calls_search_term("ada", pattern, 16), CB_CALL_SEARCH_INVALID);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_classify),
            cmocka_unit_test(test_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
