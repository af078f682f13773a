/* The call record: a new one planned from what a handler knows (direction, agent, normalised
 * numbers, first status and jobs, and the request hash that tells an idempotent replay from a
 * conflict), who may own one, and the record as JSON — the shape the API's views give
 * (store/calls.c's CALL_FIELDS), for what matches a call's fields by name (NLP rules). */
#include <string.h>

#include "callbridge/calls.h"
#include "callbridge/crypto.h"
#include "callbridge/phone.h"

bool cb_calls_agent_valid(const char *identity)
{
        return identity != NULL && cb_str_charset(identity, CB_AGENT_MAX - 1, "@._-");
}

/* A string, or null when unknown (""). */
static json_t *str_or_null(const char *s)
{
        return s[0] != '\0' ? json_string(s) : json_null();
}

/* A time as cb_ts_format writes it, or null when it has not happened (0). */
static json_t *ts_or_null(int64_t us)
{
        char ts[CB_TS_LEN + 1];

        if (us <= 0)
                return json_null();
        cb_ts_format(us, ts);
        return json_string(ts);
}

json_t *cb_calls_to_json(const struct cb_call *call)
{
        const char *status = cb_calls_status_name(call->status);
        const char *direction = cb_calls_direction_name(call->direction);

        if (status == NULL || direction == NULL)
                return NULL;
        /* json_pack's "o" steals each reference, also when packing fails. */
        return json_pack(
            "{s:s,s:s,s:s,s:s,s:o,s:s,s:o,s:{s:s,s:o},s:{s:s,s:s,s:o},s:o,s:o,s:o,s:o,s:o,s:o,s:o,"
            "s:o}",
            "call_id", call->id, "agent", call->agent, "direction", direction, "to", call->to,
            "from", str_or_null(call->from), "status", status, "crm_record_id",
            str_or_null(call->crm_record_id), "telephony", "provider", call->telephony, "call_id",
            str_or_null(call->provider_call_id), "crm", "provider", call->crm, "state",
            call->crm_state, "log_id", str_or_null(call->crm_log_id), "duration_s",
            call->duration_s >= 0 ? json_integer(call->duration_s) : json_null(), "disposition",
            str_or_null(call->disposition), "notes", str_or_null(call->notes), "disposed_at",
            ts_or_null(call->disposed_us), "answered_at", ts_or_null(call->answered_us), "ended_at",
            ts_or_null(call->ended_us), "created_at", ts_or_null(call->created_us), "updated_at",
            ts_or_null(call->updated_us));
}

/* Everything that makes two API requests "the same" for idempotency: the normalised numbers,
 * the direction and the ids the client gave. */
static void api_hash(const struct cb_call_request *rq, const struct cb_call_plan *p,
                     unsigned char out[32])
{
        struct cb_buf b = {.max = 4096};
        const char *parts[] = {p->to, p->from, cb_calls_direction_name(p->direction),
                               rq->crm_record_id ? rq->crm_record_id : "",
                               rq->provider_call_id ? rq->provider_call_id : ""};

        for (size_t i = 0; i < CB_ARRAY_LEN(parts); i++) {
                cb_buf_puts(&b, parts[i]);
                cb_buf_append(&b, "\n", 1);
        }
        /* Out of memory leaves b.data NULL: the hash of nothing, a conflict at worst. */
        cb_sha256(b.data ? b.data : "", b.len, out);
        cb_buf_free(&b);
}

enum cb_call_plan_result cb_calls_plan(const struct cb_call_request *rq, struct cb_call_plan *out)
{
        bool api = rq->origin == CB_CALL_ORIGIN_API;
        const char *sid = rq->provider_call_id ? rq->provider_call_id : "";

        memset(out, 0, sizeof(*out));
        out->direction = rq->direction;
        out->agent = rq->agent ? rq->agent : rq->fallback_agent ? rq->fallback_agent : "unassigned";
        out->created = cb_calls_created(rq->origin, rq->direction);
        if (rq->to == NULL || cb_phone_to_e164(rq->to, rq->region, out->to, sizeof(out->to)) != 0) {
                if (api)
                        return CB_CALL_PLAN_BAD_TO;
                cb_strlcpy(out->to, "unknown", sizeof(out->to));
        }
        out->has_from = rq->from != NULL &&
                        cb_phone_to_e164(rq->from, rq->region, out->from, sizeof(out->from)) == 0;
        if (!out->has_from) {
                out->from[0] = '\0';
                if (api && rq->from != NULL)
                        return CB_CALL_PLAN_BAD_FROM;
        }
        if (api)
                api_hash(rq, out, out->request_hash);
        else /* the provider's call id is the call: a second report of it is the same */
                cb_sha256(sid, strlen(sid), out->request_hash);
        return CB_CALL_PLAN_OK;
}
