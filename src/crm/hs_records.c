/* HubSpot records: the screen-pop phone search (contacts by phone, mobile phone and HubSpot's
 * searchable digits of both; companies by phone in its usual written forms; every hit checked
 * against the number), records by id, and one contact per unknown caller. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/log.h"
#include "callbridge/phone.h"
#include "hs.h"

#define SEARCH_LIMIT 20
#define KINDS_MAX    10000 /* ids whose object is remembered; forgotten all at once past it */

static const char *str(const json_t *obj, const char *key)
{
        return json_string_value(json_object_get(obj, key));
}

enum cb_result hs_portal_load(struct hs *hs, char *err, size_t err_size)
{
        struct hs_answer ans = {0};
        json_t *body = NULL;
        json_int_t portal;
        enum cb_result r;

        if (atomic_load(&hs->portal_id) > 0)
                return CB_RESULT_OK;
        r = hs_rest(hs, "GET", "/account-info/v3/details", NULL, CB_CRM_PRIO_HIGH, &ans, &body, err,
                    err_size);
        portal = json_integer_value(json_object_get(body, "portalId"));
        if (r == CB_RESULT_OK && portal <= 0) {
                snprintf(err, err_size, "hubspot account-info has no portalId");
                r = CB_RESULT_RETRY;
        }
        if (r == CB_RESULT_OK)
                atomic_store(&hs->portal_id, (long)portal);
        json_decref(body);
        return r;
}

json_t *hs_record_url(struct hs *hs, const char *type_id, const char *id)
{
        char url[512];

        snprintf(url, sizeof(url), "%s/contacts/%ld/record/%s/%s", hs->cfg->hubspot.app_url,
                 atomic_load(&hs->portal_id), type_id, id);
        return json_string(url);
}

void hs_remember_kind(struct hs *hs, const char *id, const char *object)
{
        pthread_mutex_lock(&hs->schema_lock);
        if (json_object_size(hs->kinds) >= KINDS_MAX)
                json_object_clear(hs->kinds);
        json_object_set_new(hs->kinds, id, json_string(object));
        pthread_mutex_unlock(&hs->schema_lock);
}

/* The written forms of `e164` a phone property may hold exactly: E.164, the international
 * and national formats, the national digits, the digits with the country code. */
static json_t *phone_forms(const char *e164)
{
        char intl[64], digits[24];
        json_t *forms = json_pack("[s]", e164);
        const char *space;

        if (forms == NULL)
                return NULL;
        if (cb_phone_format_international(e164, intl, sizeof(intl)) == 0) {
                json_array_append_new(forms, json_string(intl));
                if ((space = strchr(intl, ' ')) != NULL)
                        json_array_append_new(forms, json_string(space + 1));
        }
        if (cb_phone_national_digits(e164, digits, sizeof(digits)) == 0)
                json_array_append_new(forms, json_string(digits));
        json_array_append_new(forms, json_string(e164 + 1));
        return forms;
}

static json_t *group_in(const char *prop, json_t *values)
{
        return json_pack("{s:[{s:s,s:s,s:o}]}", "filters", "propertyName", prop, "operator", "IN",
                         "values", values);
}

static json_t *group_eq(const char *prop, const char *value)
{
        return json_pack("{s:[{s:s,s:s,s:s}]}", "filters", "propertyName", prop, "operator", "EQ",
                         "value", value);
}

json_t *hs_contact_search_body(const char *e164)
{
        char digits[24];

        if (cb_phone_national_digits(e164, digits, sizeof(digits)) != 0)
                return NULL;
        return json_pack("{s:[o,o,o,o],s:[s,s,s,s,s,s,s],s:[{s:s,s:s}],s:i}", "filterGroups",
                         group_in("phone", phone_forms(e164)),
                         group_in("mobilephone", phone_forms(e164)),
                         group_eq("hs_searchable_calculated_phone_number", digits),
                         group_eq("hs_searchable_calculated_mobile_number", digits), "properties",
                         "firstname", "lastname", "company", "phone", "mobilephone",
                         "hubspot_owner_id", "lastmodifieddate", "sorts", "propertyName",
                         "lastmodifieddate", "direction", "DESCENDING", "limit", SEARCH_LIMIT);
}

json_t *hs_company_search_body(const char *e164)
{
        return json_pack("{s:[o],s:[s,s,s,s],s:[{s:s,s:s}],s:i}", "filterGroups",
                         group_in("phone", phone_forms(e164)), "properties", "name", "phone",
                         "hubspot_owner_id", "hs_lastmodifieddate", "sorts", "propertyName",
                         "hs_lastmodifieddate", "direction", "DESCENDING", "limit", SEARCH_LIMIT);
}

bool hs_phone_is(const char *value, const char *e164, const char *region)
{
        char norm[32], want[24], got[64];
        size_t n = 0, w;

        if (value == NULL || value[0] == '\0')
                return false;
        if (cb_phone_to_e164(value, region, norm, sizeof(norm)) == 0 && strcmp(norm, e164) == 0)
                return true;
        /* Stored without its country code in another region's style: the digits end in the
         * number's national digits. */
        if (cb_phone_national_digits(e164, want, sizeof(want)) != 0 || (w = strlen(want)) < 6)
                return false;
        for (const char *p = value; *p && n + 1 < sizeof(got); p++)
                if (*p >= '0' && *p <= '9')
                        got[n++] = *p;
        got[n] = '\0';
        return n >= w && strcmp(got + n - w, want) == 0;
}

/* A search hit in the screen-pop shape. */
static json_t *match_of(struct hs *hs, bool contact, const json_t *obj)
{
        const json_t *p = json_object_get(obj, "properties");
        const char *id = str(obj, "id"), *modified = str(obj, "updatedAt");
        const char *owner = str(p, "hubspot_owner_id"), *company = NULL;
        char name[600];
        json_t *m;

        if (id == NULL)
                return NULL;
        if (contact) {
                snprintf(name, sizeof(name), "%s%s%s", str(p, "firstname") ?: "",
                         str(p, "firstname") && str(p, "lastname") ? " " : "",
                         str(p, "lastname") ?: "");
                company = str(p, "company");
        } else {
                snprintf(name, sizeof(name), "%s", str(p, "name") ?: "");
        }
        m = json_pack("{s:s,s:s,s:s,s:o}", "type", contact ? "Contact" : "Company", "id", id,
                      "name", name, "url", hs_record_url(hs, contact ? "0-1" : "0-2", id));
        if (m != NULL && company != NULL && company[0] != '\0')
                json_object_set_new(m, "company", json_string(company));
        if (m != NULL && owner != NULL && owner[0] != '\0') /* routing: agents.crm_user_id */
                json_object_set_new(m, "owner_id", json_string(owner));
        if (m != NULL && modified != NULL)
                json_object_set_new(m, "last_modified", json_string(modified));
        return m;
}

static int newest_first(const void *a, const void *b)
{
        const char *x = str(*(json_t *const *)a, "last_modified");
        const char *y = str(*(json_t *const *)b, "last_modified");

        return strcmp(y ? y : "", x ? x : "");
}

/* Sort `arr` newest first, in place. */
static void sort_matches(json_t *arr)
{
        size_t n = json_array_size(arr);
        json_t **items = n ? calloc(n, sizeof(json_t *)) : NULL;

        if (items == NULL)
                return;
        for (size_t i = 0; i < n; i++)
                items[i] = json_incref(json_array_get(arr, i));
        qsort(items, n, sizeof(json_t *), newest_first);
        json_array_clear(arr);
        for (size_t i = 0; i < n; i++)
                json_array_append_new(arr, items[i]);
        free(items);
}

/* Append to `out` the hits of `body` whose phones really are `e164`. */
static void keep_hits(struct hs *hs, bool contact, const json_t *body, const char *e164,
                      json_t *out)
{
        const char *region = hs->cfg->server.default_region;
        const json_t *obj;
        size_t i;

        json_array_foreach(json_object_get(body, "results"), i, obj)
        {
                const json_t *p = json_object_get(obj, "properties");
                json_t *m;
                if (!hs_phone_is(str(p, "phone"), e164, region) &&
                    !(contact && hs_phone_is(str(p, "mobilephone"), e164, region)))
                        continue;
                if ((m = match_of(hs, contact, obj)) == NULL)
                        continue;
                hs_remember_kind(hs, str(m, "id"), contact ? "contacts" : "companies");
                json_array_append_new(out, m);
        }
}

enum cb_result hs_lookup_phone(void *self, const char *e164, json_t **matches, char *err,
                               size_t err_size)
{
        struct hs *hs = self;
        json_t *cq = hs_contact_search_body(e164), *oq = hs_company_search_body(e164);
        json_t *contacts = NULL, *companies = NULL, *out = NULL;
        enum cb_result r = CB_RESULT_FAIL;

        *matches = NULL;
        if (cq == NULL || oq == NULL) {
                snprintf(err, err_size, "cannot search for this number");
                goto done;
        }
        if ((r = hs_portal_load(hs, err, err_size)) != CB_RESULT_OK ||
            (r = hs_search(hs, "contacts", cq, &contacts, err, err_size)) != CB_RESULT_OK ||
            (r = hs_search(hs, "companies", oq, &companies, err, err_size)) != CB_RESULT_OK)
                goto done;
        out = json_array();
        keep_hits(hs, true, contacts, e164, out);
        keep_hits(hs, false, companies, e164, out);
        sort_matches(out);
        *matches = out;
done:
        json_decref(cq);
        json_decref(oq);
        json_decref(contacts);
        json_decref(companies);
        return r;
}

/* GET one object; OK with its body, FAIL (404 included) or RETRY/WAIT. */
static enum cb_result get_object(struct hs *hs, const char *object, const char *id,
                                 const char *query, struct hs_answer *ans, json_t **body, char *err,
                                 size_t err_size)
{
        struct cb_buf path = {.max = 1024};
        enum cb_result r = CB_RESULT_FAIL;

        if (cb_buf_printf(&path, "/crm/v3/objects/%s/", object) == 0 &&
            cb_buf_url_encode(&path, id) == 0 && cb_buf_puts(&path, query) == 0 &&
            cb_buf_append(&path, "", 1) == 0)
                r = hs_rest(hs, "GET", path.data, NULL, CB_CRM_PRIO_HIGH, ans, body, err, err_size);
        else
                snprintf(err, err_size, "hubspot: record id too long");
        cb_buf_free(&path);
        return r;
}

enum cb_result hs_record_object(struct hs *hs, const char *id, const char **object, char *err,
                                size_t err_size)
{
        static const char *const objects[] = {"contacts", "companies"};
        struct hs_answer ans = {0};
        const char *kind;
        enum cb_result r = CB_RESULT_OK;

        *object = NULL;
        if (id == NULL || id[0] == '\0' || strlen(id) > 32 ||
            strspn(id, "0123456789") != strlen(id))
                return CB_RESULT_OK; /* not a HubSpot id (another CRM's link): neither */
        pthread_mutex_lock(&hs->schema_lock);
        kind = str(hs->kinds, id);
        for (size_t i = 0; kind != NULL && i < CB_ARRAY_LEN(objects); i++)
                if (strcmp(kind, objects[i]) == 0)
                        *object = objects[i];
        pthread_mutex_unlock(&hs->schema_lock);
        for (size_t i = 0; *object == NULL && i < CB_ARRAY_LEN(objects); i++) {
                json_t *body = NULL;
                r = get_object(hs, objects[i], id, "?properties=hs_object_id", &ans, &body, err,
                               err_size);
                json_decref(body);
                if (r == CB_RESULT_OK) {
                        *object = objects[i];
                        hs_remember_kind(hs, id, objects[i]);
                } else if (ans.status != 404) {
                        return r;
                }
        }
        return *object != NULL || r == CB_RESULT_FAIL ? CB_RESULT_OK : r;
}

enum cb_result hs_get_record(void *self, const char *type, const char *id, json_t **record,
                             char *err, size_t err_size)
{
        struct hs *hs = self;
        struct hs_answer ans = {0};
        const char *object = NULL;
        json_t *body = NULL;
        enum cb_result r;

        *record = NULL;
        if (id == NULL || !cb_str_charset(id, 32, "") || strspn(id, "0123456789") != strlen(id)) {
                snprintf(err, err_size, "not a HubSpot record id: %.40s", id ? id : "");
                return CB_RESULT_FAIL;
        }
        if (type != NULL)
                object = strcmp(type, "Company") == 0 ? "companies" : "contacts";
        else if ((r = hs_record_object(hs, id, &object, err, err_size)) != CB_RESULT_OK)
                return r;
        if (object == NULL) {
                snprintf(err, err_size, "hubspot: no contact or company %s", id);
                return CB_RESULT_FAIL;
        }
        if ((r = hs_portal_load(hs, err, err_size)) != CB_RESULT_OK)
                return r;
        r = get_object(hs, object, id,
                       "?properties=firstname,lastname,company,name,phone,mobilephone,"
                       "hubspot_owner_id",
                       &ans, &body, err, err_size);
        if (r == CB_RESULT_OK)
                *record = match_of(hs, strcmp(object, "contacts") == 0, body);
        json_decref(body);
        return r;
}

enum cb_result hs_create_lead(void *self, const char *e164, json_t **match, char *err,
                              size_t err_size)
{
        struct hs *hs = self;
        struct hs_answer ans = {0};
        json_t *body = NULL, *props = NULL;
        char id[CB_CRM_ID_MAX] = "", masked[40], name[64];
        enum cb_result r;

        *match = NULL;
        if ((r = hs_portal_load(hs, err, err_size)) != CB_RESULT_OK)
                return r;
        /* An existing contact is linked as it is: its name may have been edited since. */
        {
                struct cb_buf q = {.max = 256};
                r = cb_buf_puts(&q, "?idProperty=callbridge_phone&properties=firstname,lastname,"
                                    "company,phone") == 0 &&
                            cb_buf_append(&q, "", 1) == 0
                        ? get_object(hs, "contacts", e164, q.data, &ans, &body, err, err_size)
                        : CB_RESULT_RETRY;
                cb_buf_free(&q);
        }
        if (r == CB_RESULT_OK) {
                *match = match_of(hs, true, body);
                goto out;
        }
        if (r != CB_RESULT_FAIL || ans.status != 404)
                goto out;
        cb_mask_phone(e164, masked, sizeof(masked));
        props = json_pack("{s:s,s:s,s:s,s:s}", "phone", e164, "firstname", "Unknown caller",
                          "lastname", masked, "hs_lead_status", "NEW");
        r = props ? hs_upsert(hs, "contacts", "callbridge_phone", e164, props, CB_CRM_PRIO_HIGH, id,
                              sizeof(id), err, err_size)
                  : CB_RESULT_RETRY;
        if (r != CB_RESULT_OK)
                goto out;
        cb_info("hubspot: created contact %s for an unknown caller", id);
        snprintf(name, sizeof(name), "Unknown caller %s", masked);
        *match = json_pack("{s:s,s:s,s:s,s:o}", "type", "Contact", "id", id, "name", name, "url",
                           hs_record_url(hs, "0-1", id));
out:
        if (*match != NULL && str(*match, "id") != NULL)
                hs_remember_kind(hs, str(*match, "id"), "contacts");
        json_decref(body);
        json_decref(props);
        return r;
}
