/* Inbound and softphone routing (src/calls/route.c): every branch of the rule, with the CRM
 * matches, the owners' agents and presence handed in, no I/O. */
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

/* The agents the caller fetched for the owners: alice and a.b@c_d-e are online, bob is not,
 * "al ice" is no identity. */
static json_t *agents_of(void)
{
        json_t *a =
            json_pack("[{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s}]", "name", "alice", "crm_user_id",
                      "005Dn000001AbCdIAK", "name", "a.b@c_d-e", "crm_user_id",
                      "005000000000001AAA", "name", "bob", "crm_user_id", "005000000000002AAA",
                      "name", "al ice", "crm_user_id", "005000000000009AAA");
        assert_non_null(a);
        return a;
}

/* The first match is the caller's record: {"id","owner_id"}; the second is owned by alice. */
static json_t *matches_of(const char *id, const char *owner_id)
{
        json_t *m = json_pack("[{s:s,s:s?},{s:s,s:s}]", "id", id, "owner_id", owner_id, "id",
                              "other", "owner_id", "005Dn000001AbCdIAK");
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

/* The owner is mapped through the agents' CRM user ids, both in the provider's canonical form
 * (its user_id_canon; the lookup gives owner ids so): equal strings, nothing else. */
static void test_inbound_rings_the_owners_agent(void **state)
{
        static const struct {
                const char *owner_id;
                const char *agent;
        } cases[] = {
            {"005Dn000001AbCdIAK", "alice"},     /* the form agents.crm_user_id keeps */
            {"005000000000001AAA", "a.b@c_d-e"}, /* every character an identity may have */
        };
        json_t *agents = agents_of();

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                json_t *m = matches_of("003A", cases[i].owner_id);
                struct cb_call_route route = {0};
                char record[CB_CRM_ID_MAX] = "x";

                cb_calls_route_inbound(&base, m, agents, &route, record);
                if (route.kind != CB_CALL_ROUTE_CLIENT || strcmp(route.target, cases[i].agent))
                        fail_msg("case %zu: %d %s", i, route.kind, route.target);
                assert_string_equal(record, "003A");
                json_decref(m);
        }
        json_decref(agents);
}

/* The agent state predicate: only "alice" is available (the rest busy, away...); its context
 * is handed through. */
static int ctx_seen;
static bool available(void *ctx, const char *agent)
{
        ctx_seen = *(int *)ctx;
        return strcmp(agent, "alice") == 0;
}

/* Online is not enough: the owner's agent must be available, else the fallback. */
static void test_inbound_rings_only_available_owner(void **state)
{
        int ctx = 42;
        struct cb_call_route_rules r = base;
        struct cb_call_route route = {0};
        char record[CB_CRM_ID_MAX];
        json_t *agents = agents_of();
        json_t *m = matches_of("003B", "005000000000001AAA"); /* a.b@c_d-e: online, not available */

        (void)state;
        r.available = available;
        r.available_ctx = &ctx;
        cb_calls_route_inbound(&r, m, agents, &route, record);
        assert_int_equal(ctx_seen, 42);
        assert_int_equal(route.kind, CB_CALL_ROUTE_CLIENT);
        assert_string_equal(route.target, "desk");
        assert_string_equal(record, "003B");
        json_decref(m);
        m = matches_of("003A", "005Dn000001AbCdIAK"); /* alice: online and available */
        cb_calls_route_inbound(&r, m, agents, &route, record);
        assert_string_equal(route.target, "alice");
        json_decref(m);
        json_decref(agents);
}

/* Each reason not to ring the owner's agent gives the fallback, and the record is linked. */
static void test_inbound_falls_back(void **state)
{
        static const struct {
                const char *owner_id;
                bool route_to_owner;
                bool with_presence;
                bool with_agents;
        } cases[] = {
            {"005000000000002AAA", true, true, true},  /* bob: offline */
            {"005Dn000001AbCdIAK", false, true, true}, /* route_to_owner off */
            {NULL, true, true, true},                  /* the record has no owner */
            {"005dn000001abcd", true, true, true},     /* another user (case matters in 15) */
            {"005Dn000001AbCd", true, true, true},     /* not canonical: the provider's job */
            {"005dn000001abcdiak", true, true, true},  /* not canonical either */
            {"005Dn000001AbCdAAA", true, true, true},  /* the suffix says other capitals */
            {"005Dn000001AbCdIA", true, true, true},   /* 17 characters */
            {"005Dn000001AbC-IAK", true, true, true},  /* not an id */
            {"", true, true, true},                    /* empty */
            {"005000000000009AAA", true, true, true},  /* its agent is no identity */
            {"005000000000077AAA", true, true, true},  /* no agent has that user */
            {"005Dn000001AbCdIAK", true, false, true}, /* no presence predicate */
            {"005Dn000001AbCdIAK", true, true, false}, /* the agents could not be read */
        };
        json_t *agents = agents_of();

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct cb_call_route_rules r = base;
                json_t *m = matches_of("003C", cases[i].owner_id);
                struct cb_call_route route = {0};
                char record[CB_CRM_ID_MAX] = "";

                r.route_to_owner = cases[i].route_to_owner;
                r.online = cases[i].with_presence ? online : NULL;
                cb_calls_route_inbound(&r, m, cases[i].with_agents ? agents : NULL, &route, record);
                if (route.kind != CB_CALL_ROUTE_CLIENT || strcmp(route.target, "desk") != 0)
                        fail_msg("case %zu: %d %s", i, route.kind, route.target);
                assert_string_equal(record, "003C");
                json_decref(m);
        }
        json_decref(agents);
}

/* A name equal to the owner's username (the old rule) no longer rings anybody. */
static void test_inbound_ignores_owner_names(void **state)
{
        json_t *m = json_pack("[{s:s,s:s}]", "id", "003D", "owner", "alice");
        json_t *agents = agents_of();
        struct cb_call_route route = {0};
        char record[CB_CRM_ID_MAX] = "";

        (void)state;
        cb_calls_route_inbound(&base, m, agents, &route, record);
        assert_string_equal(route.target, "desk");
        json_decref(m);
        json_decref(agents);
}

static void test_owner_agent(void **state)
{
        json_t *agents = agents_of();
        json_t *odd = json_pack("[{s:s},{s:i,s:s},{s:s,s:s}]", "name", "x", "crm_user_id", 5,
                                "name", "y", "name", "z", "crm_user_id", "81237634");

        (void)state;
        assert_string_equal(cb_calls_route_owner_agent(agents, "005000000000002AAA"), "bob");
        assert_null(cb_calls_route_owner_agent(agents, "005000000000002")); /* not canonical */
        assert_null(cb_calls_route_owner_agent(agents, NULL));
        assert_null(cb_calls_route_owner_agent(agents, ""));
        assert_null(cb_calls_route_owner_agent(NULL, "005000000000002AAA"));
        /* rows without a usable crm_user_id are skipped; any CRM's ids compare as strings */
        assert_string_equal(cb_calls_route_owner_agent(odd, "81237634"), "z");
        json_decref(odd);
        json_decref(agents);
}

static void test_inbound_without_matches(void **state)
{
        json_t *empty = json_array();
        json_t *agents = agents_of();
        struct cb_call_route route = {0};
        char record[CB_CRM_ID_MAX] = "stale";

        (void)state;
        cb_calls_route_inbound(&base, NULL, agents, &route, record);
        assert_int_equal(route.kind, CB_CALL_ROUTE_CLIENT);
        assert_string_equal(route.target, "desk");
        assert_string_equal(record, "");
        strcpy(record, "stale");
        cb_calls_route_inbound(&base, empty, agents, &route, record);
        assert_string_equal(route.target, "desk");
        assert_string_equal(record, "");
        json_decref(empty);
        json_decref(agents);
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
            cmocka_unit_test(test_inbound_rings_the_owners_agent),
            cmocka_unit_test(test_inbound_falls_back),
            cmocka_unit_test(test_inbound_ignores_owner_names),
            cmocka_unit_test(test_owner_agent),
            cmocka_unit_test(test_inbound_rings_only_available_owner),
            cmocka_unit_test(test_inbound_without_matches),
            cmocka_unit_test(test_outbound_dials_the_number),
            cmocka_unit_test(test_agent_of_the_call),
            cmocka_unit_test(test_agent_valid),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
