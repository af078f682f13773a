/* Twilio Voice access tokens (src/crypto/twtoken.c): whole tokens against ones made
 * independently (Python json.dumps(sort_keys=True, separators=(",", ":")) + hmac/SHA-256 over
 * the claims twilio-python's AccessToken + VoiceGrant produce, plus "iat"), the identity
 * charset and length, TTL bounds, and the secret's ownership. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/twtoken.h"
#include "callbridge/util.h"

#define ACC "AC00000000000000000000000000000001"
#define SK  "SK00000000000000000000000000000002"
#define AP  "AP00000000000000000000000000000003"

static const char want_alice[] =
    "eyJhbGciOiJIUzI1NiIsImN0eSI6InR3aWxpby1mcGE7dj0xIiwidHlwIjoiSldUIn0.eyJleHAiOjE3"
    "MDAwMDM2MDAsImdyYW50cyI6eyJpZGVudGl0eSI6ImFsaWNlIiwidm9pY2UiOnsiaW5jb21pbmciOnsi"
    "YWxsb3ciOnRydWV9LCJvdXRnb2luZyI6eyJhcHBsaWNhdGlvbl9zaWQiOiJBUDAwMDAwMDAwMDAwMDAw"
    "MDAwMDAwMDAwMDAwMDAwMDAzIn19fSwiaWF0IjoxNzAwMDAwMDAwLCJpc3MiOiJTSzAwMDAwMDAwMDAw"
    "MDAwMDAwMDAwMDAwMDAwMDAwMDAyIiwianRpIjoiU0swMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw"
    "MDAwMi0xNzAwMDAwMDAwIiwic3ViIjoiQUMwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMSJ9"
    ".6gePub2voFm8J7DfDQlzoMBLeEMvJ8vUL2GpFgOki1E";

static const char want_ada[] =
    "eyJhbGciOiJIUzI1NiIsImN0eSI6InR3aWxpby1mcGE7dj0xIiwidHlwIjoiSldUIn0.eyJleHAiOjE3"
    "MDAwODY0MDAsImdyYW50cyI6eyJpZGVudGl0eSI6ImFkYS5sb3ZlbGFjZUBleGFtcGxlLmNvbSIsInZv"
    "aWNlIjp7ImluY29taW5nIjp7ImFsbG93Ijp0cnVlfSwib3V0Z29pbmciOnsiYXBwbGljYXRpb25fc2lk"
    "IjoiQVAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMyJ9fX0sImlhdCI6MTcwMDAwMDAwMCwi"
    "aXNzIjoiU0swMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMiIsImp0aSI6IlNLMDAwMDAwMDAw"
    "MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDItMTcwMDAwMDAwMCIsInN1YiI6IkFDMDAwMDAwMDAwMDAwMDAw"
    "MDAwMDAwMDAwMDAwMDAwMDEifQ.biRFz0_zktyZ7ykftc33F3ABD0r1kDfN8yGWArpY7XY";

static struct cb_twtoken_keys *keys(void)
{
        struct cb_twtoken_keys *k =
            cb_twtoken_keys_create(ACC, SK, AP, strdup("test-api-key-secret"));

        assert_non_null(k);
        return k;
}

static void test_vectors(void **state)
{
        struct cb_twtoken_keys *k = keys();
        char *t;

        (void)state;
        t = cb_twtoken_create(k, "alice", 1700000000, 3600);
        assert_non_null(t);
        assert_string_equal(t, want_alice);
        free(t);
        t = cb_twtoken_create(k, "ada.lovelace@example.com", 1700000000, 86400);
        assert_non_null(t);
        assert_string_equal(t, want_ada);
        free(t);
        cb_twtoken_keys_destroy(&k);
        assert_null(k);
        cb_twtoken_keys_destroy(&k); /* NULL is fine */
        cb_twtoken_keys_destroy(NULL);
}

static void test_identity(void **state)
{
        static const char *const good[] = {"a", "alice", "Ada_Lovelace-2", "a.b@c.example", "0"};
        static const char *const bad[] = {"",     "a b",   "a+b",        "a/b", "<Client>", "\"a\"",
                                          "a\tb", "a%20b", "Zo\xc3\xab", "a:b", "a,b"};
        char longest[CB_TWTOKEN_IDENTITY_MAX + 2];

        (void)state;
        for (size_t i = 0; i < CB_ARRAY_LEN(good); i++)
                assert_true(cb_twtoken_identity_valid(good[i]));
        for (size_t i = 0; i < CB_ARRAY_LEN(bad); i++)
                if (cb_twtoken_identity_valid(bad[i]))
                        fail_msg("identity \"%s\" accepted", bad[i]);
        assert_false(cb_twtoken_identity_valid(NULL));
        memset(longest, 'x', sizeof(longest));
        longest[CB_TWTOKEN_IDENTITY_MAX] = '\0';
        assert_true(cb_twtoken_identity_valid(longest));
        longest[CB_TWTOKEN_IDENTITY_MAX] = 'x';
        longest[CB_TWTOKEN_IDENTITY_MAX + 1] = '\0';
        assert_false(cb_twtoken_identity_valid(longest));
}

/* No token for a bad identity or TTL; nothing leaks either way. */
static void test_refusals(void **state)
{
        struct cb_twtoken_keys *k = keys();
        char *t;

        (void)state;
        assert_null(cb_twtoken_create(k, "a b", 1700000000, 3600));
        assert_null(cb_twtoken_create(k, NULL, 1700000000, 3600));
        assert_null(cb_twtoken_create(k, "alice", 1700000000, 0));
        assert_null(cb_twtoken_create(k, "alice", 1700000000, -1));
        assert_null(cb_twtoken_create(k, "alice", 1700000000, CB_TWTOKEN_TTL_MAX + 1));
        assert_null(cb_twtoken_create(NULL, "alice", 1700000000, 3600));
        t = cb_twtoken_create(k, "alice", 1700000000, 1);
        assert_non_null(t);
        free(t);
        cb_twtoken_keys_destroy(&k);
}

/* _create takes the secret even when it fails. */
static void test_keys_ownership(void **state)
{
        (void)state;
        assert_null(cb_twtoken_keys_create(NULL, SK, AP, strdup("s")));
        assert_null(cb_twtoken_keys_create(ACC, NULL, AP, strdup("s")));
        assert_null(cb_twtoken_keys_create(ACC, SK, NULL, strdup("s")));
        assert_null(cb_twtoken_keys_create(ACC, SK, AP, NULL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_vectors),
            cmocka_unit_test(test_identity),
            cmocka_unit_test(test_refusals),
            cmocka_unit_test(test_keys_ownership),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
