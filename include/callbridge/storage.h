/* Where sealed blobs live: a `storage` interface with `local` (a directory) and `s3` (any S3-
 * compatible object store) providers, chosen by [storage] backend. Keys are built by callbridge
 * from UUIDs ("recordings/<call id>/<recording id>"), never from client input; providers still
 * refuse a key with "..", a leading '/', or characters outside [A-Za-z0-9/._-].
 *
 * Writes stream: put_begin → put_write* → put_commit (durable when it returns 0: fsync + rename
 * for local, the completed PUT or multipart upload for s3) or put_abort (nothing left behind).
 * Memory stays bounded whatever the size (s3 buffers one part). */
#ifndef CALLBRIDGE_STORAGE_H
#define CALLBRIDGE_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callbridge/config.h"

struct cb_storage_put; /* one write in progress */

struct cb_storage_ops {
        const char *name;
        /* NULL (reason logged) when the configuration is unusable. */
        void *(*create)(const struct cb_config *cfg);
        void (*destroy)(void *self);
        /* Start writing `key` (replacing it on commit). 0, or -1 with `err`. */
        int (*put_begin)(void *self, const char *key, struct cb_storage_put **put, char *err,
                         size_t err_size);
        /* 0, or -1 with `err` (the put must then be aborted). */
        int (*put_write)(struct cb_storage_put *put, const void *data, size_t len, char *err,
                         size_t err_size);
        /* Make it durable and visible, free the put. 0, or -1 with `err` (nothing is left). */
        int (*put_commit)(struct cb_storage_put *put, char *err, size_t err_size);
        /* Drop it, free the put; nothing is left. */
        void (*put_abort)(struct cb_storage_put *put);
        /* Size of `key`: 0, 1 when it does not exist, -1 on error. */
        int (*size)(void *self, const char *key, uint64_t *size, char *err, size_t err_size);
        /* Read exactly `len` bytes at `off`: 0, or -1 (missing, short, I/O error). */
        int (*read_at)(void *self, const char *key, uint64_t off, void *buf, size_t len, char *err,
                       size_t err_size);
        /* Delete `key`; deleting a missing key is success. 0 or -1. */
        int (*remove)(void *self, const char *key, char *err, size_t err_size);
};

struct cb_storage {
        const struct cb_storage_ops *ops;
        void *self;
};

/* The provider [storage] backend names; NULL (logged) when unusable. */
struct cb_storage *cb_storage_create(const struct cb_config *cfg);
void cb_storage_destroy(struct cb_storage **st);
/* True when `key` is a key providers accept (see above). */
bool cb_storage_key_ok(const char *key);

extern const struct cb_storage_ops cb_storage_local;
extern const struct cb_storage_ops cb_storage_s3;

#endif
