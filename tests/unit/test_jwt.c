/* JWT signing: RS256 and HS256 against tokens made independently (Python's hmac and
 * `openssl dgst -sha256 -sign` over the same signing input; RSASSA-PKCS1-v1_5 is
 * deterministic, so the whole token is fixed), and a tampered token fails to verify. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/pem.h>

#include "callbridge/jwt.h"
#include "callbridge/util.h"

/* A throwaway 2048-bit key made for this test only. */
static const char test_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvwIBADANBgkqhkiG9w0BAQEFAASCBKkwggSlAgEAAoIBAQCTX193Kj+pkMW3\n"
    "0Q9f42Uw4Y8zvn6gkJ309alCdOHSGeEqdnN7JiOIloS9US8kxBBGVgysstuMrSlH\n"
    "Uo1dNGF22Ww2CZWEQqUzEmXQnKCCuA1jDpA/OCOXVi+/r6DnoswzfnLDREbL2sD7\n"
    "c2My1v9G/bxAtQ4Tt+IiPBhQ9v16ORWgmx/pveSQvgrmKICdJAOvcOk4YizmlcvN\n"
    "wKzMfHGKmCRMsiJGZSOgF9rO0KhG8HsN33EeFHJnNqCmDTtjF3hKTbQnlBUvRYQr\n"
    "gxrjqBIW2Nzwqx1uhBhuQSYUsaM9D4jiMLJqzNV0LhotiV3g+ig2wh50jDI9Nf6r\n"
    "vDqxpW0rAgMBAAECggEASS3fus2o5St1cqyGROgm1Fn9AQXD3TlSplPiY5Skme6t\n"
    "56b/+xPaKzYK3fNVRJ1zM2oBSzRZXwaRa9ArUC/1gc2/NSoXK6DoZW7qTeeosKBy\n"
    "TVDrAel/iuOKPFYawUsOuTc+B4Z83TdYAsSuao1mH7tZYoxFXDdAPB25OWMcRTcY\n"
    "c+VB05PESXJUvN2KSZFvf+NBs2o+qMgj4wnw2HUwT2bUWoXPwn2drOM7UtHykc1U\n"
    "+HM+lNmDU08MzZjfVQJo4BUq7rLtKlxwNjPITn0KD46X6OBGcObeXTe5G3oZaOfr\n"
    "FSM4gN1oDw4r6v9s2u4UyWiGBMnbWXCS6ehqP/mV8QKBgQDHn2a5F/ViNCt7xz7d\n"
    "+toIMZSIaTvesLZUF4Sa95gySQndQgcpDYcjsNaplprmaiXgbyOMyDCZb5MDe/Mp\n"
    "1uOF6B4GCW5VeH2J8/v0WFSHBUf3IDOPWjz7T2/fQJfihlcAMeS1nCSBer+xP4qX\n"
    "CInLrCmi9rOsbGCUhiVkldq2yQKBgQC8/lHpP2H6ZyftUBeG/35fcuuiczDEc6p9\n"
    "P5vkgGmuRYT3KYzt2ENv6RSGR6BQY9Qr5IgnU3VicadXflbKbWxbxnXbcheXGM8V\n"
    "kFE8wdSo7t6Zd1J8SKSK0XklQrG+HCIkWc9acRQDaudprvtTEjgOIcmhBzQ4ury6\n"
    "CxGPhO3aUwKBgQC/KTdukrHqq/jkHKZoXnuCkzAg/V1W4LSJjMfwup+lr+nhVwSS\n"
    "XKEIHaVDW7TUZ9wDs4pAm8hmdsE6+eyfKWhSaDiwIUHmWW8mt12U3S186yLCVbTq\n"
    "V0jEhIqmKS4JwAn6Zs0U2QTgdVKygx3NimCiiSiKJWNj/5jxQhD25MZAeQKBgQCJ\n"
    "ht+ARfk8SBiL3j5gpEcHmg7SFdSlAC5OGh2M98zvXfNWEExXP4pDQ28GD9Ue6qYY\n"
    "kqJpS5gd3OqTBoKNp3a0igR1fd6guxLmdDBJcBsaG0iskGHbwtjJk4j+jjvdRYeq\n"
    "wBfdjm+r1P00sHp+hsF3tyqMHTvpFCoFj8xljauvtQKBgQCh96RF/if+iNiIHvXD\n"
    "lzksJAiiO2r6smb77nncgbaKW24VTBUHiOX6wDa8cpguZtsnjWhMD/gZi+GYbJnu\n"
    "wij/HCLKj6Xi4iaOGM8X4QITYDfFMYz/c4G3u0VIl/ODwl9u7x4G9x+AqRYcyIwn\n"
    "08IaCiDKsXeP9D2nbuA0Iwy30g==\n"
    "-----END PRIVATE KEY-----\n";

static const char want_rs256[] =
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwczovL2xvZ2luLnNhbGVzZm9yY2U"
    "uY29tIiwiZXhwIjoxNzAwMDAwMDAwLCJpc3MiOiIzTVZHOWNsaWVudCIsInN1YiI6ImludGVncmF0aW9"
    "uQGV4YW1wbGUuY29tIn0.PK3JNp1TQeeupErBmJ4IkLQx9HC7Ch5stmr5_f3dlqCirRhuYlSqbZYV7J5"
    "KhZWZuu7ivR5TVrpKTODH1sXtqNxRs-rB8fHKNUe-ywS5G9bUzUfET6nWogIh5MUSdONd-R2nSivfzQ1"
    "zM_rGFaF0pGJWzp-SGaKTARrRwCAL6XBjq2Msa5ZzJAJb8kaQv6eyt3xa4D1GLJEalcf21kFgJqbwrBN"
    "Vsbar_tR8pftDNr6cI3pijKO6LaZJWlbjZOI5ZEBLWhK9DqhP2yL24zO6tIN1V6oc2O36dbscXAqtWBL"
    "QulEQSkOAZ0sKI_adiypr4sro-m00RGFfHYL8o3uTKg";

static const char want_hs256[] =
    "eyJhbGciOiJIUzI1NiIsImN0eSI6InR3aWxpby1mcGE7dj0xIiwidHlwIjoiSldUIn0.eyJleHAiOjE3"
    "MDAwMDM2MDAsImlzcyI6IlNLeHh4eCIsImp0aSI6IlNLeHh4eC0xNzAwMDAwMDAwIiwic3ViIjoiQUN4"
    "eHh4In0.NDnIA_JSIkinIOnPRbEDiLulBXEwARU4kfcOpzQc04M";

static EVP_PKEY *test_key(void)
{
        BIO *bio = BIO_new_mem_buf(test_key_pem, -1);
        EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);

        BIO_free(bio);
        assert_non_null(key);
        return key;
}

static void test_rs256_vector(void **state)
{
        EVP_PKEY *key = test_key();
        json_t *claims = json_pack("{s:s,s:I,s:s,s:s}", "aud", "https://login.salesforce.com",
                                   "exp", (json_int_t)1700000000, "iss", "3MVG9client", "sub",
                                   "integration@example.com");
        char *jwt = cb_jwt_sign_rs256(key, claims);

        (void)state;
        assert_non_null(jwt);
        assert_string_equal(jwt, want_rs256);
        free(jwt);
        json_decref(claims);
        EVP_PKEY_free(key);
}

/* Verify `jwt`'s RS256 signature with `key`'s public half: 1 good, 0 bad. */
static int verify(EVP_PKEY *key, const char *jwt)
{
        const char *dot = strrchr(jwt, '.');
        unsigned char sig[512];
        long n = cb_base64url_decode(dot + 1, sig, sizeof(sig));
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        int ok;

        assert_true(n > 0);
        ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestVerify(md, sig, (size_t)n, (const unsigned char *)jwt,
                              (size_t)(dot - jwt)) == 1;
        EVP_MD_CTX_free(md);
        return ok;
}

static void test_rs256_tampered(void **state)
{
        EVP_PKEY *key = test_key();
        json_t *claims = json_pack("{s:s}", "sub", "someone@example.com");
        char *jwt = cb_jwt_sign_rs256(key, claims);
        char *dot;

        (void)state;
        assert_int_equal(verify(key, jwt), 1);
        dot = strchr(jwt, '.');
        dot[3] = dot[3] == 'A' ? 'B' : 'A'; /* one character of the claims */
        assert_int_equal(verify(key, jwt), 0);
        free(jwt);
        json_decref(claims);
        EVP_PKEY_free(key);
}

/* HS256 with extra header members (Twilio's "cty"). */
static void test_hs256_vector(void **state)
{
        static const char secret[] = "secret-key-for-tests";
        json_t *header = json_pack("{s:s}", "cty", "twilio-fpa;v=1");
        json_t *claims = json_pack("{s:I,s:s,s:s,s:s}", "exp", (json_int_t)1700003600, "iss",
                                   "SKxxxx", "jti", "SKxxxx-1700000000", "sub", "ACxxxx");
        char *jwt = cb_jwt_sign_hs256(secret, strlen(secret), header, claims);

        (void)state;
        assert_non_null(jwt);
        assert_string_equal(jwt, want_hs256);
        free(jwt);
        jwt = cb_jwt_sign_hs256("other", 5, header, claims);
        assert_string_not_equal(jwt, want_hs256);
        free(jwt);
        json_decref(header);
        json_decref(claims);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_rs256_vector),
            cmocka_unit_test(test_rs256_tampered),
            cmocka_unit_test(test_hs256_vector),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
