/* The Salesforce call log: one record per call, upserted by an External ID derived from the
 * call id, so a retried or repeated job updates the record it made instead of adding one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "callbridge/log.h"
#include "sf.h"

#define TRANSCRIPT_PART_BYTES 32000

static const char *str(const json_t *obj, const char *key)
{
        return json_string_value(json_object_get(obj, key));
}

/* Salesforce's refusals of a reference it cannot take: an owner that is no id, not a User,
 * unknown or inactive in this org. */
bool sf_owner_refused(const char *code)
{
        static const char *const codes[] = {"MALFORMED_ID", "INVALID_CROSS_REFERENCE_KEY",
                                            "FIELD_INTEGRITY_EXCEPTION", "INACTIVE_OWNER_OR_USER"};

        for (size_t i = 0; i < CB_ARRAY_LEN(codes); i++)
                if (strcmp(code, codes[i]) == 0)
                        return true;
        return false;
}

enum cb_result sf_upsert(struct sf *sf, const char *object, const char *field, const char *value,
                         json_t *record, enum cb_crm_priority prio, char *id, size_t id_size,
                         char *err, size_t err_size)
{
        struct cb_buf path = {.max = 2048};
        json_t *body = NULL;
        struct sf_answer ans;
        enum cb_result r = CB_RESULT_FAIL;

        id[0] = '\0';
        sf_schema_filter(sf, object, record);
        cb_buf_printf(&path, "/services/data/%s/sobjects/%s/%s/", sf->cfg->salesforce.api_version,
                      object, field);
        if (cb_buf_url_encode(&path, value) != 0 || cb_buf_append(&path, "", 1) != 0) {
                snprintf(err, err_size, "external id too long");
                goto out;
        }
        r = sf_rest(sf, "PATCH", path.data, record, prio, &ans, &body, err, err_size);
        if (r == CB_RESULT_FAIL && strcmp(ans.code, "INVALID_FIELD") == 0) {
                /* A field was removed from the org since we described it: describe again,
                 * drop what is gone and write once more in this same run. */
                cb_warn("salesforce: %s refused a field (%s); describing it again", object, err);
                sf_schema_forget(sf, object);
                sf_schema_filter(sf, object, record);
                json_decref(body);
                body = NULL;
                r = sf_rest(sf, "PATCH", path.data, record, prio, &ans, &body, err, err_size);
                /* Still refused (describe lists a field writes reject): try again later,
                 * never dead for a schema change. */
                if (r == CB_RESULT_FAIL && strcmp(ans.code, "INVALID_FIELD") == 0) {
                        sf_schema_forget(sf, object);
                        r = CB_RESULT_RETRY;
                }
        }
        if (r == CB_RESULT_FAIL && sf_owner_refused(ans.code) &&
            json_object_get(record, "OwnerId") != NULL) {
                /* The agent's CRM user id is not a usable owner here (a typo, a deactivated
                 * user): the record is still written, owned by the integration user. */
                cb_warn("salesforce: %s refused OwnerId %s (%s); writing it without an owner",
                        object, str(record, "OwnerId"), ans.code);
                json_object_del(record, "OwnerId");
                json_decref(body);
                body = NULL;
                r = sf_rest(sf, "PATCH", path.data, record, prio, &ans, &body, err, err_size);
        }
        if (r == CB_RESULT_OK) {
                /* 201 created / 200 updated carry the id; API versions before 46 answer 204. */
                cb_strlcpy(id, str(body, "id") ? str(body, "id") : "", id_size);
                if (id[0] == '\0') {
                        json_decref(body);
                        body = NULL;
                        r = sf_rest(sf, "GET", path.data, NULL, prio, &ans, &body, err, err_size);
                        cb_strlcpy(id, str(body, "Id") ? str(body, "Id") : "", id_size);
                }
        }
out:
        json_decref(body);
        cb_buf_free(&path);
        return r;
}

/* The agent's CRM user owns what is written about its call; without one the CRM's own user
 * (the integration user) does, as Salesforce decides when OwnerId is left out. */
static void set_owner(json_t *rec, const struct cb_call *call)
{
        if (call->crm_owner_id[0] != '\0')
                json_object_set_new(rec, "OwnerId", json_string(call->crm_owner_id));
}

/* WhoId (Contact, Lead) or WhatId (Account, Opportunity...) from the linked record. */
static void set_related(json_t *rec, const struct cb_call *call)
{
        const char *rid = call->crm_record_id;
        const char *type = rid[0] != '\0' ? sf_type_of_id(rid) : NULL;

        if (type == NULL)
                return;
        if (strcmp(type, "Contact") == 0 || strcmp(type, "Lead") == 0)
                json_object_set_new(rec, "WhoId", json_string(rid));
        else if (strcmp(type, "User") != 0 && strcmp(type, "Task") != 0)
                json_object_set_new(rec, "WhatId", json_string(rid));
}

/* "YYYY-MM-DD" of the call's start in the org's time zone (the process TZ, set from
 * [salesforce] timezone at start). */
static json_t *activity_date(const struct cb_call *call)
{
        struct tm tm = {0};
        char out[16];
        time_t t = call->created_us > 0 ? (time_t)(call->created_us / 1000000) : time(NULL);

        localtime_r(&t, &tm);
        strftime(out, sizeof(out), "%Y-%m-%d", &tm);
        return json_string(out);
}

/* Every field call_record may write; keep the two together. */
static const char *const call_log_fields[] = {
    "Subject",         "TaskSubtype",  "CallType",
    "Status",          "Priority",     "Description",
    "CallObject",      "ActivityDate", "CallDurationInSeconds",
    "CallDisposition", "WhoId",        "WhatId",
    "OwnerId",
};

void sf_calllog_check_schema(struct sf *sf)
{
        const char *object = sf->cfg->salesforce.call_log_object;
        const char *ext = sf->cfg->salesforce.external_id_field;
        json_t *probe = json_object();

        for (size_t i = 0; probe != NULL && i < CB_ARRAY_LEN(call_log_fields); i++)
                json_object_set_new(probe, call_log_fields[i], json_null());
        if (probe != NULL)
                json_object_set_new(probe, ext, json_null());
        sf_schema_filter(sf, object, probe); /* logs and records what is missing */
        json_decref(probe);
        if (!sf_schema_has(sf, object, ext))
                cb_error("salesforce: %s has no External ID field %s: call logs cannot be "
                         "written until it is deployed (docs/salesforce)",
                         object, ext);
}

/* The CallDisposition of a call: the label [agents] dispositions gives the agent's value (the
 * value itself when the list no longer has it), else the outcome in words ("Answered", "No
 * answer", "Busy", "Missed"...), else none (NULL: the call is not over). */
static const char *disposition_of(const struct sf *sf, const struct cb_call *call, char *label,
                                  size_t label_size)
{
        if (call->disposition[0] != '\0') {
                if (!cb_calls_disposition_label(sf->cfg->agents.dispositions, call->disposition,
                                                label, label_size))
                        cb_strlcpy(label, call->disposition, label_size);
                return label;
        }
        return cb_calls_outcome_label(call);
}

/* The Description a rep reads: who, which numbers (formatted), the agent's name, how long,
 * how it ended, the wrap-up, the recording link; composed from the call's row on every write
 * (so the notes the agent typed are never lost to a later one). Task.Description holds
 * 32,000 characters; this is well under. NULL when out of memory; the caller frees it. */
static char *description(const struct sf *sf, const struct cb_call *call, const char *disposition,
                         const char *summary)
{
        struct cb_buf b = {.max = 32000};
        char from[64], to[64], dur[48];
        const char *outcome = cb_calls_outcome_label(call);
        const char *agent = call->agent_display[0] ? call->agent_display : call->agent;
        int rc;

        cb_calls_number_text(call->from, from, sizeof(from));
        cb_calls_number_text(call->to, to, sizeof(to));
        cb_calls_duration_text(call->duration_s, dur, sizeof(dur));
        rc = cb_buf_printf(&b, "%s call\nFrom: %s\nTo: %s\nAgent: %s",
                           call->direction == CB_CALL_INBOUND ? "Inbound" : "Outbound",
                           call->from[0] ? from : "-", to, agent);
        if (call->party_name[0] != '\0' || call->party_company[0] != '\0')
                rc |= cb_buf_printf(&b, "\nWith: %s%s%s%s", call->party_name,
                                    call->party_name[0] && call->party_company[0] ? " (" : "",
                                    call->party_company,
                                    call->party_name[0] && call->party_company[0] ? ")" : "");
        if (call->duration_s >= 0)
                rc |= cb_buf_printf(&b, "\nDuration: %s", dur);
        rc |= cb_buf_printf(&b, "\nOutcome: %s", outcome ? outcome : "In progress");
        if (call->disposition[0] != '\0')
                rc |= cb_buf_printf(&b, "\nDisposition: %s", disposition);
        if (call->recording_id[0] != '\0' && sf->cfg->server.public_url != NULL)
                rc |= cb_buf_printf(&b, "\nRecording: %s/r/%s", sf->cfg->server.public_url,
                                    call->recording_id);
        rc |= cb_buf_printf(&b, "\nCall id: %s (logged by callbridge)", call->id);
        if (summary != NULL && summary[0] != '\0') /* the analysis's, a few sentences */
                rc |= cb_buf_printf(&b, "\n\nSummary:\n%.4000s", summary);
        if (call->notes[0] != '\0') /* at most 4,000 characters: the whole fits */
                rc |= cb_buf_printf(&b, "\n\nNotes:\n%s", call->notes);
        if (rc != 0 || cb_buf_append(&b, "", 1) != 0) {
                cb_buf_free(&b);
                return NULL;
        }
        return b.data;
}

json_t *sf_call_record(const struct sf *sf, const struct cb_call *call, const char *summary)
{
        bool final = cb_calls_status_final(call->status);
        bool inbound = call->direction == CB_CALL_INBOUND;
        char subject[256], label[CB_DISPOSITION_LABEL_MAX + 1]; /* Subject: 255 characters */
        const char *disposition = disposition_of(sf, call, label, sizeof(label));
        char *desc = description(sf, call, disposition ? disposition : "", summary);
        json_t *rec = NULL;

        if (desc == NULL)
                return NULL;
        cb_calls_record_subject(call, subject, sizeof(subject));
        rec = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o}", "Subject", subject, "TaskSubtype",
                        "Call", "CallType", inbound ? "Inbound" : "Outbound", "Status",
                        final ? "Completed" : "In Progress", "Priority", "Normal", "Description",
                        desc, "CallObject",
                        call->provider_call_id[0] ? call->provider_call_id : call->id,
                        "ActivityDate", activity_date(call));
        free(desc);
        if (rec == NULL)
                return NULL;
        if (call->duration_s >= 0)
                json_object_set_new(rec, "CallDurationInSeconds", json_integer(call->duration_s));
        if (disposition != NULL)
                json_object_set_new(rec, "CallDisposition", json_string(disposition));
        set_related(rec, call);
        set_owner(rec, call);
        return rec;
}

enum cb_result sf_log_call(void *self, const struct cb_call *call, struct cb_crm_logged *out,
                           char *err, size_t err_size)
{
        struct sf *sf = self;
        const char *object = sf->cfg->salesforce.call_log_object;
        json_t *rec = NULL;
        enum cb_result r;

        out->id[0] = '\0';
        out->state = "pending";
        if (strcmp(sf->cfg->crm.write_mode, "single") == 0 && !cb_calls_status_final(call->status))
                return CB_RESULT_OK; /* one write when the call ends */
        rec = sf_call_record(sf, call, NULL);
        if (rec == NULL) {
                snprintf(err, err_size, "out of memory");
                return CB_RESULT_RETRY;
        }
        r = sf_upsert(sf, object, sf->cfg->salesforce.external_id_field, call->id, rec,
                      CB_CRM_PRIO_HIGH, out->id, sizeof(out->id), err, err_size);
        if (r == CB_RESULT_OK)
                out->state = "synced";
        json_decref(rec);
        return r;
}

/* callbridge's names for what attach carries, and the fields they land in. */
static const struct {
        const char *name;
        const char *field;
        const char *join; /* arrays are joined with this */
        size_t max;       /* text is cut to this many bytes (0: as it is) */
} attach_map[] = {
    {"recording_url", "Callbridge_Recording_URL__c", NULL, 255},
    {"recording_seconds", "Callbridge_Recording_Seconds__c", NULL, 0},
    {"recording_bytes", "Callbridge_Recording_Bytes__c", NULL, 0},
    {"sentiment", "Callbridge_Sentiment__c", NULL, 0},
    {"sentiment_label", "Callbridge_Sentiment_Label__c", NULL, 0},
    {"intent", "Callbridge_Intent__c", NULL, 80},
    {"tags", "Callbridge_Tags__c", "; ", 255},
    {"keywords", "Callbridge_Keywords__c", ", ", 255},
    {"summary", "Callbridge_Summary__c", NULL, 255},
    {"disposition", "CallDisposition", NULL, 255},
};

/* Where the next UTF-8 character starts at or before `n` in `s`. */
static size_t utf8_cut(const char *s, size_t n)
{
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
                n--;
        return n;
}

/* The value for a field: arrays joined, text cut to `max`, numbers as they are. */
static json_t *field_value(const json_t *v, const char *join, size_t max);

static json_t *joined(const json_t *array, const char *sep, size_t max)
{
        struct cb_buf b = {.max = max};
        json_t *v, *out;
        size_t i;

        json_array_foreach(array, i, v) if (json_is_string(v))
        {
                size_t before = b.len;
                if ((b.len && cb_buf_puts(&b, sep) != 0) ||
                    cb_buf_puts(&b, json_string_value(v)) != 0) {
                        b.len = before; /* the field is full: keep the items that fit */
                        break;
                }
        }
        out = json_stringn(b.data ? b.data : "", b.len);
        cb_buf_free(&b);
        return out;
}

static json_t *field_value(const json_t *v, const char *join, size_t max)
{
        if (json_is_array(v))
                return joined(v, join ? join : ", ", max ? max : 255);
        if (json_is_string(v) && max && json_string_length(v) > max)
                return json_stringn(json_string_value(v), utf8_cut(json_string_value(v), max));
        return json_incref((json_t *)v);
}

/* The entities as a rep reads them, one a line: "money: $5,000 (5000)". Cut to the field's
 * 32,768 characters at a whole line. NULL for none or out of memory. */
static json_t *entities_text(const json_t *entities)
{
        struct cb_buf b = {.max = 32000};
        const json_t *e;
        json_t *out;
        size_t i;

        json_array_foreach(entities, i, e)
        {
                const char *type = str(e, "type"), *text = str(e, "text"), *value = str(e, "value");
                size_t before = b.len;
                if (type == NULL || text == NULL)
                        continue;
                if (cb_buf_printf(&b, "%s%s: %s", b.len ? "\n" : "", type, text) != 0 ||
                    (value != NULL && strcmp(value, text) != 0 &&
                     cb_buf_printf(&b, " (%s)", value) != 0)) {
                        b.len = before; /* full: keep the lines that fit */
                        break;
                }
        }
        out = b.len > 0 ? json_stringn(b.data, b.len) : NULL;
        cb_buf_free(&b);
        return out;
}

/* The transcript as Callbridge_Transcript__c parts keyed "<call id>:<part>", each related to
 * the Contact or Lead the call is linked to (Contact__c, Lead__c lookups: their pages list the
 * transcript); the first part carries the entities. Task__c keeps the Task's id as text for
 * what reads the old field. Fields the org lacks are skipped (sf_schema_filter). */
json_t *sf_transcript_records(const struct cb_call *call, const char *task_id, const char *text,
                              const json_t *entities)
{
        const char *task = task_id != NULL && task_id[0] ? task_id : NULL;
        const char *rtype = call->crm_record_id[0] ? sf_type_of_id(call->crm_record_id) : NULL;
        size_t len = strlen(text), off = 0;
        json_t *out = json_array();
        char key[96];

        for (int part = 1; out != NULL && (off < len || part == 1); part++) {
                size_t n = len - off > TRANSCRIPT_PART_BYTES
                               ? utf8_cut(text + off, TRANSCRIPT_PART_BYTES)
                               : len - off;
                json_t *rec = json_pack("{s:s,s:i,s:s%}", "Call_Id__c", call->id, "Part__c", part,
                                        "Text__c", text + off, n);
                json_t *ents = part == 1 ? entities_text(entities) : NULL;
                snprintf(key, sizeof(key), "%s:%d", call->id, part);
                if (rec == NULL || json_array_append_new(out, json_pack("{s:s,s:o}", "key", key,
                                                                        "record", rec)) != 0) {
                        json_decref(ents);
                        json_decref(out);
                        return NULL;
                }
                if (task != NULL)
                        json_object_set_new(rec, "Task__c", json_string(task));
                if (ents != NULL)
                        json_object_set_new(rec, "Entities__c", ents);
                if (rtype != NULL && (strcmp(rtype, "Contact") == 0 || strcmp(rtype, "Lead") == 0))
                        json_object_set_new(
                            rec, strcmp(rtype, "Contact") == 0 ? "Contact__c" : "Lead__c",
                            json_string(call->crm_record_id));
                off += n;
        }
        return out;
}

enum cb_result sf_transcript_parts(struct sf *sf, const struct cb_call *call, const char *task_id,
                                   const char *text, const json_t *entities,
                                   enum cb_crm_priority prio, char *first, size_t first_size,
                                   char *err, size_t err_size)
{
        json_t *parts = NULL, *p;
        enum cb_result r = CB_RESULT_OK;
        char id[CB_CRM_ID_MAX];
        size_t i;

        first[0] = '\0';
        if (call == NULL || text == NULL) {
                snprintf(err, err_size, "no call or no transcript");
                return CB_RESULT_FAIL;
        }
        parts = sf_transcript_records(call, task_id, text, entities);
        if (parts == NULL) {
                snprintf(err, err_size, "out of memory");
                return CB_RESULT_RETRY;
        }
        json_array_foreach(parts, i, p)
        {
                r = sf_upsert(sf, "Callbridge_Transcript__c", "Callbridge_Key__c", str(p, "key"),
                              json_object_get(p, "record"), prio, id, sizeof(id), err, err_size);
                if (r != CB_RESULT_OK)
                        break;
                if (i == 0)
                        cb_strlcpy(first, id, first_size);
        }
        json_decref(parts);
        return r;
}

void sf_attach_fields(const struct cb_call *call, const json_t *fields, json_t *rec)
{
        for (size_t i = 0; i < CB_ARRAY_LEN(attach_map); i++) {
                json_t *v = json_object_get(fields, attach_map[i].name);
                if (v == NULL)
                        continue;
                /* The agent's disposition wins over any a rule or an analysis suggests. */
                if (call->disposition[0] != '\0' && strcmp(attach_map[i].name, "disposition") == 0)
                        continue;
                if (strcmp(attach_map[i].name, "sentiment") == 0 && json_is_number(v)) {
                        double s = json_number_value(v);
                        json_object_set_new(rec, attach_map[i].field,
                                            json_real(s < -1  ? -1
                                                      : s > 1 ? 1
                                                              : s));
                        continue;
                }
                json_object_set_new(rec, attach_map[i].field,
                                    field_value(v, attach_map[i].join, attach_map[i].max));
        }
}

json_t *sf_attach_record(const struct sf *sf, const struct cb_call *call, const json_t *fields)
{
        json_t *rec = json_object();

        if (rec == NULL)
                return NULL;
        sf_attach_fields(call, fields, rec);
        if (json_object_get(fields, "recording_url") != NULL || str(fields, "summary") != NULL) {
                /* The Description a rep reads gets the recording link and the summary too. */
                char label[CB_DISPOSITION_LABEL_MAX + 1];
                const char *disp = disposition_of(sf, call, label, sizeof(label));
                char *desc = description(sf, call, disp ? disp : "", str(fields, "summary"));
                if (desc != NULL)
                        json_object_set_new(rec, "Description", json_string(desc));
                free(desc);
        }
        return rec;
}

enum cb_result sf_attach(void *self, const struct cb_call *call, const json_t *fields,
                         enum cb_crm_priority prio, char *err, size_t err_size)
{
        struct sf *sf = self;
        json_t *rec = sf_attach_record(sf, call, fields);
        const char *transcript = str(fields, "transcript");
        char id[CB_CRM_ID_MAX], first[CB_CRM_ID_MAX] = "";
        enum cb_result r = CB_RESULT_OK;

        if (rec == NULL) {
                snprintf(err, err_size, "out of memory");
                return CB_RESULT_RETRY;
        }
        if (json_object_size(rec) > 0)
                r = sf_upsert(sf, sf->cfg->salesforce.call_log_object,
                              sf->cfg->salesforce.external_id_field, call->id, rec, prio, id,
                              sizeof(id), err, err_size);
        if (r == CB_RESULT_OK && transcript != NULL)
                r = sf_transcript_parts(sf, call, call->crm_log_id, transcript,
                                        json_object_get(fields, "entities"), prio, first,
                                        sizeof(first), err, err_size);
        if (r == CB_RESULT_OK && first[0] != '\0') {
                /* The Task's lookup names the first part: its page links to the transcript. */
                json_t *link = json_pack("{s:s}", "Callbridge_Transcript__c", first);
                r = link ? sf_upsert(sf, sf->cfg->salesforce.call_log_object,
                                     sf->cfg->salesforce.external_id_field, call->id, link, prio,
                                     id, sizeof(id), err, err_size)
                         : CB_RESULT_RETRY;
                json_decref(link);
        }
        json_decref(rec);
        return r;
}

/* Task.Priority's standard values for a rule's "priority" (any case); Normal otherwise. */
static const char *task_priority(const char *p)
{
        if (p != NULL && strcasecmp(p, "high") == 0)
                return "High";
        if (p != NULL && strcasecmp(p, "low") == 0)
                return "Low";
        return "Normal";
}

json_t *sf_task_record(const struct cb_call *call, const json_t *task)
{
        json_t *rec =
            json_pack("{s:s,s:s,s:s}", "Subject", str(task, "subject") ?: "Follow up", "Status",
                      "Not Started", "Priority", task_priority(str(task, "priority")));

        if (rec == NULL)
                return NULL;
        if (str(task, "description") != NULL)
                json_object_set_new(rec, "Description", json_string(str(task, "description")));
        if (str(task, "due_date") != NULL)
                json_object_set_new(rec, "ActivityDate", json_string(str(task, "due_date")));
        set_related(rec, call);
        set_owner(rec, call);
        return rec;
}

enum cb_result sf_task_key_check(struct sf *sf, char *err, size_t err_size)
{
        const char *object = sf->cfg->salesforce.call_log_object;

        if (sf_schema_load(sf, object, err, err_size) == CB_RESULT_OK &&
            !sf_schema_has(sf, object, "Callbridge_Followup_Key__c")) {
                snprintf(err, err_size,
                         "%s has no Callbridge_Followup_Key__c: follow-up tasks "
                         "cannot be made exactly once (deploy docs/salesforce)",
                         object);
                return CB_RESULT_FAIL;
        }
        return CB_RESULT_OK;
}

enum cb_result sf_create_task(void *self, const struct cb_call *call, const char *key,
                              const json_t *task, char *task_id, size_t task_id_size, char *err,
                              size_t err_size)
{
        struct sf *sf = self;
        json_t *rec;
        enum cb_result r;

        if (sf_task_key_check(sf, err, err_size) == CB_RESULT_FAIL)
                return CB_RESULT_FAIL;
        rec = sf_task_record(call, task);
        if (rec == NULL) {
                snprintf(err, err_size, "out of memory");
                return CB_RESULT_RETRY;
        }
        r = sf_upsert(sf, sf->cfg->salesforce.call_log_object, "Callbridge_Followup_Key__c", key,
                      rec, CB_CRM_PRIO_HIGH, task_id, task_id_size, err, err_size);
        json_decref(rec);
        return r;
}
