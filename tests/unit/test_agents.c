/* Agents' values (src/calls/agents.c): Salesforce ids in their 15- and 18-character forms,
 * display names, and what the CLI and the admin API accept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/agents.h"

static void test_canon(void **state)
{
        static const struct {
                const char *in;
                const char *out; /* NULL: refused */
        } cases[] = {
            {"005Dn000001AbCd", "005Dn000001AbCdIAK"},    /* 15: the suffix is added */
            {"005Dn000001AbCdIAK", "005Dn000001AbCdIAK"}, /* 18 as Salesforce writes it */
            {"005DN000001ABCDIAK", "005Dn000001AbCdIAK"}, /* 18 in capitals */
            {"005dn000001abcdiak", "005Dn000001AbCdIAK"}, /* 18 in lower case */
            {"005dn000001abcd", "005dn000001abcdAAA"},    /* another record than the first */
            {"0058d000000IntgAAC", "0058d000000IntgAAC"}, /* the sandbox's integration user */
            {"003000000000001", "003000000000001AAA"},    /* any object */
            {"005000000000001AA6", NULL},                 /* 6 is no suffix character */
            {"005000000000001BAA", NULL},                 /* marks the digit 0 a capital */
            {"005Dn000001AbC", NULL},                     /* 14 */
            {"005Dn000001AbCdIA", NULL},                  /* 17 */
            {"005Dn000001AbCdIAKX", NULL},                /* 19 */
            {"005Dn000001Ab d", NULL},                    /* a space */
            {"005Dn000001Ab-dIAK", NULL},                 /* punctuation */
            {"005Dn000001Ab\xc3\xa9IAK", NULL},           /* not ASCII */
            {"", NULL},
            {NULL, NULL},
        };

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char out[CB_SFID_LEN + 1] = "junk";
                bool ok = cb_agents_sfid_canon(cases[i].in, out);

                if (ok != (cases[i].out != NULL) ||
                    strcmp(out, cases[i].out != NULL ? cases[i].out : "") != 0)
                        fail_msg("case %zu (%s): %d \"%s\"", i, cases[i].in ? cases[i].in : "NULL",
                                 ok, out);
        }
}

static void test_equal(void **state)
{
        (void)state;
        assert_true(cb_agents_sfid_equal("005Dn000001AbCd", "005dn000001abcdIAK"));
        assert_true(cb_agents_sfid_equal("005Dn000001AbCdIAK", "005DN000001ABCDiak"));
        assert_true(cb_agents_sfid_equal("005000000000001", "005000000000001AAA"));
        assert_false(cb_agents_sfid_equal("005Dn000001AbCd", "005dn000001abcd"));
        assert_false(cb_agents_sfid_equal("005Dn000001AbCd", "005dn000001abcdAAA"));
        assert_false(cb_agents_sfid_equal("005000000000001", "005000000000002"));
        assert_false(cb_agents_sfid_equal("bogus", "bogus")); /* no id equals anything */
        assert_false(cb_agents_sfid_equal(NULL, "005000000000001"));
}

static void test_crm_user_id(void **state)
{
        char out[CB_SFID_LEN + 1];

        (void)state;
        assert_true(cb_agents_crm_user_id_canon("005dn000001abcdiak", out));
        assert_string_equal(out, "005Dn000001AbCdIAK");
        assert_false(cb_agents_crm_user_id_canon("003000000000001", out)); /* a Contact */
        assert_string_equal(out, "");
        assert_false(cb_agents_crm_user_id_canon("00G000000000001", out)); /* a queue */
        assert_false(cb_agents_crm_user_id_canon("alice@example.com", out));
        assert_true(cb_agents_crm_user_id_canon("77001", out)); /* a HubSpot owner id */
        assert_string_equal(out, "77001");
        assert_false(cb_agents_crm_user_id_canon("1234567890123", out)); /* 13 digits */
        assert_false(cb_agents_crm_user_id_canon("", out));
}

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

        (void)state;
        assert_int_equal(cb_agents_normalise(&f, "US", &v, &bad, msg, sizeof(msg)), CB_AGENT_VALID);
        assert_null(bad);
        assert_string_equal(f.crm_user_id, "005Dn000001AbCdIAK");
        assert_string_equal(f.phone, "+14155550123");

        f = (struct cb_agent_fields){.name = "bob", .phone = "not a number"};
        assert_int_equal(cb_agents_normalise(&f, "US", &v, &bad, msg, sizeof(msg)),
                         CB_AGENT_BAD_PHONE);
        assert_string_equal(bad, "phone");
        f = (struct cb_agent_fields){.name = "bob", .crm_user_id = "003000000000001"};
        assert_int_equal(cb_agents_normalise(&f, "US", &v, &bad, msg, sizeof(msg)),
                         CB_AGENT_BAD_FIELD);
        assert_string_equal(bad, "crm_user_id");
        assert_non_null(strstr(msg, "005"));
        f = (struct cb_agent_fields){.name = "b o b"};
        assert_int_equal(cb_agents_normalise(&f, "US", &v, &bad, msg, sizeof(msg)),
                         CB_AGENT_BAD_FIELD);
        assert_string_equal(bad, "name");
        f = (struct cb_agent_fields){.display_name = "a\nb"};
        assert_int_equal(cb_agents_normalise(&f, "US", &v, &bad, msg, sizeof(msg)),
                         CB_AGENT_BAD_FIELD);
        assert_string_equal(bad, "display_name");
        f = (struct cb_agent_fields){0}; /* nothing to check: cleared fields are NULL */
        assert_int_equal(cb_agents_normalise(&f, "US", &v, &bad, msg, sizeof(msg)), CB_AGENT_VALID);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_canon),       cmocka_unit_test(test_equal),
            cmocka_unit_test(test_crm_user_id), cmocka_unit_test(test_display_name),
            cmocka_unit_test(test_normalise),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
