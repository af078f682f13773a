/* TwiML answers for the voice webhook. Every value is XML-escaped; identities and numbers are
 * checked by the callers as well. */
#include <string.h>

#include "http/twiml.h"

#define HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>"
#define TAIL "</Response>"

static int put_escaped(struct cb_buf *out, const char *s)
{
        int rc = 0;

        for (; *s != '\0'; s++) {
                switch (*s) {
                case '&':
                        rc |= cb_buf_puts(out, "&amp;");
                        break;
                case '<':
                        rc |= cb_buf_puts(out, "&lt;");
                        break;
                case '>':
                        rc |= cb_buf_puts(out, "&gt;");
                        break;
                case '"':
                        rc |= cb_buf_puts(out, "&quot;");
                        break;
                case '\'':
                        rc |= cb_buf_puts(out, "&apos;");
                        break;
                default:
                        rc |= cb_buf_append(out, s, 1);
                }
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
