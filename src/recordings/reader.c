/* Reading a recording back: the sealed blob is opened through the storage's ranged reads, so a
 * player seeking into an hour of audio costs one chunk, not the file. */
#include <stdio.h>
#include <stdlib.h>

#include "callbridge/recordings.h"

struct cb_rec_reader {
        struct cb_recordings *rec;
        struct cb_opener *opener;
        char key[64];
};

static int from_storage(void *ctx, uint64_t off, void *buf, size_t len)
{
        struct cb_rec_reader *r = ctx;
        char err[256];

        return r->rec->storage->ops->read_at(r->rec->storage->self, r->key, off, buf, len, err,
                                             sizeof(err));
}

struct cb_rec_reader *cb_rec_reader_open(struct cb_recordings *rec, const char *key, char *err,
                                         size_t err_size)
{
        struct cb_rec_reader *r;
        uint64_t size = 0;
        int rc;

        if (!cb_recordings_enabled(rec)) {
                snprintf(err, err_size, "recordings are not configured");
                return NULL;
        }
        rc = rec->storage->ops->size(rec->storage->self, key, &size, err, err_size);
        if (rc != 0) {
                if (rc == 1)
                        snprintf(err, err_size, "the recording is not in storage");
                return NULL;
        }
        r = calloc(1, sizeof(*r));
        if (r == NULL || !cb_strlcpy(r->key, key, sizeof(r->key))) {
                snprintf(err, err_size, "out of memory");
                free(r);
                return NULL;
        }
        r->rec = rec;
        r->opener = cb_opener_new(rec->keys, from_storage, r, size, err, err_size);
        if (r->opener == NULL) {
                free(r);
                return NULL;
        }
        return r;
}

uint64_t cb_rec_reader_size(const struct cb_rec_reader *r)
{
        return cb_opener_plain_size(r->opener);
}

int cb_rec_reader_read(struct cb_rec_reader *r, uint64_t off, void *buf, size_t len, size_t *got)
{
        return cb_opener_read(r->opener, off, buf, len, got);
}

void cb_rec_reader_close(struct cb_rec_reader **rp)
{
        struct cb_rec_reader *r = *rp;

        if (r == NULL)
                return;
        cb_opener_free(&r->opener);
        free(r);
        *rp = NULL;
}
