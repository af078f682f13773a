/* Sign in with Salesforce and Salesforce as the signed-in user (the crm ops sign_in_*,
 * user_can_read): the authorize URL and the code exchange of the web server flow (PKCE),
 * userinfo, UserRecordAccess. These calls carry the user's own token, never the integration
 * user's. The user's credential the HTTP layer seals is {"t": access token, "i": instance
 * URL} as compact JSON (the sealed form of before issue 16, so sessions survive the upgrade).
 * Every failure is a cb_result with a reason in `err` that never holds a token or a code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "callbridge/config.h"
#include "callbridge/form.h"
#include "callbridge/soql.h"
#include "callbridge/upstream.h"
#include "sf.h"

#define USER_TOKEN_MAX 1024
#define USER_URL_MAX   256
#define SCOPES         "api id"

/* The user's access token and the instance it works against. Wiped after use. */
struct user_token {
        char access_token[USER_TOKEN_MAX];
        char instance_url[USER_URL_MAX];
};

/* A transport failure, 429 or 5xx: worth another try later. */
static bool unavailable(int rc, const struct cb_upstream_resp *resp)
{
        return rc != 0 || resp->status == 429 || resp->status >= 500;
}

/* POST [salesforce] login_url/services/oauth2/token grant_type=authorization_code with `code`,
 * `verifier` (PKCE), `redirect_uri`, client_id and `client_secret` (NULL: none sent). OK with
 * `out` filled; FAIL when Salesforce refused (err: its `error` code, e.g. invalid_grant);
 * RETRY when it did not answer usably. */
static enum cb_result exchange(const struct cb_config *cfg, const char *code, const char *verifier,
                               const char *redirect_uri, const char *client_secret,
                               struct user_token *out, char *err, size_t err_size)
{
        struct cb_upstream_req req = {.service = "salesforce", .method = "POST"};
        struct cb_upstream_resp resp = {0};
        struct cb_form form = {0};
        struct cb_buf body = {.max = 16384};
        char url[USER_URL_MAX + 64];
        enum cb_result r = CB_RESULT_FAIL;
        json_t *j = NULL;
        const char *tok, *inst;
        int rc;

        memset(out, 0, sizeof(*out));
        snprintf(url, sizeof(url), "%s/services/oauth2/token", cfg->salesforce.login_url);
        if (cb_form_add(&form, "grant_type", "authorization_code") != 0 ||
            cb_form_add(&form, "code", code) != 0 ||
            cb_form_add(&form, "client_id", cfg->salesforce.client_id) != 0 ||
            (client_secret != NULL && cb_form_add(&form, "client_secret", client_secret) != 0) ||
            cb_form_add(&form, "redirect_uri", redirect_uri) != 0 ||
            cb_form_add(&form, "code_verifier", verifier) != 0 ||
            cb_form_encode(&form, &body) != 0) {
                snprintf(err, err_size, "out of memory");
                r = CB_RESULT_RETRY;
                goto out;
        }
        req.url = url;
        req.headers[0] = "Content-Type: application/x-www-form-urlencoded";
        req.headers[1] = "Accept: application/json";
        req.body = body.data;
        req.body_len = body.len;
        req.timeout_ms = cfg->salesforce.timeout_ms;
        rc = cb_upstream_perform(&req, &resp);
        if (unavailable(rc, &resp)) {
                snprintf(err, err_size, "Salesforce did not answer the code exchange");
                r = CB_RESULT_RETRY;
                goto out;
        }
        j = json_loadb(resp.body.data, resp.body.len, 0, NULL);
        tok = json_string_value(json_object_get(j, "access_token"));
        inst = json_string_value(json_object_get(j, "instance_url"));
        if (resp.status != 200 || tok == NULL || inst == NULL ||
            strlen(tok) >= sizeof(out->access_token) || strlen(inst) >= sizeof(out->instance_url) ||
            (strncmp(inst, "https://", 8) != 0 && strncmp(inst, "http://", 7) != 0)) {
                const char *e = json_string_value(json_object_get(j, "error"));
                snprintf(err, err_size, "Salesforce refused the code (%s)",
                         e != NULL && strlen(e) < 64 ? e : "no access token");
                goto out;
        }
        cb_strlcpy(out->access_token, tok, sizeof(out->access_token));
        cb_strlcpy(out->instance_url, inst, sizeof(out->instance_url));
        r = CB_RESULT_OK;
out:
        if (j != NULL) {
                json_t *t = json_object_get(j, "access_token");
                if (json_is_string(t))
                        OPENSSL_cleanse((char *)json_string_value(t), json_string_length(t));
        }
        json_decref(j);
        if (body.data != NULL)
                OPENSSL_cleanse(body.data, body.len);
        cb_buf_free(&body);
        cb_form_free(&form);
        if (resp.body.data != NULL)
                OPENSSL_cleanse(resp.body.data, resp.body.len);
        cb_upstream_resp_free(&resp);
        return r;
}

/* GET `url` with the user's token; the JSON answer of a 200 in *out. */
static enum cb_result get_json(const struct cb_config *cfg, const struct user_token *t,
                               const char *url, json_t **out, char *err, size_t err_size)
{
        struct cb_upstream_req req = {.service = "salesforce", .method = "GET", .url = url};
        struct cb_upstream_resp resp = {0};
        char auth[USER_TOKEN_MAX + 32];
        enum cb_result r = CB_RESULT_FAIL;
        int rc;

        *out = NULL;
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", t->access_token);
        req.headers[0] = auth;
        req.headers[1] = "Accept: application/json";
        req.timeout_ms = cfg->salesforce.timeout_ms;
        rc = cb_upstream_perform(&req, &resp);
        OPENSSL_cleanse(auth, sizeof(auth));
        if (unavailable(rc, &resp)) {
                snprintf(err, err_size, "Salesforce did not answer");
                r = CB_RESULT_RETRY;
        } else if (resp.status != 200) {
                snprintf(err, err_size, "Salesforce refused the user's token (HTTP %ld)",
                         resp.status);
        } else {
                *out = json_loadb(resp.body.data, resp.body.len, 0, NULL);
                r = *out != NULL ? CB_RESULT_OK : CB_RESULT_RETRY;
                if (*out == NULL)
                        snprintf(err, err_size, "Salesforce answered something not JSON");
        }
        cb_upstream_resp_free(&resp);
        return r;
}

/* GET <instance>/services/oauth2/userinfo: OK with the User id (15 or 18 characters, as
 * given), FAIL (token refused, no user_id), RETRY. */
static enum cb_result whoami(const struct cb_config *cfg, const struct user_token *t, char *user_id,
                             size_t user_id_size, char *err, size_t err_size)
{
        char url[USER_URL_MAX + 64];
        json_t *j = NULL;
        const char *id;
        enum cb_result r;

        snprintf(url, sizeof(url), "%s/services/oauth2/userinfo", t->instance_url);
        r = get_json(cfg, t, url, &j, err, err_size);
        if (r != CB_RESULT_OK)
                return r;
        id = json_string_value(json_object_get(j, "user_id"));
        r = CB_RESULT_FAIL;
        snprintf(err, err_size, "Salesforce's userinfo has no user_id");
        if (id != NULL && (strlen(id) == 15 || strlen(id) == 18) && cb_str_charset(id, 18, "") &&
            cb_strlcpy(user_id, id, user_id_size)) {
                r = CB_RESULT_OK;
        }
        json_decref(j);
        return r;
}

/* SELECT RecordId, HasReadAccess FROM UserRecordAccess WHERE UserId = `user_id` AND RecordId =
 * `record_id` (both escaped), with the user's token. */
static enum cb_result can_read_as(const struct cb_config *cfg, const struct user_token *t,
                                  const char *user_id, const char *record_id, bool *can_read,
                                  char *err, size_t err_size)
{
        struct cb_buf q = {.max = 1024};
        struct cb_form form = {0};
        struct cb_buf enc = {.max = 4096};
        char *url = NULL;
        json_t *j = NULL, *rec;
        enum cb_result r = CB_RESULT_RETRY;

        *can_read = false;
        snprintf(err, err_size, "out of memory");
        if (cb_buf_puts(
                &q, "SELECT RecordId, HasReadAccess FROM UserRecordAccess WHERE UserId = '") != 0 ||
            cb_soql_escape(&q, user_id, false) != 0 || cb_buf_puts(&q, "' AND RecordId = '") != 0 ||
            cb_soql_escape(&q, record_id, false) != 0 || cb_buf_puts(&q, "'") != 0 ||
            cb_form_add(&form, "q", q.data) != 0 || cb_form_encode(&form, &enc) != 0)
                goto out;
        if (asprintf(&url, "%s/services/data/%s/query?%s", t->instance_url,
                     cfg->salesforce.api_version, enc.data) < 0) {
                url = NULL;
                goto out;
        }
        r = get_json(cfg, t, url, &j, err, err_size);
        if (r != CB_RESULT_OK)
                goto out;
        rec = json_array_get(json_object_get(j, "records"), 0);
        *can_read = json_is_true(json_object_get(rec, "HasReadAccess"));
out:
        json_decref(j);
        free(url);
        cb_buf_free(&enc);
        cb_form_free(&form);
        cb_buf_free(&q);
        return r;
}

/* ---- the crm ops ---- */

bool sf_sign_in_enabled(void *self)
{
        const struct sf *sf = self;

        return sf->cfg->salesforce.client_id != NULL && sf->cfg->salesforce.client_id[0] != '\0';
}

int sf_sign_in_url(void *self, const char *redirect_uri, const char *state, const char *challenge,
                   const char *login_hint, struct cb_buf *out)
{
        const struct cb_config *cfg = ((const struct sf *)self)->cfg;
        struct cb_form f = {0};
        int rc = -1;

        if (cb_form_add(&f, "response_type", "code") == 0 &&
            cb_form_add(&f, "client_id", cfg->salesforce.client_id) == 0 &&
            cb_form_add(&f, "redirect_uri", redirect_uri) == 0 &&
            cb_form_add(&f, "code_challenge", challenge) == 0 &&
            cb_form_add(&f, "code_challenge_method", "S256") == 0 &&
            cb_form_add(&f, "state", state) == 0 && cb_form_add(&f, "scope", SCOPES) == 0 &&
            (login_hint == NULL || cb_form_add(&f, "login_hint", login_hint) == 0) &&
            cb_buf_printf(out, "%s/services/oauth2/authorize?", cfg->salesforce.login_url) == 0 &&
            cb_form_encode(&f, out) == 0)
                rc = 0;
        cb_form_free(&f);
        return rc;
}

/* The credential text of `t` into `cred`; false when it does not fit. */
static bool cred_of(const struct user_token *t, char *cred, size_t cred_size)
{
        json_t *j = json_pack("{s:s,s:s}", "t", t->access_token, "i", t->instance_url);
        char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
        bool ok = text != NULL && cb_strlcpy(cred, text, cred_size);

        if (j != NULL) {
                OPENSSL_cleanse((char *)json_string_value(json_object_get(j, "t")),
                                strlen(t->access_token));
                json_decref(j);
        }
        if (text != NULL) {
                OPENSSL_cleanse(text, strlen(text));
                free(text);
        }
        return ok;
}

/* The token `cred` holds into `t`; false when it is not one. */
static bool token_of(const char *cred, struct user_token *t)
{
        json_t *j = json_loads(cred, 0, NULL);
        json_t *tok = json_object_get(j, "t");
        bool ok =
            cb_strlcpy(t->access_token, json_string_value(tok) ?: "", sizeof(t->access_token)) &&
            cb_strlcpy(t->instance_url, json_string_value(json_object_get(j, "i")) ?: "",
                       sizeof(t->instance_url)) &&
            t->access_token[0] != '\0';

        if (json_is_string(tok))
                OPENSSL_cleanse((char *)json_string_value(tok), json_string_length(tok));
        json_decref(j);
        return ok;
}

enum cb_result sf_sign_in_exchange(void *self, const char *code, const char *verifier,
                                   const char *redirect_uri, char *user_id, size_t user_id_size,
                                   char *cred, size_t cred_size, char *err, size_t err_size)
{
        const struct cb_config *cfg = ((const struct sf *)self)->cfg;
        char *secret = cfg->salesforce.client_secret_file != NULL
                           ? cb_config_read_secret(cfg->salesforce.client_secret_file)
                           : NULL;
        struct user_token t;
        enum cb_result r;

        memset(&t, 0, sizeof(t));
        r = exchange(cfg, code, verifier, redirect_uri, secret, &t, err, err_size);
        if (secret != NULL) {
                OPENSSL_cleanse(secret, strlen(secret));
                free(secret);
        }
        if (r == CB_RESULT_OK)
                r = whoami(cfg, &t, user_id, user_id_size, err, err_size);
        if (r == CB_RESULT_OK && !cred_of(&t, cred, cred_size)) {
                snprintf(err, err_size, "the user's token is too long to keep");
                r = CB_RESULT_FAIL;
        }
        OPENSSL_cleanse(&t, sizeof(t));
        return r;
}

enum cb_result sf_user_can_read(void *self, const char *cred, const char *user_id,
                                const char *record_id, bool *can_read, char *err, size_t err_size)
{
        const struct cb_config *cfg = ((const struct sf *)self)->cfg;
        struct user_token t;
        enum cb_result r;

        *can_read = false;
        memset(&t, 0, sizeof(t));
        if (!token_of(cred, &t)) {
                OPENSSL_cleanse(&t, sizeof(t));
                snprintf(err, err_size, "the kept credential is not a Salesforce token");
                return CB_RESULT_FAIL;
        }
        r = can_read_as(cfg, &t, user_id, record_id, can_read, err, err_size);
        OPENSSL_cleanse(&t, sizeof(t));
        return r;
}
