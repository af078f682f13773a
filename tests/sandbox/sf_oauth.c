/* callbridge-sandbox: Salesforce OAuth: POST /services/oauth2/token (JWT bearer, client
 * credentials, refresh token, authorization code with PKCE) and GET /services/oauth2/userinfo.
 *
 * Token errors use the endpoint's own dialect {"error","error_description"} with the strings
 * Salesforce sends. The JWT signature is checked with OpenSSL against --sf-cert-file's key
 * before the lock is taken; users are the seeded "User" records. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sf_emu.h"

#define JWT_GRANT "urn:ietf:params:oauth:grant-type:jwt-bearer"

/* The built-in run-as user of client credentials when no User is seeded. */
#define INTEGRATION_USER_ID "0058d000000IntgAAC"

/* What a token request ended in: an error pair, or a user to issue a token for. */
struct grant {
        const char *error;
        const char *description;
        json_t *user; /* new reference (a copy) when granted */
};

static bool deny(struct grant *g, const char *error, const char *description)
{
        g->error = error;
        g->description = description;
        return false;
}

/* Constant-time equality of two secrets; false when either is NULL. */
static bool secrets_equal(const char *a, const char *b)
{
        if (!a || !b || strlen(a) != strlen(b))
                return false;
        return CRYPTO_memcmp(a, b, strlen(a)) == 0;
}

/* The first User whose Username is `username` (case-insensitive), copied; or NULL. Lock held. */
static json_t *user_by_name_locked(const char *username)
{
        json_t *users = sb_state_records_locked("User", false), *u;
        size_t i;

        json_array_foreach(users, i, u)
        {
                const char *name = json_string_value(json_object_get(u, "Username"));
                if (username && name && sf_strcasecmp(name, username) == 0)
                        return json_deep_copy(u);
        }
        return NULL;
}

/* aud may be a string or an array of strings. */
static bool audience_ok(json_t *aud, const char *instance)
{
        static const char *const allowed[] = {"https://login.salesforce.com",
                                              "https://test.salesforce.com", NULL};
        json_t *one = json_is_array(aud) ? json_array_get(aud, 0) : aud;
        const char *s = json_string_value(one);

        if (!s || (json_is_array(aud) && json_array_size(aud) != 1))
                return false;
        for (size_t i = 0; allowed[i]; i++) {
                if (strcmp(s, allowed[i]) == 0)
                        return true;
        }
        return strcmp(s, instance) == 0 ||
               (strlen(s) == strlen(instance) + 1 && strncmp(s, instance, strlen(instance)) == 0 &&
                s[strlen(instance)] == '/');
}

/* Check the JWT's form, issuer, signature, audience and expiry (no lock needed). */
static bool jwt_check(const struct sb_request *req, const char *jwt, const char *instance,
                      json_t **claims, struct grant *g)
{
        const char *dot1 = strchr(jwt, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
        json_t *header = NULL, *exp;
        bool ok = false;

        if (!dot2 || strchr(dot2 + 1, '.'))
                return deny(g, "invalid_grant", "invalid assertion");
        header = sf_jwt_part(jwt, (size_t)(dot1 - jwt));
        *claims = sf_jwt_part(dot1 + 1, (size_t)(dot2 - dot1 - 1));
        if (!header || !*claims ||
            strcmp(json_string_value(json_object_get(header, "alg")) ?: "", "RS256") != 0) {
                deny(g, "invalid_grant", "invalid assertion");
                goto out;
        }
        if (!req->cfg->sf_client_id ||
            !secrets_equal(json_string_value(json_object_get(*claims, "iss")) ?: "",
                           req->cfg->sf_client_id)) {
                deny(g, "invalid_client_id", "client identifier invalid");
                goto out;
        }
        if (!sf_jwt_rs256_ok(req->cfg->sf_public_key, jwt, (size_t)(dot2 - jwt), dot2 + 1)) {
                deny(g, "invalid_grant", "invalid assertion");
                goto out;
        }
        if (!audience_ok(json_object_get(*claims, "aud"), instance)) {
                deny(g, "invalid_grant", "audience is invalid");
                goto out;
        }
        exp = json_object_get(*claims, "exp");
        if (!json_is_number(exp) || json_number_value(exp) + SF_JWT_SKEW_S < (double)time(NULL)) {
                deny(g, "invalid_grant", "expired authorization code");
                goto out;
        }
        ok = true;
out:
        json_decref(header);
        return ok;
}

static bool grant_jwt(const struct sb_request *req, const char *instance, struct grant *g)
{
        char *jwt = sf_form_get(req->body, "assertion");
        json_t *claims = NULL;
        bool ok = false;

        if (!jwt || !*jwt) {
                deny(g, "invalid_request", "assertion is required");
                goto out;
        }
        if (!jwt_check(req, jwt, instance, &claims, g))
                goto out;
        sb_state_lock();
        g->user = user_by_name_locked(json_string_value(json_object_get(claims, "sub")));
        sb_state_unlock();
        ok = g->user ? true : deny(g, "invalid_grant", "user hasn't approved this consumer");
out:
        json_decref(claims);
        free(jwt);
        return ok;
}

/* client_id and client_secret from the form or from HTTP Basic; new strings. */
static void client_credentials(const struct sb_request *req, char **id, char **secret)
{
        const char *auth = sb_request_header(req, "Authorization");

        *id = sf_form_get(req->body, "client_id");
        *secret = sf_form_get(req->body, "client_secret");
        if (!*id && auth && strncasecmp(auth, "Basic ", 6) == 0) {
                size_t n = 0;
                unsigned char *raw = sf_b64url_decode(auth + 6, strlen(auth + 6), &n);
                char *colon = raw ? strchr((char *)raw, ':') : NULL;
                if (colon) {
                        *id = sf_url_decode((char *)raw, (size_t)(colon - (char *)raw), false);
                        free(*secret);
                        *secret = sf_url_decode(colon + 1, strlen(colon + 1), false);
                }
                free(raw);
        }
}

static bool grant_client(const struct sb_request *req, struct grant *g)
{
        const struct sb_config *cfg = req->cfg;
        char *id = NULL, *secret = NULL;
        json_t *users;
        bool ok = false;

        client_credentials(req, &id, &secret);
        if (!id || !cfg->sf_client_id || !secrets_equal(id, cfg->sf_client_id)) {
                deny(g, "invalid_client_id", "client identifier invalid");
        } else if (!secret || !cfg->sf_client_secret ||
                   !secrets_equal(secret, cfg->sf_client_secret)) {
                deny(g, "invalid_client", "invalid client credentials");
        } else {
                sb_state_lock();
                users = sb_state_records_locked("User", false);
                g->user =
                    json_array_size(users)
                        ? json_deep_copy(json_array_get(users, 0))
                        : json_pack("{s:s,s:s,s:s,s:s}", "Id", INTEGRATION_USER_ID, "Username",
                                    "integration@callbridge.sandbox", "Name", "Integration User",
                                    "Email", "integration@callbridge.sandbox");
                sb_state_unlock();
                ok = g->user != NULL;
        }
        free(id);
        if (secret)
                OPENSSL_cleanse(secret, strlen(secret));
        free(secret);
        return ok;
}

static bool grant_refresh(const struct sb_request *req, struct grant *g)
{
        const struct sb_config *cfg = req->cfg;
        char *id = NULL, *secret = NULL, *rt = sf_form_get(req->body, "refresh_token");
        bool ok = false;

        client_credentials(req, &id, &secret);
        if (!id || !cfg->sf_client_id || !secrets_equal(id, cfg->sf_client_id)) {
                deny(g, "invalid_client_id", "client identifier invalid");
        } else if (secret &&
                   (!cfg->sf_client_secret || !secrets_equal(secret, cfg->sf_client_secret))) {
                deny(g, "invalid_client", "invalid client credentials");
        } else {
                sb_state_lock();
                g->user = json_deep_copy(sf_state_refresh_user_locked(rt));
                sb_state_unlock();
                ok = g->user ? true : deny(g, "invalid_grant", "expired access/refresh token");
        }
        free(id);
        free(secret);
        free(rt);
        return ok;
}

/* grant_type=authorization_code (the web server flow): the code is single use (taken
 * whatever follows), issued to this client for this redirect_uri, and with PKCE the verifier
 * must hash to the code_challenge of the authorize request. */
static bool grant_code(const struct sb_request *req, struct grant *g)
{
        const struct sb_config *cfg = req->cfg;
        char *id = NULL, *secret = NULL, *code = sf_form_get(req->body, "code");
        char *redirect = sf_form_get(req->body, "redirect_uri");
        char *verifier = sf_form_get(req->body, "code_verifier");
        const char *challenge;
        json_t *entry;
        bool ok = false;

        client_credentials(req, &id, &secret);
        sb_state_lock();
        entry = sf_code_take_locked(code);
        sb_state_unlock();
        challenge = json_string_value(json_object_get(entry, "challenge"));
        if (!entry)
                deny(g, "invalid_grant", "invalid authorization code");
        else if (json_integer_value(json_object_get(entry, "exp")) < (json_int_t)time(NULL))
                deny(g, "invalid_grant", "expired authorization code");
        else if (!id || !secrets_equal(id, json_string_value(json_object_get(entry, "client_id"))))
                deny(g, "invalid_client_id", "client identifier invalid");
        else if (secret &&
                 (!cfg->sf_client_secret || !secrets_equal(secret, cfg->sf_client_secret)))
                deny(g, "invalid_client", "invalid client credentials");
        else if (!redirect ||
                 strcmp(redirect, json_string_value(json_object_get(entry, "redirect_uri"))) != 0)
                deny(g, "invalid_grant", "redirect_uri must match configuration");
        else if (challenge && !verifier)
                deny(g, "invalid_grant", "code verifier required");
        else if (challenge && !sf_pkce_matches(verifier, challenge))
                deny(g, "invalid_grant", "invalid code verifier");
        else
                ok = (g->user = json_deep_copy(json_object_get(entry, "user"))) != NULL;
        json_decref(entry);
        free(id);
        if (secret)
                OPENSSL_cleanse(secret, strlen(secret));
        free(secret);
        free(code);
        free(redirect);
        free(verifier);
        return ok;
}

/* 200 with a new access token for g->user. */
static void issue(struct sb_reply *reply, const char *instance, json_t *user)
{
        char *token, issued[32], idurl[512];
        const char *uid = json_string_value(json_object_get(user, "Id"));
        struct timespec now;

        clock_gettime(CLOCK_REALTIME, &now);
        snprintf(issued, sizeof(issued), "%lld",
                 (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
        snprintf(idurl, sizeof(idurl), "%s/id/%s/%s", instance, SF_ORG_ID, uid ? uid : "");
        sb_state_lock();
        token = sf_state_token_mint_locked(user);
        sb_state_unlock();
        if (!token) {
                sb_reply_json_take(reply, 500, NULL);
                return;
        }
        sb_reply_json_take(reply, 200,
                           json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "access_token", token, "scope",
                                     "api", "instance_url", instance, "id", idurl, "token_type",
                                     "Bearer", "issued_at", issued));
        OPENSSL_cleanse(token, strlen(token));
        free(token);
}

void sb_sf_token(const struct sb_request *req, struct sb_reply *reply)
{
        const char *host = sb_request_header(req, "Host");
        char *type = sf_form_get(req->body, "grant_type");
        char instance[300];
        struct grant g = {0};
        bool ok;

        snprintf(instance, sizeof(instance), "http://%s", host ? host : "localhost");
        if (type && strcmp(type, JWT_GRANT) == 0)
                ok = grant_jwt(req, instance, &g);
        else if (type && strcmp(type, "client_credentials") == 0)
                ok = grant_client(req, &g);
        else if (type && strcmp(type, "refresh_token") == 0)
                ok = grant_refresh(req, &g);
        else if (type && strcmp(type, "authorization_code") == 0)
                ok = grant_code(req, &g);
        else
                ok = deny(&g, "unsupported_grant_type", "grant type not supported");
        if (ok)
                issue(reply, instance, g.user);
        else
                sb_reply_json_take(
                    reply, 400,
                    json_pack("{s:s,s:s}", "error", g.error, "error_description", g.description));
        sb_reply_header(reply, "Cache-Control", "no-cache,must-revalidate,max-age=0,no-store");
        json_decref(g.user);
        free(type);
}

void sb_sf_userinfo(const struct sb_request *req, struct sb_reply *reply)
{
        const char *auth = sb_request_header(req, "Authorization");
        const char *host = sb_request_header(req, "Host");
        json_t *user = NULL, *body;
        char sub[512];

        sb_state_lock();
        if (auth && strncasecmp(auth, "Bearer ", 7) == 0)
                user = json_deep_copy(sf_state_token_user_locked(auth + 7));
        sb_state_unlock();
        if (!user) {
                /* Salesforce's identity service answers one word of plain text. */
                sb_reply_data(reply, 403, "text/plain;charset=UTF-8", "Bad_OAuth_Token", 15);
                return;
        }
        snprintf(sub, sizeof(sub), "http://%s/id/%s/%s", host ? host : "localhost", SF_ORG_ID,
                 json_string_value(json_object_get(user, "Id")) ?: "");
        body = json_pack("{s:s,s:O?,s:s,s:O?,s:O?,s:O?,s:O?,s:b,s:b,s:s,s:s,s:s,s:s}", "sub", sub,
                         "user_id", json_object_get(user, "Id"), "organization_id", SF_ORG_ID,
                         "preferred_username", json_object_get(user, "Username"), "nickname",
                         json_object_get(user, "Username"), "name", json_object_get(user, "Name"),
                         "email", json_object_get(user, "Email"), "email_verified", 1, "active",
                         !json_is_false(json_object_get(user, "IsActive")), "user_type", "STANDARD",
                         "language", "en_US", "locale", "en_US", "zoneinfo", "America/Los_Angeles");
        sb_reply_json_take(reply, 200, body);
        json_decref(user);
}

static void oauth_fault_reply(enum sb_fault fault, const struct sb_request *req,
                              struct sb_reply *reply)
{
        if (fault == SB_FAULT_RATE_LIMIT)
                sb_reply_json_take(reply, 403,
                                   json_pack("{s:s,s:s}", "error", "rate_limit_exceeded",
                                             "error_description", "TotalRequests Limit exceeded."));
        else
                sb_reply_json_take(reply, 503,
                                   json_pack("{s:s,s:s}", "error", "unknown_error",
                                             "error_description", "retry your request"));
}

const struct sb_upstream sb_sf_oauth_upstream = {.name = "salesforce.oauth",
                                                 .fault_reply = oauth_fault_reply};
