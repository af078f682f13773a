/* Provider capabilities are flags on the ops (never name comparisons): the templates have
 * none, the real providers the ones the handlers rely on (call_initiate's cached match needs
 * CB_CRM_CAP_LOOKUP; the webhooks need CB_TEL_CAP_WEBHOOKS and all the ops it promises). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "callbridge/crm.h"
#include "callbridge/telephony.h"

static void test_crm_caps(void **state)
{
        (void)state;
        assert_int_equal(cb_crm_none.caps & CB_CRM_CAP_LOOKUP, 0);
        assert_true(cb_crm_salesforce.caps & CB_CRM_CAP_LOOKUP);
}

/* A provider with CB_TEL_CAP_WEBHOOKS has every webhook op; one without has none. */
static void check_telephony(const struct cb_telephony_ops *ops, bool webhooks)
{
        bool flag = (ops->caps & CB_TEL_CAP_WEBHOOKS) != 0;

        assert_int_equal(flag, webhooks);
        assert_int_equal(ops->signature_header != NULL, webhooks);
        assert_int_equal(ops->webhook_valid != NULL, webhooks);
        assert_int_equal(ops->parse_status != NULL, webhooks);
        assert_int_equal(ops->parse_voice != NULL, webhooks);
        assert_int_equal(ops->parse_recording != NULL, webhooks);
        assert_int_equal(ops->render_route != NULL, webhooks);
}

static void test_telephony_caps(void **state)
{
        (void)state;
        check_telephony(&cb_telephony_none, false);
        check_telephony(&cb_telephony_twilio, true);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_crm_caps),
            cmocka_unit_test(test_telephony_caps),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
