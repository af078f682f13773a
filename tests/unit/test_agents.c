/* Agents' values (src/calls/agents.c): display names, and what the CLI and the admin API
 * accept — a CRM user id as the provider canonicalises it (Salesforce's here; its id forms are
 * tested in test_sf_ids.c), or a plain token without a provider that has users. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/agents.h"
#include "callbridge/crm.h"

static void test_display_name(void **state)
{
        char longest[CB_AGENT_DISPLAY_MAX + 2];

        (void)state;
        assert_true(cb_agents_display_name_valid("Bob Builder"));
        assert_true(cb_agents_display_name_valid("Zoë Åström — 東京"));
        assert_false(cb_agents_display_name_valid(""));
        assert_false(cb_agents_display_name_valid(NULL));
        assert_false(cb_agents_display_name_valid("tab\there"));
        assert_false(cb_agents_display_name_valid("line\nbreak"));
        assert_false(cb_agents_display_name_valid("del\x7f"));
        assert_false(cb_agents_display_name_valid("\xc3"));     /* cut short */
        assert_false(cb_agents_display_name_valid("\xc0\xaf")); /* overlong */
        assert_false(cb_agents_display_name_valid("\xff"));
        memset(longest, 'x', sizeof(longest));
        longest[CB_AGENT_DISPLAY_MAX + 1] = '\0';
        assert_false(cb_agents_display_name_valid(longest));
        longest[CB_AGENT_DISPLAY_MAX] = '\0';
        assert_true(cb_agents_display_name_valid(longest));
}

static void test_normalise(void **state)
{
        struct cb_agent_fields f = {.name = "bob",
                                    .display_name = "Bob",
                                    .crm_user_id = "005dn000001abcdiak",
                                    .phone = "(415) 555-0123"};
        struct cb_agent_values v;
        const char *bad = "x";
        char msg[256];
        cb_agents_user_id_canon_fn sf = cb_crm_salesforce.user_id_canon;

        (void)state;
        assert_non_null(sf);
        assert_int_equal(cb_agents_normalise(&f, "US", sf, &v, &bad, msg, sizeof(msg)),
                         CB_AGENT_VALID);
        assert_null(bad);
        assert_string_equal(f.crm_user_id, "005Dn000001AbCdIAK");
        assert_string_equal(f.phone, "+14155550123");

        f = (struct cb_agent_fields){.name = "bob", .phone = "not a number"};
        assert_int_equal(cb_agents_normalise(&f, "US", sf, &v, &bad, msg, sizeof(msg)),
                         CB_AGENT_BAD_PHONE);
        assert_string_equal(bad, "phone");
        f = (struct cb_agent_fields){.name = "bob", .crm_user_id = "003000000000001"};
        assert_int_equal(cb_agents_normalise(&f, "US", sf, &v, &bad, msg, sizeof(msg)),
                         CB_AGENT_BAD_FIELD);
        assert_string_equal(bad, "crm_user_id");
        assert_non_null(strstr(msg, "crm_user_id"));
        f = (struct cb_agent_fields){.name = "b o b"};
        assert_int_equal(cb_agents_normalise(&f, "US", sf, &v, &bad, msg, sizeof(msg)),
                         CB_AGENT_BAD_FIELD);
        assert_string_equal(bad, "name");
        f = (struct cb_agent_fields){.display_name = "a\nb"};
        assert_int_equal(cb_agents_normalise(&f, "US", sf, &v, &bad, msg, sizeof(msg)),
                         CB_AGENT_BAD_FIELD);
        assert_string_equal(bad, "display_name");
        /* A CRM whose user ids need no canonical form: a plain token, kept as given. */
        f = (struct cb_agent_fields){.name = "bob", .crm_user_id = "81237634"};
        assert_int_equal(cb_agents_normalise(&f, "US", NULL, &v, &bad, msg, sizeof(msg)),
                         CB_AGENT_VALID);
        assert_string_equal(f.crm_user_id, "81237634");
        f = (struct cb_agent_fields){.name = "bob", .crm_user_id = "812,376"};
        assert_int_equal(cb_agents_normalise(&f, "US", NULL, &v, &bad, msg, sizeof(msg)),
                         CB_AGENT_BAD_FIELD);
        f = (struct cb_agent_fields){.name = "bob", .crm_user_id = ""};
        assert_int_equal(cb_agents_normalise(&f, "US", NULL, &v, &bad, msg, sizeof(msg)),
                         CB_AGENT_BAD_FIELD);
        f = (struct cb_agent_fields){0}; /* nothing to check: cleared fields are NULL */
        assert_int_equal(cb_agents_normalise(&f, "US", sf, &v, &bad, msg, sizeof(msg)),
                         CB_AGENT_VALID);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_display_name),
            cmocka_unit_test(test_normalise),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
