/* callbridge-sandbox: PATCH composite/sobjects/<Obj>/<ExternalIdField> — sObject Collections
 * upsert, as Salesforce documents it (API 46.0 and later): {"allOrNone":bool,"records":[...]},
 * at most 200 records, each with "attributes":{"type"} naming the object of the URL and the
 * external id field set; records are written in order and the answer is 200 with one
 * UpsertResult {"id","success","created","errors":[{"statusCode","message","fields"}]} per
 * record, in order. A record whose external id appears more than once in the request fails
 * (DUPLICATE_EXTERNAL_ID) without stopping the others; with allOrNone one failure rolls every
 * record back (ALL_OR_NONE_OPERATION_ROLLED_BACK). A malformed request is a 400 with the usual
 * error array. Each record goes through the same upsert as sobjects/<Obj>/<Field>/<value>. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sf_emu.h"

#define MAX_RECORDS 200
#define ROLLED_BACK                                                                                \
        "Record rolled back because not all records were valid and the request was using "         \
        "AllOrNone header"

static json_t *failure(const char *code, const char *message, json_t *fields)
{
        return json_pack("{s:n,s:b,s:[{s:s,s:s,s:o}]}", "id", "success", 0, "errors", "statusCode",
                         code, "message", message, "fields", fields ? fields : json_array());
}

/* The UpsertResult of one single-record upsert answer. */
static json_t *result_of(struct sf_result *r)
{
        json_t *e = json_array_get(r->body, 0);

        if (r->status == 200 || r->status == 201)
                return json_pack("{s:O,s:b,s:b,s:[]}", "id", json_object_get(r->body, "id"),
                                 "success", 1, "created", r->status == 201, "errors");
        if (r->status == 300)
                return failure("DUPLICATE_EXTERNAL_ID",
                               "More than one record found for external id field", NULL);
        return failure(json_string_value(json_object_get(e, "errorCode")) ?: "UNKNOWN_EXCEPTION",
                       json_string_value(json_object_get(e, "message")) ?: "error",
                       json_incref(json_object_get(e, "fields")));
}

/* How many records of `records` carry `value` in `field` (case-insensitive, as upsert). */
static size_t count_value(json_t *records, const char *field, const char *value)
{
        json_t *rec;
        size_t i, n = 0;

        json_array_foreach(records, i, rec) if (sf_value_equals(json_object_get(rec, field), value))
            n++;
        return n;
}

/* Upsert one record of the collection; a new UpsertResult. */
static json_t *upsert_one(const struct sf_op *parent, json_t *records, json_t *rec)
{
        const char *type = parent->seg[2], *field = parent->seg[3];
        const char *rtype =
            json_string_value(json_object_get(json_object_get(rec, "attributes"), "type"));
        json_t *value = json_object_get(rec, field);
        struct sf_op op = *parent;
        struct sf_result r = {0};
        char text[256], *body = NULL;
        json_t *out;

        if (!json_is_object(rec) || rtype == NULL)
                return failure("INVALID_INPUT", "Each record needs attributes with a type", NULL);
        if (strcmp(rtype, type) != 0)
                return failure("INVALID_TYPE", "Record type does not match the request URI", NULL);
        if (json_is_string(value))
                snprintf(text, sizeof(text), "%s", json_string_value(value));
        else if (json_is_integer(value))
                snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(value));
        else
                return failure("MISSING_ARGUMENT", "The external ID field has no value",
                               json_pack("[s]", field));
        if (count_value(records, field, text) > 1) {
                char msg[320];
                snprintf(msg, sizeof(msg), "Duplicate external id specified: %s", text);
                return failure("DUPLICATE_EXTERNAL_ID", msg, json_pack("[s]", field));
        }
        body = json_dumps(rec, JSON_COMPACT);
        op.method = "PATCH";
        op.body = body ? body : "{}";
        op.body_len = strlen(op.body);
        op.nseg = 4;
        op.seg[0] = "sobjects";
        op.seg[1] = (char *)type;
        op.seg[2] = (char *)field;
        op.seg[3] = text;
        sf_write_upsert_locked(&op, &r);
        out = result_of(&r);
        sf_result_clear(&r);
        free(body);
        return out;
}

void sf_collections_upsert_locked(const struct sf_op *op, struct sf_result *res)
{
        json_error_t jerr;
        json_t *doc = json_loadb(op->body, op->body_len, 0, &jerr);
        json_t *records = json_object_get(doc, "records"), *out = NULL, *backup = NULL, *rec;
        bool all = json_is_true(json_object_get(doc, "allOrNone")), failed = false;
        size_t i;

        if (!json_is_object(doc) || !json_is_array(records)) {
                sf_error(res, 400, "JSON_PARSER_ERROR", NULL, "%s",
                         doc ? "records is required" : jerr.text);
                goto done;
        }
        if (json_array_size(records) > MAX_RECORDS) {
                sf_error(res, 400, "EXCEEDED_ID_LIMIT", NULL,
                         "Record limit reached. Cannot submit more than %d records into this call",
                         MAX_RECORDS);
                goto done;
        }
        if (sf_schema_object_locked(op->seg[2]) == NULL) {
                sf_error(res, 404, "NOT_FOUND", NULL, "The requested resource does not exist");
                goto done;
        }
        if (all)
                backup = json_deep_copy(sb_state_records_all_locked());
        out = json_array();
        json_array_foreach(records, i, rec)
        {
                json_t *r = upsert_one(op, records, rec);
                failed |= !json_is_true(json_object_get(r, "success"));
                json_array_append_new(out, r);
        }
        if (all && failed) {
                json_array_foreach(out, i, rec) if (json_is_true(json_object_get(rec, "success")))
                    json_array_set_new(
                        out, i, failure("ALL_OR_NONE_OPERATION_ROLLED_BACK", ROLLED_BACK, NULL));
                sb_state_records_replace_locked(backup);
                backup = NULL;
        }
        res->status = 200;
        res->body = out;
        out = NULL;
done:
        json_decref(out);
        json_decref(backup);
        json_decref(doc);
}
