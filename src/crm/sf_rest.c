/* The Salesforce REST client: bearer auth with one renewal on INVALID_SESSION_ID, status and
 * errorCode mapped to retry or permanent failure, and Sforce-Limit-Info read on every answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/log.h"
#include "callbridge/upstream.h"
#include "sf.h"

#define MAX_RESPONSE ((size_t)16 * 1024 * 1024)

void sf_limits_parse(struct sf *sf, const char *value)
{
        const char *p = value;

        /* "api-usage=25/15000" possibly followed by ", per-app-api-usage=..." */
        while (p != NULL && *p) {
                while (*p == ' ' || *p == ',')
                        p++;
                if (strncmp(p, "api-usage=", 10) == 0) {
                        char *end = NULL;
                        long used = strtol(p + 10, &end, 10);
                        if (end != NULL && *end == '/') {
                                long max = strtol(end + 1, &end, 10);
                                if (used >= 0 && max > 0) {
                                        atomic_store(&sf->api_used, used);
                                        atomic_store(&sf->api_max, max);
                                }
                        }
                        return;
                }
                p = strchr(p, ',');
        }
}

/* The first errorCode and message of a Salesforce error array. */
static void error_of(const json_t *body, const char **code, const char **message)
{
        const json_t *first = json_is_array(body) ? json_array_get(body, 0) : body;

        *code = json_string_value(json_object_get(first, "errorCode"));
        *message = json_string_value(json_object_get(first, "message"));
        if (*code == NULL)
                *code = "";
        if (*message == NULL)
                *message = "";
}

/* Over the configured share of the daily API budget? */
static bool over_budget(struct sf *sf)
{
        long used = atomic_load(&sf->api_used), max = atomic_load(&sf->api_max);

        return max > 0 && used * 100 >= max * sf->cfg->salesforce.limit_threshold_pct;
}

/* One attempt with `tok`. Returns the transport result; fills status and body. */
static int attempt(struct sf *sf, const struct sf_token *tok, const char *method, const char *path,
                   const char *body, struct cb_upstream_resp *resp)
{
        struct cb_buf url = {.max = 16384};
        char auth[SF_TOKEN_MAX + 32];
        char limits[256];
        struct cb_upstream_req req = {.service = "salesforce", .method = method};
        int rc;

        if (cb_buf_puts(&url, tok->instance_url) != 0 || cb_buf_puts(&url, path) != 0 ||
            cb_buf_append(&url, "", 1) != 0) {
                memset(resp, 0, sizeof(*resp));
                snprintf(resp->error, sizeof(resp->error), "URL too long");
                cb_buf_free(&url);
                return -1;
        }
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok->access);
        req.url = url.data;
        req.headers[0] = auth;
        req.headers[1] = "Accept: application/json";
        req.headers[2] = body ? "Content-Type: application/json; charset=UTF-8" : NULL;
        req.body = body;
        req.body_len = body ? strlen(body) : 0;
        req.timeout_ms = sf->cfg->salesforce.timeout_ms;
        req.max_response = MAX_RESPONSE;
        rc = cb_upstream_perform(&req, resp);
        if (rc == 0 && cb_upstream_resp_header(resp, "Sforce-Limit-Info", limits, sizeof(limits)))
                sf_limits_parse(sf, limits);
        cb_buf_free(&url);
        return rc;
}

/* The allowance is spent: WAIT until the next probe, whose time is the hint. */
static void allowance_spent(struct sf *sf)
{
        int64_t probe = cb_mono_us() + sf->cfg->salesforce.allowance_retry_s * 1000000L;

        if (!atomic_exchange(&sf->allowance_exhausted, true))
                cb_warn("salesforce: daily API allowance exhausted; CRM writes wait (asked "
                        "again every %ld s)",
                        sf->cfg->salesforce.allowance_retry_s);
        atomic_store(&sf->allowance_probe_us, probe);
        cb_wait_hint_set(sf->cfg->salesforce.allowance_retry_s * 1000L);
}

/* Still before the next probe of a spent allowance? Then WAIT with the time left. */
static bool allowance_wait(struct sf *sf, char *err, size_t err_size)
{
        int64_t left = atomic_load(&sf->allowance_probe_us) - cb_mono_us();

        if (!atomic_load(&sf->allowance_exhausted) || left <= 0)
                return false;
        snprintf(err, err_size,
                 "salesforce 403 REQUEST_LIMIT_EXCEEDED: daily API allowance "
                 "exhausted; waiting for it to refill");
        cb_wait_hint_set(left / 1000 + 1);
        return true;
}

/* Retry-After in seconds (the HTTP-date form reads as 0: no hint). */
static void retry_after_hint(const struct cb_upstream_resp *resp)
{
        char v[64];
        long s;

        if (cb_upstream_resp_header(resp, "Retry-After", v, sizeof(v)) &&
            cb_parse_long(v, 0, 86400, &s))
                cb_wait_hint_set(s * 1000L);
}

enum cb_result sf_classify(long status, const char *code, const char *message, long used, long max,
                           bool *allowance_spent)
{
        *allowance_spent = false;
        if (status == 429 || (status == 403 && strcmp(code, "REQUEST_LIMIT_EXCEEDED") == 0)) {
                /* REQUEST_LIMIT_EXCEEDED also reports concurrency limits: only usage at the
                 * daily limit (Sforce-Limit-Info, or the message when the header is absent)
                 * stops every request until the allowance refills. */
                *allowance_spent =
                    status == 403 &&
                    (max > 0 ? used >= max : strstr(message, "TotalRequests") != NULL);
                return CB_RESULT_WAIT;
        }
        if (status < 500)
                return status == 401 ? CB_RESULT_RETRY : CB_RESULT_FAIL;
        return CB_RESULT_RETRY;
}

/* Map a non-2xx answer to WAIT, RETRY or FAIL with a reason naming Salesforce's errorCode. */
static enum cb_result map_error(struct sf *sf, const struct cb_upstream_resp *resp, const json_t *j,
                                const char *raw, char *err, size_t err_size)
{
        const char *code, *message;
        bool spent;
        enum cb_result r;

        error_of(j, &code, &message);
        r = sf_classify(resp->status, code, message, atomic_load(&sf->api_used),
                        atomic_load(&sf->api_max), &spent);
        if (resp->status == 300)
                snprintf(err, err_size, "salesforce 300 multiple records match: %.300s", raw);
        else if (r == CB_RESULT_FAIL)
                snprintf(err, err_size, "salesforce %ld %s: %.300s (%.200s)", resp->status, code,
                         message, raw);
        else
                snprintf(err, err_size, "salesforce %ld %s: %.300s", resp->status, code, message);
        if (r == CB_RESULT_WAIT) {
                if (spent)
                        allowance_spent(sf);
                retry_after_hint(resp);
                atomic_fetch_add(&sf->waits, 1);
        }
        return r;
}

bool sf_rest_budget_holds(struct sf *sf, char *err, size_t err_size)
{
        if (!over_budget(sf))
                return false;
        snprintf(err, err_size,
                 "salesforce API usage %ld/%ld is above %ld%%: low-priority write waits",
                 atomic_load(&sf->api_used), atomic_load(&sf->api_max),
                 sf->cfg->salesforce.limit_threshold_pct);
        cb_wait_hint_set(sf->cfg->salesforce.allowance_retry_s * 1000L);
        atomic_fetch_add(&sf->waits, 1);
        return true;
}

enum cb_result sf_rest(struct sf *sf, const char *method, const char *path, const json_t *body,
                       enum cb_crm_priority prio, struct sf_answer *ans, json_t **out, char *err,
                       size_t err_size)
{
        struct cb_upstream_resp resp = {0};
        struct sf_token *tok = &ans->tok;
        struct sf_token fresh;
        char *text = NULL;
        enum cb_result r = CB_RESULT_RETRY;

        memset(ans, 0, sizeof(*ans));
        *out = NULL;
        if (prio == CB_CRM_PRIO_LOW && sf_rest_budget_holds(sf, err, err_size))
                return CB_RESULT_WAIT;
        if (allowance_wait(sf, err, err_size)) {
                atomic_fetch_add(&sf->waits, 1);
                return CB_RESULT_WAIT;
        }
        if (body != NULL &&
            (text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15))) == NULL) {
                snprintf(err, err_size, "out of memory");
                return CB_RESULT_RETRY;
        }
        if (sf_auth_token(sf, tok, err, err_size) != CB_RESULT_OK)
                goto out;
        for (int round = 0; round < 2; round++) {
                json_t *j;
                const char *code, *message;

                cb_upstream_resp_free(&resp);
                if (attempt(sf, tok, method, path, text, &resp) != 0) {
                        snprintf(err, err_size, "salesforce: %s", resp.error);
                        goto out;
                }
                ans->status = resp.status;
                j = resp.body.len ? json_loadb(resp.body.data, resp.body.len, 0, NULL) : NULL;
                error_of(j, &code, &message);
                if (resp.status == 401 && round == 0 && strcmp(code, "INVALID_SESSION_ID") == 0) {
                        json_decref(j);
                        if (sf_auth_renew(sf, tok, &fresh, err, err_size) != CB_RESULT_OK)
                                goto out;
                        *tok = fresh;
                        continue;
                }
                if (resp.status < 200 || resp.status >= 300)
                        cb_strlcpy(ans->code, code, sizeof(ans->code));
                *out = j;
                if (resp.status >= 200 && resp.status < 300) {
                        r = CB_RESULT_OK;
                        if (atomic_exchange(&sf->allowance_exhausted, false))
                                cb_info("salesforce: API allowance available again");
                } else {
                        r = map_error(sf, &resp, j, resp.body.data ? resp.body.data : "", err,
                                      err_size);
                }
                break;
        }
out:
        cb_upstream_resp_free(&resp);
        free(text);
        return r;
}
