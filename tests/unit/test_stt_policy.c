/* [stt] policy (src/jobs/stt_policy.c): the grammar --check-config accepts, and which calls
 * each policy lets through; record types come from the CRM provider. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/stt_policy.h"

/* A CRM whose ids say their type the Salesforce way (00Q Lead, 003 Contact). */
static const char *fake_type(void *self, const char *id)
{
        (void)self;
        return strncmp(id, "00Q", 3) == 0 ? "Lead" : strncmp(id, "003", 3) == 0 ? "Contact" : NULL;
}

/* ... and maps them to the neutral kinds. */
static const char *fake_kind(void *self, const char *id)
{
        const char *type = fake_type(self, id);

        return type == NULL ? NULL : type[0] == 'L' ? CB_CRM_KIND_LEAD : CB_CRM_KIND_CONTACT;
}

static const struct cb_crm_ops fake_ops = {
    .name = "fake", .record_type = fake_type, .record_kind = fake_kind};
static const struct cb_crm_ops bare_ops = {.name = "bare"}; /* no record_type op */

static void test_grammar(void **state)
{
        static const char *const good[] = {"all",
                                           "none",
                                           "min_duration_s=30",
                                           "direction=inbound,record=linked",
                                           "record_type=Lead,status=completed",
                                           "record_kind=lead",
                                           "record_kind=company,record=linked"};
        static const char *const bad[] = {"",
                                          "sometimes",
                                          "min_duration_s",
                                          "colour=red",
                                          "direction=",
                                          "record_type=Lead,,x",
                                          "min_duration_s=abc",
                                          "min_duration_s=-5",
                                          "record_kind=Lead",
                                          "record_kind=account"};
        char err[256];

        (void)state;
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                assert_int_equal(cb_stt_policy_check(good[i], err, sizeof(err)), 0);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                err[0] = '\0';
                assert_int_equal(cb_stt_policy_check(bad[i], err, sizeof(err)), -1);
                assert_true(err[0] != '\0');
        }
}

static void test_allows(void **state)
{
        struct cb_crm crm = {.ops = &fake_ops}, bare = {.ops = &bare_ops};
        const struct cb_call lead_call = {.direction = CB_CALL_INBOUND,
                                          .status = CB_CALL_COMPLETED,
                                          .duration_s = 42,
                                          .crm_record_id = "00Q000000000001AAA"};
        const struct cb_call contact_call = {.direction = CB_CALL_OUTBOUND,
                                             .status = CB_CALL_BUSY,
                                             .duration_s = 0,
                                             .crm_record_id = "003000000000001AAA"};
        const struct cb_call unlinked_call = {
            .direction = CB_CALL_INBOUND, .status = CB_CALL_COMPLETED, .duration_s = 10};
        const struct cb_call unknown_length = {
            .direction = CB_CALL_INBOUND, .status = CB_CALL_COMPLETED, .duration_s = -1};
        const struct cb_call *lead = &lead_call, *contact = &contact_call,
                             *unlinked = &unlinked_call;

        (void)state;
        assert_true(cb_stt_policy_allows("all", unlinked, &crm));
        assert_false(cb_stt_policy_allows("none", lead, &crm));
        assert_true(cb_stt_policy_allows("min_duration_s=42", lead, &crm));
        assert_false(cb_stt_policy_allows("min_duration_s=43", lead, &crm));
        assert_true(cb_stt_policy_allows("record_type=Lead", lead, &crm));
        assert_false(cb_stt_policy_allows("record_type=Lead", contact, &crm));
        assert_false(cb_stt_policy_allows("record_type=Lead", unlinked, &crm));
        assert_false(cb_stt_policy_allows("record_type=Lead", lead, &bare));
        /* The neutral kinds, as the provider maps its records to them. */
        assert_true(cb_stt_policy_allows("record_kind=lead", lead, &crm));
        assert_false(cb_stt_policy_allows("record_kind=lead", contact, &crm));
        assert_true(cb_stt_policy_allows("record_kind=contact", contact, &crm));
        assert_false(cb_stt_policy_allows("record_kind=company", contact, &crm));
        assert_false(cb_stt_policy_allows("record_kind=lead", unlinked, &crm));
        assert_false(cb_stt_policy_allows("record_kind=lead", lead, &bare));
        assert_true(cb_stt_policy_allows("record=linked", contact, &crm));
        assert_true(cb_stt_policy_allows("record=unlinked", unlinked, &crm));
        assert_true(cb_stt_policy_allows("direction=inbound,status=completed", lead, &crm));
        assert_false(cb_stt_policy_allows("direction=inbound,status=completed", contact, &crm));
        assert_false(cb_stt_policy_allows("min_duration_s=30,record_type=Lead", unlinked, &crm));
        /* A call whose length is unknown is no call of at least 0 seconds. */
        assert_false(cb_stt_policy_allows("min_duration_s=0", &unknown_length, &crm));
        assert_true(cb_stt_policy_allows("min_duration_s=0", contact, &crm));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_grammar),
            cmocka_unit_test(test_allows),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
