/* The `s3` storage provider: one object per key in an S3-compatible bucket, through the
 * shared libcurl client (connection reuse, TLS verification on), signed with AWS Signature
 * V4 by libcurl (CURLOPT_AWS_SIGV4).
 *
 * libcurl 7.88 (Debian 12) signs the path and query exactly as they are in the URL and takes
 * the payload hash from our x-amz-content-sha256 header, so this file writes queries in
 * canonical form (sorted, AWS-encoded, "name=" for an empty value) and sends the real SHA-256
 * of every body: the store then also checks the payload. Writes (single PUT or multipart) are
 * s3_put.c; this file has the provider, the signed request, reads, sizes and removals.
 * Retries are the callers' (jobs'); every request here is idempotent. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/crypto.h"
#include "callbridge/log.h"
#include "callbridge/storage.h"
#include "callbridge/upstream.h"
#include "callbridge/util.h"
#include "s3_int.h"

/* AWS URI encoding of a query value: unreserved characters kept, the rest %XX upper-case.
 * Writes at most out_size-1 characters; false when it does not fit. */
bool cb_s3_uri_encode(const char *in, char *out, size_t out_size)
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
bool cb_s3_xml_text(const char *xml, const char *tag, char *out, size_t out_size)
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
void cb_s3_http_err(const struct cb_upstream_resp *resp, const char *method, const char *key,
                    char *err, size_t err_size)
{
        char code[64] = "", msg[256] = "";

        cb_s3_xml_text(resp->body.data, "Code", code, sizeof(code));
        cb_s3_xml_text(resp->body.data, "Message", msg, sizeof(msg));
        if (code[0] != '\0')
                cb_err_printf(err, err_size, "s3 %s %s: HTTP %ld %s: %s", method, key, resp->status,
                              code, msg[0] ? msg : "(no message)");
        else
                cb_err_printf(err, err_size, "s3 %s %s: HTTP %ld", method, key, resp->status);
}

/* One signed request on `key` with the canonical `query` (may be ""), an optional extra
 * header, and a body. Returns 0 when an answer arrived (any status; `resp` to be freed by
 * the caller in every case), -1 on a transport failure with `err` set. */
int cb_s3_request(struct s3 *st, const char *method, const char *key, const char *query,
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
        if (cb_s3_request(self, "HEAD", key, "", NULL, NULL, 0, 0, &resp, err, err_size) != 0)
                goto out;
        if (resp.status == 404) {
                rc = 1;
        } else if (resp.status != 200) {
                cb_s3_http_err(&resp, "HEAD", key, err, err_size);
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
        if (cb_s3_request(self, "GET", key, "", range, NULL, 0, (len > XML_MAX ? len : XML_MAX) + 1,
                          &resp, err, err_size) != 0)
                goto out;
        if (resp.status != 206 && !(resp.status == 200 && off == 0)) {
                cb_s3_http_err(&resp, "GET", key, err, err_size);
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
        if (cb_s3_request(self, "DELETE", key, "", NULL, NULL, 0, XML_MAX, &resp, err, err_size) !=
            0)
                goto out;
        if (resp.status == 204 || resp.status == 200 || resp.status == 404)
                rc = 0;
        else
                cb_s3_http_err(&resp, "DELETE", key, err, err_size);
out:
        cb_upstream_resp_free(&resp);
        return rc;
}

const struct cb_storage_ops cb_storage_s3 = {
    .name = "s3",
    .create = s3_create,
    .destroy = s3_destroy,
    .put_begin = cb_s3_put_begin,
    .put_write = cb_s3_put_write,
    .put_commit = cb_s3_put_commit,
    .put_abort = cb_s3_put_abort,
    .size = s3_size,
    .read_at = s3_read_at,
    .remove = s3_remove,
};
