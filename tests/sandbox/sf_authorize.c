/* callbridge-sandbox: Salesforce's authorize step of the OAuth 2.0 web server flow.
 *
 * GET /services/oauth2/authorize shows a page listing the seeded Users (only the one named by
 * login_hint when it names one), each with a "Log In" button (a form POSTed back here), and a
 * "Deny" button. The POST answers 302 to redirect_uri with `code` and `state`, or with
 * error=access_denied. The code is single use, lives two minutes and remembers its client,
 * redirect_uri and PKCE code_challenge for the token request (sf_oauth.c). Codes live under the
 * state lock. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbridge/crypto.h"
#include "callbridge/util.h"
#include "sf_emu.h"

#define CODE_TTL_S 120

static json_t *codes; /* {"<code>": {"user","client_id","redirect_uri","challenge","exp"}} */

/* The parameters the page carries from the GET to the POST. */
static const char *const carried[] = {
    "client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method", "scope", NULL};

static void put_escaped(struct cb_buf *b, const char *s)
{
        for (; s && *s; s++) {
                switch (*s) {
                case '&':
                        cb_buf_puts(b, "&amp;");
                        break;
                case '<':
                        cb_buf_puts(b, "&lt;");
                        break;
                case '>':
                        cb_buf_puts(b, "&gt;");
                        break;
                case '"':
                        cb_buf_puts(b, "&quot;");
                        break;
                case '\'':
                        cb_buf_puts(b, "&#39;");
                        break;
                default:
                        cb_buf_append(b, s, 1);
                }
        }
}

static void put_urlenc(struct cb_buf *b, const char *s)
{
        static const char hex[] = "0123456789ABCDEF";

        for (; s && *s; s++) {
                unsigned char c = (unsigned char)*s;
                if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == '~') {
                        cb_buf_append(b, s, 1);
                } else {
                        char e[3] = {'%', hex[c >> 4], hex[c & 15]};
                        cb_buf_append(b, e, 3);
                }
        }
}

/* A parameter of the GET query or the POST form; new string or NULL. */
static char *param(const struct sb_request *req, const char *name)
{
        const char *q;

        if (strcmp(req->method, "POST") == 0)
                return sf_form_get(req->body, name);
        q = sb_request_query(req, name);
        return q ? strdup(q) : NULL;
}

/* Salesforce shows an error page for a bad client or redirect_uri (it cannot redirect). */
static bool request_ok(const struct sb_request *req, struct sb_reply *reply, const char *client,
                       const char *redirect, const char *method)
{
        const char *err = NULL;

        if (!client || !req->cfg->sf_client_id || strcmp(client, req->cfg->sf_client_id) != 0)
                err = "error=invalid_client_id&error_description=client%20identifier%20invalid";
        else if (!redirect ||
                 (strncmp(redirect, "http://", 7) != 0 && strncmp(redirect, "https://", 8) != 0))
                err = "error=redirect_uri_mismatch&error_description=redirect_uri%20must%20match"
                      "%20configuration";
        else if (method && *method && strcmp(method, "S256") != 0)
                err = "error=invalid_request&error_description=invalid%20code_challenge_method";
        if (!err)
                return true;
        sb_reply_data(reply, 400, "text/html;charset=UTF-8", err, strlen(err));
        return false;
}

/* The login page: one form per User (filtered by login_hint), and Deny. */
static void login_page(const struct sb_request *req, struct sb_reply *reply, const char *hint)
{
        struct cb_buf b = {.max = 1 << 20}, hidden = {.max = 1 << 16};
        json_t *users, *u;
        size_t i;

        for (size_t k = 0; carried[k]; k++) {
                char *v = param(req, carried[k]);
                if (!v)
                        continue;
                cb_buf_printf(&hidden, "<input type=\"hidden\" name=\"%s\" value=\"", carried[k]);
                put_escaped(&hidden, v);
                cb_buf_puts(&hidden, "\">");
                free(v);
        }
        cb_buf_puts(&b, "<!doctype html><html><head><title>Login | Salesforce</title></head>"
                        "<body><h1>Log in to Salesforce (sandbox)</h1><ul>");
        sb_state_lock();
        users = sb_state_records_locked("User", false);
        json_array_foreach(users, i, u)
        {
                const char *name = json_string_value(json_object_get(u, "Username"));
                if (!name || (hint && *hint && sf_strcasecmp(name, hint) != 0))
                        continue;
                cb_buf_puts(&b, "<li><form method=\"post\" action=\"/services/oauth2/authorize\">");
                cb_buf_append(&b, hidden.data ? hidden.data : "", hidden.len);
                cb_buf_puts(&b, "<input type=\"hidden\" name=\"username\" value=\"");
                put_escaped(&b, name);
                cb_buf_puts(&b, "\"><button name=\"action\" value=\"login\">Log In as ");
                put_escaped(&b, name);
                cb_buf_puts(&b, "</button></form></li>");
        }
        sb_state_unlock();
        cb_buf_puts(&b, "</ul><form method=\"post\" action=\"/services/oauth2/authorize\">");
        cb_buf_append(&b, hidden.data ? hidden.data : "", hidden.len);
        cb_buf_puts(&b,
                    "<button name=\"action\" value=\"deny\">Deny</button></form></body></html>");
        sb_reply_data(reply, 200, "text/html;charset=UTF-8", b.data ? b.data : "", b.len);
        cb_buf_free(&b);
        cb_buf_free(&hidden);
}

static void authorize_submit(const struct sb_request *req, struct sb_reply *reply,
                             const char *redirect);

void sb_sf_authorize(const struct sb_request *req, struct sb_reply *reply)
{
        char *client = param(req, "client_id"), *redirect = param(req, "redirect_uri");
        char *method = param(req, "code_challenge_method"), *hint = param(req, "login_hint");
        char *rtype = param(req, "response_type");

        if (!request_ok(req, reply, client, redirect, method))
                goto out;
        if (strcmp(req->method, "GET") == 0 && (!rtype || strcmp(rtype, "code") != 0)) {
                struct cb_buf loc = {.max = 16384};
                char *state = param(req, "state");
                cb_buf_puts(&loc, redirect);
                cb_buf_puts(&loc, strchr(redirect, '?') ? "&" : "?");
                cb_buf_puts(&loc, "error=unsupported_response_type&error_description="
                                  "response%20type%20not%20supported&state=");
                put_urlenc(&loc, state);
                sb_reply_data(reply, 302, "text/plain", "", 0);
                sb_reply_header(reply, "Location", loc.data);
                cb_buf_free(&loc);
                free(state);
        } else if (strcmp(req->method, "GET") == 0) {
                login_page(req, reply, hint);
        } else {
                authorize_submit(req, reply, redirect);
        }
out:
        free(client);
        free(redirect);
        free(method);
        free(hint);
        free(rtype);
}

/* A new code "aPrx" + 43 base64url characters into `out` (48 bytes). */
static void mint_code(char out[48])
{
        static const char b64[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        unsigned char raw[43];

        cb_random(raw, sizeof(raw));
        memcpy(out, "aPrx", 4);
        for (size_t i = 0; i < sizeof(raw); i++)
                out[4 + i] = b64[raw[i] & 63];
        out[47] = '\0';
}

static void authorize_submit(const struct sb_request *req, struct sb_reply *reply,
                             const char *redirect)
{
        char *action = param(req, "action"), *username = param(req, "username");
        char *state = param(req, "state"), *challenge = param(req, "code_challenge");
        char *client = param(req, "client_id");
        struct cb_buf loc = {.max = 16384};
        json_t *user = NULL;
        char code[48];

        cb_buf_puts(&loc, redirect);
        cb_buf_puts(&loc, strchr(redirect, '?') ? "&" : "?");
        if (action && strcmp(action, "deny") == 0) {
                cb_buf_puts(&loc, "error=access_denied&error_description=end-user%20denied%20"
                                  "authorization");
        } else {
                sb_state_lock();
                json_t *users = sb_state_records_locked("User", false), *u;
                size_t i;
                json_array_foreach(users, i, u)
                {
                        const char *name = json_string_value(json_object_get(u, "Username"));
                        if (name && username && sf_strcasecmp(name, username) == 0)
                                user = json_deep_copy(u);
                }
                if (user) {
                        mint_code(code);
                        if (!codes)
                                codes = json_object();
                        json_object_set_new(codes, code,
                                            json_pack("{s:o,s:s,s:s,s:s?,s:I}", "user", user,
                                                      "client_id", client, "redirect_uri", redirect,
                                                      "challenge", challenge, "exp",
                                                      (json_int_t)time(NULL) + CODE_TTL_S));
                }
                sb_state_unlock();
                if (!user) {
                        const char *msg = "unknown user";
                        sb_reply_data(reply, 400, "text/html;charset=UTF-8", msg, strlen(msg));
                        goto out;
                }
                cb_buf_puts(&loc, "code=");
                put_urlenc(&loc, code);
        }
        if (state) {
                cb_buf_puts(&loc, "&state=");
                put_urlenc(&loc, state);
        }
        sb_reply_data(reply, 302, "text/plain", "", 0);
        sb_reply_header(reply, "Location", loc.data);
out:
        cb_buf_free(&loc);
        free(action);
        free(username);
        free(state);
        free(challenge);
        free(client);
}

json_t *sf_code_take_locked(const char *code)
{
        json_t *entry = code && codes ? json_object_get(codes, code) : NULL;

        if (!entry)
                return NULL;
        json_incref(entry);
        json_object_del(codes, code); /* single use, whatever the outcome */
        return entry;
}

bool sf_pkce_matches(const char *verifier, const char *challenge)
{
        unsigned char md[32];
        unsigned int n = 0;
        char b64[64], *p;

        if (!verifier || !challenge ||
            !EVP_Digest(verifier, strlen(verifier), md, &n, EVP_sha256(), NULL))
                return false;
        EVP_EncodeBlock((unsigned char *)b64, md, 32); /* 44 characters, one '=' */
        for (p = b64; *p; p++)
                *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
        if ((p = strchr(b64, '=')) != NULL)
                *p = '\0';
        return strcmp(b64, challenge) == 0;
}
