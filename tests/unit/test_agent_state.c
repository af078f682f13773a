/* Agent states (src/calls/agent_state.c): names, reasons, the rep's PUT, a call's moves, the
 * end of wrap-up and the JSON view — every rule on states handed in, no I/O. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/agent_state.h"

#define CALL_A "11111111-1111-4111-8111-111111111111"
#define CALL_B "22222222-2222-4222-8222-222222222222"
#define NOW    1800000000000000LL /* microseconds */
#define SEC    1000000LL

static const struct cb_agent_policy timed = {.wrap_up_s = 30};
static const struct cb_agent_policy none = {.wrap_up_s = 0};
static const struct cb_agent_policy required = {.wrap_up_s = 0, .disposition_required = true};

static struct cb_agent_state state_of(enum cb_agent_status s, const char *call_id)
{
        struct cb_agent_state st = {.status = s, .since_us = NOW - 100 * SEC};

        snprintf(st.call_id, sizeof(st.call_id), "%s", call_id ? call_id : "");
        return st;
}

/* A call as the job reads it: `status` now; answered and ended at NOW when they happened. */
static struct cb_call call_of(const char *id, enum cb_call_status status,
                              enum cb_call_direction dir, bool disposed)
{
        struct cb_call c = {.direction = dir, .status = status};

        snprintf(c.id, sizeof(c.id), "%s", id);
        snprintf(c.disposition, sizeof(c.disposition), "%s", disposed ? "connected" : "");
        if (status == CB_CALL_IN_PROGRESS || status == CB_CALL_COMPLETED)
                c.answered_us = NOW - 60 * SEC;
        if (cb_calls_status_final(status))
                c.ended_us = NOW - SEC;
        return c;
}

/* The rule for `call` as call_of makes it. */
static void on_call(const struct cb_agent_state *cur, const char *id, enum cb_call_status status,
                    enum cb_call_direction dir, bool disposed, const struct cb_agent_policy *p,
                    int64_t now, struct cb_agent_change *c)
{
        struct cb_call call = call_of(id, status, dir, disposed);

        cb_agent_rule_call(cur, &call, p, now, c);
}

static void test_names(void **state)
{
        enum cb_agent_status s = CB_AGENT_STATUS_COUNT;

        (void)state;
        for (int i = 0; i < CB_AGENT_STATUS_COUNT; i++) {
                assert_true(cb_agent_status_parse(cb_agent_status_name(i), &s));
                assert_int_equal(s, i);
        }
        assert_string_equal(cb_agent_status_name(CB_AGENT_WRAP_UP), "wrap_up");
        assert_null(cb_agent_status_name(CB_AGENT_STATUS_COUNT));
        assert_false(cb_agent_status_parse("wrap-up", &s));
        assert_false(cb_agent_status_parse("Available", &s));
        assert_false(cb_agent_status_parse(NULL, &s));
        assert_true(cb_agent_status_automatic(CB_AGENT_BUSY));
        assert_true(cb_agent_status_automatic(CB_AGENT_WRAP_UP));
        assert_false(cb_agent_status_automatic(CB_AGENT_AWAY));
        assert_true(cb_agent_routable(CB_AGENT_AVAILABLE));
        for (int i = 1; i < CB_AGENT_STATUS_COUNT; i++)
                assert_false(cb_agent_routable(i));
}

static void test_reasons(void **state)
{
        char s[1024];

        (void)state;
        assert_true(cb_agent_reason_valid("lunch"));
        assert_true(cb_agent_reason_valid("déjeuner — 🍜"));
        assert_false(cb_agent_reason_valid(""));
        assert_false(cb_agent_reason_valid(NULL));
        assert_false(cb_agent_reason_valid("tab\there"));
        assert_false(cb_agent_reason_valid("line\nbreak"));
        assert_false(cb_agent_reason_valid("del\x7f"));
        assert_false(cb_agent_reason_valid("\xc3"));     /* cut sequence */
        assert_false(cb_agent_reason_valid("\xc0\xaf")); /* overlong */
        memset(s, 'x', 200);
        s[200] = '\0';
        assert_true(cb_agent_reason_valid(s));
        s[200] = 'x';
        s[201] = '\0';
        assert_false(cb_agent_reason_valid(s));
        /* 200 characters of four bytes each are still 200 characters. */
        for (int i = 0; i < 200; i++)
                memcpy(s + 4 * i, "\xf0\x9f\x8d\x9c", 4);
        s[800] = '\0';
        assert_true(cb_agent_reason_valid(s));
}

static void test_put_when_free(void **state)
{
        struct cb_agent_state cur = state_of(CB_AGENT_AVAILABLE, NULL);
        struct cb_agent_change c;

        (void)state;
        assert_int_equal(cb_agent_rule_put(&cur, CB_AGENT_AWAY, "lunch", &timed, NOW, &c),
                         CB_AGENT_PUT_NOW);
        assert_true(c.changed && c.new_period);
        assert_int_equal(c.state.status, CB_AGENT_AWAY);
        assert_string_equal(c.state.reason, "lunch");
        assert_int_equal(c.state.since_us, NOW);
        /* The same again: nothing changes, no new period. */
        cur = c.state;
        assert_int_equal(cb_agent_rule_put(&cur, CB_AGENT_AWAY, "lunch", &timed, NOW + SEC, &c),
                         CB_AGENT_PUT_NOW);
        assert_false(c.changed || c.new_period);
        assert_int_equal(c.state.since_us, NOW);
        /* Another reason is another period. */
        assert_int_equal(cb_agent_rule_put(&cur, CB_AGENT_AWAY, "meeting", &timed, NOW, &c),
                         CB_AGENT_PUT_NOW);
        assert_true(c.changed && c.new_period);
        /* Back: the reason goes. */
        assert_int_equal(cb_agent_rule_put(&cur, CB_AGENT_AVAILABLE, NULL, &timed, NOW, &c),
                         CB_AGENT_PUT_NOW);
        assert_int_equal(c.state.status, CB_AGENT_AVAILABLE);
        assert_string_equal(c.state.reason, "");
        assert_false(c.schedule_end);
}

static void test_put_refused(void **state)
{
        struct cb_agent_state cur = state_of(CB_AGENT_AVAILABLE, NULL);
        struct cb_agent_change c;

        (void)state;
        assert_int_equal(cb_agent_rule_put(&cur, CB_AGENT_BUSY, NULL, &timed, NOW, &c),
                         CB_AGENT_PUT_AUTOMATIC);
        assert_int_equal(cb_agent_rule_put(&cur, CB_AGENT_WRAP_UP, NULL, &timed, NOW, &c),
                         CB_AGENT_PUT_AUTOMATIC);
        assert_int_equal(cb_agent_rule_put(&cur, CB_AGENT_STATUS_COUNT, NULL, &timed, NOW, &c),
                         CB_AGENT_PUT_AUTOMATIC);
        assert_int_equal(cb_agent_rule_put(&cur, CB_AGENT_AVAILABLE, "x", &timed, NOW, &c),
                         CB_AGENT_PUT_BAD_REASON);
        assert_int_equal(cb_agent_rule_put(&cur, CB_AGENT_AWAY, "", &timed, NOW, &c),
                         CB_AGENT_PUT_BAD_REASON);
        assert_false(c.changed);
}

/* While busy the rep's choice waits as next_status; the call's end takes it. */
static void test_put_while_busy_is_next(void **state)
{
        struct cb_agent_state cur = state_of(CB_AGENT_BUSY, CALL_A);
        struct cb_agent_change c;

        (void)state;
        assert_int_equal(cb_agent_rule_put(&cur, CB_AGENT_AWAY, "break", &timed, NOW, &c),
                         CB_AGENT_PUT_NEXT);
        assert_true(c.changed);
        assert_false(c.new_period);
        assert_int_equal(c.state.status, CB_AGENT_BUSY);
        assert_int_equal(c.state.next, CB_AGENT_AWAY);
        assert_string_equal(c.state.next_reason, "break");
        /* No wrap-up: the call's end goes straight to away. */
        cur = c.state;
        on_call(&cur, CALL_A, CB_CALL_COMPLETED, CB_CALL_OUTBOUND, false, &none, NOW, &c);
        assert_int_equal(c.state.status, CB_AGENT_AWAY);
        assert_string_equal(c.state.reason, "break");
        assert_string_equal(c.state.call_id, "");
        assert_int_equal(c.state.next, CB_AGENT_AVAILABLE);
        assert_string_equal(c.state.next_reason, "");
        assert_true(c.new_period);
        /* Available while busy: stays busy (a rep on a call is on a call). */
        cur = state_of(CB_AGENT_BUSY, CALL_A);
        cur.next = CB_AGENT_OFFLINE;
        assert_int_equal(cb_agent_rule_put(&cur, CB_AGENT_AVAILABLE, NULL, &timed, NOW, &c),
                         CB_AGENT_PUT_NEXT);
        assert_int_equal(c.state.status, CB_AGENT_BUSY);
        assert_int_equal(c.state.next, CB_AGENT_AVAILABLE);
}

/* In wrap-up a PUT ends it at once, except "available" while a required disposition is
 * missing. */
static void test_put_in_wrap_up(void **state)
{
        struct cb_agent_state cur = state_of(CB_AGENT_WRAP_UP, CALL_A);
        struct cb_agent_change c;

        (void)state;
        cur.wrap_up_until_us = NOW + 10 * SEC;
        assert_int_equal(cb_agent_rule_put(&cur, CB_AGENT_AVAILABLE, NULL, &timed, NOW, &c),
                         CB_AGENT_PUT_NOW);
        assert_int_equal(c.state.status, CB_AGENT_AVAILABLE);
        assert_int_equal(c.state.wrap_up_until_us, 0);
        assert_string_equal(c.state.call_id, "");
        assert_int_equal(cb_agent_rule_put(&cur, CB_AGENT_AVAILABLE, NULL, &required, NOW, &c),
                         CB_AGENT_PUT_NEXT);
        assert_int_equal(c.state.status, CB_AGENT_WRAP_UP);
        assert_int_equal(
            cb_agent_rule_put(&cur, CB_AGENT_OFFLINE, "shift over", &required, NOW, &c),
            CB_AGENT_PUT_NOW);
        assert_int_equal(c.state.status, CB_AGENT_OFFLINE);
        cur.call_disposed = true;
        assert_int_equal(cb_agent_rule_put(&cur, CB_AGENT_AVAILABLE, NULL, &required, NOW, &c),
                         CB_AGENT_PUT_NOW);
}

/* Which call statuses keep the agent busy, per direction. */
static void test_call_live(void **state)
{
        (void)state;
        for (int s = 0; s < CB_CALL_STATUS_COUNT; s++) {
                bool final = cb_calls_status_final(s);
                assert_int_equal(cb_agent_call_live(s, CB_CALL_OUTBOUND), !final);
                assert_int_equal(cb_agent_call_live(s, CB_CALL_INBOUND), s == CB_CALL_IN_PROGRESS);
        }
        assert_false(cb_agent_call_live(CB_CALL_STATUS_COUNT, CB_CALL_OUTBOUND));
}

static void test_call_makes_busy_then_wrap_up(void **state)
{
        struct cb_agent_state cur = state_of(CB_AGENT_AVAILABLE, NULL);
        struct cb_agent_change c;

        (void)state;
        /* Inbound and still ringing: nothing. */
        on_call(&cur, CALL_A, CB_CALL_RINGING, CB_CALL_INBOUND, false, &timed, NOW, &c);
        assert_false(c.changed);
        on_call(&cur, CALL_A, CB_CALL_IN_PROGRESS, CB_CALL_INBOUND, false, &timed, NOW, &c);
        assert_true(c.changed && c.new_period);
        assert_int_equal(c.state.status, CB_AGENT_BUSY);
        assert_string_equal(c.state.call_id, CALL_A);
        /* The same call again (a repeated job): nothing. */
        cur = c.state;
        on_call(&cur, CALL_A, CB_CALL_IN_PROGRESS, CB_CALL_INBOUND, false, &timed, NOW + SEC, &c);
        assert_false(c.changed);
        /* Another call ending (say one that rang and was missed): nothing. */
        on_call(&cur, CALL_B, CB_CALL_NO_ANSWER, CB_CALL_INBOUND, false, &timed, NOW, &c);
        assert_false(c.changed);
        /* Its own end: wrap-up for 30 s, the end job scheduled then. */
        on_call(&cur, CALL_A, CB_CALL_COMPLETED, CB_CALL_INBOUND, false, &timed, NOW, &c);
        assert_int_equal(c.state.status, CB_AGENT_WRAP_UP);
        assert_string_equal(c.state.call_id, CALL_A);
        assert_int_equal(c.state.wrap_up_until_us, NOW + 30 * SEC);
        assert_true(c.schedule_end && c.new_period);
        /* A repeated end job-run later changes nothing more. */
        cur = c.state;
        on_call(&cur, CALL_A, CB_CALL_COMPLETED, CB_CALL_INBOUND, false, &timed, NOW + SEC, &c);
        assert_false(c.changed);
}

/* An outbound call made while away: busy, and away again after it. */
static void test_call_keeps_the_standing_choice(void **state)
{
        struct cb_agent_state cur = state_of(CB_AGENT_AWAY, NULL);
        struct cb_agent_change c;

        (void)state;
        snprintf(cur.reason, sizeof(cur.reason), "training");
        on_call(&cur, CALL_A, CB_CALL_QUEUED, CB_CALL_OUTBOUND, false, &timed, NOW, &c);
        assert_int_equal(c.state.status, CB_AGENT_BUSY);
        assert_string_equal(c.state.reason, "");
        assert_int_equal(c.state.next, CB_AGENT_AWAY);
        assert_string_equal(c.state.next_reason, "training");
        /* A second call while in wrap-up of the first: busy again, the choice kept. */
        cur = c.state;
        on_call(&cur, CALL_A, CB_CALL_BUSY, CB_CALL_OUTBOUND, false, &timed, NOW, &c);
        assert_int_equal(c.state.status, CB_AGENT_WRAP_UP);
        cur = c.state;
        on_call(&cur, CALL_B, CB_CALL_INITIATED, CB_CALL_OUTBOUND, false, &timed, NOW, &c);
        assert_int_equal(c.state.status, CB_AGENT_BUSY);
        assert_string_equal(c.state.call_id, CALL_B);
        assert_int_equal(c.state.wrap_up_until_us, 0);
        assert_int_equal(c.state.next, CB_AGENT_AWAY);
        /* The first call's wrap-up end job then finds nothing to do. */
        cur = c.state;
        assert_true(cb_agent_rule_wrap_up_end(&cur, CALL_A, &timed, NOW + 60 * SEC, &c));
        assert_false(c.changed);
}

static void test_wrap_up_end(void **state)
{
        struct cb_agent_state cur = state_of(CB_AGENT_WRAP_UP, CALL_A);
        struct cb_agent_change c;

        (void)state;
        cur.wrap_up_until_us = NOW;
        cur.next = CB_AGENT_OFFLINE;
        assert_false(cb_agent_rule_wrap_up_end(&cur, CALL_A, &timed, NOW - 1, &c));
        assert_false(c.changed);
        assert_true(cb_agent_rule_wrap_up_end(&cur, CALL_A, &timed, NOW, &c));
        assert_int_equal(c.state.status, CB_AGENT_OFFLINE);
        assert_int_equal(c.state.next, CB_AGENT_AVAILABLE);
        assert_true(c.new_period);
        /* Disposition required: the time alone is not enough. */
        assert_false(cb_agent_rule_wrap_up_end(&cur, CALL_A, &required, NOW + SEC, &c));
        cur.call_disposed = true;
        assert_true(cb_agent_rule_wrap_up_end(&cur, CALL_A, &required, NOW + SEC, &c));
        assert_int_equal(c.state.status, CB_AGENT_OFFLINE);
        /* Not in wrap-up any more: done, nothing to change. */
        cur = state_of(CB_AGENT_AWAY, NULL);
        assert_true(cb_agent_rule_wrap_up_end(&cur, CALL_A, &timed, NOW, &c));
        assert_false(c.changed);
}

/* The call's end with no wrap-up: straight back; required and missing: wrap-up until it. */
static void test_call_end_policies(void **state)
{
        struct cb_agent_state cur = state_of(CB_AGENT_BUSY, CALL_A);
        struct cb_agent_change c;

        (void)state;
        on_call(&cur, CALL_A, CB_CALL_COMPLETED, CB_CALL_OUTBOUND, false, &none, NOW, &c);
        assert_int_equal(c.state.status, CB_AGENT_AVAILABLE);
        assert_false(c.schedule_end);
        on_call(&cur, CALL_A, CB_CALL_COMPLETED, CB_CALL_OUTBOUND, false, &required, NOW, &c);
        assert_int_equal(c.state.status, CB_AGENT_WRAP_UP);
        assert_int_equal(c.state.wrap_up_until_us, NOW);
        assert_true(c.schedule_end);
        /* Disposed during the call: nothing to wait for. */
        on_call(&cur, CALL_A, CB_CALL_COMPLETED, CB_CALL_OUTBOUND, true, &required, NOW, &c);
        assert_int_equal(c.state.status, CB_AGENT_AVAILABLE);
}

/* The end's job ran before the start's: the call still counts, once, unless the agent did
 * something since it ended. */
static void test_call_end_before_its_start(void **state)
{
        struct cb_agent_state cur = state_of(CB_AGENT_AVAILABLE, NULL); /* since NOW - 100 s */
        struct cb_agent_change c;

        (void)state;
        on_call(&cur, CALL_A, CB_CALL_NO_ANSWER, CB_CALL_OUTBOUND, false, &timed, NOW, &c);
        assert_int_equal(c.state.status, CB_AGENT_WRAP_UP);
        assert_string_equal(c.state.call_id, CALL_A);
        assert_int_equal(c.state.next, CB_AGENT_AVAILABLE);
        assert_true(c.schedule_end);
        /* The start's job then: the call is over, the agent in its wrap-up: nothing. */
        cur = c.state;
        on_call(&cur, CALL_A, CB_CALL_NO_ANSWER, CB_CALL_OUTBOUND, false, &timed, NOW, &c);
        assert_false(c.changed);
        /* Answered inbound counts; missed inbound does not. */
        cur = state_of(CB_AGENT_AWAY, NULL);
        on_call(&cur, CALL_A, CB_CALL_COMPLETED, CB_CALL_INBOUND, false, &timed, NOW, &c);
        assert_int_equal(c.state.status, CB_AGENT_WRAP_UP);
        assert_int_equal(c.state.next, CB_AGENT_AWAY);
        on_call(&cur, CALL_A, CB_CALL_NO_ANSWER, CB_CALL_INBOUND, false, &timed, NOW, &c);
        assert_false(c.changed);
        /* No wrap-up to give: nothing (not a busy nobody saw). */
        on_call(&cur, CALL_A, CB_CALL_COMPLETED, CB_CALL_INBOUND, false, &none, NOW, &c);
        assert_false(c.changed);
        /* The agent changed after the call ended: that is newer, nothing. */
        cur.since_us = NOW;
        on_call(&cur, CALL_A, CB_CALL_COMPLETED, CB_CALL_INBOUND, false, &timed, NOW, &c);
        assert_false(c.changed);
}

/* A transfer handed the call on: the agent's busy or wrap-up for it ends, to their choice. */
static void test_call_left(void **state)
{
        struct cb_agent_state cur = state_of(CB_AGENT_BUSY, CALL_A);
        struct cb_agent_change c;

        (void)state;
        cur.next = CB_AGENT_AWAY;
        snprintf(cur.next_reason, sizeof(cur.next_reason), "lunch");
        cb_agent_rule_call_left(&cur, CALL_A, NOW, &c);
        assert_true(c.changed && c.new_period);
        assert_int_equal(c.state.status, CB_AGENT_AWAY);
        assert_string_equal(c.state.reason, "lunch");
        assert_string_equal(c.state.call_id, "");
        assert_int_equal(c.state.since_us, NOW);
        assert_false(c.schedule_end);
        cur = state_of(CB_AGENT_WRAP_UP, CALL_A);
        cb_agent_rule_call_left(&cur, CALL_A, NOW, &c);
        assert_true(c.changed);
        assert_int_equal(c.state.status, CB_AGENT_AVAILABLE);
        /* Another call's busy, or no automatic state: nothing changes. */
        cur = state_of(CB_AGENT_BUSY, CALL_B);
        cb_agent_rule_call_left(&cur, CALL_A, NOW, &c);
        assert_false(c.changed);
        cur = state_of(CB_AGENT_AWAY, NULL);
        cb_agent_rule_call_left(&cur, CALL_A, NOW, &c);
        assert_false(c.changed);
        cur = state_of(CB_AGENT_AVAILABLE, NULL);
        cb_agent_rule_call_left(&cur, NULL, NOW, &c);
        assert_false(c.changed);
}

static void test_json(void **state)
{
        struct cb_agent_state st = state_of(CB_AGENT_WRAP_UP, CALL_A);
        json_t *j;

        (void)state;
        st.since_us = 0;
        st.wrap_up_until_us = 30 * SEC;
        st.next = CB_AGENT_AWAY;
        snprintf(st.next_reason, sizeof(st.next_reason), "lunch");
        j = cb_agent_state_to_json("alice", &st);
        assert_non_null(j);
        assert_string_equal(json_string_value(json_object_get(j, "agent")), "alice");
        assert_string_equal(json_string_value(json_object_get(j, "status")), "wrap_up");
        assert_string_equal(json_string_value(json_object_get(j, "since")),
                            "1970-01-01T00:00:00.000000Z");
        assert_string_equal(json_string_value(json_object_get(j, "wrap_up_until")),
                            "1970-01-01T00:00:30.000000Z");
        assert_string_equal(json_string_value(json_object_get(j, "call_id")), CALL_A);
        assert_string_equal(json_string_value(json_object_get(j, "next_status")), "away");
        assert_string_equal(json_string_value(json_object_get(j, "next_reason")), "lunch");
        assert_null(json_object_get(j, "reason"));
        json_decref(j);
        st = state_of(CB_AGENT_AWAY, NULL);
        snprintf(st.reason, sizeof(st.reason), "lunch");
        j = cb_agent_state_to_json("alice", &st);
        assert_int_equal(json_object_size(j), 4); /* agent, status, reason, since */
        assert_string_equal(json_string_value(json_object_get(j, "reason")), "lunch");
        json_decref(j);
        st.status = CB_AGENT_STATUS_COUNT;
        assert_null(cb_agent_state_to_json("alice", &st));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_names),
            cmocka_unit_test(test_reasons),
            cmocka_unit_test(test_put_when_free),
            cmocka_unit_test(test_put_refused),
            cmocka_unit_test(test_put_while_busy_is_next),
            cmocka_unit_test(test_put_in_wrap_up),
            cmocka_unit_test(test_call_live),
            cmocka_unit_test(test_call_makes_busy_then_wrap_up),
            cmocka_unit_test(test_call_keeps_the_standing_choice),
            cmocka_unit_test(test_wrap_up_end),
            cmocka_unit_test(test_call_end_policies),
            cmocka_unit_test(test_call_end_before_its_start),
            cmocka_unit_test(test_call_left),
            cmocka_unit_test(test_json),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
