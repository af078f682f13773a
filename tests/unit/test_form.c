/* The application/x-www-form-urlencoded codec (src/util/form.c): decoding ('+', %XX,
 * empty pairs, no '='), what it rejects (bad or NUL escapes, NUL bytes, too many pairs),
 * encoding, and encode/parse round trips. Expected encodings follow the WHATWG URL
 * standard's application/x-www-form-urlencoded serializer, except that '*' is escaped (we
 * keep only RFC 3986 unreserved characters) — both decode to the same bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/form.h"
#include "callbridge/util.h"

struct parse_case {
        const char *in;
        size_t len;       /* 0: strlen(in) */
        const char *want; /* decoded pairs as "name=value|name=value", NULL: rejected */
};

static const struct parse_case parse_cases[] = {
    {"a=1&b=2", 0, "a=1|b=2"},
    {"", 0, ""},
    {"a=x+y", 0, "a=x y"},
    {"a=x%2By", 0, "a=x+y"},
    {"a=%41%62%7a%5A", 0, "a=AbzZ"}, /* both cases of hex digits */
    {"a+b=c+d", 0, "a b=c d"},       /* names are decoded too */
    {"%3D=%26", 0, "==&"},           /* escaped separators are data */
    {"a=b=c", 0, "a=b=c"},           /* the first '=' splits */
    {"a", 0, "a="},                  /* no '=': an empty value */
    {"a=", 0, "a="},
    {"=v", 0, "=v"}, /* an empty name is kept */
    {"&&a=1&&&b=2&", 0, "a=1|b=2"},
    {"&", 0, ""},
    {"a=1&a=2&a=1", 0, "a=1|a=2|a=1"}, /* order and repeats kept */
    {"Body=Zo%C3%AB+%E5%8C%97%E4%BA%AC+%F0%9F%98%80", 0,
     "Body=Zo\xc3\xab \xe5\x8c\x97\xe4\xba\xac \xf0\x9f\x98\x80"},
    {"a=%FF%80", 0, "a=\xff\x80"}, /* bytes, not checked as UTF-8 */
    {"a=1&b=2", 3, "a=1"},         /* only `len` bytes are read */
    {"a=%41", 5, "a=A"},           /* an escape ending exactly at `len` */
    /* rejected */
    {"a=%G1", 0, NULL},
    {"a=%1G", 0, NULL},
    {"a=%4", 0, NULL},
    {"a=%", 0, NULL},
    {"a=%%41", 0, NULL},
    {"%zz=1", 0, NULL},
    {"a=%00", 0, NULL},
    {"a=1&b=%00x", 0, NULL}, /* the pairs before it are dropped too */
    {"a=%41", 4, NULL},      /* "%4" once cut at `len` */
    {"a=1\0b", 5, NULL},     /* a raw NUL byte */
    {"a\0=1", 4, NULL},
};

/* "n=v|n=v" from a form. */
static void join(const struct cb_form *form, char *out, size_t size)
{
        size_t o = 0;

        out[0] = '\0';
        for (size_t i = 0; i < form->n; i++)
                o += (size_t)snprintf(out + o, size - o, "%s%s=%s", i ? "|" : "", form->p[i].name,
                                      form->p[i].value);
        assert_true(o < size);
}

static void test_parse(void **state)
{
        (void)state;
        for (size_t i = 0; i < CB_ARRAY_LEN(parse_cases); i++) {
                const struct parse_case *c = &parse_cases[i];
                struct cb_form form = {0};
                size_t len = c->len ? c->len : strlen(c->in);
                int rc = cb_form_parse(&form, c->in, len);
                char got[512];

                if (c->want == NULL) {
                        if (rc != -1)
                                fail_msg("case %zu (%s): accepted", i, c->in);
                        assert_int_equal(form.n, 0);
                        assert_null(form.p);
                        continue;
                }
                if (rc != 0)
                        fail_msg("case %zu (%s): rejected", i, c->in);
                join(&form, got, sizeof(got));
                if (strcmp(got, c->want) != 0)
                        fail_msg("case %zu (%s): got \"%s\" want \"%s\"", i, c->in, got, c->want);
                cb_form_free(&form);
        }
}

static void test_get(void **state)
{
        struct cb_form form = {0};
        const char *in = "CallSid=CA1&Digits=1&Digits=2&Empty=";

        (void)state;
        assert_int_equal(cb_form_parse(&form, in, strlen(in)), 0);
        assert_string_equal(cb_form_get(&form, "CallSid"), "CA1");
        assert_string_equal(cb_form_get(&form, "Digits"), "1"); /* the first */
        assert_string_equal(cb_form_get(&form, "Empty"), "");
        assert_null(cb_form_get(&form, "callsid")); /* names are case-sensitive */
        assert_null(cb_form_get(&form, "Missing"));
        cb_form_free(&form);
        assert_int_equal(form.n, 0);
        assert_null(cb_form_get(&form, "CallSid"));
        cb_form_free(&form); /* twice is harmless */
}

/* CB_FORM_MAX_PARAMS pairs parse; one more fails as a whole, by parse or by add. */
static void test_cap(void **state)
{
        struct cb_buf in = {.max = 1 << 20};
        struct cb_form form = {0};
        char pair[32];

        (void)state;
        for (int i = 0; i < CB_FORM_MAX_PARAMS; i++) {
                int n = snprintf(pair, sizeof(pair), "%sp%d=%d", i ? "&" : "", i, i);
                assert_int_equal(cb_buf_append(&in, pair, (size_t)n), 0);
        }
        assert_int_equal(cb_form_parse(&form, in.data, in.len), 0);
        assert_int_equal(form.n, CB_FORM_MAX_PARAMS);
        assert_string_equal(form.p[CB_FORM_MAX_PARAMS - 1].name, "p255");
        assert_int_equal(cb_form_add(&form, "one", "more"), -1);
        assert_int_equal(form.n, CB_FORM_MAX_PARAMS);
        cb_form_free(&form);

        /* empty pairs do not count */
        assert_int_equal(cb_buf_append(&in, "&&&", 3), 0);
        assert_int_equal(cb_form_parse(&form, in.data, in.len), 0);
        cb_form_free(&form);
        assert_int_equal(cb_buf_append(&in, "&x=1", 4), 0);
        assert_int_equal(cb_form_parse(&form, in.data, in.len), -1);
        assert_int_equal(form.n, 0);
        cb_buf_free(&in);
}

struct encode_case {
        const char *name;
        const char *value;
        const char *want;
};

static const struct encode_case encode_cases[] = {
    {"a", "1", "a=1"},
    {"Body", "hello world", "Body=hello+world"},
    {"To", "+14155550123", "To=%2B14155550123"},
    /* RFC 3986 unreserved characters are kept */
    {"k", "AZaz09-._~", "k=AZaz09-._~"},
    /* reserved and other ASCII characters are escaped, upper-case hex */
    {"k", ":/?#[]@!$&'()*+,;=", "k=%3A%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D"},
    {"k", "%\"<>\\^`{|}", "k=%25%22%3C%3E%5C%5E%60%7B%7C%7D"},
    {"k", "\x01\t\n\x7f", "k=%01%09%0A%7F"},
    {"a b&c=d", "x", "a+b%26c%3Dd=x"}, /* names too */
    {"k", "", "k="},
    {"", "v", "=v"},
    /* UTF-8 bytes, one escape each */
    {"k", "Zo\xc3\xab \xe5\x8c\x97 \xf0\x9f\x98\x80", "k=Zo%C3%AB+%E5%8C%97+%F0%9F%98%80"},
};

static void test_encode(void **state)
{
        (void)state;
        for (size_t i = 0; i < CB_ARRAY_LEN(encode_cases); i++) {
                const struct encode_case *c = &encode_cases[i];
                struct cb_form form = {0};
                struct cb_buf out = {.max = 4096};

                assert_int_equal(cb_form_add(&form, c->name, c->value), 0);
                assert_int_equal(cb_form_encode(&form, &out), 0);
                if (strcmp(out.data, c->want) != 0)
                        fail_msg("case %zu: got \"%s\" want \"%s\"", i, out.data, c->want);
                cb_form_free(&form);
                cb_buf_free(&out);
        }
}

/* Every byte 0x01-0xff in names and values survives encode then parse; several pairs keep
 * their order and repeats. */
static void test_round_trip(void **state)
{
        struct cb_form form = {0}, back = {0};
        struct cb_buf out = {.max = 1 << 16};
        char all[256];

        (void)state;
        for (int i = 1; i < 256; i++)
                all[i - 1] = (char)i;
        all[255] = '\0';
        assert_int_equal(cb_form_add(&form, all, all), 0);
        assert_int_equal(cb_form_add(&form, "To", "+1 (415) 555-0123"), 0);
        assert_int_equal(cb_form_add(&form, "To", "a=b&c"), 0);
        assert_int_equal(cb_form_add(&form, "", ""), 0);
        assert_int_equal(cb_form_add(&form, "\xe5\x8c\x97\xe4\xba\xac", "\xf0\x9f\x98\x80"), 0);
        assert_int_equal(cb_form_encode(&form, &out), 0);
        assert_null(memchr(out.data, ' ', out.len));
        assert_int_equal(cb_form_parse(&back, out.data, out.len), 0);
        /* "=" (an empty name and value) comes back; a truly empty pair would not */
        assert_int_equal(back.n, form.n);
        for (size_t i = 0; i < form.n; i++) {
                assert_string_equal(back.p[i].name, form.p[i].name);
                assert_string_equal(back.p[i].value, form.p[i].value);
        }
        cb_form_free(&form);
        cb_form_free(&back);
        cb_buf_free(&out);
}

/* The output buffer's cap is reported, not overrun. */
static void test_encode_cap(void **state)
{
        struct cb_form form = {0};
        struct cb_buf out = {.max = 8};

        (void)state;
        assert_int_equal(cb_form_add(&form, "k", "12345"), 0);
        assert_int_equal(cb_form_encode(&form, &out), 0); /* "k=12345": 7 bytes */
        cb_buf_free(&out);
        out = (struct cb_buf){.max = 8};
        assert_int_equal(cb_form_add(&form, "x", "y"), 0);
        assert_int_equal(cb_form_encode(&form, &out), -1);
        assert_true(out.len <= 8);
        cb_buf_free(&out);
        cb_form_free(&form);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_parse),      cmocka_unit_test(test_get),
            cmocka_unit_test(test_cap),        cmocka_unit_test(test_encode),
            cmocka_unit_test(test_round_trip), cmocka_unit_test(test_encode_cap),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
