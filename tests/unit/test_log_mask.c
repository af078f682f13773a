/* The access log's view of a request target (cb_log_mask_target, src/util/log.c): phone
 * numbers masked however they are encoded, call ids whole, credentials redacted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/crypto.h"
#include "callbridge/log.h"
#include "callbridge/util.h"

struct mask_case {
        const char *in;
        const char *want;
};

static const struct mask_case cases[] = {
    {"/api/lookup?phone=14155550123", "/api/lookup?phone=1415*****23"},
    /* percent-encoded digits are read as digits, once or twice encoded */
    {"/api/lookup?phone=%2B14155550123", "/api/lookup?phone=+1415*****23"},
    {"/api/lookup?phone=%34%31%35%35%35%35%30%31%32%33", "/api/lookup?phone=4155****23"},
    {"/api/lookup?phone=%2534%2531%2535%2535%2535%2535%2530%2531%2532%2533",
     "/api/lookup?phone=4155****23"},
    {"/api/lookup?phone=%2B1%20(415)%20555-0123", "/api/lookup?phone=+1 (415) ***-**23"},
    /* call ids (UUIDs) are never masked, even when their groups look like a phone number */
    {"/api/calls/0b7e4a5c-9a4f-4e3b-8341-498512345678",
     "/api/calls/0b7e4a5c-9a4f-4e3b-8341-498512345678"},
    {"/api/calls/12345678-1234-1234-1234-123456789012/recording/"
     "a1b2c3d4-8341-4985-85e0-000000000001",
     "/api/calls/12345678-1234-1234-1234-123456789012/recording/"
     "a1b2c3d4-8341-4985-85e0-000000000001"},
    /* …but a phone number next to one still is */
    {"/api/calls?call=0b7e4a5c-9a4f-4e3b-8341-498512345678&to=4155550123",
     "/api/calls?call=0b7e4a5c-9a4f-4e3b-8341-498512345678&to=4155****23"},
    /* credentials in the query are redacted */
    {"/r/0b7e4a5c-9a4f-4e3b-8341-498512345678?exp=1700000000&sig=" /* 64 hex */
     "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
     "/r/0b7e4a5c-9a4f-4e3b-8341-498512345678?exp=1700****00&sig=***"},
    {"/x?SIG=abc&Token=def&access_token=ghi&limit=5",
     "/x?SIG=***&Token=***&access_token=***&limit=5"},
    {"/x?k=cbk_0123456789abcdef_secret", "/x?k=***"},
    {"/x?a=eyJhbGciOiJIUzI1NiJ9.e30.x", "/x?a=***"},
    {"/x?%73ig=abc", "/x?sig=***"},
    /* the Salesforce sign-in's callback */
    {"/auth/salesforce/callback?code=aPrx.abc%3D%3D&state=Zm9v",
     "/auth/salesforce/callback?code=***&state=***"},
    /* short digit runs stay */
    {"/api/calls?limit=50&since=123456", "/api/calls?limit=50&since=123456"},
    /* bytes that are not printable ASCII become '?' */
    {"/x%00y%0A%C3%A9", "/x?y???"},
    {"", ""},
};

static size_t longest_digit_run(const char *s)
{
        size_t best = 0;

        for (size_t run = 0; *s != '\0'; s++) {
                run = (*s >= '0' && *s <= '9') ? run + 1 : 0;
                if (run > best)
                        best = run;
        }
        return best;
}

static void test_mask_target_table(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char out[512];
                cb_log_mask_target(cases[i].in, out, sizeof(out));
                if (strcmp(out, cases[i].want) != 0)
                        fail_msg("mask_target(\"%s\") = \"%s\", want \"%s\"", cases[i].in, out,
                                 cases[i].want);
        }
}

/* Random targets of digits, separators and escapes: no 7-digit run survives (outside a
 * UUID, which this alphabet cannot form), the output fits, nothing past it is written. */
static void test_mask_target_never_leaks(void **state)
{
        static const char *const atoms[] = {"0", "1", "5", "9", "%3", "%2B", "%20", "-",
                                            "(", ")", "?", "&", "=",  "a",   "%25", "%33"};

        (void)state;
        for (int round = 0; round < 3000; round++) {
                char in[160] = "";
                char out[200];
                size_t outlen = 1 + (size_t)(round * 13) % 190;
                uint32_t r[40];

                cb_random(r, sizeof(r));
                for (size_t k = 0; k < (size_t)(round % 40); k++)
                        strcat(in, atoms[r[k] % (sizeof(atoms) / sizeof(atoms[0]))]);
                memset(out, '#', sizeof(out));
                cb_log_mask_target(in, out, outlen);
                assert_true(strlen(out) < outlen);
                if (longest_digit_run(out) >= 7)
                        fail_msg("mask_target(\"%s\") = \"%s\" keeps a phone number", in, out);
                for (size_t k = outlen; k < sizeof(out); k++)
                        assert_int_equal(out[k], '#');
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_mask_target_table),
            cmocka_unit_test(test_mask_target_never_leaks),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
