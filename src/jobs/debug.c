/* Debug job kinds for the queue's own tests ([workers] debug_kinds = true only).
 * debug.sleep {"ms": N} sleeps then succeeds; debug.fail {"permanent": bool} always fails. */
#include <stdio.h>
#include <time.h>

#include "callbridge/jobs.h"
#include "kinds.h"

enum cb_result cb_job_debug_sleep(struct cb_job *job)
{
        json_int_t ms = json_integer_value(json_object_get(job->row->payload, "ms"));
        struct timespec ts;

        if (ms < 0 || ms > 600000) {
                snprintf(job->error, sizeof(job->error), "ms out of range");
                return CB_RESULT_FAIL;
        }
        ts.tv_sec = (time_t)(ms / 1000);
        ts.tv_nsec = (long)(ms % 1000) * 1000000L;
        while (nanosleep(&ts, &ts) != 0)
                ;
        return CB_RESULT_OK;
}

enum cb_result cb_job_debug_fail(struct cb_job *job)
{
        bool permanent = json_is_true(json_object_get(job->row->payload, "permanent"));

        snprintf(job->error, sizeof(job->error), "debug.fail: failing on purpose (attempt %d)",
                 job->row->attempts);
        return permanent ? CB_RESULT_FAIL : CB_RESULT_RETRY;
}
