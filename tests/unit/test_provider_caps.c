/* Provider capabilities are flags on the ops (never name comparisons): the templates have
 * none, the real providers the ones the handlers rely on (call_initiate's cached match needs
 * CB_CRM_CAP_LOOKUP; the webhooks need CB_TEL_CAP_WEBHOOKS and all the ops it promises;
 * POST /api/softphone/token needs CB_TEL_CAP_SOFTPHONE and its ops). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/* A provider with CB_TEL_CAP_SOFTPHONE has every softphone token op; one without has none. */
static void check_softphone(const struct cb_telephony_ops *ops, bool softphone)
{
        bool flag = (ops->caps & CB_TEL_CAP_SOFTPHONE) != 0;

        assert_int_equal(flag, softphone);
        assert_int_equal(ops->softphone_create != NULL, softphone);
        assert_int_equal(ops->softphone_destroy != NULL, softphone);
        assert_int_equal(ops->softphone_token != NULL, softphone);
        assert_int_equal(ops->softphone_off != NULL, softphone);
}

static void test_telephony_caps(void **state)
{
        (void)state;
        check_telephony(&cb_telephony_none, false);
        check_telephony(&cb_telephony_twilio, true);
        check_softphone(&cb_telephony_none, false);
        check_softphone(&cb_telephony_twilio, true);
}

/* Tokens are refused, saying what they need, when the build has no issuer or the issuer is
 * not configured; nothing is minted then. */
static void test_softphone_off(void **state)
{
        struct cb_telephony none = {.ops = &cb_telephony_none};
        struct cb_telephony unset = {.ops = &cb_telephony_none, .softphone = &cb_telephony_twilio};
        char *token = (char *)"stale";
        long expires_in = -7;
        const char *msg = NULL;

        (void)state;
        assert_non_null(cb_telephony_softphone_off(&none));
        assert_int_equal(cb_telephony_softphone_token(&none, "alice", 0, &token, &expires_in, &msg),
                         CB_ERR_TOKENS_NOT_CONFIGURED);
        assert_string_equal(msg, cb_telephony_softphone_off(&none));
        assert_null(token);
        assert_int_equal(expires_in, -7);

        msg = cb_telephony_softphone_off(&unset);
        assert_string_equal(msg, "softphone tokens need [twilio] account_sid, api_key_sid, "
                                 "api_key_secret_file and twiml_app_sid");
        msg = NULL;
        token = (char *)"stale";
        assert_int_equal(
            cb_telephony_softphone_token(&unset, "alice", 0, &token, &expires_in, &msg),
            CB_ERR_TOKENS_NOT_CONFIGURED);
        assert_non_null(msg);
        assert_non_null(strstr(msg, "twiml_app_sid"));
        assert_null(token);
}

/* Twilio's issuer is off, not failing, when a setting tokens need is missing. */
static void test_twilio_softphone_unset(void **state)
{
        struct cb_config cfg = {0};
        void *tokens = (void *)&cfg;

        (void)state;
        cfg.twilio.account_sid = "AC0123456789abcdef0123456789abcdef";
        cfg.twilio.api_key_sid = "SKfedcba9876543210fedcba9876543210";
        cfg.twilio.api_key_secret_file = "/nonexistent/secret";
        assert_int_equal(cb_telephony_twilio.softphone_create(&cfg, &tokens), 0);
        assert_null(tokens);
        cb_telephony_twilio.softphone_destroy(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_crm_caps),
            cmocka_unit_test(test_telephony_caps),
            cmocka_unit_test(test_softphone_off),
            cmocka_unit_test(test_twilio_softphone_unset),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
