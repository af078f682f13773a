/* Small HTML pages the daemon answers browsers with (src/http/html.c): sign-in failures, the
 * recording player, refusals. Every page is one self-contained document with a strict
 * Content-Security-Policy (no script; inline style only). */
#ifndef CB_HTTP_HTML_H
#define CB_HTTP_HTML_H

#include "callbridge/http.h"

/* Append `s` HTML-escaped (& < > " '). 0 or -1 (the buffer's cap or memory). */
int cb_html_escape(struct cb_buf *b, const char *s);
/* Answer `status` with the page titled `title` (escaped here) whose body is `body_html`
 * (already HTML). MHD_NO when out of memory. */
enum MHD_Result cb_reply_html(struct cb_request *req, unsigned int status, const char *title,
                              const char *body_html);
/* A page "<title>: <reason>" with a link back to /console/ (title and reason escaped). */
enum MHD_Result cb_reply_html_message(struct cb_request *req, unsigned int status,
                                      const char *title, const char *reason);
/* True when the request's Accept names text/html (a browser navigating). */
bool cb_request_wants_html(struct cb_request *req);

#endif
