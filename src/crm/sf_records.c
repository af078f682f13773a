/* Salesforce records: the screen-pop phone search (SOSL IN PHONE FIELDS, then an exact E.164
 * check of every phone field), records by id, and one Lead per unknown caller. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/log.h"
#include "callbridge/phone.h"
#include "callbridge/soql.h"
#include "sf.h"

#define SEARCH_LIMIT 20

static const struct {
        const char *prefix;
        const char *type;
} key_prefixes[] = {
    {"001", "Account"},     {"003", "Contact"}, {"00Q", "Lead"},
    {"006", "Opportunity"}, {"00T", "Task"},    {"005", "User"},
};

/* What the search returns per object, and which of those fields are phones. */
static const struct {
        const char *type;
        const char *fields;
        const char *phones[6];
} searched[] = {
    {"Contact",
     "Id, Name, Phone, MobilePhone, HomePhone, OtherPhone, AssistantPhone, Account.Name, "
     "OwnerId, Owner.Username, LastModifiedDate",
     {"Phone", "MobilePhone", "HomePhone", "OtherPhone", "AssistantPhone", NULL}},
    {"Lead",
     "Id, Name, Company, Phone, MobilePhone, OwnerId, Owner.Username, LastModifiedDate",
     {"Phone", "MobilePhone", NULL}},
    {"Account",
     "Id, Name, Phone, Fax, OwnerId, Owner.Username, LastModifiedDate",
     {"Phone", "Fax", NULL}},
};

const char *sf_type_of_id(const char *id)
{
        for (size_t i = 0; id != NULL && i < CB_ARRAY_LEN(key_prefixes); i++)
                if (strncmp(id, key_prefixes[i].prefix, 3) == 0)
                        return key_prefixes[i].type;
        return NULL;
}

json_t *sf_record_url(const struct sf_token *tok, const char *type, const char *id)
{
        char url[SF_URL_MAX + 128];

        snprintf(url, sizeof(url), "%s/lightning/r/%s/%s/view", tok->instance_url, type, id);
        return json_string(url);
}

/* Does one of `rec`'s phone fields hold `e164` once read as a number of `region`? */
static bool phone_matches(const json_t *rec, const char *const *phones, const char *e164,
                          const char *region)
{
        for (size_t i = 0; phones[i] != NULL; i++) {
                const char *v = json_string_value(json_object_get(rec, phones[i]));
                char norm[32];
                if (v != NULL && cb_phone_to_e164(v, region, norm, sizeof(norm)) == 0 &&
                    strcmp(norm, e164) == 0)
                        return true;
        }
        return false;
}

/* A match in the screen-pop shape. */
static json_t *match_of(const struct sf_token *tok, const char *type, const json_t *rec)
{
        const char *id = json_string_value(json_object_get(rec, "Id"));
        const char *name = json_string_value(json_object_get(rec, "Name"));
        const char *company = json_string_value(json_object_get(rec, "Company"));
        const char *modified = json_string_value(json_object_get(rec, "LastModifiedDate"));
        const char *owner =
            json_string_value(json_object_get(json_object_get(rec, "Owner"), "Username"));
        const char *owner_id = json_string_value(json_object_get(rec, "OwnerId"));
        char owner18[SF_ID_LEN + 1];
        json_t *m;

        if (company == NULL)
                company =
                    json_string_value(json_object_get(json_object_get(rec, "Account"), "Name"));
        m = json_pack("{s:s,s:s,s:s,s:o}", "type", type, "id", id ? id : "", "name",
                      name ? name : "", "url", sf_record_url(tok, type, id ? id : ""));
        if (m != NULL && company != NULL)
                json_object_set_new(m, "company", json_string(company));
        if (m != NULL && owner != NULL) /* who owns it, for people */
                json_object_set_new(m, "owner", json_string(owner));
        /* the agent routing rings (agents.crm_user_id, in its canonical form) */
        if (m != NULL && owner_id != NULL && sf_id_canon(owner_id, owner18))
                json_object_set_new(m, "owner_id", json_string(owner18));
        if (m != NULL && modified != NULL)
                json_object_set_new(m, "last_modified", json_string(modified));
        return m;
}

static int newest_first(const void *a, const void *b)
{
        const char *x = json_string_value(json_object_get(*(json_t *const *)a, "last_modified"));
        const char *y = json_string_value(json_object_get(*(json_t *const *)b, "last_modified"));

        return strcmp(y ? y : "", x ? x : "");
}

/* The SOSL text for a number: its national digits, which Salesforce's phone search matches
 * whatever punctuation the record holds. */
static int sosl_for(const char *e164, struct cb_buf *q)
{
        char digits[24];
        int rc;

        if (cb_phone_national_digits(e164, digits, sizeof(digits)) != 0)
                return -1;
        rc = cb_buf_puts(q, "FIND {");
        rc |= cb_sosl_escape(q, digits);
        rc |= cb_buf_puts(q, "} IN PHONE FIELDS RETURNING ");
        for (size_t i = 0; i < CB_ARRAY_LEN(searched); i++)
                rc |= cb_buf_printf(q, "%s%s(%s ORDER BY LastModifiedDate DESC LIMIT %d)",
                                    i ? ", " : "", searched[i].type, searched[i].fields,
                                    SEARCH_LIMIT);
        return rc;
}

/* Keep the records whose phones really are `e164`, as matches sorted newest first. */
static json_t *matches_of(struct sf *sf, const struct sf_token *tok, const json_t *body,
                          const char *e164)
{
        json_t *out = json_array(), *rec, **items = NULL;
        size_t i, n = 0;

        json_array_foreach(json_object_get(body, "searchRecords"), i, rec)
        {
                const char *type =
                    json_string_value(json_object_get(json_object_get(rec, "attributes"), "type"));
                for (size_t s = 0; type != NULL && s < CB_ARRAY_LEN(searched); s++)
                        if (strcmp(type, searched[s].type) == 0 &&
                            phone_matches(rec, searched[s].phones, e164,
                                          sf->cfg->server.default_region))
                                json_array_append_new(out, match_of(tok, type, rec));
        }
        n = json_array_size(out);
        items = n ? calloc(n, sizeof(json_t *)) : NULL;
        if (items != NULL) {
                for (i = 0; i < n; i++)
                        items[i] = json_incref(json_array_get(out, i));
                qsort(items, n, sizeof(json_t *), newest_first);
                json_array_clear(out);
                for (i = 0; i < n; i++)
                        json_array_append_new(out, items[i]);
        }
        free(items);
        return out;
}

enum cb_result sf_lookup_phone(void *self, const char *e164, json_t **matches, char *err,
                               size_t err_size)
{
        struct sf *sf = self;
        struct cb_buf q = {.max = 4096}, path = {.max = 16384};
        struct sf_answer ans;
        json_t *body = NULL;
        enum cb_result r = CB_RESULT_FAIL;

        *matches = NULL;
        if (sosl_for(e164, &q) != 0 || cb_buf_append(&q, "", 1) != 0) {
                snprintf(err, err_size, "cannot search for this number");
                goto out;
        }
        cb_buf_printf(&path, "/services/data/%s/search?q=", sf->cfg->salesforce.api_version);
        if (cb_buf_url_encode(&path, q.data) != 0 || cb_buf_append(&path, "", 1) != 0)
                goto out;
        r = sf_rest(sf, "GET", path.data, NULL, CB_CRM_PRIO_HIGH, &ans, &body, err, err_size);
        if (r == CB_RESULT_OK)
                *matches = matches_of(sf, &ans.tok, body, e164);
out:
        json_decref(body);
        cb_buf_free(&q);
        cb_buf_free(&path);
        return r;
}

enum cb_result sf_get_record(void *self, const char *type, const char *id, json_t **record,
                             char *err, size_t err_size)
{
        struct sf *sf = self;
        struct cb_buf path = {.max = 1024};
        struct sf_answer ans;
        json_t *body = NULL;
        enum cb_result r = CB_RESULT_FAIL;

        *record = NULL;
        if (type == NULL)
                type = sf_type_of_id(id);
        if (type == NULL || !cb_str_charset(id, 18, "")) {
                snprintf(err, err_size, "not a Salesforce record id: %.40s", id);
                return CB_RESULT_FAIL;
        }
        cb_buf_printf(&path, "/services/data/%s/sobjects/%s/%s", sf->cfg->salesforce.api_version,
                      type, id);
        if (cb_buf_append(&path, "", 1) != 0)
                goto out;
        r = sf_rest(sf, "GET", path.data, NULL, CB_CRM_PRIO_HIGH, &ans, &body, err, err_size);
        if (r == CB_RESULT_OK)
                *record = match_of(&ans.tok, type, body);
out:
        json_decref(body);
        cb_buf_free(&path);
        return r;
}

/* GET the Lead whose lead_external_id_field is `e164`: OK with it, FAIL when none. */
static enum cb_result lead_by_phone(struct sf *sf, const char *e164, struct sf_answer *ans,
                                    json_t **body, char *err, size_t err_size)
{
        struct cb_buf path = {.max = 1024};
        enum cb_result r = CB_RESULT_RETRY;

        cb_buf_printf(&path, "/services/data/%s/sobjects/Lead/%s/", sf->cfg->salesforce.api_version,
                      sf->cfg->salesforce.lead_external_id_field);
        if (cb_buf_url_encode(&path, e164) == 0 && cb_buf_append(&path, "", 1) == 0)
                r = sf_rest(sf, "GET", path.data, NULL, CB_CRM_PRIO_HIGH, ans, body, err, err_size);
        cb_buf_free(&path);
        return r;
}

enum cb_result sf_create_lead(void *self, const char *e164, json_t **match, char *err,
                              size_t err_size)
{
        struct sf *sf = self;
        struct sf_answer ans;
        json_t *body = NULL, *lead = NULL;
        const char *name;
        char id[CB_CRM_ID_MAX] = "";
        char last[64];
        enum cb_result r;

        *match = NULL;
        /* An existing lead is linked as it is: its name may have been edited since. */
        r = lead_by_phone(sf, e164, &ans, &body, err, err_size);
        if (r == CB_RESULT_RETRY || r == CB_RESULT_WAIT)
                goto out;
        if (r == CB_RESULT_OK) {
                cb_strlcpy(id, json_string_value(json_object_get(body, "Id")) ?: "", sizeof(id));
        } else {
                snprintf(last, sizeof(last), "Unknown caller %s", e164);
                lead = json_pack("{s:s,s:s,s:s,s:s}", "LastName", last, "Company", "Unknown",
                                 "Phone", e164, "LeadSource", "Phone Inquiry");
                r = sf_upsert(sf, "Lead", sf->cfg->salesforce.lead_external_id_field, e164, lead,
                              CB_CRM_PRIO_HIGH, id, sizeof(id), err, err_size);
                if (r != CB_RESULT_OK)
                        goto out;
                cb_info("salesforce: created Lead %s for an unknown caller", id);
        }
        /* Any answer of the org, even the 404, came with a token: its instance URL serves. */
        name = json_string_value(json_object_get(body, "Name"));
        *match =
            json_pack("{s:s,s:s,s:s,s:o}", "type", "Lead", "id", id, "name",
                      name ? name : "Unknown caller", "url", sf_record_url(&ans.tok, "Lead", id));
out:
        json_decref(body);
        json_decref(lead);
        return r;
}
