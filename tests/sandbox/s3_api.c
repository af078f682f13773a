/* callbridge-sandbox: the S3 emulation. Path-style /<bucket>/<key> on the one bucket of
 * --s3-bucket: PUT, GET (Range → 206; unsatisfiable → 416), HEAD, DELETE, and multipart
 * uploads (POST ?uploads, PUT ?partNumber&uploadId, POST ?uploadId, DELETE ?uploadId).
 * Every request must carry a valid AWS Signature V4 for --s3-access-key-id and its secret in
 * --s3-region (s3_sig.c) and an x-amz-content-sha256 matching the body (or UNSIGNED-PAYLOAD).
 * Errors are S3's XML <Error> documents. */
#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "s3_emu.h"
#include "s3_sig.h"
#include "sandbox.h"

#define MAX_FIELDS 64
#define MAX_SKEW_S 900
#define XML_TYPE   "application/xml"
#define XML_HEAD   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define S3_NS      "http://s3.amazonaws.com/doc/2006-03-01/"

/* A request's headers and query arguments, borrowed from libmicrohttpd. */
struct fields {
        struct sb_sigv4_kv kv[MAX_FIELDS];
        size_t n;
};

/* What one S3 request is about. */
struct s3_req {
        const struct sb_request *req;
        const char *key;       /* after "/<bucket>/" ("" for the bucket itself) */
        const char *upload_id; /* ?uploadId=, or NULL */
        char resource[1024];   /* "/<bucket>/<key>" for <Resource> */
};

/* Append `s` with XML escaping. */
static void xml_escape(FILE *f, const char *s)
{
        for (; *s != '\0'; s++) {
                switch (*s) {
                case '&':
                        fputs("&amp;", f);
                        break;
                case '<':
                        fputs("&lt;", f);
                        break;
                case '>':
                        fputs("&gt;", f);
                        break;
                case '"':
                        fputs("&quot;", f);
                        break;
                default:
                        fputc(*s, f);
                }
        }
}

/* An S3 <Error> document. */
static void s3_error(struct sb_reply *reply, unsigned int status, const char *code,
                     const char *message, const char *resource)
{
        unsigned char rnd[8];
        char *xml = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&xml, &len);

        if (f == NULL) {
                reply->status = status;
                return;
        }
        RAND_bytes(rnd, sizeof(rnd));
        fprintf(f, XML_HEAD "<Error><Code>%s</Code><Message>", code);
        xml_escape(f, message);
        fputs("</Message><Resource>", f);
        xml_escape(f, resource ? resource : "");
        fprintf(f, "</Resource><RequestId>%02X%02X%02X%02X%02X%02X%02X%02X</RequestId></Error>",
                rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
        if (fclose(f) == 0)
                sb_reply_data(reply, status, XML_TYPE, xml, len);
        else
                reply->status = status;
        free(xml);
}

static void fault_reply(enum sb_fault fault, const struct sb_request *req, struct sb_reply *reply)
{
        if (fault == SB_FAULT_RATE_LIMIT)
                s3_error(reply, 503, "SlowDown", "Please reduce your request rate.", req->path);
        else
                s3_error(reply, 500, "InternalError",
                         "We encountered an internal error. Please try again.", req->path);
}

/* True when the query has `name` (with or without a value). */
static bool has_arg(struct MHD_Connection *conn, const char *name)
{
        const char *v = NULL;
        size_t vlen = 0;

        return MHD_lookup_connection_value_n(conn, MHD_GET_ARGUMENT_KIND, name, strlen(name), &v,
                                             &vlen) == MHD_YES;
}

static const char *classify(struct MHD_Connection *conn, const char *method)
{
        bool upload = has_arg(conn, "uploadId");

        if (strcmp(method, "PUT") == 0)
                return upload ? "s3.multipart.part" : "s3.put";
        if (strcmp(method, "POST") == 0)
                return has_arg(conn, "uploads") ? "s3.multipart.create" : "s3.multipart.complete";
        if (strcmp(method, "DELETE") == 0)
                return upload ? "s3.multipart.abort" : "s3.delete";
        if (strcmp(method, "HEAD") == 0)
                return "s3.head";
        return "s3.get";
}

const struct sb_upstream sb_s3_upstream = {
    .name = "s3", .fault_reply = fault_reply, .endpoint = classify};

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
        struct fields *f = cls;

        (void)kind;
        if (f->n < MAX_FIELDS) {
                f->kv[f->n].name = key;
                f->kv[f->n].value = value;
                f->n++;
        }
        return MHD_YES;
}

/* Seconds between X-Amz-Date and now; a huge number when it cannot be read. */
static long long skew_s(const char *amz_date)
{
        struct tm tm = {0};
        const char *end = amz_date ? strptime(amz_date, "%Y%m%dT%H%M%SZ", &tm) : NULL;
        long long d;

        if (end == NULL || *end != '\0')
                return 1LL << 40;
        d = (long long)time(NULL) - (long long)timegm(&tm);
        return d < 0 ? -d : d;
}

/* The signature and payload checks; false after answering. */
static bool authenticate(const struct s3_req *s, struct sb_reply *reply)
{
        const struct sb_request *req = s->req;
        const struct sb_config *cfg = req->cfg;
        struct fields headers = {0}, query = {0};
        const char *hash = sb_request_header(req, "x-amz-content-sha256");
        struct sb_sigv4_keys keys = {cfg->s3_access_key_id, cfg->s3_secret, cfg->s3_region, "s3"};
        char why[512], sum_hex[65];
        unsigned char sum[32];
        unsigned int n = 0;
        static const char *const codes[] = {
            [SB_SIGV4_MISSING] = "AccessDenied",
            [SB_SIGV4_MALFORMED] = "AuthorizationHeaderMalformed",
            [SB_SIGV4_UNKNOWN_KEY] = "InvalidAccessKeyId",
            [SB_SIGV4_WRONG_REGION] = "AuthorizationHeaderMalformed",
            [SB_SIGV4_MISMATCH] = "SignatureDoesNotMatch",
        };
        enum sb_sigv4_status st;

        if (cfg->s3_access_key_id == NULL || cfg->s3_secret == NULL) {
                s3_error(reply, 403, "AccessDenied",
                         "the sandbox's S3 is not configured (--s3-access-key-id, "
                         "--s3-secret-access-key-file)",
                         s->resource);
                return false;
        }
        if (hash == NULL) {
                s3_error(reply, 400, "InvalidRequest",
                         "Missing required header for this request: x-amz-content-sha256",
                         s->resource);
                return false;
        }
        MHD_get_connection_values(req->conn, MHD_HEADER_KIND, collect, &headers);
        MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, collect, &query);
        {
                struct sb_sigv4_request sr = {req->method, req->path, query.kv, query.n,
                                              headers.kv,  headers.n, hash};
                st = sb_sigv4_verify(&sr, &keys, why, sizeof(why));
        }
        if (st != SB_SIGV4_OK) {
                s3_error(reply, st == SB_SIGV4_MALFORMED || st == SB_SIGV4_WRONG_REGION ? 400 : 403,
                         codes[st], why, s->resource);
                return false;
        }
        if (skew_s(sb_request_header(req, "X-Amz-Date")) > MAX_SKEW_S) {
                s3_error(reply, 403, "RequestTimeTooSkewed",
                         "The difference between the request time and the current time is too "
                         "large.",
                         s->resource);
                return false;
        }
        if (strcmp(hash, "UNSIGNED-PAYLOAD") == 0)
                return true;
        EVP_Digest(req->body, req->body_len, sum, &n, EVP_sha256(), NULL);
        for (size_t i = 0; i < sizeof(sum); i++)
                snprintf(sum_hex + 2 * i, 3, "%02x", sum[i]);
        if (strcasecmp(hash, sum_hex) != 0) {
                s3_error(reply, 400, "XAmzContentSHA256Mismatch",
                         "The provided 'x-amz-content-sha256' header does not match what was "
                         "computed.",
                         s->resource);
                return false;
        }
        return true;
}

static void state_error(const struct s3_req *s, struct sb_reply *reply, const struct sb_s3_err *err)
{
        s3_error(reply, err->status, err->code, err->message, s->resource);
}

static void internal_error(const struct s3_req *s, struct sb_reply *reply)
{
        s3_error(reply, 500, "InternalError", "sandbox: out of memory", s->resource);
}

static void put_object(const struct s3_req *s, struct sb_reply *reply)
{
        char etag[SB_S3_ETAG_MAX];

        if (sb_s3_object_put(s->key, s->req->body, s->req->body_len, etag) != 0) {
                internal_error(s, reply);
                return;
        }
        sb_reply_data(reply, 200, NULL, "", 0);
        sb_reply_header(reply, "ETag", etag);
}

/* A decimal number at `s` into *out, with *end after it; false when `s` starts with no digit.
 * Larger than unsigned long long reads as ULLONG_MAX (so a huge suffix is the whole object). */
static bool range_number(const char *s, unsigned long long *out, const char **end)
{
        char *after = NULL;

        if (!isdigit((unsigned char)s[0]))
                return false;
        *out = strtoull(s, &after, 10);
        *end = after;
        return true;
}

/* Parse "bytes=a-b", "bytes=a-" or "bytes=-n" against `size` into [*first, *last]. False
 * when the range cannot be satisfied (or is not a single byte range). */
static bool parse_range(const char *h, size_t size, size_t *first, size_t *last)
{
        unsigned long long a = 0, b = 0;
        const char *end = NULL;

        if (strncmp(h, "bytes=", 6) != 0 || size == 0)
                return false;
        h += 6;
        if (h[0] == '-') {
                if (!range_number(h + 1, &b, &end) || *end != '\0' || b == 0)
                        return false;
                *first = b >= size ? 0 : size - (size_t)b;
                *last = size - 1;
                return true;
        }
        if (!range_number(h, &a, &end) || *end != '-' || a >= size)
                return false;
        h = end + 1;
        if (h[0] == '\0') {
                b = size - 1;
        } else {
                if (!range_number(h, &b, &end) || *end != '\0' || b < a)
                        return false;
                if (b >= size)
                        b = size - 1;
        }
        *first = (size_t)a;
        *last = (size_t)b;
        return true;
}

static void get_object(const struct s3_req *s, struct sb_reply *reply, bool head)
{
        const char *range = sb_request_header(s->req, "Range");
        unsigned char *data = NULL;
        char etag[SB_S3_ETAG_MAX], cr[96];
        size_t len = 0, first = 0, last = 0;
        int rc = sb_s3_object_copy(s->key, &data, &len, etag);

        if (rc < 0) {
                internal_error(s, reply);
                return;
        }
        if (rc > 0) {
                s3_error(reply, 404, "NoSuchKey", "The specified key does not exist.", s->resource);
                return;
        }
        if (range != NULL && !head) {
                if (!parse_range(range, len, &first, &last)) {
                        s3_error(reply, 416, "InvalidRange",
                                 "The requested range is not satisfiable", s->resource);
                        snprintf(cr, sizeof(cr), "bytes */%zu", len);
                        sb_reply_header(reply, "Content-Range", cr);
                } else {
                        sb_reply_data(reply, 206, "application/octet-stream", data + first,
                                      last - first + 1);
                        snprintf(cr, sizeof(cr), "bytes %zu-%zu/%zu", first, last, len);
                        sb_reply_header(reply, "Content-Range", cr);
                }
        } else {
                /* For HEAD libmicrohttpd sends the length of this body but not the body. */
                sb_reply_data(reply, 200, "application/octet-stream", data, len);
        }
        sb_reply_header(reply, "ETag", etag);
        sb_reply_header(reply, "Accept-Ranges", "bytes");
        free(data);
}

static void delete_object(const struct s3_req *s, struct sb_reply *reply)
{
        sb_s3_object_delete(s->key);
        sb_reply_data(reply, 204, NULL, "", 0);
}

/* An XML answer built with `fmt` (values already safe: ids, hex, validated keys). */
static void xml_reply(struct sb_reply *reply, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void xml_reply(struct sb_reply *reply, const char *fmt, ...)
{
        char *body = NULL;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&body, fmt, ap);
        va_end(ap);
        if (n < 0) {
                reply->status = 500;
                return;
        }
        sb_reply_data(reply, 200, XML_TYPE, body, (size_t)n);
        free(body);
}

static void multipart_create(const struct s3_req *s, struct sb_reply *reply)
{
        char id[SB_S3_UPLOAD_ID + 1];

        if (sb_s3_upload_create(s->key, id) != 0) {
                internal_error(s, reply);
                return;
        }
        xml_reply(reply,
                  XML_HEAD "<InitiateMultipartUploadResult xmlns=\"" S3_NS "\"><Bucket>%s</Bucket>"
                           "<Key>%s</Key><UploadId>%s</UploadId></InitiateMultipartUploadResult>",
                  s->req->cfg->s3_bucket, s->key, id);
}

static void multipart_part(const struct s3_req *s, struct sb_reply *reply)
{
        const char *num = sb_request_query(s->req, "partNumber");
        struct sb_s3_err err = {0};
        char etag[SB_S3_ETAG_MAX], *end = NULL;
        long n = num ? strtol(num, &end, 10) : 0;

        if (num == NULL || end == num || *end != '\0' || n < 1 || n > SB_S3_MAX_PART_NO) {
                s3_error(reply, 400, "InvalidArgument",
                         "Part number must be an integer between 1 and 10000, inclusive",
                         s->resource);
                return;
        }
        sb_s3_upload_part(s->upload_id, s->key, n, s->req->body, s->req->body_len, etag, &err);
        if (err.status != 0) {
                state_error(s, reply, &err);
                return;
        }
        sb_reply_data(reply, 200, NULL, "", 0);
        sb_reply_header(reply, "ETag", etag);
}

/* The text between <tag> and </tag> inside [p, end), or false. */
static bool xml_field(const char *p, const char *end, const char *tag, char *out, size_t size)
{
        char open[32], close_[32];
        const char *a, *b;

        snprintf(open, sizeof(open), "<%s>", tag);
        snprintf(close_, sizeof(close_), "</%s>", tag);
        a = memmem(p, (size_t)(end - p), open, strlen(open));
        if (a == NULL)
                return false;
        a += strlen(open);
        b = memmem(a, (size_t)(end - a), close_, strlen(close_));
        if (b == NULL || (size_t)(b - a) >= size)
                return false;
        memcpy(out, a, (size_t)(b - a));
        out[b - a] = '\0';
        return true;
}

/* ETag text without its quotes (raw or as &quot;). */
static void etag_unquote(char *s)
{
        char *w = s;

        for (char *r = s; *r != '\0';) {
                if (*r == '"') {
                        r++;
                } else if (strncmp(r, "&quot;", 6) == 0) {
                        r += 6;
                } else {
                        *w++ = *r++;
                }
        }
        *w = '\0';
}

/* A <PartNumber> text: a whole decimal number, nothing around it (S3 rejects the body as
 * MalformedXML otherwise). A number no part was uploaded with is InvalidPart when completing. */
static bool part_number(const char *text, long *out)
{
        char *end = NULL;

        if (!isdigit((unsigned char)text[0]))
                return false;
        errno = 0;
        *out = strtol(text, &end, 10);
        return errno == 0 && *end == '\0';
}

/* The <Part>s of a CompleteMultipartUpload body; NULL (after answering) when malformed. */
static struct sb_s3_part_ref *parse_parts(const struct s3_req *s, struct sb_reply *reply, size_t *n)
{
        const char *p = s->req->body, *end = s->req->body + s->req->body_len;
        struct sb_s3_part_ref *parts = NULL;
        size_t count = 0;

        *n = 0;
        while ((p = memmem(p, (size_t)(end - p), "<Part>", 6)) != NULL) {
                const char *close_ = memmem(p, (size_t)(end - p), "</Part>", 7);
                char num[16];
                struct sb_s3_part_ref *grown;

                if (close_ == NULL || count >= SB_S3_MAX_PART_NO)
                        goto malformed;
                grown = realloc(parts, (count + 1) * sizeof(*parts));
                if (grown == NULL)
                        goto malformed;
                parts = grown;
                if (!xml_field(p, close_, "PartNumber", num, sizeof(num)) ||
                    !part_number(num, &parts[count].number) ||
                    !xml_field(p, close_, "ETag", parts[count].etag, sizeof(parts[count].etag)))
                        goto malformed;
                etag_unquote(parts[count].etag);
                count++;
                p = close_ + 7;
        }
        if (count == 0)
                goto malformed;
        *n = count;
        return parts;
malformed:
        free(parts);
        s3_error(reply, 400, "MalformedXML",
                 "The XML you provided was not well-formed or did not validate against our "
                 "published schema",
                 s->resource);
        return NULL;
}

static void multipart_complete(const struct s3_req *s, struct sb_reply *reply)
{
        struct sb_s3_err err = {0};
        char etag[SB_S3_ETAG_MAX];
        size_t n = 0;
        struct sb_s3_part_ref *parts = parse_parts(s, reply, &n);

        if (parts == NULL)
                return;
        sb_s3_upload_complete(s->upload_id, s->key, parts, n, etag, &err);
        free(parts);
        if (err.status != 0) {
                state_error(s, reply, &err);
                return;
        }
        xml_reply(reply,
                  XML_HEAD "<CompleteMultipartUploadResult xmlns=\"" S3_NS "\"><Location>%s"
                           "</Location><Bucket>%s</Bucket><Key>%s</Key><ETag>&quot;%.*s&quot;"
                           "</ETag></CompleteMultipartUploadResult>",
                  s->resource, s->req->cfg->s3_bucket, s->key, (int)strlen(etag) - 2, etag + 1);
}

static void multipart_abort(const struct s3_req *s, struct sb_reply *reply)
{
        struct sb_s3_err err = {0};

        sb_s3_upload_abort(s->upload_id, s->key, &err);
        if (err.status != 0) {
                state_error(s, reply, &err);
                return;
        }
        sb_reply_data(reply, 204, NULL, "", 0);
}

/* Dispatch an authenticated object request on method and query. */
static void dispatch(const struct s3_req *s, struct sb_reply *reply)
{
        const char *m = s->req->method;
        bool upload = s->upload_id != NULL;

        if (strcmp(m, "PUT") == 0 && upload)
                multipart_part(s, reply);
        else if (strcmp(m, "PUT") == 0)
                put_object(s, reply);
        else if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
                get_object(s, reply, strcmp(m, "HEAD") == 0);
        else if (strcmp(m, "DELETE") == 0 && upload)
                multipart_abort(s, reply);
        else if (strcmp(m, "DELETE") == 0)
                delete_object(s, reply);
        else if (has_arg(s->req->conn, "uploads"))
                multipart_create(s, reply);
        else if (upload)
                multipart_complete(s, reply);
        else
                s3_error(reply, 400, "InvalidRequest", "POST needs ?uploads or ?uploadId",
                         s->resource);
}

void sb_s3_handle(const struct sb_request *req, struct sb_reply *reply)
{
        struct s3_req s = {.req = req};
        const char *bucket = req->path + 1;
        size_t blen = strcspn(bucket, "/");

        snprintf(s.resource, sizeof(s.resource), "%s", req->path);
        s.key = bucket[blen] == '/' ? bucket + blen + 1 : "";
        s.upload_id = sb_request_query(req, "uploadId");
        if (!authenticate(&s, reply))
                return;
        if (blen != strlen(req->cfg->s3_bucket) ||
            strncmp(bucket, req->cfg->s3_bucket, blen) != 0) {
                s3_error(reply, 404, "NoSuchBucket", "The specified bucket does not exist",
                         s.resource);
                return;
        }
        if (s.key[0] == '\0') {
                s3_error(reply, 501, "NotImplemented",
                         "bucket operations are not emulated by the sandbox", s.resource);
                return;
        }
        dispatch(&s, reply);
}
