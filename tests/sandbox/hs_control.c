/* callbridge-sandbox: HubSpot's part of the control API — the "hubspot" key of
 * POST /__sandbox/seed, "hubspot" in GET /__sandbox/state (and its counts in summaries), and
 * POST /__sandbox/hubspot/{schema,expire,limits}. Inputs are validated in full before the state
 * changes: a 400 leaves everything as it was. */
#include <stdio.h>
#include <string.h>

#include "hs_emu.h"

json_t *hs_assocs_locked(void); /* hs_state.c */

static const char *const seed_keys[] = {"contacts", "companies", "calls", "tasks",
                                        "notes",    "owners",    NULL};

/* One seeded object {"id"?,"properties":{...}}: known properties with scalar values. */
static bool check_object(enum hs_type t, json_t *o, size_t i, char *err, size_t len)
{
        json_t *props = json_object_get(o, "properties"), *id = json_object_get(o, "id"), *v;
        const char *name, *key;

        if (!json_is_object(o) || !json_is_object(props)) {
                snprintf(err, len, "hubspot.%s[%zu] must be {\"id\"?,\"properties\":{...}}",
                         hs_type_name(t), i);
                return false;
        }
        json_object_foreach(o, key, v)
        {
                if (strcmp(key, "id") != 0 && strcmp(key, "properties") != 0) {
                        snprintf(err, len, "hubspot.%s[%zu]: unknown field \"%s\"", hs_type_name(t),
                                 i, key);
                        return false;
                }
        }
        if (id && (!json_is_string(id) || json_string_length(id) == 0 ||
                   strspn(json_string_value(id), "0123456789") != json_string_length(id))) {
                snprintf(err, len, "hubspot.%s[%zu].id must be a string of digits", hs_type_name(t),
                         i);
                return false;
        }
        json_object_foreach(props, name, v)
        {
                if (!json_object_get(hs_props_locked(t), name)) {
                        snprintf(err, len, "hubspot.%s[%zu]: property \"%s\" does not exist",
                                 hs_type_name(t), i, name);
                        return false;
                }
                if (json_is_object(v) || json_is_array(v)) {
                        snprintf(err, len, "hubspot.%s[%zu].properties.%s must be a scalar",
                                 hs_type_name(t), i, name);
                        return false;
                }
        }
        return true;
}

static bool check_owner(json_t *o, size_t i, char *err, size_t len)
{
        const char *id = json_string_value(json_object_get(o, "id"));

        if (!json_is_object(o) || !id || !*id || strspn(id, "0123456789") != strlen(id) ||
            !json_is_string(json_object_get(o, "email"))) {
                snprintf(err, len, "hubspot.owners[%zu] needs \"id\" (digits) and \"email\"", i);
                return false;
        }
        return true;
}

bool sb_hs_seed_check(json_t *hs, char *err, size_t len)
{
        const char *key;
        json_t *arr, *o;
        size_t i, k;
        bool ok = true;

        if (!json_is_object(hs)) {
                snprintf(err, len, "hubspot must be an object");
                return false;
        }
        sb_state_lock();
        json_object_foreach(hs, key, arr)
        {
                for (k = 0; seed_keys[k] && strcmp(seed_keys[k], key) != 0; k++)
                        ;
                if (!seed_keys[k] || !json_is_array(arr)) {
                        snprintf(err, len,
                                 "hubspot.%s: expected arrays contacts, companies, calls, tasks, "
                                 "notes, owners",
                                 key);
                        ok = false;
                        break;
                }
                json_array_foreach(arr, i, o)
                {
                        ok = k == HS_NTYPES ? check_owner(o, i, err, len)
                                            : check_object((enum hs_type)k, o, i, err, len);
                        if (!ok)
                                break;
                }
                if (!ok)
                        break;
        }
        sb_state_unlock();
        return ok;
}

/* Merge one seeded object by id (or create it); -1 when out of memory. */
static int seed_object(enum hs_type t, json_t *o)
{
        const char *id = json_string_value(json_object_get(o, "id"));
        json_t *obj = id ? json_object_get(hs_objects_locked(t), id) : NULL;

        if (!obj)
                obj = hs_object_new_locked(t, id);
        if (!obj)
                return -1;
        return hs_object_set_locked(t, obj, json_object_get(o, "properties"));
}

int sb_hs_seed_apply(json_t *hs)
{
        json_t *arr, *o;
        size_t i;
        int rc = 0;

        sb_state_lock();
        json_array_foreach(json_object_get(hs, "owners"), i, o)
        {
                json_t *copy = json_deep_copy(o);
                const char *id = json_string_value(json_object_get(o, "id"));
                if (copy && !json_object_get(copy, "userId"))
                        json_object_set_new(copy, "userId", json_integer(1000 + (json_int_t)i));
                if (!copy || json_object_set_new(hs_owners_locked(), id, copy) != 0)
                        rc = -1;
        }
        for (int t = 0; t < HS_NTYPES && rc == 0; t++) {
                arr = json_object_get(hs, hs_type_name((enum hs_type)t));
                json_array_foreach(arr, i, o)
                {
                        if (seed_object((enum hs_type)t, o) != 0)
                                rc = -1;
                }
        }
        sb_state_unlock();
        return rc;
}

int sb_hs_state_snapshot_locked(json_t *snap, bool summary)
{
        json_t *hs = json_object(), *list, *o;
        const char *key;
        int bad = hs ? 0 : -1;

        for (int t = 0; t < HS_NTYPES && hs; t++) {
                json_t *objs = hs_objects_locked((enum hs_type)t);
                if (summary) {
                        bad |=
                            json_object_set_new(hs, hs_type_name((enum hs_type)t),
                                                json_integer((json_int_t)json_object_size(objs)));
                        continue;
                }
                list = json_array();
                json_object_foreach(objs, key, o)
                {
                        bad |= json_array_append_new(list, json_deep_copy(o));
                }
                bad |= json_object_set_new(hs, hs_type_name((enum hs_type)t), list);
        }
        if (hs && summary) {
                bad |= json_object_set_new(
                    hs, "associations",
                    json_integer((json_int_t)json_object_size(hs_assocs_locked())));
        } else if (hs) {
                list = json_array();
                json_object_foreach(hs_assocs_locked(), key, o)
                {
                        bad |= json_array_append(list, o);
                }
                bad |= json_object_set_new(hs, "associations", list);
                list = json_array();
                json_object_foreach(hs_owners_locked(), key, o)
                {
                        bad |= json_array_append(list, o);
                }
                bad |= json_object_set_new(hs, "owners", list);
        }
        if (hs)
                bad |= json_object_set_new(hs, "limits", hs_rate_json_locked());
        return bad | json_object_set_new(snap, "hubspot", hs);
}

/* POST /__sandbox/hubspot/schema {"drop":[{"object":"calls","property":"..."}]} */
void sb_hs_control_schema(const struct sb_request *req, struct sb_reply *reply)
{
        json_t *doc = sb_request_json(req, reply), *drop, *d;
        size_t i;
        bool ok = true;

        if (!doc)
                return;
        drop = json_object_get(doc, "drop");
        sb_state_lock();
        if (!json_is_array(drop))
                ok = false;
        json_array_foreach(drop, i, d)
        {
                const char *obj = json_string_value(json_object_get(d, "object"));
                const char *prop = json_string_value(json_object_get(d, "property"));
                int t = obj ? hs_type_parse(obj) : -1;
                ok =
                    ok && t >= 0 && prop && json_object_get(hs_props_locked((enum hs_type)t), prop);
        }
        json_array_foreach(ok ? drop : NULL, i, d)
        {
                hs_prop_drop_locked(
                    (enum hs_type)hs_type_parse(json_string_value(json_object_get(d, "object"))),
                    json_string_value(json_object_get(d, "property")));
        }
        sb_state_unlock();
        if (ok)
                sb_reply_json_take(
                    reply, 200, json_pack("{s:I}", "dropped", (json_int_t)json_array_size(drop)));
        else
                sb_reply_error(reply, 400, "invalid_field",
                               "drop must be an array of {\"object\",\"property\"} naming existing "
                               "properties");
        json_decref(doc);
}

/* POST /__sandbox/hubspot/expire [{"expires_in":N}]: issued OAuth tokens expire now. */
void sb_hs_control_expire(const struct sb_request *req, struct sb_reply *reply)
{
        json_t *doc = req->body_len ? sb_request_json(req, reply) : json_object();
        json_t *life;
        size_t n;

        if (!doc)
                return;
        life = json_object_get(doc, "expires_in");
        if (life && (!json_is_integer(life) || json_integer_value(life) < 1)) {
                sb_reply_error(reply, 400, "invalid_field",
                               "expires_in must be a positive integer");
        } else {
                sb_state_lock();
                n = hs_token_expire_all_locked(life ? (long)json_integer_value(life) : 0);
                sb_state_unlock();
                sb_reply_json_take(reply, 200, json_pack("{s:I}", "expired", (json_int_t)n));
        }
        json_decref(doc);
}

/* POST /__sandbox/hubspot/limits {"max_per_10s","search_per_s","daily"} (each optional). */
void sb_hs_control_limits(const struct sb_request *req, struct sb_reply *reply)
{
        static const char *const keys[] = {"max_per_10s", "search_per_s", "daily"};
        json_t *doc = sb_request_json(req, reply), *v;
        long vals[3] = {0, 0, 0};

        if (!doc)
                return;
        for (size_t i = 0; i < 3; i++) {
                v = json_object_get(doc, keys[i]);
                if (v && (!json_is_integer(v) || json_integer_value(v) < 1)) {
                        sb_reply_error(reply, 400, "invalid_field", "%s must be a positive integer",
                                       keys[i]);
                        json_decref(doc);
                        return;
                }
                vals[i] = v ? (long)json_integer_value(v) : 0;
        }
        sb_state_lock();
        hs_rate_set_locked(vals[0], vals[1], vals[2]);
        sb_reply_json_take(reply, 200, hs_rate_json_locked());
        sb_state_unlock();
        json_decref(doc);
}
