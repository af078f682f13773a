/* callbridge-sandbox: what the S3 emulation's files share (s3_api.c answers, s3_state.c keeps the
 * objects and multipart uploads in memory under the state lock, s3_sig.c verifies SigV4). */
#ifndef CALLBRIDGE_SANDBOX_S3_H
#define CALLBRIDGE_SANDBOX_S3_H

#include <stdbool.h>
#include <stddef.h>

#define SB_S3_ETAG_MAX    64                        /* "\"<32 hex>-<parts>\"" */
#define SB_S3_UPLOAD_ID   32                        /* hex characters */
#define SB_S3_MIN_PART    ((size_t)5 * 1024 * 1024) /* every part but the last */
#define SB_S3_MAX_PART_NO 10000

/* The outcome of a state operation: 0 done, or the S3 error to answer. */
struct sb_s3_err {
        unsigned int status; /* 0 when done */
        const char *code;    /* "NoSuchKey"... (static) */
        char message[256];
};

/* One part named by CompleteMultipartUpload. */
struct sb_s3_part_ref {
        long number;
        char etag[SB_S3_ETAG_MAX]; /* quotes removed */
};

/* Store a copy of `data` as `key` (replacing it); its ETag into `etag`. -1 when out of memory. */
int sb_s3_object_put(const char *key, const void *data, size_t len, char etag[SB_S3_ETAG_MAX]);
/* Copy of `key` into `*data` and `*len` (caller frees `*data`) and its ETag. 0, 1 when missing, -1
 * when out of memory. */
int sb_s3_object_copy(const char *key, unsigned char **data, size_t *len,
                      char etag[SB_S3_ETAG_MAX]);
/* Delete `key`; missing is fine. */
void sb_s3_object_delete(const char *key);

/* Start an upload for `key`; its id into `id`. -1 when out of memory. */
int sb_s3_upload_create(const char *key, char id[SB_S3_UPLOAD_ID + 1]);
/* Store part `number` of upload `id` (replacing a previous one); its ETag into `etag`. */
void sb_s3_upload_part(const char *id, const char *key, long number, const void *data, size_t len,
                       char etag[SB_S3_ETAG_MAX], struct sb_s3_err *err);
/* Check the named parts (ascending, existing, ETags matching, all but the last at least
 * SB_S3_MIN_PART), join them into the object, forget the upload. */
void sb_s3_upload_complete(const char *id, const char *key, const struct sb_s3_part_ref *parts,
                           size_t n, char etag[SB_S3_ETAG_MAX], struct sb_s3_err *err);
/* Forget upload `id` and its parts. */
void sb_s3_upload_abort(const char *id, const char *key, struct sb_s3_err *err);

#endif
