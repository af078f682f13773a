/* Which recording URLs the URL form of POST /api/call/record and recording.fetch accept: exactly
 * our account's recording media URL, and a matrix of near misses that must all be refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/telephony.h"

#define BASE "https://api.twilio.com"
#define AC   "AC0123456789abcdef0123456789abcdef"
#define RE   "RE0123456789abcdef0123456789ABCDEF"
#define PATH "/2010-04-01/Accounts/" AC "/Recordings/"

static void test_accepted(void **state)
{
        static const char *const ok[] = {BASE PATH RE, BASE PATH RE ".wav", BASE PATH RE ".mp3"};
        char sid[CB_TWILIO_RE_SID_LEN + 1];

        (void)state;
        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
                memset(sid, 0, sizeof(sid));
                assert_true(cb_twilio_recording_url_sid(BASE, AC, ok[i], sid));
                assert_string_equal(sid, RE);
        }
        /* a base configured with a trailing slash, and a sandbox on loopback */
        assert_true(cb_twilio_recording_url_sid(BASE "/", AC, BASE PATH RE, sid));
        assert_true(cb_twilio_recording_url_sid("http://127.0.0.1:8080", AC,
                                                "http://127.0.0.1:8080" PATH RE, sid));
}

static void test_refused(void **state)
{
        static const char *const bad[] = {
            /* other hosts, schemes, ports, userinfo */
            "https://evil.example.com" PATH RE,
            "https://api.twilio.com.evil.example.com" PATH RE,
            "https://api.twilio.com@evil.example.com" PATH RE,
            "https://evil.example.com@api.twilio.com" PATH RE,
            "http://api.twilio.com" PATH RE,
            "https://api.twilio.com:443" PATH RE,
            "https://api.twilio.com:8443" PATH RE,
            "https://API.TWILIO.COM" PATH RE,
            "//api.twilio.com" PATH RE,
            PATH RE,
            /* dot segments, plain and percent-encoded, and other encodings */
            BASE "/2010-04-01/Accounts/" AC "/Recordings/../Recordings/" RE,
            BASE "/2010-04-01/Accounts/" AC "/Calls/../Recordings/" RE,
            BASE "/2010-04-01/Accounts/" AC "/Recordings/%2e%2e/" RE,
            BASE "/2010-04-01/Accounts/" AC "/Recordings/%2E%2E/Recordings/" RE,
            BASE "/2010-04-01/Accounts/" AC "/./Recordings/" RE,
            BASE "/2010-04-01/Accounts/" AC "/Recordings/%52E0123456789abcdef0123456789ABCDEF",
            BASE "/2010-04-01/Accounts/" AC "/Recordings/" RE "%2ewav",
            BASE "/2010-04-01/Accounts/" AC "//Recordings/" RE,
            BASE "//2010-04-01/Accounts/" AC "/Recordings/" RE,
            /* other accounts, paths, resources */
            BASE "/2010-04-01/Accounts/AC0000000000000000000000000000000f/Recordings/" RE,
            BASE "/2010-04-01/Accounts/" AC "/Calls/CA0123456789abcdef0123456789abcdef",
            BASE "/2010-04-01/Accounts/" AC "/Recordings/" RE "/Transcriptions",
            BASE "/2010-04-01/Accounts/" AC "/Recordings/" RE ".json",
            BASE "/2010-04-01/Accounts/" AC "/Recordings/" RE ".wav/x",
            BASE "/2010-04-01/Accounts/" AC "/Recordings/" RE ".WAV",
            BASE "/2010-04-01/Accounts/" AC "/Recordings/" RE "/",
            BASE "/v1/Accounts/" AC "/Recordings/" RE,
            BASE "/2010-04-01/Accounts/" AC "/Recordings.json",
            /* queries and fragments */
            BASE PATH RE "?RequestedChannels=2",
            BASE PATH RE ".wav?x=1",
            BASE PATH RE "?",
            BASE PATH RE "#x",
            /* malformed sids */
            BASE PATH "RE0123456789abcdef0123456789abcde",
            BASE PATH "RE0123456789abcdef0123456789abcdef0",
            BASE PATH "RE0123456789abcdef0123456789abcdeg",
            BASE PATH "re0123456789abcdef0123456789abcdef",
            BASE PATH "CA0123456789abcdef0123456789abcdef",
            BASE PATH,
            "",
        };
        char sid[CB_TWILIO_RE_SID_LEN + 1] = "untouched";

        (void)state;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (cb_twilio_recording_url_sid(BASE, AC, bad[i], sid))
                        fail_msg("accepted %s", bad[i]);
        assert_string_equal(sid, "untouched");
        assert_false(cb_twilio_recording_url_sid(BASE, AC, NULL, sid));
        assert_false(cb_twilio_recording_url_sid("", AC, PATH RE, sid));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_accepted),
            cmocka_unit_test(test_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
