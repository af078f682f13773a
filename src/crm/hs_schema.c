/* Schema drift and the exactly-once write: the properties of the objects we write are read at
 * start; those an account lacks are skipped and reported once (log line, /readyz) instead of
 * failing every write. Writes are batch upserts by a unique custom property, so a job that
 * runs again updates what it made. */
#include <stdio.h>
#include <string.h>

#include "callbridge/log.h"
#include "hs.h"

#define RECHECK_US (60 * 1000000LL) /* a missing property makes older properties read again */

/* Forget the reports of `object`'s properties that exist now. Lock held. */
static void unreport(struct hs *hs, const char *object, const json_t *names)
{
        json_t *list = json_object_get(hs->missing, object);
        size_t i = 0;

        while (i < json_array_size(list)) {
                if (json_object_get(names, json_string_value(json_array_get(list, i))) != NULL)
                        json_array_remove(list, i);
                else
                        i++;
        }
}

enum cb_result hs_schema_load(struct hs *hs, const char *object, char *err, size_t err_size)
{
        char path[128];
        struct hs_answer ans = {0};
        json_t *body = NULL, *names = NULL, *p;
        enum cb_result r;
        size_t i;

        pthread_mutex_lock(&hs->schema_lock);
        r = json_object_get(hs->props, object) ? CB_RESULT_OK : CB_RESULT_RETRY;
        pthread_mutex_unlock(&hs->schema_lock);
        if (r == CB_RESULT_OK)
                return r;
        snprintf(path, sizeof(path), "/crm/v3/properties/%s", object);
        r = hs_rest(hs, "GET", path, NULL, CB_CRM_PRIO_HIGH, &ans, &body, err, err_size);
        if (r != CB_RESULT_OK)
                goto out;
        names = json_object();
        json_array_foreach(json_object_get(body, "results"), i, p)
        {
                const char *name = json_string_value(json_object_get(p, "name"));
                if (name != NULL) /* true: a unique-value property */
                        json_object_set_new(
                            names, name,
                            json_boolean(json_is_true(json_object_get(p, "hasUniqueValue"))));
        }
        pthread_mutex_lock(&hs->schema_lock);
        json_object_set_new(hs->props, object, names);
        json_object_set_new(hs->props_at, object, json_integer(cb_mono_us()));
        unreport(hs, object, names);
        pthread_mutex_unlock(&hs->schema_lock);
out:
        json_decref(body);
        return r;
}

bool hs_schema_has(struct hs *hs, const char *object, const char *prop)
{
        json_t *names;
        bool has;

        pthread_mutex_lock(&hs->schema_lock);
        names = json_object_get(hs->props, object);
        has = names == NULL || json_object_get(names, prop) != NULL;
        pthread_mutex_unlock(&hs->schema_lock);
        return has;
}

bool hs_schema_unique(struct hs *hs, const char *object, const char *prop)
{
        bool unique;

        pthread_mutex_lock(&hs->schema_lock);
        unique = json_is_true(json_object_get(json_object_get(hs->props, object), prop));
        pthread_mutex_unlock(&hs->schema_lock);
        return unique;
}

/* Record `prop` as missing on `object`; true the first time. Lock held. */
static bool note_missing(struct hs *hs, const char *object, const char *prop)
{
        json_t *list = json_object_get(hs->missing, object);
        json_t *v;
        size_t i;

        if (list == NULL) {
                list = json_array();
                json_object_set_new(hs->missing, object, list);
        }
        json_array_foreach(list, i, v) if (strcmp(json_string_value(v), prop) == 0) return false;
        json_array_append_new(list, json_string(prop));
        return true;
}

/* Drop from `props` what `object` lacks. Lock held. */
static void filter_locked(struct hs *hs, const char *object, json_t *props)
{
        json_t *names = json_object_get(hs->props, object), *value;
        const char *key;
        void *tmp;

        json_object_foreach_safe(props, tmp, key, value)
        {
                if (names == NULL || json_object_get(names, key) != NULL)
                        continue;
                if (note_missing(hs, object, key))
                        cb_warn("hubspot: %s has no property %s; callbridge skips it (run "
                                "`callbridge crm setup` to create it)",
                                object, key);
                json_object_del(props, key);
        }
}

/* Does `props` name a property `object` lacks, in properties read over RECHECK_US ago? */
static bool stale_gap(struct hs *hs, const char *object, const json_t *props)
{
        json_t *names, *value;
        const char *key;
        bool gap = false;

        pthread_mutex_lock(&hs->schema_lock);
        names = json_object_get(hs->props, object);
        if (names != NULL &&
            cb_mono_us() - json_integer_value(json_object_get(hs->props_at, object)) > RECHECK_US)
                json_object_foreach((json_t *)props, key,
                                    value) if (json_object_get(names, key) == NULL) gap = true;
        pthread_mutex_unlock(&hs->schema_lock);
        return gap;
}

void hs_schema_filter(struct hs *hs, const char *object, json_t *props)
{
        char err[256];

        if (hs_schema_load(hs, object, err, sizeof(err)) != CB_RESULT_OK)
                return; /* unknown schema: write everything, the answer will tell */
        if (stale_gap(hs, object, props)) {
                hs_schema_forget(hs, object);
                if (hs_schema_load(hs, object, err, sizeof(err)) != CB_RESULT_OK)
                        return;
        }
        pthread_mutex_lock(&hs->schema_lock);
        filter_locked(hs, object, props);
        pthread_mutex_unlock(&hs->schema_lock);
}

void hs_schema_forget(struct hs *hs, const char *object)
{
        pthread_mutex_lock(&hs->schema_lock);
        json_object_del(hs->props, object);
        pthread_mutex_unlock(&hs->schema_lock);
}

void hs_schema_missing(struct hs *hs, char *out, size_t out_size)
{
        struct cb_buf b = {.max = out_size > 0 ? out_size - 1 : 0};
        const char *object;
        json_t *list, *v;
        size_t i;

        pthread_mutex_lock(&hs->schema_lock);
        json_object_foreach(hs->missing, object, list)
        {
                if (json_array_size(list) == 0)
                        continue;
                cb_buf_printf(&b, "%s%s:", b.len ? "; " : "", object);
                json_array_foreach(list, i, v)
                    cb_buf_printf(&b, "%s %s", i ? "," : "", json_string_value(v));
        }
        pthread_mutex_unlock(&hs->schema_lock);
        cb_strlcpy(out, b.data ? b.data : "", out_size);
        cb_buf_free(&b);
}

/* What each object must have for callbridge's writes (besides the unique key). */
static const char *const call_props[] = {
    "hs_timestamp",        "hs_call_title",         "hs_call_body",      "hs_call_duration",
    "hs_call_from_number", "hs_call_to_number",     "hs_call_direction", "hs_call_status",
    "hs_call_disposition", "hs_call_recording_url", "hubspot_owner_id",  NULL};

/* Report what `object` lacks of `props` and its unique key `key`. */
static void check_object(struct hs *hs, const char *object, const char *key,
                         const char *const *props)
{
        json_t *probe = json_object();
        char err[256];

        if (probe == NULL || hs_schema_load(hs, object, err, sizeof(err)) != CB_RESULT_OK) {
                json_decref(probe);
                return;
        }
        for (size_t i = 0; props != NULL && props[i] != NULL; i++)
                json_object_set_new(probe, props[i], json_null());
        json_object_set_new(probe, key, json_null());
        pthread_mutex_lock(&hs->schema_lock);
        filter_locked(hs, object, probe);
        pthread_mutex_unlock(&hs->schema_lock);
        json_decref(probe);
        if (!hs_schema_has(hs, object, key))
                cb_error("hubspot: %s has no unique property %s: callbridge cannot write them "
                         "exactly once until it exists (`callbridge crm setup`)",
                         object, key);
}

void hs_schema_check(struct hs *hs)
{
        const struct cb_config *cfg = hs->cfg;

        check_object(hs, "calls", cfg->hubspot.call_id_property, call_props);
        check_object(hs, "tasks", cfg->hubspot.task_key_property, NULL);
        check_object(hs, "notes", cfg->hubspot.note_key_property, NULL);
        if (hs_creates_contacts(cfg))
                check_object(hs, "contacts", "callbridge_phone", NULL);
}

json_t *hs_upsert_body(const char *idprop, const char *value, const json_t *props)
{
        return json_pack("{s:[{s:s,s:s,s:O}]}", "inputs", "idProperty", idprop, "id", value,
                         "properties", props);
}

/* A 207 (or 200) whose input failed: its error as a FAIL. */
static enum cb_result batch_error(const json_t *body, struct hs_answer *ans, char *err,
                                  size_t err_size)
{
        const char *category, *message, *property;

        if (json_array_size(json_object_get(body, "errors")) == 0 &&
            json_array_size(json_object_get(body, "results")) > 0)
                return CB_RESULT_OK;
        hs_error_of(body, &category, &message, &property);
        cb_strlcpy(ans->category, category, sizeof(ans->category));
        cb_strlcpy(ans->property, property, sizeof(ans->property));
        snprintf(err, err_size, "hubspot %ld %s: %.400s", ans->status, category, message);
        return CB_RESULT_FAIL;
}

/* One POST of the upsert; OK with the id. */
static enum cb_result post(struct hs *hs, const char *object, const char *idprop, const char *value,
                           const json_t *props, enum cb_crm_priority prio, struct hs_answer *ans,
                           char *id, size_t id_size, char *err, size_t err_size)
{
        char path[128];
        json_t *body = hs_upsert_body(idprop, value, props), *out = NULL;
        enum cb_result r;

        if (body == NULL) {
                snprintf(err, err_size, "out of memory");
                return CB_RESULT_RETRY;
        }
        snprintf(path, sizeof(path), "/crm/v3/objects/%s/batch/upsert", object);
        r = hs_rest(hs, "POST", path, body, prio, ans, &out, err, err_size);
        if (r == CB_RESULT_OK)
                r = batch_error(out, ans, err, err_size);
        if (r == CB_RESULT_OK) {
                const char *got = json_string_value(
                    json_object_get(json_array_get(json_object_get(out, "results"), 0), "id"));
                cb_strlcpy(id, got ? got : "", id_size);
        }
        json_decref(out);
        json_decref(body);
        return r;
}

/* Does a VALIDATION_ERROR name the owner? */
static bool owner_refused(const struct hs_answer *ans, const char *err)
{
        return strcmp(ans->category, "VALIDATION_ERROR") == 0 &&
               (strcmp(ans->property, "hubspot_owner_id") == 0 ||
                strstr(err, "hubspot_owner_id") != NULL);
}

/* Does a refusal say a property does not exist (or name one)? */
static bool drift(const struct hs_answer *ans, const char *err)
{
        return strcmp(ans->category, "VALIDATION_ERROR") == 0 &&
               (ans->property[0] != '\0' || strstr(err, "does not exist") != NULL ||
                strstr(err, "PROPERTY_DOESNT_EXIST") != NULL);
}

enum cb_result hs_upsert(struct hs *hs, const char *object, const char *idprop, const char *value,
                         json_t *props, enum cb_crm_priority prio, char *id, size_t id_size,
                         char *err, size_t err_size)
{
        struct hs_answer ans = {0};
        enum cb_result r;

        id[0] = '\0';
        hs_schema_filter(hs, object, props);
        if (!hs_schema_has(hs, object, idprop)) {
                hs_schema_forget(hs, object); /* read again next time: setup may have run */
                snprintf(err, err_size,
                         "hubspot: %s has no unique property %s (run `callbridge crm setup`)",
                         object, idprop);
                return CB_RESULT_RETRY;
        }
        r = post(hs, object, idprop, value, props, prio, &ans, id, id_size, err, err_size);
        if (r == CB_RESULT_FAIL && owner_refused(&ans, err) &&
            json_object_get(props, "hubspot_owner_id") != NULL) {
                /* The agent's owner id is not an owner here: written without one. */
                cb_warn("hubspot: %s refused hubspot_owner_id %s; writing it without an owner",
                        object, json_string_value(json_object_get(props, "hubspot_owner_id")));
                json_object_del(props, "hubspot_owner_id");
                r = post(hs, object, idprop, value, props, prio, &ans, id, id_size, err, err_size);
        }
        if (r == CB_RESULT_FAIL && drift(&ans, err)) {
                /* A property was removed since we read them: read again, drop what is gone
                 * and write once more in this same run. */
                cb_warn("hubspot: %s refused a property (%s); reading its properties again", object,
                        err);
                hs_schema_forget(hs, object);
                hs_schema_filter(hs, object, props);
                if (!hs_schema_has(hs, object, idprop))
                        return CB_RESULT_RETRY;
                r = post(hs, object, idprop, value, props, prio, &ans, id, id_size, err, err_size);
                /* Still refused for a property that is gone: try again later, never dead
                 * for a schema change. A bad value of a property that exists fails. */
                if (r == CB_RESULT_FAIL && drift(&ans, err) &&
                    (ans.property[0] == '\0' || !hs_schema_has(hs, object, ans.property))) {
                        hs_schema_forget(hs, object);
                        r = CB_RESULT_RETRY;
                }
        }
        return r;
}

/* FNV-1a of the association's four parts, never 0 (the memo's empty slot). */
static uint64_t assoc_hash(const char *const parts[4])
{
        uint64_t h = 14695981039346656037ULL;

        for (int i = 0; i < 4; i++)
                for (const char *p = parts[i];; p++) {
                        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
                        if (*p == '\0')
                                break;
                }
        return h ? h : 1;
}

bool hs_assoc_claim(struct hs *hs, const char *const parts[4], uint64_t *h)
{
        uint64_t *slot;
        bool seen;

        *h = assoc_hash(parts);
        slot = &hs->assoc_made[*h % HS_ASSOC_MEMO];
        pthread_mutex_lock(&hs->assoc_lock);
        seen = *slot == *h;
        *slot = *h;
        pthread_mutex_unlock(&hs->assoc_lock);
        return seen;
}

void hs_assoc_unclaim(struct hs *hs, uint64_t h)
{
        uint64_t *slot = &hs->assoc_made[h % HS_ASSOC_MEMO];

        pthread_mutex_lock(&hs->assoc_lock);
        if (*slot == h)
                *slot = 0;
        pthread_mutex_unlock(&hs->assoc_lock);
}

enum cb_result hs_associate(struct hs *hs, const char *from_type, const char *from_id,
                            const char *to_type, const char *to_id, enum cb_crm_priority prio,
                            char *err, size_t err_size)
{
        const char *const parts[4] = {from_type, from_id, to_type, to_id};
        uint64_t h;
        struct cb_buf path = {.max = 512};
        struct hs_answer ans = {0};
        json_t *out = NULL;
        enum cb_result r = CB_RESULT_FAIL;

        if (hs_assoc_claim(hs, parts, &h))
                return CB_RESULT_OK;
        if (cb_buf_printf(&path, "/crm/v4/objects/%s/", from_type) == 0 &&
            cb_buf_url_encode(&path, from_id) == 0 &&
            cb_buf_printf(&path, "/associations/default/%s/", to_type) == 0 &&
            cb_buf_url_encode(&path, to_id) == 0 && cb_buf_append(&path, "", 1) == 0)
                r = hs_rest(hs, "PUT", path.data, NULL, prio, &ans, &out, err, err_size);
        else
                snprintf(err, err_size, "hubspot: record id too long");
        if (r != CB_RESULT_OK)
                hs_assoc_unclaim(hs, h);
        json_decref(out);
        cb_buf_free(&path);
        return r;
}
