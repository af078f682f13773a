/* Retry delays (src/jobs/backoff.c): exponential, capped, equal jitter in [d/2, d]. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include <unistd.h>

#include "callbridge/config.h"
#include "callbridge/jobs.h"

/* The un-jittered delay before attempt `attempt + 1`: min(max, base * 2^(attempt-1)). */
static int64_t ceiling(int attempt, long base, long max)
{
        int64_t d = base;

        for (int i = 1; i < attempt && d < max; i++)
                d *= 2;
        return d < max ? d : max;
}

/* A jitter source: fixed extremes and a few scattered values. */
static const uint32_t fixed_rnd[] = {
    0, 1, 2, 999, 0x7fffffff, 0x80000000, 0xdeadbeef, UINT32_MAX - 1, UINT32_MAX};

/* One schedule: every attempt in 1..20 with every jitter value lies in [d/2, d]. */
struct schedule {
        long base;
        long max;
};

static const struct schedule schedules[] = {
    {1000, 300000},      /* the defaults */
    {1, 300000},         /* tiny base */
    {1, 1},              /* base == max == 1 */
    {1000, 1000},        /* base == max */
    {1, 2},              /* max just above base */
    {3, 1000},           /* odd base: halves round */
    {3600000, 86400000}, /* the largest the config allows */
    {1, 86400000},
    {999, 1001},
};

static void check_one(const struct schedule *s, int attempt, uint32_t rnd)
{
        int64_t d = ceiling(attempt, s->base, s->max);
        int64_t got = cb_jobs_backoff_ms(attempt, s->base, s->max, rnd);

        /* got >= d/2 exactly, in integers: 2*got >= d */
        if (got > d || 2 * got < d || got < 1)
                fail_msg("base %ld max %ld attempt %d rnd %u: %lld not in [%lld/2, %lld]", s->base,
                         s->max, attempt, rnd, (long long)got, (long long)d, (long long)d);
}

static void test_bounds(void **state)
{
        (void)state;
        srand(20240229);
        for (size_t si = 0; si < sizeof(schedules) / sizeof(schedules[0]); si++) {
                for (int attempt = 1; attempt <= 20; attempt++) {
                        for (size_t r = 0; r < sizeof(fixed_rnd) / sizeof(fixed_rnd[0]); r++)
                                check_one(&schedules[si], attempt, fixed_rnd[r]);
                        for (int r = 0; r < 200; r++) {
                                uint32_t rnd = ((uint32_t)rand() << 16) ^ (uint32_t)rand();
                                check_one(&schedules[si], attempt, rnd);
                        }
                }
        }
}

/* The exact schedule for the defaults, by attempt: the ceiling doubles, then stays at max. */
static void test_default_schedule(void **state)
{
        static const int64_t want[21] = {
            0,      1000,   2000,   4000,   8000,   16000,  32000,  64000,  128000, 256000, 300000,
            300000, 300000, 300000, 300000, 300000, 300000, 300000, 300000, 300000, 300000,
        };
        (void)state;

        for (int attempt = 1; attempt <= 20; attempt++) {
                int64_t hi = want[attempt];
                /* rnd 0 gives the floor of the range, UINT32_MAX a value inside it; together
                 * the widest spread is reachable: hi/2 .. hi. */
                assert_int_equal(cb_jobs_backoff_ms(attempt, 1000, 300000, 0), hi - hi / 2);
                assert_true(cb_jobs_backoff_ms(attempt, 1000, 300000, UINT32_MAX) <= hi);
                assert_int_equal(cb_jobs_backoff_ms(attempt, 1000, 300000, (uint32_t)(hi / 2)), hi);
        }
}

/* The upper bound never shrinks as attempts grow and stays at max once reached. */
static void test_monotone(void **state)
{
        (void)state;
        for (size_t si = 0; si < sizeof(schedules) / sizeof(schedules[0]); si++) {
                const struct schedule *s = &schedules[si];
                int64_t prev_hi = 0;
                int64_t prev_lo = 0;

                for (int attempt = 1; attempt <= 20; attempt++) {
                        /* The largest and smallest the jitter can produce at this attempt. */
                        int64_t d = ceiling(attempt, s->base, s->max);
                        int64_t hi =
                            cb_jobs_backoff_ms(attempt, s->base, s->max, (uint32_t)(d / 2));
                        int64_t lo = cb_jobs_backoff_ms(attempt, s->base, s->max, 0);

                        assert_int_equal(hi, d);
                        assert_true(hi >= prev_hi);
                        assert_true(lo >= prev_lo);
                        assert_true(hi <= s->max);
                        prev_hi = hi;
                        prev_lo = lo;
                }
        }
}

/* Large attempt numbers neither overflow nor exceed the cap. */
static void test_large_attempts(void **state)
{
        static const int attempts[] = {21, 31, 32, 33, 63, 64, 65, 100, 1000, 1 << 20, INT32_MAX};
        (void)state;

        for (size_t i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++) {
                int64_t v = cb_jobs_backoff_ms(attempts[i], 1000, 300000, UINT32_MAX);
                assert_true(v >= 150000 && v <= 300000);
                v = cb_jobs_backoff_ms(attempts[i], 1, 86400000, 0);
                assert_int_equal(v, attempts[i] >= 28 ? 43200000
                                                      : ceiling(attempts[i], 1, 86400000) / 2);
        }
}

/* The default configuration's schedule outlasts an outage of hours: a job failing on every
 * attempt (5xx, timeouts, connection refused) stays alive at least 6 hours, as the retry
 * schedules of Sidekiq and River (25 attempts) keep work through long outages. */
static void test_default_schedule_outlasts_outage(void **state)
{
        char path[] = "/tmp/cb-test-backoff-XXXXXX";
        struct cb_config *cfg = NULL;
        struct cb_config_errors errs = {0};
        int fd = mkstemp(path);
        int64_t span;
        (void)state;

        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(cb_config_load(path, &cfg, &errs), 0);
        unlink(path);
        span = cb_jobs_retry_span_ms(cfg->workers.max_attempts, cfg->workers.backoff_base_ms,
                                     cfg->workers.backoff_max_ms);
        assert_true(span >= 6LL * 3600 * 1000);
        /* ...and no single pause is longer than an hour, so a recovered upstream is
         * used again soon. */
        assert_true(cfg->workers.backoff_max_ms <= 3600 * 1000);
        /* A job told to wait comes back within minutes of the upstream recovering. */
        assert_true(cfg->workers.wait_max_ms <= 600 * 1000);
        cb_config_free(&cfg);
}

/* The span sums the smallest delays: 1 attempt has none; base 1000, cap 4000, 5 attempts:
 * 500 + 1000 + 2000 + 2000. */
static void test_retry_span(void **state)
{
        (void)state;
        assert_int_equal(cb_jobs_retry_span_ms(1, 1000, 300000), 0);
        assert_int_equal(cb_jobs_retry_span_ms(5, 1000, 4000), 5500);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_bounds),
            cmocka_unit_test(test_default_schedule),
            cmocka_unit_test(test_monotone),
            cmocka_unit_test(test_large_attempts),
            cmocka_unit_test(test_default_schedule_outlasts_outage),
            cmocka_unit_test(test_retry_span),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
