/* Schema drift: describe the objects we write, skip the fields an org lacks and say so once
 * (log line, /readyz detail, metric) instead of failing every write. */
#include <stdio.h>
#include <string.h>

#include "callbridge/log.h"
#include "sf.h"

enum cb_result sf_schema_load(struct sf *sf, const char *object, char *err, size_t err_size)
{
        char path[256];
        struct sf_answer ans;
        json_t *body = NULL, *names = NULL, *field;
        enum cb_result r;
        size_t i;

        pthread_mutex_lock(&sf->schema_lock);
        r = json_object_get(sf->fields, object) ? CB_RESULT_OK : CB_RESULT_RETRY;
        pthread_mutex_unlock(&sf->schema_lock);
        if (r == CB_RESULT_OK)
                return r;
        snprintf(path, sizeof(path), "/services/data/%s/sobjects/%s/describe",
                 sf->cfg->salesforce.api_version, object);
        r = sf_rest(sf, "GET", path, NULL, CB_CRM_PRIO_HIGH, &ans, &body, err, err_size);
        if (r != CB_RESULT_OK)
                goto out;
        names = json_object();
        json_array_foreach(json_object_get(body, "fields"), i, field)
        {
                const char *name = json_string_value(json_object_get(field, "name"));
                const char *rel = json_string_value(json_object_get(field, "relationshipName"));
                if (name != NULL)
                        json_object_set_new(names, name, json_true());
                /* A lookup's relationship ("X__r": {"Key__c": ...} links by External ID). */
                if (rel != NULL)
                        json_object_set_new(names, rel, json_true());
        }
        pthread_mutex_lock(&sf->schema_lock);
        json_object_set_new(sf->fields, object, names);
        pthread_mutex_unlock(&sf->schema_lock);
out:
        json_decref(body);
        return r;
}

bool sf_schema_has(struct sf *sf, const char *object, const char *field)
{
        json_t *names;
        bool has;

        pthread_mutex_lock(&sf->schema_lock);
        names = json_object_get(sf->fields, object);
        has = names == NULL || json_object_get(names, field) != NULL;
        pthread_mutex_unlock(&sf->schema_lock);
        return has;
}

/* Record `field` as missing on `object`; true the first time. Lock held. */
static bool note_missing(struct sf *sf, const char *object, const char *field)
{
        json_t *list = json_object_get(sf->missing, object);
        json_t *v;
        size_t i;

        if (list == NULL) {
                list = json_array();
                json_object_set_new(sf->missing, object, list);
        }
        json_array_foreach(list, i, v) if (strcmp(json_string_value(v), field) == 0) return false;
        json_array_append_new(list, json_string(field));
        return true;
}

void sf_schema_filter(struct sf *sf, const char *object, json_t *record)
{
        char err[256];
        json_t *names, *value;
        const char *key;
        void *tmp;

        if (sf_schema_load(sf, object, err, sizeof(err)) != CB_RESULT_OK)
                return; /* unknown schema: write everything, the answer will tell */
        pthread_mutex_lock(&sf->schema_lock);
        names = json_object_get(sf->fields, object);
        json_object_foreach_safe(record, tmp, key, value)
        {
                if (names == NULL || json_object_get(names, key) != NULL)
                        continue;
                if (note_missing(sf, object, key))
                        cb_warn("salesforce: %s has no field %s; callbridge skips it (deploy "
                                "docs/salesforce to add it)",
                                object, key);
                json_object_del(record, key);
        }
        pthread_mutex_unlock(&sf->schema_lock);
}

void sf_schema_forget(struct sf *sf, const char *object)
{
        pthread_mutex_lock(&sf->schema_lock);
        json_object_del(sf->fields, object);
        pthread_mutex_unlock(&sf->schema_lock);
}

void sf_schema_missing(struct sf *sf, char *out, size_t out_size)
{
        struct cb_buf b = {.max = out_size > 0 ? out_size - 1 : 0};
        const char *object;
        json_t *list, *v;
        size_t i;

        pthread_mutex_lock(&sf->schema_lock);
        json_object_foreach(sf->missing, object, list)
        {
                if (json_array_size(list) == 0)
                        continue;
                cb_buf_printf(&b, "%s%s:", b.len ? "; " : "", object);
                json_array_foreach(list, i, v)
                    cb_buf_printf(&b, "%s %s", i ? "," : "", json_string_value(v));
        }
        pthread_mutex_unlock(&sf->schema_lock);
        cb_strlcpy(out, b.data ? b.data : "", out_size);
        cb_buf_free(&b);
}
