/* Small HTML pages: escaping, one page template, the Accept check. */
#include <string.h>
#include <strings.h>

#include "html.h"

#define CSP                                                                                        \
        "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; "  \
        "frame-ancestors 'self'; base-uri 'none'; form-action 'self'"

int cb_html_escape(struct cb_buf *b, const char *s)
{
        for (; s != NULL && *s != '\0'; s++) {
                const char *rep = NULL;
                switch (*s) {
                case '&':
                        rep = "&amp;";
                        break;
                case '<':
                        rep = "&lt;";
                        break;
                case '>':
                        rep = "&gt;";
                        break;
                case '"':
                        rep = "&quot;";
                        break;
                case '\'':
                        rep = "&#39;";
                        break;
                default:
                        break;
                }
                if ((rep != NULL ? cb_buf_puts(b, rep) : cb_buf_append(b, s, 1)) != 0)
                        return -1;
        }
        return 0;
}

enum MHD_Result cb_reply_html(struct cb_request *req, unsigned int status, const char *title,
                              const char *body_html)
{
        struct cb_buf b = {.max = 1 << 20};
        struct MHD_Response *resp;

        if (cb_buf_puts(&b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                            "<meta name=\"viewport\" content=\"width=device-width, "
                            "initial-scale=1\"><title>") != 0 ||
            cb_html_escape(&b, title) != 0 ||
            cb_buf_puts(&b, "</title><style>body{font-family:system-ui,sans-serif;max-width:40rem;"
                            "margin:3rem auto;padding:0 1rem;color:#1b1b1b}a{color:#0b57d0}"
                            "audio{width:100%}</style></head><body>\n") != 0 ||
            cb_buf_puts(&b, body_html) != 0 || cb_buf_puts(&b, "\n</body></html>\n") != 0) {
                cb_buf_free(&b);
                return MHD_NO;
        }
        resp = MHD_create_response_from_buffer(b.len, b.data, MHD_RESPMEM_MUST_FREE);
        if (resp == NULL) {
                cb_buf_free(&b);
                return MHD_NO;
        }
        MHD_add_response_header(resp, "Content-Security-Policy", CSP);
        MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
        return cb_reply_response(req, status, resp, "text/html; charset=utf-8");
}

enum MHD_Result cb_reply_html_message(struct cb_request *req, unsigned int status,
                                      const char *title, const char *reason)
{
        struct cb_buf b = {.max = 16384};
        enum MHD_Result ret;

        if (cb_buf_puts(&b, "<main><h1>") != 0 || cb_html_escape(&b, title) != 0 ||
            cb_buf_puts(&b, "</h1><p role=\"alert\">") != 0 || cb_html_escape(&b, title) != 0 ||
            cb_buf_puts(&b, ": ") != 0 || cb_html_escape(&b, reason) != 0 ||
            cb_buf_puts(&b, "</p><p><a href=\"/console/\">Back to the console</a></p></main>") !=
                0) {
                cb_buf_free(&b);
                return MHD_NO;
        }
        ret = cb_reply_html(req, status, title, b.data);
        cb_buf_free(&b);
        return ret;
}

bool cb_request_wants_html(struct cb_request *req)
{
        const char *accept = cb_request_header(req, MHD_HTTP_HEADER_ACCEPT);

        return accept != NULL && strcasestr(accept, "text/html") != NULL;
}
