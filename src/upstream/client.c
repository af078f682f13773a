/* The libcurl client. Each thread keeps one easy handle for its life (freed by a pthread key
 * destructor), so connections to an upstream stay open between requests. */
#include "callbridge/upstream.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "callbridge/log.h"
#include "upstream_int.h"

#define DEFAULT_MAX_RESPONSE ((size_t)8 * 1024 * 1024)
#define MAX_HEADER_BYTES     ((size_t)64 * 1024)

static pthread_key_t handle_key;
static pthread_once_t handle_once = PTHREAD_ONCE_INIT;

static void handle_free(void *h)
{
        curl_easy_cleanup(h);
}

static void handle_key_create(void)
{
        pthread_key_create(&handle_key, handle_free);
}

/* This thread's handle, reset to defaults; NULL when libcurl cannot make one. */
static CURL *thread_handle(void)
{
        CURL *h;

        pthread_once(&handle_once, handle_key_create);
        h = pthread_getspecific(handle_key);
        if (h != NULL) {
                curl_easy_reset(h); /* keeps the connection cache */
                return h;
        }
        h = curl_easy_init();
        if (h != NULL && pthread_setspecific(handle_key, h) != 0) {
                curl_easy_cleanup(h);
                h = NULL;
        }
        return h;
}

/* Where a response body goes: the buffer, or the request's sink for a 2xx answer. */
struct body_ctx {
        CURL *h;
        const struct cb_upstream_req *req;
        struct cb_buf *buf;
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
        struct body_ctx *b = arg;
        long status = 0;

        if (b->req->sink != NULL) {
                curl_easy_getinfo(b->h, CURLINFO_RESPONSE_CODE, &status);
                if (status >= 200 && status < 300)
                        return b->req->sink(b->req->sink_ctx, data, size * n) == 0 ? size * n : 0;
        }
        return cb_buf_append(b->buf, data, size * n) == 0 ? size * n : 0; /* 0 aborts: over cap */
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
        struct cb_buf *b = arg;
        size_t len = size * n;

        /* A new status line (redirect, 100 Continue) starts the final response's headers. */
        if (len > 5 && strncmp(data, "HTTP/", 5) == 0)
                b->len = 0;
        return cb_buf_append(b, data, len) == 0 ? len : 0;
}

/* Where a streamed file part is: its description and the next offset libcurl reads. */
struct part_reader {
        const struct cb_upstream_part *part;
        uint64_t pos;
};

static size_t on_part_read(char *buf, size_t size, size_t n, void *arg)
{
        struct part_reader *r = arg;
        uint64_t left = r->part->size - r->pos;
        size_t want = size * n;

        if (want > left)
                want = (size_t)left;
        if (want == 0)
                return 0;
        if (r->part->read_at(r->part->ctx, r->pos, buf, want) != 0)
                return CURL_READFUNC_ABORT;
        r->pos += want;
        return want;
}

static int on_part_seek(void *arg, curl_off_t off, int origin)
{
        struct part_reader *r = arg;

        if (origin != SEEK_SET || off < 0 || (uint64_t)off > r->part->size)
                return CURL_SEEKFUNC_CANTSEEK;
        r->pos = (uint64_t)off;
        return CURL_SEEKFUNC_OK;
}

/* Build the multipart body of `req` on `h`; readers[] holds one state per part (caller's
 * storage). NULL when out of memory or over CB_UPSTREAM_MAX_PARTS; curl_mime_free it. */
static curl_mime *build_mime(CURL *h, const struct cb_upstream_req *req,
                             struct part_reader *readers)
{
        curl_mime *mime = req->n_parts <= CB_UPSTREAM_MAX_PARTS ? curl_mime_init(h) : NULL;
        bool ok = mime != NULL;

        for (size_t i = 0; ok && i < req->n_parts; i++) {
                const struct cb_upstream_part *p = &req->parts[i];
                curl_mimepart *part = curl_mime_addpart(mime);

                ok = part != NULL && curl_mime_name(part, p->name) == CURLE_OK;
                if (ok && p->value != NULL) {
                        ok = curl_mime_data(part, p->value, CURL_ZERO_TERMINATED) == CURLE_OK;
                } else if (ok) {
                        readers[i].part = p;
                        readers[i].pos = 0;
                        ok = curl_mime_data_cb(part, (curl_off_t)p->size, on_part_read,
                                               on_part_seek, NULL, &readers[i]) == CURLE_OK &&
                             curl_mime_filename(part, p->filename) == CURLE_OK &&
                             curl_mime_type(part, p->content_type) == CURLE_OK;
                }
        }
        if (!ok) {
                curl_mime_free(mime);
                mime = NULL;
        }
        return mime;
}

static void set_options(CURL *h, const struct cb_upstream_req *req, struct cb_upstream_resp *resp,
                        struct curl_slist *headers, struct body_ctx *body)
{
        long timeout = req->timeout_ms > 0 ? req->timeout_ms : 30000;

        curl_easy_setopt(h, CURLOPT_URL, req->url);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout < 5000 ? timeout : 5000L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
        if (req->follow_redirects) {
                curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
                curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
                curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
                curl_easy_setopt(h, CURLOPT_UNRESTRICTED_AUTH, 0L);
        }
        if (req->sink != NULL && req->low_speed_s > 0) {
                curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
                curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, req->low_speed_s);
        }
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &resp->heads);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(h, CURLOPT_USERAGENT, "callbridge/" CB_VERSION);
        if (req->userpwd != NULL) {
                curl_easy_setopt(h, CURLOPT_HTTPAUTH,
                                 req->aws_sigv4 != NULL ? CURLAUTH_AWS_SIGV4 : CURLAUTH_BASIC);
                curl_easy_setopt(h, CURLOPT_USERPWD, req->userpwd);
                if (req->aws_sigv4 != NULL)
                        curl_easy_setopt(h, CURLOPT_AWS_SIGV4, req->aws_sigv4);
        }
        if (strcmp(req->method, "GET") == 0) {
                curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        } else if (strcmp(req->method, "DELETE") == 0 && req->body == NULL) {
                curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
        } else if (strcmp(req->method, "HEAD") == 0) {
                curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        } else if (req->parts == NULL) {
                if (strcmp(req->method, "POST") != 0)
                        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
                curl_easy_setopt(h, CURLOPT_POST, 1L);
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
                curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                                 (curl_off_t)(req->body ? req->body_len : 0));
        }
}

/* How deep this thread is in cb_upstream_perform: a request made from inside another one's
 * callbacks (an STT upload reading its audio from S3) cannot share the thread's handle, which
 * is busy; it gets a handle of its own for that one request. */
static _Thread_local int depth;

int cb_upstream_perform(const struct cb_upstream_req *req, struct cb_upstream_resp *resp)
{
        struct curl_slist *headers = NULL;
        int64_t t0 = cb_mono_us();
        bool nested = depth > 0;
        CURL *h = nested ? curl_easy_init() : thread_handle();
        CURLcode rc = CURLE_FAILED_INIT;
        struct body_ctx body = {.h = h, .req = req, .buf = &resp->body};
        struct part_reader readers[CB_UPSTREAM_MAX_PARTS];
        curl_mime *mime = NULL;
        long sent = 0;

        memset(resp, 0, sizeof(*resp));
        resp->body.max = req->max_response ? req->max_response : DEFAULT_MAX_RESPONSE;
        resp->heads.max = MAX_HEADER_BYTES;
        /* No "Expect: 100-continue" round trip on larger bodies. Not with SigV4: libcurl 7.88
         * signs every header given, and an empty one it then leaves out breaks the signature. */
        if (req->aws_sigv4 == NULL)
                headers = curl_slist_append(headers, "Expect:");
        for (size_t i = 0; i < CB_UPSTREAM_MAX_HEADERS && req->headers[i] != NULL; i++)
                headers = curl_slist_append(headers, req->headers[i]);
        if (h == NULL || (headers == NULL && req->headers[0] != NULL) ||
            (headers == NULL && req->aws_sigv4 == NULL)) {
                snprintf(resp->error, sizeof(resp->error), "out of memory");
                goto out;
        }
        set_options(h, req, resp, headers, &body);
        if (req->parts != NULL) {
                mime = build_mime(h, req, readers);
                if (mime == NULL) {
                        snprintf(resp->error, sizeof(resp->error), "cannot build multipart body");
                        goto out;
                }
                curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
        }
        depth++;
        rc = curl_easy_perform(h);
        depth--;
        if (rc == CURLE_OK) {
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
                cb_buf_append(&resp->body, "", 1);
                resp->body.len--; /* NUL-terminated, not counted */
        } else {
                curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &sent);
                resp->maybe_sent = sent > 0;
                snprintf(resp->error, sizeof(resp->error), "%s", curl_easy_strerror(rc));
        }
out:
        if (h != NULL)
                curl_easy_setopt(h, CURLOPT_MIMEPOST, NULL); /* the handle outlives `mime` */
        curl_mime_free(mime);
        curl_slist_free_all(headers);
        if (nested && h != NULL)
                curl_easy_cleanup(h);
        cb_upstream_observe(req->service, resp->status, cb_mono_us() - t0);
        return rc == CURLE_OK ? 0 : -1;
}

void cb_upstream_resp_free(struct cb_upstream_resp *resp)
{
        cb_buf_free(&resp->body);
        cb_buf_free(&resp->heads);
}

bool cb_upstream_resp_header(const struct cb_upstream_resp *resp, const char *name, char *out,
                             size_t out_size)
{
        size_t nlen = strlen(name);
        const char *p = resp->heads.data;
        const char *end = p ? p + resp->heads.len : NULL;

        while (p != NULL && p < end) {
                const char *eol = memchr(p, '\n', (size_t)(end - p));
                const char *v;
                size_t vlen;

                if (eol == NULL)
                        eol = end;
                if ((size_t)(eol - p) > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
                        v = p + nlen + 1;
                        while (v < eol && (*v == ' ' || *v == '\t'))
                                v++;
                        vlen = (size_t)(eol - v);
                        while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == ' '))
                                vlen--;
                        if (vlen >= out_size)
                                return false;
                        memcpy(out, v, vlen);
                        out[vlen] = '\0';
                        return true;
                }
                p = eol + 1;
        }
        return false;
}
