/* callbridge-sandbox: POST /crm/v3/objects/{type}/batch/read — many objects in one request,
 * by object id or (idProperty) by a unique property's value.
 *
 * Body {"idProperty"?, "inputs":[{"id"}], "properties"?:[names]}: 1 to 100 inputs, else 400
 * VALIDATION_ERROR; an idProperty that is not a unique-value property of the type is a 400
 * too. Answers 200 {"status":"COMPLETE","results":[...]} when every input was found, 207 with
 * "errors":[{"status":"error","category":"OBJECT_NOT_FOUND","context":{"ids":[...]}}] naming
 * those that were not (results may then be empty). Lock held (hs_api.c). */
#include <stdio.h>
#include <string.h>

#include "hs_emu.h"

#define READ_MAX 100

/* The object `id` names (by object id, or by `idp`'s value), or NULL. */
static json_t *find(enum hs_type t, const char *idp, const char *id)
{
        if (idp != NULL)
                return hs_object_by_unique_locked(t, idp, id);
        return json_object_get(hs_objects_locked(t), id);
}

/* NULL when the request is well formed, else the message in `msg`. */
static const char *check(enum hs_type t, const char *idp, const json_t *inputs, char *msg,
                         size_t len)
{
        const json_t *def = idp ? json_object_get(hs_props_locked(t), idp) : NULL;

        if (!json_is_array(inputs) || json_array_size(inputs) == 0 ||
            json_array_size(inputs) > READ_MAX)
                snprintf(msg, len, "inputs must be an array of 1 to %d objects", READ_MAX);
        else if (idp != NULL && !json_is_true(json_object_get(def, "hasUniqueValue")))
                snprintf(msg, len,
                         "Property \"%s\" does not exist or is not a unique identifier property "
                         "for %s",
                         idp, hs_type_name(t));
        else
                return NULL;
        return msg;
}

void hs_objects_batch_read_locked(struct hs_op *op, struct sb_reply *reply)
{
        json_t *doc = sb_request_json(op->req, reply), *inputs, *in, *names, *results, *missing;
        const char *idp;
        char msg[256], started[32], done[32];
        size_t i;

        if (!doc)
                return;
        hs_now_iso(started);
        idp = json_string_value(json_object_get(doc, "idProperty"));
        inputs = json_object_get(doc, "inputs");
        if (check(op->type, idp, inputs, msg, sizeof(msg)) != NULL) {
                hs_reply_error(reply, 400, "VALIDATION_ERROR", NULL, "%s", msg);
                json_decref(doc);
                return;
        }
        names = json_deep_copy(json_object_get(doc, "properties"));
        results = json_array();
        missing = json_array();
        json_array_foreach(inputs, i, in)
        {
                const char *id = json_string_value(json_object_get(in, "id"));
                json_t *obj = id ? find(op->type, idp, id) : NULL;
                if (obj == NULL)
                        json_array_append_new(missing, json_string(id ? id : ""));
                else
                        json_array_append_new(
                            results,
                            hs_render_locked(op->type, obj, json_is_array(names) ? names : NULL));
        }
        hs_now_iso(done);
        if (json_array_size(missing) == 0) {
                json_decref(missing);
                sb_reply_json_take(reply, 200,
                                   json_pack("{s:s,s:o,s:s,s:s}", "status", "COMPLETE", "results",
                                             results, "startedAt", started, "completedAt", done));
        } else {
                snprintf(msg, sizeof(msg),
                         "Could not get some %s objects, they may be deleted or not exist. "
                         "Check that ids are valid.",
                         hs_type_name(op->type));
                sb_reply_json_take(reply, 207,
                                   json_pack("{s:s,s:o,s:i,s:[{s:s,s:s,s:s,s:{s:o}}],s:s,s:s}",
                                             "status", "COMPLETE", "results", results, "numErrors",
                                             1, "errors", "status", "error", "category",
                                             "OBJECT_NOT_FOUND", "message", msg, "context", "ids",
                                             missing, "startedAt", started, "completedAt", done));
        }
        json_decref(names);
        json_decref(doc);
}
