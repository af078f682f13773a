/* One Redis connection per thread, made lazily, dropped on error, not retried for a second
 * after a failed connect. */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/cache.h"
#include "callbridge/log.h"

#define RETRY_AFTER_US 1000000

struct thread_conn {
        redisContext *ctx;
        int64_t down_until_us; /* no connect attempt before this (monotonic) */
};

static char url[512];
static char prefix[64] = "cb:";
static long timeout_ms = 500;
static atomic_ulong errors;
static atomic_long last_warn_us;
static pthread_key_t conn_key;
static pthread_once_t conn_once = PTHREAD_ONCE_INIT;

static void conn_free(void *p)
{
        struct thread_conn *tc = p;

        if (tc->ctx != NULL)
                redisFree(tc->ctx);
        free(tc);
}

static void conn_key_create(void)
{
        pthread_key_create(&conn_key, conn_free);
}

void cb_cache_configure(const char *u, long t_ms, const char *key_prefix)
{
        cb_strlcpy(url, u, sizeof(url));
        cb_strlcpy(prefix, key_prefix, sizeof(prefix));
        timeout_ms = t_ms;
}

const char *cb_cache_prefix(void)
{
        return prefix;
}

/* Count an error; warn at most every 10 s so an outage does not flood the log. */
static void note_error(const char *what)
{
        int64_t now = cb_mono_us();
        long last = atomic_load(&last_warn_us);

        atomic_fetch_add(&errors, 1);
        if (now - last > 10000000 && atomic_compare_exchange_strong(&last_warn_us, &last, now))
                cb_warn("redis: %s; the cache is bypassed until it answers", what);
}

static struct thread_conn *thread_conn(void)
{
        struct thread_conn *tc;

        pthread_once(&conn_once, conn_key_create);
        tc = pthread_getspecific(conn_key);
        if (tc == NULL) {
                tc = calloc(1, sizeof(*tc));
                if (tc == NULL || pthread_setspecific(conn_key, tc) != 0) {
                        free(tc);
                        return NULL;
                }
        }
        if (tc->ctx == NULL) {
                int64_t now = cb_mono_us();
                if (now < tc->down_until_us || url[0] == '\0')
                        return NULL;
                tc->ctx = cb_cache_connect(url, timeout_ms);
                if (tc->ctx == NULL) {
                        tc->down_until_us = now + RETRY_AFTER_US;
                        note_error("unreachable");
                        return NULL;
                }
        }
        return tc;
}

/* Check a reply: drop the connection on I/O errors, free Redis error replies. */
static redisReply *checked(struct thread_conn *tc, redisReply *r)
{
        if (r == NULL) {
                note_error(tc->ctx->errstr[0] ? tc->ctx->errstr : "connection lost");
                redisFree(tc->ctx);
                tc->ctx = NULL;
                tc->down_until_us = cb_mono_us() + RETRY_AFTER_US / 10;
                return NULL;
        }
        if (r->type == REDIS_REPLY_ERROR) {
                cb_debug("redis: %s", r->str);
                atomic_fetch_add(&errors, 1);
                freeReplyObject(r);
                return NULL;
        }
        return r;
}

redisReply *cb_cache_command(const char *fmt, ...)
{
        struct thread_conn *tc = thread_conn();
        redisReply *r;
        va_list ap;

        if (tc == NULL)
                return NULL;
        va_start(ap, fmt);
        r = redisvCommand(tc->ctx, fmt, ap);
        va_end(ap);
        return checked(tc, r);
}

redisReply *cb_cache_command_argv(int argc, const char **argv, const size_t *argvlen)
{
        struct thread_conn *tc = thread_conn();

        if (tc == NULL)
                return NULL;
        return checked(tc, redisCommandArgv(tc->ctx, argc, argv, argvlen));
}

void cb_cache_pipeline(const struct cb_cache_cmd *cmds, size_t n, redisReply **replies)
{
        struct thread_conn *tc = n > 0 ? thread_conn() : NULL;
        size_t sent = 0;

        for (size_t i = 0; i < n; i++)
                replies[i] = NULL;
        if (tc == NULL)
                return;
        while (sent < n &&
               redisAppendCommandArgv(tc->ctx, cmds[sent].argc, (const char **)cmds[sent].argv,
                                      cmds[sent].lens) == REDIS_OK)
                sent++;
        for (size_t i = 0; i < sent; i++) {
                void *r = NULL;
                if (redisGetReply(tc->ctx, &r) != REDIS_OK)
                        r = NULL;
                replies[i] = checked(tc, r);
                if (r == NULL)
                        break; /* the connection is dropped: the rest stay NULL */
        }
}

void cb_cache_metrics_write(struct cb_buf *out)
{
        cb_buf_printf(out,
                      "# HELP callbridge_cache_errors_total Redis commands that failed "
                      "(unreachable, broken connection, error reply).\n"
                      "# TYPE callbridge_cache_errors_total counter\n"
                      "callbridge_cache_errors_total %lu\n",
                      atomic_load(&errors));
}
