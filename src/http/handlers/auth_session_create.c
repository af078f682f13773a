/* POST /auth/session {"api_key":"cbk_..."}: sign a browser in with an API key (the console's
 * standalone sign-in). 201 with the agent, the session's csrf token and its expiry, and the
 * `cb_session` cookie; a wrong key is 401 and counts as a failed bearer would (the address's
 * budget, [auth] unauth_per_ip_per_min). Only API keys: a CRM user signs in through the CRM's
 * sign-in (auth_crm_login.c). */
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "handlers/handlers.h"
#include "ratelimit.h"
#include "session.h"

enum MHD_Result cb_handle_auth_session_create(struct cb_request *req)
{
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        const char *key = NULL, *bad = NULL;
        const struct cb_json_field fields[] = {{.name = "api_key",
                                                .type = CB_JSON_STRING,
                                                .required = true,
                                                .max_len = 95,
                                                .out = &key},
                                               CB_JSON_END};
        char header[128];
        int retry_after_s = 1;
        json_t *body = NULL;
        enum cb_err err = cb_json_parse_fields(req->json, fields, &bad);

        if (err != CB_ERR_NONE)
                return cb_reply_error(req, err, "\"%s\" must be an API key (cbk_...)", bad);
        if (strncmp(key, "cbk_", 4) != 0) {
                err = CB_ERR_UNAUTHORIZED;
        } else {
                snprintf(header, sizeof(header), "Bearer %s", key);
                err = cb_auth_check_from(req->env, header, ci != NULL ? ci->client_addr : NULL,
                                         &req->agent, &retry_after_s);
                OPENSSL_cleanse(header, sizeof(header));
        }
        if (err == CB_ERR_RATE_LIMITED)
                return cb_reply_error_header(req, err, MHD_HTTP_HEADER_RETRY_AFTER,
                                             cb_ratelimit_seconds_str(retry_after_s));
        if (err == CB_ERR_UNAUTHORIZED)
                return cb_reply_error(req, err, "the API key is unknown or revoked");
        if (err == CB_ERR_NONE)
                err = cb_session_start(req, req->agent.name, "api_key", NULL, NULL, &body);
        if (err != CB_ERR_NONE)
                return cb_reply_error(req, err, NULL);
        return cb_reply_json(req, 201, body);
}
