/* The access log's line (cb_access_log_format, src/http/access_log.c): the JSON object
 * cb_log_write would write for it — same keys in the same order, "ms" as jansson writes a
 * real with 6 digits — with quotes, backslashes and control bytes escaped and bytes outside
 * ASCII replaced, so every line parses (a value too long for the line is cut). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "access_log.h"

static json_t *line_json(const struct cb_access_line *l, char *buf, size_t cap)
{
        size_t n = cb_access_log_format(buf, cap, l);
        json_error_t err;
        json_t *j;

        assert_true(n > 0 && n < cap);
        assert_int_equal(buf[n - 1], '\n');
        assert_null(memchr(buf, '\n', n - 1));
        j = json_loadb(buf, n, 0, &err);
        assert_non_null(j);
        return j;
}

static void test_fields_in_order(void **state)
{
        struct cb_access_line l = {.method = "GET",
                                   .target = "/api/lookup?phone=+1415*****23",
                                   .status = 200,
                                   .ms = 0.25,
                                   .request_id = "abc",
                                   .route = "/api/lookup",
                                   .agent = "alice"};
        char buf[1024];
        json_t *j = line_json(&l, buf, sizeof(buf));
        const char *want_tail = "\"msg\":\"request\",\"method\":\"GET\",\"target\":\"/api/lookup?"
                                "phone=+1415*****23\",\"status\":200,\"ms\":0.25,\"request_id\":"
                                "\"abc\",\"route\":\"/api/lookup\",\"agent\":\"alice\"}\n";

        (void)state;
        assert_non_null(strstr(buf, want_tail));
        assert_int_equal(strncmp(buf, "{\"ts\":\"", 7), 0);
        assert_string_equal(json_string_value(json_object_get(j, "level")), "info");
        assert_int_equal(strlen(json_string_value(json_object_get(j, "ts"))), 24);
        json_decref(j);
        l.agent = "";
        j = line_json(&l, buf, sizeof(buf));
        assert_null(json_object_get(j, "agent"));
        json_decref(j);
}

/* "ms" reads back as jansson writes it (JSON_REAL_PRECISION(6)). */
static void test_ms_like_jansson(void **state)
{
        static const double values[] = {0.0, 1.0, 0.123456789, 12.5, 1234567.0, 0.0005, 99.99999};
        char buf[1024];

        (void)state;
        for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
                struct cb_access_line l = {.method = "GET",
                                           .target = "/",
                                           .ms = values[i],
                                           .request_id = "r",
                                           .route = "/"};
                json_t *real = json_real(values[i]);
                char *want = json_dumps(real, JSON_ENCODE_ANY | JSON_REAL_PRECISION(6));
                char needle[64];
                json_t *j = line_json(&l, buf, sizeof(buf));

                snprintf(needle, sizeof(needle), "\"ms\":%s,", want);
                assert_non_null(strstr(buf, needle));
                free(want);
                json_decref(real);
                json_decref(j);
        }
}

static void test_escaped(void **state)
{
        struct cb_access_line l = {.method = "G\"E\\T",
                                   .target = "/a\"b\\c\x01\x1f\xc3\xa9",
                                   .status = 404,
                                   .request_id = "r",
                                   .route = "unmatched"};
        char buf[1024];
        json_t *j = line_json(&l, buf, sizeof(buf));

        (void)state;
        assert_string_equal(json_string_value(json_object_get(j, "method")), "G\"E\\T");
        assert_string_equal(json_string_value(json_object_get(j, "target")), "/a\"b\\c\x01\x1f??");
        json_decref(j);
}

/* A target longer than the line has room for is cut; the line still parses. */
static void test_long_target_is_cut(void **state)
{
        char target[600], buf[256];
        struct cb_access_line l = {
            .method = "GET", .target = target, .request_id = "r", .route = "/x", .agent = "al"};
        json_t *j;
        const char *got;

        (void)state;
        memset(target, 'a', sizeof(target) - 1);
        target[sizeof(target) - 1] = '\0';
        j = line_json(&l, buf, sizeof(buf));
        got = json_string_value(json_object_get(j, "target"));
        assert_true(strlen(got) > 0 && strlen(got) < strlen(target));
        assert_string_equal(json_string_value(json_object_get(j, "route")), "/x");
        json_decref(j);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_fields_in_order),
            cmocka_unit_test(test_ms_like_jansson),
            cmocka_unit_test(test_escaped),
            cmocka_unit_test(test_long_target_is_cut),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
