/* Reading a recording back: the sealed blob is opened through the storage's ranged reads, so a
 * player seeking into an hour of audio costs one chunk, not the file. Each blob is opened under
 * its storage key, which a version 2 blob is bound to: a blob copied to another key does not
 * open. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

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
        r->opener = cb_opener_new_bound(rec->keys, key, from_storage, r, size, err, err_size);
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

/* SHA-256 of the whole plaintext, in lower hex. 0, or -1 when a chunk fails. */
static int plain_sha256(struct cb_rec_reader *r, char hex[65])
{
        unsigned char *buf = malloc(CB_BLOB_CHUNK), digest[32];
        EVP_MD_CTX *sha = EVP_MD_CTX_new();
        uint64_t off = 0, size = cb_rec_reader_size(r);
        unsigned int dlen = 0;
        size_t got = 0;
        int rc = -1;

        if (buf == NULL || sha == NULL || EVP_DigestInit_ex(sha, EVP_sha256(), NULL) != 1)
                goto out;
        for (; off < size; off += got)
                if (cb_rec_reader_read(r, off, buf, CB_BLOB_CHUNK, &got) != 0 || got == 0 ||
                    EVP_DigestUpdate(sha, buf, got) != 1)
                        goto out;
        if (EVP_DigestFinal_ex(sha, digest, &dlen) != 1)
                goto out;
        cb_hex(digest, sizeof(digest), hex);
        rc = 0;
out:
        if (buf != NULL)
                OPENSSL_cleanse(buf, CB_BLOB_CHUNK);
        free(buf);
        EVP_MD_CTX_free(sha);
        return rc;
}

int cb_rec_reader_verify(struct cb_rec_reader *r, uint64_t bytes, const char *sha256, char *err,
                         size_t err_size)
{
        char hex[65];

        if (cb_rec_reader_size(r) != bytes) {
                snprintf(err, err_size, "the blob holds %llu bytes, the recording %llu",
                         (unsigned long long)cb_rec_reader_size(r), (unsigned long long)bytes);
                return -1;
        }
        if (cb_opener_bound(r->opener))
                return 0; /* sealed for this very key: the writer sealed it once, under a new id */
        if (sha256 == NULL || plain_sha256(r, hex) != 0 || strcasecmp(hex, sha256) != 0) {
                snprintf(err, err_size, "the (version 1) blob's SHA-256 is not the recording's");
                return -1;
        }
        return 0;
}
