/* callbridge-sandbox: Salesforce record writes: create, update and upsert by External ID.
 *
 * Bodies are validated against the live schema in full before anything changes, with
 * Salesforce's error codes: JSON_PARSER_ERROR, INVALID_FIELD, INVALID_FIELD_FOR_INSERT_UPDATE,
 * REQUIRED_FIELD_MISSING, STRING_TOO_LONG, DUPLICATE_VALUE; an OwnerId must name an active
 * User (MALFORMED_ID, FIELD_INTEGRITY_EXCEPTION, INVALID_CROSS_REFERENCE_KEY,
 * INACTIVE_OWNER_OR_USER) and is stored as that User's Id; a lookup may be given through its
 * relationship by External ID ("Rel__r": {"Key__c": "value"}: resolved to the record's Id,
 * INVALID_FIELD "Foreign key external ID: ... not found" when there is none). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sf_emu.h"

enum mode { MODE_CREATE, MODE_UPDATE };

static bool is_text_type(const char *t)
{
        static const char *const text[] = {"string", "textarea", "phone",    "email",
                                           "url",    "picklist", "combobox", NULL};
        for (size_t i = 0; text[i]; i++) {
                if (strcmp(t, text[i]) == 0)
                        return true;
        }
        return false;
}

static size_t utf8_chars(const char *s)
{
        size_t n = 0;

        for (; *s; s++)
                n += ((unsigned char)*s & 0xC0) != 0x80;
        return n;
}

/* The User whose Id is the same id as `id18` (compared in their 18-character forms, so a
 * seeded Id in any consistent form matches), borrowed; or NULL. */
static json_t *user_of(const char *id18)
{
        json_t *users = sb_state_records_locked("User", false), *u;
        size_t i;

        json_array_foreach(users, i, u)
        {
                char canon[19];
                if (sf_id_canon(json_string_value(json_object_get(u, "Id")), canon) &&
                    strcmp(canon, id18) == 0)
                        return u;
        }
        return NULL;
}

/* An OwnerId as Salesforce checks it: an id (15 or 18 characters), of a User, that exists (the
 * token's own user always does) and is active. Replaced by that User's Id (18 characters);
 * false after filling `res`. */
static bool check_owner(const struct sf_op *op, const char *type, json_t *values,
                        struct sf_result *res)
{
        json_t *v = json_object_get(values, "OwnerId"), *user;
        const char *given = json_string_value(v);
        char id[19], canon[19];

        if (v == NULL || json_is_null(v))
                return true;
        if (!given || !sf_id_canon(given, id)) {
                sf_error(res, 400, "MALFORMED_ID", json_pack("[s]", "OwnerId"),
                         "Owner ID: id value of incorrect type: %.40s", given ? given : "");
                return false;
        }
        if (strncmp(id, "005", 3) != 0) {
                sf_error(res, 400, "FIELD_INTEGRITY_EXCEPTION", json_pack("[s]", "OwnerId"),
                         "Owner ID: id value of incorrect type: %s", id);
                return false;
        }
        user = user_of(id);
        if (!user && !(op->user_id && sf_id_canon(op->user_id, canon) && strcmp(canon, id) == 0)) {
                sf_error(res, 400, "INVALID_CROSS_REFERENCE_KEY", json_array(),
                         "invalid cross reference id");
                return false;
        }
        if (user && json_is_false(json_object_get(user, "IsActive"))) {
                sf_error(res, 400, "INACTIVE_OWNER_OR_USER", json_array(),
                         "operation performed with inactive user [%s] as owner of %s", id, type);
                return false;
        }
        /* Stored as the org writes the User's Id. */
        json_object_set_new(
            values, "OwnerId",
            json_string(user ? json_string_value(json_object_get(user, "Id")) : op->user_id));
        return true;
}

/* A relationship by External ID in a body ("Rel__r": {"attributes"?, "Key__c": "value"}): the
 * lookup field `rel` names on `type` set in `out` to the Id of the one `Key__c` = value record
 * of its target, as Salesforce resolves it on upsert, create and update; false after filling
 * `res` with Salesforce's INVALID_FIELD (no such relationship, more than one key, a key that is
 * no External ID, no record or more than one with that value). */
static bool resolve_relationship(const char *type, const char *rel, json_t *ref, json_t *out,
                                 struct sf_result *res)
{
        json_t *f = sf_schema_relationship_locked(type, rel), *v, *kv = NULL, *found;
        const char *target =
            json_string_value(json_object_get(json_object_get(ref, "attributes"), "type"));
        const char *key, *kname = NULL, *lookup;
        size_t n = 0;

        if (!f) {
                sf_error(res, 400, "INVALID_FIELD", NULL,
                         "No such column '%s' on sobject of type %s", rel, type);
                return false;
        }
        lookup = json_string_value(json_object_get(f, "name"));
        if (!target)
                target = json_string_value(json_array_get(json_object_get(f, "referenceTo"), 0));
        json_object_foreach(ref, key, v) if (strcmp(key, "attributes") != 0)
        {
                kname = key;
                kv = v;
                n++;
        }
        if (n != 1) {
                sf_error(res, 400, "INVALID_FIELD", json_array(),
                         "More than 1 field provided in an external foreign key reference in "
                         "entity: %s",
                         target ? target : rel);
                return false;
        }
        f = target ? sf_schema_field_locked(target, kname) : NULL;
        if (!f || !json_is_true(json_object_get(f, "externalId")) || !json_is_string(kv)) {
                sf_error(res, 400, "INVALID_FIELD", json_array(),
                         "Field name provided, %s is not an External ID or indexed field for %s",
                         kname, target ? target : rel);
                return false;
        }
        found = sb_index_match_locked(target, json_string_value(json_object_get(f, "name")),
                                      json_string_value(kv));
        if (json_array_size(found) != 1) {
                sf_error(res, 400, "INVALID_FIELD", json_array(),
                         "Foreign key external ID: %s %s for field %s in entity %s",
                         json_string_value(kv),
                         json_array_size(found) ? "matched more than 1 record" : "not found",
                         json_string_value(json_object_get(f, "name")), target);
                json_decref(found);
                return false;
        }
        json_object_set(out, lookup, json_object_get(json_array_get(found, 0), "Id"));
        json_decref(found);
        return true;
}

/* Parse the body into a new object whose keys are the schema's field names. NULL after
 * filling `res` with the Salesforce error. */
static json_t *parse_body(const struct sf_op *op, const char *type, enum mode mode,
                          struct sf_result *res)
{
        json_error_t jerr;
        json_t *doc = json_loadb(op->body, op->body_len, 0, &jerr);
        json_t *out = json_object(), *val;
        const char *key;

        if (!doc || !json_is_object(doc) || !out) {
                if (doc)
                        sf_error(res, 400, "JSON_PARSER_ERROR", NULL,
                                 "Cannot deserialize instance of %s from a JSON %s", type,
                                 json_is_array(doc) ? "array" : "value");
                else
                        sf_error(res, 400, "JSON_PARSER_ERROR", NULL, "%s at [line:%d, column:%d]",
                                 jerr.text, jerr.line, jerr.column);
                goto fail;
        }
        json_object_foreach(doc, key, val)
        {
                json_t *f = sf_schema_field_locked(type, key);
                const char *name, *ftype;

                if (strcmp(key, "attributes") == 0)
                        continue;
                if (!f && json_is_object(val)) {
                        if (!resolve_relationship(type, key, val, out, res))
                                goto fail;
                        continue;
                }
                if (!f) {
                        sf_error(res, 400, "INVALID_FIELD", NULL,
                                 "No such column '%s' on sobject of type %s", key, type);
                        goto fail;
                }
                name = json_string_value(json_object_get(f, "name"));
                ftype = json_string_value(json_object_get(f, "type"));
                if (!json_is_true(
                        json_object_get(f, mode == MODE_CREATE ? "createable" : "updateable"))) {
                        sf_error(res, 400, "INVALID_FIELD_FOR_INSERT_UPDATE",
                                 json_pack("[s]", name),
                                 "Unable to create/update fields: %s. Please check the security "
                                 "settings of this field and verify that it is read/write for "
                                 "your profile or permission set.",
                                 name);
                        goto fail;
                }
                if (json_is_string(val) && is_text_type(ftype) &&
                    json_integer_value(json_object_get(f, "length")) > 0 &&
                    utf8_chars(json_string_value(val)) >
                        (size_t)json_integer_value(json_object_get(f, "length"))) {
                        sf_error(res, 400, "STRING_TOO_LONG", json_pack("[s]", name),
                                 "%s: data value too large: %.40s (max length=%d)", name,
                                 json_string_value(val),
                                 (int)json_integer_value(json_object_get(f, "length")));
                        goto fail;
                }
                json_object_set(out, name, val);
        }
        if (!check_owner(op, type, out, res))
                goto fail;
        json_decref(doc);
        return out;
fail:
        json_decref(doc);
        json_decref(out);
        return NULL;
}

/* REQUIRED_FIELD_MISSING when `rec` lacks a createable, non-nillable, non-defaulted field. */
static bool check_required(const char *type, json_t *rec, struct sf_result *res)
{
        json_t *fields = json_object_get(sf_schema_object_locked(type), "fields");
        json_t *missing = json_array(), *f;
        char names[512] = "";
        size_t i, used = 0;

        json_array_foreach(fields, i, f)
        {
                const char *name = json_string_value(json_object_get(f, "name"));
                json_t *v = json_object_get(rec, name);

                if (!json_is_true(json_object_get(f, "createable")) ||
                    json_is_true(json_object_get(f, "nillable")) ||
                    json_is_true(json_object_get(f, "defaultedOnCreate")))
                        continue;
                if (v && !json_is_null(v) && !(json_is_string(v) && json_string_length(v) == 0))
                        continue;
                json_array_append_new(missing, json_string(name));
                used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s",
                                         used ? ", " : "", name);
                if (used >= sizeof(names))
                        used = sizeof(names) - 1;
        }
        if (json_array_size(missing) == 0) {
                json_decref(missing);
                return true;
        }
        sf_error(res, 400, "REQUIRED_FIELD_MISSING", missing, "Required fields are missing: [%s]",
                 names);
        return false;
}

/* DUPLICATE_VALUE when a unique field of `values` is already held by another record. */
static bool check_unique(const char *type, json_t *values, const char *self_id,
                         struct sf_result *res)
{
        json_t *val, *rec, *found;
        const char *key;
        size_t i;

        json_object_foreach(values, key, val)
        {
                json_t *f = sf_schema_field_locked(type, key);
                const char *name = json_string_value(json_object_get(f, "name"));

                if (!json_is_true(json_object_get(f, "unique")) || !json_is_string(val) ||
                    json_string_length(val) == 0 || !name)
                        continue;
                found = sb_index_match_locked(type, name, json_string_value(val));
                json_array_foreach(found, i, rec)
                {
                        const char *id = json_string_value(json_object_get(rec, "Id"));
                        if (self_id && id && strcmp(id, self_id) == 0)
                                continue;
                        sf_error(res, 400, "DUPLICATE_VALUE", json_array(),
                                 "duplicate value found: %s duplicates value on record "
                                 "with id: %s",
                                 key, id ? id : "");
                        json_decref(found);
                        return false;
                }
                json_decref(found);
        }
        return true;
}

/* Name = "FirstName LastName" for people, as Salesforce computes it. */
static void derive_name(const char *type, json_t *rec)
{
        if (strcmp(type, "Contact") == 0 || strcmp(type, "Lead") == 0) {
                const char *first = json_string_value(json_object_get(rec, "FirstName"));
                const char *last = json_string_value(json_object_get(rec, "LastName"));
                char name[512];
                snprintf(name, sizeof(name), "%s%s%s", first && *first ? first : "",
                         first && *first ? " " : "", last ? last : "");
                json_object_set_new(rec, "Name", json_string(name));
        }
}

void sb_sf_record_seeded_locked(const char *type, json_t *rec)
{
        if (!json_object_get(rec, "Name") &&
            (json_object_get(rec, "FirstName") || json_object_get(rec, "LastName")))
                derive_name(type, rec);
}

/* The derived fields Salesforce computes: dates, Name of people, defaulted picklists. */
static void derive(const char *type, json_t *rec, bool creating)
{
        char now[48];

        sf_now_iso(now);
        json_object_set_new(rec, "LastModifiedDate", json_string(now));
        if (creating)
                json_object_set_new(rec, "CreatedDate", json_string(now));
        derive_name(type, rec);
        if (!creating)
                return;
        if (strcmp(type, "Lead") == 0 && !json_is_string(json_object_get(rec, "Status")))
                json_object_set_new(rec, "Status", json_string("Open - Not Contacted"));
        if (strcmp(type, "Task") == 0) {
                if (!json_is_string(json_object_get(rec, "Status")))
                        json_object_set_new(rec, "Status", json_string("Not Started"));
                if (!json_is_string(json_object_get(rec, "Priority")))
                        json_object_set_new(rec, "Priority", json_string("Normal"));
        }
}

/* Create a record of `type` from validated `values` (borrowed); returns the new borrowed
 * record or NULL after filling `res`. */
static json_t *create(const struct sf_op *op, const char *type, json_t *values,
                      struct sf_result *res)
{
        json_t *arr, *rec;
        const char *prefix;
        char id[19];

        if (!check_required(type, values, res) || !check_unique(type, values, NULL, res))
                return NULL;
        arr = sb_state_records_locked(type, true);
        rec = json_deep_copy(values);
        prefix = json_string_value(json_object_get(sf_schema_object_locked(type), "keyPrefix"));
        if (!arr || !rec || !prefix) {
                json_decref(rec);
                sf_error(res, 500, "UNKNOWN_EXCEPTION", NULL, "out of memory");
                return NULL;
        }
        sf_state_new_id_locked(prefix, id);
        json_object_set_new(rec, "Id", json_string(id));
        if (!json_is_string(json_object_get(rec, "OwnerId")) &&
            sf_schema_field_locked(type, "OwnerId"))
                json_object_set_new(rec, "OwnerId", json_string(op->user_id));
        if (strcmp(type, "Callbridge_Transcript__c") == 0 &&
            !json_is_string(json_object_get(rec, "Name")))
                json_object_set_new(rec, "Name", json_string(id));
        derive(type, rec, true);
        if (sb_state_record_add_locked(type, rec) != 0) {
                sf_error(res, 500, "UNKNOWN_EXCEPTION", NULL, "out of memory");
                return NULL;
        }
        return rec;
}

static void answer_saved(const struct sf_op *op, const char *type, const char *id, int created,
                         struct sf_result *res)
{
        res->status = created == 0 ? 200 : 201;
        res->body = json_pack("{s:s,s:b,s:[]}", "id", id, "success", 1, "errors");
        if (res->body && created >= 0)
                json_object_set_new(res->body, "created", json_boolean(created));
        if (created != 0)
                res->location = sf_record_url(op->version, type, id);
}

void sf_write_create_locked(const struct sf_op *op, struct sf_result *res)
{
        const char *type = op->seg[1];
        json_t *values = parse_body(op, type, MODE_CREATE, res);
        json_t *rec = values ? create(op, type, values, res) : NULL;

        if (rec)
                answer_saved(op, type, json_string_value(json_object_get(rec, "Id")), -1, res);
        json_decref(values);
}

/* Apply validated `values` to `rec`; false after filling `res`. */
static bool update(const char *type, json_t *rec, json_t *values, struct sf_result *res)
{
        const char *id = json_string_value(json_object_get(rec, "Id"));

        if (!check_unique(type, values, id, res))
                return false;
        json_object_update(rec, values);
        derive(type, rec, false);
        sb_index_touch_locked(type, rec, values);
        return true;
}

void sf_write_update_locked(const struct sf_op *op, struct sf_result *res)
{
        const char *type = op->seg[1];
        json_t *rec = sf_record_get_locked(type, op->seg[2]);
        json_t *values;

        if (!rec) {
                sf_error(res, 404, "NOT_FOUND", NULL, "The requested resource does not exist");
                return;
        }
        values = parse_body(op, type, MODE_UPDATE, res);
        if (values && update(type, rec, values, res))
                res->status = 204;
        json_decref(values);
}

/* The records of `type` whose `field` equals `value`, as a new array of borrowed records
 * (an index lookup). */
static json_t *matches(const char *type, const char *field, const char *value)
{
        return sb_index_match_locked(type, field, value);
}

static void multiple_choices(const struct sf_op *op, const char *type, json_t *found,
                             struct sf_result *res)
{
        json_t *urls = json_array(), *rec;
        size_t i;

        json_array_foreach(found, i, rec)
        {
                char *url =
                    sf_record_url(op->version, type, json_string_value(json_object_get(rec, "Id")));
                json_array_append_new(urls, json_string(url));
                free(url);
        }
        res->status = 300;
        res->body = urls;
}

void sf_write_upsert_locked(const struct sf_op *op, struct sf_result *res)
{
        const char *type = op->seg[1], *value = op->seg[3], *name;
        json_t *field = sf_schema_field_locked(type, op->seg[2]);
        json_t *found = NULL, *values = NULL, *rec, *inbody;
        bool by_id = field && sf_strcasecmp(op->seg[2], "Id") == 0;

        if (!field || (!by_id && !json_is_true(json_object_get(field, "externalId")))) {
                sf_error(res, 404, "NOT_FOUND", NULL,
                         "Provided external ID field does not exist or is not accessible: %s",
                         op->seg[2]);
                return;
        }
        name = json_string_value(json_object_get(field, "name"));
        found = matches(type, name, value);
        values = parse_body(op, type, json_array_size(found) ? MODE_UPDATE : MODE_CREATE, res);
        if (!values)
                goto out;
        inbody = json_object_get(values, name);
        if (inbody && !sf_value_equals(inbody, value)) {
                sf_error(res, 400, "INVALID_FIELD", json_pack("[s]", name),
                         "The value of %s in the request body does not match the external ID "
                         "in the URL: %s",
                         name, value);
                goto out;
        }
        json_object_del(values, name);
        if (json_array_size(found) > 1) {
                multiple_choices(op, type, found, res);
        } else if (json_array_size(found) == 1) {
                rec = json_array_get(found, 0);
                if (update(type, rec, values, res))
                        answer_saved(op, type, json_string_value(json_object_get(rec, "Id")), 0,
                                     res);
        } else if (by_id) {
                sf_error(res, 404, "NOT_FOUND", NULL, "The requested resource does not exist");
        } else {
                json_object_set_new(values, name, json_string(value));
                rec = create(op, type, values, res);
                if (rec)
                        answer_saved(op, type, json_string_value(json_object_get(rec, "Id")), 1,
                                     res);
        }
out:
        json_decref(found);
        json_decref(values);
}
