/* Phone normalisation (src/util/phone.cc over libphonenumber): numbers typed by agents and
 * sent by Twilio. Input: a region code, a '\n', then the number as typed. Properties: an
 * accepted number comes out as '+' and 2..15 digits; normalising that again (from any region)
 * gives it back; its national digits are a proper suffix of it; a too-small output buffer is
 * refused cleanly (empty string, nothing written past it); a refusal empties the output. */
#include <ctype.h>

#include "callbridge/phone.h"
#include "fuzz.h"

static void check_e164(const char *e164)
{
        size_t n = strlen(e164);
        char again[32], digits[32];

        FUZZ_CHECK(n >= 3 && n <= 16 && e164[0] == '+');
        for (size_t i = 1; i < n; i++)
                FUZZ_CHECK(isdigit((unsigned char)e164[i]));
        FUZZ_CHECK(cb_phone_to_e164(e164, "ZZ", again, sizeof(again)) == 0);
        FUZZ_CHECK(strcmp(again, e164) == 0);
        FUZZ_CHECK(cb_phone_to_e164(e164, "GB", again, sizeof(again)) == 0);
        FUZZ_CHECK(strcmp(again, e164) == 0);
        FUZZ_CHECK(cb_phone_national_digits(e164, digits, sizeof(digits)) == 0);
        FUZZ_CHECK(strlen(digits) > 0 && strlen(digits) < n - 1);
        FUZZ_CHECK(strcmp(e164 + n - strlen(digits), digits) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_in in = {data, size};
        char *region = fuzz_field(&in, '\n', NULL);
        char *number = fuzz_field(&in, '\0', NULL);
        char out[32];
        /* A heap buffer of the exact size asked for, so ASan sees a write past it. */
        size_t small = size % 17 + 1;
        char *tight = malloc(small);

        FUZZ_CHECK(tight != NULL);
        (void)cb_phone_region_valid(region);
        if (cb_phone_to_e164(number, region, out, sizeof(out)) == 0) {
                check_e164(out);
                if (cb_phone_to_e164(number, region, tight, small) == 0)
                        FUZZ_CHECK(strcmp(tight, out) == 0);
                else
                        FUZZ_CHECK(strlen(out) >= small && tight[0] == '\0');
        } else {
                FUZZ_CHECK(out[0] == '\0');
        }
        if (cb_phone_national_digits(number, out, sizeof(out)) != 0)
                FUZZ_CHECK(out[0] == '\0');
        free(tight);
        free(region);
        free(number);
        return 0;
}
