/* The error registry. Codes are part of the API: never rename one. */
#include "callbridge/errors.h"

static const struct cb_err_info registry[CB_ERR_COUNT] = {
    [CB_ERR_MALFORMED_JSON] = {"malformed_json", 400, "the body is not valid JSON"},
    [CB_ERR_INVALID_BODY] = {"invalid_body", 400, "the body must be a JSON object"},
    [CB_ERR_MISSING_FIELD] = {"missing_field", 422, "a required field is missing"},
    [CB_ERR_INVALID_FIELD] = {"invalid_field", 422, "a field has the wrong type or value"},
    [CB_ERR_INVALID_PHONE] = {"invalid_phone", 422, "the phone number cannot be parsed"},
    [CB_ERR_INVALID_CURSOR] = {"invalid_cursor", 400, "the cursor is not one we issued"},
    [CB_ERR_INVALID_QUERY] = {"invalid_query", 400, "a query parameter is invalid"},
    [CB_ERR_UNAUTHORIZED] = {"unauthorized", 401, "missing or invalid bearer token"},
    [CB_ERR_FORBIDDEN] = {"forbidden", 403, "not allowed"},
    [CB_ERR_NOT_FOUND] = {"not_found", 404, "no such object"},
    [CB_ERR_ROUTE_NOT_FOUND] = {"route_not_found", 404, "no such endpoint"},
    [CB_ERR_METHOD_NOT_ALLOWED] = {"method_not_allowed", 405,
                                   "method not allowed on this endpoint"},
    [CB_ERR_IDEMPOTENCY_CONFLICT] = {"idempotency_conflict", 409,
                                     "the idempotency key was used for a different request"},
    [CB_ERR_PAYLOAD_TOO_LARGE] = {"payload_too_large", 413, "the body is too large"},
    [CB_ERR_URI_TOO_LONG] = {"uri_too_long", 414, "the request target is too long"},
    [CB_ERR_UNSUPPORTED_MEDIA_TYPE] = {"unsupported_media_type", 415, "unsupported Content-Type"},
    [CB_ERR_RATE_LIMITED] = {"rate_limited", 429, "too many requests"},
    [CB_ERR_TOO_MANY_STREAMS] = {"too_many_streams", 429,
                                 "this agent has too many event streams open"},
    [CB_ERR_NOT_READY] = {"not_ready", 503, "not ready"},
    [CB_ERR_DB_UNAVAILABLE] = {"db_unavailable", 503, "the database is unavailable, retry"},
    [CB_ERR_UPSTREAM_UNAVAILABLE] = {"upstream_unavailable", 502,
                                     "an upstream service (CRM) did not answer usably"},
    [CB_ERR_MALFORMED_FORM] = {"malformed_form", 400, "the form body cannot be decoded"},
    [CB_ERR_MISSING_SIGNATURE] = {"missing_signature", 400,
                                  "the X-Twilio-Signature header is missing"},
    [CB_ERR_BAD_SIGNATURE] = {"invalid_signature", 403, "the request signature does not match"},
    [CB_ERR_STORAGE_UNAVAILABLE] = {"storage_unavailable", 503,
                                    "the recording store is unavailable, retry"},
    [CB_ERR_GONE] = {"gone", 410, "deleted by the retention policy"},
    [CB_ERR_RANGE_NOT_SATISFIABLE] = {"range_not_satisfiable", 416,
                                      "the requested range is outside the recording"},
    [CB_ERR_INTERNAL] = {"internal", 500, "internal error"},
    [CB_ERR_JOB_NOT_DEAD] = {"job_not_dead", 409, "only a dead job can be retried"},
    [CB_ERR_TOKENS_NOT_CONFIGURED] = {"softphone_tokens_not_configured", 503,
                                      "softphone tokens are not configured on this server"},
    [CB_ERR_BAD_REQUEST] = {"bad_request", 400, "the request is malformed"},
    [CB_ERR_INVALID_DISPOSITION] = {"invalid_disposition", 422,
                                    "the disposition is not one of [agents] dispositions"},
    [CB_ERR_AGENT_EXISTS] = {"agent_exists", 409, "an agent with this name exists"},
    [CB_ERR_CRM_USER_ID_TAKEN] = {"crm_user_id_taken", 409, "another agent has this CRM user id"},
    [CB_ERR_INVALID_CALL_STATE] = {"invalid_call_state", 409,
                                   "the call is not in a state that allows this action"},
    [CB_ERR_CONTROL_UNSUPPORTED] = {"call_control_unsupported", 409,
                                    "the call's telephony provider cannot control calls"},
    [CB_ERR_STATUS_AUTOMATIC] =
        {"status_automatic", 422,
         "busy and wrap_up follow the agent's calls; a rep cannot set them"},
    [CB_ERR_UNKNOWN_AGENT] = {"unknown_agent", 422, "there is no agent of that name"},
    [CB_ERR_CSRF_FAILED] = {"csrf_failed", 403,
                            "a signed-in browser's write must carry its X-CSRF-Token"},
};

const struct cb_err_info *cb_err_info(enum cb_err err)
{
        if ((unsigned)err >= CB_ERR_COUNT)
                return &registry[CB_ERR_INTERNAL];
        return &registry[err];
}
