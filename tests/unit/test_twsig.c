/* Twilio request signatures (src/crypto/twsig.c) against the test vectors of Twilio's own
 * helper libraries, plus negatives. Only the data is taken from them.
 * Vector sources:
 *  [PY]   twilio-python, tests/unit/test_request_validator.py (token "12345")
 *  [JAVA] twilio-java, src/test/java/com/twilio/security/RequestValidatorTest.java
 *  [RB]   twilio-ruby, spec/security/request_validator_spec.rb
 *  [PHP]  twilio-php, RequestValidatorTest.php (class Twilio\Tests\Unit\RequestValidatorTest)
 *  [NODE] twilio-node, spec/unit/webhooks/webhooks.spec.js (token "s3cr3t"); its cases sign
 *         with getExpectedTwilioSignature at run time, so the signatures here were computed
 *         independently (Python hmac/hashlib over the documented base string)
 *  [CB]   ours, computed the same way; negatives are ours unless a source is named.
 * Differences from the libraries, on purpose (SPEC §6, §9):
 *  - the URL is used as received, never re-encoded: twilio-node passes URLs through WHATWG
 *    URL, which turns ' into %27 in a query, so it accepts either spelling for the other;
 *    we do not (the [NODE] cross-spelling cases are pinned as rejected below);
 *  - an http URL with a non-default port must match with that port: the libraries also try
 *    it without the port. For https they strip any port and so do we ([PY] removes_port). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/crypto.h"
#include "callbridge/form.h"
#include "callbridge/twsig.h"
#include "callbridge/util.h"

#define URL_PY   "https://mycompany.com/myapp.php?foo=1&bar=2"
#define URL_HTTP "http://mycompany.com/myapp.php?foo=1&bar=2"
#define SIG_PY   "RSOYDt4T1cUTdK1PDd93/VVr8B8="
#define SIG_DUP  "IK+Dwps556ElfBT0I3Rgjkr1wJU="
#define SIG_BODY "a9nBmqA0ju/hNViExpshrM61xv4="
#define BODY_PY  "{\"property\": \"value\", \"boolean\": true}"
#define HASH_PY  "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
#define PARAMS_PY                                                                                  \
        "CallSid=CA1234567890ABCDE&Digits=1234&From=%2B14158675309&To=%2B18005551212&Caller="      \
        "%2B14158675309"
#define URL_CB "https://cb.example/webhooks/twilio/status"

enum kind {
        FORM, /* params: a form body, decoded with cb_form_parse */
        JSON, /* params: the raw JSON body; the signature covers the URL alone */
};

struct sig_case {
        const char *token;
        const char *url;
        enum kind kind;
        const char *params;
        const char *signature; /* NULL: the header is missing */
        bool valid;
        bool signed_as_is; /* cb_twsig_compute(url, params) must give `signature` */
};

static const struct sig_case cases[] = {
    /* [PY] test_compute_signature, test_validation; [JAVA] testValidate; [RB] [PHP] */
    {"12345", URL_PY, FORM, PARAMS_PY, SIG_PY, true, true},
    /* [PHP] the same params in another order (its own order); order never matters */
    {"12345", URL_PY, FORM,
     "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To="
     "%2B18005551212",
     SIG_PY, true, true},
    /* [PY] test_compute_signature_duplicate_multi_dict / _query_dict: a repeated name is
     * sorted by value */
    {"12345", URL_PY, FORM, "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234", SIG_DUP, true,
     true},
    /* [PHP] testValidateWithArrayAndDuplicates: Digits => [5678, 1234, 1234], a repeated
     * name=value pair counts once */
    {"12345", URL_PY, FORM, "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234",
     SIG_DUP, true, true},
    /* [PY] test_validation_removes_port_on_https; [JAVA] testValidateRemovesPortHttps; [RB]
     * [PHP]: https with any port also matches the URL signed without it */
    {"12345", "https://mycompany.com:1234/myapp.php?foo=1&bar=2", FORM, PARAMS_PY, SIG_PY, true,
     false},
    /* [PY] test_validation_removes_port_on_http ("hash of http uri with port 1234") */
    {"12345", "http://mycompany.com:1234/myapp.php?foo=1&bar=2", FORM, PARAMS_PY,
     "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", true, true},
    /* [PY] test_validation_adds_port_on_https ("hash of uri with port 443") */
    {"12345", URL_PY, FORM, PARAMS_PY, "kvajT1Ptam85bY51eRf/AJRuM3w=", true, false},
    {"12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", FORM, PARAMS_PY,
     "kvajT1Ptam85bY51eRf/AJRuM3w=", true, true},
    /* [CB] and the other way: :443 given, signed without it */
    {"12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", FORM, PARAMS_PY, SIG_PY, true,
     false},
    /* [PY] test_validation_adds_port_on_http ("hash of uri with port 80") */
    {"12345", URL_HTTP, FORM, PARAMS_PY, "0ZXoZLH/DfblKGATFgpif+LLRf4=", true, false},
    {"12345", "http://mycompany.com:80/myapp.php?foo=1&bar=2", FORM, PARAMS_PY,
     "0ZXoZLH/DfblKGATFgpif+LLRf4=", true, true},
    /* [RB] 'should validate urls with credentials'; [PHP] testBuildUrlCreds */
    {"12345", "https://user:pass@mycompany.com/myapp.php?foo=1&bar=2", FORM, PARAMS_PY,
     "CukzLTc1tT5dXEDIHm/tKBanW10=", true, true},
    /* [RB] 'urls with just username'; [PHP] testBuildUrlWithUser */
    {"12345", "https://user@mycompany.com/myapp.php?foo=1&bar=2", FORM, PARAMS_PY,
     "2YRLlVAflCqxaNicjMpJcSTgzSs=", true, true},
    /* [RB] 'credentials by adding port'; [PHP] testBuildUrlCredsAddsPort: :443 goes after the
     * host, not after "user:" */
    {"12345", "https://user:pass@mycompany.com/myapp.php?foo=1&bar=2", FORM, PARAMS_PY,
     "ZQFR1PTIZXF2MXB8ZnKCvnnA+rI=", true, false},
    /* [PY] test_validation_of_body_succeeds; [JAVA] testValidateWithBody; [RB] [PHP] */
    {"12345", URL_PY "&bodySHA256=" HASH_PY, JSON, BODY_PY, SIG_BODY, true, true},
    /* [JAVA] testValidateWithNoOtherParameters; [RB] 'no other GET parameters' */
    {"12345", "https://mycompany.com/myapp.php?bodySHA256=" HASH_PY, JSON, BODY_PY,
     "y77kIzt2vzLz71DgmJGsen2scGs=", true, true},
    /* [NODE] URL with or without :443, either way round */
    {"s3cr3t", "https://example.com/path?test=param", FORM, "",
     "loLgTitFAoWx57yy5oEU4Hlddzw=", true, true},
    {"s3cr3t", "https://example.com:443/path?test=param", FORM, "",
     "loLgTitFAoWx57yy5oEU4Hlddzw=", true, false},
    {"s3cr3t", "https://example.com:443/path?test=param", FORM, "",
     "IdwMFypqvNxti3YgvWWmfcNL26M=", true, true},
    {"s3cr3t", "https://example.com/path?test=param", FORM, "",
     "IdwMFypqvNxti3YgvWWmfcNL26M=", true, false},
    /* [NODE] an unescaped and an escaped single quote, each as received */
    {"s3cr3t", "https://example.com/path?test=param'WithQuote", FORM, "",
     "GfI7onHX/KQ2k1oVS3cUTVk4IEw=", true, true},
    {"s3cr3t", "https://example.com/path?test=param%27WithQuote", FORM, "",
     "HkuXLxVQ7zHv9LmGpzlLuGaxhJY=", true, true},
    /* [NODE] the cross spellings: accepted by twilio-node, not here (no re-encoding) */
    {"s3cr3t", "https://example.com/path?test=param%27WithQuote", FORM, "",
     "GfI7onHX/KQ2k1oVS3cUTVk4IEw=", false, false},
    {"s3cr3t", "https://example.com/path?test=param'WithQuote", FORM, "",
     "HkuXLxVQ7zHv9LmGpzlLuGaxhJY=", false, false},
    /* [NODE] 'signature URL does not match the target URL' (test=param signed, param2 sent) */
    {"s3cr3t", "https://example.com/path?test=param2", FORM, "",
     "loLgTitFAoWx57yy5oEU4Hlddzw=", false, false},
    /* [CB] UTF-8 values (2-, 3- and 4-byte) and a literal '+', signed decoded */
    {"12345", "https://cb.example/webhooks/twilio/voice", FORM,
     "Body=Zo%C3%AB+%E5%8C%97%E4%BA%AC+%F0%9F%98%80&From=%2B4915123456789",
     "M5878xrnhfwrEn6iCO5Z7fmf1BQ=", true, true},
    {"12345", "https://cb.example/webhooks/twilio/voice", FORM,
     "Body=hello%2Bworld&Empty=", "7R6oj4uewYB7+hTkITR3zqhPbNU=", true, true},
    /* [CB] names sort by byte: "A" < "B" < "_" < "a" */
    {"12345", "https://cb.example/webhooks/twilio/voice", FORM, "a=1&B=2&_=3&A=0",
     "4kLjk/GdVMfVH4cD5sW7rpjzHNw=", true, true},
    /* [CB] no parameters at all; IPv6 literal hosts with and without :443 */
    {"12345", URL_CB, FORM, "", "MTIGgJZ7BdgKIAifX0dYH2xFxdE=", true, true},
    {"12345", "https://[2001:db8::1]/webhooks/twilio/status", FORM, "CallSid=CA1",
     "QCZ5wGg1Fj6mclRG5XJAGEQR99Q=", true, true},
    {"12345", "https://[2001:db8::1]/webhooks/twilio/status", FORM, "CallSid=CA1",
     "kklgke1yRLH2HSOXbfUXv8Yl43M=", true, false},
    {"12345", "https://[2001:db8::1]:443/webhooks/twilio/status", FORM, "CallSid=CA1",
     "QCZ5wGg1Fj6mclRG5XJAGEQR99Q=", true, false},
    /* [CB] https with another port, signed without it (as [PY] removes_port_on_https) */
    {"12345", "https://cb.example:8443/webhooks/twilio/status", FORM, "CallSid=CA1",
     "nylMuLU432YKwP0EXPUsxMU4rbI=", true, false},
    /* [CB] http with a non-default port: the port is kept and must have been signed */
    {"12345", "http://cb.example:8080/webhooks/twilio/status", FORM, "CallSid=CA1",
     "DApl7Nv9gzL8Vznn9acnDc9Tpn8=", true, true},
    {"12345", "http://cb.example:8080/webhooks/twilio/status", FORM, "CallSid=CA1",
     "4KtAGeMvhin+b9j8bWPqBynooOQ=", false, false},
    {"12345", "http://cb.example/webhooks/twilio/status", FORM, "CallSid=CA1",
     "DApl7Nv9gzL8Vznn9acnDc9Tpn8=", false, false},

    /* ---- negatives ---- */
    /* [JAVA] testFailsWhenIncorrect, [PHP] testFailsWhenIncorrect, [RB] 'wrong signature' */
    {"12345", URL_PY, FORM, PARAMS_PY, "NOTRSOYDt4T1cUTdK1PDd93/VVr8B8=", false, false},
    {"12345", URL_PY, FORM, PARAMS_PY, "FAIL", false, false},
    {"12345", URL_PY, FORM, PARAMS_PY, "fake_signature", false, false},
    /* a tampered parameter value, an extra, a missing or a renamed parameter */
    {"12345", URL_PY, FORM,
     "CallSid=CA1234567890ABCDE&Digits=1235&From=%2B14158675309&To=%2B18005551212&Caller="
     "%2B14158675309",
     SIG_PY, false, false},
    {"12345", URL_PY, FORM, PARAMS_PY "&Extra=1", SIG_PY, false, false},
    {"12345", URL_PY, FORM, PARAMS_PY "&Digits=1234", SIG_PY, true, false}, /* a repeat: once */
    {"12345", URL_PY, FORM, PARAMS_PY "&Digits=5678", SIG_PY, false, false},
    {"12345", URL_PY, FORM,
     "CallSid=CA1234567890ABCDE&Digits=1234&From=%2B14158675309&To=%2B18005551212", SIG_PY, false,
     false},
    {"12345", URL_PY, FORM,
     "CallSid=CA1234567890ABCDE&digits=1234&From=%2B14158675309&To=%2B18005551212&Caller="
     "%2B14158675309",
     SIG_PY, false, false},
    /* a '+' that was a space, not a plus */
    {"12345", URL_PY, FORM,
     "CallSid=CA1234567890ABCDE&Digits=1234&From=+14158675309&To=%2B18005551212&Caller="
     "%2B14158675309",
     SIG_PY, false, false},
    /* the URL: an extra query parameter, another value, another path, host or scheme */
    {"12345", URL_PY "&baz=3", FORM, PARAMS_PY, SIG_PY, false, false},
    {"12345", "https://mycompany.com/myapp.php?foo=1&bar=3", FORM, PARAMS_PY, SIG_PY, false, false},
    {"12345", "https://mycompany.com/myapp.php?bar=2&foo=1", FORM, PARAMS_PY, SIG_PY, false, false},
    {"12345", "https://mycompany.com/myapp.php", FORM, PARAMS_PY, SIG_PY, false, false},
    {"12345", "https://evil.example/myapp.php?foo=1&bar=2", FORM, PARAMS_PY, SIG_PY, false, false},
    {"12345", URL_HTTP, FORM, PARAMS_PY, SIG_PY, false, false},
    {"12345", "https://mycompany.com:4430/myapp.php?foo=1&bar=2", FORM, PARAMS_PY,
     "kvajT1Ptam85bY51eRf/AJRuM3w=", false, false},
    /* the query moved into the form, or the form into the query */
    {"12345", "https://mycompany.com/myapp.php", FORM, PARAMS_PY "&foo=1&bar=2", SIG_PY, false,
     false},
    /* the wrong token, an empty token */
    {"12346", URL_PY, FORM, PARAMS_PY, SIG_PY, false, false},
    {"", URL_PY, FORM, PARAMS_PY, SIG_PY, false, false},
    /* missing, empty, truncated, padded, case-changed signatures */
    {"12345", URL_PY, FORM, PARAMS_PY, NULL, false, false},
    {"12345", URL_PY, FORM, PARAMS_PY, "", false, false},
    {"12345", URL_PY, FORM, PARAMS_PY, "RSOYDt4T1cUTdK1PDd93/VVr8B8", false, false},
    {"12345", URL_PY, FORM, PARAMS_PY, "RSOYDt4T1cUTdK1PDd93/VVr8B", false, false},
    {"12345", URL_PY, FORM, PARAMS_PY, "RSOYDt4T1cUTdK1PDd93/VVr8B8= ", false, false},
    {"12345", URL_PY, FORM, PARAMS_PY, "RSOYDt4T1cUTdK1PDd93/VVr8B8==", false, false},
    {"12345", URL_PY, FORM, PARAMS_PY, "rsoydt4t1cutdk1pdd93/vvr8b8=", false, false},
    {"12345", URL_PY, FORM, PARAMS_PY, "RSOYDt4T1cUTdK1PDd93/VVr8B9=", false, false},
    /* JSON: [JAVA] testValidateBodyWithoutSignature (no bodySHA256 in the URL), [RB] */
    {"12345", URL_PY, JSON, BODY_PY, SIG_PY, false, false},
    {"12345", URL_PY, JSON, BODY_PY, "zYQTYrRWXE7LtzbG4PfP7/bkkGo=", false, false}, /* URL alone */
    /* JSON: the body changed under the same URL and signature */
    {"12345", URL_PY "&bodySHA256=" HASH_PY, JSON, "{\"property\": \"value\", \"boolean\": false}",
     SIG_BODY, false, false},
    {"12345", URL_PY "&bodySHA256=" HASH_PY, JSON, "", SIG_BODY, false, false},
    /* JSON: a wrong, truncated or upper-case bodySHA256 (the signature then covers it) */
    {"12345", URL_PY "&bodySHA256=1a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620",
     JSON, BODY_PY, SIG_BODY, false, false},
    {"12345", URL_PY "&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e662",
     JSON, BODY_PY, SIG_BODY, false, false},
    {"12345", URL_PY "&bodySHA256=", JSON, BODY_PY, SIG_BODY, false, false},
    /* JSON: the right hash but the URL's other query changed */
    {"12345", "https://mycompany.com/myapp.php?foo=1&bar=3&bodySHA256=" HASH_PY, JSON, BODY_PY,
     SIG_BODY, false, false},
};

static void decode_params(const struct sig_case *c, struct cb_form *form)
{
        *form = (struct cb_form){0};
        assert_int_equal(cb_form_parse(form, c->params, strlen(c->params)), 0);
}

static void test_vectors(void **state)
{
        (void)state;
        for (size_t i = 0; i < CB_ARRAY_LEN(cases); i++) {
                const struct sig_case *c = &cases[i];
                struct cb_form form = {0};
                bool ok;

                if (c->kind == FORM) {
                        decode_params(c, &form);
                        ok = cb_twsig_valid(c->token, c->url, &form, NULL, 0, c->signature);
                } else {
                        ok = cb_twsig_valid(c->token, c->url, NULL, c->params, strlen(c->params),
                                            c->signature);
                }
                if (ok != c->valid)
                        fail_msg("case %zu (%s, sig %s): %s, want %s", i, c->url,
                                 c->signature ? c->signature : "(none)", ok ? "valid" : "invalid",
                                 c->valid ? "valid" : "invalid");
                if (c->signed_as_is) {
                        char sig[CB_TWSIG_LEN + 1];
                        assert_int_equal(
                            cb_twsig_compute(c->token, c->url, c->kind == FORM ? &form : NULL, sig),
                            0);
                        if (strcmp(sig, c->signature) != 0)
                                fail_msg("case %zu (%s): computed %s, want %s", i, c->url, sig,
                                         c->signature);
                }
                cb_form_free(&form);
        }
}

/* [PY] test_compute_hash_unicode; [JAVA] testValidateBody: the body hash itself. */
static void test_body_hash(void **state)
{
        unsigned char digest[32];
        char hex[65];

        (void)state;
        cb_sha256(BODY_PY, strlen(BODY_PY), digest);
        cb_hex(digest, sizeof(digest), hex);
        assert_string_equal(hex, HASH_PY);
}

/* NULL arguments are refusals, never crashes. */
static void test_null_arguments(void **state)
{
        struct cb_form form = {0};

        (void)state;
        assert_false(cb_twsig_valid(NULL, URL_PY, &form, NULL, 0, SIG_PY));
        assert_false(cb_twsig_valid("12345", NULL, &form, NULL, 0, SIG_PY));
        assert_false(cb_twsig_valid("12345", URL_PY, &form, NULL, 0, NULL));
        /* a JSON request without a body cannot carry a matching hash */
        assert_false(
            cb_twsig_valid("12345", URL_PY "&bodySHA256=" HASH_PY, NULL, NULL, 0, SIG_BODY));
}

/* The spellings tried are exactly: as given, and the one other; a URL without a scheme or
 * of another scheme is only tried as given. */
static void test_odd_urls(void **state)
{
        struct cb_form form = {0};
        char sig[CB_TWSIG_LEN + 1];

        (void)state;
        assert_int_equal(cb_twsig_compute("12345", "mycompany.com/myapp.php", &form, sig), 0);
        assert_true(cb_twsig_valid("12345", "mycompany.com/myapp.php", &form, NULL, 0, sig));
        assert_false(cb_twsig_valid("12345", "mycompany.com:443/myapp.php", &form, NULL, 0, sig));
        assert_int_equal(cb_twsig_compute("12345", "ftp://h/x", &form, sig), 0);
        assert_false(cb_twsig_valid("12345", "ftp://h:21/x", &form, NULL, 0, sig));
        /* an empty host has no other spelling */
        assert_int_equal(cb_twsig_compute("12345", "https:///x", &form, sig), 0);
        assert_true(cb_twsig_valid("12345", "https:///x", &form, NULL, 0, sig));
        assert_false(cb_twsig_valid("12345", "https://:443/x", &form, NULL, 0, sig));
        /* no path: the port goes at the end */
        assert_int_equal(cb_twsig_compute("12345", "https://h.example:443", &form, sig), 0);
        assert_true(cb_twsig_valid("12345", "https://h.example", &form, NULL, 0, sig));
        assert_int_equal(cb_twsig_compute("12345", "HTTPS://h.example:443?x=1", &form, sig), 0);
        assert_true(cb_twsig_valid("12345", "HTTPS://h.example?x=1", &form, NULL, 0, sig));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_vectors),
            cmocka_unit_test(test_body_hash),
            cmocka_unit_test(test_null_arguments),
            cmocka_unit_test(test_odd_urls),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
