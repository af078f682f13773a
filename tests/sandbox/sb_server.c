/* callbridge-sandbox: the HTTP server. libmicrohttpd with an epoll internal thread pool, one
 * route table (sb_routes.c), central 404/405/413 handling, and fault injection for upstream routes.
 *
 * Latency and timeout faults never block a server thread: the connection is suspended and a
 * timer thread resumes it when its deadline passes. */
#include <errno.h>
#include <fnmatch.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "sandbox.h"

#define DEFAULT_MAX_BODY ((size_t)1024 * 1024)

enum phase {
        PHASE_RECEIVING = 0, /* body arriving, nothing decided */
        PHASE_LATENCY,       /* suspended for the latency fault */
        PHASE_READY,         /* latency served, answer now */
        PHASE_TIMEOUT,       /* suspended for the timeout fault; drop when resumed */
};

/* A suspended connection waiting for its deadline; lives inside its request context. */
struct delay {
        struct delay *next;
        struct MHD_Connection *conn;
        int64_t deadline_us;
};

/* Everything one request owns; freed by the completion callback. */
struct req_ctx {
        struct sb_request req;
        const struct sb_route *route; /* NULL: 404 or 405 */
        char allow[128];              /* methods for a 405, "" for a 404 */
        char *body;
        size_t body_len, body_alloc, body_max;
        bool too_large;
        enum phase phase;
        enum sb_fault fault;
        unsigned int status; /* answered status, for the access log */
        int64_t start_us;
        struct delay delay;
        const char *counted; /* the upstream endpoint counted in flight, until completion */
};

struct sb_server {
        const struct sb_config *cfg;
        struct MHD_Daemon *mhd;
        unsigned int port;
        pthread_t timer;
        bool timer_started;
        pthread_mutex_t lock; /* guards delays and stopping */
        pthread_cond_t wake;
        struct delay *delays;
        bool stopping;
};

static int64_t mono_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- delays (suspended connections) ----------------------------------------------------- */

/* Suspend the connection until `ms` from now. False when the server is stopping (the caller
 * then answers at once). Called on the connection's libmicrohttpd thread. */
static bool delay_start(struct sb_server *srv, struct req_ctx *ctx, long ms)
{
        bool ok = false;

        pthread_mutex_lock(&srv->lock);
        if (!srv->stopping) {
                MHD_suspend_connection(ctx->req.conn);
                ctx->delay.conn = ctx->req.conn;
                ctx->delay.deadline_us = mono_us() + (int64_t)ms * 1000;
                ctx->delay.next = srv->delays;
                srv->delays = &ctx->delay;
                pthread_cond_signal(&srv->wake);
                ok = true;
        }
        pthread_mutex_unlock(&srv->lock);
        return ok;
}

/* Resume a detached list. The contexts may be freed as soon as a connection is resumed, so
 * `next` is read first. */
static void resume_all(struct delay *list)
{
        while (list) {
                struct delay *next = list->next;
                MHD_resume_connection(list->conn);
                list = next;
        }
}

/* The timer thread: resumes connections whose deadline passed; on stop resumes all. */
static void *timer_main(void *arg)
{
        struct sb_server *srv = arg;

        pthread_mutex_lock(&srv->lock);
        for (;;) {
                struct delay *due = NULL, **pp = &srv->delays;
                int64_t now = mono_us(), next = INT64_MAX;

                while (*pp) {
                        struct delay *d = *pp;
                        if (srv->stopping || d->deadline_us <= now) {
                                *pp = d->next;
                                d->next = due;
                                due = d;
                        } else {
                                if (d->deadline_us < next)
                                        next = d->deadline_us;
                                pp = &d->next;
                        }
                }
                if (due) {
                        pthread_mutex_unlock(&srv->lock);
                        resume_all(due);
                        pthread_mutex_lock(&srv->lock);
                        continue;
                }
                if (srv->stopping)
                        break;
                if (next == INT64_MAX) {
                        pthread_cond_wait(&srv->wake, &srv->lock);
                } else {
                        struct timespec ts = {next / 1000000, (next % 1000000) * 1000};
                        pthread_cond_timedwait(&srv->wake, &srv->lock, &ts);
                }
        }
        pthread_mutex_unlock(&srv->lock);
        return NULL;
}

/* ---- dispatch --------------------------------------------------------------------------- */

static bool is_fallback(const struct sb_route *r)
{
        return strcmp(r->pattern, "/**") == 0;
}

/* True when the fallback rows may answer `path`: no other emulation owns its prefix. */
static bool fallback_path(const char *path)
{
        return strncmp(path, "/__", 3) != 0 && strncmp(path, "/services/", 10) != 0 &&
               strncmp(path, "/2010-04-01/", 12) != 0 && strncmp(path, "/crm/", 5) != 0 &&
               strncmp(path, "/oauth/", 7) != 0 && strncmp(path, "/account-info/", 14) != 0 &&
               strcmp(path, "/") != 0;
}

/* Find the route for method+path; on no match fill ctx->allow with the methods the path
 * does have ("" when none: 404). Fallback rows are tried last (see sb_route). */
static void route_lookup(struct req_ctx *ctx)
{
        size_t used = 0;
        bool fallback = false;

        ctx->allow[0] = '\0';
again:
        for (size_t i = 0; i < sb_routes_count; i++) {
                const struct sb_route *r = &sb_routes[i];
                int n;

                if (is_fallback(r) != fallback ||
                    (!fallback && fnmatch(r->pattern, ctx->req.path, FNM_PATHNAME) != 0))
                        continue;
                if (strcmp(r->method, ctx->req.method) == 0) {
                        ctx->route = r;
                        return;
                }
                if (strstr(ctx->allow, r->method))
                        continue;
                n = snprintf(ctx->allow + used, sizeof(ctx->allow) - used, "%s%s", used ? ", " : "",
                             r->method);
                if (n > 0 && (size_t)n < sizeof(ctx->allow) - used)
                        used += (size_t)n;
        }
        if (!fallback && ctx->allow[0] == '\0' && fallback_path(ctx->req.path)) {
                fallback = true;
                goto again;
        }
}

static void generic_fault_reply(enum sb_fault fault, struct sb_reply *reply)
{
        if (fault == SB_FAULT_RATE_LIMIT) {
                sb_reply_error(reply, MHD_HTTP_TOO_MANY_REQUESTS, "rate_limited",
                               "sandbox fault: rate limit");
                sb_reply_header(reply, "Retry-After", "1");
        } else {
                sb_reply_error(reply, MHD_HTTP_SERVICE_UNAVAILABLE, "upstream_error",
                               "sandbox fault: upstream error");
        }
}

/* Build the answer for a request whose body is complete and whose delays are served. */
static void answer(struct req_ctx *ctx, struct sb_reply *reply)
{
        const struct sb_route *r = ctx->route;

        if (!r) {
                if (ctx->allow[0]) {
                        sb_reply_error(reply, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                                       "%s is not allowed on %s (allowed: %s)", ctx->req.method,
                                       ctx->req.path, ctx->allow);
                        sb_reply_header(reply, "Allow", ctx->allow);
                } else if (strncmp(ctx->req.path, "/services/", 10) == 0) {
                        sb_sf_unrouted(&ctx->req, reply);
                } else if (strncmp(ctx->req.path, "/2010-04-01/", 12) == 0) {
                        sb_tw_unrouted(&ctx->req, reply);
                } else {
                        sb_reply_error(reply, MHD_HTTP_NOT_FOUND, "not_found",
                                       "no such endpoint: %s %s", ctx->req.method, ctx->req.path);
                }
        } else if (ctx->too_large && r->upstream && r->upstream->too_large_reply) {
                ctx->req.body = "";
                ctx->req.body_len = 0;
                r->upstream->too_large_reply(&ctx->req, reply);
        } else if (ctx->too_large) {
                sb_reply_error(reply, MHD_HTTP_CONTENT_TOO_LARGE, "payload_too_large",
                               "body exceeds %zu bytes", ctx->body_max);
        } else if (ctx->fault == SB_FAULT_ERROR || ctx->fault == SB_FAULT_RATE_LIMIT) {
                if (r->upstream && r->upstream->fault_reply)
                        r->upstream->fault_reply(ctx->fault, &ctx->req, reply);
                else
                        generic_fault_reply(ctx->fault, reply);
        } else {
                ctx->req.body = ctx->body ? ctx->body : "";
                ctx->req.body_len = ctx->body_len;
                r->handler(&ctx->req, reply);
        }
}

static enum MHD_Result queue_reply(struct req_ctx *ctx, struct sb_reply *reply)
{
        struct MHD_Response *resp;
        enum MHD_Result ret;

        if (reply->status == 0)
                reply->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        resp = MHD_create_response_from_buffer(reply->body_len, reply->body, MHD_RESPMEM_MUST_FREE);
        if (!resp)
                return MHD_NO; /* sb_reply_free below still owns the body */
        reply->body = NULL;    /* the response owns it now */
        reply->body_len = 0;
        if (reply->content_type)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, reply->content_type);
        for (size_t i = 0; i < reply->n_headers; i++)
                MHD_add_response_header(resp, reply->headers[i].name, reply->headers[i].value);
        ctx->status = reply->status;
        ret = MHD_queue_response(ctx->req.conn, reply->status, resp);
        MHD_destroy_response(resp);
        return ret;
}

/* Append an upload chunk, or note that the body is over its cap (the rest is discarded). */
static void body_append(struct req_ctx *ctx, const char *data, size_t len)
{
        size_t need;

        ctx->req.body_seen += len;
        if (ctx->too_large)
                return;
        if (len > ctx->body_max - ctx->body_len) {
                ctx->too_large = true;
                free(ctx->body);
                ctx->body = NULL;
                ctx->body_len = ctx->body_alloc = 0;
                return;
        }
        need = ctx->body_len + len + 1;
        if (need > ctx->body_alloc) {
                size_t alloc = ctx->body_alloc ? ctx->body_alloc : 4096;
                char *grown;

                while (alloc < need)
                        alloc *= 2;
                grown = realloc(ctx->body, alloc);
                if (!grown) {
                        ctx->too_large = true; /* answered as 413; nothing better to do */
                        return;
                }
                ctx->body = grown;
                ctx->body_alloc = alloc;
        }
        memcpy(ctx->body + ctx->body_len, data, len);
        ctx->body_len += len;
        ctx->body[ctx->body_len] = '\0';
}

/* First call for a request: allocate its context and route it. NULL when out of memory. */
static struct req_ctx *ctx_create(struct sb_server *srv, struct MHD_Connection *conn,
                                  const char *url, const char *method)
{
        struct req_ctx *ctx = calloc(1, sizeof(*ctx));
        const char *cl;
        long long declared;

        if (!ctx)
                return NULL;
        ctx->req.conn = conn;
        ctx->req.cfg = srv->cfg;
        ctx->req.method = method;
        ctx->req.path = url;
        ctx->start_us = mono_us();
        route_lookup(ctx);
        ctx->body_max =
            ctx->route && ctx->route->max_body ? ctx->route->max_body : DEFAULT_MAX_BODY;
        cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
                char *end = NULL;
                errno = 0;
                declared = strtoll(cl, &end, 10);
                if (errno == 0 && end != cl && *end == '\0' && declared > 0 &&
                    (unsigned long long)declared > ctx->body_max)
                        ctx->too_large = true;
        }
        if (ctx->route && ctx->route->upstream) {
                const char *ep = ctx->route->endpoint;
                if (ep == NULL && ctx->route->upstream->endpoint != NULL)
                        ep = ctx->route->upstream->endpoint(conn, method);
                ctx->counted = ep ? ep : ctx->route->upstream->name;
                sb_state_count_request(ctx->counted);
                sb_state_in_flight(ctx->counted, 1);
        }
        return ctx;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
        struct sb_server *srv = cls;
        struct req_ctx *ctx = *con_cls;
        struct sb_reply reply = {0};
        enum MHD_Result ret;

        if (!ctx) {
                ctx = ctx_create(srv, conn, url, method);
                if (!ctx)
                        return MHD_NO;
                *con_cls = ctx;
                return MHD_YES;
        }
        if (*upload_data_size) {
                body_append(ctx, upload_data, *upload_data_size);
                *upload_data_size = 0;
                return MHD_YES;
        }
        if (ctx->phase == PHASE_TIMEOUT)
                return MHD_NO; /* the timeout fault: close without an answer */
        if (ctx->phase == PHASE_RECEIVING && ctx->route && ctx->route->upstream &&
            !ctx->too_large) {
                long latency_ms = 0;

                ctx->fault = sb_fault_roll(ctx->route->endpoint ? ctx->route->endpoint
                                                                : ctx->route->upstream->name,
                                           &latency_ms);
                if (ctx->route->upstream->extra_latency_ms)
                        latency_ms += ctx->route->upstream->extra_latency_ms();
                ctx->phase = PHASE_LATENCY;
                if (latency_ms > 0 && delay_start(srv, ctx, latency_ms))
                        return MHD_YES;
        }
        if (ctx->phase == PHASE_LATENCY) {
                ctx->phase = PHASE_READY;
                if (ctx->fault == SB_FAULT_TIMEOUT) {
                        struct sb_faults f;

                        sb_state_faults_get(&f);
                        ctx->phase = PHASE_TIMEOUT;
                        if (delay_start(srv, ctx, f.timeout_ms))
                                return MHD_YES;
                        return MHD_NO;
                }
        }
        answer(ctx, &reply);
        ret = queue_reply(ctx, &reply);
        sb_reply_free(&reply);
        return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
        struct sb_server *srv = cls;
        struct req_ctx *ctx = *con_cls;

        if (!ctx)
                return;
        if (srv->cfg->verbose)
                sb_log("info", "%s %s -> %u%s%s (%lld us)", ctx->req.method, ctx->req.path,
                       ctx->status, ctx->fault ? " fault=" : "",
                       ctx->fault ? sb_fault_name(ctx->fault) : "",
                       (long long)(mono_us() - ctx->start_us));
        if (ctx->counted)
                sb_state_in_flight(ctx->counted, -1);
        free(ctx->body);
        free(ctx);
        *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
        char msg[512];
        size_t len;

        vsnprintf(msg, sizeof(msg), fmt, ap);
        len = strlen(msg);
        while (len && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
                msg[--len] = '\0';
        /* Said for every timeout fault (the handler drops the connection on purpose). */
        if (strncmp(msg, "Application reported internal error", 35) == 0)
                return;
        sb_log("warn", "libmicrohttpd: %s", msg);
}

/* ---- start/stop ------------------------------------------------------------------------- */

struct sb_server *sb_server_start(const struct sb_config *cfg)
{
        struct sb_server *srv = NULL;
        struct addrinfo hints = {0}, *ai = NULL;
        pthread_condattr_t ca;
        const union MHD_DaemonInfo *info;
        unsigned int flags =
            MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
        int rc;

        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
        rc = getaddrinfo(cfg->listen_host[0] ? cfg->listen_host : NULL, cfg->listen_port, &hints,
                         &ai);
        if (rc != 0) {
                sb_log("error", "cannot resolve listen address %s:%s: %s", cfg->listen_host,
                       cfg->listen_port, gai_strerror(rc));
                goto fail;
        }
        if (ai->ai_family == AF_INET6)
                flags |= MHD_USE_IPv6;
        srv = calloc(1, sizeof(*srv));
        if (!srv)
                goto fail;
        srv->cfg = cfg;
        pthread_mutex_init(&srv->lock, NULL);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&srv->wake, &ca);
        pthread_condattr_destroy(&ca);
        if (pthread_create(&srv->timer, NULL, timer_main, srv) != 0) {
                sb_log("error", "cannot start the timer thread");
                goto fail;
        }
        srv->timer_started = true;
        /* The logger comes first so that errors about later options reach it. */
        /* No MHD_OPTION_LISTENING_ADDRESS_REUSE: it adds SO_REUSEPORT, and a second sandbox
         * on the same port must fail instead of sharing it. */
        srv->mhd = MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
            MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_THREAD_POOL_SIZE,
            (unsigned int)cfg->threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120, MHD_OPTION_LISTEN_BACKLOG_SIZE,
            (unsigned int)1024, MHD_OPTION_END);
        if (!srv->mhd) {
                sb_log("error", "cannot listen on %s:%s (address in use or not local?)",
                       cfg->listen_host, cfg->listen_port);
                goto fail;
        }
        info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
        srv->port = info ? info->port : 0;
        freeaddrinfo(ai);
        return srv;
fail:
        if (ai)
                freeaddrinfo(ai);
        sb_server_stop(&srv);
        return NULL;
}

unsigned int sb_server_port(const struct sb_server *srv)
{
        return srv->port;
}

void sb_server_stop(struct sb_server **psrv)
{
        struct sb_server *srv = *psrv;

        if (!srv)
                return;
        pthread_mutex_lock(&srv->lock);
        srv->stopping = true;
        pthread_cond_signal(&srv->wake);
        pthread_mutex_unlock(&srv->lock);
        if (srv->timer_started)
                pthread_join(srv->timer, NULL); /* it resumes every suspended connection */
        if (srv->mhd)
                MHD_stop_daemon(srv->mhd);
        pthread_cond_destroy(&srv->wake);
        pthread_mutex_destroy(&srv->lock);
        free(srv);
        *psrv = NULL;
}
