/* Clocks: wall and monotonic microseconds, condition-variable deadlines. */
#include "callbridge/util.h"

#include <time.h>

int64_t cb_now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t cb_mono_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void cb_deadline_after_ms(long ms, struct timespec *out)
{
        clock_gettime(CLOCK_REALTIME, out);
        out->tv_sec += ms / 1000;
        out->tv_nsec += (ms % 1000) * 1000000L;
        if (out->tv_nsec >= 1000000000L) {
                out->tv_sec++;
                out->tv_nsec -= 1000000000L;
        }
}
