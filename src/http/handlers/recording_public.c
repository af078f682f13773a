/* GET /r/{recording_id}: the stable link the CRM holds (SPEC §9). It streams the audio to
 *  - a request with a valid signed query (?exp=<unix>&sig=<hex>, POST /api/recordings/{id}/link)
 *    — expired or tampered: 403;
 *  - an authenticated agent (Authorization: Bearer, as for /api) who may see the call;
 *  - a browser with a session cookie (src/http/recording_page.c): the call's agent, an admin,
 *    or a CRM user whom the CRM lets read the call's log record; a page load gets a player;
 * and answers 401 otherwise — a browser (Accept: text/html) is sent to the console's sign-in
 * instead. Once retention deleted the audio the link answers 410 Gone. */
#include <limits.h>
#include <time.h>

#include "audio_reply.h"
#include "handlers/handlers.h"
#include "html.h"
#include "recording_page.h"
#include "session.h"

enum MHD_Result cb_handle_recording_public(struct cb_request *req)
{
        const char *id = req->params[0];
        const char *exp_s = cb_request_arg(req, "exp"), *sig = cb_request_arg(req, "sig");
        const char *auth = cb_request_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
        const char *agent = NULL;
        char cookie[CB_SESSION_TOKEN_LEN + 8];
        long exp = 0;

        if (!cb_uuid_valid(id))
                return cb_reply_error(req, CB_ERR_NOT_FOUND, "no such recording");
        if (exp_s != NULL || sig != NULL) {
                if (exp_s == NULL || sig == NULL || !cb_parse_long(exp_s, 0, LONG_MAX, &exp) ||
                    !cb_rec_link_valid(req->env->rec, id, exp, sig))
                        return cb_reply_error(req, CB_ERR_FORBIDDEN,
                                              "the link's signature does not match");
                if (exp < (long)time(NULL))
                        return cb_reply_error(req, CB_ERR_FORBIDDEN, "the link has expired");
        } else if (auth != NULL) {
                /* As for /api: failures count against the address, the key's rate limit. */
                enum MHD_Result ret;
                if (cb_request_authenticate(req, &ret))
                        return ret;
                agent = req->agent.admin ? NULL : req->agent.name;
        } else if (cb_cookie_get(cb_request_header(req, MHD_HTTP_HEADER_COOKIE), CB_SESSION_COOKIE,
                                 cookie, sizeof(cookie)) ||
                   cb_request_wants_html(req)) {
                /* a browser: its session, or off to the sign-in */
                return cb_recording_for_session(req, id);
        } else {
                return cb_reply_error(req, CB_ERR_UNAUTHORIZED,
                                      "send the agent's bearer token or use a signed link");
        }
        return cb_reply_recording(req, id, NULL, agent);
}
