/* callbridge-sandbox: the Salesforce objects the emulation knows, as describe() shows them.
 *
 * The default schema is a static table turned into JSON at every reset; POST
 * /__sandbox/salesforce/schema changes the live copy (schema drift). A field is required on
 * create when it is createable, not nillable and not defaulted on create, as in Salesforce. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "sf_emu.h"

enum {
        CREATE = 1 << 0,
        UPDATE = 1 << 1,
        NILL = 1 << 2,
        DEFAULTED = 1 << 3,
        EXTID = 1 << 4,
        UNIQUE = 1 << 5,
};

struct field_def {
        const char *name;
        const char *type;
        int length;
        int flags;
        const char *reference_to;      /* comma-separated object names, or NULL */
        const char *relationship_name; /* or NULL */
};

#define EDIT (CREATE | UPDATE | NILL)
#define F_ID                                                                                       \
        {                                                                                          \
                "Id", "id", 18, DEFAULTED, NULL, NULL                                              \
        }
#define F_STR(n, len)                                                                              \
        {                                                                                          \
                n, "string", len, EDIT, NULL, NULL                                                 \
        }
#define F_REQ(n, len)                                                                              \
        {                                                                                          \
                n, "string", len, CREATE | UPDATE, NULL, NULL                                      \
        }
#define F_TYPE(n, t, len)                                                                          \
        {                                                                                          \
                n, t, len, EDIT, NULL, NULL                                                        \
        }
#define F_EXT(n, len)                                                                              \
        {                                                                                          \
                n, "string", len, EDIT | EXTID | UNIQUE, NULL, NULL                                \
        }
#define F_DATES                                                                                    \
        {"CreatedDate", "datetime", 0, DEFAULTED, NULL, NULL},                                     \
        {                                                                                          \
                "LastModifiedDate", "datetime", 0, DEFAULTED, NULL, NULL                           \
        }
#define F_OWNER                                                                                    \
        {                                                                                          \
                "OwnerId", "reference", 18, CREATE | UPDATE | DEFAULTED, "User", "Owner"           \
        }
#define F_NAME                                                                                     \
        {                                                                                          \
                "Name", "string", 121, DEFAULTED, NULL, NULL                                       \
        }
#define F_END                                                                                      \
        {                                                                                          \
                NULL, NULL, 0, 0, NULL, NULL                                                       \
        }

struct object_def {
        const char *name;
        const char *label;
        const char *prefix;
        struct field_def fields[40];
};

static const struct object_def objects[] = {
    {"Account",
     "Account",
     "001",
     {F_ID, F_REQ("Name", 255), F_TYPE("Phone", "phone", 40), F_TYPE("Fax", "phone", 40),
      F_TYPE("Website", "url", 255), F_TYPE("Industry", "picklist", 255), F_OWNER, F_DATES, F_END}},
    {"Contact",
     "Contact",
     "003",
     {F_ID,
      F_STR("FirstName", 40),
      F_REQ("LastName", 80),
      F_NAME,
      F_TYPE("Email", "email", 80),
      F_TYPE("Phone", "phone", 40),
      F_TYPE("MobilePhone", "phone", 40),
      F_TYPE("HomePhone", "phone", 40),
      F_TYPE("OtherPhone", "phone", 40),
      F_TYPE("AssistantPhone", "phone", 40),
      {"AccountId", "reference", 18, EDIT, "Account", "Account"},
      F_OWNER,
      F_STR("Title", 128),
      F_DATES,
      F_END}},
    {"Lead",
     "Lead",
     "00Q",
     {F_ID,
      F_STR("FirstName", 40),
      F_REQ("LastName", 80),
      F_NAME,
      F_REQ("Company", 255),
      F_TYPE("Email", "email", 80),
      F_TYPE("Phone", "phone", 40),
      F_TYPE("MobilePhone", "phone", 40),
      {"Status", "picklist", 255, CREATE | UPDATE | DEFAULTED, NULL, NULL},
      F_TYPE("LeadSource", "picklist", 255),
      F_TYPE("Description", "textarea", 32000),
      F_OWNER,
      F_DATES,
      F_EXT("Callbridge_Phone__c", 40),
      F_END}},
    {"Task",
     "Task",
     "00T",
     {F_ID,
      F_TYPE("Subject", "combobox", 255),
      {"Status", "picklist", 255, CREATE | UPDATE | DEFAULTED, NULL, NULL},
      {"Priority", "picklist", 255, CREATE | UPDATE | DEFAULTED, NULL, NULL},
      F_TYPE("TaskSubtype", "picklist", 255),
      F_TYPE("CallType", "picklist", 255),
      F_TYPE("CallDurationInSeconds", "int", 0),
      F_STR("CallObject", 255),
      F_STR("CallDisposition", 255),
      {"WhoId", "reference", 18, EDIT, "Contact,Lead", "Who"},
      {"WhatId", "reference", 18, EDIT, "Account", "What"},
      F_OWNER,
      F_TYPE("ActivityDate", "date", 0),
      F_TYPE("Description", "textarea", 32000),
      F_DATES,
      F_EXT("Callbridge_Call_Id__c", 255),
      F_EXT("Callbridge_Followup_Key__c", 255),
      F_TYPE("Callbridge_Recording_URL__c", "url", 255),
      F_TYPE("Callbridge_Recording_Seconds__c", "double", 0),
      F_TYPE("Callbridge_Recording_Bytes__c", "double", 0),
      F_TYPE("Callbridge_Sentiment__c", "double", 0),
      F_STR("Callbridge_Sentiment_Label__c", 40),
      F_STR("Callbridge_Intent__c", 255),
      F_STR("Callbridge_Tags__c", 255),
      F_TYPE("Callbridge_Keywords__c", "textarea", 32768),
      F_TYPE("Callbridge_Summary__c", "textarea", 32768),
      {"Callbridge_Transcript__c", "reference", 18, EDIT, "Callbridge_Transcript__c",
       "Callbridge_Transcript__r"},
      F_END}},
    {"Callbridge_Transcript__c",
     "Callbridge Transcript",
     "a0X",
     {F_ID,
      {"Name", "string", 80, CREATE | UPDATE | DEFAULTED, NULL, NULL},
      F_EXT("Callbridge_Key__c", 255),
      F_STR("Call_Id__c", 255),
      {"Task__c", "reference", 18, EDIT, "Task", "Task__r"},
      F_TYPE("Part__c", "double", 0),
      F_TYPE("Text__c", "textarea", 131072),
      F_TYPE("Entities__c", "textarea", 32768),
      {"Contact__c", "reference", 18, EDIT, "Contact", "Contact__r"},
      {"Lead__c", "reference", 18, EDIT, "Lead", "Lead__r"},
      F_OWNER,
      F_DATES,
      F_END}},
    /* Read-only in Salesforce; here seeded (POST /__sandbox/seed), and the owner of a record
     * can read it without a row (sf_query.c). */
    {"UserRecordAccess",
     "User Record Access",
     "0Ua",
     {F_ID, F_STR("UserId", 18), F_STR("RecordId", 18), F_TYPE("HasReadAccess", "boolean", 0),
      F_TYPE("HasEditAccess", "boolean", 0), F_TYPE("HasDeleteAccess", "boolean", 0),
      F_STR("MaxAccessLevel", 40), F_END}},
    {"User",
     "User",
     "005",
     {F_ID,
      F_REQ("Username", 80),
      {"Name", "string", 121, DEFAULTED, NULL, NULL},
      F_TYPE("Email", "email", 128),
      F_TYPE("IsActive", "boolean", 0),
      F_DATES,
      F_END}},
};

/* One field as describe shows it; NULL when out of memory. */
static json_t *field_json(const struct field_def *f)
{
        json_t *j = json_pack("{s:s,s:s,s:i,s:b,s:b,s:b,s:b,s:b,s:b}", "name", f->name, "type",
                              f->type, "length", f->length, "externalId", !!(f->flags & EXTID),
                              "unique", !!(f->flags & UNIQUE), "createable", !!(f->flags & CREATE),
                              "updateable", !!(f->flags & UPDATE), "nillable", !!(f->flags & NILL),
                              "defaultedOnCreate", !!(f->flags & DEFAULTED));
        json_t *refs = json_array();
        char buf[128];

        if (!j || !refs)
                goto fail;
        if (f->reference_to) {
                const char *p = f->reference_to;
                while (*p) {
                        size_t n = strcspn(p, ",");
                        snprintf(buf, sizeof(buf), "%.*s", (int)n, p);
                        json_array_append_new(refs, json_string(buf));
                        p += n + (p[n] == ',');
                }
        }
        json_object_set_new(j, "referenceTo", refs);
        json_object_set_new(j, "relationshipName",
                            f->relationship_name ? json_string(f->relationship_name) : json_null());
        return j;
fail:
        json_decref(j);
        json_decref(refs);
        return NULL;
}

json_t *sf_schema_default(void)
{
        json_t *all = json_object();

        for (size_t i = 0; all && i < sizeof(objects) / sizeof(objects[0]); i++) {
                const struct object_def *o = &objects[i];
                json_t *fields = json_array();
                json_t *obj =
                    json_pack("{s:s,s:s,s:s,s:b}", "name", o->name, "label", o->label, "keyPrefix",
                              o->prefix, "custom", strstr(o->name, "__c") != NULL);

                for (size_t k = 0; fields && o->fields[k].name; k++) {
                        if (json_array_append_new(fields, field_json(&o->fields[k])) != 0) {
                                json_decref(fields);
                                fields = NULL;
                        }
                }
                if (!obj || !fields || json_object_set_new(obj, "fields", fields) != 0 ||
                    json_object_set_new(all, o->name, obj) != 0) {
                        json_decref(obj);
                        json_decref(all);
                        return NULL;
                }
        }
        return all;
}

json_t *sf_schema_object_locked(const char *type)
{
        return json_object_get(sf_state_schema_locked(), type);
}

json_t *sf_schema_field_locked(const char *type, const char *name)
{
        json_t *fields = json_object_get(sf_schema_object_locked(type), "fields");
        json_t *f;
        size_t i;

        json_array_foreach(fields, i, f)
        {
                if (sf_strcasecmp(json_string_value(json_object_get(f, "name")), name) == 0)
                        return f;
        }
        return NULL;
}

json_t *sf_schema_relationship_locked(const char *type, const char *rel)
{
        json_t *fields = json_object_get(sf_schema_object_locked(type), "fields");
        json_t *f;
        size_t i;

        json_array_foreach(fields, i, f)
        {
                const char *r = json_string_value(json_object_get(f, "relationshipName"));
                if (r && sf_strcasecmp(r, rel) == 0)
                        return f;
        }
        return NULL;
}

/* A field added by a schema change: {"name","type"?,"externalId"?,"length"?}. */
static json_t *added_field(json_t *spec, char *err, size_t errlen)
{
        const char *name = json_string_value(json_object_get(spec, "name"));
        const char *type = json_string_value(json_object_get(spec, "type"));
        json_t *ext = json_object_get(spec, "externalId");
        json_t *len = json_object_get(spec, "length");
        bool is_ext = json_is_true(ext);
        struct field_def f = {name, type ? type : "string", 255, EDIT, NULL, NULL};

        if (!name || !*name || (ext && !json_is_boolean(ext)) || (len && !json_is_integer(len))) {
                snprintf(err, errlen,
                         "each added field needs a \"name\" (string), and "
                         "\"externalId\" must be a boolean");
                return NULL;
        }
        for (const char *p = name; *p; p++) {
                if (!isalnum((unsigned char)*p) && *p != '_') {
                        snprintf(err, errlen, "bad field name \"%s\"", name);
                        return NULL;
                }
        }
        if (is_ext)
                f.flags |= EXTID | UNIQUE;
        if (len)
                f.length = (int)json_integer_value(len);
        return field_json(&f);
}

/* Apply one object's change to a copy of its field list. */
static bool change_object(json_t *obj, json_t *change, char *err, size_t errlen)
{
        json_t *fields = json_object_get(obj, "fields");
        json_t *drop = json_object_get(change, "drop"), *add = json_object_get(change, "add");
        json_t *v;
        size_t i;

        if ((drop && !json_is_array(drop)) || (add && !json_is_array(add))) {
                snprintf(err, errlen, "\"drop\" and \"add\" must be arrays");
                return false;
        }
        json_array_foreach(drop, i, v)
        {
                const char *name = json_string_value(v);
                size_t k;
                json_t *f;
                bool found = false;

                json_array_foreach(fields, k, f)
                {
                        if (name && sf_strcasecmp(json_string_value(json_object_get(f, "name")),
                                                  name) == 0) {
                                json_array_remove(fields, k);
                                found = true;
                                break;
                        }
                }
                if (!found) {
                        snprintf(err, errlen, "no field \"%s\" to drop", name ? name : "?");
                        return false;
                }
        }
        json_array_foreach(add, i, v)
        {
                json_t *f = added_field(v, err, errlen);
                if (!f || json_array_append_new(fields, f) != 0)
                        return false;
        }
        return true;
}

bool sf_schema_change_locked(json_t *change, char *err, size_t errlen)
{
        json_t *schema = sf_state_schema_locked();
        json_t *copy = json_deep_copy(schema);
        const char *type;
        json_t *val;

        if (!copy || !json_is_object(change)) {
                snprintf(err, errlen, "the schema change must be a JSON object");
                json_decref(copy);
                return false;
        }
        json_object_foreach(change, type, val)
        {
                json_t *obj = json_object_get(copy, type);
                if (!obj) {
                        snprintf(err, errlen, "unknown object \"%s\"", type);
                        json_decref(copy);
                        return false;
                }
                if (!json_is_object(val) || !change_object(obj, val, err, errlen)) {
                        if (!json_is_object(val))
                                snprintf(err, errlen, "%s: want {\"drop\":[...],\"add\":[...]}",
                                         type);
                        json_decref(copy);
                        return false;
                }
        }
        json_object_clear(schema);
        json_object_update(schema, copy);
        json_decref(copy);
        return true;
}
