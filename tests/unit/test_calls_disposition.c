/* The wrap-up's pure parts (src/calls/disposition.c): [agents] dispositions read in place —
 * which lists are valid and why not, value -> label, the allowed values an error message lists —
 * and the notes' length in characters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/calls.h"

#define DEFAULT_LIST                                                                               \
        "interested:Interested, not_interested:Not Interested, callback:Call Back, "               \
        "voicemail:Left Voicemail, no_answer:No Answer, wrong_number:Wrong Number"

static void test_valid_lists(void **state)
{
        static const char *const lists[] = {
            DEFAULT_LIST,
            "interested",                            /* its own label */
            "  a:A  ,b : B,c",                       /* spaces around anything */
            "sale-won:Closed – Won, x_1:Ünïcode ok", /* UTF-8 labels */
            "a:A\t,\tb:B",                           /* tabs */
        };
        char err[256];

        (void)state;
        for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
                if (!cb_calls_dispositions_check(lists[i], err, sizeof(err)))
                        fail_msg("\"%s\" refused: %s", lists[i], err);
}

static void test_invalid_lists(void **state)
{
        static const struct {
                const char *list;
                const char *why; /* a part of the error */
        } cases[] = {
            {NULL, "at least one"},
            {"", "at least one"},
            {"   ", "at least one"},
            {"Interested:Interested", "item 1: the value \"Interested\""},
            {"a:A,,b:B", "item 2: the value \"\""},
            {"a:A,", "item 2 is empty"},
            {",a:A", "item 1"},
            {"a:", "item 1 (a): the label"},
            {"a:A:B", "one colon"},
            {"a:A, b:B, a:C", "\"a\" is listed twice"},
            {"with space:X", "item 1: the value \"with space\""},
            {"a:Line\nbreak", "control character"},
            {"a:A, b:B, c:C, d;:D", "item 4"},
        };
        char err[256];

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                err[0] = '\0';
                if (cb_calls_dispositions_check(cases[i].list, err, sizeof(err)))
                        fail_msg("\"%s\" accepted", cases[i].list ? cases[i].list : "(null)");
                if (strstr(err, cases[i].why) == NULL)
                        fail_msg("\"%s\": error \"%s\" lacks \"%s\"", cases[i].list, err,
                                 cases[i].why);
        }
}

/* Values are 1-64 bytes; a list has at most CB_DISPOSITIONS_MAX items; labels 1-255 bytes. */
static void test_bounds(void **state)
{
        char list[CB_DISPOSITIONS_MAX * 8 + 600], err[256];
        size_t n = 0;

        (void)state;
        for (int i = 0; i < CB_DISPOSITIONS_MAX; i++)
                n += (size_t)snprintf(list + n, sizeof(list) - n, "%sv%d", i ? "," : "", i);
        assert_true(cb_calls_dispositions_check(list, err, sizeof(err)));
        snprintf(list + n, sizeof(list) - n, ",one_more");
        assert_false(cb_calls_dispositions_check(list, err, sizeof(err)));
        assert_non_null(strstr(err, "more than 64"));

        memset(list, 'v', 64);
        list[64] = '\0';
        assert_true(cb_calls_dispositions_check(list, err, sizeof(err)));
        strcpy(list + 64, "v");
        assert_false(cb_calls_dispositions_check(list, err, sizeof(err)));

        strcpy(list, "a:");
        memset(list + 2, 'L', 255);
        list[257] = '\0';
        assert_true(cb_calls_dispositions_check(list, err, sizeof(err)));
        strcpy(list + 257, "L");
        assert_false(cb_calls_dispositions_check(list, err, sizeof(err)));
}

static void test_labels(void **state)
{
        char label[CB_DISPOSITION_LABEL_MAX + 1];

        (void)state;
        assert_true(cb_calls_disposition_label(DEFAULT_LIST, "callback", label, sizeof(label)));
        assert_string_equal(label, "Call Back");
        assert_true(cb_calls_disposition_label(DEFAULT_LIST, "wrong_number", label, sizeof(label)));
        assert_string_equal(label, "Wrong Number");
        assert_true(cb_calls_disposition_label("  a : Spaced Label ,b", "a", label, sizeof(label)));
        assert_string_equal(label, "Spaced Label");
        assert_true(cb_calls_disposition_label("  a : Spaced Label ,b", "b", label, sizeof(label)));
        assert_string_equal(label, "b");
        /* Unknown values, prefixes, labels and case are no values. */
        assert_false(cb_calls_disposition_label(DEFAULT_LIST, "call", label, sizeof(label)));
        assert_string_equal(label, "");
        assert_false(cb_calls_disposition_label(DEFAULT_LIST, "Call Back", label, sizeof(label)));
        assert_false(cb_calls_disposition_label(DEFAULT_LIST, "CALLBACK", label, sizeof(label)));
        assert_false(cb_calls_disposition_label(DEFAULT_LIST, "", label, sizeof(label)));
        assert_false(cb_calls_disposition_label(DEFAULT_LIST, NULL, label, sizeof(label)));
        /* An invalid list maps nothing. */
        assert_false(cb_calls_disposition_label("a:A, a:B", "a", label, sizeof(label)));
        /* A small buffer gets the label cut, still true. */
        assert_true(cb_calls_disposition_label(DEFAULT_LIST, "voicemail", label, 5));
        assert_string_equal(label, "Left");
}

static void test_values(void **state)
{
        char out[256];

        (void)state;
        cb_calls_dispositions_values(DEFAULT_LIST, out, sizeof(out));
        assert_string_equal(out, "interested, not_interested, callback, voicemail, no_answer, "
                                 "wrong_number");
        cb_calls_dispositions_values(" x : X ", out, sizeof(out));
        assert_string_equal(out, "x");
        cb_calls_dispositions_values("a:A,", out, sizeof(out));
        assert_string_equal(out, "");
        cb_calls_dispositions_values(DEFAULT_LIST, out, 12); /* cut, terminated */
        assert_string_equal(out, "interested,");
}

static void test_notes(void **state)
{
        char *notes = malloc(CB_NOTES_MAX + 8);

        (void)state;
        assert_non_null(notes);
        assert_true(cb_calls_notes_valid(NULL));
        assert_true(cb_calls_notes_valid(""));
        memset(notes, 'n', CB_NOTES_MAX_CHARS);
        notes[CB_NOTES_MAX_CHARS] = '\0';
        assert_true(cb_calls_notes_valid(notes));
        strcpy(notes + CB_NOTES_MAX_CHARS, "n");
        assert_false(cb_calls_notes_valid(notes));
        /* Characters, not bytes: 4000 four-byte characters fit, one more does not. */
        for (int i = 0; i < CB_NOTES_MAX_CHARS; i++)
                memcpy(notes + 4 * i, "\xF0\x9F\x93\x9E", 4); /* U+1F4DE */
        notes[4 * CB_NOTES_MAX_CHARS] = '\0';
        assert_true(cb_calls_notes_valid(notes));
        memcpy(notes + 4 * CB_NOTES_MAX_CHARS, "\xC3\xA9", 3); /* é and its NUL */
        assert_false(cb_calls_notes_valid(notes));
        free(notes);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_valid_lists), cmocka_unit_test(test_invalid_lists),
            cmocka_unit_test(test_bounds),      cmocka_unit_test(test_labels),
            cmocka_unit_test(test_values),      cmocka_unit_test(test_notes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
