/* The call's state machine in one table: each status's name, its rank in the lifecycle, and
 * what reaching it causes. The store's SQL takes these rules as parameters
 * (src/store/lifecycle.c builds them from cb_calls_move over every pair), so this table is the
 * only place that decides. */
#include <string.h>

#include "callbridge/calls.h"

/* The rank of the final statuses: the first one recorded stays. */
#define FINAL_RANK 4

static const struct status {
        const char *name;
        int rank;               /* a status only replaces one of lower rank */
        bool answered;          /* reaching it: answered_at = now */
        bool ended;             /* ended_at = now, duration_s = the reported talk time */
        const char *job;        /* queued on reaching it (the first final status) */
        const char *missed_job; /* queued too for a missed inbound call, with missed_task */
        const char *agent_job;  /* the call's agent changes (busy, wrap-up): agent_state.h */
        const char *agent_job_outbound; /* the same for an outbound call only */
} statuses[CB_CALL_STATUS_COUNT] = {
    [CB_CALL_QUEUED] = {.name = "queued", .rank = 0},
    /* The provider placed an outbound call: its agent is busy (a call still queued may
     * never be placed, e.g. without telephony). */
    [CB_CALL_INITIATED] = {.name = "initiated", .rank = 1, .agent_job_outbound = CB_JOB_AGENT_CALL},
    [CB_CALL_RINGING] = {.name = "ringing", .rank = 2},
    /* An answered call: its agent is busy (an outbound one was already, unless "initiated"
     * was lost). */
    [CB_CALL_IN_PROGRESS] = {.name = "in-progress",
                             .rank = 3,
                             .answered = true,
                             .agent_job = CB_JOB_AGENT_CALL},
    [CB_CALL_COMPLETED] = {.name = "completed",
                           .rank = FINAL_RANK,
                           .ended = true,
                           .job = CB_JOB_LOG_CALL,
                           .agent_job = CB_JOB_AGENT_CALL},
    [CB_CALL_BUSY] = {.name = "busy",
                      .rank = FINAL_RANK,
                      .ended = true,
                      .job = CB_JOB_LOG_CALL,
                      .missed_job = CB_JOB_FOLLOW_UP,
                      .agent_job = CB_JOB_AGENT_CALL},
    [CB_CALL_FAILED] = {.name = "failed",
                        .rank = FINAL_RANK,
                        .ended = true,
                        .job = CB_JOB_LOG_CALL,
                        .agent_job = CB_JOB_AGENT_CALL},
    [CB_CALL_NO_ANSWER] = {.name = "no-answer",
                           .rank = FINAL_RANK,
                           .ended = true,
                           .job = CB_JOB_LOG_CALL,
                           .missed_job = CB_JOB_FOLLOW_UP,
                           .agent_job = CB_JOB_AGENT_CALL},
    [CB_CALL_CANCELED] = {.name = "canceled",
                          .rank = FINAL_RANK,
                          .ended = true,
                          .job = CB_JOB_LOG_CALL,
                          .agent_job = CB_JOB_AGENT_CALL},
};

static const char *const directions[] = {
    [CB_CALL_OUTBOUND] = "outbound", [CB_CALL_INBOUND] = "inbound"};

const char *cb_calls_status_name(enum cb_call_status s)
{
        return (unsigned)s < CB_CALL_STATUS_COUNT ? statuses[s].name : NULL;
}

bool cb_calls_status_parse(const char *name, enum cb_call_status *out)
{
        for (int s = 0; name != NULL && s < CB_CALL_STATUS_COUNT; s++)
                if (strcmp(statuses[s].name, name) == 0) {
                        *out = (enum cb_call_status)s;
                        return true;
                }
        return false;
}

int cb_calls_status_rank(enum cb_call_status s)
{
        return (unsigned)s < CB_CALL_STATUS_COUNT ? statuses[s].rank : -1;
}

bool cb_calls_status_final(enum cb_call_status s)
{
        return cb_calls_status_rank(s) == FINAL_RANK;
}

bool cb_calls_crm_log_first(bool single_write, const struct cb_call *call)
{
        if (strcmp(call->crm_state, "pending") != 0)
                return false;
        return single_write || call->crm_log_id[0] == '\0';
}

const char *cb_calls_phase(enum cb_call_status s)
{
        if ((unsigned)s >= CB_CALL_STATUS_COUNT)
                return NULL;
        if (cb_calls_status_final(s))
                return "wrap_up";
        return s == CB_CALL_IN_PROGRESS ? "live" : "ringing";
}

const char *cb_calls_direction_name(enum cb_call_direction d)
{
        return (unsigned)d < CB_ARRAY_LEN(directions) ? directions[d] : NULL;
}

bool cb_calls_direction_parse(const char *name, enum cb_call_direction *out)
{
        for (size_t d = 0; name != NULL && d < CB_ARRAY_LEN(directions); d++)
                if (strcmp(directions[d], name) == 0) {
                        *out = (enum cb_call_direction)d;
                        return true;
                }
        return false;
}

static void add_job(struct cb_call_move *m, const char *kind)
{
        if (kind != NULL && m->job_count < CB_CALLS_JOBS_MAX)
                m->jobs[m->job_count++] = kind;
}

struct cb_call_move cb_calls_reach(enum cb_call_status to, enum cb_call_direction dir,
                                   bool missed_task)
{
        struct cb_call_move m = {0};

        if (cb_calls_status_rank(to) < 0)
                return m;
        m.advance = true;
        m.status = to;
        m.event = true;
        m.notify = true;
        m.set_answered = statuses[to].answered;
        m.set_ended = statuses[to].ended;
        m.set_duration = statuses[to].ended;
        add_job(&m, statuses[to].job);
        if (missed_task && dir == CB_CALL_INBOUND)
                add_job(&m, statuses[to].missed_job);
        add_job(&m, statuses[to].agent_job);
        if (dir == CB_CALL_OUTBOUND)
                add_job(&m, statuses[to].agent_job_outbound);
        return m;
}

struct cb_call_move cb_calls_move(enum cb_call_status from, enum cb_call_status to,
                                  enum cb_call_direction dir, bool missed_task)
{
        int rf = cb_calls_status_rank(from), rt = cb_calls_status_rank(to);

        if (rt < 0) /* not a status: nothing happens, nothing is recorded */
                return (struct cb_call_move){.status = from};
        if (rf < 0 || rt <= rf) /* recorded the first time, changes nothing */
                return (struct cb_call_move){.status = from, .event = true};
        return cb_calls_reach(to, dir, missed_task);
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
        /* A softphone dialled out: its agent is on the call already. */
        if (origin == CB_CALL_ORIGIN_PROVIDER && dir == CB_CALL_OUTBOUND)
                add_job(&m, CB_JOB_AGENT_CALL);
        /* The softphone that asked for it hears "queued"; a provider's call shows up through
         * its own events (screen pop, status callbacks). */
        m.notify = origin == CB_CALL_ORIGIN_API;
        return m;
}
