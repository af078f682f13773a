/* The `s3` storage provider: one object per key in an S3-compatible bucket, through the
 * shared libcurl client (connection reuse, TLS verification on), signed with AWS Signature
 * V4 by libcurl (CURLOPT_AWS_SIGV4).
 *
 * libcurl 7.88 (Debian 12) signs the path and query exactly as they are in the URL and takes
 * the payload hash from our x-amz-content-sha256 header, so this file writes queries in
 * canonical form (sorted, AWS-encoded, "name=" for an empty value) and sends the real SHA-256
 * of every body: the store then also checks the payload. A put buffers one part: an object of
 * up to one part is a single PUT at commit, a larger one a multipart upload (parts as they
 * fill, CompleteMultipartUpload at commit, AbortMultipartUpload on abort or failure).
 * Retries are the callers' (jobs'); every request here is idempotent. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/log.h"
#include "callbridge/storage.h"
#include "callbridge/upstream.h"
#include "callbridge/util.h"

#define EMPTY_SHA256  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define XML_MAX       ((size_t)64 * 1024)
#define MAX_PARTS     10000
#define ETAG_MAX      128
#define UPLOAD_ID_MAX 1024

struct s3 {
        char *prefix;  /* URL up to the key: "https://host/bucket/" or "https://bucket.host/" */
        char *userpwd; /* "access_key_id:secret", wiped on destroy */
        char sigv4[96];
        size_t part_size;
        long timeout_ms;
};

/* A write in progress (this file's definition of the opaque type). */
struct cb_storage_put {
        struct s3 *st;
        char *key;
        struct cb_buf part; /* the part being filled, capped at part_size */
        char *upload_id;    /* NULL until a multipart upload is created */
        char (*etags)[ETAG_MAX];
        size_t n_parts, alloc_parts;
};

/* AWS URI encoding of a query value: unreserved characters kept, the rest %XX upper-case.
 * Writes at most out_size-1 characters; false when it does not fit. */
static bool uri_encode(const char *in, char *out, size_t out_size)
{
        static const char hex[] = "0123456789ABCDEF";
        size_t o = 0;

        for (const unsigned char *p = (const unsigned char *)in; *p != '\0'; p++) {
                bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                             (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' ||
                             *p == '~';
                if (o + (plain ? 1 : 3) >= out_size)
                        return false;
                if (plain) {
                        out[o++] = (char)*p;
                } else {
                        out[o++] = '%';
                        out[o++] = hex[*p >> 4];
                        out[o++] = hex[*p & 15];
                }
        }
        out[o] = '\0';
        return true;
}

/* Text of the first <tag>...</tag> in `xml` copied into `out`; false when absent or too long. */
static bool xml_text(const char *xml, const char *tag, char *out, size_t out_size)
{
        char open[64], close_[64];
        const char *a, *b;

        snprintf(open, sizeof(open), "<%s>", tag);
        snprintf(close_, sizeof(close_), "</%s>", tag);
        if (xml == NULL || (a = strstr(xml, open)) == NULL)
                return false;
        a += strlen(open);
        if ((b = strstr(a, close_)) == NULL || (size_t)(b - a) >= out_size)
                return false;
        memcpy(out, a, (size_t)(b - a));
        out[b - a] = '\0';
        return true;
}

/* The failure of a request that got an answer: "s3 PUT key: 403 SignatureDoesNotMatch: ...". */
static void http_err(const struct cb_upstream_resp *resp, const char *method, const char *key,
                     char *err, size_t err_size)
{
        char code[64] = "", msg[256] = "";

        xml_text(resp->body.data, "Code", code, sizeof(code));
        xml_text(resp->body.data, "Message", msg, sizeof(msg));
        if (code[0] != '\0')
                cb_err_printf(err, err_size, "s3 %s %s: HTTP %ld %s: %s", method, key, resp->status,
                              code, msg[0] ? msg : "(no message)");
        else
                cb_err_printf(err, err_size, "s3 %s %s: HTTP %ld", method, key, resp->status);
}

/* One signed request on `key` with the canonical `query` (may be ""), an optional extra
 * header, and a body. Returns 0 when an answer arrived (any status; `resp` to be freed by
 * the caller in every case), -1 on a transport failure with `err` set. */
static int request(struct s3 *st, const char *method, const char *key, const char *query,
                   const char *extra_header, const void *body, size_t len, size_t max_response,
                   struct cb_upstream_resp *resp, char *err, size_t err_size)
{
        struct cb_upstream_req req = {0};
        struct cb_buf url = {.max = 8192};
        char sha_header[96], hash[65];
        unsigned char sum[32];
        size_t nh = 0;
        int rc = -1;

        if (body != NULL && len > 0) {
                cb_sha256(body, len, sum);
                cb_hex(sum, sizeof(sum), hash);
        } else {
                memcpy(hash, EMPTY_SHA256, sizeof(hash));
        }
        snprintf(sha_header, sizeof(sha_header), "x-amz-content-sha256: %s", hash);
        if (cb_buf_printf(&url, "%s%s%s%s", st->prefix, key, query[0] ? "?" : "", query) != 0) {
                memset(resp, 0, sizeof(*resp));
                cb_err_printf(err, err_size, "s3 %s %s: URL too long", method, key);
                goto out;
        }
        req.service = "s3";
        req.method = method;
        req.url = url.data;
        req.headers[nh++] = sha_header;
        if (body != NULL)
                req.headers[nh++] = "Content-Type: application/octet-stream";
        if (extra_header != NULL)
                req.headers[nh++] = extra_header;
        req.body = body != NULL ? body : "";
        req.body_len = body != NULL ? len : 0;
        req.userpwd = st->userpwd;
        req.aws_sigv4 = st->sigv4;
        req.timeout_ms = st->timeout_ms;
        req.max_response = max_response;
        rc = cb_upstream_perform(&req, resp);
        if (rc != 0)
                cb_err_printf(err, err_size, "s3 %s %s: %s", method, key, resp->error);
out:
        cb_buf_free(&url);
        return rc;
}

/* ---- create / destroy ------------------------------------------------------------------- */

/* The URL prefix objects live under; NULL when the endpoint cannot be used. */
static char *url_prefix(const struct cb_config *cfg)
{
        const char *ep = cfg->storage.s3_endpoint;
        const char *bucket = cfg->storage.s3_bucket;
        const char *style = cfg->storage.s3_path_style;
        const char *host = strstr(ep, "://");
        struct cb_buf b = {.max = 4096};
        size_t eplen = strlen(ep);
        bool path_style;

        if (host == NULL)
                return NULL;
        host += 3;
        while (eplen > 0 && ep[eplen - 1] == '/')
                eplen--;
        if (strcmp(style, "auto") == 0) {
                size_t hl = strcspn(host, ":/");
                path_style = !(hl > 14 && strncmp(host + hl - 14, ".amazonaws.com", 14) == 0);
        } else {
                path_style = strcmp(style, "true") == 0;
        }
        if (path_style) {
                if (cb_buf_printf(&b, "%.*s/%s/", (int)eplen, ep, bucket) != 0)
                        goto fail;
        } else if (cb_buf_printf(&b, "%.*s%s.%.*s/", (int)(host - ep), ep, bucket,
                                 (int)(eplen - (size_t)(host - ep)), host) != 0) {
                goto fail;
        }
        return b.data;
fail:
        cb_buf_free(&b);
        return NULL;
}

static void s3_destroy(void *self)
{
        struct s3 *st = self;

        if (st == NULL)
                return;
        free(st->prefix);
        cb_secret_free(st->userpwd);
        free(st);
}

static void *s3_create(const struct cb_config *cfg)
{
        const struct cb_config *c = cfg;
        struct s3 *st = calloc(1, sizeof(*st));
        char *secret = NULL;
        size_t n;

        if (st == NULL)
                goto oom;
        if (c->storage.s3_endpoint == NULL || c->storage.s3_bucket == NULL ||
            c->storage.s3_access_key_id == NULL || c->storage.s3_secret_access_key_file == NULL) {
                cb_error("[storage] backend = s3 needs s3_endpoint, s3_bucket, s3_access_key_id "
                         "and s3_secret_access_key_file");
                goto fail;
        }
        secret = cb_config_read_secret(c->storage.s3_secret_access_key_file);
        if (secret == NULL || secret[0] == '\0') {
                cb_error("[storage] s3_secret_access_key_file %s cannot be read or is empty",
                         c->storage.s3_secret_access_key_file);
                goto fail;
        }
        n = strlen(c->storage.s3_access_key_id) + strlen(secret) + 2;
        if ((st->userpwd = malloc(n)) == NULL)
                goto oom;
        snprintf(st->userpwd, n, "%s:%s", c->storage.s3_access_key_id, secret);
        if ((st->prefix = url_prefix(c)) == NULL) {
                cb_error("[storage] s3_endpoint %s cannot be used with bucket %s",
                         c->storage.s3_endpoint, c->storage.s3_bucket);
                goto fail;
        }
        snprintf(st->sigv4, sizeof(st->sigv4), "aws:amz:%s:s3", c->storage.s3_region);
        st->part_size = (size_t)c->storage.s3_part_size_mb * 1024 * 1024;
        st->timeout_ms = c->storage.s3_timeout_ms;
        cb_secret_free(secret);
        return st;
oom:
        cb_error("out of memory creating the s3 storage");
fail:
        cb_secret_free(secret);
        s3_destroy(st);
        return NULL;
}

/* ---- multipart -------------------------------------------------------------------------- */

/* POST ?uploads= : start a multipart upload, keep its id. 0 or -1 with `err`. */
static int multipart_create(struct cb_storage_put *put, char *err, size_t err_size)
{
        struct cb_upstream_resp resp;
        char id[UPLOAD_ID_MAX];
        int rc = -1;

        if (request(put->st, "POST", put->key, "uploads=", NULL, NULL, 0, XML_MAX, &resp, err,
                    err_size) != 0)
                goto out;
        if (resp.status != 200) {
                http_err(&resp, "CreateMultipartUpload", put->key, err, err_size);
                goto out;
        }
        if (!xml_text(resp.body.data, "UploadId", id, sizeof(id)) || id[0] == '\0') {
                cb_err_printf(err, err_size,
                              "s3 CreateMultipartUpload %s: no UploadId in the answer", put->key);
                goto out;
        }
        if ((put->upload_id = strdup(id)) == NULL) {
                cb_err_printf(err, err_size, "out of memory");
                goto out;
        }
        rc = 0;
out:
        cb_upstream_resp_free(&resp);
        return rc;
}

/* "partNumber=N&uploadId=ID" or "uploadId=ID" (canonical order) into `out`. */
static bool upload_query(const struct cb_storage_put *put, size_t part_no, char *out,
                         size_t out_size)
{
        char id[UPLOAD_ID_MAX * 3];

        if (!uri_encode(put->upload_id, id, sizeof(id)))
                return false;
        if (part_no > 0)
                return snprintf(out, out_size, "partNumber=%zu&uploadId=%s", part_no, id) <
                       (int)out_size;
        return snprintf(out, out_size, "uploadId=%s", id) < (int)out_size;
}

/* PUT the filled part as the next part number, remember its ETag, empty the buffer. */
static int multipart_part(struct cb_storage_put *put, char *err, size_t err_size)
{
        struct cb_upstream_resp resp = {0};
        char query[UPLOAD_ID_MAX * 3 + 64];
        int rc = -1;

        if (put->n_parts >= MAX_PARTS) {
                cb_err_printf(err, err_size, "s3 %s: more than %d parts", put->key, MAX_PARTS);
                return -1;
        }
        if (put->n_parts == put->alloc_parts) {
                size_t n = put->alloc_parts ? put->alloc_parts * 2 : 16;
                void *grown = realloc(put->etags, n * sizeof(*put->etags));
                if (grown == NULL) {
                        cb_err_printf(err, err_size, "out of memory");
                        return -1;
                }
                put->etags = grown;
                put->alloc_parts = n;
        }
        if (!upload_query(put, put->n_parts + 1, query, sizeof(query))) {
                cb_err_printf(err, err_size, "s3 %s: upload id too long", put->key);
                return -1;
        }
        if (request(put->st, "PUT", put->key, query, NULL, put->part.data ? put->part.data : "",
                    put->part.len, XML_MAX, &resp, err, err_size) != 0)
                goto out;
        if (resp.status != 200) {
                http_err(&resp, "UploadPart", put->key, err, err_size);
                goto out;
        }
        if (!cb_upstream_resp_header(&resp, "ETag", put->etags[put->n_parts], ETAG_MAX)) {
                cb_err_printf(err, err_size, "s3 UploadPart %s: no ETag in the answer", put->key);
                goto out;
        }
        put->n_parts++;
        put->part.len = 0;
        rc = 0;
out:
        cb_upstream_resp_free(&resp);
        return rc;
}

/* POST ?uploadId= with the parts' ETags. S3 may answer 200 with an <Error> body. */
static int multipart_complete(struct cb_storage_put *put, char *err, size_t err_size)
{
        struct cb_upstream_resp resp = {0};
        struct cb_buf xml = {.max = (size_t)MAX_PARTS * 256};
        char query[UPLOAD_ID_MAX * 3 + 64];
        int rc = -1;

        if (!upload_query(put, 0, query, sizeof(query))) {
                cb_err_printf(err, err_size, "s3 %s: upload id too long", put->key);
                return -1;
        }
        int bad = cb_buf_puts(&xml, "<CompleteMultipartUpload>");
        for (size_t i = 0; i < put->n_parts; i++)
                bad |=
                    cb_buf_printf(&xml, "<Part><PartNumber>%zu</PartNumber><ETag>%s</ETag></Part>",
                                  i + 1, put->etags[i]);
        bad |= cb_buf_puts(&xml, "</CompleteMultipartUpload>");
        if (bad != 0) {
                cb_err_printf(err, err_size, "out of memory");
                goto out;
        }
        if (request(put->st, "POST", put->key, query, NULL, xml.data, xml.len, XML_MAX, &resp, err,
                    err_size) != 0)
                goto out;
        if (resp.status != 200 || (resp.body.data && strstr(resp.body.data, "<Error>") != NULL)) {
                http_err(&resp, "CompleteMultipartUpload", put->key, err, err_size);
                goto out;
        }
        rc = 0;
out:
        cb_upstream_resp_free(&resp);
        cb_buf_free(&xml);
        return rc;
}

/* DELETE ?uploadId= ; failures are logged (the bucket's lifecycle rule is the backstop). */
static void multipart_abort(struct cb_storage_put *put)
{
        struct cb_upstream_resp resp = {0};
        char query[UPLOAD_ID_MAX * 3 + 64];
        char err[256];

        if (!upload_query(put, 0, query, sizeof(query)))
                return;
        if (request(put->st, "DELETE", put->key, query, NULL, NULL, 0, XML_MAX, &resp, err,
                    sizeof(err)) != 0)
                cb_warn("%s (the incomplete upload stays until the bucket expires it)", err);
        else if (resp.status != 204 && resp.status != 200 && resp.status != 404) {
                http_err(&resp, "AbortMultipartUpload", put->key, err, sizeof(err));
                cb_warn("%s", err);
        }
        cb_upstream_resp_free(&resp);
}

/* ---- put -------------------------------------------------------------------------------- */

static void put_free(struct cb_storage_put *put)
{
        if (put == NULL)
                return;
        cb_buf_free(&put->part);
        free(put->key);
        free(put->upload_id);
        free(put->etags);
        free(put);
}

static int s3_put_begin(void *self, const char *key, struct cb_storage_put **putp, char *err,
                        size_t err_size)
{
        struct s3 *st = self;
        struct cb_storage_put *put = NULL;

        *putp = NULL;
        if (!cb_storage_key_ok(key)) {
                cb_err_printf(err, err_size, "invalid storage key");
                return -1;
        }
        put = calloc(1, sizeof(*put));
        if (put == NULL || (put->key = strdup(key)) == NULL) {
                free(put);
                cb_err_printf(err, err_size, "out of memory");
                return -1;
        }
        put->st = st;
        put->part.max = st->part_size;
        *putp = put;
        return 0;
}

static int s3_put_write(struct cb_storage_put *put, const void *data, size_t len, char *err,
                        size_t err_size)
{
        const char *p = data;

        while (len > 0) {
                size_t room = put->st->part_size - put->part.len;
                size_t n = len < room ? len : room;

                if (cb_buf_append(&put->part, p, n) != 0) {
                        cb_err_printf(err, err_size, "out of memory");
                        return -1;
                }
                p += n;
                len -= n;
                /* A full part goes out only when more data follows it (len > 0) or at commit,
                 * so an object of exactly one part stays a single PUT. */
                if (put->part.len == put->st->part_size && len > 0) {
                        if (put->upload_id == NULL && multipart_create(put, err, err_size) != 0)
                                return -1;
                        if (multipart_part(put, err, err_size) != 0)
                                return -1;
                }
        }
        return 0;
}

static void s3_put_abort(struct cb_storage_put *put)
{
        if (put == NULL)
                return;
        if (put->upload_id != NULL)
                multipart_abort(put);
        put_free(put);
}

static int s3_put_commit(struct cb_storage_put *put, char *err, size_t err_size)
{
        struct cb_upstream_resp resp = {0};
        int rc = -1;

        if (put->upload_id == NULL) {
                if (request(put->st, "PUT", put->key, "", NULL,
                            put->part.data ? put->part.data : "", put->part.len, XML_MAX, &resp,
                            err, err_size) != 0)
                        goto out;
                if (resp.status != 200) {
                        http_err(&resp, "PUT", put->key, err, err_size);
                        goto out;
                }
                rc = 0;
                goto out;
        }
        if (put->part.len > 0 && multipart_part(put, err, err_size) != 0)
                goto out;
        rc = multipart_complete(put, err, err_size);
out:
        cb_upstream_resp_free(&resp);
        if (rc == 0)
                put_free(put);
        else
                s3_put_abort(put); /* aborts the multipart upload, if any: nothing is left */
        return rc;
}

/* ---- read / size / remove --------------------------------------------------------------- */

/* A Content-Length value: digits only, at most INT64_MAX; false otherwise (*out untouched). */
static bool parse_length(const char *s, long long *out)
{
        char *end = NULL;
        long long v;

        if (!isdigit((unsigned char)s[0]))
                return false;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno != 0 || *end != '\0')
                return false;
        *out = v;
        return true;
}

static int s3_size(void *self, const char *key, uint64_t *size, char *err, size_t err_size)
{
        struct cb_upstream_resp resp = {0};
        char cl[32];
        long long n = -1;
        int rc = -1;

        if (!cb_storage_key_ok(key)) {
                cb_err_printf(err, err_size, "invalid storage key");
                return -1;
        }
        if (request(self, "HEAD", key, "", NULL, NULL, 0, 0, &resp, err, err_size) != 0)
                goto out;
        if (resp.status == 404) {
                rc = 1;
        } else if (resp.status != 200) {
                http_err(&resp, "HEAD", key, err, err_size);
        } else if (!cb_upstream_resp_header(&resp, "Content-Length", cl, sizeof(cl)) ||
                   !parse_length(cl, &n)) {
                cb_err_printf(err, err_size, "s3 HEAD %s: no Content-Length in the answer", key);
        } else {
                *size = (uint64_t)n;
                rc = 0;
        }
out:
        cb_upstream_resp_free(&resp);
        return rc;
}

static int s3_read_at(void *self, const char *key, uint64_t off, void *buf, size_t len, char *err,
                      size_t err_size)
{
        struct cb_upstream_resp resp = {0};
        char range[96];
        int rc = -1;

        if (!cb_storage_key_ok(key)) {
                cb_err_printf(err, err_size, "invalid storage key");
                return -1;
        }
        if (len == 0)
                return 0;
        snprintf(range, sizeof(range), "Range: bytes=%llu-%llu", (unsigned long long)off,
                 (unsigned long long)(off + len - 1));
        if (request(self, "GET", key, "", range, NULL, 0, (len > XML_MAX ? len : XML_MAX) + 1,
                    &resp, err, err_size) != 0)
                goto out;
        if (resp.status != 206 && !(resp.status == 200 && off == 0)) {
                http_err(&resp, "GET", key, err, err_size);
                goto out;
        }
        if (resp.body.len < len) {
                cb_err_printf(err, err_size,
                              "s3 GET %s: %zu bytes at %llu, wanted %zu (short object)", key,
                              resp.body.len, (unsigned long long)off, len);
                goto out;
        }
        memcpy(buf, resp.body.data, len);
        rc = 0;
out:
        cb_upstream_resp_free(&resp);
        return rc;
}

static int s3_remove(void *self, const char *key, char *err, size_t err_size)
{
        struct cb_upstream_resp resp = {0};
        int rc = -1;

        if (!cb_storage_key_ok(key)) {
                cb_err_printf(err, err_size, "invalid storage key");
                return -1;
        }
        if (request(self, "DELETE", key, "", NULL, NULL, 0, XML_MAX, &resp, err, err_size) != 0)
                goto out;
        if (resp.status == 204 || resp.status == 200 || resp.status == 404)
                rc = 0;
        else
                http_err(&resp, "DELETE", key, err, err_size);
out:
        cb_upstream_resp_free(&resp);
        return rc;
}

const struct cb_storage_ops cb_storage_s3 = {
    .name = "s3",
    .create = s3_create,
    .destroy = s3_destroy,
    .put_begin = s3_put_begin,
    .put_write = s3_put_write,
    .put_commit = s3_put_commit,
    .put_abort = s3_put_abort,
    .size = s3_size,
    .read_at = s3_read_at,
    .remove = s3_remove,
};
