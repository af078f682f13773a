/* Salesforce as the signed-in user: the code exchange of the web server flow (PKCE), userinfo,
 * UserRecordAccess. These calls carry the user's own token, never the integration user's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "callbridge/form.h"
#include "callbridge/sf_user.h"
#include "callbridge/soql.h"

/* A transport failure, 429 or 5xx: worth another try later. */
static bool unavailable(int rc, const struct cb_upstream_resp *resp)
{
        return rc != 0 || resp->status == 429 || resp->status >= 500;
}

enum cb_result cb_sf_user_exchange(const struct cb_config *cfg, const char *code,
                                   const char *verifier, const char *redirect_uri,
                                   const char *client_secret, struct cb_sf_user_token *out,
                                   char *err, size_t err_size)
{
        struct cb_upstream_req req = {.service = "salesforce", .method = "POST"};
        struct cb_upstream_resp resp = {0};
        struct cb_form form = {0};
        struct cb_buf body = {.max = 16384};
        char url[CB_SF_USER_URL_MAX + 64];
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
static enum cb_result get_json(const struct cb_config *cfg, const struct cb_sf_user_token *t,
                               const char *url, json_t **out, char *err, size_t err_size)
{
        struct cb_upstream_req req = {.service = "salesforce", .method = "GET", .url = url};
        struct cb_upstream_resp resp = {0};
        char auth[CB_SF_USER_TOKEN_MAX + 32];
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

enum cb_result cb_sf_user_whoami(const struct cb_config *cfg, const struct cb_sf_user_token *t,
                                 char user_id[19], char *err, size_t err_size)
{
        char url[CB_SF_USER_URL_MAX + 64];
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
        if (id != NULL && (strlen(id) == 15 || strlen(id) == 18) && cb_str_charset(id, 18, "")) {
                cb_strlcpy(user_id, id, 19);
                r = CB_RESULT_OK;
        }
        json_decref(j);
        return r;
}

enum cb_result cb_sf_user_can_read(const struct cb_config *cfg, const struct cb_sf_user_token *t,
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
