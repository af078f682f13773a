/* Twilio Programmable Voice: click-to-dial through the REST API (Calls.json, HTTP Basic auth
 * with an API key or the account SID and auth token) and X-Twilio-Signature checks for the
 * webhooks Twilio sends back.
 *
 * The customer is called first (To = the customer, From = the call's number or
 * [twilio] caller_id); when they answer, Twilio fetches the voice webhook with our call id,
 * which bridges them to the agent's softphone (<Dial><Client>, or with [twilio] conference
 * through the call's conference, twilio_control.c). The status callback URL
 * carries the call id too, so callbacks that arrive before this job stored the CallSid still
 * find their call. The status and recording callback URLs end in Twilio's connection
 * overrides ([twilio] webhook_retry, "#rc=3&rp=all"): Twilio then redelivers a callback that
 * met a refused connection, a timeout or an error answer, signed over the URL as we gave it,
 * fragment included — which the signature check accepts beside the URL as received. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/config.h"
#include "callbridge/log.h"
#include "callbridge/telephony.h"
#include "callbridge/twsig.h"
#include "callbridge/upstream.h"
#include "twilio_int.h"

/* Twilio's connection overrides ("Webhooks connection overrides"): ct 100-10000, rt and tt
 * 100-15000, rc 0-5 (ms, ms, ms, retries), rp a comma list of 4xx|5xx|ct|rt|all, e an edge,
 * sni y|n. False (with `why`) on anything else. */
static bool overrides_valid(const char *text, char *why, size_t why_size)
{
        struct cb_form f = {0};
        bool ok = cb_form_parse(&f, text, strlen(text)) == 0;

        for (size_t i = 0; ok && i < f.n; i++) {
                const char *k = f.p[i].name, *v = f.p[i].value;
                long n;

                if (strcmp(k, "ct") == 0)
                        ok = cb_parse_long(v, 100, 10000, &n);
                else if (strcmp(k, "rt") == 0 || strcmp(k, "tt") == 0)
                        ok = cb_parse_long(v, 100, 15000, &n);
                else if (strcmp(k, "rc") == 0)
                        ok = cb_parse_long(v, 0, 5, &n);
                else if (strcmp(k, "rp") == 0)
                        for (const char *p = v; ok && *p; p += strspn(p, ",")) {
                                size_t len = strcspn(p, ",");
                                ok = (len == 3 &&
                                      (strncmp(p, "4xx", 3) == 0 || strncmp(p, "5xx", 3) == 0 ||
                                       strncmp(p, "all", 3) == 0)) ||
                                     (len == 2 &&
                                      (strncmp(p, "ct", 2) == 0 || strncmp(p, "rt", 2) == 0));
                                p += len;
                        }
                else if (strcmp(k, "sni") == 0)
                        ok = strcmp(v, "y") == 0 || strcmp(v, "n") == 0;
                else
                        ok = strcmp(k, "e") == 0 && cb_str_charset(v, 32, "-");
                if (!ok)
                        snprintf(why, why_size, "bad override %s=%s", k, v);
        }
        if (f.n == 0 && ok) {
                ok = false;
                snprintf(why, why_size, "no overrides (use none to turn them off)");
        }
        cb_form_free(&f);
        return ok;
}

static void twilio_destroy(void *self)
{
        struct twilio *tw = self;

        if (tw == NULL)
                return;
        cb_secret_free(tw->auth_token);
        cb_secret_free(tw->userpwd);
        free(tw);
}

static void *twilio_create(const struct cb_config *cfg)
{
        struct twilio *tw = calloc(1, sizeof(*tw));
        const char *user = cfg->twilio.account_sid;
        const char *overrides = cfg->twilio.webhook_retry;
        char *secret = NULL;
        size_t n;

        if (tw == NULL)
                return NULL;
        tw->cfg = cfg;
        tw->auth_token = cb_config_read_secret(cfg->twilio.auth_token_file);
        if (tw->auth_token == NULL || tw->auth_token[0] == '\0') {
                cb_error("[twilio] auth_token_file %s cannot be read or is empty",
                         cfg->twilio.auth_token_file);
                goto fail;
        }
        if (cfg->twilio.api_key_sid != NULL) {
                user = cfg->twilio.api_key_sid;
                secret = cb_config_read_secret(cfg->twilio.api_key_secret_file);
                if (secret == NULL) {
                        cb_error("[twilio] api_key_secret_file %s cannot be read",
                                 cfg->twilio.api_key_secret_file);
                        goto fail;
                }
        }
        n = strlen(user) + strlen(secret ? secret : tw->auth_token) + 2;
        tw->userpwd = malloc(n);
        if (tw->userpwd == NULL)
                goto fail;
        snprintf(tw->userpwd, n, "%s:%s", user, secret ? secret : tw->auth_token);
        cb_secret_free(secret);
        secret = NULL;
        if (overrides != NULL && overrides[0] != '\0' && strcmp(overrides, "none") != 0) {
                char why[128] = "too long";
                if (strlen(overrides) >= sizeof(tw->fragment) ||
                    !overrides_valid(overrides, why, sizeof(why))) {
                        cb_error("[twilio] webhook_retry %s: %s", overrides, why);
                        goto fail;
                }
                cb_strlcpy(tw->fragment, overrides, sizeof(tw->fragment));
        }
        return tw;
fail:
        cb_secret_free(secret);
        twilio_destroy(tw);
        return NULL;
}

/* "{code} {message}" of a Twilio error body, or the start of the raw body. */
static void error_text(const struct cb_upstream_resp *resp, char *out, size_t size)
{
        json_t *j = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, NULL);
        const char *msg = json_string_value(json_object_get(j, "message"));

        if (msg != NULL)
                snprintf(out, size, "%lld %.300s",
                         (long long)json_integer_value(json_object_get(j, "code")), msg);
        else
                snprintf(out, size, "%.200s", resp->body.data ? resp->body.data : "");
        json_decref(j);
}

/* Map an answer to OK/WAIT/RETRY/FAIL; `what` names the request in the error. */
enum cb_result cb_twilio_outcome(int rc, const struct cb_upstream_resp *resp, const char *what,
                                 char *err, size_t err_size)
{
        char text[400];

        if (rc != 0) {
                snprintf(err, err_size, "twilio %s: %s%s", what, resp->error,
                         resp->maybe_sent ? " (may have been received)" : "");
                return CB_RESULT_RETRY;
        }
        if (resp->status >= 200 && resp->status < 300)
                return CB_RESULT_OK;
        error_text(resp, text, sizeof(text));
        snprintf(err, err_size, "twilio %s %ld: %s", what, resp->status, text);
        /* 429 (too many requests at once) is a wait, no attempt spent; 5xx passes; everything
         * else (400 validation, 401/403 credentials, 404 account) needs a person. */
        if (resp->status == 429)
                return CB_RESULT_WAIT;
        return resp->status >= 500 ? CB_RESULT_RETRY : CB_RESULT_FAIL;
}

static int add_callbacks(struct twilio *tw, struct cb_form *f, const char *call_id,
                         const char *agent)
{
        static const char *const events[] = {"initiated", "ringing", "answered", "completed"};
        char url[1024];
        int rc = 0;

        struct cb_form q = {0};
        struct cb_buf voice = {.max = 2048};

        /* The voice URL names the agent to bridge to: it is signed by Twilio when it comes
         * back, so the webhook can trust it without asking the database. */
        rc |= cb_form_add(&q, "call_id", call_id);
        rc |= cb_form_add(&q, "agent", agent);
        rc |= cb_buf_printf(&voice, "%s/webhooks/twilio/voice?", tw->cfg->server.public_url);
        rc |= cb_form_encode(&q, &voice);
        rc |= cb_form_add(f, "Url", voice.data ? voice.data : "");
        cb_form_free(&q);
        cb_buf_free(&voice);
        rc |= cb_form_add(f, "Method", "POST");
        snprintf(url, sizeof(url), "%s/webhooks/twilio/status?call_id=%s%s%s",
                 tw->cfg->server.public_url, call_id, tw->fragment[0] ? "#" : "", tw->fragment);
        rc |= cb_form_add(f, "StatusCallback", url);
        rc |= cb_form_add(f, "StatusCallbackMethod", "POST");
        for (size_t i = 0; i < CB_ARRAY_LEN(events); i++)
                rc |= cb_form_add(f, "StatusCallbackEvent", events[i]);
        if (tw->cfg->twilio.record) {
                snprintf(url, sizeof(url), "%s/webhooks/twilio/recording?call_id=%s%s%s",
                         tw->cfg->server.public_url, call_id, tw->fragment[0] ? "#" : "",
                         tw->fragment);
                rc |= cb_form_add(f, "Record", "true");
                rc |= cb_form_add(f, "RecordingStatusCallback", url);
                rc |= cb_form_add(f, "RecordingStatusCallbackMethod", "POST");
                rc |= cb_form_add(f, "RecordingStatusCallbackEvent", "completed");
        }
        return rc;
}

static enum cb_result twilio_place_call(void *self, const struct cb_call *call,
                                        char *provider_call_id, size_t id_size, char *err,
                                        size_t err_size)
{
        struct twilio *tw = self;
        const char *id = call->id[0] ? call->id : NULL;
        const char *to = call->to[0] ? call->to : NULL;
        const char *from = call->from[0] ? call->from : NULL;
        const char *agent = call->agent;
        struct cb_form f = {0};
        struct cb_buf body = {.max = (size_t)64 * 1024};
        struct cb_upstream_req req = {.service = "twilio", .method = "POST"};
        struct cb_upstream_resp resp = {0};
        char url[1024];
        char ct[] = "Content-Type: application/x-www-form-urlencoded";
        enum cb_result r = CB_RESULT_FAIL;
        json_t *j = NULL;
        int rc;

        if (from == NULL)
                from = tw->cfg->twilio.caller_id;
        if (id == NULL || to == NULL || from == NULL) {
                snprintf(err, err_size, "the call has no %s number to dial from",
                         to == NULL ? "customer" : "caller id ([twilio] caller_id)");
                return CB_RESULT_FAIL;
        }
        if (!cb_str_charset(agent, 121, "@._-")) {
                /* The bridge rings <Client>agent</Client>: Twilio identities only. */
                snprintf(err, err_size,
                         "agent name is not a Twilio client identity (letters, "
                         "digits, @ . _ -; at most 121)");
                return CB_RESULT_FAIL;
        }
        if (cb_form_add(&f, "To", to) != 0 || cb_form_add(&f, "From", from) != 0 ||
            cb_form_add(&f, "Timeout", "30") != 0 || add_callbacks(tw, &f, id, agent) != 0 ||
            cb_form_encode(&f, &body) != 0 || cb_buf_append(&body, "", 0) != 0) {
                snprintf(err, err_size, "out of memory building the Twilio request");
                goto out;
        }
        snprintf(url, sizeof(url), "%s/2010-04-01/Accounts/%s/Calls.json",
                 tw->cfg->twilio.api_base_url, tw->cfg->twilio.account_sid);
        req.url = url;
        req.headers[0] = ct;
        req.body = body.data;
        req.body_len = body.len;
        req.userpwd = tw->userpwd;
        req.timeout_ms = tw->cfg->twilio.timeout_ms;
        req.max_response = TWILIO_MAX_RESPONSE;
        rc = cb_upstream_perform(&req, &resp);
        r = cb_twilio_outcome(rc, &resp, "Calls.json", err, err_size);
        if (r != CB_RESULT_OK)
                goto out;
        j = json_loadb(resp.body.data, resp.body.len, 0, NULL);
        if (!cb_str_charset(json_string_value(json_object_get(j, "sid")), 64, "") ||
            !cb_strlcpy(provider_call_id, json_string_value(json_object_get(j, "sid")), id_size)) {
                /* Twilio created a call we cannot name: retrying finds it by its numbers. */
                snprintf(err, err_size, "twilio Calls.json answered %ld without a call sid",
                         resp.status);
                r = CB_RESULT_RETRY;
        }
out:
        json_decref(j);
        cb_upstream_resp_free(&resp);
        cb_buf_free(&body);
        cb_form_free(&f);
        return r;
}

/* Recording media: only URLs under our own account's Recordings (the webhook's RecordingUrl,
 * or the URL form of POST /api/call/record) are fetched, so the credentials never go
 * elsewhere; Twilio answers with a redirect to short-lived storage, which gets no credentials
 * (libcurl sends them to the first host only). */
static bool twilio_recording_url_sid(void *self, const char *url, char *sid)
{
        const struct twilio *tw = self;

        return cb_twilio_recording_url_sid(tw->cfg->twilio.api_base_url,
                                           tw->cfg->twilio.account_sid, url, sid);
}

static enum cb_result twilio_fetch_media(void *self, const char *url,
                                         int (*sink)(void *ctx, const void *data, size_t len),
                                         void *ctx, uint64_t *declared_len, char *err,
                                         size_t err_size)
{
        struct twilio *tw = self;
        struct cb_upstream_req req = {.service = "twilio", .method = "GET", .url = url};
        struct cb_upstream_resp resp = {0};
        char len[32];
        long n;
        enum cb_result r;

        *declared_len = UINT64_MAX;
        if (!twilio_recording_url_sid(tw, url, (char[CB_TWILIO_RE_SID_LEN + 1]){0})) {
                snprintf(err, err_size, "not a recording of our Twilio account: %.200s", url);
                return CB_RESULT_FAIL;
        }
        req.userpwd = tw->userpwd;
        req.sink = sink;
        req.sink_ctx = ctx;
        req.follow_redirects = true;
        req.timeout_ms = 3600L * 1000; /* the transfer may be long; a stall is caught below */
        req.low_speed_s = 30;
        r = cb_twilio_outcome(cb_upstream_perform(&req, &resp), &resp, "recording media", err,
                              err_size);
        /* 404: Twilio has no such recording (deleted there): nothing will change that. */
        if (r == CB_RESULT_OK &&
            cb_upstream_resp_header(&resp, "Content-Length", len, sizeof(len)) &&
            cb_parse_long(len, 0, LONG_MAX, &n))
                *declared_len = (uint64_t)n;
        cb_upstream_resp_free(&resp);
        return r;
}

/* GET the Recording resource (.json) and take its call_sid. */
static enum cb_result twilio_recording_call_id(void *self, const char *sid, char *call_id,
                                               size_t id_size, char *err, size_t err_size)
{
        struct twilio *tw = self;
        struct cb_upstream_req req = {.service = "twilio", .method = "GET"};
        struct cb_upstream_resp resp = {0};
        const char *got;
        char url[512];
        json_t *j = NULL;
        enum cb_result r;

        snprintf(url, sizeof(url), "%s/2010-04-01/Accounts/%s/Recordings/%s.json",
                 tw->cfg->twilio.api_base_url, tw->cfg->twilio.account_sid, sid);
        req.url = url;
        req.userpwd = tw->userpwd;
        req.timeout_ms = tw->cfg->twilio.timeout_ms;
        req.max_response = TWILIO_MAX_RESPONSE;
        r = cb_twilio_outcome(cb_upstream_perform(&req, &resp), &resp, "recording lookup", err,
                              err_size);
        if (r == CB_RESULT_OK) {
                j = json_loadb(resp.body.data, resp.body.len, 0, NULL);
                got = json_string_value(json_object_get(j, "call_sid"));
                if (got == NULL || strncmp(got, "CA", 2) != 0 || !cb_str_charset(got, 64, "") ||
                    !cb_strlcpy(call_id, got, id_size)) {
                        snprintf(err, err_size, "twilio recording %s has no call_sid", sid);
                        r = CB_RESULT_RETRY; /* a malformed answer: the upstream's fault */
                }
        }
        json_decref(j);
        cb_upstream_resp_free(&resp);
        return r;
}

static enum cb_result twilio_delete_recording(void *self, const char *sid, char *err,
                                              size_t err_size)
{
        struct twilio *tw = self;
        struct cb_upstream_req req = {.service = "twilio", .method = "DELETE"};
        struct cb_upstream_resp resp = {0};
        char url[512];
        enum cb_result r;

        if (!cb_str_charset(sid, 64, "")) {
                snprintf(err, err_size, "not a recording sid");
                return CB_RESULT_FAIL;
        }
        snprintf(url, sizeof(url), "%s/2010-04-01/Accounts/%s/Recordings/%s.json",
                 tw->cfg->twilio.api_base_url, tw->cfg->twilio.account_sid, sid);
        req.url = url;
        req.userpwd = tw->userpwd;
        req.timeout_ms = tw->cfg->twilio.timeout_ms;
        r = cb_twilio_outcome(cb_upstream_perform(&req, &resp), &resp, "recording delete", err,
                              err_size);
        if (r != CB_RESULT_OK && resp.status == 404)
                r = CB_RESULT_OK; /* gone already */
        cb_upstream_resp_free(&resp);
        return r;
}

static bool twilio_webhook_valid(void *self, const char *url, const struct cb_form *params,
                                 const void *json_body, size_t json_len, const char *signature)
{
        struct twilio *tw = self;
        char with[2048];
        int n;

        if (cb_twsig_valid(tw->auth_token, url, params, json_body, json_len, signature))
                return true;
        /* The callback URL we gave carries the overrides fragment, which never reaches us;
         * Twilio signs the URL as given, fragment included. */
        if (tw->fragment[0] == '\0' || strchr(url, '#') != NULL)
                return false;
        n = snprintf(with, sizeof(with), "%s#%s", url, tw->fragment);
        return n > 0 && (size_t)n < sizeof(with) &&
               cb_twsig_valid(tw->auth_token, with, params, json_body, json_len, signature);
}

const struct cb_telephony_ops cb_telephony_twilio = {
    .name = "twilio",
    .caps = CB_TEL_CAP_WEBHOOKS | CB_TEL_CAP_SOFTPHONE | CB_TEL_CAP_CONTROL,
    .create = twilio_create,
    .destroy = twilio_destroy,
    .place_call = twilio_place_call,
    .find_placed = cb_twilio_find_placed,
    .fetch_media = twilio_fetch_media,
    .recording_url_sid = twilio_recording_url_sid,
    .recording_url_form = "<api base>/2010-04-01/Accounts/<account>/Recordings/RE<32 hex digits>"
                          "[.wav|.mp3], without query",
    .recording_call_id = twilio_recording_call_id,
    .delete_recording = twilio_delete_recording,
    .call_status = cb_twilio_call_status,
    .call_recordings = cb_twilio_call_recordings,
    .signature_header = "X-Twilio-Signature",
    .webhook_valid = twilio_webhook_valid,
    .parse_status = cb_twilio_parse_status,
    .parse_voice = cb_twilio_parse_voice,
    .parse_recording = cb_twilio_parse_recording,
    .parse_transcription = cb_twilio_parse_transcription,
    .render_route = cb_twilio_render_route,
    .softphone_create = cb_twilio_softphone_create,
    .softphone_destroy = cb_twilio_softphone_destroy,
    .softphone_token = cb_twilio_softphone_token,
    .softphone_off = "softphone tokens need [twilio] account_sid, api_key_sid, "
                     "api_key_secret_file and twiml_app_sid",
    .control = cb_twilio_control,
    .conference_join = cb_twilio_conference_join,
};
