/* callbridge-sandbox: hash indexes over the CRM records of sb_state.c, so that finding a
 * record by Id or by the value of an External ID / unique field costs the same with ten
 * records or a hundred thousand. Everything here runs under the state lock.
 *
 * ids     {"<Type>": {"<Id>": rec}}                       every live record by Id
 * fields  {"<Type>": {"<field lower>": {"<key>": [rec]}}}  records by a field's value
 * phones  {"<Type>": {"<last 7 digits>": [rec]}}           records by any phone field's
 *                                                          last seven digits (SOSL IN PHONE
 *                                                          FIELDS matches on a common suffix
 *                                                          of at least seven digits)
 *
 * Both are built lazily (the first lookup of a type, or of a type's field, scans its array
 * once) and kept up to date by sb_index_add_locked / _remove_locked / _touch_locked, which the
 * writers call. A field bucket may hold stale entries (a record since deleted, or whose value
 * changed): a lookup checks every candidate against the record itself and against `ids`, so a
 * stale entry is never an answer; what must never happen is a record missing from the bucket
 * of its current value, hence every write of a field goes through _touch_locked. Replacing the
 * whole records object (a rolled-back composite) drops every index (sb_index_clear_locked).
 *
 * A value's key is its text folded to lower case (sf_value_equals compares strings without
 * case), integers in decimal, booleans "true"/"false"; reals and strings longer than a key go to
 * the bucket "~other", which every lookup of that field also scans. Out of memory: the index of
 * that type or field is dropped and rebuilt by the next lookup, never left short. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox.h"
#include "sf_emu.h"

#define OTHER_KEY "~other"

static json_t *ids;    /* owned; NULL until first used or after a clear */
static json_t *fields; /* owned */
static json_t *phones; /* owned */

void sb_index_clear_locked(void)
{
        json_decref(ids);
        json_decref(fields);
        json_decref(phones);
        ids = fields = phones = NULL;
}

/* The bucket key of a stored value into `out`; false when the value is not indexable (null,
 * object, array). Reals and over-long strings give OTHER_KEY. */
static bool value_key(json_t *v, char *out, size_t size)
{
        if (json_is_string(v)) {
                const char *s = json_string_value(v);
                size_t i;
                for (i = 0; s[i] && i + 1 < size; i++)
                        out[i] = (char)tolower((unsigned char)s[i]);
                out[i] = '\0';
                if (s[i])
                        snprintf(out, size, "%s", OTHER_KEY);
                return true;
        }
        if (json_is_integer(v))
                snprintf(out, size, "%lld", (long long)json_integer_value(v));
        else if (json_is_boolean(v))
                snprintf(out, size, "%s", json_is_true(v) ? "true" : "false");
        else if (json_is_real(v))
                snprintf(out, size, "%s", OTHER_KEY);
        else
                return false;
        return true;
}

static void lower(const char *s, char *out, size_t size)
{
        size_t i;

        for (i = 0; s[i] && i + 1 < size; i++)
                out[i] = (char)tolower((unsigned char)s[i]);
        out[i] = '\0';
}

/* {"<Id>": rec} of `type`, built now if needed; NULL when out of memory. */
static json_t *ids_of(const char *type)
{
        json_t *map, *arr, *rec;
        size_t i;

        if (!ids && !(ids = json_object()))
                return NULL;
        map = json_object_get(ids, type);
        if (map)
                return map;
        map = json_object();
        arr = sb_state_records_locked(type, false);
        json_array_foreach(arr, i, rec)
        {
                const char *id = json_string_value(json_object_get(rec, "Id"));
                if (map && id && json_object_set(map, id, rec) != 0) {
                        json_decref(map);
                        map = NULL;
                }
        }
        if (!map || json_object_set_new(ids, type, map) != 0)
                return NULL; /* set_new freed map on failure */
        return map;
}

/* Put `rec` in the bucket of its value of `field` in `index` unless it is there already. */
static int bucket_put(json_t *index, const char *field, json_t *rec)
{
        char key[512];
        json_t *bucket, *r;
        size_t i;

        if (!value_key(json_object_get(rec, field), key, sizeof(key)))
                return 0;
        bucket = json_object_get(index, key);
        if (!bucket && json_object_set_new(index, key, bucket = json_array()) != 0)
                return -1;
        json_array_foreach(bucket, i, r)
        {
                if (r == rec)
                        return 0;
        }
        return json_array_append(bucket, rec);
}

/* The value index of (type, field), built now if needed; `canon` is the field's schema
 * spelling. NULL when out of memory. */
static json_t *field_index(const char *type, const char *canon)
{
        char name[256];
        json_t *per_type, *index, *rec;
        size_t i;

        if (!fields && !(fields = json_object()))
                return NULL;
        per_type = json_object_get(fields, type);
        if (!per_type && json_object_set_new(fields, type, per_type = json_object()) != 0)
                return NULL;
        lower(canon, name, sizeof(name));
        index = json_object_get(per_type, name);
        if (index)
                return index;
        index = json_object();
        json_array_foreach(sb_state_records_locked(type, false), i, rec)
        {
                if (index && bucket_put(index, canon, rec) != 0) {
                        json_decref(index);
                        index = NULL;
                }
        }
        if (!index || json_object_set_new(per_type, name, index) != 0)
                return NULL;
        return index;
}

json_t *sb_index_id_locked(const char *type, const char *id)
{
        json_t *map = ids_of(type), *rec;
        size_t i;

        if (map)
                return json_object_get(map, id);
        /* Out of memory: the slow way, still right. */
        json_array_foreach(sb_state_records_locked(type, false), i, rec)
        {
                const char *rid = json_string_value(json_object_get(rec, "Id"));
                if (rid && strcmp(rid, id) == 0)
                        return rec;
        }
        return NULL;
}

/* Append to `out` the live records of `bucket` whose `field` equals `value`, once each. */
static void bucket_matches(json_t *bucket, const char *type, const char *field, const char *value,
                           json_t *out)
{
        json_t *rec, *seen;
        size_t i, k;

        json_array_foreach(bucket, i, rec)
        {
                const char *id = json_string_value(json_object_get(rec, "Id"));
                bool dup = false;
                if (!id || sb_index_id_locked(type, id) != rec ||
                    !sf_value_equals(json_object_get(rec, field), value))
                        continue;
                json_array_foreach(out, k, seen) dup |= seen == rec;
                if (!dup)
                        json_array_append(out, rec);
        }
}

json_t *sb_index_match_locked(const char *type, const char *field, const char *value)
{
        json_t *index = field_index(type, field), *out = json_array(), *rec;
        char key[512];
        size_t i;

        if (!out)
                return NULL;
        if (!index) { /* out of memory: scan */
                json_array_foreach(sb_state_records_locked(type, false), i, rec)
                {
                        if (sf_value_equals(json_object_get(rec, field), value))
                                json_array_append(out, rec);
                }
                return out;
        }
        lower(value, key, sizeof(key));
        if (strlen(value) >= sizeof(key))
                snprintf(key, sizeof(key), "%s", OTHER_KEY);
        bucket_matches(json_object_get(index, key), type, field, value, out);
        if (strcmp(key, OTHER_KEY) != 0)
                bucket_matches(json_object_get(index, OTHER_KEY), type, field, value, out);
        return out;
}

/* ---- phones ------------------------------------------------------------------------------ */

/* The last SB_PHONE_SUFFIX digits of `value` into `out`; false when it has fewer. */
static bool phone_key(const char *value, char out[SB_PHONE_SUFFIX + 1])
{
        size_t n = 0;

        for (; value && *value; value++) {
                if (*value < '0' || *value > '9')
                        continue;
                if (n == SB_PHONE_SUFFIX) {
                        memmove(out, out + 1, SB_PHONE_SUFFIX - 1);
                        n--;
                }
                out[n++] = *value;
        }
        out[n] = '\0';
        return n == SB_PHONE_SUFFIX;
}

/* Put `rec` in `index` under the key of each of its phone fields (only those named in
 * `only` when not NULL). -1 when out of memory. */
static int phones_put(json_t *index, const char *type, json_t *rec, json_t *only)
{
        json_t *f, *b, *r;
        size_t i, k;

        json_array_foreach(json_object_get(sf_schema_object_locked(type), "fields"), i, f)
        {
                const char *name = json_string_value(json_object_get(f, "name"));
                char key[SB_PHONE_SUFFIX + 1];
                bool there = false;

                if (!name ||
                    sf_strcasecmp(json_string_value(json_object_get(f, "type")), "phone") ||
                    (only && !json_object_get(only, name)) ||
                    !phone_key(json_string_value(json_object_get(rec, name)), key))
                        continue;
                b = json_object_get(index, key);
                if (!b && json_object_set_new(index, key, b = json_array()) != 0)
                        return -1;
                json_array_foreach(b, k, r) there |= r == rec;
                if (!there && json_array_append(b, rec) != 0)
                        return -1;
        }
        return 0;
}

/* {"<suffix>": [rec]} of `type`, built now if needed; NULL when out of memory. */
static json_t *phones_of(const char *type)
{
        json_t *index, *rec;
        size_t i;

        if (!phones && !(phones = json_object()))
                return NULL;
        index = json_object_get(phones, type);
        if (index)
                return index;
        index = json_object();
        json_array_foreach(sb_state_records_locked(type, false), i, rec)
        {
                if (index && phones_put(index, type, rec, NULL) != 0) {
                        json_decref(index);
                        index = NULL;
                }
        }
        if (!index || json_object_set_new(phones, type, index) != 0)
                return NULL;
        return index;
}

/* Position of `rec` in the array of `type` (-1: not there), for ordering candidates. */
static long array_pos(json_t *arr, json_t *rec)
{
        json_t *r;
        size_t i;

        json_array_foreach(arr, i, r)
        {
                if (r == rec)
                        return (long)i;
        }
        return -1;
}

void sb_index_order_locked(const char *type, json_t *recs)
{
        json_t *arr = sb_state_records_locked(type, false);
        size_t n = json_array_size(recs), i;
        json_t **hits;
        long *pos;

        if (n < 2)
                return;
        hits = calloc(n, sizeof(json_t *));
        pos = calloc(n, sizeof(*pos));
        if (hits && pos) {
                for (i = 0; i < n; i++) {
                        hits[i] = json_array_get(recs, i);
                        pos[i] = array_pos(arr, hits[i]);
                }
                for (i = 1; i < n; i++) { /* insertion sort: candidates are few */
                        for (size_t k = i; k > 0 && pos[k - 1] > pos[k]; k--) {
                                long tp = pos[k];
                                json_t *th = hits[k];
                                pos[k] = pos[k - 1];
                                hits[k] = hits[k - 1];
                                pos[k - 1] = tp;
                                hits[k - 1] = th;
                        }
                }
                /* hits borrow from recs: hold them while it is rebuilt */
                for (i = 0; i < n; i++)
                        json_incref(hits[i]);
                json_array_clear(recs);
                for (i = 0; i < n; i++)
                        json_array_append_new(recs, hits[i]);
        }
        free(hits);
        free(pos);
}

json_t *sb_index_phone_locked(const char *type, const char *digits)
{
        json_t *index = phones_of(type), *out, *rec;
        size_t len = strlen(digits), i;

        if (!index)
                return NULL;
        out = json_array();
        if (!out || len < SB_PHONE_SUFFIX)
                return out; /* fewer digits than a match needs: none */
        json_array_foreach(json_object_get(index, digits + len - SB_PHONE_SUFFIX), i, rec)
        {
                const char *id = json_string_value(json_object_get(rec, "Id"));
                if (id && sb_index_id_locked(type, id) == rec)
                        json_array_append(out, rec); /* stale entries dropped; keep() decides */
        }
        sb_index_order_locked(type, out);
        return out;
}

int sb_index_add_locked(const char *type, json_t *rec)
{
        json_t *map = ids ? json_object_get(ids, type) : NULL;
        json_t *per_type = fields ? json_object_get(fields, type) : NULL, *index;
        const char *id = json_string_value(json_object_get(rec, "Id")), *name;
        void *tmp;

        /* An index not built yet is built from the array later; nothing to do for it. */
        if (map && id && json_object_set(map, id, rec) != 0)
                json_object_del(ids, type);
        index = phones ? json_object_get(phones, type) : NULL;
        if (index && phones_put(index, type, rec, NULL) != 0)
                json_object_del(phones, type);
        json_object_foreach_safe(per_type, tmp, name, index)
        {
                json_t *f = sf_schema_field_locked(type, name);
                const char *canon = json_string_value(json_object_get(f, "name"));
                if (!canon || bucket_put(index, canon, rec) != 0)
                        json_object_del(per_type, name);
        }
        return 0;
}

void sb_index_remove_locked(const char *type, json_t *rec)
{
        json_t *map = ids ? json_object_get(ids, type) : NULL;
        const char *id = json_string_value(json_object_get(rec, "Id"));

        /* Field buckets keep the record: lookups skip it, as it is no longer in `ids`. */
        if (map && id && json_object_get(map, id) == rec)
                json_object_del(map, id);
}

void sb_index_touch_locked(const char *type, json_t *rec, json_t *values)
{
        json_t *per_type = fields ? json_object_get(fields, type) : NULL, *index, *v;
        json_t *ph = phones ? json_object_get(phones, type) : NULL;
        const char *key;
        char name[256];

        if (ph && phones_put(ph, type, rec, values) != 0)
                json_object_del(phones, type); /* rebuilt by the next lookup */

        json_object_foreach(values, key, v)
        {
                const char *canon;
                (void)v;
                lower(key, name, sizeof(name));
                index = json_object_get(per_type, name);
                if (!index)
                        continue;
                canon =
                    json_string_value(json_object_get(sf_schema_field_locked(type, key), "name"));
                if (!canon || bucket_put(index, canon, rec) != 0)
                        json_object_del(per_type, name); /* rebuilt by the next lookup */
        }
}
