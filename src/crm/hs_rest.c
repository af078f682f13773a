/* The HubSpot REST client: bearer auth with one renewal on 401, answers classified (429 waits,
 * 5xx and transport retry, other 4xx fail with HubSpot's message), the X-HubSpot-RateLimit-*
 * headers read on every answer, low-priority writes held while the budget is nearly spent,
 * and the search pacer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbridge/log.h"
#include "callbridge/upstream.h"
#include "hs.h"

#define MAX_RESPONSE     ((size_t)16 * 1024 * 1024)
#define DAILY_PROBE_MS   (15L * 60 * 1000) /* a spent daily limit is tried again this often */
#define ROLLING_WAIT_MS  10000L            /* the 10-second window without its header */
#define SEARCH_WAIT_MS   1000L             /* the search limit is per second */
#define PACE_MAX_WAIT_US 2000000L          /* a search waits at most this long for its slot */

/* One header value as a long, or -1 when absent or not a number. */
static long header_long(const char *v)
{
        long n;

        return v != NULL && cb_parse_long(v, 0, 1000000000L, &n) ? n : -1;
}

void hs_limits_parse(struct hs *hs, const char *max, const char *remaining, const char *interval,
                     const char *daily, const char *daily_remaining)
{
        long m = header_long(max), r = header_long(remaining);

        if (m > 0 && r >= 0) {
                atomic_store(&hs->rl_max, m);
                atomic_store(&hs->rl_remaining, r);
                atomic_store(&hs->rl_seen_us, cb_mono_us());
                if (header_long(interval) > 0)
                        atomic_store(&hs->rl_interval_ms, header_long(interval));
        }
        if (header_long(daily) > 0 && header_long(daily_remaining) >= 0) {
                atomic_store(&hs->rl_daily, header_long(daily));
                atomic_store(&hs->rl_daily_remaining, header_long(daily_remaining));
        }
}

bool hs_budget_low(struct hs *hs)
{
        long max = atomic_load(&hs->rl_max), left = atomic_load(&hs->rl_remaining);
        long interval = atomic_load(&hs->rl_interval_ms);
        long daily = atomic_load(&hs->rl_daily), dleft = atomic_load(&hs->rl_daily_remaining);
        int64_t age_us = cb_mono_us() - atomic_load(&hs->rl_seen_us);

        if (interval <= 0)
                interval = ROLLING_WAIT_MS;
        if (max > 0 && left >= 0 && age_us < interval * 1000L && left * 5 <= max)
                return true;
        return daily > 0 && dleft >= 0 && dleft * 10 <= daily;
}

void hs_error_of(const json_t *body, const char **category, const char **message,
                 const char **property)
{
        const json_t *first = json_array_get(json_object_get(body, "errors"), 0);
        const json_t *names;

        *category = json_string_value(json_object_get(body, "category"));
        *message = json_string_value(json_object_get(body, "message"));
        if (*category == NULL)
                *category = json_string_value(json_object_get(first, "category"));
        if (*message == NULL)
                *message = json_string_value(json_object_get(first, "message"));
        /* errors[].context.propertyName is a list of names */
        names = json_object_get(json_object_get(first, "context"), "propertyName");
        *property = json_is_array(names) ? json_string_value(json_array_get(names, 0))
                                         : json_string_value(names);
        if (*category == NULL)
                *category = "";
        if (*message == NULL)
                *message = "";
        if (*property == NULL)
                *property = "";
}

enum cb_result hs_classify(long status, const char *policy, bool *daily)
{
        *daily = false;
        if (status == 429) {
                *daily = policy != NULL && strcmp(policy, "DAILY") == 0;
                return CB_RESULT_WAIT;
        }
        if (status == 401 || status == 408 || status >= 500 || status < 200)
                return CB_RESULT_RETRY;
        return status >= 300 ? CB_RESULT_FAIL : CB_RESULT_OK;
}

long hs_wait_ms(const char *policy, long interval_ms, bool daily)
{
        if (daily)
                return DAILY_PROBE_MS;
        if (policy != NULL && strcmp(policy, "TEN_SECONDLY_ROLLING") == 0)
                return interval_ms > 0 ? interval_ms : ROLLING_WAIT_MS;
        /* The search API's per-second limit answers 429 without policy or headers. */
        return interval_ms > 0 && policy != NULL && policy[0] != '\0' ? interval_ms
                                                                      : SEARCH_WAIT_MS;
}

/* One attempt with `token`. Returns the transport result; fills the response. */
static int attempt(struct hs *hs, const char *token, const char *method, const char *path,
                   const char *body, struct cb_upstream_resp *resp)
{
        struct cb_buf url = {.max = 16384}, auth = {.max = HS_TOKEN_MAX + 32};
        struct cb_upstream_req req = {.service = "hubspot", .method = method};
        char v[5][32];
        static const char *const names[5] = {
            "X-HubSpot-RateLimit-Max", "X-HubSpot-RateLimit-Remaining",
            "X-HubSpot-RateLimit-Interval-Milliseconds", "X-HubSpot-RateLimit-Daily",
            "X-HubSpot-RateLimit-Daily-Remaining"};
        const char *got[5];
        int rc = -1;

        memset(resp, 0, sizeof(*resp));
        if (cb_buf_printf(&url, "%s%s", hs->cfg->hubspot.api_base_url, path) != 0 ||
            cb_buf_append(&url, "", 1) != 0 ||
            cb_buf_printf(&auth, "Authorization: Bearer %s", token) != 0 ||
            cb_buf_append(&auth, "", 1) != 0) {
                snprintf(resp->error, sizeof(resp->error), "URL too long");
                goto out;
        }
        req.url = url.data;
        req.headers[0] = auth.data;
        req.headers[1] = "Accept: application/json";
        req.headers[2] = body ? "Content-Type: application/json" : NULL;
        req.body = body;
        req.body_len = body ? strlen(body) : 0;
        req.timeout_ms = hs->cfg->hubspot.timeout_ms;
        req.max_response = MAX_RESPONSE;
        rc = cb_upstream_perform(&req, resp);
        if (rc == 0) {
                for (int i = 0; i < 5; i++)
                        got[i] = cb_upstream_resp_header(resp, names[i], v[i], sizeof(v[i])) ? v[i]
                                                                                             : NULL;
                hs_limits_parse(hs, got[0], got[1], got[2], got[3], got[4]);
        }
out:
        cb_buf_free(&auth);
        cb_buf_free(&url);
        return rc;
}

/* Before sending: WAIT while a spent daily limit is not due for a probe, or for low-priority
 * work while the budget is nearly spent. */
static bool held(struct hs *hs, enum cb_crm_priority prio, char *err, size_t err_size)
{
        int64_t left = atomic_load(&hs->daily_probe_us) - cb_mono_us();

        if (atomic_load(&hs->daily_exhausted) && left > 0) {
                snprintf(err, err_size,
                         "hubspot 429 DAILY: the daily API limit is spent; "
                         "waiting for it to refill");
                cb_wait_hint_set(left / 1000 + 1);
                return true;
        }
        if (prio == CB_CRM_PRIO_LOW && hs_budget_low(hs)) {
                long interval = atomic_load(&hs->rl_interval_ms);
                snprintf(err, err_size,
                         "hubspot rate limit nearly spent (%ld/%ld left, daily %ld/%ld): "
                         "low-priority write waits",
                         atomic_load(&hs->rl_remaining), atomic_load(&hs->rl_max),
                         atomic_load(&hs->rl_daily_remaining), atomic_load(&hs->rl_daily));
                cb_wait_hint_set(interval > 0 ? interval : ROLLING_WAIT_MS);
                return true;
        }
        return false;
}

/* Map a non-2xx answer to WAIT, RETRY or FAIL with a reason naming HubSpot's category. */
static enum cb_result map_error(struct hs *hs, const struct cb_upstream_resp *resp, const json_t *j,
                                struct hs_answer *ans, char *err, size_t err_size)
{
        const char *category, *message, *property;
        const char *policy = json_string_value(json_object_get(j, "policyName"));
        char iv[32];
        bool daily;
        long interval = -1;
        enum cb_result r;

        hs_error_of(j, &category, &message, &property);
        cb_strlcpy(ans->category, category, sizeof(ans->category));
        cb_strlcpy(ans->property, property, sizeof(ans->property));
        r = hs_classify(resp->status, policy, &daily);
        snprintf(err, err_size, "hubspot %ld %s: %.400s", resp->status,
                 category[0] ? category : (policy ? policy : ""), message);
        if (r == CB_RESULT_WAIT) {
                if (cb_upstream_resp_header(resp, "X-HubSpot-RateLimit-Interval-Milliseconds", iv,
                                            sizeof(iv)))
                        interval = header_long(iv);
                if (daily) {
                        if (!atomic_exchange(&hs->daily_exhausted, true))
                                cb_warn("hubspot: the daily API limit is spent; CRM writes wait "
                                        "(asked again every %ld s)",
                                        DAILY_PROBE_MS / 1000);
                        atomic_store(&hs->daily_probe_us, cb_mono_us() + DAILY_PROBE_MS * 1000L);
                }
                cb_wait_hint_set(hs_wait_ms(policy, interval, daily));
        }
        return r;
}

/* Count the outcome (metrics) and return it. */
static enum cb_result counted(struct hs *hs, enum cb_result r)
{
        enum hs_outcome o = r == CB_RESULT_OK     ? HS_OK
                            : r == CB_RESULT_WAIT ? HS_WAIT
                            : r == CB_RESULT_FAIL ? HS_FAIL
                                                  : HS_RETRY;

        atomic_fetch_add(&hs->outcomes[o], 1);
        if (r == CB_RESULT_WAIT)
                atomic_fetch_add(&hs->waits, 1);
        return r;
}

/* A 401 that renewal did not cure: remember it for /readyz. */
static void auth_refused(struct hs *hs, const json_t *j)
{
        const char *category, *message, *property;
        char why[256];

        hs_error_of(j, &category, &message, &property);
        snprintf(why, sizeof(why), "%s: %.200s", category[0] ? category : "401", message);
        hs_auth_refused(hs, why);
}

enum cb_result hs_rest(struct hs *hs, const char *method, const char *path, const json_t *body,
                       enum cb_crm_priority prio, struct hs_answer *ans, json_t **out, char *err,
                       size_t err_size)
{
        struct cb_upstream_resp resp = {0};
        char token[HS_TOKEN_MAX], fresh[HS_TOKEN_MAX];
        char *text = NULL;
        enum cb_result r = CB_RESULT_RETRY;

        memset(ans, 0, sizeof(*ans));
        *out = NULL;
        if (held(hs, prio, err, err_size))
                return counted(hs, CB_RESULT_WAIT);
        if (body != NULL &&
            (text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15))) == NULL) {
                snprintf(err, err_size, "out of memory");
                return counted(hs, CB_RESULT_RETRY);
        }
        r = hs_auth_token(hs, token, err, err_size);
        for (int round = 0; r == CB_RESULT_OK && round < 2; round++) {
                json_t *j;

                cb_upstream_resp_free(&resp);
                if (attempt(hs, token, method, path, text, &resp) != 0) {
                        snprintf(err, err_size, "hubspot: %s", resp.error);
                        r = CB_RESULT_RETRY;
                        break;
                }
                ans->status = resp.status;
                j = resp.body.len ? json_loadb(resp.body.data, resp.body.len, 0, NULL) : NULL;
                if (resp.status == 401 && round == 0 && hs->static_token == NULL) {
                        json_decref(j);
                        r = hs_auth_renew(hs, token, fresh, err, err_size);
                        cb_strlcpy(token, fresh, sizeof(token));
                        continue;
                }
                *out = j;
                if (resp.status >= 200 && resp.status < 300) {
                        r = CB_RESULT_OK;
                        if (hs->static_token != NULL)
                                hs_auth_refused(hs, ""); /* the token works (again) */
                        if (atomic_exchange(&hs->daily_exhausted, false))
                                cb_info("hubspot: the daily API limit is available again");
                } else {
                        if (resp.status == 401)
                                auth_refused(hs, j);
                        r = map_error(hs, &resp, j, ans, err, err_size);
                }
                break;
        }
        memset(token, 0, sizeof(token));
        memset(fresh, 0, sizeof(fresh));
        cb_upstream_resp_free(&resp);
        free(text);
        return counted(hs, r);
}

/* Take the next search slot, or false when it is further than PACE_MAX_WAIT_US away. */
static bool pace(struct hs *hs, int64_t *wait_us)
{
        int64_t now = cb_mono_us(), slot;
        long per_s = hs->cfg->hubspot.search_per_s > 0 ? hs->cfg->hubspot.search_per_s : 1;
        bool ok;

        pthread_mutex_lock(&hs->pace_lock);
        slot = hs->next_search_us > now ? hs->next_search_us : now;
        ok = slot - now <= PACE_MAX_WAIT_US;
        if (ok)
                hs->next_search_us = slot + 1000000L / per_s;
        pthread_mutex_unlock(&hs->pace_lock);
        *wait_us = slot - now;
        return ok;
}

enum cb_result hs_search(struct hs *hs, const char *object, const json_t *body, json_t **out,
                         char *err, size_t err_size)
{
        struct hs_answer ans = {0};
        char path[96];
        int64_t wait_us;

        *out = NULL;
        if (!pace(hs, &wait_us)) {
                snprintf(err, err_size,
                         "hubspot search: more than %ld searches per second "
                         "queued; waiting",
                         hs->cfg->hubspot.search_per_s);
                cb_wait_hint_set(wait_us / 1000 + 1);
                return counted(hs, CB_RESULT_WAIT);
        }
        if (wait_us > 0) {
                struct timespec ts = {.tv_sec = wait_us / 1000000,
                                      .tv_nsec = (wait_us % 1000000) * 1000};
                nanosleep(&ts, NULL);
        }
        atomic_fetch_add(&hs->searches, 1);
        snprintf(path, sizeof(path), "/crm/v3/objects/%s/search", object);
        return hs_rest(hs, "POST", path, body, CB_CRM_PRIO_HIGH, &ans, out, err, err_size);
}
