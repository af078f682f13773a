/* Masking digits for logs: phone numbers keep a leading +, their first 4 and last 2 digits. */
#include "callbridge/util.h"

#include <ctype.h>
#include <string.h>

/* Keep a leading '+', the first 4 digits and the last 2; star the rest. Percent-encoded
 * separators ("%20") are copied as they are and not counted as digits. */
static size_t mask_run(const char *in, size_t len, char *out, size_t room)
{
        size_t o = 0;
        size_t digits = 0;
        size_t total = 0;

        for (size_t i = 0; i < len; i++) {
                if (in[i] == '%' && i + 2 < len)
                        i += 2;
                else if (isdigit((unsigned char)in[i]))
                        total++;
        }
        for (size_t i = 0; i < len && o + 1 < room; i++) {
                char c = in[i];
                if (c == '%' && i + 2 < len && o + 3 < room) {
                        memcpy(out + o, in + i, 3);
                        o += 3;
                        i += 2;
                        continue;
                }
                if (isdigit((unsigned char)c)) {
                        digits++;
                        if (digits > 4 && digits + 2 <= total)
                                c = '*';
                }
                out[o++] = c;
        }
        return o;
}

void cb_mask_phone(const char *in, char *out, size_t outlen)
{
        size_t o;

        if (outlen == 0)
                return;
        if (in == NULL) {
                out[0] = '\0';
                return;
        }
        o = mask_run(in, strlen(in), out, outlen);
        out[o] = '\0';
}

/* Length of a separator a phone number may be written with: "-", ".", " ", "(", ")" or
 * their percent-encodings; 0 when `p` is not one. */
static size_t phone_separator(const char *p)
{
        static const char *const encoded[] = {"%20", "%28", "%29", "%2D", "%2d", "%2E", "%2e"};

        if (*p != '\0' && strchr("-. ()", *p) != NULL)
                return 1;
        for (size_t i = 0; i < CB_ARRAY_LEN(encoded); i++)
                if (strncmp(p, encoded[i], 3) == 0)
                        return 3;
        return 0;
}

/* A phone-like run at `p`: digits joined by single separators. Returns its length and the
 * number of digits in it. */
static size_t phone_run(const char *p, size_t *digits)
{
        size_t len = 0;

        *digits = 0;
        for (;;) {
                size_t d = strspn(p + len, "0123456789");
                size_t sep;
                *digits += d;
                len += d;
                if (d == 0)
                        break;
                /* "(415) 555", "%20(415)%20555": up to 6 characters of separators */
                sep = 0;
                for (size_t one; sep < 6 && (one = phone_separator(p + len + sep)) > 0;)
                        sep += one;
                if (sep == 0 || !isdigit((unsigned char)p[len + sep]))
                        break;
                len += sep;
        }
        return len;
}

void cb_mask_digits(const char *in, char *out, size_t outlen)
{
        size_t o = 0;
        const char *p = in;

        if (outlen == 0)
                return;
        while (*p != '\0' && o + 1 < outlen) {
                size_t digits;
                size_t run = isdigit((unsigned char)*p) ? phone_run(p, &digits) : 0;
                size_t pure = strspn(p, "0123456789");

                if (run > 0 && digits >= 7 && digits <= 15) {
                        /* Looks like one phone number, however it is punctuated. */
                        o += mask_run(p, run, out + o, outlen - o);
                        p += run;
                } else if (pure >= 7) {
                        o += mask_run(p, pure, out + o, outlen - o);
                        p += pure;
                } else if (pure > 0) {
                        size_t n = pure < outlen - 1 - o ? pure : outlen - 1 - o;
                        memcpy(out + o, p, n);
                        o += n;
                        p += pure;
                } else {
                        out[o++] = *p++;
                }
        }
        out[o] = '\0';
}
