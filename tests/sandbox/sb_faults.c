/* callbridge-sandbox: fault injection decisions for upstream endpoints and outgoing webhooks.
 * The settings live in sb_state.c (POST /__sandbox/faults); this file only rolls dice. */
#include <errno.h>
#include <openssl/rand.h>
#include <string.h>
#include <time.h>

#include "sandbox.h"

/* Per-thread xoshiro256** state, seeded from OpenSSL on first use. */
static _Thread_local uint64_t rng[4];
static _Thread_local bool rng_seeded;

static uint64_t rotl(uint64_t x, int k)
{
        return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(void)
{
        uint64_t result, t;

        if (!rng_seeded) {
                /* A failing CSPRNG only weakens the dice, which need no secrecy: fall back to
                 * the clock and the state's address. */
                if (RAND_bytes((unsigned char *)rng, sizeof(rng)) != 1) {
                        struct timespec ts;
                        clock_gettime(CLOCK_MONOTONIC, &ts);
                        rng[0] = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32);
                        rng[1] = (uint64_t)(uintptr_t)&rng_seeded;
                        rng[2] = 0x9e3779b97f4a7c15ULL;
                        rng[3] = 0xbf58476d1ce4e5b9ULL;
                }
                if ((rng[0] | rng[1] | rng[2] | rng[3]) == 0)
                        rng[0] = 1;
                rng_seeded = true;
        }
        result = rotl(rng[1] * 5, 7) * 9;
        t = rng[1] << 17;
        rng[2] ^= rng[0];
        rng[3] ^= rng[1];
        rng[1] ^= rng[2];
        rng[0] ^= rng[3];
        rng[2] ^= t;
        rng[3] = rotl(rng[3], 45);
        return result;
}

double sb_random_unit(void)
{
        return (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0);
}

const char *sb_fault_name(enum sb_fault fault)
{
        switch (fault) {
        case SB_FAULT_ERROR:
                return "error";
        case SB_FAULT_TIMEOUT:
                return "timeout";
        case SB_FAULT_RATE_LIMIT:
                return "rate_limit";
        case SB_FAULT_NONE:
        default:
                return "none";
        }
}

enum sb_fault sb_fault_roll(const char *endpoint, long *latency_ms)
{
        struct sb_faults f;
        double r;

        (void)endpoint; /* one setting for all endpoints for now */
        sb_state_faults_get(&f);
        *latency_ms = f.latency_ms;
        if (f.error_rate <= 0 && f.timeout_rate <= 0 && f.rate_limit_rate <= 0)
                return SB_FAULT_NONE;
        r = sb_random_unit();
        if (r < f.error_rate)
                return SB_FAULT_ERROR;
        r -= f.error_rate;
        if (r < f.timeout_rate)
                return SB_FAULT_TIMEOUT;
        r -= f.timeout_rate;
        if (r < f.rate_limit_rate)
                return SB_FAULT_RATE_LIMIT;
        return SB_FAULT_NONE;
}

enum sb_fault sb_fault_decide(const char *endpoint)
{
        long latency_ms = 0;
        enum sb_fault fault = sb_fault_roll(endpoint, &latency_ms);

        if (latency_ms > 0) {
                struct timespec ts = {latency_ms / 1000, (latency_ms % 1000) * 1000000L};
                while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                        ;
        }
        return fault;
}

bool sb_fault_webhook_duplicate(void)
{
        struct sb_faults f;

        sb_state_faults_get(&f);
        return f.webhook_duplicate_rate > 0 && sb_random_unit() < f.webhook_duplicate_rate;
}

bool sb_fault_webhook_shuffle(void)
{
        struct sb_faults f;

        sb_state_faults_get(&f);
        return f.webhook_shuffle;
}
