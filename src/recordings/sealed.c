/* Small sealed documents (transcripts) in the same storage and format as recordings: one call
 * seals and stores a buffer, one reads it back whole. Bounded by CB_REC_DOC_MAX. */
#include <stdio.h>
#include <stdlib.h>

#include "callbridge/recordings.h"

struct put_ctx {
        struct cb_recordings *rec;
        struct cb_storage_put *put;
        char *err;
        size_t err_size;
};

static int to_put(void *ctx, const void *data, size_t len)
{
        struct put_ctx *p = ctx;

        return p->rec->storage->ops->put_write(p->put, data, len, p->err, p->err_size);
}

int cb_rec_doc_put(struct cb_recordings *rec, const char *key, const void *data, size_t len,
                   char *err, size_t err_size)
{
        const struct cb_storage_ops *ops;
        struct put_ctx p = {.rec = rec, .err = err, .err_size = err_size};
        struct cb_sealer *s;

        if (!cb_recordings_enabled(rec)) {
                snprintf(err, err_size, "recordings are not configured");
                return -1;
        }
        ops = rec->storage->ops;
        if (len > CB_REC_DOC_MAX ||
            ops->put_begin(rec->storage->self, key, &p.put, err, err_size) != 0) {
                if (len > CB_REC_DOC_MAX)
                        snprintf(err, err_size, "document too large (%zu bytes)", len);
                return -1;
        }
        s = cb_sealer_new_bound(rec->keys, key, to_put, &p);
        if (s == NULL || cb_sealer_write(s, data, len) != 0 || cb_sealer_finish(s) != 0) {
                if (err[0] == '\0')
                        snprintf(err, err_size, "sealing failed");
                cb_sealer_free(&s);
                ops->put_abort(p.put);
                return -1;
        }
        cb_sealer_free(&s);
        return ops->put_commit(p.put, err, err_size);
}

char *cb_rec_doc_get(struct cb_recordings *rec, const char *key, size_t *len, char *err,
                     size_t err_size)
{
        struct cb_rec_reader *r = cb_rec_reader_open(rec, key, err, err_size);
        uint64_t size;
        size_t got = 0;
        char *buf;

        if (r == NULL)
                return NULL;
        size = cb_rec_reader_size(r);
        buf = size <= CB_REC_DOC_MAX ? malloc((size_t)size + 1) : NULL;
        if (buf == NULL || cb_rec_reader_read(r, 0, buf, (size_t)size, &got) != 0 || got != size) {
                snprintf(err, err_size, "%s", buf ? "the document does not open" : "too large");
                free(buf);
                cb_rec_reader_close(&r);
                return NULL;
        }
        cb_rec_reader_close(&r);
        buf[got] = '\0';
        *len = got;
        return buf;
}
