/* The call record as JSON (src/calls/call.c): cb_calls_to_json must give exactly the shape the
 * API's views build in SQL (CALL_FIELDS in src/store/calls.c), which NLP rules match on by
 * name: same keys, null for what is unknown, times as SQL's cb_ts writes them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/calls.h"

/* `got` equals the JSON text `want` (keys in any order); prints both when not. */
static void assert_json(json_t *got, const char *want)
{
        json_t *w = json_loads(want, 0, NULL);
        char *text = got ? json_dumps(got, JSON_SORT_KEYS) : NULL;

        assert_non_null(w);
        assert_non_null(got);
        if (!json_equal(got, w))
                fail_msg("got %s\nwant %s", text, want);
        free(text);
        json_decref(w);
        json_decref(got);
}

static void test_full(void **state)
{
        const struct cb_call c = {
            .id = "4a1c8e2b-6d3f-4c1a-9b7e-2f5d8c0a1e34",
            .agent = "alice@example.com",
            .direction = CB_CALL_INBOUND,
            .status = CB_CALL_COMPLETED,
            .to = "+14155550100",
            .from = "+14155550123",
            .crm_record_id = "00Q000000000001AAA",
            .telephony = "twilio",
            .provider_call_id = "CA0123456789abcdef0123456789abcdef",
            .crm = "salesforce",
            .crm_state = "synced",
            .crm_log_id = "00T000000000001AAA",
            .duration_s = 42,
            .disposition = "interested",
            .notes = "Wants a demo on Friday.\nCall back after 3 pm.",
            .disposed_us = 1796621500000000, /* 2026-12-07T05:31:40.000000Z */
            .created_us = 1767323045000006,  /* 2026-01-02T03:04:05.000006Z */
            .answered_us = 1772323200000000, /* 2026-03-01T00:00:00.000000Z */
            .ended_us = 1796621487123456,    /* 2026-12-07T05:31:27.123456Z */
            .updated_us = 946684799999999,   /* 1999-12-31T23:59:59.999999Z */
        };

        (void)state;
        assert_json(cb_calls_to_json(&c),
                    "{\"call_id\": \"4a1c8e2b-6d3f-4c1a-9b7e-2f5d8c0a1e34\","
                    " \"agent\": \"alice@example.com\", \"direction\": \"inbound\","
                    " \"to\": \"+14155550100\", \"from\": \"+14155550123\","
                    " \"status\": \"completed\", \"crm_record_id\": \"00Q000000000001AAA\","
                    " \"telephony\": {\"provider\": \"twilio\","
                    "  \"call_id\": \"CA0123456789abcdef0123456789abcdef\"},"
                    " \"crm\": {\"provider\": \"salesforce\", \"state\": \"synced\","
                    "  \"log_id\": \"00T000000000001AAA\"},"
                    " \"duration_s\": 42, \"disposition\": \"interested\","
                    " \"notes\": \"Wants a demo on Friday.\\nCall back after 3 pm.\","
                    " \"disposed_at\": \"2026-12-07T05:31:40.000000Z\","
                    " \"answered_at\": \"2026-03-01T00:00:00.000000Z\","
                    " \"ended_at\": \"2026-12-07T05:31:27.123456Z\","
                    " \"created_at\": \"2026-01-02T03:04:05.000006Z\","
                    " \"updated_at\": \"1999-12-31T23:59:59.999999Z\"}");
}

/* A call just made: what is not known yet is null, a zero-second call is 0 (not null). */
static void test_sparse(void **state)
{
        const struct cb_call c = {
            .id = "0b7e2f5d-8c0a-4e34-8a1c-4a1c8e2b6d3f",
            .agent = "bob",
            .direction = CB_CALL_OUTBOUND,
            .status = CB_CALL_IN_PROGRESS,
            .to = "unknown",
            .telephony = "none",
            .crm = "none",
            .crm_state = "pending",
            .duration_s = -1,
            .created_us = 1767323045000006,
            .updated_us = 1767323045000006,
        };
        struct cb_call zero = c;

        (void)state;
        assert_json(cb_calls_to_json(&c),
                    "{\"call_id\": \"0b7e2f5d-8c0a-4e34-8a1c-4a1c8e2b6d3f\", \"agent\": \"bob\","
                    " \"direction\": \"outbound\", \"to\": \"unknown\", \"from\": null,"
                    " \"status\": \"in-progress\", \"crm_record_id\": null,"
                    " \"telephony\": {\"provider\": \"none\", \"call_id\": null},"
                    " \"crm\": {\"provider\": \"none\", \"state\": \"pending\", \"log_id\": null},"
                    " \"duration_s\": null, \"disposition\": null, \"notes\": null,"
                    " \"disposed_at\": null,"
                    " \"answered_at\": null, \"ended_at\": null,"
                    " \"created_at\": \"2026-01-02T03:04:05.000006Z\","
                    " \"updated_at\": \"2026-01-02T03:04:05.000006Z\"}");
        zero.duration_s = 0;
        {
                json_t *j = cb_calls_to_json(&zero);
                assert_non_null(j);
                assert_true(json_is_integer(json_object_get(j, "duration_s")));
                assert_int_equal(json_integer_value(json_object_get(j, "duration_s")), 0);
                json_decref(j);
        }
}

/* A record whose status or direction is out of range has no JSON (the store never fills one). */
static void test_out_of_range(void **state)
{
        struct cb_call c = {.id = "x", .status = CB_CALL_STATUS_COUNT};

        (void)state;
        assert_null(cb_calls_to_json(&c));
        c.status = CB_CALL_QUEUED;
        c.direction = (enum cb_call_direction)7;
        assert_null(cb_calls_to_json(&c));
}

/* The time format alone: SQL's to_char(..., 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'). */
static void test_ts_format(void **state)
{
        char ts[CB_TS_LEN + 1];

        (void)state;
        cb_ts_format(1, ts);
        assert_string_equal(ts, "1970-01-01T00:00:00.000001Z");
        cb_ts_format(951782400000000, ts); /* a leap day */
        assert_string_equal(ts, "2000-02-29T00:00:00.000000Z");
        cb_ts_format(1796621487123456, ts);
        assert_string_equal(ts, "2026-12-07T05:31:27.123456Z");
        assert_int_equal(strlen(ts), CB_TS_LEN);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_full),
            cmocka_unit_test(test_sparse),
            cmocka_unit_test(test_out_of_range),
            cmocka_unit_test(test_ts_format),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
