/* PII redaction (src/nlp/redact.c): each kind written and spoken, Luhn and SSN negatives,
 * ordinary numbers left alone (counts, times, prices, dates), the [nlp] redact list, a speech
 * result's text and segments, the counts by kind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/redact.h"
#include "callbridge/config.h"
#include "callbridge/util.h"
#include "kinds.h"

/* `in` redacted with every kind is `want`. */
static void check(const char *in, const char *want)
{
        char *out = cb_redact_text(in, CB_REDACT_ALL, "US", NULL);

        assert_non_null(out);
        if (strcmp(out, want) != 0)
                fail_msg("redact(\"%s\")\n   got \"%s\"\n  want \"%s\"", in, out, want);
        free(out);
}

static void unchanged(const char *in)
{
        check(in, in);
}

static void test_cards(void **state)
{
        (void)state;
        check("my card is 4111 1111 1111 1111 thanks", "my card is [card] thanks");
        check("4111-1111-1111-1111", "[card]");
        check("card 4111111111111111.", "card [card].");
        check("amex 3782 822463 10005 ok", "amex [card] ok");
        check("it's 5555555555554444 expiring 12/27", "it's [card] expiring 12/27");
        /* Luhn negatives: one digit off, and too short / too long. */
        unchanged("my card is 4111 1111 1111 1112 thanks");
        unchanged("ref 411111111111 ok");
        unchanged("00000000000000000");
}

static void test_cards_spoken(void **state)
{
        (void)state;
        check("it is four one one one one one one one one one one one one one one one okay",
              "it is [card] okay");
        check("four one one one, one one one one, one one one one, one one one one.", "[card].");
        check("Four one one one one one one one one one one one one one one one", "[card]");
        check("five five five five five five five five five five five five four four four four",
              "[card]");
        check("four double one one one one one one one one one one one one one one", "[card]");
        unchanged("four one one one one one one one one one one one one one one two");
        /* A leading zero does not change the Luhn sum: "oh" goes with the card. */
        check("oh, four one one one one one one one one one one one one one one one", "[card]");
        check("oh, four one one one one one one one one one one one one one one two",
              "oh, four one one one one one one one one one one one one one one two");
        check("123-45-6789 4155550142", "[ssn] [phone]");
        check("zero four one five five five five oh one four two", "zero [phone]");
}

static void test_ssn(void **state)
{
        (void)state;
        check("my social is 123-45-6789.", "my social is [ssn].");
        check("ssn 123 45 6789 right", "ssn [ssn] right");
        check("it's one two three four five six seven eight nine", "it's [ssn]");
        check("one two three, four five, six seven eight nine", "[ssn]");
        check("one two three four oh six seven eight nine", "[ssn]");
        /* Not issued: area 000, 666, 9xx; group 00; serial 0000. Nine plain digits. */
        unchanged("id 000-12-3456");
        unchanged("id 666-12-3456");
        unchanged("id 123-00-4567");
        unchanged("id 123-45-0000");
        unchanged("order 123456789 shipped");
}

static void test_email(void **state)
{
        (void)state;
        check("mail john.smith@example.com today", "mail [email] today");
        check("write to a_b+c@mail.example.co.uk.", "write to [email].");
        check("it's john at example dot com okay", "it's [email] okay");
        check("John dot Smith at Acme dot co dot uk", "[email]");
        check("send it to jane at example.com", "send it to [email]");
        check("mail j42 at example dot io please", "mail [email] please");
        unchanged("meet me at the office at noon");
        unchanged("we're at acme dot and then some");
        unchanged("look at example dot notatld");
        unchanged("rate is 5@ 10");
}

static void test_phone(void **state)
{
        (void)state;
        check("call me on (415) 555-0142 tomorrow", "call me on [phone] tomorrow");
        check("call +1 415 555 0142", "call [phone]");
        check("it's 415.555.0142", "it's [phone]");
        check("uk +44 20 7946 0958 office", "uk [phone] office");
        check("four one five five five five oh one four two", "[phone]");
        check("four one five, five five five, oh one four two.", "[phone].");
        check("my number is 4155550142 and my card is 4111111111111111",
              "my number is [phone] and my card is [card]");
}

/* Numbers that are not personal: none of them changes. */
static void test_no_false_positives(void **state)
{
        (void)state;
        unchanged("we need fifty seats by next quarter");
        unchanged("let's talk at three thirty on Tuesday");
        unchanged("the call is at 10:30 and lasts 45 minutes");
        unchanged("it costs $1,299.99 per year, or $4155550142 in total");
        unchanged("it costs $ 4111111111111111 which is silly");
        unchanged("we have 1,000,000 users and 250 seats");
        unchanged("on 2024-03-15 we signed for 12 months");
        unchanged("one two three, let's go");
        unchanged("oh no, two of them left at one");
        unchanged("version 1.2.3.4 shipped");
        unchanged("the 4th and 5th of June");
        unchanged("");
}

static void test_kinds(void **state)
{
        unsigned k = 99, counts[CB_REDACT_NKINDS] = {0};
        char err[128];
        char *out;

        (void)state;
        assert_int_equal(cb_redact_parse("cards, ssn, email, phone", &k, err, sizeof(err)), 0);
        assert_int_equal(k, CB_REDACT_ALL);
        assert_int_equal(cb_redact_parse("all", &k, err, sizeof(err)), 0);
        assert_int_equal(k, CB_REDACT_ALL);
        assert_int_equal(cb_redact_parse("none", &k, err, sizeof(err)), 0);
        assert_int_equal(k, 0);
        assert_int_equal(cb_redact_parse("", &k, err, sizeof(err)), 0);
        assert_int_equal(k, 0);
        assert_int_equal(cb_redact_parse(" Cards ,EMAIL", &k, err, sizeof(err)), 0);
        assert_int_equal(k, 1u << CB_REDACT_CARD | 1u << CB_REDACT_EMAIL);
        assert_int_equal(cb_redact_parse("cards, passport", &k, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "passport"));
        assert_string_equal(cb_redact_kind_name(CB_REDACT_PHONE), "phone");
        assert_null(cb_redact_kind_name(CB_REDACT_NKINDS));

        /* Only the kinds asked for. */
        out = cb_redact_text("4111111111111111 a@b.com 123-45-6789 4155550142",
                             1u << CB_REDACT_CARD | 1u << CB_REDACT_PHONE, NULL, counts);
        assert_string_equal(out, "[card] a@b.com 123-45-6789 [phone]");
        assert_int_equal(counts[CB_REDACT_CARD], 1);
        assert_int_equal(counts[CB_REDACT_PHONE], 1);
        assert_int_equal(counts[CB_REDACT_EMAIL], 0);
        free(out);
        out = cb_redact_text("a@b.com 4111111111111111", 0, NULL, NULL);
        assert_string_equal(out, "a@b.com 4111111111111111");
        free(out);
}

/* Partials: a number still being said is hidden until it is complete. */
static void test_partial(void **state)
{
        unsigned k = CB_REDACT_ALL | CB_REDACT_PARTIAL, counts[CB_REDACT_NKINDS] = {0};
        char *out;

        (void)state;
        out = cb_redact_text("it's four one one one one", k, "US", counts);
        assert_string_equal(out, "it's [number]");
        free(out);
        out = cb_redact_text("card 4111 1111 1111 1111 then 4155", k, "US", counts);
        assert_string_equal(out, "card [card] then [number]");
        free(out);
        out = cb_redact_text("it's four one one one one, right", k, "US", counts);
        assert_string_equal(out, "it's four one one one one, right");
        free(out);
        out = cb_redact_text("we need fifty seats at 10", k, "US", counts);
        assert_string_equal(out, "we need fifty seats at 10");
        free(out);
        out = cb_redact_text("it's four one one one one", CB_REDACT_PARTIAL, "US", counts);
        assert_string_equal(out, "it's four one one one one"); /* redaction off */
        free(out);
        assert_int_equal(counts[CB_REDACT_CARD], 1);
        assert_int_equal(counts[CB_REDACT_PHONE] + counts[CB_REDACT_SSN], 0);
}

static void test_result(void **state)
{
        unsigned counts[CB_REDACT_NKINDS] = {0};
        json_t *r = json_pack("{s:s,s:[{s:f,s:s},{s:f,s:s}],s:s}", "text",
                              "card 4111 1111 1111 1111 mail a@b.com", "segments", "start", 0.0,
                              "text", "card 4111 1111 1111 1111", "start", 2.0, "text",
                              "mail a@b.com", "engine", "x");
        struct cb_buf m = {.max = 1 << 20};

        (void)state;
        assert_int_equal(cb_redact_result(r, CB_REDACT_ALL, "US", counts), 4);
        assert_string_equal(json_string_value(json_object_get(r, "text")),
                            "card [card] mail [email]");
        assert_string_equal(json_string_value(json_object_get(
                                json_array_get(json_object_get(r, "segments"), 0), "text")),
                            "card [card]");
        assert_string_equal(json_string_value(json_object_get(
                                json_array_get(json_object_get(r, "segments"), 1), "text")),
                            "mail [email]");
        assert_int_equal(counts[CB_REDACT_CARD], 1); /* the text's, not the segments' again */
        assert_int_equal(counts[CB_REDACT_EMAIL], 1);
        assert_int_equal(cb_redact_result(r, 0, "US", counts), 0);
        json_decref(r);

        cb_redact_count(counts);
        cb_redact_metrics_write(&m);
        assert_non_null(m.data);
        assert_non_null(strstr(m.data, "callbridge_redactions_total{kind=\"cards\"} 1\n"));
        assert_non_null(strstr(m.data, "callbridge_redactions_total{kind=\"ssn\"} 0\n"));
        cb_buf_free(&m);
}

/* stt.transcribe's step (src/jobs/redact_result.c): the result masked in place; with
 * redact_keep_original the unmasked copy for the sealed document, only when something was
 * masked; an unparsable list (refused by --check-config) masks everything. */
static void test_job_result(void **state)
{
        struct cb_config cfg = {0};
        json_t *r = json_pack("{s:s,s:[{s:s}]}", "text", "call 415 555 0142", "segments", "text",
                              "call 415 555 0142");
        json_t *orig = NULL;

        (void)state;
        cfg.server.default_region = "US";
        cfg.nlp.redact = "phone";
        cfg.nlp.redact_keep_original = true;
        assert_int_equal(cb_job_redact_result(&cfg, r, &orig), 2);
        assert_string_equal(json_string_value(json_object_get(r, "text")), "call [phone]");
        assert_non_null(orig);
        assert_string_equal(json_string_value(json_object_get(orig, "text")), "call 415 555 0142");
        json_decref(orig);
        assert_int_equal(cb_job_redact_result(&cfg, r, &orig), 0); /* nothing left */
        assert_null(orig);
        json_decref(r);

        r = json_pack("{s:s}", "text", "a@b.com");
        cfg.nlp.redact = "bogus";
        cfg.nlp.redact_keep_original = false;
        assert_int_equal(cb_job_redact_result(&cfg, r, &orig), 1);
        assert_null(orig);
        assert_string_equal(json_string_value(json_object_get(r, "text")), "[email]");
        cfg.nlp.redact = "none";
        json_object_set_new(r, "text", json_string("a@b.com"));
        assert_int_equal(cb_job_redact_result(&cfg, r, &orig), 0);
        assert_string_equal(json_string_value(json_object_get(r, "text")), "a@b.com");
        json_decref(r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_cards),   cmocka_unit_test(test_cards_spoken),
            cmocka_unit_test(test_ssn),     cmocka_unit_test(test_email),
            cmocka_unit_test(test_phone),   cmocka_unit_test(test_no_false_positives),
            cmocka_unit_test(test_kinds),   cmocka_unit_test(test_result),
            cmocka_unit_test(test_partial), cmocka_unit_test(test_job_result),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
