/* Inbound and softphone routing (src/calls/route.c): every branch of the rule, with the CRM
 * matches and presence handed in, no I/O. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/calls.h"

static bool online(const char *agent)
{
        return strcmp(agent, "alice") == 0 || strcmp(agent, "a.b@c_d-e") == 0;
}

static const struct cb_call_route_rules base = {
    .route_to_owner = true,
    .fallback_agent = "desk",
    .fallback_number = "(415) 555-0199",
    .region = "US",
    .online = online,
};

/* The first match is the caller's record: {"id","owner"}. */
static json_t *matches_of(const char *id, const char *owner)
{
        json_t *m = json_pack("[{s:s,s:s?},{s:s,s:s}]", "id", id, "owner", owner, "id", "other",
                              "owner", "alice");
        assert_non_null(m);
        return m;
}

static void test_fallback_agent_then_number_then_message(void **state)
{
        struct cb_call_route_rules r = base;
        struct cb_call_route route = {0};

        (void)state;
        cb_calls_route_fallback(&r, &route);
        assert_int_equal(route.kind, CB_CALL_ROUTE_CLIENT);
        assert_string_equal(route.target, "desk");
        r.fallback_agent = NULL;
        cb_calls_route_fallback(&r, &route);
        assert_int_equal(route.kind, CB_CALL_ROUTE_NUMBER);
        assert_string_equal(route.target, "+14155550199");
        r.fallback_number = "not a number";
        cb_calls_route_fallback(&r, &route);
        assert_int_equal(route.kind, CB_CALL_ROUTE_NUMBER); /* answered as the message */
        assert_string_equal(route.target, "");
        r.fallback_number = NULL;
        cb_calls_route_fallback(&r, &route);
        assert_int_equal(route.kind, CB_CALL_ROUTE_MESSAGE);
        assert_string_equal(route.target, "");
}

static void test_inbound_rings_online_owner(void **state)
{
        json_t *m = matches_of("003A", "alice");
        struct cb_call_route route = {0};
        char record[CB_CRM_ID_MAX] = "x";

        (void)state;
        cb_calls_route_inbound(&base, m, &route, record);
        assert_int_equal(route.kind, CB_CALL_ROUTE_CLIENT);
        assert_string_equal(route.target, "alice");
        assert_string_equal(record, "003A");
        json_decref(m);
        m = matches_of("003B", "a.b@c_d-e"); /* every character an identity may have */
        cb_calls_route_inbound(&base, m, &route, record);
        assert_string_equal(route.target, "a.b@c_d-e");
        json_decref(m);
}

/* The agent state predicate: only "alice" is available (the rest busy, away...); its context
 * is handed through. */
static int ctx_seen;
static bool available(void *ctx, const char *agent)
{
        ctx_seen = *(int *)ctx;
        return strcmp(agent, "alice") == 0;
}

/* Online is not enough: the owner's state must be available, else the fallback. */
static void test_inbound_rings_only_available_owner(void **state)
{
        int ctx = 42;
        struct cb_call_route_rules r = base;
        struct cb_call_route route = {0};
        char record[CB_CRM_ID_MAX];
        json_t *m = matches_of("003B", "a.b@c_d-e"); /* online, not available */

        (void)state;
        r.available = available;
        r.available_ctx = &ctx;
        cb_calls_route_inbound(&r, m, &route, record);
        assert_int_equal(ctx_seen, 42);
        assert_int_equal(route.kind, CB_CALL_ROUTE_CLIENT);
        assert_string_equal(route.target, "desk");
        assert_string_equal(record, "003B");
        json_decref(m);
        m = matches_of("003A", "alice"); /* online and available */
        cb_calls_route_inbound(&r, m, &route, record);
        assert_string_equal(route.target, "alice");
        json_decref(m);
}

/* Each reason not to ring the owner gives the fallback, and the record is linked anyway. */
static void test_inbound_falls_back(void **state)
{
        static const struct {
                const char *owner;
                bool route_to_owner;
                bool with_presence;
        } cases[] = {
            {"bob", true, true},      /* offline */
            {"alice", false, true},   /* route_to_owner off */
            {NULL, true, true},       /* the record has no owner */
            {"al ice", true, true},   /* not an identity */
            {"alice<x>", true, true}, /* not an identity */
            {"", true, true},         /* empty */
            {"alice", true, false},   /* no presence predicate */
        };

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct cb_call_route_rules r = base;
                json_t *m = matches_of("003C", cases[i].owner);
                struct cb_call_route route = {0};
                char record[CB_CRM_ID_MAX] = "";

                r.route_to_owner = cases[i].route_to_owner;
                r.online = cases[i].with_presence ? online : NULL;
                cb_calls_route_inbound(&r, m, &route, record);
                if (route.kind != CB_CALL_ROUTE_CLIENT || strcmp(route.target, "desk") != 0)
                        fail_msg("case %zu: %d %s", i, route.kind, route.target);
                assert_string_equal(record, "003C");
                json_decref(m);
        }
}

static void test_inbound_without_matches(void **state)
{
        json_t *empty = json_array();
        struct cb_call_route route = {0};
        char record[CB_CRM_ID_MAX] = "stale";

        (void)state;
        cb_calls_route_inbound(&base, NULL, &route, record);
        assert_int_equal(route.kind, CB_CALL_ROUTE_CLIENT);
        assert_string_equal(route.target, "desk");
        assert_string_equal(record, "");
        strcpy(record, "stale");
        cb_calls_route_inbound(&base, empty, &route, record);
        assert_string_equal(route.target, "desk");
        assert_string_equal(record, "");
        json_decref(empty);
}

static void test_outbound_dials_the_number(void **state)
{
        struct cb_call_route route = {0};

        (void)state;
        cb_calls_route_outbound(&base, "415-555-0123", &route);
        assert_int_equal(route.kind, CB_CALL_ROUTE_NUMBER);
        assert_string_equal(route.target, "+14155550123");
        cb_calls_route_outbound(&base, "+442071838750", &route);
        assert_string_equal(route.target, "+442071838750");
        cb_calls_route_outbound(&base, "client:bob", &route);
        assert_int_equal(route.kind, CB_CALL_ROUTE_MESSAGE);
        assert_string_equal(route.target, "");
        cb_calls_route_outbound(&base, NULL, &route);
        assert_int_equal(route.kind, CB_CALL_ROUTE_MESSAGE);
}

static void test_agent_of_the_call(void **state)
{
        struct cb_call_route_rules r = base;
        struct cb_call_route client = {.kind = CB_CALL_ROUTE_CLIENT, .target = "alice"};
        struct cb_call_route number = {.kind = CB_CALL_ROUTE_NUMBER, .target = "+14155550199"};

        (void)state;
        assert_string_equal(cb_calls_route_agent(&r, CB_CALL_OUTBOUND, "carol", &client), "carol");
        assert_string_equal(cb_calls_route_agent(&r, CB_CALL_INBOUND, "carol", &client), "alice");
        assert_string_equal(cb_calls_route_agent(&r, CB_CALL_INBOUND, NULL, &number), "desk");
        assert_string_equal(cb_calls_route_agent(&r, CB_CALL_INBOUND, NULL, NULL), "desk");
        r.fallback_agent = NULL;
        assert_string_equal(cb_calls_route_agent(&r, CB_CALL_INBOUND, NULL, &number), "unassigned");
}

static void test_agent_valid(void **state)
{
        char longest[CB_AGENT_MAX + 1];

        (void)state;
        memset(longest, 'a', sizeof(longest));
        longest[CB_AGENT_MAX] = '\0';
        assert_false(cb_calls_agent_valid(longest)); /* CB_AGENT_MAX characters: too long */
        longest[CB_AGENT_MAX - 1] = '\0';
        assert_true(cb_calls_agent_valid(longest));
        assert_false(cb_calls_agent_valid(NULL));
        assert_false(cb_calls_agent_valid("a/b"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_fallback_agent_then_number_then_message),
            cmocka_unit_test(test_inbound_rings_online_owner),
            cmocka_unit_test(test_inbound_falls_back),
            cmocka_unit_test(test_inbound_rings_only_available_owner),
            cmocka_unit_test(test_inbound_without_matches),
            cmocka_unit_test(test_outbound_dials_the_number),
            cmocka_unit_test(test_agent_of_the_call),
            cmocka_unit_test(test_agent_valid),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
