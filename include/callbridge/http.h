/* The HTTP server: libmicrohttpd glue (src/http/server.c), one static route table
 * (src/http/routes.c), reply helpers, JSON field specs, bearer auth and request metrics.
 * Handlers live one per file in src/http/handlers/. */
#ifndef CALLBRIDGE_HTTP_H
#define CALLBRIDGE_HTTP_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "callbridge/config.h"
#include "callbridge/crm.h"
#include "callbridge/db.h"
#include "callbridge/errors.h"
#include "callbridge/form.h"
#include "callbridge/jobs.h"
#include "callbridge/recordings.h"
#include "callbridge/store_batcher.h"
#include "callbridge/stt.h"
#include "callbridge/telephony.h"
#include "callbridge/util.h"

#define CB_URI_MAX      8192 /* longer request targets get 414 */
#define CB_ROUTE_PARAMS 2
#define CB_PARAM_MAX    128
#define CB_DB_WAIT_MS   5000

/* Everything a handler may use. Owned by main; outlives the server. */
struct cb_http_env {
        struct cb_config *cfg;
        struct cb_db_pool *pool;
        struct cb_jobs *jobs;
        struct cb_batcher *batcher;        /* new calls */
        struct cb_batcher *status_batcher; /* telephony status callbacks */
        struct cb_crm *crm;
        struct cb_telephony *tel;
        struct cb_recordings *rec;
        struct cb_stt *stt;
};

struct cb_agent {
        char name[CB_AGENT_MAX];
        bool admin;
        char bearer[24]; /* which token: "k<key id>" or "s<16 hex of a session's hash>" */
};

struct cb_request;
typedef enum MHD_Result (*cb_handler_fn)(struct cb_request *req);

/* NONE: no body. JSON: a JSON object is required (415 for another type, 400 when empty).
 * JSON_OPTIONAL: no body at all leaves req->json NULL; a body must be a JSON object sent as
 * application/json, as for JSON. WEBHOOK: a telephony webhook, form-encoded (decoded into
 * req->form) or JSON, whose signature header is checked (src/http/webhook_sig.c) before the
 * handler runs. STREAM: the route's cb_stream_ops see the body as it arrives (uploads of any
 * size in constant memory); the handler runs once it has all arrived. */
enum cb_body_kind {
        CB_BODY_NONE,
        CB_BODY_JSON,
        CB_BODY_JSON_OPTIONAL,
        CB_BODY_WEBHOOK,
        CB_BODY_STREAM
};

/* A streamed body (CB_BODY_STREAM). Every call runs on the request's libmicrohttpd thread. */
struct cb_stream_ops {
        /* After the common checks (size cap on Content-Length, auth), before any body byte:
         * set up req->stream, or queue a refusal and return true. */
        bool (*begin)(struct cb_request *req, enum MHD_Result *ret);
        /* The next body bytes. CB_ERR_NONE to go on, or the error to answer at once with
         * `msg` (the rest of the body is then read and dropped). */
        enum cb_err (*data)(struct cb_request *req, const char *data, size_t len, char *msg,
                            size_t msg_size);
        /* When the request ends, however it ends, if begin set req->stream: undo whatever was
         * not committed and free req->stream. */
        void (*cleanup)(struct cb_request *req);
        /* The body size cap (413 on Content-Length, and again while it streams). */
        size_t (*limit)(const struct cb_config *cfg);
};

struct cb_route {
        const char *method;  /* "GET", "POST" (GET routes also answer HEAD) */
        const char *pattern; /* literal segments and "{}" wildcards: "/api/calls/{}" */
        cb_handler_fn handler;
        enum cb_body_kind body;
        size_t max_body;                    /* 0: [server] max_body_bytes */
        bool auth;                          /* Bearer API key required */
        const struct cb_stream_ops *stream; /* CB_BODY_STREAM routes only */
};

extern const struct cb_route cb_routes[];
extern const size_t cb_routes_count;

/* Per-request state, created when the request line arrives and freed when libmicrohttpd
 * reports completion. Owns everything the request allocated. */
struct cb_request {
        struct MHD_Connection *conn;
        struct cb_http_env *env;
        const struct cb_route *route; /* NULL until matched */
        const char *method;
        char *raw_target; /* the request target exactly as received */
        char request_id[65];
        char params[CB_ROUTE_PARAMS][CB_PARAM_MAX];
        char allow[64]; /* methods of the path, for 405 */
        struct cb_buf body;
        json_t *json;                /* the parsed body of CB_BODY_JSON routes */
        struct cb_form form;         /* the decoded body of form-encoded CB_BODY_WEBHOOK routes */
        void *stream;                /* CB_BODY_STREAM: the route's state (its ops free it) */
        const char *reply_header[2]; /* one extra header for the next reply (static strings) */
        uint64_t streamed;           /* CB_BODY_STREAM: body bytes seen */
        enum cb_err deferred; /* a refusal to answer once the body is in (CB_ERR_NONE: none) */
        char deferred_msg[256];
        struct cb_agent agent; /* set when the route requires auth */
        /* Cookie-authenticated (src/http/session.c): the hex SHA-256 of the session's token;
         * "" for a bearer or no credentials. */
        char session[65];
        char *set_cookie; /* a Set-Cookie value for the reply (malloc'd, freed with req) */
        char *location;   /* a Location for the reply (malloc'd, freed with req) */
        int64_t start_us;
        unsigned int status;
        bool started;
        bool replied;
        /* Parked (cb_request_park): finishes the request once woken. */
        cb_handler_fn resume;
        /* A handler's state across a park, freed with ctx_free when the request ends. */
        void *ctx;
        void (*ctx_free)(void *ctx);
        struct cb_http *http;
};

/* Route matching, pure (src/http/router.c). Returns the route, or NULL with *status 404
 * or 405 (then `allow` lists the path's methods). Wildcard segments are copied into
 * `params` (each < CB_PARAM_MAX bytes, else no match). */
const struct cb_route *cb_router_match(const struct cb_route *routes, size_t n, const char *method,
                                       const char *path, char params[CB_ROUTE_PARAMS][CB_PARAM_MAX],
                                       unsigned int *status, char *allow, size_t allow_size);

/* Replies (src/http/reply.c). Each queues the response and returns MHD's verdict. */
enum MHD_Result cb_reply_json(struct cb_request *req, unsigned int status, json_t *body_take);
enum MHD_Result cb_reply_error(struct cb_request *req, enum cb_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
enum MHD_Result cb_reply_text(struct cb_request *req, unsigned int status, const char *content_type,
                              const char *text, size_t len);
/* cb_reply_error with one more header (e.g. Content-Range on a 416). */
enum MHD_Result cb_reply_error_header(struct cb_request *req, enum cb_err err, const char *name,
                                      const char *value);
/* A redirect (301, 302, 303) to `location` (copied) with an empty body. */
enum MHD_Result cb_reply_redirect(struct cb_request *req, unsigned int status,
                                  const char *location);
/* Queue a response the handler built (streams): adds Content-Type, X-Request-Id and, unless
 * set, Cache-Control: no-store. Takes `resp` (destroyed here; NULL gives MHD_NO). */
enum MHD_Result cb_reply_response(struct cb_request *req, unsigned int status,
                                  struct MHD_Response *resp, const char *content_type);
/* Park a request while its work completes elsewhere (a group commit): the connection is
 * suspended and holds no thread. Call from a handler before handing the work off, and return
 * what this returns without replying. Exactly one cb_request_wake(req) — from any thread —
 * must follow; `then` runs afterwards on the connection's thread and must reply. */
enum MHD_Result cb_request_park(struct cb_request *req, cb_handler_fn then);
/* `req` is a struct cb_request: void * so that this is a completion callback as it is
 * (cb_call_item, cb_status_item). */
void cb_request_wake(void *req);
/* Authenticate the request's bearer token or, without one, its session cookie (src/http/
 * session.c; a write then needs X-CSRF-Token: 403 csrf_failed), counted against the client's
 * address, and take from its rate limit; fills req->agent (and req->session for a cookie). False
 * when it may go on; true when a refusal (401, 429 with Retry-After, 503) was queued, with *ret the
 * value to return. */
bool cb_request_authenticate(struct cb_request *req, enum MHD_Result *ret);
/* cb_request_authenticate in two steps, for a handler that answers some refusals itself (a
 * browser sent to sign in): the check (CB_ERR_NONE, UNAUTHORIZED, CSRF_FAILED, RATE_LIMITED
 * with *retry_after_s, DB_UNAVAILABLE...), then the refusal as cb_request_authenticate
 * answers it. */
enum cb_err cb_request_auth_check(struct cb_request *req, int *retry_after_s);
enum MHD_Result cb_request_auth_refuse(struct cb_request *req, enum cb_err err, int retry_after_s);
/* A query-string argument or header; NULL when absent. Borrowed from libmicrohttpd. */
const char *cb_request_arg(struct cb_request *req, const char *name);
const char *cb_request_header(struct cb_request *req, const char *name);
/* True when the Content-Type value `ct` is the media type `type` (parameters ignored). */
bool cb_content_type_is(const char *ct, const char *type);
/* True when the If-None-Match value `list` names `etag` (a quoted strong ETag) or is "*". */
bool cb_etag_matches(const char *list, const char *etag);

/* Declarative JSON body fields (src/http/jsonspec.c). */
enum cb_json_type { CB_JSON_STRING, CB_JSON_ENUM, CB_JSON_BOOL, CB_JSON_INT };
struct cb_json_field {
        const char *name;
        enum cb_json_type type;
        bool required;
        size_t max_len;      /* strings: byte length cap */
        const char *choices; /* enums: "a|b|c" */
        void *out;           /* const char ** (borrowed from the object), bool *, json_int_t * */
};
/* Written with designated initialisers, fields at their zero left out:
 *   {.name = "to", .type = CB_JSON_STRING, .required = true, .max_len = 64, .out = &to},
 * and closed by CB_JSON_END. */
#define CB_JSON_END                                                                                \
        {                                                                                          \
                .name = NULL                                                                       \
        }
/* Fill the outputs from `obj`; JSON null counts as absent. Returns CB_ERR_NONE on success,
 * or MISSING_FIELD / INVALID_FIELD with *bad naming the field. Outputs of absent optional
 * fields are left untouched. */
enum cb_err cb_json_parse_fields(const json_t *obj, const struct cb_json_field *fields,
                                 const char **bad);

/* Bearer API keys (src/http/auth.c). */
/* Authenticate `header` (the Authorization value). Returns CB_ERR_NONE and fills `agent`,
 * UNAUTHORIZED, or DB_UNAVAILABLE when the key store cannot be asked. */
enum cb_err cb_auth_check(struct cb_http_env *env, const char *header, struct cb_agent *agent);
/* The same for a request from `peer` (may be NULL): an address past its failed attempts of
 * the minute ([auth] unauth_per_ip_per_min) gets RATE_LIMITED for any token not already
 * verified; so do session checks past [auth] session_max_checks. *retry_after_s is set
 * with RATE_LIMITED. Failures are counted against `peer`. */
enum cb_err cb_auth_check_from(struct cb_http_env *env, const char *header,
                               const struct sockaddr *peer, struct cb_agent *agent,
                               int *retry_after_s);
/* Create a key for `agent`; writes it (NUL-terminated, < 96 bytes) into `key_out`.
 * Returns 0, or -1 (logged) when the insert fails. */
int cb_auth_key_create(struct cb_db *db, const char *agent, bool admin, char key_out[96]);
/* Drop cached verifications of keys and browser sessions (e.g. after SIGHUP). */
void cb_auth_cache_clear(void);
/* Start the thread that drops revoked keys from the cache within a second and records key
 * use (last_used_at). Returns 0, or -1 (logged). */
int cb_auth_watch_start(struct cb_http_env *env);
/* Stop and join it; nothing happens when it is not running. */
void cb_auth_watch_stop(void);

/* Webhook signatures (src/http/webhook_sig.c). Before any body byte: the signature header must
 * be there (400) and the type form or JSON (415). Once the body is in: decode the form (400)
 * and check the signature over [server] public_url + the raw target (403). Returns true when
 * a reply was queued. */
bool cb_webhook_begin(struct cb_request *req, enum MHD_Result *ret);
bool cb_webhook_verify(struct cb_request *req, enum MHD_Result *ret);
/* The verified webhook's body and our URL arguments (call_id, agent), for the provider's
 * parsers (struct cb_telephony_ops parse_*). Borrowed from `req`. */
void cb_webhook_params(struct cb_request *req, struct cb_tel_params *p);
/* What became of accepted and refused webhooks, for /metrics. */
enum cb_webhook_outcome {
        CB_WH_UNSIGNED,      /* no signature header: 400 */
        CB_WH_FORGED,        /* wrong signature: 403 */
        CB_WH_ADVANCED,      /* a status that moved its call forward */
        CB_WH_RECORDED,      /* a new status that did not (out of order) */
        CB_WH_DUPLICATE,     /* a status seen before */
        CB_WH_UNKNOWN,       /* a status for a call we do not know */
        CB_WH_VOICE_TIMEOUT, /* the voice webhook answered the fallback at its deadline */
        CB_WH_COUNT
};
void cb_webhook_count(enum cb_webhook_outcome outcome);
void cb_webhook_metrics_write(struct cb_buf *out);

/* Request metrics (src/http/metrics.c). `route` NULL counts as "unmatched". */
void cb_http_metrics_observe(const struct cb_route *route, unsigned int status, int64_t us);
void cb_http_metrics_write(struct cb_buf *out);

/* The server (src/http/server.c). */
struct cb_http;
/* Bind `[server] listen` and start the thread pool. NULL (logged) on failure. */
struct cb_http *cb_http_start(struct cb_http_env *env);
/* Stop accepting, wait up to `drain_s` for in-flight requests, stop. Clears *http. */
void cb_http_stop(struct cb_http **http, long drain_s);

#endif
