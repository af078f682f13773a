/* What the s3 storage provider's files share: the provider and put state, the signed request
 * and the answer helpers (s3.c), the writes (s3_put.c). Private to src/storage/. */
#ifndef CB_STORAGE_S3_INT_H
#define CB_STORAGE_S3_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* AWS URI encoding of a query value into out; false when it does not fit out_size. */
bool cb_s3_uri_encode(const char *in, char *out, size_t out_size);
/* The text of the first <tag> element of `xml` into out; false when absent or too long. */
bool cb_s3_xml_text(const char *xml, const char *tag, char *out, size_t out_size);
/* The failure of a request that got an answer into err: "s3 PUT key: 403 Code: ...". */
void cb_s3_http_err(const struct cb_upstream_resp *resp, const char *method, const char *key,
                    char *err, size_t err_size);
/* One signed request on `key` with the canonical `query` (may be ""), an optional extra
 * header, and a body. 0 when an answer arrived (any status; `resp` freed by the caller in
 * every case), -1 on a transport failure with `err` set. */
int cb_s3_request(struct s3 *st, const char *method, const char *key, const char *query,
                  const char *extra_header, const void *body, size_t len, size_t max_response,
                  struct cb_upstream_resp *resp, char *err, size_t err_size);

/* The put operations of cb_storage_s3 (s3_put.c). */
int cb_s3_put_begin(void *self, const char *key, struct cb_storage_put **putp, char *err,
                    size_t err_size);
int cb_s3_put_write(struct cb_storage_put *put, const void *data, size_t len, char *err,
                    size_t err_size);
int cb_s3_put_commit(struct cb_storage_put *put, char *err, size_t err_size);
void cb_s3_put_abort(struct cb_storage_put *put);

#endif
