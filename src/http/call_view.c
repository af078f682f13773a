/* One call as GET /api/calls/{id} and GET /api/agent/call show it. */
#include <stdio.h>
#include <stdlib.h>

#include "call_view.h"
#include "callbridge/store_calls.h"

/* Each recording's stable link, as the CRM has it: <public_url>/r/<recording id>. */
static void add_links(struct cb_request *req, json_t *call)
{
        size_t i;
        json_t *rec;
        char url[1024];

        json_array_foreach(json_object_get(call, "recordings"), i, rec)
        {
                snprintf(url, sizeof(url), "%s/r/%s", req->env->cfg->server.public_url,
                         json_string_value(json_object_get(rec, "recording_id")));
                json_object_set_new(rec, "link", json_string(url));
        }
}

/* Each transcript's text, segments and summary, from its sealed document (only an agent who may
 * see the call gets here); the storage key stays inside. A document that cannot be read is
 * reported in place, the rest of the call still answers. */
static void add_transcripts(struct cb_request *req, json_t *call)
{
        json_t *t, *doc;
        size_t i, len;
        char err[256];

        json_array_foreach(json_object_get(call, "transcripts"), i, t)
        {
                const char *key = json_string_value(json_object_get(t, "storage_key"));
                char *text = NULL;
                if (key != NULL && !json_is_true(json_object_get(t, "deleted")))
                        text = cb_rec_doc_get(req->env->rec, key, &len, err, sizeof(err));
                doc = text ? json_loadb(text, len, 0, NULL) : NULL;
                free(text);
                json_object_del(t, "storage_key");
                if (doc == NULL) {
                        json_object_set_new(t, "text", json_null());
                        continue;
                }
                json_object_set(t, "text", json_object_get(json_object_get(doc, "result"), "text"));
                json_object_set(t, "clean_text", json_object_get(doc, "clean_text"));
                json_object_set(t, "segments",
                                json_object_get(json_object_get(doc, "result"), "segments"));
                json_object_set(t, "summary", json_object_get(doc, "summary"));
                json_decref(doc);
        }
}

/* What the agent's call control has in effect ("controls", as the control endpoints answer
 * it): ONE_RESULT, or a negative qs. */
static enum cb_qs add_controls(struct cb_request *req, struct cb_db *db, const char *id,
                               json_t *call)
{
        struct cb_call_controls c;
        long version;
        enum cb_qs qs = cb_store_controls_load(db, id, &c, &version);

        if (qs == CB_QS_ONE_RESULT)
                json_object_set_new(call, "controls",
                                    cb_calls_controls_to_json(&c, req->env->cfg->twilio.record));
        return qs;
}

enum cb_qs cb_call_view(struct cb_request *req, struct cb_db *db, const char *id, const char *agent,
                        json_t **out)
{
        json_t *call = NULL;
        enum cb_qs qs = cb_store_call_get_json(db, id, agent, &call);

        if (qs == CB_QS_ONE_RESULT)
                qs = add_controls(req, db, id, call);
        *out = NULL;
        if (qs != CB_QS_ONE_RESULT) {
                json_decref(call);
                return qs;
        }
        *out = call;
        return qs;
}

void cb_call_view_finish(struct cb_request *req, json_t *call)
{
        add_links(req, call);
        add_transcripts(req, call);
}
