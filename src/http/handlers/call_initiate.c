/* POST /api/call/initiate: create a call and its jobs durably, then answer 202. */
#include <stdlib.h>
#include <string.h>

#include "callbridge/crypto.h"
#include "callbridge/events.h"
#include "callbridge/jobs.h"
#include "callbridge/log.h"
#include "callbridge/store_calls.h"
#include "handlers/handlers.h"

#define IDEMPOTENCY_MAX 255
#define ID_MAX          64

struct initiate {
        const char *to;
        const char *from;
        const char *crm_record_id;
        const char *direction;
        const char *provider_call_id;
        const char *idempotency_key;
        struct cb_call_request rq; /* what the request asks for ... */
        struct cb_call_plan plan;  /* ... and the call decided (src/calls/create.c) */
};

/* Ids from CRMs and providers: letters, digits, '-', '_', '.' and ':' only. */
static bool plain_id(const char *s)
{
        return cb_str_charset(s, ID_MAX, "-_.:");
}

/* The screen-pop match for the number we talk to, when Redis has it: the first one (`id`
 * NULL: the call is linked to it at once), or the one that is record `id` (the party of the
 * record the client named). Otherwise NULL: the crm.log_call job looks it up (this request
 * never waits on the CRM). */
static json_t *cached_match(struct cb_request *req, const struct initiate *in, const char *id)
{
        struct cb_crm *crm = req->env->crm;
        struct cb_lookup_result res = {0};
        const char *number =
            strcmp(in->direction, "inbound") == 0 && in->from ? in->plan.from : in->plan.to;
        json_t *match = NULL, *m;
        char err[128];
        size_t i;

        if (!(crm->ops->caps & CB_CRM_CAP_LOOKUP) ||
            (strcmp(in->direction, "inbound") == 0 && in->from == NULL))
                return NULL;
        if (cb_lookup(crm, req->env->cfg, number, true, &res, err, sizeof(err)) == CB_RESULT_OK)
                json_array_foreach(res.matches, i, m)
                {
                        const char *mid = json_string_value(json_object_get(m, "id"));
                        if (id == NULL || (mid != NULL && strcmp(mid, id) == 0)) {
                                match = json_incref(m);
                                break;
                        }
                }
        cb_lookup_result_clear(&res);
        return match;
}

/* The cached match the call was linked to, else {"id"} of the record the client named, else
 * null. Steals `match`. */
static json_t *record_view(const char *crm_record_id, json_t *match)
{
        json_t *out;

        if (match != NULL)
                return match;
        if (crm_record_id == NULL)
                return json_null();
        out = json_pack("{s:s}", "id", crm_record_id);
        return out ? out : json_null();
}

static enum MHD_Result reply_accepted(struct cb_request *req, const char *call_id,
                                      const char *status, json_t *record_take, bool replayed)
{
        json_t *body = json_pack("{s:s,s:s,s:o}", "call_id", call_id, "status", status,
                                 "crm_record", record_take ? record_take : json_null());
        if (body != NULL && replayed)
                json_object_set_new(body, "idempotent_replay", json_true());
        return cb_reply_json(req, 202, body);
}

/* Tell the agent's softphones (GET /api/events) that the call exists. Best effort: Redis down
 * means this instance's streams only (counted in metrics); the number is the agent's own, so
 * it goes in full (never into a log). */
static void publish_queued(struct cb_request *req, const char *call_id, const struct initiate *in)
{
        json_t *data = json_pack("{s:s,s:s,s:s,s:s}", "call_id", call_id, "status", "queued",
                                 "direction", in->direction, "to", in->plan.to);

        if (data != NULL)
                cb_events_publish(req->agent.name, "call_status", data);
        json_decref(data);
}

/* Validate and normalise the body into `in`. True when it was refused (a 4xx queued,
 * returned through `ret`). */
static bool bad_body(struct cb_request *req, struct initiate *in, enum MHD_Result *ret)
{
        const struct cb_json_field fields[] = {
            {.name = "to", .type = CB_JSON_STRING, .required = true, .max_len = 64, .out = &in->to},
            {.name = "from", .type = CB_JSON_STRING, .max_len = 64, .out = &in->from},
            {.name = "crm_record_id",
             .type = CB_JSON_STRING,
             .max_len = ID_MAX,
             .out = &in->crm_record_id},
            {.name = "direction",
             .type = CB_JSON_ENUM,
             .max_len = 16,
             .choices = "outbound|inbound",
             .out = &in->direction},
            {.name = "provider_call_id",
             .type = CB_JSON_STRING,
             .max_len = ID_MAX,
             .out = &in->provider_call_id},
            {.name = "idempotency_key",
             .type = CB_JSON_STRING,
             .max_len = IDEMPOTENCY_MAX,
             .out = &in->idempotency_key},
            CB_JSON_END,
        };
        const char *header = cb_request_header(req, "Idempotency-Key");
        const char *bad = NULL;
        enum cb_err err;

        in->direction = "outbound";
        err = cb_json_parse_fields(req->json, fields, &bad);
        if (err == CB_ERR_MISSING_FIELD) {
                *ret = cb_reply_error(req, err, "field \"%s\" is required", bad);
                return true;
        }
        if (err != CB_ERR_NONE) {
                *ret = cb_reply_error(req, err, "field \"%s\" has the wrong type or value", bad);
                return true;
        }
        if (header != NULL) {
                if (header[0] == '\0' || strlen(header) > IDEMPOTENCY_MAX ||
                    (in->idempotency_key != NULL && strcmp(header, in->idempotency_key) != 0)) {
                        *ret = cb_reply_error(req, CB_ERR_INVALID_FIELD,
                                              "Idempotency-Key must be 1-255 characters and "
                                              "match idempotency_key when both are given");
                        return true;
                }
                in->idempotency_key = header;
        }
        if (in->idempotency_key != NULL && in->idempotency_key[0] == '\0') {
                *ret = cb_reply_error(req, CB_ERR_INVALID_FIELD, "idempotency_key is empty");
                return true;
        }
        if ((in->crm_record_id != NULL && !plain_id(in->crm_record_id)) ||
            (in->provider_call_id != NULL && !plain_id(in->provider_call_id))) {
                *ret = cb_reply_error(req, CB_ERR_INVALID_FIELD,
                                      "ids may hold only letters, digits and - _ . :");
                return true;
        }
        in->rq = (struct cb_call_request){
            .origin = CB_CALL_ORIGIN_API,
            .agent = req->agent.name,
            .to = in->to,
            .from = in->from,
            .region = req->env->cfg->server.default_region,
            .crm_record_id = in->crm_record_id,
            .provider_call_id = in->provider_call_id,
        };
        /* "outbound|inbound", checked above */
        cb_calls_direction_parse(in->direction, &in->rq.direction);
        switch (cb_calls_plan(&in->rq, &in->plan)) {
        case CB_CALL_PLAN_BAD_TO:
                *ret = cb_reply_error(req, CB_ERR_INVALID_PHONE,
                                      "\"to\" is not a phone number we can dial");
                return true;
        case CB_CALL_PLAN_BAD_FROM:
                *ret = cb_reply_error(req, CB_ERR_INVALID_PHONE, "\"from\" is not a phone number");
                return true;
        case CB_CALL_PLAN_OK:
                break;
        }
        return false;
}

/* A request's state while its call waits for the group commit; freed with the request. */
struct initiate_ctx {
        struct initiate in;
        struct cb_call_new c;
        struct cb_call_item item;
        char id[CB_UUID_LEN + 1];
        json_t *match; /* the cached screen-pop match the call is linked to, or NULL */
        json_t *party; /* the cached match of the record the client named, or NULL */
};

static void initiate_ctx_free(void *p)
{
        struct initiate_ctx *ic = p;

        json_decref(ic->match);
        json_decref(ic->party);
        free(ic);
}

/* Back on the connection's thread: 202 for a new call or a replay, 409, or 503. */
static enum MHD_Result finish(struct cb_request *req)
{
        struct initiate_ctx *ic = req->ctx;
        char existing[CB_UUID_LEN + 1];
        bool same = true;
        enum cb_qs qs = ic->item.qs;
        enum MHD_Result ret;
        json_t *call = NULL;

        if (qs < 0)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        if (ic->item.created) {
                json_t *match = ic->match;

                ic->match = NULL; /* the workers were woken once for the batch (intake_committed) */
                publish_queued(req, ic->id, &ic->in);
                return reply_accepted(req, ic->id, "queued",
                                      record_view(ic->c.crm_record_id, match), false);
        }
        /* A collision (an idempotent replay or a conflict): rare, answered on its own. */
        qs = cb_call_batcher_existing(req->env->batcher, &ic->c, existing, &same);
        if (qs < 0)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        if (!same)
                return cb_reply_error(req, CB_ERR_IDEMPOTENCY_CONFLICT, NULL);
        /* A replay answers with the call as it is now. */
        {
                struct cb_db *db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
                if (db == NULL || cb_store_call_get_json(db, existing, NULL, &call) < 0)
                        call = NULL;
                cb_db_release(&db);
        }
        ret = reply_accepted(
            req, existing, call ? json_string_value(json_object_get(call, "status")) : "queued",
            record_view(json_string_value(json_object_get(call, "crm_record_id")), NULL), true);
        json_decref(call);
        return ret;
}

/* On the batcher thread, once per committed batch: wake the job workers, and tell them how
 * busy the intake is (cb_jobs_intake). */
static void intake_committed(void *jobs, size_t created)
{
        cb_jobs_intake(jobs, created);
}

/* Validates, then parks the request until the group commit has the call: many initiates in
 * flight share one statement and one WAL flush without a thread each. */
enum MHD_Result cb_handle_call_initiate(struct cb_request *req)
{
        struct initiate_ctx *ic = calloc(1, sizeof(*ic));
        struct initiate *in;
        struct cb_call_new *c;
        enum MHD_Result ret;

        if (ic == NULL)
                return cb_reply_error(req, CB_ERR_INTERNAL, NULL);
        req->ctx = ic;
        req->ctx_free = initiate_ctx_free;
        in = &ic->in;
        c = &ic->c;
        if (bad_body(req, in, &ret))
                return ret;
        if (in->crm_record_id == NULL)
                ic->match = cached_match(req, in, NULL);
        else
                ic->party = cached_match(req, in, in->crm_record_id);
        cb_uuid_v4(ic->id);
        cb_store_call_new_planned(c, ic->id, &in->rq, &in->plan);
        if (ic->match != NULL)
                c->crm_record_id = json_string_value(json_object_get(ic->match, "id"));
        cb_store_call_new_party(c, ic->match ? ic->match : ic->party);
        c->telephony = req->env->tel->ops->name;
        c->crm = req->env->crm->ops->name;
        c->idempotency_key = in->idempotency_key;
        /* Woken on the batcher thread once the call is committed (or not). */
        ic->item = (struct cb_call_item){.call = c,
                                         .done = cb_request_wake,
                                         .arg = req,
                                         .committed = intake_committed,
                                         .committed_arg = req->env->jobs};
        ret = cb_request_park(req, finish);
        if (cb_call_batcher_submit(req->env->batcher, &ic->item) != 0)
                cb_request_wake(req); /* out of memory: item.qs is an error, finish says 503 */
        return ret;
}
