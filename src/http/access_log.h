/* The access log (src/http/access_log.c): one JSON line per request, buffered and written by a
 * writer thread, so no request waits on stderr. */
#ifndef CB_HTTP_ACCESS_LOG_H
#define CB_HTTP_ACCESS_LOG_H

#include <stddef.h>

#include "callbridge/util.h"

/* One request as logged; every string borrowed, `agent` may be NULL or "". */
struct cb_access_line {
        const char *method;
        const char *target; /* already masked (cb_log_mask_target) */
        int status;
        double ms;
        const char *request_id;
        const char *route;
        const char *agent;
};

/* Start the writer thread (once; also hooks exit() and fatal signals to write what is
 * buffered). 0, or -1 (logged): lines are then written directly, one write(2) each. */
int cb_access_log_start(void);
/* Write what is buffered and stop the writer; later lines are written directly. Idempotent. */
void cb_access_log_stop(void);
/* Log one request at info level (nothing is built below it). Never blocks on stderr while the
 * writer runs: when its buffer is full the line is dropped and counted. */
void cb_access_log_write(const struct cb_access_line *l);
/* The line, newline-terminated, into out[0..cap): its length, or 0 when it does not fit. */
size_t cb_access_log_format(char *out, size_t cap, const struct cb_access_line *l);
/* Prometheus text: lines dropped. */
void cb_access_log_metrics_write(struct cb_buf *out);

#endif
