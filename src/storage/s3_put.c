/* The s3 provider's writes: a put buffers one part; an object of up to one part is a single
 * PUT at commit, a larger one a multipart upload (parts as they fill,
 * CompleteMultipartUpload at commit, AbortMultipartUpload on abort or failure). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/log.h"
#include "s3_int.h"

/* ---- multipart -------------------------------------------------------------------------- */

/* POST ?uploads= : start a multipart upload, keep its id. 0 or -1 with `err`. */
static int multipart_create(struct cb_storage_put *put, char *err, size_t err_size)
{
        struct cb_upstream_resp resp;
        char id[UPLOAD_ID_MAX];
        int rc = -1;

        if (cb_s3_request(put->st, "POST", put->key, "uploads=", NULL, NULL, 0, XML_MAX, &resp, err,
                          err_size) != 0)
                goto out;
        if (resp.status != 200) {
                cb_s3_http_err(&resp, "CreateMultipartUpload", put->key, err, err_size);
                goto out;
        }
        if (!cb_s3_xml_text(resp.body.data, "UploadId", id, sizeof(id)) || id[0] == '\0') {
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

        if (!cb_s3_uri_encode(put->upload_id, id, sizeof(id)))
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
        if (cb_s3_request(put->st, "PUT", put->key, query, NULL,
                          put->part.data ? put->part.data : "", put->part.len, XML_MAX, &resp, err,
                          err_size) != 0)
                goto out;
        if (resp.status != 200) {
                cb_s3_http_err(&resp, "UploadPart", put->key, err, err_size);
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
        if (cb_s3_request(put->st, "POST", put->key, query, NULL, xml.data, xml.len, XML_MAX, &resp,
                          err, err_size) != 0)
                goto out;
        if (resp.status != 200 || (resp.body.data && strstr(resp.body.data, "<Error>") != NULL)) {
                cb_s3_http_err(&resp, "CompleteMultipartUpload", put->key, err, err_size);
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
        if (cb_s3_request(put->st, "DELETE", put->key, query, NULL, NULL, 0, XML_MAX, &resp, err,
                          sizeof(err)) != 0)
                cb_warn("%s (the incomplete upload stays until the bucket expires it)", err);
        else if (resp.status != 204 && resp.status != 200 && resp.status != 404) {
                cb_s3_http_err(&resp, "AbortMultipartUpload", put->key, err, sizeof(err));
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

int cb_s3_put_begin(void *self, const char *key, struct cb_storage_put **putp, char *err,
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

int cb_s3_put_write(struct cb_storage_put *put, const void *data, size_t len, char *err,
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

void cb_s3_put_abort(struct cb_storage_put *put)
{
        if (put == NULL)
                return;
        if (put->upload_id != NULL)
                multipart_abort(put);
        put_free(put);
}

int cb_s3_put_commit(struct cb_storage_put *put, char *err, size_t err_size)
{
        struct cb_upstream_resp resp = {0};
        int rc = -1;

        if (put->upload_id == NULL) {
                if (cb_s3_request(put->st, "PUT", put->key, "", NULL,
                                  put->part.data ? put->part.data : "", put->part.len, XML_MAX,
                                  &resp, err, err_size) != 0)
                        goto out;
                if (resp.status != 200) {
                        cb_s3_http_err(&resp, "PUT", put->key, err, err_size);
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
                cb_s3_put_abort(put); /* aborts the multipart upload, if any: nothing is left */
        return rc;
}
