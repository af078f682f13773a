/* The Salesforce CRM provider: the ops table, start-up (secrets, time zone, a warm-up thread
 * that authenticates and describes the objects we write), health, metrics and Salesforce
 * session tokens as softphone credentials. The work itself is in sf_*.c. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "callbridge/cache.h"
#include "callbridge/crypto.h"
#include "callbridge/jwt.h"
#include "callbridge/log.h"
#include "callbridge/upstream.h"
#include "sf.h"

#define WARMUP_MAX_PAUSE_S 60

static void free_secret(char **s)
{
        if (*s != NULL)
                OPENSSL_cleanse(*s, strlen(*s));
        free(*s);
        *s = NULL;
}

/* Stop requested? Otherwise wait up to `s` seconds for it. */
static bool stop_wait(struct sf *sf, long s)
{
        struct timespec until;
        bool stop;

        cb_deadline_after_ms(s * 1000, &until);
        pthread_mutex_lock(&sf->stop_lock);
        while (!sf->stopping && s > 0 &&
               pthread_cond_timedwait(&sf->stop_cond, &sf->stop_lock, &until) == 0)
                ;
        stop = sf->stopping;
        pthread_mutex_unlock(&sf->stop_lock);
        return stop;
}

/* Authenticate and describe the call log object at start, so a broken set-up shows in the
 * log and /readyz at once, not at the first call. Retries with a growing pause. */
static void *warmup(void *arg)
{
        struct sf *sf = arg;
        struct sf_token tok;
        char err[512];
        long pause = 1;

        while (!stop_wait(sf, 0)) {
                if (sf_auth_token(sf, &tok, err, sizeof(err)) == CB_RESULT_OK &&
                    sf_schema_load(sf, sf->cfg->salesforce.call_log_object, err, sizeof(err)) ==
                        CB_RESULT_OK) {
                        sf_calllog_check_schema(sf);
                        cb_info("salesforce: connected to %s", tok.instance_url);
                        break;
                }
                cb_warn("salesforce: not ready yet: %s", err);
                if (stop_wait(sf, pause))
                        break;
                pause = pause * 2 > WARMUP_MAX_PAUSE_S ? WARMUP_MAX_PAUSE_S : pause * 2;
        }
        return NULL;
}

/* The secrets of the configured flow; false (logged) when one cannot be read. */
static bool load_secrets(struct sf *sf)
{
        const struct cb_config *cfg = sf->cfg;

        if (strcmp(cfg->salesforce.auth, "jwt") == 0)
                return (sf->key = cb_jwt_load_private_key(cfg->salesforce.private_key_file)) !=
                       NULL;
        sf->client_secret = cb_config_read_secret(cfg->salesforce.client_secret_file);
        if (sf->client_secret == NULL) {
                cb_error("salesforce: cannot read client_secret_file %s: %m",
                         cfg->salesforce.client_secret_file);
                return false;
        }
        if (strcmp(cfg->salesforce.auth, "refresh_token") != 0)
                return true;
        sf->refresh_token = cb_config_read_secret(cfg->salesforce.refresh_token_file);
        if (sf->refresh_token == NULL)
                cb_error("salesforce: cannot read refresh_token_file %s: %m",
                         cfg->salesforce.refresh_token_file);
        return sf->refresh_token != NULL;
}

/* Instances of one org and user share a token: the Redis key hashes who we log in as. */
static void token_key(struct sf *sf)
{
        const struct cb_config *cfg = sf->cfg;
        struct cb_buf who = {.max = 2048};
        unsigned char h[32];
        char hex[65];

        cb_buf_printf(&who, "%s|%s|%s|%s", cfg->salesforce.login_url, cfg->salesforce.client_id,
                      cfg->salesforce.username ? cfg->salesforce.username : "",
                      cfg->salesforce.auth);
        cb_sha256(who.data, who.len, h);
        cb_hex(h, 8, hex);
        snprintf(sf->token_key, sizeof(sf->token_key), "%ssf:token:%s", cb_cache_prefix(), hex);
        cb_buf_free(&who);
}

static void sf_destroy(void *self);

static void *sf_create(const struct cb_config *cfg)
{
        struct sf *sf = calloc(1, sizeof(*sf));

        if (sf == NULL)
                return NULL;
        sf->cfg = cfg;
        pthread_mutex_init(&sf->lock, NULL);
        pthread_mutex_init(&sf->refresh, NULL);
        pthread_mutex_init(&sf->schema_lock, NULL);
        pthread_mutex_init(&sf->stop_lock, NULL);
        pthread_cond_init(&sf->stop_cond, NULL);
        sf->fields = json_object();
        sf->missing = json_object();
        if (sf->fields == NULL || sf->missing == NULL || !load_secrets(sf))
                goto fail;
        token_key(sf);
        /* ActivityDate is a date in the org's zone; nothing else here uses local time. */
        setenv("TZ", cfg->salesforce.timezone, 1);
        tzset();
        if (pthread_create(&sf->warmup, NULL, warmup, sf) != 0)
                goto fail;
        sf->warmup_started = true;
        return sf;
fail:
        sf_destroy(sf);
        return NULL;
}

static void sf_destroy(void *self)
{
        struct sf *sf = self;

        if (sf == NULL)
                return;
        if (sf->warmup_started) {
                pthread_mutex_lock(&sf->stop_lock);
                sf->stopping = true;
                pthread_cond_broadcast(&sf->stop_cond);
                pthread_mutex_unlock(&sf->stop_lock);
                pthread_join(sf->warmup, NULL);
        }
        EVP_PKEY_free(sf->key);
        free_secret(&sf->client_secret);
        free_secret(&sf->refresh_token);
        OPENSSL_cleanse(&sf->token, sizeof(sf->token));
        json_decref(sf->fields);
        json_decref(sf->missing);
        pthread_mutex_destroy(&sf->lock);
        pthread_mutex_destroy(&sf->refresh);
        pthread_mutex_destroy(&sf->schema_lock);
        pthread_mutex_destroy(&sf->stop_lock);
        pthread_cond_destroy(&sf->stop_cond);
        free(sf);
}

static enum cb_result sf_describe(void *self, const char *object, json_t **fields, char *err,
                                  size_t err_size)
{
        struct sf *sf = self;
        enum cb_result r = sf_schema_load(sf, object, err, err_size);
        const char *name;
        json_t *v;

        *fields = NULL;
        if (r != CB_RESULT_OK)
                return r;
        *fields = json_array();
        pthread_mutex_lock(&sf->schema_lock);
        json_object_foreach(json_object_get(sf->fields, object), name, v)
            json_array_append_new(*fields, json_string(name));
        pthread_mutex_unlock(&sf->schema_lock);
        return CB_RESULT_OK;
}

static bool sf_instance_url(void *self, char *out, size_t out_size)
{
        struct sf *sf = self;
        bool have;

        pthread_mutex_lock(&sf->lock);
        have = sf->have_token && sf->token.instance_url[0] != '\0';
        if (have)
                cb_strlcpy(out, sf->token.instance_url, out_size);
        pthread_mutex_unlock(&sf->lock);
        return have;
}

static void sf_health(void *self, char *out, size_t out_size)
{
        struct sf *sf = self;
        char auth[256], missing[512];
        bool have;

        sf_auth_error(sf, auth, sizeof(auth));
        sf_schema_missing(sf, missing, sizeof(missing));
        pthread_mutex_lock(&sf->lock);
        have = sf->have_token;
        pthread_mutex_unlock(&sf->lock);
        if (auth[0] != '\0')
                snprintf(out, out_size, "auth failed: %s", auth);
        else if (atomic_load(&sf->allowance_exhausted))
                snprintf(out, out_size,
                         "allowance exhausted: API usage %ld/%ld; CRM writes wait for it to "
                         "refill",
                         atomic_load(&sf->api_used), atomic_load(&sf->api_max));
        else if (missing[0] != '\0')
                snprintf(out, out_size, "ok; missing fields skipped: %s", missing);
        else
                snprintf(out, out_size, "%s", have ? "ok" : "connecting");
}

static void sf_metrics(void *self, struct cb_buf *out)
{
        struct sf *sf = self;
        char auth[256];

        sf_auth_error(sf, auth, sizeof(auth));
        cb_buf_printf(out,
                      "# HELP callbridge_salesforce_api_usage Daily API requests used "
                      "(Sforce-Limit-Info).\n# TYPE callbridge_salesforce_api_usage gauge\n"
                      "callbridge_salesforce_api_usage %ld\n"
                      "# HELP callbridge_salesforce_api_limit Daily API request limit.\n"
                      "# TYPE callbridge_salesforce_api_limit gauge\n"
                      "callbridge_salesforce_api_limit %ld\n"
                      "# HELP callbridge_salesforce_token_requests_total OAuth token requests.\n"
                      "# TYPE callbridge_salesforce_token_requests_total counter\n"
                      "callbridge_salesforce_token_requests_total %lu\n"
                      "# HELP callbridge_salesforce_auth_refusals_total Token requests refused "
                      "(invalid_grant, invalid_client...).\n"
                      "# TYPE callbridge_salesforce_auth_refusals_total counter\n"
                      "callbridge_salesforce_auth_refusals_total %lu\n"
                      "# HELP callbridge_salesforce_auth_ok 0 while the org refuses our "
                      "credentials.\n# TYPE callbridge_salesforce_auth_ok gauge\n"
                      "callbridge_salesforce_auth_ok %d\n"
                      "# HELP callbridge_salesforce_session_checks_total Softphone Salesforce "
                      "sessions checked with userinfo.\n"
                      "# TYPE callbridge_salesforce_session_checks_total counter\n"
                      "callbridge_salesforce_session_checks_total %lu\n"
                      "# HELP callbridge_crm_allowance_exhausted 1 while the CRM's daily API "
                      "allowance is spent (writes wait).\n"
                      "# TYPE callbridge_crm_allowance_exhausted gauge\n"
                      "callbridge_crm_allowance_exhausted %d\n"
                      "# HELP callbridge_crm_waits_total CRM requests answered \"wait\" "
                      "(allowance, 429, budget hold): the job is rescheduled, no attempt spent.\n"
                      "# TYPE callbridge_crm_waits_total counter\n"
                      "callbridge_crm_waits_total %lu\n",
                      atomic_load(&sf->api_used), atomic_load(&sf->api_max),
                      atomic_load(&sf->token_requests), atomic_load(&sf->token_refusals),
                      auth[0] == '\0', atomic_load(&sf->session_checks),
                      (int)atomic_load(&sf->allowance_exhausted), atomic_load(&sf->waits));
}

/* ---- Salesforce sessions as softphone credentials ---------------------------------------- */

/* Ask userinfo who `token` is; OK with the username in `agent`. */
static enum cb_result userinfo(struct sf *sf, const char *token, char *agent, size_t agent_size,
                               char *err, size_t err_size)
{
        struct cb_upstream_req req = {.service = "salesforce", .method = "GET"};
        struct cb_upstream_resp resp = {0};
        struct sf_token ours;
        char url[SF_URL_MAX + 64], auth[SF_TOKEN_MAX + 32];
        enum cb_result r = sf_auth_token(sf, &ours, err, err_size);
        json_t *j = NULL;
        const char *org, *user;

        if (r != CB_RESULT_OK)
                return r;
        atomic_fetch_add(&sf->session_checks, 1);
        snprintf(url, sizeof(url), "%s/services/oauth2/userinfo", ours.instance_url);
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        req.url = url;
        req.headers[0] = auth;
        req.headers[1] = "Accept: application/json";
        req.timeout_ms = sf->cfg->salesforce.timeout_ms;
        if (cb_upstream_perform(&req, &resp) != 0 || resp.status == 429 || resp.status >= 500) {
                snprintf(err, err_size, "salesforce userinfo unavailable");
                r = CB_RESULT_RETRY;
                goto out;
        }
        j = resp.status == 200 ? json_loadb(resp.body.data, resp.body.len, 0, NULL) : NULL;
        org = json_string_value(json_object_get(j, "organization_id"));
        user = json_string_value(json_object_get(j, "preferred_username"));
        r = CB_RESULT_FAIL;
        snprintf(err, err_size, "not a valid Salesforce session of this org");
        /* Org ids come as 15 or 18 characters; the first 15 identify the org. */
        if (org != NULL && user != NULL && strncmp(org, ours.org_id, 15) == 0 &&
            cb_str_charset(user, agent_size - 1, "._@-+") && cb_strlcpy(agent, user, agent_size))
                r = CB_RESULT_OK;
out:
        json_decref(j);
        cb_upstream_resp_free(&resp);
        return r;
}

static enum cb_result sf_session_agent(void *self, const char *token, char *agent,
                                       size_t agent_size, char *err, size_t err_size)
{
        struct sf *sf = self;
        unsigned char h[32];
        char hex[65];
        redisReply *cached;
        enum cb_result r;
        long ttl = sf->cfg->salesforce.session_cache_ttl_s;

        cb_sha256(token, strlen(token), h);
        cb_hex(h, sizeof(h), hex);
        cached = ttl > 0 ? cb_cache_command("GET %ssfsession:%s", cb_cache_prefix(), hex) : NULL;
        if (cached != NULL && cached->type == REDIS_REPLY_STRING &&
            cb_strlcpy(agent, cached->str, agent_size)) {
                freeReplyObject(cached);
                return CB_RESULT_OK;
        }
        freeReplyObject(cached);
        r = userinfo(sf, token, agent, agent_size, err, err_size);
        if (r == CB_RESULT_OK && ttl > 0)
                freeReplyObject(cb_cache_command("SET %ssfsession:%s %s EX %ld", cb_cache_prefix(),
                                                 hex, agent, ttl));
        return r;
}

static const char *sf_record_type(void *self, const char *id)
{
        (void)self;
        return sf_type_of_id(id); /* Salesforce ids begin with their object's key prefix */
}

static bool sf_session_auth_enabled(void *self)
{
        return ((const struct sf *)self)->cfg->salesforce.session_auth;
}

/* Salesforce's objects as the CRM-neutral kinds: Lead, Contact, Account. */
static const char *sf_record_kind(void *self, const char *id)
{
        const char *type = sf_type_of_id(id);

        (void)self;
        if (type == NULL)
                return NULL;
        return strcmp(type, "Lead") == 0      ? CB_CRM_KIND_LEAD
               : strcmp(type, "Contact") == 0 ? CB_CRM_KIND_CONTACT
               : strcmp(type, "Account") == 0 ? CB_CRM_KIND_COMPANY
                                              : NULL;
}

const struct cb_crm_ops cb_crm_salesforce = {
    .name = "salesforce",
    .caps = CB_CRM_CAP_LOOKUP,
    .create = sf_create,
    .destroy = sf_destroy,
    .lookup_phone = sf_lookup_phone,
    .get_record = sf_get_record,
    .record_type = sf_record_type,
    .record_kind = sf_record_kind,
    .create_lead = sf_create_lead,
    .log_call = sf_log_call,
    .log_call_once = sf_log_call_once,
    .attach = sf_attach,
    .create_task = sf_create_task,
    .log_calls = sf_log_calls,
    .attach_many = sf_attach_many,
    .create_tasks = sf_create_tasks,
    .write_batch = sf_write_batch,
    .describe = sf_describe,
    .user_id_canon = sf_user_id_canon,
    .session_agent = sf_session_agent,
    .session_auth_enabled = sf_session_auth_enabled,
    .sign_in_enabled = sf_sign_in_enabled,
    .sign_in_url = sf_sign_in_url,
    .sign_in_exchange = sf_sign_in_exchange,
    .user_can_read = sf_user_can_read,
    .health = sf_health,
    .instance_url = sf_instance_url,
    .metrics = sf_metrics,
};
