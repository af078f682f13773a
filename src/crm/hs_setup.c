/* `callbridge hubspot setup|check`: the custom properties callbridge writes, checked and (setup)
 * created. Creating is idempotent: a property made meanwhile answers 409, which counts as
 * there. */
#include <stdio.h>
#include <string.h>

#include "callbridge/crm_hubspot.h"
#include "callbridge/log.h"
#include "hs.h"

#define GROUP "callbridge"

/* A custom property; `key` names the [hubspot] setting that holds its name, if any. */
struct wanted {
        const char *object, *name, *label, *type, *field;
        bool unique;
};

static const char *const objects[] = {"calls", "tasks", "notes", "contacts"};

/* Every custom property, the configurable names read from `cfg`. */
static size_t wanted_list(const struct cb_config *cfg, struct wanted *w, size_t max)
{
        const struct wanted all[] = {
            {"calls", cfg->hubspot.call_id_property, "Callbridge call id", "string", "text", true},
            {"tasks", cfg->hubspot.task_key_property, "Callbridge follow-up key", "string", "text",
             true},
            {"notes", cfg->hubspot.note_key_property, "Callbridge note key", "string", "text",
             true},
            {"contacts", "callbridge_phone", "Callbridge caller number (E.164)", "string", "text",
             true},
            {"calls", "callbridge_recording_seconds", "Recording seconds", "number", "number",
             false},
            {"calls", "callbridge_recording_bytes", "Recording bytes", "number", "number", false},
            {"calls", "callbridge_sentiment", "Sentiment (-1 to 1)", "number", "number", false},
            {"calls", "callbridge_sentiment_label", "Sentiment", "string", "text", false},
            {"calls", "callbridge_intent", "Intent", "string", "text", false},
            {"calls", "callbridge_tags", "Tags", "string", "text", false},
            {"calls", "callbridge_keywords", "Keywords", "string", "text", false},
            {"calls", "callbridge_summary", "Call summary", "string", "textarea", false},
        };
        size_t n = CB_ARRAY_LEN(all) < max ? CB_ARRAY_LEN(all) : max;

        memcpy(w, all, n * sizeof(*w));
        return n;
}

/* POST the property group (once per object; failures ignored: the property says). */
static void make_group(struct hs *hs, const char *object)
{
        char path[128], err[256];
        struct hs_answer ans = {0};
        json_t *body = json_pack("{s:s,s:s}", "name", GROUP, "label", "callbridge"), *out = NULL;

        snprintf(path, sizeof(path), "/crm/v3/properties/%s/groups", object);
        if (body != NULL &&
            hs_rest(hs, "POST", path, body, CB_CRM_PRIO_HIGH, &ans, &out, err, sizeof(err)) !=
                CB_RESULT_OK &&
            ans.status != 409)
                cb_debug("hubspot setup: group on %s: %s", object, err);
        json_decref(out);
        json_decref(body);
}

/* POST the property: "created", "exists" (409) or NULL with `err`. */
static const char *create(struct hs *hs, const struct wanted *w, char *err, size_t err_size)
{
        char path[128];
        struct hs_answer ans = {0};
        json_t *out = NULL;
        json_t *body = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b}", "name", w->name, "label", w->label,
                                 "type", w->type, "fieldType", w->field, "groupName", GROUP,
                                 "hasUniqueValue", w->unique);
        enum cb_result r;

        snprintf(path, sizeof(path), "/crm/v3/properties/%s", w->object);
        r = body ? hs_rest(hs, "POST", path, body, CB_CRM_PRIO_HIGH, &ans, &out, err, err_size)
                 : CB_RESULT_RETRY;
        json_decref(out);
        json_decref(body);
        if (r == CB_RESULT_OK)
                return "created";
        return ans.status == 409 ? "exists" : NULL;
}

int cb_hubspot_setup(const struct cb_config *cfg, bool make, FILE *out)
{
        struct wanted w[16];
        size_t n = wanted_list(cfg, w, CB_ARRAY_LEN(w));
        struct hs *hs = hs_open(cfg);
        bool grouped[CB_ARRAY_LEN(objects)] = {false};
        char err[512];
        int missing = 0;

        if (hs == NULL) {
                fprintf(out, "hubspot: cannot start (see the log: a secret file?)\n");
                return 1;
        }
        for (size_t i = 0; i < CB_ARRAY_LEN(objects); i++)
                if (hs_schema_load(hs, objects[i], err, sizeof(err)) != CB_RESULT_OK) {
                        fprintf(out, "hubspot: cannot read the properties of %s: %s\n", objects[i],
                                err);
                        hs_free(hs);
                        return 1;
                }
        for (size_t i = 0; i < n; i++) {
                const char *what = "ok";
                if (hs_schema_has(hs, w[i].object, w[i].name)) {
                        if (w[i].unique && !hs_schema_unique(hs, w[i].object, w[i].name)) {
                                what = "not unique (delete it and run setup again)";
                                missing++;
                        }
                } else if (!make) {
                        what = "missing";
                        missing++;
                } else {
                        for (size_t o = 0; o < CB_ARRAY_LEN(objects); o++)
                                if (strcmp(objects[o], w[i].object) == 0 && !grouped[o]) {
                                        make_group(hs, objects[o]);
                                        grouped[o] = true;
                                }
                        what = create(hs, &w[i], err, sizeof(err));
                        if (what == NULL) {
                                fprintf(out, "%-9s %-30s failed: %s\n", w[i].object, w[i].name,
                                        err);
                                missing++;
                                continue;
                        }
                }
                fprintf(out, "%-9s %-30s %s%s\n", w[i].object, w[i].name, what,
                        w[i].unique ? " (unique)" : "");
        }
        fprintf(out, "%d of %zu properties %s\n", missing, n,
                missing ? "missing" : "missing: the account is ready");
        hs_free(hs);
        return missing ? 1 : 0;
}
