/* A live transcript from its segments (src/jobs/live_assemble.c): sequence order whatever the
 * rows' order, a repeated sequence once, speaker labels, malformed rows skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kinds.h"

static void assemble(const char *rows_json, const char *labelled, const char *plain,
                     size_t n_segments)
{
        json_t *rows = json_loads(rows_json, 0, NULL), *segs = json_array();
        struct cb_buf l = {.max = 4096}, p = {.max = 4096};

        assert_non_null(rows);
        assert_int_equal(cb_live_assemble(rows, &l, &p, segs), 0);
        assert_string_equal(l.data, labelled);
        assert_string_equal(p.data, plain);
        assert_int_equal(json_array_size(segs), n_segments);
        cb_buf_free(&l);
        cb_buf_free(&p);
        json_decref(segs);
        json_decref(rows);
}

static void test_order_and_labels(void **state)
{
        (void)state;
        assemble("[[\"3\",\"customer\",\"Hi.\"],[\"2\",\"agent\",\"Hello.\"],"
                 "[\"10\",\"agent\",\"Bye.\"]]",
                 "Agent: Hello.\nCustomer: Hi.\nAgent: Bye.", "Hello. Hi. Bye.", 3);
}

static void test_duplicates_and_bad_rows(void **state)
{
        (void)state;
        assemble("[[\"5\",\"agent\",\"first\"],[\"5\",\"agent\",\"again\"],"
                 "[\"x\",\"agent\",\"no seq\"],[\"6\",\"boss\",\"who\"],[\"7\",null,\"t\"],"
                 "[\"-1\",\"agent\",\"neg\"],[\"8\",\"customer\"],\"not a row\","
                 "[\"9\",\"customer\",\"ok\"]]",
                 "Agent: first\nCustomer: ok", "first ok", 2);
}

static void test_empty(void **state)
{
        (void)state;
        assemble("[]", "", "", 0);
}

static void test_segments_shape(void **state)
{
        json_t *rows = json_loads("[[\"12\",\"customer\",\"a\"]]", 0, NULL), *segs = json_array();
        struct cb_buf l = {.max = 64}, p = {.max = 64};

        (void)state;
        assert_int_equal(cb_live_assemble(rows, &l, &p, segs), 0);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(segs, 0), "sequence")),
                         12);
        assert_string_equal(json_string_value(json_object_get(json_array_get(segs, 0), "speaker")),
                            "customer");
        cb_buf_free(&l);
        cb_buf_free(&p);
        json_decref(segs);
        json_decref(rows);
        /* A cap too small for the text: refused, not cut. */
        rows =
            json_loads("[[\"1\",\"agent\",\"0123456789012345678901234567890123456789\"]]", 0, NULL);
        segs = json_array();
        l = (struct cb_buf){.max = 16};
        p = (struct cb_buf){.max = 16};
        assert_int_equal(cb_live_assemble(rows, &l, &p, segs), -1);
        cb_buf_free(&l);
        cb_buf_free(&p);
        json_decref(segs);
        json_decref(rows);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_order_and_labels),
            cmocka_unit_test(test_duplicates_and_bad_rows),
            cmocka_unit_test(test_empty),
            cmocka_unit_test(test_segments_shape),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
