/* POST /auth/logout: end the browser's session (X-CSRF-Token required, as for every
 * cookie-authenticated write): 204, the row revoked (every instance drops it within a second)
 * and the cookie cleared (Max-Age=0). 401 without a live cookie. */
#include "handlers/handlers.h"
#include "session.h"

enum MHD_Result cb_handle_auth_logout(struct cb_request *req)
{
        enum MHD_Result ret;
        enum cb_err err;

        if (cb_request_authenticate(req, &ret))
                return ret;
        if (req->session[0] == '\0')
                return cb_reply_error(req, CB_ERR_UNAUTHORIZED,
                                      "not signed in (no session cookie)");
        err = cb_session_revoke(req->env, req->session);
        if (err != CB_ERR_NONE)
                return cb_reply_error(req, err, NULL);
        req->set_cookie = cb_session_cookie(req->env->cfg, NULL, 0);
        return cb_reply_text(req, 204, NULL, "", 0);
}
