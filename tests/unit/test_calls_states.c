/* The call state machine (src/calls/states.c) and call creation (src/calls/call.c), checked
 * against expectations written here from SPEC §6, not read from the module's table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/calls.h"
#include "callbridge/crypto.h"

#define N CB_CALL_STATUS_COUNT

/* The lifecycle, independently: names in order and their ranks (the five final ones share
 * the top rank, so the first final status stays). */
static const char *const names[N] = {"queued", "initiated", "ringing",   "in-progress", "completed",
                                     "busy",   "failed",    "no-answer", "canceled"};
static const int ranks[N] = {0, 1, 2, 3, 4, 4, 4, 4, 4};

static bool is_final(int s)
{
        return s >= 4; /* completed, busy, failed, no-answer, canceled */
}

static bool has_job(const struct cb_call_move *m, const char *kind)
{
        for (size_t j = 0; j < m->job_count; j++)
                if (strcmp(m->jobs[j], kind) == 0)
                        return true;
        return false;
}

static void test_names_and_ranks(void **state)
{
        (void)state;
        for (int s = 0; s < N; s++) {
                enum cb_call_status p;

                assert_string_equal(cb_calls_status_name((enum cb_call_status)s), names[s]);
                assert_true(cb_calls_status_parse(names[s], &p));
                assert_int_equal(p, s);
                assert_int_equal(cb_calls_status_rank(p), ranks[s]);
                assert_int_equal(cb_calls_status_final(p), is_final(s));
        }
        {
                enum cb_call_status p = CB_CALL_RINGING;
                assert_false(cb_calls_status_parse("answered", &p));
                assert_false(cb_calls_status_parse("COMPLETED", &p));
                assert_false(cb_calls_status_parse(NULL, &p));
                assert_int_equal(p, CB_CALL_RINGING);
        }
}

/* Additions to the call log wait for it while it was never written (it links the record),
 * and in single write mode until the one write is done; never after it failed or when local. */
static void test_crm_log_first(void **state)
{
        struct cb_call c = {0};

        (void)state;
        snprintf(c.crm_state, sizeof(c.crm_state), "pending");
        assert_true(cb_calls_crm_log_first(false, &c));
        assert_true(cb_calls_crm_log_first(true, &c));
        snprintf(c.crm_log_id, sizeof(c.crm_log_id), "00T000000000001AAA");
        assert_false(cb_calls_crm_log_first(false, &c)); /* written once: the link is known */
        assert_true(cb_calls_crm_log_first(true, &c));   /* wrap-up made it pending again */
        snprintf(c.crm_state, sizeof(c.crm_state), "synced");
        assert_false(cb_calls_crm_log_first(false, &c));
        assert_false(cb_calls_crm_log_first(true, &c));
        c.crm_log_id[0] = '\0';
        for (int i = 0; i < 2; i++) {
                snprintf(c.crm_state, sizeof(c.crm_state), i ? "failed" : "local");
                assert_false(cb_calls_crm_log_first(false, &c));
                assert_false(cb_calls_crm_log_first(true, &c));
        }
}

/* The console's phase of each status: before the answer, talking, wrap-up once final. */
static void test_phase(void **state)
{
        static const char *const want[CB_CALL_STATUS_COUNT] = {
            [CB_CALL_QUEUED] = "ringing",    [CB_CALL_INITIATED] = "ringing",
            [CB_CALL_RINGING] = "ringing",   [CB_CALL_IN_PROGRESS] = "live",
            [CB_CALL_COMPLETED] = "wrap_up", [CB_CALL_BUSY] = "wrap_up",
            [CB_CALL_FAILED] = "wrap_up",    [CB_CALL_NO_ANSWER] = "wrap_up",
            [CB_CALL_CANCELED] = "wrap_up",
        };

        (void)state;
        for (int s = 0; s < CB_CALL_STATUS_COUNT; s++)
                assert_string_equal(cb_calls_phase((enum cb_call_status)s), want[s]);
        assert_null(cb_calls_phase(CB_CALL_STATUS_COUNT));
        assert_null(cb_calls_phase((enum cb_call_status) - 1));
}

/* Every (from, to) x direction x missed_task against what the spec says it causes. */
static void test_every_move(void **state)
{
        (void)state;
        for (int f = 0; f < N; f++)
                for (int t = 0; t < N; t++)
                        for (int d = 0; d < 2; d++)
                                for (int missed = 0; missed < 2; missed++) {
                                        enum cb_call_direction dir =
                                            d ? CB_CALL_INBOUND : CB_CALL_OUTBOUND;
                                        struct cb_call_move m =
                                            cb_calls_move((enum cb_call_status)f,
                                                          (enum cb_call_status)t, dir, missed);
                                        bool fwd = ranks[t] > ranks[f];
                                        bool follow = fwd && missed && d == 1 &&
                                                      (strcmp(names[t], "no-answer") == 0 ||
                                                       strcmp(names[t], "busy") == 0);
                                        /* The agent's state follows an outbound call
                                         * placed, any call answered, any call's end. */
                                        bool agent =
                                            fwd && (is_final(t) || t == CB_CALL_IN_PROGRESS ||
                                                    (d == 0 && t == CB_CALL_INITIATED));
                                        size_t njobs = (fwd && is_final(t)) + follow + agent;

                                        assert_true(m.event);
                                        assert_int_equal(m.advance, fwd);
                                        assert_int_equal(m.status, fwd ? t : f);
                                        assert_int_equal(m.notify, fwd);
                                        assert_int_equal(m.set_answered,
                                                         fwd &&
                                                             strcmp(names[t], "in-progress") == 0);
                                        assert_int_equal(m.set_ended, fwd && is_final(t));
                                        assert_int_equal(m.set_duration, fwd && is_final(t));
                                        assert_int_equal(m.job_count, njobs);
                                        assert_int_equal(has_job(&m, "crm.log_call"),
                                                         fwd && is_final(t));
                                        assert_int_equal(has_job(&m, "crm.follow_up"), follow);
                                        assert_int_equal(has_job(&m, "agent.call_status"), agent);
                                        assert_false(has_job(&m, "telephony.place_call"));
                                }
}

/* The SQL applies a move as "the rank rises, then what reaching the status causes" (each event
 * carries cb_calls_reach's effects): that must be exactly cb_calls_move for every move that
 * goes forward, whatever the call's status was. */
static void test_reach_is_every_forward_move(void **state)
{
        (void)state;
        for (int t = 0; t < N; t++)
                for (int d = 0; d < 2; d++)
                        for (int missed = 0; missed < 2; missed++) {
                                enum cb_call_direction dir = d ? CB_CALL_INBOUND : CB_CALL_OUTBOUND;
                                struct cb_call_move r =
                                    cb_calls_reach((enum cb_call_status)t, dir, missed);

                                assert_true(r.advance);
                                assert_int_equal(r.status, t);
                                for (int f = 0; f < N; f++) {
                                        struct cb_call_move m =
                                            cb_calls_move((enum cb_call_status)f,
                                                          (enum cb_call_status)t, dir, missed);
                                        if (ranks[t] <= ranks[f])
                                                continue;
                                        assert_int_equal(m.set_answered, r.set_answered);
                                        assert_int_equal(m.set_ended, r.set_ended);
                                        assert_int_equal(m.set_duration, r.set_duration);
                                        assert_int_equal(m.notify, r.notify);
                                        assert_int_equal(m.job_count, r.job_count);
                                        for (size_t j = 0; j < m.job_count; j++)
                                                assert_string_equal(m.jobs[j], r.jobs[j]);
                                }
                        }
        /* Not a status: nothing. */
        assert_false(cb_calls_reach(CB_CALL_STATUS_COUNT, CB_CALL_INBOUND, true).advance);
}

/* A provider's history of one call: each (call, status) counts once (the store records an
 * event once), then the move from wherever the call is. */
struct history {
        bool seen[N];
        enum cb_call_status status;
        int log_calls, follow_ups, answered, ended;
        enum cb_call_direction dir;
        bool missed;
};

/* Apply `s`; false when it changed nothing (a duplicate or a step backwards). */
static bool deliver(struct history *h, enum cb_call_status s)
{
        struct cb_call_move m;

        if (h->seen[s])
                return false;
        h->seen[s] = true;
        m = cb_calls_move(h->status, s, h->dir, h->missed);
        if (!m.advance) {
                assert_int_equal(m.job_count, 0);
                return false;
        }
        assert_true(ranks[m.status] > ranks[h->status]);
        h->status = m.status;
        h->log_calls += has_job(&m, "crm.log_call");
        h->follow_ups += has_job(&m, "crm.follow_up");
        h->answered += m.set_answered;
        h->ended += m.set_ended;
        return true;
}

static void test_duplicates(void **state)
{
        (void)state;
        for (int f = 0; f < N; f++)
                for (int t = 0; t < N; t++) {
                        struct cb_call_move a = cb_calls_move(
                            (enum cb_call_status)f, (enum cb_call_status)t, CB_CALL_INBOUND, true);
                        struct cb_call_move b =
                            cb_calls_move(a.status, (enum cb_call_status)t, CB_CALL_INBOUND, true);

                        /* The second time, wherever the first left the call: nothing. */
                        assert_false(b.advance);
                        assert_int_equal(b.status, a.status);
                        assert_int_equal(b.job_count, 0);
                        assert_false(b.set_answered || b.set_ended || b.set_duration || b.notify);
                }
}

static void permute(enum cb_call_status *seq, int k, int n, int *runs)
{
        if (k == n) {
                for (int d = 0; d < 2; d++) {
                        struct history h = {.status = CB_CALL_QUEUED,
                                            .dir = d ? CB_CALL_INBOUND : CB_CALL_OUTBOUND,
                                            .missed = true};
                        int first_final = -1;

                        for (int i = 0; i < n; i++) {
                                if (first_final < 0 && is_final(seq[i]))
                                        first_final = seq[i];
                                deliver(&h, seq[i]);
                                deliver(&h, seq[i]); /* and again: a duplicate */
                        }
                        assert_int_equal(h.log_calls, 1);
                        assert_int_equal(h.ended, 1);
                        assert_int_equal(h.status, first_final);
                        assert_true(h.answered <= 1);
                        /* Missed only when no-answer came first, and only inbound. */
                        assert_int_equal(h.follow_ups, d == 1 && first_final == CB_CALL_NO_ANSWER);
                }
                (*runs)++;
                return;
        }
        for (int i = k; i < n; i++) {
                enum cb_call_status t = seq[k];
                seq[k] = seq[i];
                seq[i] = t;
                permute(seq, k + 1, n, runs);
                seq[i] = seq[k];
                seq[k] = t;
        }
}

static void test_out_of_order(void **state)
{
        enum cb_call_status seq[] = {CB_CALL_INITIATED, CB_CALL_RINGING, CB_CALL_IN_PROGRESS,
                                     CB_CALL_COMPLETED, CB_CALL_NO_ANSWER};
        int runs = 0;

        (void)state;
        permute(seq, 0, 5, &runs);
        assert_int_equal(runs, 120);
}

static void test_fail_to_place(void **state)
{
        (void)state;
        for (int f = 0; f < N; f++)
                for (int d = 0; d < 2; d++) {
                        struct cb_call_move m = cb_calls_move_fail(
                            (enum cb_call_status)f, d ? CB_CALL_INBOUND : CB_CALL_OUTBOUND);
                        bool fails = !is_final(f);

                        assert_int_equal(m.advance, fails);
                        assert_int_equal(m.event, fails);
                        assert_int_equal(m.status, fails ? CB_CALL_FAILED : f);
                        assert_int_equal(m.set_ended, fails);
                        assert_false(m.set_duration || m.set_answered || m.notify);
                        assert_int_equal(m.job_count, 2 * fails);
                        assert_int_equal(has_job(&m, "crm.log_call"), fails);
                        assert_int_equal(has_job(&m, "agent.call_status"), fails);
                }
}

static void test_created(void **state)
{
        struct cb_call_move m;

        (void)state;
        m = cb_calls_created(CB_CALL_ORIGIN_API, CB_CALL_OUTBOUND);
        assert_int_equal(m.status, CB_CALL_QUEUED);
        assert_true(m.event && m.notify);
        /* Its agent is busy once the provider placed it ("initiated"), not before. */
        assert_int_equal(m.job_count, 2);
        assert_string_equal(m.jobs[0], "telephony.place_call");
        assert_string_equal(m.jobs[1], "crm.log_call");
        m = cb_calls_created(CB_CALL_ORIGIN_API, CB_CALL_INBOUND);
        assert_int_equal(m.job_count, 1);
        assert_string_equal(m.jobs[0], "crm.log_call");
        for (int d = 0; d < 2; d++) {
                m = cb_calls_created(CB_CALL_ORIGIN_PROVIDER,
                                     d ? CB_CALL_INBOUND : CB_CALL_OUTBOUND);
                assert_int_equal(m.status, CB_CALL_QUEUED);
                assert_false(m.notify);
                assert_int_equal(m.job_count, d ? 1 : 2);
                assert_string_equal(m.jobs[0], "crm.log_call");
                /* A softphone dialled out: its agent is busy from the start. */
                assert_int_equal(has_job(&m, "agent.call_status"), !d);
        }
}

static void test_plan_api(void **state)
{
        struct cb_call_request rq = {.origin = CB_CALL_ORIGIN_API,
                                     .direction = CB_CALL_OUTBOUND,
                                     .agent = "alice",
                                     .fallback_agent = "desk",
                                     .to = "(415) 555-0123",
                                     .region = "US"};
        struct cb_call_plan a, b;
        unsigned char h[32];
        const char *canon = "+14155550123\n\noutbound\n\n\n";

        (void)state;
        assert_int_equal(cb_calls_plan(&rq, &a), CB_CALL_PLAN_OK);
        assert_string_equal(a.agent, "alice");
        assert_string_equal(a.to, "+14155550123");
        assert_false(a.has_from);
        assert_int_equal(a.created.job_count, 2);
        cb_sha256(canon, strlen(canon), h);
        assert_memory_equal(a.request_hash, h, 32);
        /* The same call spelled differently is the same request; another record is not. */
        rq.to = "+1 415 555 0123";
        assert_int_equal(cb_calls_plan(&rq, &b), CB_CALL_PLAN_OK);
        assert_memory_equal(a.request_hash, b.request_hash, 32);
        rq.crm_record_id = "003xx";
        assert_int_equal(cb_calls_plan(&rq, &b), CB_CALL_PLAN_OK);
        assert_memory_not_equal(a.request_hash, b.request_hash, 32);
        rq.from = "415 555 0100";
        rq.direction = CB_CALL_INBOUND;
        assert_int_equal(cb_calls_plan(&rq, &b), CB_CALL_PLAN_OK);
        assert_true(b.has_from);
        assert_string_equal(b.from, "+14155550100");
        assert_int_equal(b.direction, CB_CALL_INBOUND);
        assert_int_equal(b.created.job_count, 1);
        rq.from = "not a number";
        assert_int_equal(cb_calls_plan(&rq, &b), CB_CALL_PLAN_BAD_FROM);
        rq.to = "client:bob";
        assert_int_equal(cb_calls_plan(&rq, &b), CB_CALL_PLAN_BAD_TO);
}

static void test_plan_provider(void **state)
{
        struct cb_call_request rq = {.origin = CB_CALL_ORIGIN_PROVIDER,
                                     .direction = CB_CALL_INBOUND,
                                     .fallback_agent = "desk",
                                     .from = "anonymous",
                                     .region = "US",
                                     .provider_call_id = "CA0123"};
        struct cb_call_plan p;
        unsigned char h[32];

        (void)state;
        /* Nothing refused: no usable numbers, no agent. */
        assert_int_equal(cb_calls_plan(&rq, &p), CB_CALL_PLAN_OK);
        assert_string_equal(p.agent, "desk");
        assert_string_equal(p.to, "unknown");
        assert_false(p.has_from);
        assert_string_equal(p.from, "");
        assert_int_equal(p.created.job_count, 1);
        assert_string_equal(p.created.jobs[0], "crm.log_call");
        cb_sha256("CA0123", 6, h);
        assert_memory_equal(p.request_hash, h, 32);
        rq.fallback_agent = NULL;
        assert_int_equal(cb_calls_plan(&rq, &p), CB_CALL_PLAN_OK);
        assert_string_equal(p.agent, "unassigned");
        rq.agent = "carol";
        rq.direction = CB_CALL_OUTBOUND; /* dialled from a softphone: nothing to place */
        rq.to = "client:x";
        rq.from = "+14155550123";
        assert_int_equal(cb_calls_plan(&rq, &p), CB_CALL_PLAN_OK);
        assert_string_equal(p.agent, "carol");
        assert_string_equal(p.to, "unknown");
        assert_string_equal(p.from, "+14155550123");
        assert_int_equal(p.created.job_count, 2); /* log, the agent's state */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_names_and_ranks),
            cmocka_unit_test(test_every_move),
            cmocka_unit_test(test_reach_is_every_forward_move),
            cmocka_unit_test(test_duplicates),
            cmocka_unit_test(test_out_of_order),
            cmocka_unit_test(test_fail_to_place),
            cmocka_unit_test(test_created),
            cmocka_unit_test(test_crm_log_first),
            cmocka_unit_test(test_phase),
            cmocka_unit_test(test_plan_api),
            cmocka_unit_test(test_plan_provider),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
