/* E.164 normalisation (src/util/phone.cc): one table of inputs and the exact result. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/phone.h"

/* One case: `input` read with `region` (NULL allowed) gives `e164`, or fails when NULL. */
struct phone_case {
        const char *input;
        const char *region;
        const char *e164;
};

static const struct phone_case cases[] = {
    /* US: every common punctuation, national prefix 1, extensions dropped */
    {"(415) 555-0123", "US", "+14155550123"},
    {"415-555-0123", "US", "+14155550123"},
    {"415.555.0123", "US", "+14155550123"},
    {"415 555 0123", "US", "+14155550123"},
    {"1 (415) 555-0123", "US", "+14155550123"},
    {"+1 (415) 555-0123", "US", "+14155550123"},
    {"+14155550123", "US", "+14155550123"},
    {"+1 415 555 0123 ext. 7", "US", "+14155550123"},
    {"tel:+1-415-555-0123", "US", "+14155550123"},
    {"1-800-FLOWERS", "US", "+18003569377"},        /* vanity letters map to digits */
    {"011 44 20 7946 0958", "US", "+442079460958"}, /* US international prefix */
    {"0044 20 7946 0958", "US", "+442079460958"},   /* 00 means international anyway */
    {"555-0123", "US", NULL},                       /* local-only: no area code */
    /* Possible but not valid (NANP area codes never start with 0): accepted on purpose,
     * see the policy at the top of phone.cc. */
    {"+1 011 555 0123", "US", "+10115550123"},
    /* Its E.164 form would not read back as itself ("+640006400" parses as "+64006400"):
     * refused rather than stored as a number no webhook will ever match (found by
     * tests/fuzz/fuzz_phone). */
    {"006 400006 400", "US", NULL},
    {"006 400006 400", "CH", NULL},

    /* GB: trunk 0, "(0)" in international form, 00 prefix */
    {"020 7946 0958", "GB", "+442079460958"},
    {"+44 (0)20 7946 0958", "GB", "+442079460958"},
    {"+44 20 7946 0958", "US", "+442079460958"},
    {"07700 900123", "GB", "+447700900123"},
    {"0044 20 7946 0958", "GB", "+442079460958"},

    /* DE */
    {"030 123456", "DE", "+4930123456"},
    {"030/12345678", "DE", "+493012345678"},
    {"+49 (0)30 12345678", "US", "+493012345678"},
    {"0151 23456789", "DE", "+4915123456789"},
    {"0049 30 12345678", "DE", "+493012345678"},

    /* FR */
    {"01 23 45 67 89", "FR", "+33123456789"},
    {"06.12.34.56.78", "FR", "+33612345678"},
    {"+33 6 12 34 56 78", "US", "+33612345678"},
    {"0033 6 12 34 56 78", "FR", "+33612345678"},

    /* IN */
    {"98765 43210", "IN", "+919876543210"},
    {"098765 43210", "IN", "+919876543210"},
    {"+91-98765-43210", "US", "+919876543210"},
    {"00 91 98765 43210", "IN", "+919876543210"},

    /* AU: its own international prefix 0011 */
    {"(02) 9876 5432", "AU", "+61298765432"},
    {"0412 345 678", "AU", "+61412345678"},
    {"0011 44 20 7946 0958", "AU", "+442079460958"},
    {"0044 20 7946 0958", "AU", "+442079460958"},

    /* BR: trunk 0 with and without a carrier code */
    {"(11) 98765-4321", "BR", "+5511987654321"},
    {"011 98765-4321", "BR", "+5511987654321"},
    {"0 21 11 98765-4321", "BR", "+5511987654321"},
    {"+55 (11) 3456-7890", "US", "+551134567890"},

    /* JP: its own international prefix 010 */
    {"03-1234-5678", "JP", "+81312345678"},
    {"090-1234-5678", "JP", "+819012345678"},
    {"010 81 3 1234 5678", "JP", "+81312345678"},
    {"0044 20 7946 0958", "JP", "+442079460958"},

    /* The default region applies only without '+' */
    {"(415) 555-0123", "GB", "+444155550123"},
    {"020 7946 0958", "US", NULL},
    {"+1 415 555 0123", "GB", "+14155550123"},

    /* Region codes: unknown, missing, lower case */
    {"(415) 555-0123", "XX", NULL},
    {"(415) 555-0123", "ZZ", NULL},
    {"(415) 555-0123", "", NULL},
    {"(415) 555-0123", NULL, NULL},
    {"(415) 555-0123", "USA", NULL},
    {"+1 415 555 0123", "XX", "+14155550123"},
    {"+1 415 555 0123", NULL, "+14155550123"},
    {"(415) 555-0123", "us", "+14155550123"},

    /* Garbage */
    {"", "US", NULL},
    {"   ", "US", NULL},
    {"abc", "US", NULL},
    {"123", "US", NULL},
    {"+", "US", NULL},
    {"00", "US", NULL},
    {"+44", "US", NULL},
    {"0044", "US", NULL},
    {"+999 123 456", "US", NULL},        /* no such country code */
    {"0000000000", "US", NULL},          /* national number 0 */
    {"+1 415 555 01234567", "US", NULL}, /* too long for NANP */
    {"415-555-0123abc", "US", NULL},     /* trailing letters become digits: too long */
    {"+1 415 555 0123 1234 5678 9012", "US", NULL},
};

static void test_table(void **state)
{
        (void)state;
        int failures = 0;

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const struct phone_case *c = &cases[i];
                char out[32];
                memset(out, 'x', sizeof(out));
                int rc = cb_phone_to_e164(c->input, c->region, out, sizeof(out));
                int ok = c->e164 != NULL ? rc == 0 && strcmp(out, c->e164) == 0
                                         : rc == -1 && out[0] == '\0';
                if (!ok) {
                        print_error("case %zu: \"%s\" region %s: got rc=%d \"%s\", want %s\n", i,
                                    c->input, c->region != NULL ? c->region : "(null)", rc, out,
                                    c->e164 != NULL ? c->e164 : "failure");
                        failures++;
                }
        }
        assert_int_equal(failures, 0);
}

/* Full-width digits and plus sign are accepted like ASCII ones. */
static void test_fullwidth(void **state)
{
        (void)state;
        char out[32];
        /* "＋１ ４１５ ５５５ ０１２３" */
        const char *in = "\xef\xbc\x8b\xef\xbc\x91 \xef\xbc\x94\xef\xbc\x91\xef\xbc\x95 "
                         "\xef\xbc\x95\xef\xbc\x95\xef\xbc\x95 "
                         "\xef\xbc\x90\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93";
        assert_int_equal(cb_phone_to_e164(in, "US", out, sizeof(out)), 0);
        assert_string_equal(out, "+14155550123");
}

/* Inputs over 64 bytes are refused before parsing, even when they hold a good number. */
static void test_length_limit(void **state)
{
        (void)state;
        char in[80];
        char out[32];

        memset(in, ' ', sizeof(in));
        memcpy(in + 64 - 15, "+1 415 555 0123", 15);
        in[64] = '\0';
        assert_int_equal(cb_phone_to_e164(in, "US", out, sizeof(out)), 0);
        assert_string_equal(out, "+14155550123");

        memset(in, ' ', sizeof(in));
        memcpy(in + 65 - 15, "+1 415 555 0123", 15);
        in[65] = '\0';
        assert_int_equal(cb_phone_to_e164(in, "US", out, sizeof(out)), -1);
        assert_string_equal(out, "");
}

/* NULL input and small or missing output buffers fail cleanly. */
static void test_bad_arguments(void **state)
{
        (void)state;
        char out[13]; /* exactly "+14155550123" and its NUL */

        memcpy(out, "junk", 5);
        assert_int_equal(cb_phone_to_e164(NULL, "US", out, sizeof(out)), -1);
        assert_string_equal(out, "");
        assert_int_equal(cb_phone_to_e164("(415) 555-0123", "US", NULL, 32), -1);
        assert_int_equal(cb_phone_to_e164("(415) 555-0123", "US", out, 0), -1);

        assert_int_equal(cb_phone_to_e164("(415) 555-0123", "US", out, sizeof(out)), 0);
        assert_string_equal(out, "+14155550123");
        assert_int_equal(cb_phone_to_e164("(415) 555-0123", "US", out, sizeof(out) - 1), -1);
        assert_string_equal(out, "");
}

static void test_region_valid(void **state)
{
        (void)state;
        static const char *good[] = {"US", "GB", "DE", "FR", "IN", "AU", "BR", "JP", "us", "gb"};
        static const char *bad[] = {"", "XX", "ZZ", "001", "USA", "U", "1", "United States"};

        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                assert_true(cb_phone_region_valid(good[i]));
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_false(cb_phone_region_valid(bad[i]));
        assert_false(cb_phone_region_valid(NULL));
}

/* Many threads converting at once (the shim shares one PhoneNumberUtil) agree. */
static void *convert_many(void *arg)
{
        intptr_t bad = 0;
        (void)arg;
        for (int i = 0; i < 2000; i++) {
                const struct phone_case *c = &cases[(size_t)i % (sizeof(cases) / sizeof(cases[0]))];
                char out[32];
                int rc = cb_phone_to_e164(c->input, c->region, out, sizeof(out));
                if (c->e164 != NULL ? rc != 0 || strcmp(out, c->e164) != 0 : rc != -1)
                        bad++;
        }
        return (void *)bad;
}

static void test_threads(void **state)
{
        (void)state;
        pthread_t t[4];
        for (size_t i = 0; i < 4; i++)
                assert_int_equal(pthread_create(&t[i], NULL, convert_many, NULL), 0);
        for (size_t i = 0; i < 4; i++) {
                void *bad = NULL;
                assert_int_equal(pthread_join(t[i], &bad), 0);
                assert_int_equal((intptr_t)bad, 0);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_table),        cmocka_unit_test(test_fullwidth),
            cmocka_unit_test(test_length_limit), cmocka_unit_test(test_bad_arguments),
            cmocka_unit_test(test_region_valid), cmocka_unit_test(test_threads),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
