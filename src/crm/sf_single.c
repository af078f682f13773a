/* write_mode = single (issue 15): the call log of a finished call written once with everything
 * the job gathered — the recording link, the analysis, the summary in the Description and the
 * lookup to its transcript. The transcript's parts (another object) go first so the call log
 * can name the first one; the parts then get the call log's id in their old Task__c text
 * field. Every write is an upsert by key, so a job that runs again changes nothing more. */
#include <stdio.h>
#include <string.h>

#include "sf.h"

enum cb_result sf_log_call_once(void *self, const struct cb_call *call, const json_t *fields,
                                struct cb_crm_logged *out, char *err, size_t err_size)
{
        struct sf *sf = self;
        const char *text = json_string_value(json_object_get(fields, "transcript"));
        const json_t *entities = json_object_get(fields, "entities");
        char first[CB_CRM_ID_MAX] = "", ignored[CB_CRM_ID_MAX];
        json_t *rec;
        enum cb_result r = CB_RESULT_OK;

        out->id[0] = '\0';
        out->state = "pending";
        if (text != NULL)
                r = sf_transcript_parts(sf, call, call->crm_log_id, text, entities,
                                        CB_CRM_PRIO_HIGH, first, sizeof(first), err, err_size);
        if (r != CB_RESULT_OK)
                return r;
        rec = sf_call_record(sf, call, json_string_value(json_object_get(fields, "summary")));
        if (rec == NULL) {
                snprintf(err, err_size, "out of memory");
                return CB_RESULT_RETRY;
        }
        sf_attach_fields(call, fields, rec);
        if (first[0] != '\0')
                json_object_set_new(rec, "Callbridge_Transcript__c", json_string(first));
        r = sf_upsert(sf, sf->cfg->salesforce.call_log_object,
                      sf->cfg->salesforce.external_id_field, call->id, rec, CB_CRM_PRIO_HIGH,
                      out->id, sizeof(out->id), err, err_size);
        json_decref(rec);
        if (r == CB_RESULT_OK && text != NULL && out->id[0] != '\0' &&
            strcmp(out->id, call->crm_log_id) != 0)
                r = sf_transcript_parts(sf, call, out->id, text, entities, CB_CRM_PRIO_HIGH,
                                        ignored, sizeof(ignored), err, err_size);
        if (r == CB_RESULT_OK)
                out->state = "synced";
        return r;
}
