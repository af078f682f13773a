/* Outbound HTTP to the upstreams (Salesforce, Twilio, STT engines) on libcurl: one reused
 * easy handle per thread (keep-alive connections, TLS sessions, DNS cache), timeouts,
 * TLS verification always on, a capped response body, and per-service metrics. */
#ifndef CALLBRIDGE_UPSTREAM_H
#define CALLBRIDGE_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callbridge/util.h"

/* The outcome of work against an upstream (CRM, telephony, STT): done, worth retrying
 * later (timeouts, 5xx, network), or permanently failed (the input is wrong). WAIT: the
 * upstream asked us to come back later (429 with Retry-After, an exhausted daily allowance,
 * our own budget hold); the job is rescheduled without spending an attempt, after the delay
 * set with cb_wait_hint_set when the upstream said one. Callers that do not distinguish
 * waiting from failing treat WAIT as RETRY. */
enum cb_result { CB_RESULT_OK = 0, CB_RESULT_RETRY, CB_RESULT_FAIL, CB_RESULT_WAIT };

/* A per-thread "come back in `ms`" for the WAIT the calling thread is about to return; the
 * longest set since the last take wins. cb_wait_hint_take returns it (0: none) and clears. */
void cb_wait_hint_set(int64_t ms);
int64_t cb_wait_hint_take(void);

#define CB_UPSTREAM_MAX_HEADERS 8
#define CB_UPSTREAM_MAX_PARTS   12

/* One part of a multipart/form-data body: a text field (`value`), or a file of `size` bytes
 * read on demand through `read_at` (exactly `len` bytes at `off`; 0, or -1 to abort the
 * transfer), so a large file is never held in memory. */
struct cb_upstream_part {
        const char *name;
        const char *value;        /* text field; NULL for a file part */
        const char *filename;     /* file part: the name sent in Content-Disposition */
        const char *content_type; /* file part: e.g. "audio/wav" */
        uint64_t size;
        int (*read_at)(void *ctx, uint64_t off, void *buf, size_t len);
        void *ctx;
};

struct cb_upstream_req {
        const char *service; /* metrics label: "salesforce", "twilio", "openai"... */
        const char *method;  /* "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE" */
        const char *url;
        const char *headers[CB_UPSTREAM_MAX_HEADERS]; /* "Name: value"; unused slots NULL */
        const char *body;                             /* may be NULL */
        size_t body_len;
        /* Instead of `body`: a multipart/form-data POST of these parts (libcurl sets the
         * Content-Type with its boundary). At most CB_UPSTREAM_MAX_PARTS. */
        const struct cb_upstream_part *parts;
        size_t n_parts;
        const char *userpwd; /* "user:password" for HTTP Basic (or the SigV4 key pair), or NULL */
        /* With userpwd: sign with AWS Signature V4 instead of Basic, e.g. "aws:amz:us-east-1:s3".
         * libcurl signs the path and query exactly as given (give them in canonical form), every
         * header in `headers`, and the payload hash from an x-amz-content-sha256 header. */
        const char *aws_sigv4;
        long timeout_ms;     /* whole transfer; connect gets min(timeout, 5 s) */
        size_t max_response; /* response body cap; 0 means 8 MiB (not used with a sink) */
        /* Optional: stream a 2xx response body here instead of buffering it (downloads of any
         * size). Return 0 to go on, -1 to stop the transfer (perform then fails). Bodies of
         * other statuses are still buffered, for the error. */
        int (*sink)(void *ctx, const void *data, size_t len);
        void *sink_ctx;
        bool follow_redirects; /* up to 5; credentials are not sent to another host */
        long low_speed_s;      /* with a sink: give up when under 1 KiB/s for this long */
};

struct cb_upstream_resp {
        long status;         /* HTTP status; 0 when no response arrived */
        struct cb_buf body;  /* the response body, NUL-terminated */
        struct cb_buf heads; /* response header lines of the final response, "\r\n" separated */
        bool maybe_sent;     /* the request may have reached the server (a timeout after send) */
        char error[256];     /* transport failure text when status is 0 */
};

/* Perform `req`. Returns 0 when a response arrived (any status), -1 on a transport failure
 * (resp->error says which; resp->maybe_sent tells whether the upstream may have acted on
 * it). The response is always to be released with cb_upstream_resp_free. */
int cb_upstream_perform(const struct cb_upstream_req *req, struct cb_upstream_resp *resp);
void cb_upstream_resp_free(struct cb_upstream_resp *resp);

/* Value of response header `name` (case-insensitive) copied into `out`; false if absent. */
bool cb_upstream_resp_header(const struct cb_upstream_resp *resp, const char *name, char *out,
                             size_t out_size);

/* Append Prometheus text: requests by service and status class, latency histograms. */
void cb_upstream_metrics_write(struct cb_buf *out);

#endif
