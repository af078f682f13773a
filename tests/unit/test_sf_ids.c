/* Salesforce ids in their 15- and 18-character forms (src/crm/sf_ids.c), and the provider's
 * user_id_canon: the agents' crm_user_id and the lookups' owner ids compare by it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sf.h"

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
                char out[SF_ID_LEN + 1] = "junk";
                bool ok = sf_id_canon(cases[i].in, out);

                if (ok != (cases[i].out != NULL) ||
                    strcmp(out, cases[i].out != NULL ? cases[i].out : "") != 0)
                        fail_msg("case %zu (%s): %d \"%s\"", i, cases[i].in ? cases[i].in : "NULL",
                                 ok, out);
        }
}

/* Two ids of the same record, whatever their forms; no id equals anything. */
static bool same(const char *a, const char *b)
{
        char ca[SF_ID_LEN + 1], cb[SF_ID_LEN + 1];

        return sf_id_canon(a, ca) && sf_id_canon(b, cb) && strcmp(ca, cb) == 0;
}

static void test_equal(void **state)
{
        (void)state;
        assert_true(same("005Dn000001AbCd", "005dn000001abcdIAK"));
        assert_true(same("005Dn000001AbCdIAK", "005DN000001ABCDiak"));
        assert_true(same("005000000000001", "005000000000001AAA"));
        assert_false(same("005Dn000001AbCd", "005dn000001abcd"));
        assert_false(same("005Dn000001AbCd", "005dn000001abcdAAA"));
        assert_false(same("005000000000001", "005000000000002"));
        assert_false(same("bogus", "bogus")); /* no id equals anything */
        assert_false(same(NULL, "005000000000001"));
}

static void test_crm_user_id(void **state)
{
        char out[SF_ID_LEN + 1];

        (void)state;
        assert_ptr_equal(cb_crm_salesforce.user_id_canon, sf_user_id_canon);
        assert_true(sf_user_id_canon("005dn000001abcdiak", out, sizeof(out)));
        assert_string_equal(out, "005Dn000001AbCdIAK");
        assert_false(sf_user_id_canon("003000000000001", out, sizeof(out))); /* a Contact */
        assert_string_equal(out, "");
        assert_false(sf_user_id_canon("00G000000000001", out, sizeof(out))); /* a queue */
        assert_false(sf_user_id_canon("alice@example.com", out, sizeof(out)));
        /* too small a buffer: refused, never cut */
        assert_false(sf_user_id_canon("005dn000001abcdiak", out, 18));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_canon),
            cmocka_unit_test(test_equal),
            cmocka_unit_test(test_crm_user_id),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
