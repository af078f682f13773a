/* Call control decisions (src/calls/control.c): which agent actions each call status and
 * control state allows, what a repeated action answers, and what each action changes —
 * expectations written here from the API contract (README "Call control"), not read from the
 * module. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/calls.h"

static const struct cb_call_control_env live = {
    .status = CB_CALL_IN_PROGRESS, .placed = true, .conference = true, .recorded = true};

static struct cb_call_decision decide(const struct cb_call_control_env *env,
                                      const struct cb_call_controls *now, enum cb_call_action a,
                                      const char *to)
{
        struct cb_call_decision d;

        cb_calls_control_decide(env, now, a, to, &d);
        return d;
}

/* Every action against every status of a call with nothing done yet. */
static void test_allowed_per_status(void **state)
{
        struct cb_call_controls none = {0};

        (void)state;
        for (int s = 0; s < CB_CALL_STATUS_COUNT; s++) {
                struct cb_call_control_env env = live;
                env.status = (enum cb_call_status)s;
                env.placed = s != CB_CALL_QUEUED; /* a queued call has no provider call yet */
                for (int a = 0; a < CB_ACT_COUNT; a++) {
                        struct cb_call_decision d;
                        enum cb_call_verdict want = CB_CTL_BAD_STATE;
                        bool warm_step =
                            a == CB_ACT_TRANSFER_COMPLETE || a == CB_ACT_TRANSFER_CANCEL;
                        bool unchanged = a == CB_ACT_UNHOLD || a == CB_ACT_RECORDING_RESUME;
                        if (s == CB_CALL_IN_PROGRESS)
                                want = warm_step   ? CB_CTL_BAD_STATE
                                       : unchanged ? CB_CTL_ALREADY
                                                   : CB_CTL_DO;
                        else if (a == CB_ACT_HANGUP && env.placed &&
                                 !cb_calls_status_final(env.status))
                                want = CB_CTL_DO; /* initiated, ringing: cancelled */
                        d = decide(&env, &none, (enum cb_call_action)a, "bob");
                        assert_int_equal(d.verdict, want);
                        assert_non_null(d.event);
                        if (d.verdict == CB_CTL_BAD_STATE)
                                assert_non_null(d.why);
                }
        }
}

static void test_hold_is_idempotent(void **state)
{
        struct cb_call_controls now = {0};
        struct cb_call_decision d;

        (void)state;
        d = decide(&live, &now, CB_ACT_HOLD, NULL);
        assert_int_equal(d.verdict, CB_CTL_DO);
        assert_true(d.after.held);
        assert_string_equal(d.event, "hold");
        now = d.after;
        assert_int_equal(decide(&live, &now, CB_ACT_HOLD, NULL).verdict, CB_CTL_ALREADY);
        d = decide(&live, &now, CB_ACT_UNHOLD, NULL);
        assert_int_equal(d.verdict, CB_CTL_DO);
        assert_false(d.after.held);
        assert_string_equal(d.event, "unhold");
}

static void test_conference_needed(void **state)
{
        struct cb_call_control_env plain = live;
        struct cb_call_controls now = {0};

        (void)state;
        plain.conference = false;
        assert_int_equal(decide(&plain, &now, CB_ACT_HOLD, NULL).verdict, CB_CTL_BAD_STATE);
        assert_int_equal(decide(&plain, &now, CB_ACT_TRANSFER_WARM, "bob").verdict,
                         CB_CTL_BAD_STATE);
        /* A blind transfer, a hang-up and the recording work on a plain bridge. */
        assert_int_equal(decide(&plain, &now, CB_ACT_TRANSFER_BLIND, "bob").verdict, CB_CTL_DO);
        assert_int_equal(decide(&plain, &now, CB_ACT_HANGUP, NULL).verdict, CB_CTL_DO);
        assert_int_equal(decide(&plain, &now, CB_ACT_RECORDING_PAUSE, NULL).verdict, CB_CTL_DO);
}

static void test_recording(void **state)
{
        struct cb_call_control_env unrecorded = live;
        struct cb_call_controls now = {0};
        struct cb_call_decision d;

        (void)state;
        unrecorded.recorded = false;
        assert_int_equal(decide(&unrecorded, &now, CB_ACT_RECORDING_PAUSE, NULL).verdict,
                         CB_CTL_BAD_STATE);
        d = decide(&live, &now, CB_ACT_RECORDING_PAUSE, NULL);
        assert_int_equal(d.verdict, CB_CTL_DO);
        assert_string_equal(d.event, "recording_paused");
        now = d.after;
        assert_int_equal(decide(&live, &now, CB_ACT_RECORDING_PAUSE, NULL).verdict, CB_CTL_ALREADY);
        d = decide(&live, &now, CB_ACT_RECORDING_RESUME, NULL);
        assert_int_equal(d.verdict, CB_CTL_DO);
        assert_false(d.after.recording_paused);
        assert_string_equal(d.event, "recording_resumed");
}

static void test_warm_transfer(void **state)
{
        struct cb_call_controls now = {0};
        struct cb_call_decision d;

        (void)state;
        d = decide(&live, &now, CB_ACT_TRANSFER_WARM, "bob");
        assert_int_equal(d.verdict, CB_CTL_DO);
        assert_int_equal(d.after.transfer, CB_TRANSFER_PENDING);
        assert_true(d.after.held);
        assert_string_equal(d.after.transfer_to, "bob");
        now = d.after;
        /* the same again: answered; another target, hold, blind: refused while pending */
        assert_int_equal(decide(&live, &now, CB_ACT_TRANSFER_WARM, "bob").verdict, CB_CTL_ALREADY);
        assert_int_equal(decide(&live, &now, CB_ACT_TRANSFER_WARM, "carol").verdict,
                         CB_CTL_BAD_STATE);
        assert_int_equal(decide(&live, &now, CB_ACT_HOLD, NULL).verdict, CB_CTL_BAD_STATE);
        assert_int_equal(decide(&live, &now, CB_ACT_UNHOLD, NULL).verdict, CB_CTL_BAD_STATE);
        assert_int_equal(decide(&live, &now, CB_ACT_TRANSFER_BLIND, "carol").verdict,
                         CB_CTL_BAD_STATE);
        /* cancel: back to the agent */
        d = decide(&live, &now, CB_ACT_TRANSFER_CANCEL, NULL);
        assert_int_equal(d.verdict, CB_CTL_DO);
        assert_int_equal(d.after.transfer, CB_TRANSFER_NONE);
        assert_false(d.after.held);
        /* complete: done, and the agent is out of the call */
        d = decide(&live, &now, CB_ACT_TRANSFER_COMPLETE, NULL);
        assert_int_equal(d.verdict, CB_CTL_DO);
        assert_int_equal(d.after.transfer, CB_TRANSFER_DONE);
        assert_false(d.after.held);
        assert_string_equal(d.event, "transfer_completed");
        now = d.after;
        assert_int_equal(decide(&live, &now, CB_ACT_TRANSFER_COMPLETE, NULL).verdict,
                         CB_CTL_ALREADY);
        for (int a = 0; a < CB_ACT_COUNT; a++)
                if (a != CB_ACT_TRANSFER_COMPLETE)
                        assert_int_equal(decide(&live, &now, (enum cb_call_action)a, "bob").verdict,
                                         CB_CTL_BAD_STATE);
}

static void test_blind_transfer(void **state)
{
        struct cb_call_controls now = {0};
        struct cb_call_decision d;

        (void)state;
        d = decide(&live, &now, CB_ACT_TRANSFER_BLIND, "+14155550199");
        assert_int_equal(d.verdict, CB_CTL_DO);
        assert_int_equal(d.after.transfer, CB_TRANSFER_DONE);
        assert_false(d.after.transfer_warm);
        assert_string_equal(d.event, "transfer");
        now = d.after;
        assert_int_equal(decide(&live, &now, CB_ACT_TRANSFER_BLIND, "+14155550199").verdict,
                         CB_CTL_ALREADY);
        assert_int_equal(decide(&live, &now, CB_ACT_TRANSFER_BLIND, "bob").verdict,
                         CB_CTL_BAD_STATE);
        assert_int_equal(decide(&live, &now, CB_ACT_HANGUP, NULL).verdict, CB_CTL_BAD_STATE);
}

/* Whose the call is after a transfer: the target agent's once done now, else unchanged. */
static void test_new_agent(void **state)
{
        struct cb_call_controls none = {0}, pending, done;
        struct cb_call_decision d;

        (void)state;
        d = decide(&live, &none, CB_ACT_TRANSFER_BLIND, "bob");
        assert_string_equal(cb_calls_control_new_agent(&none, &d.after), "bob");
        done = d.after; /* the same transfer again hands nothing over again */
        assert_null(cb_calls_control_new_agent(&done, &done));
        d = decide(&live, &none, CB_ACT_TRANSFER_BLIND, "+14155550199");
        assert_null(cb_calls_control_new_agent(&none, &d.after));
        d = decide(&live, &none, CB_ACT_TRANSFER_WARM, "bob");
        assert_null(cb_calls_control_new_agent(&none, &d.after)); /* pending: still ours */
        pending = d.after;
        d = decide(&live, &pending, CB_ACT_TRANSFER_COMPLETE, NULL);
        assert_string_equal(cb_calls_control_new_agent(&pending, &d.after), "bob");
        d = decide(&live, &pending, CB_ACT_TRANSFER_CANCEL, NULL);
        assert_null(cb_calls_control_new_agent(&pending, &d.after));
        d = decide(&live, &none, CB_ACT_HOLD, NULL);
        assert_null(cb_calls_control_new_agent(&none, &d.after));
}

static void test_hangup(void **state)
{
        struct cb_call_controls now = {0};
        struct cb_call_control_env ended = live, ringing = live;
        struct cb_call_decision d;

        (void)state;
        ringing.status = CB_CALL_RINGING;
        d = decide(&ringing, &now, CB_ACT_HANGUP, NULL);
        assert_int_equal(d.verdict, CB_CTL_DO);
        assert_true(d.after.hung_up);
        assert_string_equal(d.event, "hangup");
        now = d.after;
        /* again, before and after the provider's final status: answered, nothing else is */
        assert_int_equal(decide(&live, &now, CB_ACT_HANGUP, NULL).verdict, CB_CTL_ALREADY);
        assert_int_equal(decide(&live, &now, CB_ACT_HOLD, NULL).verdict, CB_CTL_BAD_STATE);
        ended.status = CB_CALL_COMPLETED;
        assert_int_equal(decide(&ended, &now, CB_ACT_HANGUP, NULL).verdict, CB_CTL_ALREADY);
        /* a call that ended without us: 409 */
        now = (struct cb_call_controls){0};
        d = decide(&ended, &now, CB_ACT_HANGUP, NULL);
        assert_int_equal(d.verdict, CB_CTL_BAD_STATE);
        assert_string_equal(d.why, "the call has ended");
}

static void test_names_and_json(void **state)
{
        static const char *const want[CB_ACT_COUNT] = {"hangup",
                                                       "hold",
                                                       "unhold",
                                                       "transfer",
                                                       "transfer_started",
                                                       "transfer_completed",
                                                       "transfer_canceled",
                                                       "recording_paused",
                                                       "recording_resumed"};
        struct cb_call_controls c = {.held = true,
                                     .transfer = CB_TRANSFER_PENDING,
                                     .transfer_warm = true,
                                     .transfer_to = "bob"};
        char name[64];
        json_t *j;

        (void)state;
        for (int a = 0; a < CB_ACT_COUNT; a++)
                assert_string_equal(cb_calls_action_name((enum cb_call_action)a), want[a]);
        assert_null(cb_calls_action_name(CB_ACT_COUNT));
        j = cb_calls_controls_to_json(&c, true);
        assert_true(json_is_true(json_object_get(j, "held")));
        assert_string_equal(json_string_value(json_object_get(j, "recording")), "active");
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(j, "transfer"), "state")), "pending");
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(j, "transfer"), "mode")), "warm");
        json_decref(j);
        j = cb_calls_controls_to_json(&(struct cb_call_controls){0}, false);
        assert_string_equal(json_string_value(json_object_get(j, "recording")), "off");
        assert_true(json_is_null(json_object_get(j, "transfer")));
        json_decref(j);
        assert_true(cb_calls_conference_name("CA0123", name, sizeof(name)));
        assert_string_equal(name, "cb-CA0123");
        assert_false(cb_calls_conference_name("", name, sizeof(name)));
        assert_false(cb_calls_conference_name("CA0123", name, 6));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_allowed_per_status),
            cmocka_unit_test(test_hold_is_idempotent),
            cmocka_unit_test(test_conference_needed),
            cmocka_unit_test(test_recording),
            cmocka_unit_test(test_warm_transfer),
            cmocka_unit_test(test_blind_transfer),
            cmocka_unit_test(test_hangup),
            cmocka_unit_test(test_new_agent),
            cmocka_unit_test(test_names_and_json),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
