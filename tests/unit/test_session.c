/* The pure parts of browser sessions (src/http/session_util.c): reading the session cookie out
 * of a Cookie header, the local paths a sign-in may go back to (no open redirect), the PKCE
 * S256 challenge (RFC 7636 appendix B) and verifier syntax, the Set-Cookie value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "session.h"

struct cookie_case {
        const char *header;
        const char *want; /* NULL: not found */
};

static const struct cookie_case cookie_cases[] = {
    {"cb_session=abc", "abc"},
    {"a=1; cb_session=abc; b=2", "abc"},
    {"a=1;cb_session=abc", "abc"},
    {"  cb_session=abc  ", "abc"},
    {"xcb_session=abc", NULL},
    {"cb_session_old=abc", NULL},
    {"cb_session=", NULL},
    {"cb_session", NULL},
    {"", NULL},
    {"cb_session=first; cb_session=second", "first"},
    {"a=cb_session=abc", NULL},
};

static void test_cookie_get(void **state)
{
        char out[64];

        (void)state;
        for (size_t i = 0; i < sizeof(cookie_cases) / sizeof(cookie_cases[0]); i++) {
                bool got = cb_cookie_get(cookie_cases[i].header, "cb_session", out, sizeof(out));
                if (got != (cookie_cases[i].want != NULL) ||
                    (got && strcmp(out, cookie_cases[i].want) != 0))
                        fail_msg("cookie_get(\"%s\") = %d \"%s\"", cookie_cases[i].header, got,
                                 got ? out : "");
        }
        assert_false(cb_cookie_get(NULL, "cb_session", out, sizeof(out)));
        /* too long for the buffer: refused, never cut */
        assert_false(cb_cookie_get("cb_session=0123456789", "cb_session", out, 8));
}

static void test_token_shape(void **state)
{
        (void)state;
        assert_true(cb_session_token_shape("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_"));
        assert_false(cb_session_token_shape("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
        assert_false(cb_session_token_shape("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_A"));
        assert_false(cb_session_token_shape("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
        assert_false(cb_session_token_shape(NULL));
}

struct return_case {
        const char *path;
        bool ok;
};

static const struct return_case return_cases[] = {
    {"/console/", true},
    {"/r/0b7e4a5c-9a4f-4e3b-8341-498512345678", true},
    {"/console/?tab=calls&x=1", true},
    {"//evil.example", false},
    {"/\\evil.example", false},
    {"/a\\b", false},
    {"https://evil.example/", false},
    {"evil.example", false},
    {"javascript:alert(1)", false},
    {"", false},
    {"/a b", false},
    {"/a\tb", false},
    {"/a\r\nSet-Cookie: x=1", false},
    {"/caf\xc3\xa9", false},
};

static void test_return_to(void **state)
{
        char long_path[600];

        (void)state;
        for (size_t i = 0; i < sizeof(return_cases) / sizeof(return_cases[0]); i++)
                if (cb_return_to_valid(return_cases[i].path) != return_cases[i].ok)
                        fail_msg("return_to_valid(\"%s\") != %d", return_cases[i].path,
                                 return_cases[i].ok);
        assert_false(cb_return_to_valid(NULL));
        assert_string_equal(cb_return_to_or_default("//evil.example"), "/console/");
        assert_string_equal(cb_return_to_or_default(NULL), "/console/");
        assert_string_equal(cb_return_to_or_default("/r/x"), "/r/x");
        memset(long_path, 'a', sizeof(long_path) - 1);
        long_path[0] = '/';
        long_path[sizeof(long_path) - 1] = '\0';
        assert_false(cb_return_to_valid(long_path));
}

static void test_pkce(void **state)
{
        char challenge[CB_PKCE_CHALLENGE_LEN + 1];

        (void)state;
        /* RFC 7636 appendix B */
        cb_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", challenge);
        assert_string_equal(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert_true(cb_pkce_verifier_valid("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        assert_true(cb_pkce_verifier_valid("abc.def~ghi-jkl_mno0123456789abcdefghijklmnopq"));
        assert_false(cb_pkce_verifier_valid("tooShort"));
        assert_false(cb_pkce_verifier_valid("dBjftJeZ4CVP+mB92K27uhbUJU1p1r/wW1gFWFOEjXk"));
        assert_false(cb_pkce_verifier_valid(NULL));
}

static void test_cookie_value(void **state)
{
        struct cb_config cfg;
        char *v;

        (void)state;
        memset(&cfg, 0, sizeof(cfg));
        cfg.server.public_url = "http://127.0.0.1:8080";
        cfg.auth.cookie_samesite = "Lax";
        v = cb_session_cookie(&cfg, "tok", 3600);
        assert_string_equal(v, "cb_session=tok; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax");
        free(v);
        cfg.server.public_url = "https://cb.example";
        cfg.auth.cookie_samesite = "None";
        v = cb_session_cookie(&cfg, NULL, 3600);
        assert_string_equal(v, "cb_session=; Path=/; Max-Age=0; HttpOnly; SameSite=None; Secure");
        free(v);
}

static void test_iso(void **state)
{
        char out[32];

        (void)state;
        cb_iso_utc(1796655600, out);
        assert_string_equal(out, "2026-12-07T15:00:00Z");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_cookie_get),   cmocka_unit_test(test_token_shape),
            cmocka_unit_test(test_return_to),    cmocka_unit_test(test_pkce),
            cmocka_unit_test(test_cookie_value), cmocka_unit_test(test_iso),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
