/* GET /auth/<crm>/callback?code=&state=: the end of signing in with the CRM. The state must
 * be one this daemon issued within ten minutes and not used yet (403 otherwise); the provider
 * exchanges the code with the PKCE verifier kept for it and says which CRM user signed in
 * (crm op sign_in_exchange), and agents.crm_user_id says which agent that is (403 when none).
 * Then the session cookie is set and the browser goes back to return_to (302). Failures are
 * HTML pages ("Sign-in failed: <reason>", a link back to /console/): 400 when the CRM refused
 * or the user denied access, 403 for a bad state or an unknown user, 502/503 when the CRM or
 * PostgreSQL did not answer. The user's credential is kept only sealed (recording keyring),
 * to ask the CRM later what this user may see. Neither code, state, verifier nor credential
 * is logged. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/agents.h"
#include "callbridge/crypto.h"
#include "callbridge/log.h"
#include "callbridge/store_agents.h"
#include "handlers/handlers.h"
#include "html.h"
#include "session.h"

#define FAILED "Sign-in failed"

struct login {
        char verifier[160];
        char return_to[CB_RETURN_TO_MAX];
};

/* Consume the sign-in of `state`: CB_ERR_NONE, FORBIDDEN (unknown, used, expired) or
 * DB_UNAVAILABLE. */
static enum cb_err take_state(struct cb_request *req, const char *state, struct login *l)
{
        unsigned char hash[32];
        char hex[65];
        struct cb_db *db;
        enum cb_qs qs = CB_QS_HARD_ERROR;

        if (strlen(state) > 128)
                return CB_ERR_FORBIDDEN;
        cb_sha256(state, strlen(state), hash);
        cb_hex(hash, sizeof(hash), hex);
        db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        if (db != NULL)
                qs = cb_store_oauth_login_take(db, hex, l->verifier, sizeof(l->verifier),
                                               l->return_to, sizeof(l->return_to));
        cb_db_release(&db);
        return qs < 0 ? CB_ERR_DB_UNAVAILABLE : qs == 0 ? CB_ERR_FORBIDDEN : CB_ERR_NONE;
}

/* The agent whose crm_user_id is `user_id` (as the provider canonicalises it) into `agent`:
 * CB_ERR_NONE, FORBIDDEN (none) or DB_UNAVAILABLE. */
static enum cb_err agent_of(struct cb_request *req, const char *user_id,
                            char canon[CB_AGENT_CRM_USER_MAX], char agent[CB_AGENT_MAX])
{
        const struct cb_crm_ops *ops = req->env->crm->ops;
        struct cb_db *db;
        json_t *rows = NULL;
        enum cb_qs qs = CB_QS_HARD_ERROR;
        const char *name;

        /* the provider's canonical form; without one, a plain token as given (no comma: the
         * lookup takes a list) */
        if (ops->user_id_canon != NULL
                ? !ops->user_id_canon(user_id, canon, CB_AGENT_CRM_USER_MAX)
                : !cb_str_charset(user_id, CB_AGENT_CRM_USER_MAX - 1, "._@:-") ||
                      !cb_strlcpy(canon, user_id, CB_AGENT_CRM_USER_MAX))
                return CB_ERR_FORBIDDEN;
        db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        if (db != NULL)
                qs = cb_store_agents_by_crm_user_ids(db, canon, &rows);
        cb_db_release(&db);
        name = json_string_value(json_object_get(json_array_get(rows, 0), "name"));
        if (qs >= 0 && name != NULL)
                cb_strlcpy(agent, name, CB_AGENT_MAX);
        json_decref(rows);
        return qs < 0 ? CB_ERR_DB_UNAVAILABLE : name == NULL ? CB_ERR_FORBIDDEN : CB_ERR_NONE;
}

/* Exchange the code and ask who it is: the credential in `cred`, the user id in `user_id`. On
 * failure the reply is queued and true returned. */
static bool identify(struct cb_request *req, const char *code, const struct login *l,
                     char cred[CB_CRM_USER_CRED_MAX], char user_id[CB_CRM_USER_ID_MAX],
                     enum MHD_Result *ret)
{
        const struct cb_crm *crm = req->env->crm;
        char redirect[CB_URI_MAX], err[256];
        enum cb_result r;

        cb_crm_sign_in_redirect_uri(req->env->cfg, crm, redirect, sizeof(redirect));
        r = crm->ops->sign_in_exchange(crm->self, code, l->verifier, redirect, user_id,
                                       CB_CRM_USER_ID_MAX, cred, CB_CRM_USER_CRED_MAX, err,
                                       sizeof(err));
        if (r == CB_RESULT_OK)
                return false;
        cb_warn("%s sign-in: %s", crm->ops->name, err);
        *ret = cb_reply_html_message(req, r == CB_RESULT_FAIL ? 400 : 502, FAILED, err);
        return true;
}

/* Sign the agent in and go back; on failure an HTML page. */
static enum MHD_Result finish(struct cb_request *req, const char *agent, const char *user_id,
                              const char *cred, const struct login *l)
{
        const char *crm = req->env->crm->ops->name;
        char *sealed = cb_session_cred_seal(req->env->rec, cred);
        json_t *body = NULL;
        enum cb_err err;

        if (sealed == NULL)
                cb_info("%s sign-in: the user's credential is not kept (no recording keyring): "
                        "recording access by CRM sharing is off for %s",
                        crm, agent);
        err = cb_session_start(req, agent, crm, user_id, sealed, &body);
        free(sealed);
        json_decref(body);
        if (err != CB_ERR_NONE)
                return cb_reply_html_message(req, cb_err_info(err)->status, FAILED,
                                             cb_err_info(err)->message);
        return cb_reply_redirect(req, 302, cb_return_to_or_default(l->return_to));
}

enum MHD_Result cb_handle_auth_crm_callback(struct cb_request *req)
{
        const char *code = cb_request_arg(req, "code"), *state = cb_request_arg(req, "state");
        const char *denied = cb_request_arg(req, "error");
        struct login l;
        char cred[CB_CRM_USER_CRED_MAX], user_id[CB_CRM_USER_ID_MAX], canon[CB_AGENT_CRM_USER_MAX];
        char agent[CB_AGENT_MAX], why[200];
        enum MHD_Result ret;
        enum cb_err err;

        memset(&l, 0, sizeof(l));
        memset(cred, 0, sizeof(cred));
        if (!cb_crm_sign_in_ready(req->env->crm))
                return cb_reply_html_message(req, 404, FAILED,
                                             "Sign in with the CRM is not configured");
        if (state == NULL || state[0] == '\0')
                return cb_reply_html_message(req, 400, FAILED, "the answer has no state");
        err = take_state(req, state, &l);
        if (err == CB_ERR_DB_UNAVAILABLE)
                return cb_reply_html_message(req, 503, FAILED, "try again in a moment");
        if (err != CB_ERR_NONE)
                return cb_reply_html_message(req, 403, FAILED,
                                             "bad state (this sign-in expired or was used "
                                             "already); start again");
        if (denied != NULL) {
                snprintf(why, sizeof(why), "the CRM said %.64s",
                         cb_str_charset(denied, 64, "_") ? denied : "no");
                ret = cb_reply_html_message(req, 400, FAILED, why);
        } else if (code == NULL || code[0] == '\0' || strlen(code) > 1024) {
                ret = cb_reply_html_message(req, 400, FAILED, "the answer has no code");
        } else if (!identify(req, code, &l, cred, user_id, &ret)) {
                err = agent_of(req, user_id, canon, agent);
                if (err == CB_ERR_NONE) {
                        ret = finish(req, agent, canon, cred, &l);
                } else if (err == CB_ERR_FORBIDDEN) {
                        snprintf(why, sizeof(why),
                                 "no agent is linked to CRM user %.64s (an admin sets it: "
                                 "callbridge agent set NAME --crm-user-id ID)",
                                 user_id);
                        ret = cb_reply_html_message(req, 403, FAILED, why);
                } else {
                        ret = cb_reply_html_message(req, 503, FAILED, "try again in a moment");
                }
        }
        OPENSSL_cleanse(cred, sizeof(cred));
        OPENSSL_cleanse(&l, sizeof(l));
        return ret;
}
