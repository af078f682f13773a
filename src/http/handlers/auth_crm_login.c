/* GET /auth/<crm>/login?return_to=<local path>[&login_hint=<username>]: start signing in with
 * the CRM (OAuth 2.0 authorization code flow with PKCE S256). The verifier, the state (by its
 * hash) and return_to are kept in PostgreSQL for ten minutes and one use; the browser is sent
 * (302) to the authorize URL the provider makes (crm op sign_in_url). return_to must be a
 * local path, else /console/. Without a CRM that signs users in an HTML page says sign-in is
 * not configured (404). */
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "callbridge/crypto.h"
#include "handlers/handlers.h"
#include "html.h"
#include "session.h"

/* The authorize URL into `out` (cap on its buffer). 0 or -1. */
static int authorize_url(const struct cb_request *req, const char *state, const char *challenge,
                         const char *hint, struct cb_buf *out)
{
        const struct cb_crm *crm = req->env->crm;
        char redirect[CB_URI_MAX];

        cb_crm_sign_in_redirect_uri(req->env->cfg, crm, redirect, sizeof(redirect));
        return crm->ops->sign_in_url(crm->self, redirect, state, challenge, hint, out);
}

enum MHD_Result cb_handle_auth_crm_login(struct cb_request *req)
{
        const char *return_to = cb_return_to_or_default(cb_request_arg(req, "return_to"));
        const char *hint = cb_request_arg(req, "login_hint");
        unsigned char raw_state[32], raw_verifier[48], hash[32];
        char state[48], verifier[72], challenge[CB_PKCE_CHALLENGE_LEN + 1], state_hash[65];
        struct cb_buf url = {.max = CB_URI_MAX};
        struct cb_db *db;
        enum cb_qs qs = CB_QS_HARD_ERROR;
        enum MHD_Result ret;

        if (!cb_crm_sign_in_ready(req->env->crm))
                return cb_reply_html_message(req, 404, "Sign-in failed",
                                             "Sign in with the CRM is not configured");
        if (hint != NULL && !cb_str_charset(hint, 80, "._@-+"))
                hint = NULL;
        cb_random(raw_state, sizeof(raw_state));
        cb_random(raw_verifier, sizeof(raw_verifier));
        cb_base64url_encode(raw_state, sizeof(raw_state), state);
        cb_base64url_encode(raw_verifier, sizeof(raw_verifier), verifier);
        cb_pkce_challenge(verifier, challenge);
        cb_sha256(state, strlen(state), hash);
        cb_hex(hash, sizeof(hash), state_hash);
        db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        if (db != NULL)
                qs = cb_store_oauth_login_insert(db, state_hash, verifier, return_to);
        cb_db_release(&db);
        if (qs != CB_QS_ONE_RESULT)
                ret = cb_reply_html_message(req, 503, "Sign-in failed",
                                            "the sign-in could not be recorded; try again");
        else if (authorize_url(req, state, challenge, hint, &url) != 0)
                ret = cb_reply_html_message(req, 500, "Sign-in failed", "the URL is too long");
        else
                ret = cb_reply_redirect(req, 302, url.data);
        OPENSSL_cleanse(verifier, sizeof(verifier));
        OPENSSL_cleanse(state, sizeof(state));
        cb_buf_free(&url);
        return ret;
}
