/* libmicrohttpd glue: request contexts, the checks every route shares (target length, route,
 * body size and type, auth, JSON parsing), the access log and graceful drain. */
#include <limits.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "access_log.h"
#include "callbridge/crypto.h"
#include "callbridge/http.h"
#include "callbridge/log.h"
#include "conn_guard.h"
#include "ratelimit.h"
#include "session.h"
#include "voice_route.h"

struct cb_http {
        struct MHD_Daemon *daemon;
        struct cb_http_env *env;
        atomic_long inflight;
        atomic_long parked;   /* requests between cb_request_park and the end of their wake */
        atomic_bool stopping; /* cb_http_stop began: new requests are refused, never parked */
};

static bool sane_request_id(const char *v)
{
        return cb_str_charset(v, 64, "._-");
}

/* Called when the request line arrives: its return value is the request context. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
        struct cb_http *http = cls;
        struct cb_request *req = calloc(1, sizeof(*req));

        (void)conn;
        if (req == NULL)
                return NULL;
        req->env = http->env;
        req->http = http;
        req->deferred = CB_ERR_NONE;
        req->start_us = cb_mono_us();
        req->raw_target = strdup(uri ? uri : "");
        atomic_fetch_add(&http->inflight, 1);
        /* A request that arrives on a kept-alive connection while the server stops gets 503
         * (the client retries elsewhere; Twilio retries its webhooks) and never parks: a
         * connection suspended after the drain would abort MHD_stop_daemon. Counted in
         * `inflight` before the flag is read, so the drain either sees it or it sees the flag. */
        if (atomic_load(&http->stopping)) {
                req->deferred = CB_ERR_NOT_READY;
                cb_strlcpy(req->deferred_msg, "the server is shutting down",
                           sizeof(req->deferred_msg));
        }
        return req;
}

static void access_log(struct cb_request *req, int64_t us)
{
        char target[512];

        if (!cb_log_enabled(CB_LOG_INFO))
                return; /* nothing is built for a line that would be dropped */
        cb_log_mask_target(req->raw_target ? req->raw_target : "", target, sizeof(target));
        cb_access_log_write(&(struct cb_access_line){
            .method = req->method ? req->method : "",
            .target = target,
            .status = (int)req->status,
            .ms = (double)us / 1000.0,
            .request_id = req->request_id,
            .route = req->route ? req->route->pattern : "unmatched",
            .agent = req->agent.name,
        });
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
        struct cb_http *http = cls;
        struct cb_request *req = *con_cls;
        int64_t us;

        if (req == NULL)
                return;
        cb_conn_guard_rearm(conn); /* the next request on this connection has its deadline */
        us = cb_mono_us() - req->start_us;
        if (req->started) {
                if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && req->status == 0)
                        req->status = 499; /* client went away before we answered */
                cb_http_metrics_observe(req->route, req->status, us);
                if (http->env->cfg->log.access)
                        access_log(req, us);
        }
        if (req->stream != NULL && req->route != NULL && req->route->stream != NULL)
                req->route->stream->cleanup(req);
        if (req->ctx_free != NULL)
                req->ctx_free(req->ctx);
        json_decref(req->json);
        cb_form_free(&req->form);
        cb_buf_free(&req->body);
        free(req->raw_target);
        free(req->set_cookie);
        free(req->location);
        free(req);
        *con_cls = NULL;
        atomic_fetch_sub(&http->inflight, 1);
}

bool cb_content_type_is(const char *ct, const char *type)
{
        size_t n = strlen(type);

        if (ct == NULL || strncasecmp(ct, type, n) != 0)
                return false;
        return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

struct framing {
        const char *clen; /* the first Content-Length */
        int clens;        /* Content-Length headers seen */
        int tes;          /* Transfer-Encoding headers seen */
        bool conflict;    /* two Content-Length values differ, or one is a list */
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
        struct framing *f = cls;

        (void)kind;
        if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
                f->tes++;
        } else if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
                if (value == NULL || strchr(value, ',') != NULL ||
                    (f->clen != NULL && strcmp(f->clen, value) != 0))
                        f->conflict = true;
                if (f->clen == NULL)
                        f->clen = value;
                f->clens++;
        }
        return MHD_YES;
}

/* True when the body's length is ambiguous (RFC 9112 §6.3): differing or listed
 * Content-Length values, Transfer-Encoding given twice or together with Content-Length. A
 * proxy in front might frame such a request differently from us (request smuggling). */
static bool ambiguous_framing(struct MHD_Connection *conn)
{
        struct framing f = {0};

        MHD_get_connection_values(conn, MHD_HEADER_KIND, count_framing, &f);
        return f.conflict || f.tes > 1 || (f.tes > 0 && f.clens > 0);
}

/* A cookie-authenticated write must echo the session's csrf token (constant-time compare). */
static bool csrf_ok(struct cb_request *req, const char *expected)
{
        const char *got = cb_request_header(req, "X-CSRF-Token");
        size_t n = strlen(expected);

        if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0)
                return true;
        return got != NULL && n > 0 && strlen(got) == n && cb_ct_equal(got, expected, n);
}

/* The bearer wins; without one, the session cookie (which a write must back with its csrf
 * token). Fills req->agent, and req->session for a cookie. */
static enum cb_err authenticate(struct cb_request *req, const struct sockaddr *peer,
                                int *retry_after_s)
{
        const char *bearer = cb_request_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
        char token[CB_SESSION_TOKEN_LEN + 8];
        struct cb_session_info s;
        enum cb_err err;

        if (bearer != NULL || !cb_cookie_get(cb_request_header(req, MHD_HTTP_HEADER_COOKIE),
                                             CB_SESSION_COOKIE, token, sizeof(token)))
                return cb_auth_check_from(req->env, bearer, peer, &req->agent, retry_after_s);
        err = cb_session_check(req->env, token, peer, &s, retry_after_s);
        OPENSSL_cleanse(token, sizeof(token));
        if (err != CB_ERR_NONE)
                return err;
        cb_strlcpy(req->agent.name, s.row.agent, sizeof(req->agent.name));
        req->agent.admin = s.row.admin;
        snprintf(req->agent.bearer, sizeof(req->agent.bearer), "c%.16s", s.hash_hex);
        cb_strlcpy(req->session, s.hash_hex, sizeof(req->session));
        return csrf_ok(req, s.row.csrf) ? CB_ERR_NONE : CB_ERR_CSRF_FAILED;
}

enum cb_err cb_request_auth_check(struct cb_request *req, int *retry_after_s)
{
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        enum cb_err err = authenticate(req, ci != NULL ? ci->client_addr : NULL, retry_after_s);

        if (err == CB_ERR_NONE && !cb_ratelimit_take(req->agent.bearer, retry_after_s))
                err = CB_ERR_RATE_LIMITED;
        return err;
}

enum MHD_Result cb_request_auth_refuse(struct cb_request *req, enum cb_err err, int retry_after_s)
{
        if (err == CB_ERR_RATE_LIMITED) {
                req->reply_header[0] = MHD_HTTP_HEADER_RETRY_AFTER;
                req->reply_header[1] = cb_ratelimit_seconds_str(retry_after_s);
        }
        return cb_reply_error(req, err, NULL);
}

bool cb_request_authenticate(struct cb_request *req, enum MHD_Result *ret)
{
        int retry_after_s = 1;
        enum cb_err err = cb_request_auth_check(req, &retry_after_s);

        if (err == CB_ERR_NONE)
                return false;
        *ret = cb_request_auth_refuse(req, err, retry_after_s);
        return true;
}

/* The checks done before any body byte is read. Returns true when a reply was queued. */
static bool begin(struct cb_request *req, const char *path, enum MHD_Result *ret)
{
        const struct cb_config *cfg = req->env->cfg;
        const char *rid = cb_request_header(req, "X-Request-Id");
        const char *clen = cb_request_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
        unsigned int status = 404;
        char allow[64];
        long len;

        if (sane_request_id(rid)) {
                cb_strlcpy(req->request_id, rid, sizeof(req->request_id));
        } else {
                unsigned char b[12];
                cb_random(b, sizeof(b));
                cb_hex(b, sizeof(b), req->request_id);
        }
        if (ambiguous_framing(req->conn)) {
                *ret = cb_reply_error(req, CB_ERR_BAD_REQUEST,
                                      "conflicting Content-Length or Transfer-Encoding headers");
                return true;
        }
        if (strlen(req->raw_target) > CB_URI_MAX) {
                *ret = cb_reply_error(req, CB_ERR_URI_TOO_LONG, NULL);
                return true;
        }
        req->route = cb_router_match(cb_routes, cb_routes_count, req->method, path, req->params,
                                     &status, allow, sizeof(allow));
        if (req->route == NULL && status == 405) {
                cb_strlcpy(req->allow, allow, sizeof(req->allow));
                *ret = cb_reply_error(req, CB_ERR_METHOD_NOT_ALLOWED,
                                      "%s is not allowed here; use %s", req->method, allow);
                return true;
        }
        if (req->route == NULL) {
                *ret = cb_reply_error(req, CB_ERR_ROUTE_NOT_FOUND, "no endpoint %s", path);
                return true;
        }
        /* every CB_BODY_STREAM route has stream ops, and no other (unit.test_router) */
        req->body.max = req->route->body == CB_BODY_NONE     ? 0
                        : req->route->body == CB_BODY_STREAM ? req->route->stream->limit(cfg)
                        : req->route->max_body               ? req->route->max_body
                                                             : (size_t)cfg->server.max_body_bytes;
        if (clen != NULL &&
            (!cb_parse_long(clen, 0, LONG_MAX, &len) || (size_t)len > req->body.max)) {
                *ret = cb_reply_error(req, CB_ERR_PAYLOAD_TOO_LARGE,
                                      "the body may be at most %zu bytes", req->body.max);
                return true;
        }
        if (req->route->body == CB_BODY_JSON &&
            !cb_content_type_is(cb_request_header(req, MHD_HTTP_HEADER_CONTENT_TYPE),
                                "application/json")) {
                *ret = cb_reply_error(req, CB_ERR_UNSUPPORTED_MEDIA_TYPE,
                                      "Content-Type must be application/json");
                return true;
        }
        if (req->route->body == CB_BODY_WEBHOOK && cb_webhook_begin(req, ret))
                return true;
        if (req->route->auth && cb_request_authenticate(req, ret))
                return true;
        if (req->route->body == CB_BODY_STREAM)
                return req->route->stream->begin(req, ret);
        return false;
}

/* A refusal found while the body arrives. libmicrohttpd takes a response only before the
 * first body byte or after the last, so the error waits for the end of the body (which is
 * read and dropped) and is answered then. */
static void refuse_later(struct cb_request *req, enum cb_err err, const char *msg)
{
        req->deferred = err;
        cb_strlcpy(req->deferred_msg, msg ? msg : "", sizeof(req->deferred_msg));
}

/* Hand streamed body bytes to the route; refuse past the cap or when the route says so. */
static void stream_data(struct cb_request *req, const char *data, size_t n)
{
        char msg[256] = "";
        enum cb_err err;

        req->streamed += n;
        cb_conn_guard_streaming(req->conn, req->start_us, req->streamed);
        if (req->streamed > req->body.max) {
                snprintf(msg, sizeof(msg), "the body may be at most %zu bytes", req->body.max);
                refuse_later(req, CB_ERR_PAYLOAD_TOO_LARGE, msg);
                /* Whatever the route holds (a half-written blob) goes at once. */
                req->route->stream->cleanup(req);
                return;
        }
        err = req->route->stream->data(req, data, n, msg, sizeof(msg));
        if (err != CB_ERR_NONE)
                refuse_later(req, err, msg);
}

static enum MHD_Result dispatch(struct cb_request *req)
{
        enum MHD_Result ret;

        if (req->route->body == CB_BODY_JSON_OPTIONAL && req->body.len > 0 &&
            !cb_content_type_is(cb_request_header(req, MHD_HTTP_HEADER_CONTENT_TYPE),
                                "application/json"))
                return cb_reply_error(req, CB_ERR_UNSUPPORTED_MEDIA_TYPE,
                                      "Content-Type must be application/json");
        if (req->route->body == CB_BODY_JSON ||
            (req->route->body == CB_BODY_JSON_OPTIONAL && req->body.len > 0)) {
                json_error_t jerr;
                if (req->body.len == 0)
                        return cb_reply_error(req, CB_ERR_MALFORMED_JSON, "the body is empty");
                req->json = json_loadb(req->body.data, req->body.len,
                                       JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
                if (req->json == NULL)
                        return cb_reply_error(req, CB_ERR_MALFORMED_JSON,
                                              "malformed JSON at line %d column %d: %s", jerr.line,
                                              jerr.column, jerr.text);
                if (!json_is_object(req->json))
                        return cb_reply_error(req, CB_ERR_INVALID_BODY, NULL);
        }
        if (req->route->body == CB_BODY_WEBHOOK && cb_webhook_verify(req, &ret))
                return ret;
        ret = req->route->handler(req);
        if (!req->replied && req->resume == NULL) {
                cb_error("handler for %s returned without a reply", req->route->pattern);
                ret = cb_reply_error(req, CB_ERR_INTERNAL, NULL);
        }
        return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
        struct cb_request *req = *con_cls;
        enum MHD_Result ret = MHD_YES;

        (void)cls;
        (void)version;
        if (req == NULL)
                return MHD_NO; /* out of memory when the request began */
        if (!req->started) {
                req->started = true;
                req->conn = conn;
                req->method = method;
                if (begin(req, url, &ret))
                        return ret;
                return MHD_YES;
        }
        if (*upload_data_size > 0) {
                size_t n = *upload_data_size;
                *upload_data_size = 0;
                if (req->replied || req->deferred != CB_ERR_NONE)
                        return MHD_YES; /* discard the rest of a refused body */
                if (req->route->body == CB_BODY_STREAM)
                        stream_data(req, upload_data, n);
                else if (cb_buf_append(&req->body, upload_data, n) != 0)
                        refuse_later(req, CB_ERR_PAYLOAD_TOO_LARGE, NULL);
                return MHD_YES;
        }
        cb_conn_guard_received(conn); /* all of it is in: no deadline while we answer */
        if (req->resume != NULL) {
                cb_handler_fn then = req->resume;
                req->resume = NULL;
                ret = then(req);
                if (!req->replied) {
                        cb_error("%s returned from a park without a reply", req->route->pattern);
                        ret = cb_reply_error(req, CB_ERR_INTERNAL, NULL);
                }
                return ret;
        }
        if (req->replied)
                return MHD_YES;
        if (req->deferred != CB_ERR_NONE)
                return req->deferred_msg[0]
                           ? cb_reply_error(req, req->deferred, "%s", req->deferred_msg)
                           : cb_reply_error(req, req->deferred, NULL);
        return dispatch(req);
}

enum MHD_Result cb_request_park(struct cb_request *req, cb_handler_fn then)
{
        req->resume = then;
        atomic_fetch_add(&req->http->parked, 1);
        MHD_suspend_connection(req->conn);
        return MHD_YES;
}

void cb_request_wake(void *arg)
{
        struct cb_request *req = arg;
        struct cb_http *http = req->http;

        /* After this the request may complete and be freed on its own thread: only `http`. */
        MHD_resume_connection(req->conn);
        atomic_fetch_sub(&http->parked, 1);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
        char line[512];

        (void)cls;
        vsnprintf(line, sizeof(line), fmt, ap);
        line[strcspn(line, "\n")] = '\0';
        cb_warn("libmicrohttpd: %s", line);
}

static int resolve_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len)
{
        char host[256];
        const char *colon = strrchr(listen, ':');
        size_t hl = (size_t)(colon - listen);
        struct addrinfo hints = {.ai_flags = AI_NUMERICSERV | AI_PASSIVE,
                                 .ai_socktype = SOCK_STREAM};
        struct addrinfo *res = NULL;

        if (colon == NULL || hl >= sizeof(host))
                return -1;
        memcpy(host, listen, hl);
        host[hl] = '\0';
        if (host[0] == '[' && hl >= 2 && host[hl - 1] == ']') {
                memmove(host, host + 1, hl - 2);
                host[hl - 2] = '\0';
        }
        if (getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res) != 0 || res == NULL)
                return -1;
        memcpy(ss, res->ai_addr, res->ai_addrlen);
        *len = res->ai_addrlen;
        freeaddrinfo(res);
        return 0;
}

static void stop_helpers(void)
{
        cb_conn_guard_stop();
        cb_auth_watch_stop();
        cb_ratelimit_stop();
}

/* The threads beside the server: request deadlines, key revocations, rate limit sync.
 * Returns 0, or -1 (logged, none left running). */
static int start_helpers(struct cb_http_env *env)
{
        const struct cb_config *cfg = env->cfg;

        if (cb_conn_guard_start(cfg->server.connection_timeout_s) == 0 &&
            cb_auth_watch_start(env) == 0 && cb_ratelimit_start(cfg) == 0)
                return 0;
        stop_helpers();
        return -1;
}

/* Each connection's buffer for the request line, headers and reply head. libmicrohttpd zeroes
 * all of it between two requests of a kept-alive connection: at 64 KiB that memset was the
 * largest single cost of a cached lookup (perf). 32 KiB still holds a target of CB_URI_MAX
 * and more, so such a target gets our 414. */
#define POOL_BYTES 32768

struct cb_http *cb_http_start(struct cb_http_env *env)
{
        const struct cb_config *cfg = env->cfg;
        struct cb_http *http = calloc(1, sizeof(*http));
        struct sockaddr_storage ss;
        socklen_t sslen;
        /* Suspend/resume: GET /api/events parks idle streams instead of holding a thread. */
        unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG |
                             MHD_ALLOW_SUSPEND_RESUME;

        if (http == NULL)
                return NULL;
        http->env = env;
        if (resolve_listen(cfg->server.listen, &ss, &sslen) != 0) {
                cb_error("cannot resolve [server] listen = %s", cfg->server.listen);
                free(http);
                return NULL;
        }
        if (ss.ss_family == AF_INET6)
                flags |= MHD_USE_IPv6;
        if (start_helpers(env) != 0) {
                free(http);
                return NULL;
        }
        (void)cb_access_log_start(); /* without the writer, lines are written directly */
        http->daemon = MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, http, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
            (unsigned int)cfg->server.threads, MHD_OPTION_URI_LOG_CALLBACK, on_uri, http,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, http, MHD_OPTION_CONNECTION_TIMEOUT,
            (unsigned int)cfg->server.connection_timeout_s, MHD_OPTION_CONNECTION_LIMIT,
            (unsigned int)cfg->server.max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
            (unsigned int)cfg->server.max_connections_per_ip, MHD_OPTION_NOTIFY_CONNECTION,
            cb_conn_guard_notify, NULL, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)POOL_BYTES,
            MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024, MHD_OPTION_END);
        if (http->daemon == NULL) {
                cb_error("cannot listen on %s", cfg->server.listen);
                stop_helpers();
                free(http);
                return NULL;
        }
        cb_info("listening on %s with %ld threads", cfg->server.listen, cfg->server.threads);
        return http;
}

static void nap_10ms(void)
{
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 10000000};
        nanosleep(&ts, NULL);
}

void cb_http_stop(struct cb_http **httpp, long drain_s)
{
        struct cb_http *http = *httpp;
        int64_t deadline;
        MHD_socket fd;

        if (http == NULL)
                return;
        atomic_store(&http->stopping, true);
        fd = MHD_quiesce_daemon(http->daemon);
        if (fd != MHD_INVALID_SOCKET)
                close(fd);
        /* Logged only now: from here on every new request is refused (tests wait for it). */
        cb_info("draining (up to %ld s)", drain_s);
        deadline = cb_mono_us() + drain_s * 1000000;
        while (atomic_load(&http->inflight) > 0 && cb_mono_us() < deadline)
                nap_10ms();
        if (atomic_load(&http->inflight) > 0)
                cb_warn("%ld requests still in flight at the drain deadline",
                        atomic_load(&http->inflight));
        /* A parked request is woken by its batch, which ends within the database timeouts;
         * its connection must outlive the wake. */
        while (atomic_load(&http->parked) > 0)
                nap_10ms();
        MHD_stop_daemon(http->daemon);
        cb_access_log_stop(); /* every request has completed: its line is written now */
        stop_helpers();
        if (!cb_voice_route_drain(drain_s * 1000))
                cb_warn("voice routing helpers still running at the drain deadline");
        free(http);
        *httpp = NULL;
}
