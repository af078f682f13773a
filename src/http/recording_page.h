/* /r/{id} for a browser's session cookie (src/http/recording_page.c). */
#ifndef CB_HTTP_RECORDING_PAGE_H
#define CB_HTTP_RECORDING_PAGE_H

#include "callbridge/http.h"

/* Authenticate the request (cookie) and answer for recording `id` (a uuid): a redirect to the
 * console's sign-in (Accept: text/html, not signed in), the player page (text/html), the
 * audio (?play=1 or another Accept, with Range), 401/403/404 (an HTML page for a browser). */
enum MHD_Result cb_recording_for_session(struct cb_request *req, const char *id);

#endif
