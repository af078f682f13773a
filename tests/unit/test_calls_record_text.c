/* How a call reads in the CRM (src/calls/record_text.c): subject, outcome words, numbers and
 * durations for people. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/calls.h"

static struct cb_call call_of(enum cb_call_direction dir, enum cb_call_status st, bool answered,
                              long duration)
{
        struct cb_call c = {.direction = dir, .status = st, .duration_s = duration};

        strcpy(c.to, "+14155550142");
        strcpy(c.from, "+14155550100");
        c.answered_us = answered ? 1 : 0;
        return c;
}

static void test_subject_with_party(void **state)
{
        struct cb_call c = call_of(CB_CALL_OUTBOUND, CB_CALL_COMPLETED, true, 185);
        char out[256];

        (void)state;
        strcpy(c.party_name, "Grace Hopper");
        strcpy(c.party_company, "Acme");
        cb_calls_record_subject(&c, out, sizeof(out));
        assert_string_equal(out, "Call with Grace Hopper (Acme) \xE2\x80\x94 outbound, 3 min");
        c.party_company[0] = '\0';
        c.duration_s = 42;
        cb_calls_record_subject(&c, out, sizeof(out));
        assert_string_equal(out, "Call with Grace Hopper \xE2\x80\x94 outbound, 42 s");
}

static void test_subject_falls_back_to_the_number(void **state)
{
        struct cb_call c = call_of(CB_CALL_INBOUND, CB_CALL_NO_ANSWER, false, -1);
        char out[256];

        (void)state;
        cb_calls_record_subject(&c, out, sizeof(out));
        assert_string_equal(out, "Call with +1 415-555-0100 \xE2\x80\x94 inbound, missed");
        c = call_of(CB_CALL_OUTBOUND, CB_CALL_IN_PROGRESS, true, -1);
        cb_calls_record_subject(&c, out, sizeof(out));
        assert_string_equal(out, "Call with +1 415-555-0142 \xE2\x80\x94 outbound");
        c = call_of(CB_CALL_OUTBOUND, CB_CALL_BUSY, false, 0);
        cb_calls_record_subject(&c, out, sizeof(out));
        assert_string_equal(out, "Call with +1 415-555-0142 \xE2\x80\x94 outbound, busy");
}

static void test_subject_fits_255(void **state)
{
        struct cb_call c = call_of(CB_CALL_OUTBOUND, CB_CALL_COMPLETED, true, 600);
        char out[256];

        (void)state;
        for (size_t i = 0; i + 2 < sizeof(c.party_name); i += 2)
                memcpy(c.party_name + i, "\xC3\xA9", 2); /* é, 2 bytes */
        cb_calls_record_subject(&c, out, sizeof(out));
        assert_true(strlen(out) < 256);
        assert_non_null(strstr(out, " \xE2\x80\x94 outbound, 10 min"));
        assert_int_equal(strncmp(out, "Call with \xC3\xA9", 11), 0);
}

static void test_outcome_labels(void **state)
{
        struct cb_call c;

        (void)state;
        c = call_of(CB_CALL_OUTBOUND, CB_CALL_COMPLETED, true, 5);
        assert_string_equal(cb_calls_outcome_label(&c), "Answered");
        c = call_of(CB_CALL_OUTBOUND, CB_CALL_NO_ANSWER, false, 0);
        assert_string_equal(cb_calls_outcome_label(&c), "No answer");
        c = call_of(CB_CALL_OUTBOUND, CB_CALL_BUSY, false, 0);
        assert_string_equal(cb_calls_outcome_label(&c), "Busy");
        c = call_of(CB_CALL_INBOUND, CB_CALL_NO_ANSWER, false, 0);
        assert_string_equal(cb_calls_outcome_label(&c), "Missed");
        c = call_of(CB_CALL_INBOUND, CB_CALL_CANCELED, false, 0);
        assert_string_equal(cb_calls_outcome_label(&c), "Abandoned");
        c = call_of(CB_CALL_INBOUND, CB_CALL_RINGING, false, 0);
        assert_null(cb_calls_outcome_label(&c));
}

static void test_numbers_and_durations(void **state)
{
        char out[64];

        (void)state;
        cb_calls_number_text("+442071838750", out, sizeof(out));
        assert_string_equal(out, "+44 20 7183 8750");
        cb_calls_number_text("unknown", out, sizeof(out));
        assert_string_equal(out, "unknown number");
        cb_calls_duration_text(192, out, sizeof(out));
        assert_string_equal(out, "3 min 12 s");
        cb_calls_duration_text(120, out, sizeof(out));
        assert_string_equal(out, "2 min");
        cb_calls_duration_text(-1, out, sizeof(out));
        assert_string_equal(out, "unknown");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_subject_with_party),
            cmocka_unit_test(test_subject_falls_back_to_the_number),
            cmocka_unit_test(test_subject_fits_255),
            cmocka_unit_test(test_outcome_labels),
            cmocka_unit_test(test_numbers_and_durations),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
