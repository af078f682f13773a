/* callbridge-sandbox: reading Salesforce records: ids to types, field paths through
 * relationships ("Account.Name", "Who.Phone"), and the JSON view with "attributes". */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sf_emu.h"

const char *sf_type_of_id_locked(const char *id)
{
        json_t *schema = sf_state_schema_locked();
        const char *type;
        json_t *obj;

        if (!id || strlen(id) < 3)
                return NULL;
        json_object_foreach(schema, type, obj)
        {
                const char *prefix = json_string_value(json_object_get(obj, "keyPrefix"));
                if (prefix && strncmp(prefix, id, 3) == 0)
                        return type;
        }
        return NULL;
}

static const char id_suffix_map[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

bool sf_id_canon(const char *id, char out[19])
{
        size_t len = id ? strlen(id) : 0;

        out[0] = '\0';
        if (len != 15 && len != 18)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!isalnum((unsigned char)id[i]) || (unsigned char)id[i] > 127)
                        return false;
        for (int chunk = 0; chunk < 3; chunk++) {
                int bits = 0;
                if (len == 18) {
                        const char *p =
                            strchr(id_suffix_map, toupper((unsigned char)id[15 + chunk]));
                        if (!p)
                                return false;
                        bits = (int)(p - id_suffix_map);
                }
                for (int i = 0; i < 5; i++) {
                        char c = id[chunk * 5 + i];
                        if (len == 18) {
                                bool cap = (bits >> i) & 1;
                                if (cap && !isalpha((unsigned char)c))
                                        return false;
                                c = (char)(cap ? toupper((unsigned char)c)
                                               : tolower((unsigned char)c));
                        } else if (isupper((unsigned char)c)) {
                                bits |= 1 << i;
                        }
                        out[chunk * 5 + i] = c;
                }
                out[15 + chunk] = id_suffix_map[bits];
        }
        out[18] = '\0';
        return true;
}

json_t *sf_record_get_locked(const char *type, const char *id)
{
        return sb_state_record_find_locked(type, id);
}

char *sf_record_url(const char *version, const char *type, const char *id)
{
        size_t len = strlen(version) + strlen(type) + strlen(id) + 40;
        char *url = malloc(len);

        if (url)
                snprintf(url, len, "/services/data/%s/sobjects/%s/%s", version, type, id);
        return url;
}

/* The stored value of a plain field, its name matched case-insensitively. Borrowed. */
static json_t *plain_value(json_t *rec, const char *name)
{
        const char *key;
        json_t *val;

        val = json_object_get(rec, name);
        if (val)
                return val;
        json_object_foreach(rec, key, val)
        {
                if (sf_strcasecmp(key, name) == 0)
                        return val;
        }
        return NULL;
}

/* The parent record that reference field `ref` of `rec` points to, and its type. */
static json_t *parent_of(json_t *rec, json_t *ref, const char **ptype)
{
        const char *id =
            json_string_value(plain_value(rec, json_string_value(json_object_get(ref, "name"))));
        const char *type = sf_type_of_id_locked(id);

        *ptype = type;
        return type ? sf_record_get_locked(type, id) : NULL;
}

json_t *sf_record_value_locked(const char *type, json_t *rec, const char *path)
{
        const char *dot = strchr(path, '.');
        char rel[128];
        json_t *ref, *parent;
        const char *ptype = NULL;

        if (!dot)
                return plain_value(rec, path);
        if ((size_t)(dot - path) >= sizeof(rel))
                return NULL;
        memcpy(rel, path, (size_t)(dot - path));
        rel[dot - path] = '\0';
        ref = sf_schema_relationship_locked(type, rel);
        parent = ref ? parent_of(rec, ref, &ptype) : NULL;
        return parent ? sf_record_value_locked(ptype, parent, dot + 1) : NULL;
}

/* Put `path` of `rec` into `out`, nesting relationship paths as Salesforce does:
 * "Account.Name" → "Account":{"attributes":{...},"Name":...} (or "Account":null). */
static int render_path(const char *version, const char *type, json_t *rec, const char *path,
                       json_t *out)
{
        const char *dot = strchr(path, '.');
        json_t *field, *ref, *parent, *sub;
        const char *ptype = NULL;
        char rel[128];

        if (!dot) {
                field = sf_schema_field_locked(type, path);
                json_t *v = plain_value(rec, path);
                const char *name = field ? json_string_value(json_object_get(field, "name")) : path;
                return json_object_set_new(out, name, v ? json_incref(v) : json_null());
        }
        if ((size_t)(dot - path) >= sizeof(rel))
                return -1;
        memcpy(rel, path, (size_t)(dot - path));
        rel[dot - path] = '\0';
        ref = sf_schema_relationship_locked(type, rel);
        if (!ref)
                return 0;
        parent = parent_of(rec, ref, &ptype);
        rel[0] = '\0';
        snprintf(rel, sizeof(rel), "%s",
                 json_string_value(json_object_get(ref, "relationshipName")));
        if (!parent)
                return json_object_set_new(out, rel, json_null());
        sub = json_object_get(out, rel);
        if (!json_is_object(sub)) {
                sub = sf_record_render_locked(version, ptype, parent, json_array());
                if (!sub || json_object_set_new(out, rel, sub) != 0)
                        return -1;
        }
        return render_path(version, ptype, parent, dot + 1, sub);
}

json_t *sf_record_render_locked(const char *version, const char *type, json_t *rec, json_t *fields)
{
        const char *id = json_string_value(json_object_get(rec, "Id"));
        char *url = sf_record_url(version, type, id ? id : "");
        json_t *out = json_pack("{s:{s:s,s:s?}}", "attributes", "type", type, "url", url);
        json_t *f;
        size_t i;
        int bad = 0;

        free(url);
        if (!out) {
                json_decref(fields);
                return NULL;
        }
        if (!fields) {
                json_t *schema_fields = json_object_get(sf_schema_object_locked(type), "fields");
                json_array_foreach(schema_fields, i, f)
                {
                        const char *name = json_string_value(json_object_get(f, "name"));
                        json_t *v = plain_value(rec, name);
                        bad |= json_object_set_new(out, name, v ? json_incref(v) : json_null());
                }
        } else {
                json_array_foreach(fields, i, f) bad |=
                    render_path(version, type, rec, json_string_value(f), out);
                json_decref(fields);
        }
        if (bad) {
                json_decref(out);
                return NULL;
        }
        return out;
}

bool sf_value_equals(json_t *value, const char *s)
{
        char buf[64];

        if (json_is_string(value))
                return sf_strcasecmp(json_string_value(value), s) == 0;
        if (json_is_integer(value)) {
                snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(value));
                return strcmp(buf, s) == 0;
        }
        if (json_is_real(value)) {
                char *end = NULL;
                double d = strtod(s, &end);
                return end != s && *end == '\0' && d == json_real_value(value);
        }
        if (json_is_boolean(value))
                return sf_strcasecmp(json_is_true(value) ? "true" : "false", s) == 0;
        return false;
}
