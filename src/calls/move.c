/* The call's state machine: for each status a call reaches, what that causes. The store's SQL
 * takes these rules as parameters (src/store/lifecycle.c builds them from cb_calls_move over
 * every pair), so this table is the only place that decides. */
#include "callbridge/calls.h"

/* What reaching a status causes, when the move goes forward. */
struct reach {
        bool answered;          /* answered_at = now */
        bool ended;             /* ended_at = now, duration_s = the reported talk time */
        const char *job;        /* queued on reaching it (the first final status) */
        const char *missed_job; /* queued too for a missed inbound call, with missed_task */
};

static const struct reach reach[CB_CALL_STATUS_COUNT] = {
    [CB_CALL_IN_PROGRESS] = {.answered = true},
    [CB_CALL_COMPLETED] = {.ended = true, .job = CB_JOB_LOG_CALL},
    [CB_CALL_BUSY] = {.ended = true, .job = CB_JOB_LOG_CALL, .missed_job = CB_JOB_FOLLOW_UP},
    [CB_CALL_FAILED] = {.ended = true, .job = CB_JOB_LOG_CALL},
    [CB_CALL_NO_ANSWER] = {.ended = true, .job = CB_JOB_LOG_CALL, .missed_job = CB_JOB_FOLLOW_UP},
    [CB_CALL_CANCELED] = {.ended = true, .job = CB_JOB_LOG_CALL},
};

static void add_job(struct cb_call_move *m, const char *kind)
{
        if (kind != NULL && m->job_count < CB_CALLS_JOBS_MAX)
                m->jobs[m->job_count++] = kind;
}

struct cb_call_move cb_calls_move(enum cb_call_status from, enum cb_call_status to,
                                  enum cb_call_direction dir, bool missed_task)
{
        struct cb_call_move m = {.status = from};
        int rf = cb_calls_status_rank(from), rt = cb_calls_status_rank(to);

        if (rt < 0)
                return m; /* not a status: nothing happens, nothing is recorded */
        m.event = true;
        if (rf < 0 || rt <= rf)
                return m;
        m.advance = true;
        m.status = to;
        m.notify = true;
        m.set_answered = reach[to].answered;
        m.set_ended = reach[to].ended;
        m.set_duration = reach[to].ended;
        add_job(&m, reach[to].job);
        if (missed_task && dir == CB_CALL_INBOUND)
                add_job(&m, reach[to].missed_job);
        return m;
}

struct cb_call_move cb_calls_move_fail(enum cb_call_status from, enum cb_call_direction dir)
{
        struct cb_call_move m = cb_calls_move(from, CB_CALL_FAILED, dir, false);

        m.event = m.advance; /* the job's event: only when the call did fail now */
        m.set_duration = false;
        m.notify = false;
        return m;
}

struct cb_call_move cb_calls_created(enum cb_call_origin origin, enum cb_call_direction dir)
{
        struct cb_call_move m = {.advance = true, .status = CB_CALL_QUEUED, .event = true};

        /* A call the provider told us about exists there already: nothing to place. */
        if (origin == CB_CALL_ORIGIN_API && dir == CB_CALL_OUTBOUND)
                add_job(&m, CB_JOB_PLACE_CALL);
        add_job(&m, CB_JOB_LOG_CALL);
        /* The softphone that asked for it hears "queued"; a provider's call shows up through
         * its own events (screen pop, status callbacks). */
        m.notify = origin == CB_CALL_ORIGIN_API;
        return m;
}
