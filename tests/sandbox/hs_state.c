/* callbridge-sandbox: the HubSpot emulation's store — objects by id, their equality indexes,
 * property definitions, associations, owners, issued OAuth tokens and the rate-limit budgets.
 * All under the state mutex of sb_state.c; reset restores the defaults. Ids keep counting
 * across resets so that an id is never reused within one sandbox run. */
#include <ctype.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hs_emu.h"

static json_t *objects[HS_NTYPES]; /* {"<id>":object} */
static json_t *props[HS_NTYPES];   /* {"<name>":definition} (hs_schema.c builds the defaults) */
static json_t *index_[HS_NTYPES];  /* {"<prop>":{"<lower value>":{"<id>":true}}} */
static json_t *groups[HS_NTYPES];  /* {"<name>":{"name","label","displayOrder","archived"}} */
static json_t *assocs;             /* {"<from>/<id>/<to>/<id>/<type>":{...}} */
static json_t *owners;             /* {"<id>":owner} */
static json_t *tokens;             /* {"<access token>":<expiry, epoch seconds>} */
static long token_lifetime = HS_EXPIRES_IN_S;
static unsigned long long id_counter = 10000;

/* Rate budgets: counts in 100 ms slots, 100 of them for the 10-second rolling window and 10
 * for the search API's second; the daily count runs since the last reset. */
#define SLOT_MS 100
struct window {
        long long slot[100];
        long count[100];
};
static struct window ten_s, search_s;
static long max_per_10s = HS_DEFAULT_MAX_PER_10, search_per_s = HS_DEFAULT_SEARCH_S;
static long daily_max = HS_DEFAULT_DAILY, daily_used;

static const char *const type_names[HS_NTYPES] = {"contacts", "companies", "calls", "tasks",
                                                  "notes"};
static const char *const type_singular[HS_NTYPES] = {"contact", "company", "call", "task", "note"};
static const char *const type_ids[HS_NTYPES] = {"0-1", "0-2", "0-48", "0-27", "0-46"};

/* Non-unique properties the equality index covers as well. */
static const char *const indexed_extra[] = {"phone",
                                            "mobilephone",
                                            "hs_searchable_calculated_phone_number",
                                            "hs_searchable_calculated_mobile_number",
                                            "email",
                                            "domain",
                                            NULL};

json_t *hs_schema_default(enum hs_type t); /* hs_schema.c */
json_t *hs_groups_default(enum hs_type t); /* hs_schema.c */

const char *hs_type_name(enum hs_type t)
{
        return type_names[t];
}

const char *hs_type_object_id(enum hs_type t)
{
        return type_ids[t];
}

int hs_type_parse(const char *name)
{
        for (int t = 0; t < HS_NTYPES; t++) {
                if (strcmp(name, type_names[t]) == 0 || strcmp(name, type_singular[t]) == 0 ||
                    strcmp(name, type_ids[t]) == 0)
                        return t;
        }
        return -1;
}

void sb_hs_state_clear_locked(void)
{
        for (int t = 0; t < HS_NTYPES; t++) {
                json_decref(objects[t]);
                json_decref(props[t]);
                json_decref(index_[t]);
                json_decref(groups[t]);
                objects[t] = props[t] = index_[t] = groups[t] = NULL;
        }
        json_decref(assocs);
        json_decref(owners);
        json_decref(tokens);
        assocs = owners = tokens = NULL;
        token_lifetime = HS_EXPIRES_IN_S;
        memset(&ten_s, 0, sizeof(ten_s));
        memset(&search_s, 0, sizeof(search_s));
        max_per_10s = HS_DEFAULT_MAX_PER_10;
        search_per_s = HS_DEFAULT_SEARCH_S;
        daily_max = HS_DEFAULT_DAILY;
        daily_used = 0;
}

int sb_hs_state_reset_locked(void)
{
        bool bad = false;

        sb_hs_state_clear_locked();
        for (int t = 0; t < HS_NTYPES; t++) {
                objects[t] = json_object();
                props[t] = hs_schema_default((enum hs_type)t);
                index_[t] = json_object();
                groups[t] = hs_groups_default((enum hs_type)t);
                bad |= !objects[t] || !props[t] || !index_[t] || !groups[t];
        }
        assocs = json_object();
        owners = json_object();
        tokens = json_object();
        if (bad || !assocs || !owners || !tokens) {
                sb_hs_state_clear_locked();
                return -1;
        }
        return 0;
}

json_t *hs_objects_locked(enum hs_type t)
{
        return objects[t];
}

json_t *hs_props_locked(enum hs_type t)
{
        return props[t];
}

json_t *hs_groups_locked(enum hs_type t)
{
        return groups[t];
}

json_t *hs_owners_locked(void)
{
        return owners;
}

json_t *hs_assocs_locked(void)
{
        return assocs;
}

bool hs_index_covers_locked(enum hs_type t, const char *prop)
{
        json_t *def = json_object_get(props[t], prop);

        if (!def)
                return false;
        if (json_is_true(json_object_get(def, "hasUniqueValue")))
                return true;
        for (size_t i = 0; indexed_extra[i]; i++) {
                if (strcmp(indexed_extra[i], prop) == 0)
                        return true;
        }
        return false;
}

/* Lower-case copy of `s` into `out`, truncated to outlen-1. */
static void lower(const char *s, char *out, size_t outlen)
{
        size_t i = 0;

        for (; s[i] && i + 1 < outlen; i++)
                out[i] = (char)tolower((unsigned char)s[i]);
        out[i] = '\0';
}

json_t *hs_index_get_locked(enum hs_type t, const char *prop, const char *value, bool *indexed)
{
        char key[1024];
        json_t *ids;

        *indexed = hs_index_covers_locked(t, prop);
        if (!*indexed)
                return NULL;
        lower(value, key, sizeof(key));
        ids = json_object_get(json_object_get(index_[t], prop), key);
        return json_object_size(ids) ? ids : NULL;
}

/* Add (or remove) `id` under prop=value. -1 when out of memory. */
static int index_put(enum hs_type t, const char *prop, const char *value, const char *id, bool add)
{
        char key[1024];
        json_t *byval = json_object_get(index_[t], prop), *ids;

        lower(value, key, sizeof(key));
        if (!add) {
                ids = json_object_get(byval, key);
                json_object_del(ids, id);
                if (ids && json_object_size(ids) == 0)
                        json_object_del(byval, key);
                return 0;
        }
        if (!byval) {
                byval = json_object();
                if (!byval || json_object_set_new(index_[t], prop, byval) != 0)
                        return -1;
        }
        ids = json_object_get(byval, key);
        if (!ids) {
                ids = json_object();
                if (!ids || json_object_set_new(byval, key, ids) != 0)
                        return -1;
        }
        return json_object_set_new(ids, id, json_true());
}

json_t *hs_object_by_unique_locked(enum hs_type t, const char *prop, const char *value)
{
        bool indexed;
        json_t *ids = hs_index_get_locked(t, prop, value, &indexed);
        void *it = json_object_iter(ids);

        return it ? json_object_get(objects[t], json_object_iter_key(it)) : NULL;
}

void hs_now_iso(char out[32])
{
        struct timespec now;
        struct tm tm;
        char buf[96];

        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)(now.tv_nsec / 1000000));
        snprintf(out, 32, "%.31s", buf);
}

/* Country calling codes of two digits (all others but "1" and "7" have three). */
static bool two_digit_cc(const char *d)
{
        static const char *const cc2[] = {"20", "27", "30", "31", "32", "33", "34", "36", "39",
                                          "40", "41", "43", "44", "45", "46", "47", "48", "49",
                                          "51", "52", "53", "54", "55", "56", "57", "58", "60",
                                          "61", "62", "63", "64", "65", "66", "81", "82", "84",
                                          "86", "90", "91", "92", "93", "94", "95", "98", NULL};

        for (size_t i = 0; cc2[i]; i++) {
                if (strncmp(d, cc2[i], 2) == 0)
                        return true;
        }
        return false;
}

void hs_phone_calc(const char *number, char *out, size_t outlen)
{
        char d[64];
        size_t n = 0, skip = 0;
        bool plus = false;

        for (const char *p = number; *p && n + 1 < sizeof(d); p++) {
                if (*p == '+' && n == 0)
                        plus = true;
                else if (isdigit((unsigned char)*p))
                        d[n++] = *p;
        }
        d[n] = '\0';
        if (n > 2 && d[0] == '0' && d[1] == '0' && !plus) {
                memmove(d, d + 2, n - 1);
                n -= 2;
                plus = true;
        }
        if (plus && n > 0)
                skip = (d[0] == '1' || d[0] == '7') ? 1 : two_digit_cc(d) ? 2 : 3;
        else if (n == 11 && d[0] == '1')
                skip = 1; /* a North American number written with its 1 */
        if (skip > n)
                skip = n;
        snprintf(out, outlen, "%s", d + skip);
}

/* The text of `v` as HubSpot stores it (always a string): a string's own value, or numbers
 * and booleans formatted into `buf`; NULL for null and "" (both clear the property). */
static const char *value_text(json_t *v, char *buf, size_t buflen)
{
        if (json_is_string(v))
                return json_string_length(v) ? json_string_value(v) : NULL;
        if (json_is_integer(v))
                snprintf(buf, buflen, "%lld", (long long)json_integer_value(v));
        else if (json_is_real(v))
                snprintf(buf, buflen, "%.15g", json_real_value(v));
        else if (json_is_boolean(v))
                snprintf(buf, buflen, "%s", json_is_true(v) ? "true" : "false");
        else
                return NULL;
        return buf;
}

/* Set one property; index kept. -1 when out of memory. */
static int set_one(enum hs_type t, json_t *obj, const char *name, const char *text)
{
        json_t *p = json_object_get(obj, "properties");
        const char *id = json_string_value(json_object_get(obj, "id"));
        const char *old = json_string_value(json_object_get(p, name));
        bool covered = hs_index_covers_locked(t, name);

        if (covered && old && index_put(t, name, old, id, false) != 0)
                return -1;
        if (!text || !*text) {
                json_object_del(p, name);
                return 0;
        }
        if (json_object_set_new(p, name, json_string(text)) != 0)
                return -1;
        return covered ? index_put(t, name, text, id, true) : 0;
}

int hs_object_set_locked(enum hs_type t, json_t *obj, json_t *in)
{
        static const char *const calc[][2] = {
            {"phone", "hs_searchable_calculated_phone_number"},
            {"mobilephone", "hs_searchable_calculated_mobile_number"}};
        const char *name;
        json_t *v;
        char buf[64], now[32];

        json_object_foreach(in, name, v)
        {
                const char *text = value_text(v, buf, sizeof(buf));
                if (set_one(t, obj, name, text) != 0)
                        return -1;
                for (size_t i = 0; t == HS_CONTACTS && i < 2; i++) {
                        char digits[64] = "";
                        if (strcmp(name, calc[i][0]) != 0)
                                continue;
                        if (text)
                                hs_phone_calc(text, digits, sizeof(digits));
                        if (set_one(t, obj, calc[i][1], digits) != 0)
                                return -1;
                }
        }
        hs_now_iso(now);
        json_object_set_new(obj, "updatedAt", json_string(now));
        return set_one(t, obj, t == HS_CONTACTS ? "lastmodifieddate" : "hs_lastmodifieddate", now);
}

json_t *hs_object_new_locked(enum hs_type t, const char *id)
{
        char idbuf[32], now[32];
        json_t *obj;

        if (!id) {
                snprintf(idbuf, sizeof(idbuf), "%llu", ++id_counter);
                id = idbuf;
        } else {
                unsigned long long n = strtoull(id, NULL, 10);
                if (n > id_counter)
                        id_counter = n; /* seeded ids: the next minted ones follow them */
        }
        if (json_object_get(objects[t], id))
                return NULL;
        hs_now_iso(now);
        obj = json_pack("{s:s,s:{},s:s,s:s,s:b}", "id", id, "properties", "createdAt", now,
                        "updatedAt", now, "archived", 0);
        if (!obj || json_object_set_new(objects[t], id, obj) != 0)
                return NULL;
        if (set_one(t, obj, "hs_object_id", id) != 0 ||
            set_one(t, obj, t == HS_CONTACTS || t == HS_COMPANIES ? "createdate" : "hs_createdate",
                    now) != 0) {
                json_object_del(objects[t], id);
                return NULL;
        }
        return obj;
}

int hs_assoc_add_locked(enum hs_type from, const char *from_id, enum hs_type to, const char *to_id,
                        int type_id)
{
        char key[160];

        snprintf(key, sizeof(key), "%s/%s/%s/%s/%d", type_names[from], from_id, type_names[to],
                 to_id, type_id);
        if (json_object_get(assocs, key))
                return 0;
        return json_object_set_new(assocs, key,
                                   json_pack("{s:s,s:s,s:s,s:s,s:i}", "from_type", type_names[from],
                                             "from_id", from_id, "to_type", type_names[to], "to_id",
                                             to_id, "type_id", type_id));
}

bool hs_prop_drop_locked(enum hs_type t, const char *name)
{
        const char *id;
        json_t *obj;

        if (!json_object_get(props[t], name))
                return false;
        json_object_foreach(objects[t], id, obj)
        {
                json_object_del(json_object_get(obj, "properties"), name);
        }
        json_object_del(index_[t], name);
        json_object_del(props[t], name);
        return true;
}

/* ---- tokens ----------------------------------------------------------------------------- */

enum hs_auth hs_token_check_locked(const struct sb_config *cfg, const char *token)
{
        json_t *exp;

        if (!token || !*token)
                return HS_AUTH_INVALID;
        if (!cfg->hs_access_token && !cfg->hs_refresh_token)
                return HS_AUTH_OK; /* nothing configured: any token will do */
        if (cfg->hs_access_token && strcmp(token, cfg->hs_access_token) == 0)
                return HS_AUTH_OK;
        exp = json_object_get(tokens, token);
        if (!exp)
                return HS_AUTH_INVALID;
        return json_integer_value(exp) > (json_int_t)time(NULL) ? HS_AUTH_OK : HS_AUTH_EXPIRED;
}

char *hs_token_mint_locked(long *expires_in)
{
        static const char hexd[] = "0123456789abcdef";
        unsigned char raw[32];
        char tok[8 + 2 * sizeof(raw) + 1];

        if (RAND_bytes(raw, (int)sizeof(raw)) != 1)
                return NULL;
        memcpy(tok, "CJSa-na1", 8);
        for (size_t i = 0; i < sizeof(raw); i++) {
                tok[8 + 2 * i] = hexd[raw[i] >> 4];
                tok[8 + 2 * i + 1] = hexd[raw[i] & 15];
        }
        tok[sizeof(tok) - 1] = '\0';
        if (json_object_set_new(
                tokens, tok, json_integer((json_int_t)time(NULL) + (json_int_t)token_lifetime)) !=
            0)
                return NULL;
        *expires_in = token_lifetime;
        return strdup(tok);
}

size_t hs_token_expire_all_locked(long lifetime)
{
        const char *tok;
        json_t *exp;

        if (lifetime > 0)
                token_lifetime = lifetime;
        json_object_foreach(tokens, tok, exp)
        {
                json_integer_set(exp, 0);
        }
        return json_object_size(tokens);
}

/* ---- rate limits ------------------------------------------------------------------------ */

static long long now_slot(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000) / SLOT_MS;
}

/* Requests in the last `nslots` slots (the current one included). */
static long window_count(const struct window *w, size_t nslots, long long now)
{
        long n = 0;

        for (size_t i = 0; i < nslots; i++) {
                if (w->slot[i] > now - (long long)nslots)
                        n += w->count[i];
        }
        return n;
}

static void window_add(struct window *w, size_t nslots, long long now)
{
        size_t i = (size_t)(now % (long long)nslots);

        if (w->slot[i] != now) {
                w->slot[i] = now;
                w->count[i] = 0;
        }
        w->count[i]++;
}

void hs_rate_take_locked(bool search, struct hs_rate *out)
{
        long long now = now_slot();
        long in10 = window_count(&ten_s, 100, now);

        memset(out, 0, sizeof(*out));
        out->max = max_per_10s;
        if (daily_used >= daily_max) {
                out->limited = true;
                out->policy = "DAILY";
        } else if (search && window_count(&search_s, 10, now) >= search_per_s) {
                out->limited = true;
                out->policy = "SECONDLY";
        } else if (!search && in10 >= max_per_10s) {
                out->limited = true;
                out->policy = "TEN_SECONDLY_ROLLING";
        } else {
                daily_used++;
                if (search) {
                        window_add(&search_s, 10, now);
                } else {
                        window_add(&ten_s, 100, now);
                        in10++;
                }
        }
        out->remaining = max_per_10s - in10 > 0 ? max_per_10s - in10 : 0;
        out->daily = daily_max;
        out->daily_remaining = daily_max - daily_used > 0 ? daily_max - daily_used : 0;
}

void hs_rate_set_locked(long max10, long search1, long daily)
{
        if (max10 > 0)
                max_per_10s = max10;
        if (search1 > 0)
                search_per_s = search1;
        if (daily > 0)
                daily_max = daily;
}

json_t *hs_rate_json_locked(void)
{
        return json_pack("{s:I,s:I,s:I,s:I}", "max_per_10s", (json_int_t)max_per_10s,
                         "search_per_s", (json_int_t)search_per_s, "daily", (json_int_t)daily_max,
                         "daily_used", (json_int_t)daily_used);
}
