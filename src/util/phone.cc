/* Phone numbers: the extern "C" shim over libphonenumber declared in callbridge/phone.h.
 *
 * Acceptance rule: a number is accepted when libphonenumber parses it and
 * IsPossibleNumberWithReason() says IS_POSSIBLE, i.e. its length fits a full (not
 * local-only) number of its country. We deliberately do not require IsValidNumber():
 * the distribution's metadata ages (new area codes and mobile ranges appear every year),
 * and refusing a real customer's number at click-to-dial or screen pop is worse than
 * letting Twilio or the CRM lookup fail on an unassigned one later. Local-only numbers
 * ("555-0123" in the US) are refused because their E.164 form would be wrong.
 *
 * Nothing here throws across the C boundary and nothing aborts: every libphonenumber
 * call sits inside a catch-all, and any failure is reported as -1 with `out` emptied. */
#include "callbridge/phone.h"

#include <cstring>
#include <string>

#include <phonenumbers/phonenumberutil.h>

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

namespace
{

/* Longest input we look at; anything longer is refused before parsing. */
constexpr size_t max_input_len = 64;
/* E.164 is '+' plus at most 15 digits. */
constexpr size_t max_e164_len = 16;

/* Upper-case copy of a region code ("us" -> "US"); "ZZ" (unknown) for NULL, empty or
 * over-long codes, which makes libphonenumber accept only numbers starting with '+'. */
std::string region_upper(const char *region)
{
        std::string r;
        if (region == nullptr || region[0] == '\0' || std::strlen(region) > 3)
                return "ZZ";
        for (const char *p = region; *p != '\0'; p++)
                r += (*p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A') : *p;
        return r;
}

/* True when `s` starts, after blanks, with "00". */
bool has_00_prefix(const char *s)
{
        while (*s == ' ' || *s == '\t')
                s++;
        return s[0] == '0' && s[1] == '0';
}

/* Parse `text` as read from `region`; true when the result is a full possible number.
 * On false, `n` holds whatever was parsed (possibly nothing). */
bool parse_possible(const PhoneNumberUtil &util, const std::string &text, const std::string &region,
                    PhoneNumber *n)
{
        n->Clear();
        /* ParseAndKeepRawInput also records how the country code was found. */
        if (util.ParseAndKeepRawInput(text, region, n) != PhoneNumberUtil::NO_PARSING_ERROR)
                return false;
        if (n->national_number() == 0)
                return false;
        return util.IsPossibleNumberWithReason(*n) == PhoneNumberUtil::IS_POSSIBLE;
}

/* The conversion proper; may throw (std::bad_alloc). True with `out` filled on success. */
bool to_e164(const char *input, const char *default_region, char *out, size_t out_size)
{
        const PhoneNumberUtil &util = *PhoneNumberUtil::GetInstance();
        const std::string region = region_upper(default_region);
        std::string e164, again;
        PhoneNumber n;
        bool ok = parse_possible(util, input, region, &n);

        /* A leading "00" means international even where the region's own international
         * prefix is something else (011 in the US, 0011 in AU): if libphonenumber did
         * not take "00" as an international prefix, read it as '+'. */
        if (has_00_prefix(input) &&
            (!ok || n.country_code_source() == PhoneNumber::FROM_DEFAULT_COUNTRY)) {
                std::string plus(input);
                plus.replace(plus.find("00"), 2, "+");
                ok = parse_possible(util, plus, region, &n);
        }
        if (!ok)
                return false;

        /* national_number() != 0 here, so Format() cannot fall back to echoing the raw
         * input; the checks below still refuse anything that is not '+' and digits. */
        util.Format(n, PhoneNumberUtil::E164, &e164);
        if (e164.size() < 2 || e164.size() > max_e164_len || e164[0] != '+' ||
            e164.find_first_not_of("0123456789", 1) != std::string::npos || e164.size() >= out_size)
                return false;
        /* Canonical or refused: an E.164 form that reads back as another number (a national
         * number with a leading trunk zero: "+64 0006400" formats as "+640006400", which
         * parses as "+64006400") would be stored and compared as a number Twilio never
         * reports. */
        if (!parse_possible(util, e164, "ZZ", &n))
                return false;
        util.Format(n, PhoneNumberUtil::E164, &again);
        if (again != e164)
                return false;
        std::memcpy(out, e164.c_str(), e164.size() + 1);
        return true;
}

} // namespace

extern "C" int cb_phone_to_e164(const char *input, const char *default_region, char *out,
                                size_t out_size)
{
        bool ok = false;

        if (out == nullptr || out_size == 0)
                return -1;
        out[0] = '\0';
        if (input == nullptr || strnlen(input, max_input_len + 1) > max_input_len)
                return -1;
        try {
                ok = to_e164(input, default_region, out, out_size);
        } catch (...) {
                ok = false; /* bad_alloc or anything unexpected from the library */
        }
        if (!ok)
                out[0] = '\0';
        return ok ? 0 : -1;
}

extern "C" int cb_phone_region_valid(const char *region)
{
        if (region == nullptr || region[0] == '\0' || std::strlen(region) > 3)
                return 0;
        try {
                const PhoneNumberUtil &util = *PhoneNumberUtil::GetInstance();
                /* 0 for unknown codes, "ZZ" and the non-geographic "001". */
                return util.GetCountryCodeForRegion(region_upper(region)) != 0;
        } catch (...) {
                return 0;
        }
}

extern "C" int cb_phone_national_digits(const char *e164, char *out, size_t out_size)
{
        if (out == nullptr || out_size == 0)
                return -1;
        out[0] = '\0';
        if (e164 == nullptr || e164[0] != '+' || strnlen(e164, max_input_len + 1) > max_input_len)
                return -1;
        try {
                const PhoneNumberUtil &util = *PhoneNumberUtil::GetInstance();
                std::string digits;
                PhoneNumber n;
                if (util.Parse(e164, "ZZ", &n) != PhoneNumberUtil::NO_PARSING_ERROR ||
                    n.national_number() == 0)
                        return -1;
                util.GetNationalSignificantNumber(n, &digits);
                if (digits.empty() || digits.size() >= out_size)
                        return -1;
                std::memcpy(out, digits.c_str(), digits.size() + 1);
                return 0;
        } catch (...) {
                out[0] = '\0';
                return -1;
        }
}

extern "C" int cb_phone_format_international(const char *e164, char *out, size_t out_size)
{
        if (out == nullptr || out_size == 0)
                return -1;
        out[0] = '\0';
        if (e164 == nullptr || e164[0] != '+' || std::strlen(e164) > max_e164_len)
                return -1;
        try {
                const PhoneNumberUtil &util = *PhoneNumberUtil::GetInstance();
                PhoneNumber n;
                std::string text;
                if (util.Parse(e164, "ZZ", &n) != PhoneNumberUtil::NO_PARSING_ERROR)
                        return -1;
                util.Format(n, PhoneNumberUtil::INTERNATIONAL, &text);
                if (text.empty() || text.size() + 1 > out_size)
                        return -1;
                std::memcpy(out, text.c_str(), text.size() + 1);
                return 0;
        } catch (...) {
                out[0] = '\0';
                return -1;
        }
}
