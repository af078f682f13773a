/* callbridge-sandbox: HubSpot objects — render, validate, create (POST /crm/v3/objects/{type}),
 * read (GET .../{id}[?idProperty=&properties=]) and update (PATCH .../{id}). Lock held
 * throughout (hs_api.c). Writes are validated in full before anything changes: a 400 or 409
 * leaves the store as it was. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hs_emu.h"

static const char *const defaults_contacts[] = {
    "createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname", NULL};
static const char *const defaults_companies[] = {"createdate",   "domain", "hs_lastmodifieddate",
                                                 "hs_object_id", "name",   NULL};
static const char *const defaults_engagements[] = {"hs_createdate", "hs_lastmodifieddate",
                                                   "hs_object_id", NULL};

static const char *const *defaults(enum hs_type t)
{
        return t == HS_CONTACTS    ? defaults_contacts
               : t == HS_COMPANIES ? defaults_companies
                                   : defaults_engagements;
}

json_t *hs_render_locked(enum hs_type t, json_t *obj, json_t *names)
{
        json_t *src = json_object_get(obj, "properties"), *out = json_object(), *v;
        const char *const *d = defaults(t);
        size_t i;

        for (i = 0; out && d[i]; i++) {
                v = json_object_get(src, d[i]);
                json_object_set_new(out, d[i], v ? json_incref(v) : json_null());
        }
        json_array_foreach(names, i, v)
        {
                const char *n = json_string_value(v);
                json_t *val = n ? json_object_get(src, n) : NULL;
                if (!out || !n || (!val && !json_object_get(hs_props_locked(t), n)))
                        continue; /* unknown names are left out, as HubSpot does */
                json_object_set_new(out, n, val ? json_incref(val) : json_null());
        }
        if (!out)
                return NULL;
        return json_pack("{s:O,s:o,s:O,s:O,s:b}", "id", json_object_get(obj, "id"), "properties",
                         out, "createdAt", json_object_get(obj, "createdAt"), "updatedAt",
                         json_object_get(obj, "updatedAt"), "archived", 0);
}

/* Is `s` an ISO 8601 date(-time) or epoch milliseconds? */
static bool is_timestamp(const char *s)
{
        size_t n = strspn(s, "0123456789");

        if (n > 0 && s[n] == '\0')
                return true;
        return n == 4 && s[4] == '-' && isdigit((unsigned char)s[5]) &&
               isdigit((unsigned char)s[6]);
}

static bool is_number(const char *s)
{
        char *end = NULL;

        if (!*s)
                return false;
        (void)strtod(s, &end);
        return end && *end == '\0';
}

/* Does the enumeration `def` have option `value`? Definitions without options take any. */
static bool has_option(json_t *def, const char *value)
{
        json_t *opts = json_object_get(def, "options"), *o;
        size_t i;

        if (json_array_size(opts) == 0)
                return true;
        json_array_foreach(opts, i, o)
        {
                if (strcmp(json_string_value(json_object_get(o, "value")), value) == 0)
                        return true;
        }
        return false;
}

/* One property value; NULL when fine, else a new error detail. */
static json_t *check_value(enum hs_type t, const char *name, json_t *v)
{
        json_t *def = json_object_get(hs_props_locked(t), name);
        const char *ptype = json_string_value(json_object_get(def, "type"));
        const char *s = json_string_value(v);
        char num[64];

        if (!def)
                return hs_error_detail("PROPERTY_DOESNT_EXIST", name,
                                       "Property \"%s\" does not exist", name);
        if (json_is_true(
                json_object_get(json_object_get(def, "modificationMetadata"), "readOnlyValue")))
                return hs_error_detail("READ_ONLY_VALUE", name,
                                       "\"%s\" is a read only property; its value cannot be set.",
                                       name);
        if (json_is_null(v) || (s && !*s))
                return NULL;
        if (json_is_number(v)) {
                snprintf(num, sizeof(num), "%.15g", json_number_value(v));
                s = num;
        } else if (json_is_boolean(v)) {
                s = json_is_true(v) ? "true" : "false";
        } else if (!s) {
                return hs_error_detail("INVALID_PROPERTY_VALUE", name,
                                       "%s must be a string, number or boolean", name);
        }
        if (strcmp(name, "hubspot_owner_id") == 0 && !json_object_get(hs_owners_locked(), s))
                return hs_error_detail("INVALID_OWNER_ID", name, "%s was not a valid owner id", s);
        if (strcmp(ptype, "enumeration") == 0 && !has_option(def, s))
                return hs_error_detail("INVALID_OPTION", name,
                                       "%s was not one of the allowed options for %s", s, name);
        if ((strcmp(ptype, "datetime") == 0 || strcmp(ptype, "date") == 0) && !is_timestamp(s))
                return hs_error_detail("INVALID_DATE", name, "%s is not a valid date for %s", s,
                                       name);
        if (strcmp(ptype, "number") == 0 && !is_number(s))
                return hs_error_detail("INVALID_INTEGER", name, "%s is not a valid number for %s",
                                       s, name);
        /* Text properties hold at most 65,536 characters (a note's body as any other). */
        if (strlen(s) > HS_NOTE_BODY_MAX)
                return hs_error_detail("INVALID_PROPERTY_VALUE", name,
                                       "%s is longer than %d characters", name, HS_NOTE_BODY_MAX);
        return NULL;
}

json_t *hs_props_validate_locked(enum hs_type t, json_t *props)
{
        const char *name;
        json_t *v, *err;

        if (!json_is_object(props))
                return hs_error_detail("INVALID_PROPERTY_VALUE", NULL,
                                       "properties must be an object");
        json_object_foreach(props, name, v)
        {
                err = check_value(t, name, v);
                if (err)
                        return err;
        }
        return NULL;
}

json_t *hs_unique_clash_locked(enum hs_type t, json_t *props, json_t *self, const char **prop)
{
        const char *name;
        json_t *v;

        json_object_foreach(props, name, v)
        {
                json_t *def = json_object_get(hs_props_locked(t), name), *other;
                if (!json_is_true(json_object_get(def, "hasUniqueValue")) || !json_is_string(v) ||
                    json_string_length(v) == 0)
                        continue;
                other = hs_object_by_unique_locked(t, name, json_string_value(v));
                if (other && other != self) {
                        *prop = name;
                        return other;
                }
        }
        return NULL;
}

static void reply_invalid(struct sb_reply *reply, json_t *detail)
{
        const char *msg = json_string_value(json_object_get(detail, "message"));

        hs_reply_error(reply, 400, "VALIDATION_ERROR", json_pack("[o]", detail),
                       "Property values were not valid: %s", msg ? msg : "invalid");
}

static void reply_conflict(struct sb_reply *reply, enum hs_type t, json_t *other, const char *p)
{
        const char *id = json_string_value(json_object_get(other, "id"));

        if (t == HS_CONTACTS && strcmp(p, "email") == 0)
                hs_reply_error(reply, 409, "CONFLICT", NULL,
                               "Contact already exists. Existing ID: %s", id);
        else
                hs_reply_error(reply, 409, "CONFLICT", NULL,
                               "A %s with the unique value for property %s already exists. "
                               "Existing ID: %s",
                               hs_type_name(t), p, id);
}

/* Render `obj` with the properties named in `names` (stolen). */
static json_t *render_take(enum hs_type t, json_t *obj, json_t *names)
{
        json_t *out = hs_render_locked(t, obj, names);

        json_decref(names);
        return out;
}

/* The names of `props` as a JSON array (to render what was written). */
static json_t *names_of(json_t *props)
{
        json_t *names = json_array(), *v;
        const char *n;

        json_object_foreach(props, n, v)
        {
                json_array_append_new(names, json_string(n));
        }
        return names;
}

void hs_objects_create_locked(struct hs_op *op, struct sb_reply *reply)
{
        json_t *doc = sb_request_json(op->req, reply), *props, *assocs, *err, *obj, *other;
        const char *clash = NULL;

        if (!doc)
                return;
        props = json_object_get(doc, "properties");
        assocs = json_object_get(doc, "associations");
        err = hs_props_validate_locked(op->type, props);
        if (!err)
                err = hs_assoc_check_locked(op->type, assocs);
        if (err) {
                reply_invalid(reply, err);
        } else if ((other = hs_unique_clash_locked(op->type, props, NULL, &clash))) {
                reply_conflict(reply, op->type, other, clash);
        } else if (!(obj = hs_object_new_locked(op->type, NULL)) ||
                   hs_object_set_locked(op->type, obj, props) != 0 ||
                   hs_assoc_apply_locked(op->type, json_string_value(json_object_get(obj, "id")),
                                         assocs) != 0) {
                hs_reply_error(reply, 500, "INTERNAL_ERROR", NULL, "out of memory");
        } else {
                sb_reply_json_take(reply, 201, render_take(op->type, obj, names_of(props)));
        }
        json_decref(doc);
}

/* The comma-separated ?properties= as a JSON array, or NULL when absent. */
static json_t *query_names(const struct sb_request *req)
{
        const char *p = sb_request_query(req, "properties");
        json_t *names;

        if (!p)
                return NULL;
        names = json_array();
        while (names && *p) {
                size_t n = strcspn(p, ",");
                if (n)
                        json_array_append_new(names, json_stringn(p, n));
                p += n + (p[n] == ',');
        }
        return names;
}

/* The object the path's id names, honouring ?idProperty=; NULL after answering 400/404. */
static json_t *find_target(struct hs_op *op, struct sb_reply *reply)
{
        const char *idprop = sb_request_query(op->req, "idProperty");
        const char *id = op->seg[4];
        json_t *def, *obj;

        if (idprop && strcmp(idprop, "hs_object_id") != 0) {
                def = json_object_get(hs_props_locked(op->type), idprop);
                if (!json_is_true(json_object_get(def, "hasUniqueValue"))) {
                        hs_reply_error(
                            reply, 400, "VALIDATION_ERROR",
                            json_pack("[o]", hs_error_detail("INVALID_ID_PROPERTY", idprop,
                                                             "Property %s is not a "
                                                             "unique identifier",
                                                             idprop)),
                            "Property \"%s\" does not exist or is not a unique "
                            "identifier property",
                            idprop);
                        return NULL;
                }
                obj = hs_object_by_unique_locked(op->type, idprop, id);
        } else {
                obj = json_object_get(hs_objects_locked(op->type), id);
        }
        if (!obj)
                hs_reply_error(reply, 404, "OBJECT_NOT_FOUND", NULL,
                               "Object not found.  objectId are usually numeric.");
        return obj;
}

void hs_objects_get_locked(struct hs_op *op, struct sb_reply *reply)
{
        json_t *obj = find_target(op, reply);

        if (obj)
                sb_reply_json_take(reply, 200, render_take(op->type, obj, query_names(op->req)));
}

void hs_objects_update_locked(struct hs_op *op, struct sb_reply *reply)
{
        json_t *obj = find_target(op, reply), *doc, *props, *err, *other;
        const char *clash = NULL;

        if (!obj)
                return;
        doc = sb_request_json(op->req, reply);
        if (!doc)
                return;
        props = json_object_get(doc, "properties");
        err = hs_props_validate_locked(op->type, props);
        if (err)
                reply_invalid(reply, err);
        else if ((other = hs_unique_clash_locked(op->type, props, obj, &clash)))
                reply_conflict(reply, op->type, other, clash);
        else if (hs_object_set_locked(op->type, obj, props) != 0)
                hs_reply_error(reply, 500, "INTERNAL_ERROR", NULL, "out of memory");
        else
                sb_reply_json_take(reply, 200, render_take(op->type, obj, names_of(props)));
        json_decref(doc);
}
