/* callbridge-sandbox: HubSpot associations (on create, and the v4 default association PUT)
 * and the properties API (GET/POST /crm/v3/properties/{type}[/{name}]). Lock held (hs_api.c). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "hs_emu.h"

/* HubSpot-defined association type ids, both directions. */
static const struct {
        enum hs_type from, to;
        int id;
} assoc_types[] = {
    {HS_CALLS, HS_CONTACTS, 194},     {HS_CALLS, HS_COMPANIES, 182},
    {HS_TASKS, HS_CONTACTS, 204},     {HS_TASKS, HS_COMPANIES, 192},
    {HS_NOTES, HS_CONTACTS, 202},     {HS_NOTES, HS_COMPANIES, 190},
    {HS_CONTACTS, HS_COMPANIES, 279}, {HS_COMPANIES, HS_CONTACTS, 280},
    {HS_CONTACTS, HS_CALLS, 193},     {HS_COMPANIES, HS_CALLS, 181},
    {HS_CONTACTS, HS_TASKS, 203},     {HS_COMPANIES, HS_TASKS, 191},
    {HS_CONTACTS, HS_NOTES, 201},     {HS_COMPANIES, HS_NOTES, 189},
};
#define N_ASSOC_TYPES (sizeof(assoc_types) / sizeof(assoc_types[0]))

/* The row of (from, type id) or (from, to) when id < 0; -1 when none. */
static int assoc_row(enum hs_type from, int to, int id)
{
        for (size_t i = 0; i < N_ASSOC_TYPES; i++) {
                if (assoc_types[i].from == from &&
                    (id >= 0 ? assoc_types[i].id == id : (int)assoc_types[i].to == to))
                        return (int)i;
        }
        return -1;
}

json_t *hs_assoc_check_locked(enum hs_type t, json_t *assocs)
{
        json_t *a, *ty;
        size_t i, k;

        if (assocs && !json_is_array(assocs))
                return hs_error_detail("INVALID_ASSOCIATION", NULL,
                                       "associations must be an array");
        json_array_foreach(assocs, i, a)
        {
                const char *to_id =
                    json_string_value(json_object_get(json_object_get(a, "to"), "id"));
                json_t *types = json_object_get(a, "types");

                if (!to_id || json_array_size(types) == 0)
                        return hs_error_detail("INVALID_ASSOCIATION", NULL,
                                               "associations[%zu] needs to.id and types", i);
                json_array_foreach(types, k, ty)
                {
                        int id = (int)json_integer_value(json_object_get(ty, "associationTypeId"));
                        int row = assoc_row(t, -1, id);
                        if (row < 0)
                                return hs_error_detail("INVALID_ASSOCIATION_TYPE", NULL,
                                                       "%d is not a valid association type id "
                                                       "from %s",
                                                       id, hs_type_name(t));
                        if (!json_object_get(hs_objects_locked(assoc_types[row].to), to_id))
                                return hs_error_detail("INVALID_ASSOCIATION", NULL,
                                                       "%s %s does not exist",
                                                       hs_type_name(assoc_types[row].to), to_id);
                }
        }
        return NULL;
}

int hs_assoc_apply_locked(enum hs_type t, const char *id, json_t *assocs)
{
        json_t *a, *ty;
        size_t i, k;

        json_array_foreach(assocs, i, a)
        {
                const char *to_id =
                    json_string_value(json_object_get(json_object_get(a, "to"), "id"));
                json_array_foreach(json_object_get(a, "types"), k, ty)
                {
                        int tid = (int)json_integer_value(json_object_get(ty, "associationTypeId"));
                        int row = assoc_row(t, -1, tid);
                        if (row >= 0 &&
                            hs_assoc_add_locked(t, id, assoc_types[row].to, to_id, tid) != 0)
                                return -1;
                }
        }
        return 0;
}

/* PUT /crm/v4/objects/{from}/{fromId}/associations/default/{to}/{toId}: segments crm v4 objects
 * <from> <fromId> associations default <to> <toId>. Answers both directions' specs, as HubSpot
 * creates the pair. */
void hs_assoc_put_locked(struct hs_op *op, struct sb_reply *reply)
{
        int from, to, row, back;
        const char *fid, *tid;
        char now[32];

        if (op->nseg != 9 || strcmp(op->seg[2], "objects") != 0 ||
            strcmp(op->seg[5], "associations") != 0 || strcmp(op->seg[6], "default") != 0) {
                hs_reply_error(reply, 404, "OBJECT_NOT_FOUND", NULL, "Resource not found");
                return;
        }
        from = hs_type_parse(op->seg[3]);
        to = hs_type_parse(op->seg[7]);
        fid = op->seg[4];
        tid = op->seg[8];
        row = from >= 0 && to >= 0 ? assoc_row((enum hs_type)from, to, -1) : -1;
        back = row >= 0 ? assoc_row((enum hs_type)to, from, -1) : -1;
        if (row < 0 || back < 0) {
                hs_reply_error(reply, 400, "VALIDATION_ERROR", NULL,
                               "No default association type from %s to %s", op->seg[3], op->seg[7]);
                return;
        }
        if (!json_object_get(hs_objects_locked((enum hs_type)from), fid) ||
            !json_object_get(hs_objects_locked((enum hs_type)to), tid)) {
                hs_reply_error(reply, 400, "VALIDATION_ERROR", NULL,
                               "One or more objects do not exist: %s %s, %s %s", op->seg[3], fid,
                               op->seg[7], tid);
                return;
        }
        if (hs_assoc_add_locked((enum hs_type)from, fid, (enum hs_type)to, tid,
                                assoc_types[row].id) != 0) {
                hs_reply_error(reply, 500, "INTERNAL_ERROR", NULL, "out of memory");
                return;
        }
        hs_now_iso(now);
        sb_reply_json_take(
            reply, 200,
            json_pack("{s:s,s:[{s:{s:s},s:{s:s},s:{s:s,s:i}},{s:{s:s},s:{s:s},s:{s:s,s:i}}],s:s,"
                      "s:s}",
                      "status", "COMPLETE", "results", "from", "id", fid, "to", "id", tid,
                      "associationSpec", "associationCategory", "HUBSPOT_DEFINED",
                      "associationTypeId", assoc_types[row].id, "from", "id", tid, "to", "id", fid,
                      "associationSpec", "associationCategory", "HUBSPOT_DEFINED",
                      "associationTypeId", assoc_types[back].id, "startedAt", now, "completedAt",
                      now));
}

#define ASSOC_BATCH_MAX 2000 /* inputs a batch association request may carry */

/* One input {"from":{"id"},"to":{"id"}} of a batch association: its result (new reference),
 * or NULL with a new error in `*err`. */
static json_t *assoc_one(enum hs_type from, enum hs_type to, int type_id, const json_t *in,
                         json_t **err)
{
        const char *fid = json_string_value(json_object_get(json_object_get(in, "from"), "id"));
        const char *tid = json_string_value(json_object_get(json_object_get(in, "to"), "id"));

        *err = NULL;
        if (!fid || !tid || !json_object_get(hs_objects_locked(from), fid) ||
            !json_object_get(hs_objects_locked(to), tid)) {
                *err = json_pack("{s:s,s:s,s:s,s:{s:[s],s:[s]}}", "status", "error", "category",
                                 "VALIDATION_ERROR", "message", "One or more objects do not exist",
                                 "context", "fromObjectId", fid ? fid : "", "toObjectId",
                                 tid ? tid : "");
                return NULL;
        }
        if (hs_assoc_add_locked(from, fid, to, tid, type_id) != 0)
                return NULL;
        return json_pack("{s:{s:s},s:{s:s},s:{s:s,s:i}}", "from", "id", fid, "to", "id", tid,
                         "associationSpec", "associationCategory", "HUBSPOT_DEFINED",
                         "associationTypeId", type_id);
}

/* POST /crm/v4/associations/{from}/{to}/batch/associate/default: segments crm v4 associations
 * <from> <to> batch associate default. Every input's pair gets the default type: 200 when all
 * did, 207 with "errors" when some did not (an object that does not exist), 400 when none did
 * or the request is malformed (no default type between the two, 0 or over 2,000 inputs). */
void hs_assoc_batch_locked(struct hs_op *op, struct sb_reply *reply)
{
        json_t *doc, *inputs, *in, *results, *errors, *res, *err;
        int from = hs_type_parse(op->seg[3]), to = hs_type_parse(op->seg[4]), row;
        char started[32], done[32];
        size_t i;

        row = from >= 0 && to >= 0 ? assoc_row((enum hs_type)from, to, -1) : -1;
        if (row < 0 || assoc_row((enum hs_type)to, from, -1) < 0) {
                hs_reply_error(reply, 400, "VALIDATION_ERROR", NULL,
                               "No default association type from %s to %s", op->seg[3], op->seg[4]);
                return;
        }
        if (!(doc = sb_request_json(op->req, reply)))
                return;
        hs_now_iso(started);
        inputs = json_object_get(doc, "inputs");
        if (!json_is_array(inputs) || json_array_size(inputs) == 0 ||
            json_array_size(inputs) > ASSOC_BATCH_MAX) {
                hs_reply_error(reply, 400, "VALIDATION_ERROR", NULL,
                               "inputs must be an array of 1 to %d objects", ASSOC_BATCH_MAX);
                json_decref(doc);
                return;
        }
        results = json_array();
        errors = json_array();
        json_array_foreach(inputs, i, in)
        {
                res =
                    assoc_one((enum hs_type)from, (enum hs_type)to, assoc_types[row].id, in, &err);
                json_array_append_new(res ? results : errors, res ? res : err);
        }
        hs_now_iso(done);
        if (json_array_size(results) == 0)
                hs_reply_error(reply, 400, "VALIDATION_ERROR", json_incref(errors),
                               "One or more objects do not exist");
        else if (json_array_size(errors) > 0)
                sb_reply_json_take(reply, 207,
                                   json_pack("{s:s,s:O,s:I,s:O,s:s,s:s}", "status", "COMPLETE",
                                             "results", results, "numErrors",
                                             (json_int_t)json_array_size(errors), "errors", errors,
                                             "startedAt", started, "completedAt", done));
        else
                sb_reply_json_take(reply, 200,
                                   json_pack("{s:s,s:O,s:s,s:s}", "status", "COMPLETE", "results",
                                             results, "startedAt", started, "completedAt", done));
        json_decref(results);
        json_decref(errors);
        json_decref(doc);
}

/* ---- properties ------------------------------------------------------------------------- */

void hs_props_list_locked(struct hs_op *op, struct sb_reply *reply)
{
        json_t *list = json_array(), *def;
        const char *name;

        json_object_foreach(hs_props_locked(op->type), name, def)
        {
                json_array_append(list, def);
        }
        sb_reply_json_take(reply, 200, json_pack("{s:o}", "results", list));
}

void hs_props_get_locked(struct hs_op *op, struct sb_reply *reply)
{
        json_t *def = json_object_get(hs_props_locked(op->type), op->seg[4]);

        if (!def)
                hs_reply_error(reply, 404, "OBJECT_NOT_FOUND", NULL,
                               "Unable to find property %s for %s", op->seg[4],
                               hs_type_name(op->type));
        else
                sb_reply_json_take(reply, 200, json_deep_copy(def));
}

static bool is_prop_name(const char *s)
{
        if (!s || !*s || strlen(s) > 100 || !islower((unsigned char)s[0]))
                return false;
        for (; *s; s++) {
                if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_')
                        return false;
        }
        return true;
}

/* POST /crm/v3/properties/{type}: 201 with the definition, 409 when the name exists. */
void hs_props_create_locked(struct hs_op *op, struct sb_reply *reply)
{
        static const char *const types[] = {"string",      "number", "date", "datetime",
                                            "enumeration", "bool",   NULL};
        json_t *doc = sb_request_json(op->req, reply), *def;
        const char *name, *ptype, *missing = NULL;
        bool type_ok = false;

        if (!doc)
                return;
        name = json_string_value(json_object_get(doc, "name"));
        ptype = json_string_value(json_object_get(doc, "type"));
        for (size_t i = 0; ptype && types[i]; i++)
                type_ok |= strcmp(ptype, types[i]) == 0;
        if (!json_is_string(json_object_get(doc, "label")))
                missing = "label";
        else if (!json_is_string(json_object_get(doc, "fieldType")))
                missing = "fieldType";
        else if (!json_is_string(json_object_get(doc, "groupName")))
                missing = "groupName";
        if (!is_prop_name(name) || !type_ok || missing) {
                hs_reply_error(reply, 400, "VALIDATION_ERROR",
                               json_pack("[o]", hs_error_detail("INVALID_PROPERTY", name,
                                                                "invalid property definition")),
                               "Invalid input JSON: %s",
                               missing    ? missing
                               : !type_ok ? "type must be string, number, date, datetime, "
                                            "enumeration or bool"
                                          : "name must be lower-case letters, digits and _");
        } else if (json_object_get(hs_props_locked(op->type), name)) {
                hs_reply_error(reply, 409, "OBJECT_ALREADY_EXISTS", NULL,
                               "Property named '%s' already exists.", name);
        } else {
                def = json_deep_copy(doc);
                json_object_set_new(
                    def, "hasUniqueValue",
                    json_boolean(json_is_true(json_object_get(doc, "hasUniqueValue"))));
                json_object_set_new(def, "modificationMetadata",
                                    json_pack("{s:b}", "readOnlyValue", 0));
                if (!json_object_get(def, "options"))
                        json_object_set_new(def, "options", json_array());
                if (!def || json_object_set(hs_props_locked(op->type), name, def) != 0)
                        hs_reply_error(reply, 500, "INTERNAL_ERROR", NULL, "out of memory");
                else
                        sb_reply_json_take(reply, 201, json_incref(def));
                json_decref(def);
        }
        json_decref(doc);
}

void hs_groups_list_locked(struct hs_op *op, struct sb_reply *reply)
{
        json_t *list = json_array(), *g;
        const char *name;

        json_object_foreach(hs_groups_locked(op->type), name, g)
        {
                json_array_append(list, g);
        }
        sb_reply_json_take(reply, 200, json_pack("{s:o}", "results", list));
}

void hs_groups_create_locked(struct hs_op *op, struct sb_reply *reply)
{
        json_t *doc = sb_request_json(op->req, reply), *g;
        const char *name, *label;

        if (!doc)
                return;
        name = json_string_value(json_object_get(doc, "name"));
        label = json_string_value(json_object_get(doc, "label"));
        if (!is_prop_name(name) || !label) {
                hs_reply_error(reply, 400, "VALIDATION_ERROR", NULL,
                               "Invalid input JSON: a group needs a name (lower-case letters, "
                               "digits, _) and a label");
        } else if (json_object_get(hs_groups_locked(op->type), name)) {
                hs_reply_error(reply, 409, "OBJECT_ALREADY_EXISTS", NULL,
                               "Property group named '%s' already exists.", name);
        } else {
                json_t *order = json_object_get(doc, "displayOrder");
                g = json_pack("{s:s,s:s,s:I,s:b}", "name", name, "label", label, "displayOrder",
                              json_is_integer(order) ? json_integer_value(order) : (json_int_t)-1,
                              "archived", 0);
                if (!g || json_object_set(hs_groups_locked(op->type), name, g) != 0)
                        hs_reply_error(reply, 500, "INTERNAL_ERROR", NULL, "out of memory");
                else
                        sb_reply_json_take(reply, 201, json_incref(g));
                json_decref(g);
        }
        json_decref(doc);
}
