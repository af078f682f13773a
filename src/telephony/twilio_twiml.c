/* TwiML answers for the voice webhook. Every value is XML-escaped; identities and numbers are
 * checked by the callers as well. */
#include <stdint.h>
#include <string.h>

#include "twilio_twiml.h"

#define HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>"
#define TAIL "</Response>"

/* Length of the UTF-8 sequence at `s` when it encodes a character XML 1.0 allows (§2.2 Char:
 * tab, line feed, carriage return, U+0020-U+D7FF, U+E000-U+FFFD, U+10000-U+10FFFF), else 0. */
static size_t xml_char_len(const unsigned char *s)
{
        unsigned char c = s[0];
        size_t n = c < 0x80                 ? 1
                   : c >= 0xc2 && c <= 0xdf ? 2
                   : c >= 0xe0 && c <= 0xef ? 3
                   : c >= 0xf0 && c <= 0xf4 ? 4
                                            : 0;
        uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;

        for (size_t i = 1; i < n; i++) { /* stops at a NUL: it is no continuation byte */
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (s[i] & 0x3f);
        }
        if (n == 0 || (n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
                return 0; /* ill-formed or overlong */
        if ((cp < 0x20 && cp != 0x9 && cp != 0xa && cp != 0xd) || (cp >= 0xd800 && cp <= 0xdfff) ||
            cp == 0xfffe || cp == 0xffff)
                return 0;
        return n;
}

/* `s` as XML character data, for text and for double-quoted attribute values alike: markup
 * characters as entities; tab, line feed and carriage return as character references (so an
 * attribute keeps them and no parser folds them); a byte that is not part of a legal XML
 * character (a control character, ill-formed UTF-8) as U+FFFD, so the document always parses. */
static int put_escaped(struct cb_buf *out, const char *s)
{
        const unsigned char *p = (const unsigned char *)s;
        int rc = 0;

        while (*p != '\0') {
                size_t n = xml_char_len(p);
                const char *ent = NULL;

                switch (n == 1 ? *p : 0) {
                case '&':
                        ent = "&amp;";
                        break;
                case '<':
                        ent = "&lt;";
                        break;
                case '>':
                        ent = "&gt;";
                        break;
                case '"':
                        ent = "&quot;";
                        break;
                case '\'':
                        ent = "&apos;";
                        break;
                case '\t':
                        ent = "&#9;";
                        break;
                case '\n':
                        ent = "&#10;";
                        break;
                case '\r':
                        ent = "&#13;";
                        break;
                }
                if (ent != NULL)
                        rc |= cb_buf_puts(out, ent);
                else if (n > 0)
                        rc |= cb_buf_append(out, p, n);
                else
                        rc |= cb_buf_puts(out, "\xef\xbf\xbd"); /* U+FFFD */
                p += n > 0 ? n : 1;
        }
        return rc;
}

static int dial_open(struct cb_buf *out, long timeout_s, const char *caller_id)
{
        int rc =
            cb_buf_printf(out, HEAD "<Dial answerOnBridge=\"true\" timeout=\"%ld\"", timeout_s);

        if (caller_id != NULL) {
                rc |= cb_buf_puts(out, " callerId=\"");
                rc |= put_escaped(out, caller_id);
                rc |= cb_buf_puts(out, "\"");
        }
        return rc | cb_buf_puts(out, ">");
}

int cb_twiml_dial_client(struct cb_buf *out, const char *identity, const char *call_id,
                         long timeout_s)
{
        int rc = dial_open(out, timeout_s, NULL);

        rc |= cb_buf_puts(out, "<Client><Identity>");
        rc |= put_escaped(out, identity);
        rc |= cb_buf_puts(out, "</Identity>");
        if (call_id != NULL) {
                rc |= cb_buf_puts(out, "<Parameter name=\"call_id\" value=\"");
                rc |= put_escaped(out, call_id);
                rc |= cb_buf_puts(out, "\"/>");
        }
        return rc | cb_buf_puts(out, "</Client></Dial>" TAIL);
}

int cb_twiml_dial_number(struct cb_buf *out, const char *e164, const char *caller_id,
                         long timeout_s)
{
        int rc = dial_open(out, timeout_s, caller_id);

        rc |= cb_buf_puts(out, "<Number>");
        rc |= put_escaped(out, e164);
        return rc | cb_buf_puts(out, "</Number></Dial>" TAIL);
}

int cb_twiml_say_hangup(struct cb_buf *out, const char *text)
{
        int rc = cb_buf_puts(out, HEAD "<Say>");

        rc |= put_escaped(out, text);
        return rc | cb_buf_puts(out, "</Say><Hangup/>" TAIL);
}
