/* GET /auth/session: the signed-in browser's session — its agent, its csrf token (the one
 * minted at sign-in) and its expiry; 401 without a live cookie (a bearer has no session). */
#include "handlers/handlers.h"
#include "session.h"

enum MHD_Result cb_handle_auth_session_get(struct cb_request *req)
{
        struct cb_session_info s;
        enum MHD_Result ret;
        enum cb_err err;
        json_t *body;

        if (cb_request_authenticate(req, &ret))
                return ret;
        err = cb_session_of(req, &s);
        if (err == CB_ERR_UNAUTHORIZED)
                return cb_reply_error(req, err, "not signed in (no session cookie)");
        if (err != CB_ERR_NONE)
                return cb_reply_error(req, err, NULL);
        body = cb_session_body(req->env, &s, &err);
        if (body == NULL)
                return cb_reply_error(req, err, NULL);
        return cb_reply_json(req, 200, body);
}
