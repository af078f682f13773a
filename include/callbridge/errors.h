/* The errors a client can see (enum cb_err): modules outside http/ return them, and the
 * registry in src/http/errors.c gives each its code, HTTP status and message. */
#ifndef CALLBRIDGE_ERRORS_H
#define CALLBRIDGE_ERRORS_H

enum cb_err {
        CB_ERR_MALFORMED_JSON,
        CB_ERR_INVALID_BODY,
        CB_ERR_MISSING_FIELD,
        CB_ERR_INVALID_FIELD,
        CB_ERR_INVALID_PHONE,
        CB_ERR_INVALID_CURSOR,
        CB_ERR_INVALID_QUERY,
        CB_ERR_UNAUTHORIZED,
        CB_ERR_FORBIDDEN,
        CB_ERR_NOT_FOUND,
        CB_ERR_ROUTE_NOT_FOUND,
        CB_ERR_METHOD_NOT_ALLOWED,
        CB_ERR_IDEMPOTENCY_CONFLICT,
        CB_ERR_PAYLOAD_TOO_LARGE,
        CB_ERR_URI_TOO_LONG,
        CB_ERR_UNSUPPORTED_MEDIA_TYPE,
        CB_ERR_RATE_LIMITED,
        CB_ERR_TOO_MANY_STREAMS,
        CB_ERR_NOT_READY,
        CB_ERR_DB_UNAVAILABLE,
        CB_ERR_UPSTREAM_UNAVAILABLE,
        CB_ERR_MALFORMED_FORM,
        CB_ERR_MISSING_SIGNATURE,
        CB_ERR_BAD_SIGNATURE,
        CB_ERR_STORAGE_UNAVAILABLE,
        CB_ERR_GONE,
        CB_ERR_RANGE_NOT_SATISFIABLE,
        CB_ERR_INTERNAL,
        CB_ERR_TOKENS_NOT_CONFIGURED,
        CB_ERR_JOB_NOT_DEAD,
        CB_ERR_BAD_REQUEST,
        CB_ERR_INVALID_DISPOSITION,
        CB_ERR_AGENT_EXISTS,
        CB_ERR_CRM_USER_ID_TAKEN,
        CB_ERR_INVALID_CALL_STATE,
        CB_ERR_CONTROL_UNSUPPORTED,
        CB_ERR_STATUS_AUTOMATIC,
        CB_ERR_UNKNOWN_AGENT,
        CB_ERR_CSRF_FAILED,
        CB_ERR_COUNT, /* the registry's size, not an error */
        CB_ERR_NONE   /* no error: what a check returns when the request may go on */
};

struct cb_err_info {
        const char *code;    /* snake_case, stable: clients switch on it */
        unsigned int status; /* HTTP status */
        const char *message; /* default human text */
};

/* Never NULL: CB_ERR_COUNT, CB_ERR_NONE and values out of range give "internal". */
const struct cb_err_info *cb_err_info(enum cb_err err);

#endif
