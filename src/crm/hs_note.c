/* What HubSpot gets besides the call object: the transcript and its analysis as a Note
 * (upserted by [hubspot] note_key_property = "<call id>:transcript") and follow-ups as Tasks
 * (upserted by [hubspot] task_key_property = the follow-up's key, never rewritten once made),
 * both associated with the call's contact or company and owned by the agent's owner. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "callbridge/log.h"
#include "hs.h"

#define NOTE_MAX      65536 /* hs_note_body holds this many characters */
#define NOTE_HEAD_MAX 16384 /* the analysis part */
#define TASK_DUE_HOUR 9     /* a due date is due at this hour in [hubspot] timezone */
#define CUT_MARK      "<br>… (cut)"

static const char *str(const json_t *obj, const char *key)
{
        return json_string_value(json_object_get(obj, key));
}

/* Drop a UTF-8 character cut in half at the end of `b`. */
static void utf8_trim(struct cb_buf *b)
{
        size_t n = b->len, k = 0;

        while (n > 0 && ((unsigned char)b->data[n - 1] & 0xC0) == 0x80) {
                n--;
                k++;
        }
        if (n > 0 && ((unsigned char)b->data[n - 1] & 0x80) != 0) {
                unsigned char lead = (unsigned char)b->data[n - 1];
                size_t need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : 1;
                if (k < need)
                        b->len = n - 1;
        }
}

/* "Label: text" as an escaped paragraph line. */
static int item(struct cb_buf *b, const char *label, const char *text)
{
        if (text == NULL || text[0] == '\0')
                return 0;
        return cb_buf_printf(b, "<br><b>%s:</b> ", label) | hs_html(b, text);
}

/* A list of strings joined with ", " as one line. */
static int list_item(struct cb_buf *b, const char *label, const json_t *arr)
{
        const json_t *v;
        size_t i;
        int rc = 0;

        if (json_array_size(arr) == 0)
                return 0;
        rc |= cb_buf_printf(b, "<br><b>%s:</b> ", label);
        json_array_foreach(arr, i, v) if (json_is_string(v)) rc |=
            cb_buf_puts(b, i ? ", " : "") | hs_html(b, json_string_value(v));
        return rc;
}

/* The analysis part of the note. */
static int analysis(struct cb_buf *b, const struct cb_call *call, const json_t *fields)
{
        const json_t *ents = json_object_get(fields, "entities"), *e;
        const json_t *sent = json_object_get(fields, "sentiment");
        char title[256], num[48];
        size_t i;
        int rc = 0;

        cb_calls_record_subject(call, title, sizeof(title));
        rc |= cb_buf_puts(b, "<p><b>") | hs_html(b, title) | cb_buf_puts(b, "</b>");
        rc |= item(b, "Summary", str(fields, "summary"));
        if (json_is_number(sent)) {
                snprintf(num, sizeof(num), "%.2f", json_number_value(sent));
                rc |= item(b, "Sentiment", str(fields, "sentiment_label") ?: num);
        }
        rc |= item(b, "Intent", str(fields, "intent"));
        rc |= list_item(b, "Keywords", json_object_get(fields, "keywords"));
        rc |= list_item(b, "Tags", json_object_get(fields, "tags"));
        json_array_foreach(ents, i, e)
        {
                if (str(e, "type") == NULL || str(e, "text") == NULL)
                        continue;
                rc |= cb_buf_puts(b, "<br>") | hs_html(b, str(e, "type")) | cb_buf_puts(b, ": ") |
                      hs_html(b, str(e, "text"));
        }
        rc |= cb_buf_printf(b, "<br>Call id: %s (logged by callbridge)</p>", call->id);
        return rc;
}

char *hs_note_body(const struct cb_call *call, const json_t *fields)
{
        struct cb_buf head = {.max = NOTE_HEAD_MAX}, b = {.max = NOTE_MAX};
        const char *text = str(fields, "transcript");
        int rc;

        if (analysis(&head, call, fields) != 0) {
                utf8_trim(&head);
                cb_buf_puts(&head, "</p>");
        }
        rc = cb_buf_append(&b, head.data ? head.data : "", head.len);
        cb_buf_free(&head);
        if (rc != 0)
                goto fail;
        if (text != NULL) {
                /* The transcript fills what is left, keeping room for the closing marks. */
                size_t room = NOTE_MAX - b.len - sizeof(CUT_MARK) - 16;
                b.max = b.len + room;
                if (cb_buf_puts(&b, "<p><b>Transcript</b><br>") != 0)
                        goto fail;
                if (hs_html(&b, text) != 0) {
                        utf8_trim(&b);
                        b.max = NOTE_MAX;
                        if (cb_buf_puts(&b, CUT_MARK) != 0)
                                goto fail;
                }
                b.max = NOTE_MAX;
                if (cb_buf_puts(&b, "</p>") != 0)
                        goto fail;
        }
        if (cb_buf_append(&b, "", 1) != 0)
                goto fail;
        return b.data;
fail:
        cb_buf_free(&b);
        return NULL;
}

/* Associate `from_type`/`id` with the call's contact or company. A record that is neither
 * is left unassociated (logged). */
static enum cb_result associate_record(struct hs *hs, const struct cb_call *call,
                                       const char *from_type, const char *id,
                                       enum cb_crm_priority prio, char *err, size_t err_size)
{
        const char *object = NULL;
        enum cb_result r;

        if (call->crm_record_id[0] == '\0' || id[0] == '\0')
                return CB_RESULT_OK;
        r = hs_record_object(hs, call->crm_record_id, &object, err, err_size);
        if (r != CB_RESULT_OK || object == NULL)
                return r;
        return hs_associate(hs, from_type, id, object, call->crm_record_id, prio, err, err_size);
}

json_t *hs_note_properties(const struct cb_call *call, const json_t *fields)
{
        char *body = hs_note_body(call, fields);
        json_t *props;

        if (body == NULL)
                return NULL;
        props = json_pack("{s:o,s:s}", "hs_timestamp", hs_timestamp(call->created_us),
                          "hs_note_body", body);
        free(body);
        if (props != NULL && hs_owner_of(call) != NULL)
                json_object_set_new(props, "hubspot_owner_id", json_string(hs_owner_of(call)));
        return props;
}

enum cb_result hs_note_write(struct hs *hs, const struct cb_call *call, const json_t *fields,
                             const char *call_obj_id, enum cb_crm_priority prio, char *err,
                             size_t err_size)
{
        char key[96], id[CB_CRM_ID_MAX], ignored[256];
        json_t *props = hs_note_properties(call, fields);
        enum cb_result r;

        if (props == NULL) {
                snprintf(err, err_size, "out of memory");
                return CB_RESULT_RETRY;
        }
        snprintf(key, sizeof(key), "%s:transcript", call->id);
        r = hs_upsert(hs, "notes", hs->cfg->hubspot.note_key_property, key, props, prio, id,
                      sizeof(id), err, err_size);
        json_decref(props);
        if (r == CB_RESULT_OK)
                r = associate_record(hs, call, "notes", id, prio, err, err_size);
        /* The call's own association is a nicety: an account that refuses it (no default
         * note-to-call type) keeps the note on the contact's timeline, and is not asked again. */
        if (r == CB_RESULT_OK && call_obj_id != NULL && call_obj_id[0] != '\0' &&
            !atomic_load(&hs->note_call_refused) &&
            hs_associate(hs, "notes", id, "calls", call_obj_id, prio, ignored, sizeof(ignored)) ==
                CB_RESULT_FAIL) {
                atomic_store(&hs->note_call_refused, true);
                cb_info("hubspot: notes are not associated with calls here (%s)", ignored);
        }
        return r;
}

const char *hs_task_priority(const char *p)
{
        if (p != NULL && strcasecmp(p, "high") == 0)
                return "HIGH";
        if (p != NULL && strcasecmp(p, "low") == 0)
                return "LOW";
        return "MEDIUM";
}

/* "YYYY-MM-DD" at TASK_DUE_HOUR in the process zone (set from [hubspot] timezone) as
 * hs_timestamp; now for anything else. */
static json_t *due(const char *date)
{
        struct tm tm = {0};
        char part[5];
        long y, m, d;
        time_t t;

        if (date == NULL || strlen(date) != 10 || date[4] != '-' || date[7] != '-')
                return hs_timestamp(0);
        memcpy(part, date, 4);
        part[4] = '\0';
        if (!cb_parse_long(part, 1970, 9999, &y))
                return hs_timestamp(0);
        memcpy(part, date + 5, 2);
        part[2] = '\0';
        if (!cb_parse_long(part, 1, 12, &m))
                return hs_timestamp(0);
        memcpy(part, date + 8, 2);
        if (!cb_parse_long(part, 1, 31, &d))
                return hs_timestamp(0);
        tm.tm_year = (int)y - 1900;
        tm.tm_mon = (int)m - 1;
        tm.tm_mday = (int)d;
        tm.tm_hour = TASK_DUE_HOUR;
        tm.tm_isdst = -1;
        t = mktime(&tm);
        return hs_timestamp(t != (time_t)-1 ? (int64_t)t * 1000000 : 0);
}

json_t *hs_task_properties(const struct cb_call *call, const json_t *task)
{
        json_t *p = json_pack("{s:s,s:s,s:s,s:s,s:o}", "hs_task_subject",
                              str(task, "subject") ?: "Follow up", "hs_task_status", "NOT_STARTED",
                              "hs_task_priority", hs_task_priority(str(task, "priority")),
                              "hs_task_type", "CALL", "hs_timestamp", due(str(task, "due_date")));

        if (p == NULL)
                return NULL;
        if (str(task, "description") != NULL)
                json_object_set_new(p, "hs_task_body", json_string(str(task, "description")));
        if (hs_owner_of(call) != NULL)
                json_object_set_new(p, "hubspot_owner_id", json_string(hs_owner_of(call)));
        return p;
}

/* The task already made for `key`: OK with its id, FAIL (404) when none. */
static enum cb_result existing_task(struct hs *hs, const char *key, char *id, size_t id_size,
                                    struct hs_answer *ans, char *err, size_t err_size)
{
        struct cb_buf path = {.max = 1024};
        json_t *body = NULL;
        enum cb_result r = CB_RESULT_RETRY;

        if (cb_buf_puts(&path, "/crm/v3/objects/tasks/") == 0 &&
            cb_buf_url_encode(&path, key) == 0 &&
            cb_buf_printf(&path, "?idProperty=%s&properties=hs_task_subject",
                          hs->cfg->hubspot.task_key_property) == 0 &&
            cb_buf_append(&path, "", 1) == 0)
                r = hs_rest(hs, "GET", path.data, NULL, CB_CRM_PRIO_HIGH, ans, &body, err,
                            err_size);
        if (r == CB_RESULT_OK)
                cb_strlcpy(id, str(body, "id") ?: "", id_size);
        json_decref(body);
        cb_buf_free(&path);
        return r;
}

enum cb_result hs_create_task(void *self, const struct cb_call *call, const char *key,
                              const json_t *task, char *task_id, size_t task_id_size, char *err,
                              size_t err_size)
{
        struct hs *hs = self;
        const char *keyprop = hs->cfg->hubspot.task_key_property;
        struct hs_answer ans = {0};
        json_t *props;
        enum cb_result r;

        task_id[0] = '\0';
        if ((r = hs_schema_load(hs, "tasks", err, err_size)) != CB_RESULT_OK)
                return r;
        if (!hs_schema_has(hs, "tasks", keyprop)) {
                hs_schema_forget(hs, "tasks"); /* read again next time: setup may have run */
                snprintf(err, err_size,
                         "hubspot: tasks has no unique property %s: follow-ups cannot be made "
                         "exactly once (run `callbridge crm setup`)",
                         keyprop);
                return CB_RESULT_RETRY;
        }
        /* Made already: left as it is (the rep may have completed or edited it). */
        r = existing_task(hs, key, task_id, task_id_size, &ans, err, err_size);
        if (r == CB_RESULT_FAIL && ans.status == 404) {
                if ((props = hs_task_properties(call, task)) == NULL) {
                        snprintf(err, err_size, "out of memory");
                        return CB_RESULT_RETRY;
                }
                r = hs_upsert(hs, "tasks", keyprop, key, props, CB_CRM_PRIO_HIGH, task_id,
                              task_id_size, err, err_size);
                json_decref(props);
        }
        if (r == CB_RESULT_OK)
                r = associate_record(hs, call, "tasks", task_id, CB_CRM_PRIO_HIGH, err, err_size);
        return r;
}
