/* The HubSpot call log: one Calls object per call, batch-upserted by the unique custom property
 * [hubspot] call_id_property = the call id (a retried or repeated job updates what it made),
 * associated with the contact or company the call is linked to. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbridge/log.h"
#include "hs.h"

static const char *str(const json_t *obj, const char *key)
{
        return json_string_value(json_object_get(obj, key));
}

json_t *hs_timestamp(int64_t us)
{
        struct tm tm = {0};
        char out[40];
        time_t t;

        if (us <= 0)
                us = cb_now_us();
        t = (time_t)(us / 1000000);
        gmtime_r(&t, &tm);
        strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(out + strlen(out), sizeof(out) - strlen(out), ".%03dZ", (int)((us / 1000) % 1000));
        return json_string(out);
}

const char *hs_owner_of(const struct cb_call *call)
{
        const char *o = call->crm_owner_id;

        return o[0] != '\0' && strspn(o, "0123456789") == strlen(o) ? o : NULL;
}

const char *hs_call_status(enum cb_call_status s)
{
        static const char *const names[CB_CALL_STATUS_COUNT] = {
            [CB_CALL_QUEUED] = "QUEUED",       [CB_CALL_INITIATED] = "CONNECTING",
            [CB_CALL_RINGING] = "RINGING",     [CB_CALL_IN_PROGRESS] = "IN_PROGRESS",
            [CB_CALL_COMPLETED] = "COMPLETED", [CB_CALL_BUSY] = "BUSY",
            [CB_CALL_FAILED] = "FAILED",       [CB_CALL_NO_ANSWER] = "NO_ANSWER",
            [CB_CALL_CANCELED] = "CANCELED"};

        return (unsigned)s < CB_CALL_STATUS_COUNT ? names[s] : "COMPLETED";
}

/* `s` lowercased with _ and - as spaces, into `out`. */
static void words(const char *s, char *out, size_t size)
{
        size_t n = 0;

        for (; s != NULL && *s && n + 1 < size; s++)
                out[n++] = *s == '_' || *s == '-'     ? ' '
                           : (*s >= 'A' && *s <= 'Z') ? (char)(*s - 'A' + 'a')
                                                      : *s;
        out[n] = '\0';
}

const char *hs_disposition_guid(const char *disposition, const char *outcome)
{
        static const struct {
                const char *words, *guid;
        } outcomes[] = {
            {"connected", "f240bbac-87c9-4f6e-bf70-924b57d47db7"},
            {"answered", "f240bbac-87c9-4f6e-bf70-924b57d47db7"},
            {"no answer", "73a0d17f-1163-4015-bdd5-ec830791da20"},
            {"missed", "73a0d17f-1163-4015-bdd5-ec830791da20"},
            {"busy", "9d9162e7-6cf3-4944-bf63-4dff82258764"},
            {"left voicemail", "b2cf5968-551e-4856-9783-52b3da59a7d0"},
            {"voicemail", "b2cf5968-551e-4856-9783-52b3da59a7d0"},
            {"left live message", "a4c4c377-d246-4b32-a13b-75a56a4cd0ff"},
            {"live message", "a4c4c377-d246-4b32-a13b-75a56a4cd0ff"},
            {"wrong number", "17b47fee-58de-441e-a44c-c6300d46f273"},
        };
        const char *tries[2] = {disposition, outcome};
        char w[CB_DISPOSITION_LABEL_MAX + 1];

        for (int t = 0; t < 2; t++) {
                if (tries[t] == NULL || tries[t][0] == '\0')
                        continue;
                words(tries[t], w, sizeof(w));
                for (size_t i = 0; i < CB_ARRAY_LEN(outcomes); i++)
                        if (strcmp(w, outcomes[i].words) == 0)
                                return outcomes[i].guid;
        }
        return NULL;
}

int hs_html(struct cb_buf *b, const char *text)
{
        for (const char *p = text; p != NULL && *p; p++) {
                const char *esc = *p == '<'    ? "&lt;"
                                  : *p == '>'  ? "&gt;"
                                  : *p == '&'  ? "&amp;"
                                  : *p == '"'  ? "&quot;"
                                  : *p == '\n' ? "<br>"
                                               : NULL;
                if (*p == '\r')
                        continue;
                if (esc != NULL ? cb_buf_puts(b, esc) != 0 : cb_buf_append(b, p, 1) != 0)
                        return -1;
        }
        return 0;
}

/* One "<br>Label: value" line, the value escaped. */
static int line(struct cb_buf *b, const char *label, const char *value)
{
        return cb_buf_printf(b, "<br>%s: ", label) | hs_html(b, value);
}

/* The label of the agent's disposition ([agents] dispositions), else its value; "" none. */
static void disposition_label(const struct cb_config *cfg, const struct cb_call *call, char *out,
                              size_t size)
{
        out[0] = '\0';
        if (call->disposition[0] != '\0' &&
            !cb_calls_disposition_label(cfg->agents.dispositions, call->disposition, out, size))
                cb_strlcpy(out, call->disposition, size);
}

/* The body a rep reads, in HTML: as Salesforce's Description (who, numbers, agent, duration,
 * outcome, disposition, recording link, call id, summary, notes). NULL when out of memory;
 * the caller frees it. */
static char *body_html(const struct cb_config *cfg, const struct cb_call *call, const char *summary)
{
        struct cb_buf b = {.max = 65536};
        char from[64], to[64], dur[48], label[CB_DISPOSITION_LABEL_MAX + 1];
        const char *outcome = cb_calls_outcome_label(call);
        const char *agent = call->agent_display[0] ? call->agent_display : call->agent;
        int rc;

        cb_calls_number_text(call->from, from, sizeof(from));
        cb_calls_number_text(call->to, to, sizeof(to));
        cb_calls_duration_text(call->duration_s, dur, sizeof(dur));
        disposition_label(cfg, call, label, sizeof(label));
        rc = cb_buf_printf(&b, "<p>%s call",
                           call->direction == CB_CALL_INBOUND ? "Inbound" : "Outbound");
        rc |= line(&b, "From", call->from[0] ? from : "-") | line(&b, "To", to);
        rc |= line(&b, "Agent", agent);
        if (call->party_name[0] != '\0' || call->party_company[0] != '\0') {
                bool both = call->party_name[0] && call->party_company[0];
                rc |= line(&b, "With", call->party_name);
                if (both)
                        rc |= cb_buf_puts(&b, " (");
                rc |= hs_html(&b, call->party_company);
                if (both)
                        rc |= cb_buf_puts(&b, ")");
        }
        if (call->duration_s >= 0)
                rc |= line(&b, "Duration", dur);
        rc |= line(&b, "Outcome", outcome ? outcome : "In progress");
        if (label[0] != '\0')
                rc |= line(&b, "Disposition", label);
        if (call->recording_id[0] != '\0' && cfg->server.public_url != NULL)
                rc |= cb_buf_printf(&b, "<br>Recording: <a href=\"%s/r/%s\">%s/r/%s</a>",
                                    cfg->server.public_url, call->recording_id,
                                    cfg->server.public_url, call->recording_id);
        rc |= cb_buf_printf(&b, "<br>Call id: %s (logged by callbridge)</p>", call->id);
        if (summary != NULL && summary[0] != '\0') {
                char cut[4001];
                cb_strlcpy(cut, summary, sizeof(cut)); /* a few sentences; cut if not */
                rc |= cb_buf_puts(&b, "<p><b>Summary</b><br>") | hs_html(&b, cut) |
                      cb_buf_puts(&b, "</p>");
        }
        if (call->notes[0] != '\0') /* at most 4,000 characters: the whole fits */
                rc |= cb_buf_puts(&b, "<p><b>Notes</b><br>") | hs_html(&b, call->notes) |
                      cb_buf_puts(&b, "</p>");
        if (rc != 0 || cb_buf_append(&b, "", 1) != 0) {
                cb_buf_free(&b);
                return NULL;
        }
        return b.data;
}

json_t *hs_call_properties(const struct cb_config *cfg, const struct cb_call *call,
                           const char *summary)
{
        char title[256], label[CB_DISPOSITION_LABEL_MAX + 1], n[32];
        char *body = body_html(cfg, call, summary);
        const char *guid, *owner = hs_owner_of(call);
        json_t *p = NULL;

        if (body == NULL)
                return NULL;
        cb_calls_record_subject(call, title, sizeof(title));
        p = json_pack("{s:o,s:s,s:s,s:s,s:s}", "hs_timestamp", hs_timestamp(call->created_us),
                      "hs_call_title", title, "hs_call_body", body, "hs_call_direction",
                      call->direction == CB_CALL_INBOUND ? "INBOUND" : "OUTBOUND", "hs_call_status",
                      hs_call_status(call->status));
        free(body);
        if (p == NULL)
                return NULL;
        if (call->duration_s >= 0) {
                snprintf(n, sizeof(n), "%ld", call->duration_s * 1000);
                json_object_set_new(p, "hs_call_duration", json_string(n));
        }
        if (call->from[0] != '\0' && strcmp(call->from, "unknown") != 0)
                json_object_set_new(p, "hs_call_from_number", json_string(call->from));
        if (call->to[0] != '\0' && strcmp(call->to, "unknown") != 0)
                json_object_set_new(p, "hs_call_to_number", json_string(call->to));
        disposition_label(cfg, call, label, sizeof(label));
        guid =
            hs_disposition_guid(label[0] ? label : call->disposition, cb_calls_outcome_label(call));
        if (guid != NULL)
                json_object_set_new(p, "hs_call_disposition", json_string(guid));
        if (call->recording_id[0] != '\0' && cfg->server.public_url != NULL) {
                char url[512];
                snprintf(url, sizeof(url), "%s/r/%s", cfg->server.public_url, call->recording_id);
                json_object_set_new(p, "hs_call_recording_url", json_string(url));
        }
        if (owner != NULL)
                json_object_set_new(p, "hubspot_owner_id", json_string(owner));
        return p;
}

/* A value as HubSpot's property text: strings as they are (cut to `max` bytes at a UTF-8
 * boundary when max > 0), numbers printed, arrays joined with `sep`. */
static json_t *prop_value(const json_t *v, const char *sep, size_t max)
{
        char n[64];

        if (json_is_array(v)) {
                struct cb_buf b = {.max = max ? max : 65536};
                const json_t *item;
                size_t i;
                json_t *out;
                json_array_foreach(v, i, item) if (json_is_string(item))
                {
                        size_t before = b.len;
                        if ((b.len && cb_buf_puts(&b, sep) != 0) ||
                            cb_buf_puts(&b, json_string_value(item)) != 0) {
                                b.len = before; /* full: keep the items that fit */
                                break;
                        }
                }
                out = json_stringn(b.data ? b.data : "", b.len);
                cb_buf_free(&b);
                return out;
        }
        if (json_is_integer(v)) {
                snprintf(n, sizeof(n), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                return json_string(n);
        }
        if (json_is_real(v)) {
                snprintf(n, sizeof(n), "%.4g", json_real_value(v));
                return json_string(n);
        }
        if (json_is_string(v) && max > 0 && json_string_length(v) > max) {
                const char *s = json_string_value(v);
                while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
                        max--;
                return json_stringn(s, max);
        }
        return json_is_string(v) ? json_incref((json_t *)v) : NULL;
}

/* callbridge's names for what attach carries, and the call properties they land in. */
static const struct {
        const char *name, *prop, *sep;
        size_t max;
} attach_map[] = {
    {"recording_url", "hs_call_recording_url", NULL, 0},
    {"recording_seconds", "callbridge_recording_seconds", NULL, 0},
    {"recording_bytes", "callbridge_recording_bytes", NULL, 0},
    {"sentiment", "callbridge_sentiment", NULL, 0},
    {"sentiment_label", "callbridge_sentiment_label", NULL, 0},
    {"intent", "callbridge_intent", NULL, 255},
    {"tags", "callbridge_tags", "; ", 1000},
    {"keywords", "callbridge_keywords", ", ", 1000},
    {"summary", "callbridge_summary", NULL, 4000},
};

void hs_attach_properties(const struct cb_call *call, const json_t *fields, json_t *props)
{
        const char *suggested = str(fields, "disposition"), *guid;

        for (size_t i = 0; i < CB_ARRAY_LEN(attach_map); i++) {
                json_t *v = json_object_get(fields, attach_map[i].name), *pv;
                if (v == NULL)
                        continue;
                if (strcmp(attach_map[i].name, "sentiment") == 0 && json_is_number(v)) {
                        double s = json_number_value(v);
                        char n[32];
                        snprintf(n, sizeof(n), "%.3f", s < -1 ? -1 : s > 1 ? 1 : s);
                        json_object_set_new(props, attach_map[i].prop, json_string(n));
                        continue;
                }
                if ((pv = prop_value(v, attach_map[i].sep, attach_map[i].max)) != NULL)
                        json_object_set_new(props, attach_map[i].prop, pv);
        }
        /* The agent's disposition wins over any a rule or an analysis suggests. */
        if (call->disposition[0] == '\0' && suggested != NULL &&
            (guid = hs_disposition_guid(suggested, NULL)) != NULL)
                json_object_set_new(props, "hs_call_disposition", json_string(guid));
}

/* Associate the call object `id` with the call's contact or company (when linked). */
static enum cb_result associate(struct hs *hs, const struct cb_call *call, const char *id,
                                char *err, size_t err_size)
{
        const char *object = NULL;
        enum cb_result r;

        if (call->crm_record_id[0] == '\0' || id[0] == '\0')
                return CB_RESULT_OK;
        r = hs_record_object(hs, call->crm_record_id, &object, err, err_size);
        if (r != CB_RESULT_OK)
                return r;
        if (object == NULL) {
                cb_warn("hubspot: call %s is linked to %s, neither a contact nor a company; "
                        "logged unassociated",
                        call->id, call->crm_record_id);
                return CB_RESULT_OK;
        }
        return hs_associate(hs, "calls", id, object, call->crm_record_id, CB_CRM_PRIO_HIGH, err,
                            err_size);
}

/* Upsert the call with `props` and associate it. */
static enum cb_result write_call(struct hs *hs, const struct cb_call *call, json_t *props,
                                 enum cb_crm_priority prio, struct cb_crm_logged *out, char *err,
                                 size_t err_size)
{
        enum cb_result r = hs_upsert(hs, "calls", hs->cfg->hubspot.call_id_property, call->id,
                                     props, prio, out->id, sizeof(out->id), err, err_size);

        if (r == CB_RESULT_OK)
                r = associate(hs, call, out->id, err, err_size);
        if (r == CB_RESULT_OK)
                out->state = "synced";
        return r;
}

enum cb_result hs_log_call(void *self, const struct cb_call *call, struct cb_crm_logged *out,
                           char *err, size_t err_size)
{
        struct hs *hs = self;
        json_t *props;
        enum cb_result r;

        out->id[0] = '\0';
        out->state = "pending";
        if (hs_single_write(hs->cfg) && !cb_calls_status_final(call->status))
                return CB_RESULT_OK; /* one write when the call ends */
        if ((props = hs_call_properties(hs->cfg, call, NULL)) == NULL) {
                snprintf(err, err_size, "out of memory");
                return CB_RESULT_RETRY;
        }
        r = write_call(hs, call, props, CB_CRM_PRIO_HIGH, out, err, err_size);
        json_decref(props);
        return r;
}

enum cb_result hs_log_call_once(void *self, const struct cb_call *call, const json_t *fields,
                                struct cb_crm_logged *out, char *err, size_t err_size)
{
        struct hs *hs = self;
        json_t *props = hs_call_properties(hs->cfg, call, str(fields, "summary"));
        enum cb_result r;

        out->id[0] = '\0';
        out->state = "pending";
        if (props == NULL) {
                snprintf(err, err_size, "out of memory");
                return CB_RESULT_RETRY;
        }
        hs_attach_properties(call, fields, props);
        r = write_call(hs, call, props, CB_CRM_PRIO_HIGH, out, err, err_size);
        json_decref(props);
        if (r == CB_RESULT_OK && str(fields, "transcript") != NULL)
                r = hs_note_write(hs, call, fields, out->id, CB_CRM_PRIO_HIGH, err, err_size);
        if (r != CB_RESULT_OK)
                out->state = "pending";
        return r;
}

json_t *hs_attach_call_properties(struct hs *hs, const struct cb_call *call, const json_t *fields)
{
        json_t *props = json_object();

        if (props == NULL)
                return NULL;
        hs_attach_properties(call, fields, props);
        if (json_object_size(props) > 0) /* a call object is never made without its time */
                json_object_set_new(props, "hs_timestamp", hs_timestamp(call->created_us));
        if (json_object_get(fields, "recording_url") != NULL || str(fields, "summary") != NULL) {
                /* The body a rep reads gets the recording link and the summary too. */
                json_t *full = hs_call_properties(hs->cfg, call, str(fields, "summary"));
                if (full == NULL) {
                        json_decref(props);
                        return NULL;
                }
                json_object_set(props, "hs_call_body", json_object_get(full, "hs_call_body"));
                json_decref(full);
        }
        return props;
}

enum cb_result hs_attach(void *self, const struct cb_call *call, const json_t *fields,
                         enum cb_crm_priority prio, char *err, size_t err_size)
{
        struct hs *hs = self;
        struct cb_crm_logged logged = {.id = "", .state = "pending"};
        json_t *props = hs_attach_call_properties(hs, call, fields);
        enum cb_result r = CB_RESULT_OK;

        if (props == NULL) {
                snprintf(err, err_size, "out of memory");
                return CB_RESULT_RETRY;
        }
        cb_strlcpy(logged.id, call->crm_log_id, sizeof(logged.id));
        if (json_object_size(props) > 0)
                r = hs_upsert(hs, "calls", hs->cfg->hubspot.call_id_property, call->id, props, prio,
                              logged.id, sizeof(logged.id), err, err_size);
        if (r == CB_RESULT_OK && str(fields, "transcript") != NULL)
                r = hs_note_write(hs, call, fields, logged.id, prio, err, err_size);
        json_decref(props);
        return r;
}
