/* Call outcomes (src/calls/outcome.c) for every direction, final status and answer, and the
 * /metrics exposition of the call counters and histograms (src/calls/metrics.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/calls.h"

static void test_outcome_every_status(void **state)
{
        (void)state;
        for (int s = 0; s < CB_CALL_STATUS_COUNT; s++) {
                enum cb_call_status st = (enum cb_call_status)s;
                for (int d = 0; d <= CB_CALL_INBOUND; d++) {
                        enum cb_call_direction dir = (enum cb_call_direction)d;
                        if (!cb_calls_status_final(st)) {
                                /* No outcome before the end, answered or not. */
                                assert_int_equal(cb_calls_outcome(dir, st, true), CB_OUTCOME_COUNT);
                                assert_int_equal(cb_calls_outcome(dir, st, false),
                                                 CB_OUTCOME_COUNT);
                                continue;
                        }
                        assert_int_equal(cb_calls_outcome(dir, st, true), CB_OUTCOME_ANSWERED);
                }
                if (cb_calls_status_final(st))
                        assert_int_equal(cb_calls_outcome(CB_CALL_OUTBOUND, st, false),
                                         CB_OUTCOME_UNANSWERED);
        }
        /* Inbound, unanswered: the agent did not pick up, or the caller left first. */
        assert_int_equal(cb_calls_outcome(CB_CALL_INBOUND, CB_CALL_NO_ANSWER, false),
                         CB_OUTCOME_MISSED);
        assert_int_equal(cb_calls_outcome(CB_CALL_INBOUND, CB_CALL_BUSY, false), CB_OUTCOME_MISSED);
        assert_int_equal(cb_calls_outcome(CB_CALL_INBOUND, CB_CALL_FAILED, false),
                         CB_OUTCOME_MISSED);
        assert_int_equal(cb_calls_outcome(CB_CALL_INBOUND, CB_CALL_CANCELED, false),
                         CB_OUTCOME_ABANDONED);
        assert_int_equal(cb_calls_outcome(CB_CALL_INBOUND, CB_CALL_COMPLETED, false),
                         CB_OUTCOME_ABANDONED);
        assert_string_equal(cb_calls_outcome_name(CB_OUTCOME_MISSED), "missed");
        assert_null(cb_calls_outcome_name(CB_OUTCOME_COUNT));
}

static bool has_line(const struct cb_buf *b, const char *line)
{
        char want[256];

        snprintf(want, sizeof(want), "\n%s\n", line);
        return b->data != NULL && strstr(b->data, want) != NULL;
}

static void test_metrics_exposition(void **state)
{
        struct cb_buf out = {.max = 1 << 20};
        const struct cb_call_sample samples[] = {
            {"mx", CB_CALL_INBOUND, CB_OUTCOME_ANSWERED, 4.0, 60.0},
            {"mx", CB_CALL_INBOUND, CB_OUTCOME_ANSWERED, 25.0, 600.5},
            {"mx", CB_CALL_INBOUND, CB_OUTCOME_MISSED, -1, -1},
            {"mx", CB_CALL_OUTBOUND, CB_OUTCOME_UNANSWERED, -1, -1},
            {"bad name", CB_CALL_OUTBOUND, CB_OUTCOME_ANSWERED, -1, 5},
        };

        (void)state;
        for (size_t i = 0; i < CB_ARRAY_LEN(samples); i++)
                cb_calls_metrics_observe(&samples[i]);
        cb_calls_metrics_wrap_up("mx", 12.5);
        assert_int_equal(cb_calls_metrics_write(&out), 0);
        assert_true(has_line(
            &out,
            "callbridge_calls_total{agent=\"mx\",direction=\"inbound\",outcome=\"answered\"} 2"));
        assert_true(has_line(
            &out,
            "callbridge_calls_total{agent=\"mx\",direction=\"inbound\",outcome=\"missed\"} 1"));
        assert_true(has_line(&out, "callbridge_calls_total{agent=\"mx\",direction=\"outbound\","
                                   "outcome=\"unanswered\"} 1"));
        /* Buckets are cumulative: 4 s is under 5, 25 s under 30. */
        assert_true(has_line(&out, "callbridge_call_wait_seconds_bucket{agent=\"mx\",le=\"2\"} 0"));
        assert_true(has_line(&out, "callbridge_call_wait_seconds_bucket{agent=\"mx\",le=\"5\"} 1"));
        assert_true(
            has_line(&out, "callbridge_call_wait_seconds_bucket{agent=\"mx\",le=\"30\"} 2"));
        assert_true(
            has_line(&out, "callbridge_call_wait_seconds_bucket{agent=\"mx\",le=\"+Inf\"} 2"));
        assert_true(has_line(&out, "callbridge_call_wait_seconds_sum{agent=\"mx\"} 29.000"));
        assert_true(has_line(&out, "callbridge_call_talk_seconds_count{agent=\"mx\"} 2"));
        assert_true(has_line(&out, "callbridge_call_talk_seconds_sum{agent=\"mx\"} 660.500"));
        assert_true(has_line(&out, "callbridge_agent_wrap_up_seconds_count{agent=\"mx\"} 1"));
        /* A name that is no identity never becomes a label. */
        assert_null(strstr(out.data, "bad name"));
        assert_true(has_line(&out, "callbridge_calls_total{agent=\"other\",direction=\"outbound\","
                                   "outcome=\"answered\"} 1"));
        cb_buf_free(&out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_outcome_every_status),
            cmocka_unit_test(test_metrics_exposition),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
