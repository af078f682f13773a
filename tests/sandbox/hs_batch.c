/* callbridge-sandbox: POST /crm/v3/objects/{type}/batch/upsert — the exactly-once write.
 *
 * Each input {"idProperty","id","properties"} updates the object whose unique property
 * idProperty holds `id`, or creates one with that value (found through the unique index, never
 * a scan). The whole request is refused with 400 VALIDATION_ERROR when an idProperty is not a
 * unique-value property, a property does not exist, an id repeats or there are more than 100
 * inputs; other per-input problems (read-only or invalid values, owners, a unique value another
 * object holds: CONFLICT) fail that input only: 207 with "errors" when some inputs succeeded,
 * 400 (409 for a conflict) when none did. Lock held (hs_api.c). */
#include <stdio.h>
#include <string.h>

#include "hs_emu.h"

#define BATCH_MAX 100

/* Whole-request checks; NULL when fine, else a new error detail and the message in `msg`. */
static json_t *check_request(enum hs_type t, json_t *inputs, char *msg, size_t msglen)
{
        json_t *seen = json_object(), *in, *err = NULL;
        size_t i;

        if (!json_is_array(inputs) || json_array_size(inputs) == 0 ||
            json_array_size(inputs) > BATCH_MAX) {
                snprintf(msg, msglen, "inputs must be an array of 1 to %d objects", BATCH_MAX);
                err = hs_error_detail("INVALID_INPUTS", NULL, "%s", msg);
        }
        json_array_foreach(inputs, i, in)
        {
                const char *idp = json_string_value(json_object_get(in, "idProperty"));
                const char *id = json_string_value(json_object_get(in, "id"));
                json_t *props = json_object_get(in, "properties"), *def, *v;
                const char *name;

                if (err)
                        break;
                def = idp ? json_object_get(hs_props_locked(t), idp) : NULL;
                if (!def || !json_is_true(json_object_get(def, "hasUniqueValue"))) {
                        snprintf(msg, msglen,
                                 "Property \"%s\" does not exist or is not a unique identifier "
                                 "property for %s",
                                 idp ? idp : "", hs_type_name(t));
                        err = hs_error_detail("INVALID_ID_PROPERTY", idp ? idp : "", "%s", msg);
                } else if (!id || !*id) {
                        snprintf(msg, msglen, "inputs[%zu].id must be a non-empty string", i);
                        err = hs_error_detail("INVALID_ID", idp, "%s", msg);
                } else if (json_object_get(seen, id)) {
                        snprintf(msg, msglen, "Duplicate IDs found in batch input: [%s]", id);
                        err = hs_error_detail("DUPLICATE_ID", idp, "%s", msg);
                } else if (props && !json_is_object(props)) {
                        snprintf(msg, msglen, "inputs[%zu].properties must be an object", i);
                        err = hs_error_detail("INVALID_PROPERTY_VALUE", NULL, "%s", msg);
                }
                json_object_set_new(seen, id ? id : "", json_true());
                json_object_foreach(props, name, v)
                {
                        if (err || json_object_get(hs_props_locked(t), name))
                                continue;
                        snprintf(msg, msglen, "Property \"%s\" does not exist", name);
                        err = hs_error_detail("PROPERTY_DOESNT_EXIST", name, "%s", msg);
                }
        }
        json_decref(seen);
        return err;
}

/* Upsert one input; returns the rendered result (new reference) or NULL with *err set to a
 * new error detail (or NULL when out of memory). */
static json_t *upsert_one(enum hs_type t, json_t *in, json_t **err)
{
        const char *idp = json_string_value(json_object_get(in, "idProperty"));
        const char *id = json_string_value(json_object_get(in, "id"));
        json_t *props = json_object_get(in, "properties"), *obj, *out, *names, *v;
        const char *name;
        bool created = false;

        *err = props ? hs_props_validate_locked(t, props) : NULL;
        if (*err)
                return NULL;
        obj = hs_object_by_unique_locked(t, idp, id);
        if (props) {
                const char *clash = NULL;
                json_t *other = hs_unique_clash_locked(t, props, obj, &clash);
                if (other) {
                        *err = hs_error_detail("CONFLICT", clash,
                                               "A %s with this %s already exists. Existing ID: %s",
                                               hs_type_name(t), clash,
                                               json_string_value(json_object_get(other, "id")));
                        return NULL;
                }
        }
        if (!obj) {
                json_t *idset = json_pack("{s:s}", idp, id);
                obj = hs_object_new_locked(t, NULL);
                if (!obj || !idset || hs_object_set_locked(t, obj, idset) != 0) {
                        json_decref(idset);
                        return NULL;
                }
                json_decref(idset);
                created = true;
        }
        if (props && hs_object_set_locked(t, obj, props) != 0)
                return NULL;
        names = json_pack("[s]", idp);
        json_object_foreach(props, name, v)
        {
                json_array_append_new(names, json_string(name));
        }
        out = hs_render_locked(t, obj, names);
        json_decref(names);
        if (out)
                json_object_set_new(out, "new", json_boolean(created));
        return out;
}

void hs_objects_upsert_locked(struct hs_op *op, struct sb_reply *reply)
{
        json_t *doc = sb_request_json(op->req, reply), *inputs, *results, *errors, *in, *err;
        char msg[512], started[32], done[32];
        size_t i;

        if (!doc)
                return;
        hs_now_iso(started);
        inputs = json_object_get(doc, "inputs");
        err = check_request(op->type, inputs, msg, sizeof(msg));
        if (err) {
                hs_reply_error(reply, 400, "VALIDATION_ERROR", json_pack("[o]", err), "%s", msg);
                json_decref(doc);
                return;
        }
        results = json_array();
        errors = json_array();
        json_array_foreach(inputs, i, in)
        {
                json_t *res = upsert_one(op->type, in, &err);
                if (res) {
                        json_array_append_new(results, res);
                } else if (err) {
                        const char *m = json_string_value(json_object_get(err, "message"));
                        const char *code = json_string_value(json_object_get(err, "code"));
                        bool conflict = code && strcmp(code, "CONFLICT") == 0;
                        json_array_append_new(
                            errors,
                            json_pack("{s:s,s:s,s:s,s:{s:[O]},s:[o]}", "status", "error",
                                      "category", conflict ? "CONFLICT" : "VALIDATION_ERROR",
                                      "message", m ? m : "invalid", "context", "ids",
                                      json_object_get(in, "id"), "errors", err));
                }
        }
        hs_now_iso(done);
        if (json_array_size(results) == 0 && json_array_size(errors) > 0) {
                json_t *first = json_array_get(errors, 0);
                const char *cat = json_string_value(json_object_get(first, "category"));
                bool conflict = cat && strcmp(cat, "CONFLICT") == 0;
                hs_reply_error(reply, conflict ? 409 : 400,
                               conflict ? "CONFLICT" : "VALIDATION_ERROR", json_incref(errors),
                               "%s", json_string_value(json_object_get(first, "message")));
                json_decref(results);
                json_decref(errors);
        } else if (json_array_size(errors) > 0) {
                sb_reply_json_take(reply, 207,
                                   json_pack("{s:s,s:o,s:I,s:o,s:s,s:s}", "status", "COMPLETE",
                                             "results", results, "numErrors",
                                             (json_int_t)json_array_size(errors), "errors", errors,
                                             "startedAt", started, "completedAt", done));
        } else {
                json_decref(errors);
                sb_reply_json_take(reply, 200,
                                   json_pack("{s:s,s:o,s:s,s:s}", "status", "COMPLETE", "results",
                                             results, "startedAt", started, "completedAt", done));
        }
        json_decref(doc);
}
