/* Request deadlines: see conn_guard.h. The watcher wakes four times a second and shuts down
 * (never closes: libmicrohttpd owns the descriptor) the socket of every connection past its
 * deadline; libmicrohttpd then sees the end of the stream and closes the connection itself.
 * A connection is unlinked (under the lock) before libmicrohttpd closes its descriptor, so
 * the watcher never shuts down a descriptor that was reused. */
#include "conn_guard.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "callbridge/log.h"
#include "callbridge/util.h"

#define TICK_MS 250

struct guarded {
        struct guarded *prev;
        struct guarded *next;
        int fd;
        _Atomic int64_t deadline_us; /* 0: none (the request is being answered) */
};

static struct {
        pthread_mutex_t mu;
        pthread_cond_t cond;
        pthread_t thread;
        struct guarded *list;
        int64_t timeout_us;
        bool running;
        bool stopping;
        atomic_ulong cuts;
} guard = {.mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static struct guarded *of(struct MHD_Connection *conn)
{
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

        return ci != NULL ? ci->socket_context : NULL;
}

void cb_conn_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
        struct guarded *g = *socket_context;
        const union MHD_ConnectionInfo *ci;

        (void)cls;
        if (code == MHD_CONNECTION_NOTIFY_STARTED) {
                ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
                g = ci != NULL ? calloc(1, sizeof(*g)) : NULL;
                if (g == NULL)
                        return;
                g->fd = ci->connect_fd;
                atomic_store(&g->deadline_us, cb_mono_us() + guard.timeout_us);
                pthread_mutex_lock(&guard.mu);
                g->next = guard.list;
                if (guard.list != NULL)
                        guard.list->prev = g;
                guard.list = g;
                pthread_mutex_unlock(&guard.mu);
                *socket_context = g;
                return;
        }
        if (g == NULL)
                return;
        pthread_mutex_lock(&guard.mu);
        if (g->prev != NULL)
                g->prev->next = g->next;
        else
                guard.list = g->next;
        if (g->next != NULL)
                g->next->prev = g->prev;
        pthread_mutex_unlock(&guard.mu);
        free(g);
        *socket_context = NULL;
}

void cb_conn_guard_received(struct MHD_Connection *conn)
{
        struct guarded *g = of(conn);

        if (g != NULL)
                atomic_store(&g->deadline_us, 0);
}

void cb_conn_guard_rearm(struct MHD_Connection *conn)
{
        struct guarded *g = of(conn);

        if (g != NULL)
                atomic_store(&g->deadline_us, cb_mono_us() + guard.timeout_us);
}

void cb_conn_guard_streaming(struct MHD_Connection *conn, int64_t start_us, uint64_t bytes)
{
        struct guarded *g = of(conn);

        if (g != NULL)
                atomic_store(&g->deadline_us,
                             start_us + guard.timeout_us +
                                 (int64_t)(bytes / CB_CONN_GUARD_MIN_RATE) * 1000000);
}

unsigned long cb_conn_guard_cuts(void)
{
        return atomic_load(&guard.cuts);
}

/* Caller holds the lock. */
static void cut_late(int64_t now)
{
        for (struct guarded *g = guard.list; g != NULL; g = g->next) {
                int64_t d = atomic_load(&g->deadline_us);
                if (d == 0 || d > now)
                        continue;
                atomic_store(&g->deadline_us, 0);
                if (shutdown(g->fd, SHUT_RDWR) == 0 || errno == ENOTCONN)
                        atomic_fetch_add(&guard.cuts, 1);
                cb_debug("closing a connection whose request did not arrive in time");
        }
}

static void *watch(void *arg)
{
        (void)arg;
        pthread_mutex_lock(&guard.mu);
        while (!guard.stopping) {
                struct timespec ts;
                cb_deadline_after_ms(TICK_MS, &ts);
                if (pthread_cond_timedwait(&guard.cond, &guard.mu, &ts) == ETIMEDOUT)
                        cut_late(cb_mono_us());
        }
        pthread_mutex_unlock(&guard.mu);
        return NULL;
}

int cb_conn_guard_start(long timeout_s)
{
        int rc = 0;

        pthread_mutex_lock(&guard.mu);
        guard.timeout_us = (int64_t)timeout_s * 1000000;
        guard.stopping = false;
        if (!guard.running) {
                rc = pthread_create(&guard.thread, NULL, watch, NULL) == 0 ? 0 : -1;
                guard.running = rc == 0;
        }
        pthread_mutex_unlock(&guard.mu);
        if (rc != 0)
                cb_error("cannot start the connection deadline thread");
        return rc;
}

void cb_conn_guard_stop(void)
{
        pthread_mutex_lock(&guard.mu);
        if (!guard.running) {
                pthread_mutex_unlock(&guard.mu);
                return;
        }
        guard.stopping = true;
        pthread_cond_broadcast(&guard.cond);
        pthread_mutex_unlock(&guard.mu);
        pthread_join(guard.thread, NULL);
        pthread_mutex_lock(&guard.mu);
        guard.running = false;
        pthread_mutex_unlock(&guard.mu);
}
