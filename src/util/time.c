/* Clocks: wall and monotonic microseconds, condition-variable deadlines; the API's time format. */
#include "callbridge/util.h"

#include <stdio.h>
#include <string.h>
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

void cb_ts_format(int64_t us, char out[CB_TS_LEN + 1])
{
        time_t secs = (time_t)(us / 1000000);
        int frac = (int)(us % 1000000);
        struct tm tm;

        if (frac < 0)
                frac = 0; /* before the epoch: not a time callbridge stores */
        gmtime_r(&secs, &tm);
        if (strftime(out, CB_TS_LEN + 1, "%Y-%m-%dT%H:%M:%S", &tm) != 19)
                out[0] = '\0'; /* a year past 9999 */
        else
                snprintf(out + 19, CB_TS_LEN + 1 - 19, ".%06dZ", frac);
}

bool cb_time_parse(const char *s, int64_t *us)
{
        struct tm tm = {0};
        const char *end;
        long secs;

        if (cb_parse_long(s, 0, 32503680000L, &secs)) {
                *us = (int64_t)secs * 1000000;
                return true;
        }
        end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (end == NULL || strcmp(end, "Z") != 0)
                return false;
        *us = (int64_t)timegm(&tm) * 1000000;
        return *us >= 0;
}
