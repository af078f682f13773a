/* Deadlines for receiving requests (src/http/conn_guard.c). libmicrohttpd's connection
 * timeout counts idle time only, so a client sending one byte every few seconds would hold a
 * connection for ever (slowloris); this guard gives every request [server]
 * connection_timeout_s to arrive in full and shuts down the socket of one that does not. */
#ifndef CB_HTTP_CONN_GUARD_H
#define CB_HTTP_CONN_GUARD_H

#include <stdint.h>

#include <microhttpd.h>

/* Start the watcher thread. Returns 0, or -1 (logged) when it cannot start. */
int cb_conn_guard_start(long timeout_s);
/* Stop and join the watcher; connections still tracked stay untouched. */
void cb_conn_guard_stop(void);
/* MHD_OPTION_NOTIFY_CONNECTION: tracks each connection from open (deadline: now + timeout)
 * to close. Out of memory: the connection is simply not guarded. */
void cb_conn_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code);
/* The request is in (headers and body): no deadline while it is answered. */
void cb_conn_guard_received(struct MHD_Connection *conn);
/* A request finished: the next one on this connection must arrive within the timeout. */
void cb_conn_guard_rearm(struct MHD_Connection *conn);
/* A streamed body of `bytes` so far, that began at `start_us`: it may take the timeout plus
 * one second per CB_CONN_GUARD_MIN_RATE bytes (a slow but honest upload is not cut). */
void cb_conn_guard_streaming(struct MHD_Connection *conn, int64_t start_us, uint64_t bytes);

#define CB_CONN_GUARD_MIN_RATE 16384 /* bytes per second */

/* Connections cut by the guard since start (for /metrics and tests). */
unsigned long cb_conn_guard_cuts(void);

#endif
