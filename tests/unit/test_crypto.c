/* Hashing, comparison, randomness and UUIDs (src/crypto/digest.c, random.c; crypto.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/crypto.h"
#include "callbridge/util.h"

/* ---- hashing ---------------------------------------------------------------------------- */

static void test_sha256_hex(void **state)
{
        static const struct {
                const char *in;
                const char *hex;
        } vectors[] = {
            {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
            {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        };
        (void)state;

        for (size_t i = 0; i < CB_ARRAY_LEN(vectors); i++) {
                unsigned char d[32];
                char hex[65];
                cb_sha256(vectors[i].in, strlen(vectors[i].in), d);
                cb_hex(d, sizeof(d), hex);
                assert_string_equal(hex, vectors[i].hex);
        }
}

/* RFC 4231 test cases 1, 2, 3, 6 and 7 (6 and 7: a key longer than the block, hashed first). */
static void test_hmac_sha256(void **state)
{
        static const struct {
                const char *key; /* hex */
                const char *data;
                const char *mac;
        } vectors[] = {
            {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There",
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
            {"4a656665", "what do ya want for nothing?",
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
            {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
             "\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd"
             "\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd"
             "\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd",
             "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
            {NULL, "Test Using Larger Than Block-Size Key - Hash Key First",
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
            {NULL,
             "This is a test using a larger than block-size key and a larger than block-size data."
             " The key needs to be hashed before being used by the HMAC algorithm.",
             "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
        };
        (void)state;

        for (size_t i = 0; i < CB_ARRAY_LEN(vectors); i++) {
                unsigned char key[131];
                size_t key_len = sizeof(key); /* cases 6 and 7: 131 bytes of 0xaa */
                unsigned char mac[32];
                char hex[65];

                memset(key, 0xaa, sizeof(key));
                if (vectors[i].key != NULL) {
                        key_len = strlen(vectors[i].key) / 2;
                        for (size_t k = 0; k < key_len; k++)
                                key[k] = (unsigned char)(cb_hex_digit(vectors[i].key[2 * k]) * 16 +
                                                         cb_hex_digit(vectors[i].key[2 * k + 1]));
                }
                assert_true(
                    cb_hmac_sha256(key, key_len, vectors[i].data, strlen(vectors[i].data), mac));
                cb_hex(mac, sizeof(mac), hex);
                assert_string_equal(hex, vectors[i].mac);
        }
}

/* ---- comparison ------------------------------------------------------------------------- */

static void test_ct_equal(void **state)
{
        unsigned char a[32];
        unsigned char b[32];

        (void)state;
        cb_random(a, sizeof(a));
        memcpy(b, a, sizeof(b));
        assert_true(cb_ct_equal(a, b, sizeof(a)));
        assert_true(cb_ct_equal(a, b, 0));
        for (size_t i = 0; i < sizeof(a); i++) {
                b[i] ^= 0x01;
                assert_false(cb_ct_equal(a, b, sizeof(a)));
                assert_true(i == 0 || cb_ct_equal(a, b, i));
                b[i] ^= 0x01;
        }
        b[31] ^= 0x80;
        assert_false(cb_ct_equal(a, b, 32));
        assert_true(cb_ct_equal(a, b, 31));
}

/* ---- UUIDs ------------------------------------------------------------------------------ */

static void test_uuid_v4(void **state)
{
        char prev[CB_UUID_LEN + 1] = "";

        (void)state;
        for (int i = 0; i < 1000; i++) {
                char u[CB_UUID_LEN + 2];

                memset(u, '#', sizeof(u));
                cb_uuid_v4(u);
                assert_int_equal(strlen(u), CB_UUID_LEN);
                assert_int_equal(u[CB_UUID_LEN + 1], '#');
                for (size_t k = 0; k < CB_UUID_LEN; k++) {
                        if (k == 8 || k == 13 || k == 18 || k == 23)
                                assert_int_equal(u[k], '-');
                        else
                                assert_non_null(strchr("0123456789abcdef", u[k]));
                }
                assert_int_equal(u[14], '4');           /* version 4 */
                assert_non_null(strchr("89ab", u[19])); /* RFC 4122 variant */
                assert_true(cb_uuid_valid(u));
                assert_string_not_equal(u, prev);
                memcpy(prev, u, sizeof(prev));
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_sha256_hex),
            cmocka_unit_test(test_hmac_sha256),
            cmocka_unit_test(test_ct_equal),
            cmocka_unit_test(test_uuid_v4),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
