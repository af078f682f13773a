/* Retry delays: exponential with equal jitter. */
#include "callbridge/jobs.h"

int64_t cb_jobs_backoff_ms(int attempt, long base_ms, long max_ms, uint32_t rnd)
{
        int64_t d = base_ms;
        int64_t half;

        for (int i = 1; i < attempt && d < max_ms; i++)
                d *= 2;
        if (d > max_ms)
                d = max_ms;
        half = d / 2;
        return (d - half) + (half > 0 ? (int64_t)(rnd % (uint64_t)(half + 1)) : 0);
}

int64_t cb_jobs_retry_span_ms(long max_attempts, long base_ms, long max_ms)
{
        int64_t span = 0;

        for (long a = 1; a < max_attempts; a++)
                span += cb_jobs_backoff_ms((int)a, base_ms, max_ms, 0);
        return span;
}

int64_t cb_jobs_wait_ms(int waits, int64_t hint_ms, long base_ms, long max_ms, uint32_t rnd)
{
        if (hint_ms > 0)
                return hint_ms + (int64_t)(rnd % (uint64_t)(hint_ms / 4 + 1));
        return cb_jobs_backoff_ms(waits + 1, base_ms, max_ms, rnd);
}
