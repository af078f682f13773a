/* Waiting is not failing (issue 11, problem 5): how Salesforce answers are classified
 * (src/crm/sf_rest.c: sf_classify) and how long a job told to wait sleeps
 * (src/jobs/backoff.c: cb_jobs_wait_ms). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "callbridge/jobs.h"
#include "sf.h"

struct answer {
        long status;
        const char *code;
        const char *message;
        long used, max;
        enum cb_result want;
        bool spent;
};

static const struct answer answers[] = {
    /* The daily allowance: by usage at the limit, or by the message without usage. */
    {403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", 15001, 15000, CB_RESULT_WAIT,
     true},
    {403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", 0, 0, CB_RESULT_WAIT, true},
    /* A concurrency limit: wait, but the allowance is not spent. */
    {403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.", 10, 15000,
     CB_RESULT_WAIT, false},
    {403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", 10, 15000, CB_RESULT_WAIT,
     false},
    {429, "", "", 10, 15000, CB_RESULT_WAIT, false},
    {429, "", "", 15000, 15000, CB_RESULT_WAIT, false},
    /* Failures: retried, attempts spent. */
    {500, "UNKNOWN_EXCEPTION", "boom", 1, 10, CB_RESULT_RETRY, false},
    {503, "SERVER_UNAVAILABLE", "later", 1, 10, CB_RESULT_RETRY, false},
    {401, "INVALID_SESSION_ID", "expired", 1, 10, CB_RESULT_RETRY, false},
    /* Wrong requests: dead at once. */
    {300, "", "", 1, 10, CB_RESULT_FAIL, false},
    {400, "INVALID_FIELD", "No such column", 1, 10, CB_RESULT_FAIL, false},
    {403, "INSUFFICIENT_ACCESS", "no", 1, 10, CB_RESULT_FAIL, false},
    {404, "NOT_FOUND", "gone", 1, 10, CB_RESULT_FAIL, false},
};

static void test_classify(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
                const struct answer *a = &answers[i];
                bool spent = !a->spent;
                enum cb_result r =
                    sf_classify(a->status, a->code, a->message, a->used, a->max, &spent);
                if (r != a->want || spent != a->spent)
                        fail_msg("case %zu (%ld %s): got %d/%d, want %d/%d", i, a->status, a->code,
                                 r, spent, a->want, a->spent);
        }
}

/* A hint is honoured, never shortened, with at most a quarter added as jitter. */
static void test_wait_hint(void **state)
{
        static const uint32_t rnds[] = {0, 1, 12345, 0x7fffffff, UINT32_MAX};
        (void)state;

        for (size_t i = 0; i < sizeof(rnds) / sizeof(rnds[0]); i++) {
                for (int waits = 0; waits < 40; waits += 13) {
                        int64_t d = cb_jobs_wait_ms(waits, 60000, 1000, 300000, rnds[i]);
                        assert_true(d >= 60000 && d <= 75000);
                        /* A hint longer than the cap is still honoured (Retry-After). */
                        d = cb_jobs_wait_ms(waits, 3600000, 1000, 300000, rnds[i]);
                        assert_true(d >= 3600000 && d <= 4500000);
                }
        }
        assert_int_equal(cb_jobs_wait_ms(0, 60000, 1000, 300000, 0), 60000);
}

/* Without a hint the wait grows with the times waited and stops at the cap. */
static void test_wait_backoff(void **state)
{
        int64_t prev = 0;
        (void)state;

        for (int waits = 0; waits < 1000; waits++) {
                int64_t hi = cb_jobs_wait_ms(waits, 0, 1000, 300000, UINT32_MAX);
                int64_t lo = cb_jobs_wait_ms(waits, 0, 1000, 300000, 0);
                assert_true(lo >= prev / 2);
                assert_true(hi <= 300000);
                assert_true(lo <= hi);
                prev = hi;
        }
        assert_int_equal(cb_jobs_wait_ms(0, 0, 1000, 300000, 0), 500);
        assert_int_equal(cb_jobs_wait_ms(999, 0, 1000, 300000, 0), 150000);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_classify),
            cmocka_unit_test(test_wait_hint),
            cmocka_unit_test(test_wait_backoff),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
