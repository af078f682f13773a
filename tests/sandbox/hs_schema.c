/* callbridge-sandbox: HubSpot's default property definitions for the five object types the
 * emulation keeps, as GET /crm/v3/properties/{type} shows them, plus the custom unique
 * properties callbridge's `hubspot setup` creates (present by default; /__sandbox/hubspot/schema
 * drops them for schema-drift tests). */
#include <string.h>

#include "hs_emu.h"

/* One default property. `options` is a ';'-separated list for enumerations, else NULL. */
struct def {
        enum hs_type type;
        const char *name, *label, *ptype, *field, *options;
        bool unique, read_only;
};

static const char call_status[] =
    "BUSY;CALLING_CRM_USER;CANCELED;COMPLETED;CONNECTING;FAILED;IN_PROGRESS;MISSED;NO_ANSWER;"
    "QUEUED;RINGING";

static const struct def defs[] = {
    {HS_CONTACTS, "firstname", "First Name", "string", "text", NULL, false, false},
    {HS_CONTACTS, "lastname", "Last Name", "string", "text", NULL, false, false},
    {HS_CONTACTS, "email", "Email", "string", "text", NULL, true, false},
    {HS_CONTACTS, "phone", "Phone Number", "string", "phonenumber", NULL, false, false},
    {HS_CONTACTS, "mobilephone", "Mobile Phone Number", "string", "phonenumber", NULL, false,
     false},
    {HS_CONTACTS, "company", "Company Name", "string", "text", NULL, false, false},
    {HS_CONTACTS, "jobtitle", "Job Title", "string", "text", NULL, false, false},
    {HS_CONTACTS, "hs_lead_status", "Lead Status", "enumeration", "radio",
     "NEW;OPEN;IN_PROGRESS;OPEN_DEAL;UNQUALIFIED;ATTEMPTED_TO_CONTACT;CONNECTED;BAD_TIMING", false,
     false},
    {HS_CONTACTS, "lifecyclestage", "Lifecycle Stage", "enumeration", "radio",
     "subscriber;lead;marketingqualifiedlead;salesqualifiedlead;opportunity;customer;evangelist;"
     "other",
     false, false},
    {HS_CONTACTS, "hubspot_owner_id", "Contact owner", "enumeration", "select", NULL, false, false},
    {HS_CONTACTS, "hs_searchable_calculated_phone_number", "Phone Number (searchable)", "string",
     "text", NULL, false, true},
    {HS_CONTACTS, "hs_searchable_calculated_mobile_number", "Mobile Phone Number (searchable)",
     "string", "text", NULL, false, true},
    {HS_CONTACTS, "createdate", "Create Date", "datetime", "date", NULL, false, true},
    {HS_CONTACTS, "lastmodifieddate", "Last Modified Date", "datetime", "date", NULL, false, true},
    {HS_CONTACTS, "hs_object_id", "Record ID", "number", "number", NULL, true, true},
    {HS_CONTACTS, "callbridge_phone", "callbridge phone", "string", "text", NULL, true, false},
    {HS_COMPANIES, "name", "Company name", "string", "text", NULL, false, false},
    {HS_COMPANIES, "domain", "Company Domain Name", "string", "text", NULL, false, false},
    {HS_COMPANIES, "phone", "Phone Number", "string", "phonenumber", NULL, false, false},
    {HS_COMPANIES, "city", "City", "string", "text", NULL, false, false},
    {HS_COMPANIES, "country", "Country/Region", "string", "text", NULL, false, false},
    {HS_COMPANIES, "hubspot_owner_id", "Company owner", "enumeration", "select", NULL, false,
     false},
    {HS_COMPANIES, "createdate", "Create Date", "datetime", "date", NULL, false, true},
    {HS_COMPANIES, "hs_lastmodifieddate", "Last Modified Date", "datetime", "date", NULL, false,
     true},
    {HS_COMPANIES, "hs_object_id", "Record ID", "number", "number", NULL, true, true},
    {HS_CALLS, "hs_timestamp", "Activity date", "datetime", "date", NULL, false, false},
    {HS_CALLS, "hs_call_title", "Call Title", "string", "text", NULL, false, false},
    {HS_CALLS, "hs_call_body", "Call notes", "string", "html", NULL, false, false},
    {HS_CALLS, "hs_call_duration", "Call duration", "number", "number", NULL, false, false},
    {HS_CALLS, "hs_call_from_number", "From Number", "string", "text", NULL, false, false},
    {HS_CALLS, "hs_call_to_number", "To Number", "string", "text", NULL, false, false},
    {HS_CALLS, "hs_call_direction", "Call direction", "enumeration", "select", "INBOUND;OUTBOUND",
     false, false},
    {HS_CALLS, "hs_call_status", "Call status", "enumeration", "select", call_status, false, false},
    {HS_CALLS, "hs_call_disposition", "Call outcome", "string", "text", NULL, false, false},
    {HS_CALLS, "hs_call_recording_url", "Recording URL", "string", "text", NULL, false, false},
    {HS_CALLS, "hubspot_owner_id", "Activity assigned to", "enumeration", "select", NULL, false,
     false},
    {HS_CALLS, "callbridge_call_id", "callbridge call id", "string", "text", NULL, true, false},
    {HS_TASKS, "hs_timestamp", "Due date", "datetime", "date", NULL, false, false},
    {HS_TASKS, "hs_task_subject", "Task Title", "string", "text", NULL, false, false},
    {HS_TASKS, "hs_task_body", "Notes", "string", "html", NULL, false, false},
    {HS_TASKS, "hs_task_status", "Task Status", "enumeration", "select",
     "NOT_STARTED;IN_PROGRESS;WAITING;DEFERRED;COMPLETED", false, false},
    {HS_TASKS, "hs_task_priority", "Priority", "enumeration", "select", "NONE;LOW;MEDIUM;HIGH",
     false, false},
    {HS_TASKS, "hs_task_type", "Task Type", "enumeration", "select", "CALL;EMAIL;TODO;LINKED_IN",
     false, false},
    {HS_TASKS, "hubspot_owner_id", "Assigned to", "enumeration", "select", NULL, false, false},
    {HS_TASKS, "callbridge_task_key", "callbridge task key", "string", "text", NULL, true, false},
    {HS_NOTES, "hs_timestamp", "Activity date", "datetime", "date", NULL, false, false},
    {HS_NOTES, "hs_note_body", "Note body", "string", "html", NULL, false, false},
    {HS_NOTES, "hubspot_owner_id", "Activity assigned to", "enumeration", "select", NULL, false,
     false},
    {HS_NOTES, "callbridge_note_key", "callbridge note key", "string", "text", NULL, true, false},
};

/* The engagement types share their stamps; built in the loop below. */
static const char *const engagement_stamps[] = {"hs_createdate", "hs_lastmodifieddate",
                                                "hs_object_id"};

static const char *const groups[HS_NTYPES] = {"contactinformation", "companyinformation",
                                              "callinformation", "taskinformation",
                                              "noteinformation"};

static json_t *definition(enum hs_type t, const char *name, const char *label, const char *ptype,
                          const char *field, const char *options, bool unique, bool read_only)
{
        json_t *def = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:{s:b},s:[]}", "name", name, "label",
                                label, "type", ptype, "fieldType", field, "groupName",
                                strncmp(name, "callbridge_", 11) == 0 ? "callbridge" : groups[t],
                                "hasUniqueValue", unique, "modificationMetadata", "readOnlyValue",
                                read_only, "options");
        json_t *opts = json_object_get(def, "options");

        while (def && options && *options) {
                size_t n = strcspn(options, ";");
                json_array_append_new(
                    opts, json_pack("{s:s%,s:s%}", "label", options, n, "value", options, n));
                options += n + (options[n] == ';');
        }
        return def;
}

json_t *hs_schema_default(enum hs_type t)
{
        json_t *all = json_object();

        for (size_t i = 0; all && i < sizeof(defs) / sizeof(defs[0]); i++) {
                const struct def *d = &defs[i];
                if (d->type == t &&
                    json_object_set_new(all, d->name,
                                        definition(t, d->name, d->label, d->ptype, d->field,
                                                   d->options, d->unique, d->read_only)) != 0) {
                        json_decref(all);
                        return NULL;
                }
        }
        for (size_t i = 0; all && t >= HS_CALLS && i < 3; i++) {
                const char *n = engagement_stamps[i];
                bool id = i == 2;
                if (json_object_set_new(all, n,
                                        definition(t, n, n, id ? "number" : "datetime",
                                                   id ? "number" : "date", NULL, id, true)) != 0) {
                        json_decref(all);
                        return NULL;
                }
        }
        return all;
}

json_t *hs_groups_default(enum hs_type t)
{
        return json_pack("{s:{s:s,s:s,s:i,s:b}}", groups[t], "name", groups[t], "label",
                         "Information", "displayOrder", -1, "archived", 0);
}
