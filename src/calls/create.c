/* A new call, decided from what a handler knows: direction, agent, normalised numbers, first
 * status and jobs, and the request hash that tells an idempotent replay from a conflict. */
#include <string.h>

#include "callbridge/calls.h"
#include "callbridge/crypto.h"
#include "callbridge/phone.h"

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
