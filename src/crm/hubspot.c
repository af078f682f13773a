/* The HubSpot CRM provider: the ops table, start-up (secrets, a warm-up thread that
 * authenticates, reads the account's portal id and checks the properties we write), health
 * and metrics. The work itself is in hs_*.c. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbridge/cache.h"
#include "callbridge/crypto.h"
#include "callbridge/log.h"
#include "hs.h"

#define WARMUP_MAX_PAUSE_S 60

bool hs_single_write(const struct cb_config *cfg)
{
        return strcmp(cfg->crm.write_mode, "single") == 0;
}

bool hs_creates_contacts(const struct cb_config *cfg)
{
        return strcmp(cfg->crm.unknown, "create_lead") == 0;
}

static void free_secret(char **s)
{
        if (*s != NULL)
                OPENSSL_cleanse(*s, strlen(*s));
        free(*s);
        *s = NULL;
}

/* Stop requested? Otherwise wait up to `s` seconds for it. */
static bool stop_wait(struct hs *hs, long s)
{
        struct timespec until;
        bool stop;

        cb_deadline_after_ms(s * 1000, &until);
        pthread_mutex_lock(&hs->stop_lock);
        while (!hs->stopping && s > 0 &&
               pthread_cond_timedwait(&hs->stop_cond, &hs->stop_lock, &until) == 0)
                ;
        stop = hs->stopping;
        pthread_mutex_unlock(&hs->stop_lock);
        return stop;
}

/* Authenticate, read the portal and the properties at start, so a broken set-up shows in the
 * log and /readyz at once, not at the first call. Retries with a growing pause. */
static void *warmup(void *arg)
{
        struct hs *hs = arg;
        char err[512];
        long pause = 1;

        while (!stop_wait(hs, 0)) {
                if (hs_portal_load(hs, err, sizeof(err)) == CB_RESULT_OK &&
                    hs_schema_load(hs, "calls", err, sizeof(err)) == CB_RESULT_OK) {
                        hs_schema_check(hs);
                        cb_info("hubspot: connected to portal %ld", atomic_load(&hs->portal_id));
                        break;
                }
                cb_warn("hubspot: not ready yet: %s", err);
                if (stop_wait(hs, pause))
                        break;
                pause = pause * 2 > WARMUP_MAX_PAUSE_S ? WARMUP_MAX_PAUSE_S : pause * 2;
        }
        return NULL;
}

/* The secrets of the configured auth; false (logged) when one cannot be read. */
static bool load_secrets(struct hs *hs)
{
        const struct cb_config *cfg = hs->cfg;

        if (strcmp(cfg->hubspot.auth, "private_app") == 0) {
                hs->static_token = cb_config_read_secret(cfg->hubspot.access_token_file);
                if (hs->static_token == NULL)
                        cb_error("hubspot: cannot read access_token_file %s: %m",
                                 cfg->hubspot.access_token_file);
                return hs->static_token != NULL;
        }
        hs->client_secret = cb_config_read_secret(cfg->hubspot.client_secret_file);
        hs->refresh_token = cb_config_read_secret(cfg->hubspot.refresh_token_file);
        if (hs->client_secret == NULL)
                cb_error("hubspot: cannot read client_secret_file %s",
                         cfg->hubspot.client_secret_file);
        if (hs->refresh_token == NULL)
                cb_error("hubspot: cannot read refresh_token_file %s",
                         cfg->hubspot.refresh_token_file);
        return hs->client_secret != NULL && hs->refresh_token != NULL;
}

/* Instances of one app installation share a token: the Redis key hashes who we are. */
static void token_key(struct hs *hs)
{
        const struct cb_config *cfg = hs->cfg;
        struct cb_buf who = {.max = 4096};
        unsigned char h[32];
        char hex[65];

        cb_buf_printf(&who, "%s|%s|%s", cfg->hubspot.api_base_url,
                      cfg->hubspot.client_id ? cfg->hubspot.client_id : "",
                      hs->refresh_token ? hs->refresh_token : "");
        cb_sha256(who.data, who.len, h);
        cb_hex(h, 8, hex);
        snprintf(hs->token_key, sizeof(hs->token_key), "%shs:token:%s", cb_cache_prefix(), hex);
        if (who.data != NULL)
                OPENSSL_cleanse(who.data, who.len);
        cb_buf_free(&who);
}

struct hs *hs_open(const struct cb_config *cfg)
{
        struct hs *hs = calloc(1, sizeof(*hs));

        if (hs == NULL)
                return NULL;
        hs->cfg = cfg;
        pthread_mutex_init(&hs->lock, NULL);
        pthread_mutex_init(&hs->refresh, NULL);
        pthread_mutex_init(&hs->schema_lock, NULL);
        pthread_mutex_init(&hs->pace_lock, NULL);
        pthread_mutex_init(&hs->assoc_lock, NULL);
        pthread_mutex_init(&hs->stop_lock, NULL);
        pthread_cond_init(&hs->stop_cond, NULL);
        atomic_store(&hs->rl_max, -1);
        atomic_store(&hs->rl_remaining, -1);
        atomic_store(&hs->rl_interval_ms, -1);
        atomic_store(&hs->rl_daily, -1);
        atomic_store(&hs->rl_daily_remaining, -1);
        hs->props = json_object();
        hs->props_at = json_object();
        hs->missing = json_object();
        hs->kinds = json_object();
        if (hs->props == NULL || hs->props_at == NULL || hs->missing == NULL || hs->kinds == NULL ||
            !load_secrets(hs)) {
                hs_free(hs);
                return NULL;
        }
        token_key(hs);
        return hs;
}

void hs_free(struct hs *hs)
{
        if (hs == NULL)
                return;
        if (hs->warmup_started) {
                pthread_mutex_lock(&hs->stop_lock);
                hs->stopping = true;
                pthread_cond_broadcast(&hs->stop_cond);
                pthread_mutex_unlock(&hs->stop_lock);
                pthread_join(hs->warmup, NULL);
        }
        free_secret(&hs->static_token);
        free_secret(&hs->client_secret);
        free_secret(&hs->refresh_token);
        OPENSSL_cleanse(hs->token, sizeof(hs->token));
        json_decref(hs->props);
        json_decref(hs->props_at);
        json_decref(hs->missing);
        json_decref(hs->kinds);
        pthread_mutex_destroy(&hs->lock);
        pthread_mutex_destroy(&hs->refresh);
        pthread_mutex_destroy(&hs->schema_lock);
        pthread_mutex_destroy(&hs->pace_lock);
        pthread_mutex_destroy(&hs->assoc_lock);
        pthread_mutex_destroy(&hs->stop_lock);
        pthread_cond_destroy(&hs->stop_cond);
        free(hs);
}

static void *hs_create(const struct cb_config *cfg)
{
        struct hs *hs = hs_open(cfg);

        if (hs == NULL)
                return NULL;
        /* Task due dates are days in the account's zone; nothing else here uses local time. */
        setenv("TZ", cfg->hubspot.timezone, 1);
        tzset();
        if (pthread_create(&hs->warmup, NULL, warmup, hs) != 0) {
                hs_free(hs);
                return NULL;
        }
        hs->warmup_started = true;
        return hs;
}

static void hs_destroy(void *self)
{
        hs_free(self);
}

/* callbridge's object names ("Call", "Contact") or HubSpot's ("calls") to HubSpot's. */
static const char *object_name(const char *o)
{
        static const struct {
                const char *ours, *theirs;
        } names[] = {{"Call", "calls"},        {"Contact", "contacts"},    {"Company", "companies"},
                     {"Task", "tasks"},        {"Note", "notes"},          {"calls", "calls"},
                     {"contacts", "contacts"}, {"companies", "companies"}, {"tasks", "tasks"},
                     {"notes", "notes"}};

        for (size_t i = 0; o != NULL && i < CB_ARRAY_LEN(names); i++)
                if (strcmp(o, names[i].ours) == 0)
                        return names[i].theirs;
        return NULL;
}

static enum cb_result hs_describe(void *self, const char *object, json_t **fields, char *err,
                                  size_t err_size)
{
        struct hs *hs = self;
        const char *o = object_name(object);
        enum cb_result r;
        const char *name;
        json_t *v;

        *fields = NULL;
        if (o == NULL) {
                snprintf(err, err_size, "hubspot: no object %.40s", object ? object : "");
                return CB_RESULT_FAIL;
        }
        r = hs_schema_load(hs, o, err, err_size);
        if (r != CB_RESULT_OK)
                return r;
        *fields = json_array();
        pthread_mutex_lock(&hs->schema_lock);
        json_object_foreach(json_object_get(hs->props, o), name, v)
            json_array_append_new(*fields, json_string(name));
        pthread_mutex_unlock(&hs->schema_lock);
        return CB_RESULT_OK;
}

static const char *hs_record_type(void *self, const char *id)
{
        struct hs *hs = self;
        const char *kind;

        /* Ids are numbers of any object: only what lookups saw can tell. */
        pthread_mutex_lock(&hs->schema_lock);
        kind = json_string_value(json_object_get(hs->kinds, id ? id : ""));
        pthread_mutex_unlock(&hs->schema_lock);
        if (kind == NULL)
                return NULL;
        return strcmp(kind, "companies") == 0 ? "Company" : "Contact";
}

static const char *hs_record_kind(void *self, const char *id)
{
        const char *type = hs_record_type(self, id);

        if (type == NULL)
                return NULL;
        return strcmp(type, "Company") == 0 ? CB_CRM_KIND_COMPANY : CB_CRM_KIND_CONTACT;
}

/* A HubSpot owner id: 1-12 digits, kept as they are. */
static bool hs_user_id_canon(const char *id, char *out, size_t out_size)
{
        size_t n = id != NULL ? strlen(id) : 0;

        if (n < 1 || n > 12 || strspn(id, "0123456789") != n || n >= out_size)
                return false;
        memcpy(out, id, n + 1);
        return true;
}

static bool hs_instance_url(void *self, char *out, size_t out_size)
{
        struct hs *hs = self;

        return cb_strlcpy(out, hs->cfg->hubspot.app_url, out_size);
}

static void hs_health(void *self, char *out, size_t out_size)
{
        struct hs *hs = self;
        char auth[256], missing[512];

        hs_auth_error(hs, auth, sizeof(auth));
        hs_schema_missing(hs, missing, sizeof(missing));
        if (auth[0] != '\0')
                snprintf(out, out_size, "auth failed: %s", auth);
        else if (atomic_load(&hs->daily_exhausted))
                snprintf(out, out_size,
                         "daily limit reached: %ld/%ld left; CRM writes wait for it to refill",
                         atomic_load(&hs->rl_daily_remaining), atomic_load(&hs->rl_daily));
        else if (atomic_load(&hs->portal_id) == 0)
                snprintf(out, out_size, "connecting");
        else if (missing[0] != '\0')
                snprintf(out, out_size, "ok; missing properties skipped: %s", missing);
        else
                snprintf(out, out_size, "ok");
}

static void hs_metrics(void *self, struct cb_buf *out)
{
        static const char *const names[HS_OUTCOMES] = {"ok", "wait", "retry", "fail"};
        struct hs *hs = self;
        char auth[256];

        hs_auth_error(hs, auth, sizeof(auth));
        cb_buf_puts(out, "# HELP callbridge_hubspot_requests_total HubSpot API requests by "
                         "outcome.\n# TYPE callbridge_hubspot_requests_total counter\n");
        for (int i = 0; i < HS_OUTCOMES; i++)
                cb_buf_printf(out, "callbridge_hubspot_requests_total{outcome=\"%s\"} %lu\n",
                              names[i], atomic_load(&hs->outcomes[i]));
        cb_buf_printf(
            out,
            "# HELP callbridge_hubspot_ratelimit_remaining Requests left in the 10-second window "
            "(X-HubSpot-RateLimit-Remaining; -1 unknown).\n"
            "# TYPE callbridge_hubspot_ratelimit_remaining gauge\n"
            "callbridge_hubspot_ratelimit_remaining %ld\n"
            "# HELP callbridge_hubspot_ratelimit_max Requests allowed per window.\n"
            "# TYPE callbridge_hubspot_ratelimit_max gauge\n"
            "callbridge_hubspot_ratelimit_max %ld\n"
            "# HELP callbridge_hubspot_ratelimit_daily_remaining Requests left today (-1 "
            "unknown).\n# TYPE callbridge_hubspot_ratelimit_daily_remaining gauge\n"
            "callbridge_hubspot_ratelimit_daily_remaining %ld\n"
            "# HELP callbridge_hubspot_searches_total Search requests made (paced to "
            "search_per_s).\n# TYPE callbridge_hubspot_searches_total counter\n"
            "callbridge_hubspot_searches_total %lu\n"
            "# HELP callbridge_hubspot_token_requests_total OAuth token refreshes.\n"
            "# TYPE callbridge_hubspot_token_requests_total counter\n"
            "callbridge_hubspot_token_requests_total %lu\n"
            "# HELP callbridge_hubspot_auth_ok 0 while HubSpot refuses our credentials.\n"
            "# TYPE callbridge_hubspot_auth_ok gauge\ncallbridge_hubspot_auth_ok %d\n"
            "# HELP callbridge_crm_allowance_exhausted 1 while the CRM's daily API "
            "allowance is spent (writes wait).\n"
            "# TYPE callbridge_crm_allowance_exhausted gauge\n"
            "callbridge_crm_allowance_exhausted %d\n"
            "# HELP callbridge_crm_waits_total CRM requests answered \"wait\" "
            "(allowance, 429, budget hold): the job is rescheduled, no attempt spent.\n"
            "# TYPE callbridge_crm_waits_total counter\ncallbridge_crm_waits_total %lu\n",
            atomic_load(&hs->rl_remaining), atomic_load(&hs->rl_max),
            atomic_load(&hs->rl_daily_remaining), atomic_load(&hs->searches),
            atomic_load(&hs->token_requests), auth[0] == '\0',
            (int)atomic_load(&hs->daily_exhausted), atomic_load(&hs->waits));
}

const struct cb_crm_ops cb_crm_hubspot = {
    .name = "hubspot",
    .caps = CB_CRM_CAP_LOOKUP,
    .create = hs_create,
    .destroy = hs_destroy,
    .lookup_phone = hs_lookup_phone,
    .get_record = hs_get_record,
    .record_type = hs_record_type,
    .record_kind = hs_record_kind,
    .create_lead = hs_create_lead,
    .log_call = hs_log_call,
    .log_call_once = hs_log_call_once,
    .attach = hs_attach,
    .create_task = hs_create_task,
    .log_calls = hs_log_calls,
    .attach_many = hs_attach_many,
    .create_tasks = hs_create_tasks,
    .describe = hs_describe,
    .user_id_canon = hs_user_id_canon,
    .setup = hs_setup,
    .session_agent = NULL,
    .health = hs_health,
    .instance_url = hs_instance_url,
    .metrics = hs_metrics,
};
