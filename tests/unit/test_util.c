/* Shared helpers (src/util/) and the error registry (src/http/errors.c): encodings, ids,
 * parsing, masking, buffers, string copies. Hashing, randomness and UUIDs: test_crypto.c. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/crypto.h"
#include "callbridge/errors.h"
#include "callbridge/util.h"

/* ---- base64 ----------------------------------------------------------------------------- */

struct b64_case {
        const char *in; /* bytes */
        size_t len;
        const char *std; /* RFC 4648 §4, padded */
        const char *url; /* RFC 4648 §5, no padding */
};

#define BYTES(s) s, sizeof(s) - 1

static const struct b64_case b64_cases[] = {
    /* RFC 4648 §10 test vectors */
    {BYTES(""), "", ""},
    {BYTES("f"), "Zg==", "Zg"},
    {BYTES("fo"), "Zm8=", "Zm8"},
    {BYTES("foo"), "Zm9v", "Zm9v"},
    {BYTES("foob"), "Zm9vYg==", "Zm9vYg"},
    {BYTES("fooba"), "Zm9vYmE=", "Zm9vYmE"},
    {BYTES("foobar"), "Zm9vYmFy", "Zm9vYmFy"},
    /* the two alphabets differ in 62 and 63 */
    {BYTES("\xfb\xff"), "+/8=", "-_8"},
    {BYTES("\xfb\xef\xbe"), "++++", "----"},
    {BYTES("\xff\xff\xff"), "////", "____"},
    {BYTES("\x00"), "AA==", "AA"},
    {BYTES("\x00\x00\x00"), "AAAA", "AAAA"},
    {BYTES("\x14\xfb\x9c\x03\xd9\x7e"), "FPucA9l+", "FPucA9l-"}, /* RFC 4648 §9 */
    {BYTES("\x14\xfb\x9c\x03\xd9"), "FPucA9k=", "FPucA9k"},
    {BYTES("\x14\xfb\x9c\x03"), "FPucAw==", "FPucAw"},
};

static void test_base64_vectors(void **state)
{
        (void)state;
        for (size_t i = 0; i < CB_ARRAY_LEN(b64_cases); i++) {
                const struct b64_case *c = &b64_cases[i];
                const unsigned char *in = (const unsigned char *)c->in;
                char out[64];
                unsigned char back[64];
                long n;

                memset(out, '#', sizeof(out));
                assert_int_equal(cb_base64_encode(in, c->len, out), strlen(c->std));
                assert_string_equal(out, c->std);

                memset(out, '#', sizeof(out));
                assert_int_equal(cb_base64url_encode(in, c->len, out), strlen(c->url));
                assert_string_equal(out, c->url);

                memset(back, '#', sizeof(back));
                n = cb_base64url_decode(c->url, back, sizeof(back));
                assert_int_equal(n, (long)c->len);
                assert_memory_equal(back, in, c->len);
                /* an output of exactly the decoded size is enough */
                assert_int_equal(cb_base64url_decode(c->url, back, c->len), (long)c->len);

                memset(back, '#', sizeof(back));
                n = cb_base64_decode(c->std, back, sizeof(back));
                assert_int_equal(n, (long)c->len);
                assert_memory_equal(back, in, c->len);
                assert_int_equal(cb_base64_decode(c->std, back, c->len), (long)c->len);
        }
}

/* Random data of every length up to 100 survives a round trip. */
static void test_base64url_round_trip(void **state)
{
        (void)state;
        for (size_t len = 0; len <= 100; len++) {
                unsigned char in[100];
                unsigned char back[100];
                char enc[4 * 34 + 1];
                size_t elen;

                cb_random(in, len);
                elen = cb_base64url_encode(in, len, enc);
                assert_int_equal(elen, (4 * len + 2) / 3);
                assert_int_equal(strlen(enc), elen);
                assert_int_equal(strspn(enc, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                             "0123456789-_"),
                                 elen);
                assert_int_equal(cb_base64url_decode(enc, back, sizeof(back)), (long)len);
                assert_memory_equal(back, in, len);
                if (len > 0)
                        assert_int_equal(cb_base64url_decode(enc, back, len - 1), -1);
        }
}

struct b64_bad {
        const char *in;
        size_t outlen;
};

static const struct b64_bad b64_bad_cases[] = {
    {"Zg==", 16},                                          /* padding is not part of the url form */
    {"Zm9v=", 16},  {"Zm+v", 16},                          /* standard alphabet */
    {"Zm/v", 16},   {"Zm 9v", 16},                         /* whitespace */
    {"Zm9v\n", 16}, {"Zm.9", 16},    {"Zm9v\xc3\xa9", 16}, /* non-ASCII */
    {"Z", 16},                       /* a lone trailing character cannot encode a byte */
    {"Zm9vY", 16},  {"Zm9vYmFy", 5}, /* 6 bytes do not fit in 5 */
    {"Zm9vYmE", 4}, {"Zg", 0},
};

static void test_base64url_rejects(void **state)
{
        (void)state;
        for (size_t i = 0; i < CB_ARRAY_LEN(b64_bad_cases); i++) {
                unsigned char out[16];
                if (cb_base64url_decode(b64_bad_cases[i].in, out, b64_bad_cases[i].outlen) != -1)
                        fail_msg("case %zu: \"%s\" accepted", i, b64_bad_cases[i].in);
        }
        {
                unsigned char out[1];
                assert_int_equal(cb_base64url_decode("", out, 0), 0);
        }
}

/* The standard decoder takes only the canonical padded form (key files must not have two
 * spellings of one key) and names no partial result. */
static const struct b64_bad b64_std_bad_cases[] = {
    {"Zg", 16},       {"Zm8", 16},          /* padding is required */
    {"Zg=", 16},      {"Zm9v=", 16},        /* a group of 4 or nothing */
    {"Zh==", 16},     {"Zm9=", 16},         /* leftover bits must be zero */
    {"Zm-v", 16},     {"Zm_v", 16},         /* url alphabet */
    {"Zm 9v", 16},    {"Zm9v\n", 16},       /* whitespace */
    {"Z===", 16},     {"====", 16},         /* too much padding */
    {"Zg==Zg==", 16}, {"Zm=v", 16},         /* padding only at the end */
    {"Zm9vYmFy", 5},  {"Zm9v\xc3\xa9", 16}, /* too long for the output; non-ASCII */
};

static void test_base64_rejects(void **state)
{
        unsigned char out[32];
        char enc[64];

        (void)state;
        for (size_t i = 0; i < CB_ARRAY_LEN(b64_std_bad_cases); i++) {
                if (cb_base64_decode(b64_std_bad_cases[i].in, out, b64_std_bad_cases[i].outlen) !=
                    -1)
                        fail_msg("case %zu: \"%s\" accepted", i, b64_std_bad_cases[i].in);
        }
        assert_int_equal(cb_base64_decode("", out, 0), 0);
        /* random data of every length up to 32 survives a round trip */
        for (size_t len = 0; len <= sizeof(out); len++) {
                unsigned char in[32];

                cb_random(in, len);
                cb_base64_encode(in, len, enc);
                assert_int_equal(cb_base64_decode(enc, out, sizeof(out)), (long)len);
                assert_memory_equal(out, in, len);
        }
}

/* ---- UUID syntax ------------------------------------------------------------------------ */

static void test_uuid_valid(void **state)
{
        static const char *const good[] = {
            "0b7e4a5c-9a4f-4e3b-8d3c-2f6a1b9c0d1e",
            "0B7E4A5C-9A4F-4E3B-8D3C-2F6A1B9C0D1E",
            "00000000-0000-0000-0000-000000000000",
        };
        static const char *const bad[] = {
            "",
            "0b7e4a5c-9a4f-4e3b-8d3c-2f6a1b9c0d1",   /* 35 */
            "0b7e4a5c-9a4f-4e3b-8d3c-2f6a1b9c0d1e0", /* 37 */
            "0b7e4a5c9a4f4e3b8d3c2f6a1b9c0d1e",      /* no dashes */
            "0b7e4a5c-9a4f4-e3b-8d3c-2f6a1b9c0d1e",  /* dash moved */
            "0b7e4a5c-9a4f-4e3b-8d3c-2f6a1b9c0d1g",  /* not hex */
            "0b7e4a5c-9a4f-4e3b-8d3c 2f6a1b9c0d1e",
            "0b7e4a5c-9a4f-4e3b-8d3c-2f6a1b9c0d1 ",
            " b7e4a5c-9a4f-4e3b-8d3c-2f6a1b9c0d1e",
            "{b7e4a5c-9a4f-4e3b-8d3c-2f6a1b9c0d1}",
            "0b7e4a5c-9a4f-4e3b-8d3c-2f6a1b9c0d\xc3\xa9",
            "urn:uuid:0b7e4a5c-9a4f-4e3b-8d3c-2f6a",
            "------------------------------------",
        };
        (void)state;

        for (size_t i = 0; i < CB_ARRAY_LEN(good); i++)
                assert_true(cb_uuid_valid(good[i]));
        for (size_t i = 0; i < CB_ARRAY_LEN(bad); i++)
                if (cb_uuid_valid(bad[i]))
                        fail_msg("\"%s\" accepted", bad[i]);
        assert_false(cb_uuid_valid(NULL));
}

/* ---- integers --------------------------------------------------------------------------- */

struct long_case {
        const char *s;
        long min;
        long max;
        bool ok;
        long want;
};

static const struct long_case long_cases[] = {
    {"0", 0, 10, true, 0},
    {"42", 0, 100, true, 42},
    {"-42", -100, 100, true, -42},
    {"+7", 0, 10, true, 7},
    {"010", 0, 100, true, 10}, /* base 10, not octal */
    {"1", 1, 4, true, 1},
    {"4", 1, 4, true, 4},
    {"9223372036854775807", LONG_MIN, LONG_MAX, true, LONG_MAX},
    {"-9223372036854775808", LONG_MIN, LONG_MAX, true, LONG_MIN},
    /* range */
    {"0", 1, 4, false, 0},
    {"5", 1, 4, false, 0},
    {"-1", 0, 10, false, 0},
    /* overflow */
    {"9223372036854775808", LONG_MIN, LONG_MAX, false, 0},
    {"-9223372036854775809", LONG_MIN, LONG_MAX, false, 0},
    {"99999999999999999999999", LONG_MIN, LONG_MAX, false, 0},
    /* garbage */
    {"", LONG_MIN, LONG_MAX, false, 0},
    {" 1", LONG_MIN, LONG_MAX, false, 0},
    {"\t1", LONG_MIN, LONG_MAX, false, 0},
    {"\n1", LONG_MIN, LONG_MAX, false, 0},
    {"1 ", LONG_MIN, LONG_MAX, false, 0},
    {"1\n", LONG_MIN, LONG_MAX, false, 0},
    {"abc", LONG_MIN, LONG_MAX, false, 0},
    {"12abc", LONG_MIN, LONG_MAX, false, 0},
    {"0x10", LONG_MIN, LONG_MAX, false, 0},
    {"1.5", LONG_MIN, LONG_MAX, false, 0},
    {"1e3", LONG_MIN, LONG_MAX, false, 0},
    {"-", LONG_MIN, LONG_MAX, false, 0},
    {"+", LONG_MIN, LONG_MAX, false, 0},
    {"--1", LONG_MIN, LONG_MAX, false, 0},
    {"+-1", LONG_MIN, LONG_MAX, false, 0},
    {"1,000", LONG_MIN, LONG_MAX, false, 0},
};

static void test_parse_long(void **state)
{
        (void)state;
        for (size_t i = 0; i < CB_ARRAY_LEN(long_cases); i++) {
                const struct long_case *c = &long_cases[i];
                long out = 12345;
                bool ok = cb_parse_long(c->s, c->min, c->max, &out);

                if (ok != c->ok || (ok && out != c->want) || (!ok && out != 12345))
                        fail_msg("case %zu: \"%s\" in [%ld, %ld]: got %d %ld", i, c->s, c->min,
                                 c->max, ok, out);
        }
        {
                long out = 12345;
                assert_false(cb_parse_long(NULL, 0, 10, &out));
                assert_int_equal(out, 12345);
        }
}

/* ---- choices and charsets --------------------------------------------------------------- */

static void test_choice_match(void **state)
{
        (void)state;
        assert_true(cb_choice_match("a|bb|c", "bb", false));
        assert_false(cb_choice_match("a|bb|c", "b", false));
        assert_false(cb_choice_match("a|bb|c", "bbb", false));
        assert_false(cb_choice_match("a|bb|c", "", false));
        assert_true(cb_choice_match("http://|https://", "https://x", true));
        assert_false(cb_choice_match("http://|https://", "https://", true)); /* nothing after */
        assert_false(cb_choice_match("http://|https://", "ftp://x", true));
}

static void test_str_charset(void **state)
{
        (void)state;
        assert_true(cb_str_charset("agent.smith@x-1", 64, "._@-"));
        assert_false(cb_str_charset("agent smith", 64, "._@-"));
        assert_false(cb_str_charset("caf\xc3\xa9", 64, "._@-")); /* ASCII only */
        assert_false(cb_str_charset("", 64, "._@-"));
        assert_false(cb_str_charset(NULL, 64, "._@-"));
        assert_true(cb_str_charset("abcd", 4, ""));
        assert_false(cb_str_charset("abcde", 4, ""));
}

/* ---- masking ---------------------------------------------------------------------------- */

struct mask_case {
        const char *in;
        const char *want;
};

static const struct mask_case phone_cases[] = {
    {"+14155550123", "+1415*****23"},
    {"+442079460958", "+4420******58"},
    {"+4930123456", "+4930****56"},
    {"+61298765432", "+6129*****32"},
    {"14155550123", "1415*****23"},
    {"+1 (415) 555-0123", "+1 (415) ***-**23"},
    {"+2901234", "+2901*34"}, /* seven digits: one starred */
    {"", ""},
};

static const struct mask_case digits_cases[] = {
    {"/api/calls?to=14155550123", "/api/calls?to=1415*****23"},
    {"%2B14155550123", "%2B1415*****23"},
    {"1234567", "1234*67"},
    /* punctuated numbers are masked as one number */
    {"/api/lookup?phone=415-555-0123", "/api/lookup?phone=415-5**-**23"},
    {"?phone=%2B1%20(415)%20555-0123", "?phone=%2B1%20(415)%20***-**23"},
    {"1.415.555.0123", "1.415.***.**23"},
    /* more than 15 digits is not a phone number: only long bare runs are masked */
    {"12345678-1234-1234-1234-123456789012", "1234**78-1234-1234-1234-1234******12"},
    {"a4155550123b4155550124c", "a4155****23b4155****24c"},
    /* short digit runs are not phone numbers */
    {"/api/calls?limit=50&since=123456", "/api/calls?limit=50&since=123456"},
    {"/api/calls/0b7e4a5c-9a4f-4e3b-8d3c-2f6a1b9c0d1e",
     "/api/calls/0b7e4a5c-9a4f-4e3b-8d3c-2f6a1b9c0d1e"},
    {"123456", "123456"},
    {"no digits at all", "no digits at all"},
    {"", ""},
};

/* The longest run of consecutive digits in `s`. */
static size_t longest_digit_run(const char *s)
{
        size_t best = 0;

        while (*s != '\0') {
                size_t run = strspn(s, "0123456789");
                if (run > best)
                        best = run;
                s += run > 0 ? run : 1;
        }
        return best;
}

static void test_mask_tables(void **state)
{
        (void)state;
        for (size_t i = 0; i < CB_ARRAY_LEN(phone_cases); i++) {
                char out[64];
                cb_mask_phone(phone_cases[i].in, out, sizeof(out));
                if (strcmp(out, phone_cases[i].want) != 0)
                        fail_msg("mask_phone(\"%s\") = \"%s\", want \"%s\"", phone_cases[i].in, out,
                                 phone_cases[i].want);
        }
        for (size_t i = 0; i < CB_ARRAY_LEN(digits_cases); i++) {
                char out[128];
                cb_mask_digits(digits_cases[i].in, out, sizeof(out));
                if (strcmp(out, digits_cases[i].want) != 0)
                        fail_msg("mask_digits(\"%s\") = \"%s\", want \"%s\"", digits_cases[i].in,
                                 out, digits_cases[i].want);
        }
        {
                char out[8] = "junk";
                cb_mask_phone(NULL, out, sizeof(out));
                assert_string_equal(out, "");
        }
}

/* Whatever the input and the output size, no number of 7+ digits survives in full, the
 * output is NUL-terminated inside its buffer, and nothing past it is written. */
static void test_mask_never_leaks(void **state)
{
        static const char alphabet[] = "0123456789012345678901234567890123456789+-/ ()?=&a";

        (void)state;
        for (int round = 0; round < 2000; round++) {
                char in[80];
                char out[96];
                size_t len = (size_t)(round % 79);
                size_t outlen = 1 + (size_t)(round * 7) % 90;
                uint32_t r[80];

                cb_random(r, sizeof(r));
                for (size_t k = 0; k < len; k++)
                        in[k] = alphabet[r[k] % (sizeof(alphabet) - 1)];
                in[len] = '\0';

                memset(out, '#', sizeof(out));
                cb_mask_digits(in, out, outlen);
                assert_true(strlen(out) < outlen);
                assert_true(longest_digit_run(out) < 7);
                for (size_t k = outlen; k < sizeof(out); k++)
                        assert_int_equal(out[k], '#');

                /* a phone number masked whole keeps at most 6 of its digits in the clear */
                memset(out, '#', sizeof(out));
                cb_mask_phone(in, out, outlen);
                assert_true(strlen(out) < outlen);
                for (size_t k = outlen; k < sizeof(out); k++)
                        assert_int_equal(out[k], '#');
                if (strlen(out) == len) {
                        size_t digits = 0;
                        for (size_t k = 0; k < len; k++)
                                digits += in[k] >= '0' && in[k] <= '9';
                        size_t clear = 0;
                        for (size_t k = 0; out[k] != '\0'; k++)
                                clear += out[k] >= '0' && out[k] <= '9';
                        assert_true(clear <= 6 || clear < digits);
                        if (digits >= 7)
                                assert_int_equal(clear, 6);
                }
        }
}

/* ---- cb_buf ----------------------------------------------------------------------------- */

static void test_buf_caps(void **state)
{
        struct cb_buf b = {.max = 10};
        char big[600];

        (void)state;
        assert_int_equal(cb_buf_append(&b, "hello", 5), 0);
        assert_int_equal(cb_buf_puts(&b, "worl"), 0);
        assert_int_equal(b.len, 9);
        assert_string_equal(b.data, "helloworl");

        /* beyond max: refused, buffer unchanged */
        assert_int_equal(cb_buf_append(&b, "xy", 2), -1);
        assert_int_equal(b.len, 9);
        assert_string_equal(b.data, "helloworl");
        assert_int_equal(cb_buf_printf(&b, "%d", 42), -1);
        assert_int_equal(b.len, 9);
        assert_int_equal(cb_buf_append(&b, "x", SIZE_MAX), -1);
        assert_int_equal(cb_buf_append(&b, "x", SIZE_MAX - 5), -1);
        assert_int_equal(b.len, 9);
        assert_string_equal(b.data, "helloworl");

        /* exactly max is fine; then nothing more, but empty appends still are */
        assert_int_equal(cb_buf_append(&b, "d", 1), 0);
        assert_int_equal(b.len, 10);
        assert_string_equal(b.data, "helloworld");
        assert_int_equal(cb_buf_append(&b, "!", 1), -1);
        assert_int_equal(cb_buf_append(&b, "", 0), 0);
        assert_int_equal(cb_buf_puts(&b, ""), 0);
        assert_string_equal(b.data, "helloworld");
        assert_true(b.alloc <= b.max + 1);

        cb_buf_free(&b);
        assert_null(b.data);
        assert_int_equal(b.len, 0);
        cb_buf_free(&b); /* twice is harmless */

        /* reusable after free; printf longer than its 512-byte fast path */
        b.max = 1000;
        memset(big, 'z', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        assert_int_equal(cb_buf_printf(&b, "<%s>", big), 0);
        assert_int_equal(b.len, sizeof(big) + 1);
        assert_int_equal(b.data[0], '<');
        assert_int_equal(b.data[b.len - 1], '>');
        assert_int_equal(b.data[b.len], '\0');
        assert_int_equal(cb_buf_printf(&b, "%s", big), -1); /* 601 + 599 > 1000 */
        assert_int_equal(b.len, sizeof(big) + 1);
        assert_true(b.alloc <= b.max + 1);
        cb_buf_free(&b);

        /* a zero cap holds only the empty string */
        b = (struct cb_buf){.max = 0};
        assert_int_equal(cb_buf_append(&b, "a", 1), -1);
        assert_int_equal(b.len, 0);
        cb_buf_free(&b);
}

/* Many small appends grow the buffer and keep every byte. */
static void test_buf_growth(void **state)
{
        struct cb_buf b = {.max = 100000};

        (void)state;
        for (int i = 0; i < 10000; i++)
                assert_int_equal(cb_buf_printf(&b, "%d,", i % 10), 0);
        assert_int_equal(b.len, 20000);
        for (size_t i = 0; i < b.len; i += 2) {
                assert_int_equal(b.data[i], '0' + (int)((i / 2) % 10));
                assert_int_equal(b.data[i + 1], ',');
        }
        assert_true(b.alloc <= b.max + 1);
        cb_buf_free(&b);
}

/* ---- copies ----------------------------------------------------------------------------- */

struct strlcpy_case {
        const char *src;
        size_t size;
        bool ok;
        const char *want;
};

static const struct strlcpy_case strlcpy_cases[] = {
    {"abc", 4, true, "abc"}, {"abc", 10, true, "abc"}, {"abc", 3, false, "ab"},
    {"abc", 2, false, "a"},  {"abc", 1, false, ""},    {"", 1, true, ""},
    {"", 5, true, ""},
};

static void test_strlcpy(void **state)
{
        (void)state;
        for (size_t i = 0; i < CB_ARRAY_LEN(strlcpy_cases); i++) {
                const struct strlcpy_case *c = &strlcpy_cases[i];
                char dst[16];

                memset(dst, '#', sizeof(dst));
                assert_int_equal(cb_strlcpy(dst, c->src, c->size), c->ok);
                assert_string_equal(dst, c->want);
                for (size_t k = c->size; k < sizeof(dst); k++)
                        assert_int_equal(dst[k], '#');
        }
        {
                char dst[4] = "old";
                assert_false(cb_strlcpy(dst, "abc", 0));
                assert_string_equal(dst, "old");
        }
}

/* ---- the error registry ----------------------------------------------------------------- */

static bool snake_case(const char *s)
{
        if (s == NULL || !(*s >= 'a' && *s <= 'z'))
                return false;
        for (const char *p = s; *p != '\0'; p++) {
                bool lower = *p >= 'a' && *p <= 'z';
                bool digit = *p >= '0' && *p <= '9';
                if (*p == '_') {
                        if (p[1] == '\0' || p[1] == '_')
                                return false;
                } else if (!lower && !digit) {
                        return false;
                }
        }
        return true;
}

static void test_error_registry(void **state)
{
        (void)state;
        for (int i = 0; i < CB_ERR_COUNT; i++) {
                const struct cb_err_info *e = cb_err_info((enum cb_err)i);

                assert_non_null(e);
                if (!snake_case(e->code))
                        fail_msg("error %d: code \"%s\" is not snake_case", i,
                                 e->code ? e->code : "(null)");
                if (e->status < 400 || e->status > 599)
                        fail_msg("error %s: status %u", e->code, e->status);
                if (e->message == NULL || e->message[0] == '\0')
                        fail_msg("error %s: no message", e->code);
                for (int j = 0; j < i; j++)
                        if (strcmp(cb_err_info((enum cb_err)j)->code, e->code) == 0)
                                fail_msg("code \"%s\" used by %d and %d", e->code, j, i);
        }
        /* out-of-range values never give NULL */
        assert_non_null(cb_err_info(CB_ERR_NONE));
        assert_non_null(cb_err_info((enum cb_err) - 1));
        assert_string_equal(cb_err_info(CB_ERR_NONE)->code, "internal");
}

/* Statuses SPEC §4 fixes. */
static void test_error_statuses(void **state)
{
        static const struct {
                enum cb_err err;
                const char *code;
                unsigned int status;
        } fixed[] = {
            {CB_ERR_MALFORMED_JSON, "malformed_json", 400},
            {CB_ERR_UNAUTHORIZED, "unauthorized", 401},
            {CB_ERR_FORBIDDEN, "forbidden", 403},
            {CB_ERR_NOT_FOUND, "not_found", 404},
            {CB_ERR_METHOD_NOT_ALLOWED, "method_not_allowed", 405},
            {CB_ERR_IDEMPOTENCY_CONFLICT, "idempotency_conflict", 409},
            {CB_ERR_PAYLOAD_TOO_LARGE, "payload_too_large", 413},
            {CB_ERR_URI_TOO_LONG, "uri_too_long", 414},
            {CB_ERR_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", 415},
            {CB_ERR_INVALID_PHONE, "invalid_phone", 422},
            {CB_ERR_RATE_LIMITED, "rate_limited", 429},
            {CB_ERR_NOT_READY, "not_ready", 503},
        };
        (void)state;

        for (size_t i = 0; i < CB_ARRAY_LEN(fixed); i++) {
                assert_string_equal(cb_err_info(fixed[i].err)->code, fixed[i].code);
                assert_int_equal(cb_err_info(fixed[i].err)->status, fixed[i].status);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_base64_vectors),    cmocka_unit_test(test_base64url_round_trip),
            cmocka_unit_test(test_base64url_rejects), cmocka_unit_test(test_base64_rejects),
            cmocka_unit_test(test_uuid_valid),        cmocka_unit_test(test_parse_long),
            cmocka_unit_test(test_choice_match),      cmocka_unit_test(test_str_charset),
            cmocka_unit_test(test_mask_tables),       cmocka_unit_test(test_mask_never_leaks),
            cmocka_unit_test(test_buf_caps),          cmocka_unit_test(test_buf_growth),
            cmocka_unit_test(test_strlcpy),           cmocka_unit_test(test_error_registry),
            cmocka_unit_test(test_error_statuses),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
