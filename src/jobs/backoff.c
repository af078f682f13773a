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
