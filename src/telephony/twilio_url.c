/* Which URLs are recordings of our Twilio account: one exact shape, compared byte for byte, so
 * no spelling of another host, path or resource (dot segments, percent-encoding, a query, a
 * userinfo or port trick) can pass. Nothing is normalised first. */
#include <string.h>

#include "callbridge/telephony.h"

/* `n` hex digits at `p` (either case). */
static bool hex_run(const char *p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (strchr("0123456789abcdefABCDEF", p[i]) == NULL || p[i] == '\0')
                        return false;
        return true;
}

/* Skip `lit` at *p; false when *p does not start with it. */
static bool take(const char **p, const char *lit, size_t len)
{
        if (strncmp(*p, lit, len) != 0)
                return false;
        *p += len;
        return true;
}

bool cb_twilio_recording_url_sid(const char *api_base, const char *account_sid, const char *url,
                                 char sid[CB_TWILIO_RE_SID_LEN + 1])
{
        static const char *const exts[] = {"", ".wav", ".mp3"};
        size_t base_len;
        const char *p = url;

        if (api_base == NULL || account_sid == NULL || url == NULL)
                return false;
        base_len = strlen(api_base);
        while (base_len > 0 && api_base[base_len - 1] == '/')
                base_len--; /* the setting may end in '/': the path below starts with one */
        if (base_len == 0 || !take(&p, api_base, base_len) ||
            !take(&p, "/2010-04-01/Accounts/", 21) || !take(&p, account_sid, strlen(account_sid)) ||
            !take(&p, "/Recordings/RE", 14) || !hex_run(p, CB_TWILIO_RE_SID_LEN - 2))
                return false;
        p += CB_TWILIO_RE_SID_LEN - 2;
        for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
                if (strcmp(p, exts[i]) == 0) {
                        memcpy(sid, p - CB_TWILIO_RE_SID_LEN, CB_TWILIO_RE_SID_LEN);
                        sid[CB_TWILIO_RE_SID_LEN] = '\0';
                        return true;
                }
        return false;
}
