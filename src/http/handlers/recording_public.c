/* GET /r/{recording_id}: the stable link the CRM holds (SPEC §9). It streams the audio to
 *  - a request with a valid signed query (?exp=<unix>&sig=<hex>, POST /api/recordings/{id}/link)
 *    — expired or tampered: 403;
 *  - an authenticated agent (Authorization: Bearer, as for /api) who may see the call;
 * and answers 401 otherwise. Once retention deleted the audio the link answers 410 Gone. */
#include <limits.h>
#include <time.h>

#include "audio_reply.h"
#include "handlers/handlers.h"

enum MHD_Result cb_handle_recording_public(struct cb_request *req)
{
        const char *id = req->params[0];
        const char *exp_s = cb_request_arg(req, "exp"), *sig = cb_request_arg(req, "sig");
        const char *auth = cb_request_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
        const char *agent = NULL;
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
        } else {
                return cb_reply_error(req, CB_ERR_UNAUTHORIZED,
                                      "send the agent's bearer token or use a signed link");
        }
        return cb_reply_recording(req, id, NULL, agent);
}
