/* Twilio's read-only REST lookups: the search for a call an earlier attempt placed
 * (GET Calls.json), and what reconciliation asks about one call (GET Calls/{Sid}.json and
 * Calls/{Sid}/Recordings.json). No side effects at Twilio; every failure is RETRY or FAIL with
 * `err`, as cb_twilio_outcome maps the answer. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/log.h"
#include "twilio_int.h"

/* Append to *ids the sids of calls To `to` From `from` matching `name`=`value` (one page of
 * 50, newest first as Twilio lists them). */
static enum cb_result list_calls(struct twilio *tw, const char *to, const char *from,
                                 const char *name, const char *value, json_t *ids, char *err,
                                 size_t err_size)
{
        struct cb_form q = {0};
        struct cb_buf url = {.max = 4096};
        struct cb_upstream_req req = {.service = "twilio", .method = "GET"};
        struct cb_upstream_resp resp = {0};
        enum cb_result r = CB_RESULT_FAIL;
        json_t *j = NULL, *c;
        size_t i;

        if (cb_form_add(&q, "To", to) != 0 || cb_form_add(&q, "From", from) != 0 ||
            cb_form_add(&q, name, value) != 0 || cb_form_add(&q, "PageSize", "50") != 0 ||
            cb_buf_printf(&url, "%s/2010-04-01/Accounts/%s/Calls.json?",
                          tw->cfg->twilio.api_base_url, tw->cfg->twilio.account_sid) != 0 ||
            cb_form_encode(&q, &url) != 0) {
                snprintf(err, err_size, "cannot build the Twilio call search");
                goto out;
        }
        req.url = url.data;
        req.userpwd = tw->userpwd;
        req.timeout_ms = tw->cfg->twilio.timeout_ms;
        req.max_response = TWILIO_MAX_RESPONSE;
        r = cb_twilio_outcome(cb_upstream_perform(&req, &resp), &resp, "Calls.json list", err,
                              err_size);
        if (r != CB_RESULT_OK)
                goto out;
        j = json_loadb(resp.body.data, resp.body.len, 0, NULL);
        json_array_foreach(json_object_get(j, "calls"), i, c)
        {
                const char *sid = json_string_value(json_object_get(c, "sid"));
                if (cb_str_charset(sid, 64, ""))
                        json_array_append_new(ids, json_string(sid));
        }
out:
        json_decref(j);
        cb_upstream_resp_free(&resp);
        cb_buf_free(&url);
        cb_form_free(&q);
        return r;
}

/* Calls to the same numbers that may be this one: those still queued (not dialled yet, so
 * without the start time the StartTime filters read), then those started on or after the
 * call's creation day (Twilio's StartTime> = "started on or after this date", UTC), each
 * newest first. */
enum cb_result cb_twilio_find_placed(void *self, const struct cb_call *call, json_t **ids,
                                     char *err, size_t err_size)
{
        struct twilio *tw = self;
        const char *to = call->to[0] ? call->to : NULL;
        const char *from = call->from[0] ? call->from : tw->cfg->twilio.caller_id;
        char day[CB_TS_LEN + 1] = "";
        enum cb_result r;

        *ids = NULL;
        if (call->created_us > 0) {
                cb_ts_format(call->created_us, day);
                day[10] = '\0'; /* the UTC day, as StartTime> reads it */
        }
        if (to == NULL || from == NULL) {
                snprintf(err, err_size, "cannot build the Twilio call search");
                return CB_RESULT_FAIL;
        }
        *ids = json_array();
        r = list_calls(tw, to, from, "Status", "queued", *ids, err, err_size);
        if (r == CB_RESULT_OK && strlen(day) == 10)
                r = list_calls(tw, to, from, "StartTime>", day, *ids, err, err_size);
        if (r != CB_RESULT_OK) {
                json_decref(*ids);
                *ids = NULL;
        }
        return r;
}

/* GET {api}/2010-04-01/Accounts/{AC}/<path> as JSON into *out (NULL unless OK). */
static enum cb_result rest_get(struct twilio *tw, const char *path, const char *what, json_t **out,
                               char *err, size_t err_size)
{
        struct cb_upstream_req req = {.service = "twilio", .method = "GET"};
        struct cb_upstream_resp resp = {0};
        char url[1024];
        enum cb_result r;

        *out = NULL;
        snprintf(url, sizeof(url), "%s/2010-04-01/Accounts/%s/%s", tw->cfg->twilio.api_base_url,
                 tw->cfg->twilio.account_sid, path);
        req.url = url;
        req.userpwd = tw->userpwd;
        req.timeout_ms = tw->cfg->twilio.timeout_ms;
        req.max_response = TWILIO_MAX_RESPONSE;
        r = cb_twilio_outcome(cb_upstream_perform(&req, &resp), &resp, what, err, err_size);
        if (r == CB_RESULT_OK) {
                *out = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, NULL);
                if (!json_is_object(*out)) {
                        snprintf(err, err_size, "twilio %s: the answer is not a JSON object", what);
                        json_decref(*out);
                        *out = NULL;
                        r = CB_RESULT_RETRY;
                }
        }
        cb_upstream_resp_free(&resp);
        return r;
}

/* A whole number Twilio writes as a string ("42") or a number; -1 when absent or bad. */
static long twilio_number(const json_t *v)
{
        long n;

        if (json_is_integer(v))
                return (long)json_integer_value(v);
        return json_is_string(v) && cb_parse_long(json_string_value(v), 0, LONG_MAX, &n) ? n : -1;
}

/* GET Calls/{Sid}.json: its status and duration. */
enum cb_result cb_twilio_call_status(void *self, const char *sid, enum cb_call_status *status,
                                     long *duration_s, char *err, size_t err_size)
{
        char path[128];
        json_t *j = NULL;
        const char *word;
        enum cb_result r;

        *duration_s = -1;
        if (!cb_str_charset(sid, 64, "")) {
                snprintf(err, err_size, "not a call sid");
                return CB_RESULT_FAIL;
        }
        snprintf(path, sizeof(path), "Calls/%s.json", sid);
        r = rest_get(self, path, "call fetch", &j, err, err_size);
        word = json_string_value(json_object_get(j, "status"));
        if (r == CB_RESULT_OK && !cb_calls_status_parse(word, status)) {
                snprintf(err, err_size, "twilio call fetch: status %s is not one we know",
                         word ? word : "missing");
                r = CB_RESULT_RETRY;
        }
        if (r == CB_RESULT_OK && cb_calls_status_final(*status))
                *duration_s = twilio_number(json_object_get(j, "duration"));
        json_decref(j);
        return r;
}

/* GET Calls/{Sid}/Recordings.json: the completed ones, with the media URL the recording
 * callback would give (the resource's uri without ".json"). */
enum cb_result cb_twilio_call_recordings(void *self, const char *sid, json_t **recs, char *err,
                                         size_t err_size)
{
        struct twilio *tw = self;
        char path[128];
        json_t *j = NULL, *rec;
        enum cb_result r;
        size_t i;

        *recs = NULL;
        if (!cb_str_charset(sid, 64, "")) {
                snprintf(err, err_size, "not a call sid");
                return CB_RESULT_FAIL;
        }
        snprintf(path, sizeof(path), "Calls/%s/Recordings.json?PageSize=100", sid);
        r = rest_get(self, path, "call recordings", &j, err, err_size);
        if (r != CB_RESULT_OK)
                return r;
        *recs = json_array();
        json_array_foreach(json_object_get(j, "recordings"), i, rec)
        {
                const char *rsid = json_string_value(json_object_get(rec, "sid"));
                const char *status = json_string_value(json_object_get(rec, "status"));
                char url[1024];

                if (!cb_str_charset(rsid, 64, "") || status == NULL ||
                    strcmp(status, "completed") != 0)
                        continue;
                snprintf(url, sizeof(url), "%s/2010-04-01/Accounts/%s/Recordings/%s",
                         tw->cfg->twilio.api_base_url, tw->cfg->twilio.account_sid, rsid);
                json_array_append_new(
                    *recs, json_pack("{s:s,s:s,s:I}", "sid", rsid, "url", url, "duration_s",
                                     (json_int_t)twilio_number(json_object_get(rec, "duration"))));
        }
        json_decref(j);
        return CB_RESULT_OK;
}
