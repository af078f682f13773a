/* TwiML answers (src/telephony/twilio_webhook.c): every value lands in the document as XML 1.0
 * character data, whatever its bytes. Found by tests/fuzz/fuzz_twiml: control characters and
 * ill-formed UTF-8 were copied as they were, so Twilio got a document no XML parser accepts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "twilio_int.h"

#define HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>"
#define FFFD "\xef\xbf\xbd"

static void test_say_escapes_markup(void **state)
{
        struct cb_buf out = {.max = 4096};

        (void)state;
        assert_int_equal(cb_twiml_say_hangup(&out, "Tom & \"Jerry\" <ltd> 'n' caf\xc3\xa9"), 0);
        assert_string_equal(out.data, HEAD "<Say>Tom &amp; &quot;Jerry&quot; &lt;ltd&gt; "
                                           "&apos;n&apos; caf\xc3\xa9</Say><Hangup/></Response>");
        cb_buf_free(&out);
}

/* Characters XML forbids (C0 controls, ill-formed or overlong UTF-8, surrogates, U+FFFE)
 * become U+FFFD; tab, line feed and carriage return become character references. */
static void test_say_replaces_illegal_characters(void **state)
{
        struct cb_buf out = {.max = 4096};

        (void)state;
        assert_int_equal(cb_twiml_say_hangup(&out, "a\x01"
                                                   "b\xff"
                                                   "c\xc3"
                                                   "d\xc0\xaf"
                                                   "e\xed\xa0\x80"
                                                   "f\xef\xbf\xbe"
                                                   "g\t\n\r"),
                         0);
        assert_string_equal(out.data,
                            HEAD "<Say>a" FFFD "b" FFFD "c" FFFD "d" FFFD FFFD "e" FFFD FFFD FFFD
                                 "f" FFFD FFFD FFFD "g&#9;&#10;&#13;</Say><Hangup/></Response>");
        cb_buf_free(&out);
}

static void test_dial_attribute_keeps_line_breaks(void **state)
{
        struct cb_buf out = {.max = 4096};

        (void)state;
        assert_int_equal(cb_twiml_dial_number(&out, "+14155550123", "+1\n\"x", 30), 0);
        assert_string_equal(out.data, HEAD "<Dial answerOnBridge=\"true\" timeout=\"30\" "
                                           "callerId=\"+1&#10;&quot;x\"><Number>+14155550123"
                                           "</Number></Dial></Response>");
        cb_buf_free(&out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_say_escapes_markup),
            cmocka_unit_test(test_say_replaces_illegal_characters),
            cmocka_unit_test(test_dial_attribute_keeps_line_breaks),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
