/* Twilio webhook signatures, both sides: the sandbox's own signer (tests/sandbox/tw_sig.c) and
 * the daemon's (src/crypto/twsig.c) must each give the signatures that Twilio's helper
 * libraries publish in their tests, and agree with each other on many generated forms. The two
 * share no code, so a mistake in one is not hidden by the other. Only the data is taken from
 * the libraries:
 *  [PY]  twilio-python, tests/unit/test_request_validator.py (token "12345")
 *  [PHP] twilio-php, RequestValidatorTest.php
 *  [JAVA] twilio-java, src/test/java/com/twilio/security/RequestValidatorTest.java
 *  [CS]  twilio-csharp, RequestValidatorTest.cs
 * The JSON-body vectors are signed over the URL alone (its bodySHA256 query carries the body's
 * hash), as the sandbox signs a GET webhook: params NULL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/form.h"
#include "callbridge/twsig.h"
#include "sandbox/tw_sig.h"

#define URL_PY  "https://mycompany.com/myapp.php?foo=1&bar=2"
#define HASH_PY "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
#define PARAMS_PY                                                                                  \
        "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To="      \
        "%2B18005551212"

struct vector {
        const char *url;
        const char *form; /* a form body, decoded with cb_form_parse; NULL: the URL alone */
        const char *signature;
};

static const struct vector vectors[] = {
    /* [PY] test_compute_signature; [PHP] testValidate; [JAVA] testValidate */
    {URL_PY, PARAMS_PY, "RSOYDt4T1cUTdK1PDd93/VVr8B8="},
    /* [CS] the same params added out of alphabetical order */
    {URL_PY,
     "CallSid=CA1234567890ABCDE&From=%2B14158675309&Digits=1234&To=%2B18005551212&Caller="
     "%2B14158675309",
     "RSOYDt4T1cUTdK1PDd93/VVr8B8="},
    /* [CS] TestValidateDictionaryMixedCase, ...MixedCaseWithPort: the URL is signed as given */
    {"https://MyCompany.com/myapp.php?foo=1&bar=2", PARAMS_PY, "g9IN/x4Cft2g517EjYvEvM/W7LU="},
    {"https://MyCompany.com:1234/myapp.php?foo=1&bar=2", PARAMS_PY, "PCqOZm8cnu/L6+u5i5fuEd+Iac4="},
    /* [PY] test_compute_signature_duplicate_multi_dict: a repeated name is sorted by value */
    {URL_PY, "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234", "IK+Dwps556ElfBT0I3Rgjkr1wJU="},
    /* [PHP] testValidateWithArrayAndDuplicates: an identical name=value pair counts once */
    {URL_PY, "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234",
     "IK+Dwps556ElfBT0I3Rgjkr1wJU="},
    /* [PY] test_validation_of_body_succeeds; [JAVA] testValidateWithBody */
    {URL_PY "&bodySHA256=" HASH_PY, NULL, "a9nBmqA0ju/hNViExpshrM61xv4="},
    /* [JAVA] testValidateWithNoOtherParameters */
    {"https://mycompany.com/myapp.php?bodySHA256=" HASH_PY, NULL, "y77kIzt2vzLz71DgmJGsen2scGs="},
};

static void parse(struct cb_form *form, const char *body)
{
        memset(form, 0, sizeof(*form));
        if (body != NULL)
                assert_int_equal(cb_form_parse(form, body, strlen(body)), 0);
}

/* Every published vector, through the sandbox's signer and the daemon's. */
static void test_published_vectors(void **state)
{
        for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
                const struct vector *v = &vectors[i];
                struct cb_form form;
                char sandbox[TW_SIG_LEN + 1], daemon[CB_TWSIG_LEN + 1];

                parse(&form, v->form);
                assert_int_equal(tw_sig_compute("12345", v->url, v->form ? &form : NULL, sandbox),
                                 0);
                assert_int_equal(cb_twsig_compute("12345", v->url, v->form ? &form : NULL, daemon),
                                 0);
                if (strcmp(sandbox, v->signature) != 0 || strcmp(daemon, v->signature) != 0)
                        fail_msg("vector %zu: sandbox %s, daemon %s, published %s", i, sandbox,
                                 daemon, v->signature);
                if (v->form != NULL) /* the daemon accepts what the sandbox signs */
                        assert_true(cb_twsig_valid("12345", v->url, &form, NULL, 0, sandbox));
                cb_form_free(&form);
        }
}

/* A different token, URL or value changes the sandbox's signature. */
static void test_inputs_matter(void **state)
{
        struct cb_form form;
        char sig[TW_SIG_LEN + 1];

        parse(&form, PARAMS_PY);
        assert_int_equal(tw_sig_compute("12346", URL_PY, &form, sig), 0);
        assert_string_not_equal(sig, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
        assert_int_equal(tw_sig_compute("12345", URL_PY "&x=1", &form, sig), 0);
        assert_string_not_equal(sig, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
        cb_form_free(&form);
        parse(&form, PARAMS_PY "&Digits=1235");
        assert_int_equal(tw_sig_compute("12345", URL_PY, &form, sig), 0);
        assert_string_not_equal(sig, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
        cb_form_free(&form);
}

/* Generated forms as the sandbox sends them (Twilio's names, repeated names, empty and encoded
 * values, names that are prefixes of others): both signers agree, and the daemon accepts what
 * the sandbox signs. A fixed seed, so a failure repeats. */
static void test_both_agree(void **state)
{
        static const char *const names[] = {"CallSid", "CallStatus",   "Call",       "From", "To",
                                            "Digits",  "RecordingUrl", "AccountSid", "a",    "A"};
        static const char *const values[] = {"",
                                             "completed",
                                             "%2B14155550100",
                                             "a+b%26c%3Dd",
                                             "%C3%A9t%C3%A9",
                                             "CA0123456789abcdef",
                                             "1",
                                             "%25x"};
        uint32_t seed = 12345;

        for (int round = 0; round < 500; round++) {
                char body[1024] = "", sandbox[TW_SIG_LEN + 1], daemon[CB_TWSIG_LEN + 1];
                struct cb_form form;
                int pairs;

                seed = seed * 1103515245u + 12345u;
                pairs = (int)((seed >> 16) % 9);
                for (int i = 0; i < pairs; i++) {
                        seed = seed * 1103515245u + 12345u;
                        snprintf(body + strlen(body), sizeof(body) - strlen(body), "%s%s=%s",
                                 i ? "&" : "", names[(seed >> 8) % 10], values[(seed >> 20) % 8]);
                }
                parse(&form, body);
                assert_int_equal(
                    tw_sig_compute("tok", "http://127.0.0.1:8080/hook?x=1", &form, sandbox), 0);
                assert_int_equal(
                    cb_twsig_compute("tok", "http://127.0.0.1:8080/hook?x=1", &form, daemon), 0);
                if (strcmp(sandbox, daemon) != 0)
                        fail_msg("form \"%s\": sandbox %s, daemon %s", body, sandbox, daemon);
                assert_true(cb_twsig_valid("tok", "http://127.0.0.1:8080/hook?x=1", &form, NULL, 0,
                                           sandbox));
                cb_form_free(&form);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_published_vectors),
            cmocka_unit_test(test_inputs_matter),
            cmocka_unit_test(test_both_agree),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
