/* The per-thread "come back in N ms" that an upstream client leaves for the job it runs for,
 * beside the CB_RESULT_WAIT it returns (see upstream.h). */
#include "callbridge/upstream.h"

static _Thread_local int64_t wait_hint_ms;

void cb_wait_hint_set(int64_t ms)
{
        if (ms > wait_hint_ms)
                wait_hint_ms = ms;
}

int64_t cb_wait_hint_take(void)
{
        int64_t ms = wait_hint_ms;

        wait_hint_ms = 0;
        return ms;
}
