/* Writing a recording: the first bytes decide whether it is the audio it claims to be, then
 * every byte is hashed (SHA-256 of the plaintext, returned to the client) and sealed, and the
 * sealed blob streams into storage. Memory: one sealing chunk and one storage buffer. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/crypto.h"
#include "callbridge/log.h"
#include "callbridge/recordings.h"

struct cb_rec_writer {
        struct cb_recordings *rec;
        const char *declared;
        const char *type; /* sniffed, once CB_REC_SNIFF_BYTES arrived */
        uint64_t total;   /* the size the container announces; 0: none */
        unsigned char head[CB_REC_SNIFF_BYTES];
        size_t head_len;
        EVP_MD_CTX *sha;
        struct cb_sealer *sealer;
        struct cb_storage_put *put; /* NULL once committed or aborted */
        char id[CB_UUID_LEN + 1];
        char key[64];
        char err[256]; /* why the storage refused */
};

static int to_storage(void *ctx, const void *data, size_t len)
{
        struct cb_rec_writer *w = ctx;
        const struct cb_storage_ops *ops = w->rec->storage->ops;

        return ops->put_write(w->put, data, len, w->err, sizeof(w->err));
}

struct cb_rec_writer *cb_rec_writer_new(struct cb_recordings *rec, const char *declared, char *err,
                                        size_t err_size)
{
        struct cb_rec_writer *w;

        if (!cb_recordings_enabled(rec)) {
                snprintf(err, err_size, "recordings are not configured ([storage] key_file)");
                return NULL;
        }
        w = calloc(1, sizeof(*w));
        if (w == NULL) {
                snprintf(err, err_size, "out of memory");
                return NULL;
        }
        w->rec = rec;
        w->declared = declared;
        cb_uuid_v4(w->id);
        snprintf(w->key, sizeof(w->key), "recordings/%s", w->id);
        w->sha = EVP_MD_CTX_new();
        w->sealer = cb_sealer_new_bound(rec->keys, w->key, to_storage, w);
        if (w->sha == NULL || w->sealer == NULL ||
            EVP_DigestInit_ex(w->sha, EVP_sha256(), NULL) != 1) {
                snprintf(err, err_size, "out of memory");
                cb_rec_writer_abort(&w);
                return NULL;
        }
        if (rec->storage->ops->put_begin(rec->storage->self, w->key, &w->put, err, err_size) != 0) {
                w->put = NULL;
                cb_rec_writer_abort(&w);
                return NULL;
        }
        return w;
}

const char *cb_rec_writer_key(const struct cb_rec_writer *w)
{
        return w->key;
}

/* Hash and seal plaintext. */
static enum cb_err feed(struct cb_rec_writer *w, const void *data, size_t len, char *msg,
                        size_t msg_size)
{
        if (len == 0)
                return CB_ERR_NONE;
        if (EVP_DigestUpdate(w->sha, data, len) != 1 || cb_sealer_write(w->sealer, data, len)) {
                snprintf(msg, msg_size, "the recording store failed: %s",
                         w->err[0] ? w->err : "sealing failed");
                return CB_ERR_STORAGE_UNAVAILABLE;
        }
        return CB_ERR_NONE;
}

/* Decide on the first bytes (`whole`: the entire body): audio at all, and the type declared. */
static enum cb_err check_type(struct cb_rec_writer *w, bool whole, char *msg, size_t msg_size)
{
        char why[128];

        w->type = cb_rec_sniff(w->head, w->head_len, whole, &w->total, why, sizeof(why));
        if (w->type == NULL) {
                snprintf(msg, msg_size, "the body is not WAV, MP3, Ogg or WebM audio: %s", why);
                return CB_ERR_UNSUPPORTED_MEDIA_TYPE;
        }
        if (w->declared != NULL && strcmp(w->declared, w->type) != 0) {
                snprintf(msg, msg_size, "declared %s but the content is %s", w->declared, w->type);
                return CB_ERR_UNSUPPORTED_MEDIA_TYPE;
        }
        return feed(w, w->head, w->head_len, msg, msg_size);
}

enum cb_err cb_rec_writer_write(struct cb_rec_writer *w, const void *data, size_t len, char *msg,
                                size_t msg_size)
{
        const unsigned char *p = data;
        enum cb_err e;

        if (w->type == NULL) {
                size_t take = CB_REC_SNIFF_BYTES - w->head_len;
                if (take > len)
                        take = len;
                memcpy(w->head + w->head_len, p, take);
                w->head_len += take;
                p += take;
                len -= take;
                if (w->head_len < CB_REC_SNIFF_BYTES)
                        return CB_ERR_NONE;
                e = check_type(w, false, msg, msg_size);
                if (e != CB_ERR_NONE)
                        return e;
        }
        return feed(w, p, len, msg, msg_size);
}

enum cb_err cb_rec_writer_finish(struct cb_rec_writer **wp, struct cb_rec_stored *out, char *msg,
                                 size_t msg_size)
{
        struct cb_rec_writer *w = *wp;
        const struct cb_storage_ops *ops = w->rec->storage->ops;
        unsigned char digest[32];
        unsigned int dlen = 0;
        enum cb_err e = CB_ERR_NONE;

        if (w->type == NULL)
                e = check_type(w, true, msg, msg_size);
        if (e != CB_ERR_NONE)
                goto fail;
        if (w->total != 0 && w->total != cb_sealer_plain_bytes(w->sealer)) {
                snprintf(msg, msg_size, "the %s header announces %llu bytes, the body has %llu",
                         w->type, (unsigned long long)w->total,
                         (unsigned long long)cb_sealer_plain_bytes(w->sealer));
                e = CB_ERR_UNSUPPORTED_MEDIA_TYPE;
                goto fail;
        }
        if (cb_sealer_finish(w->sealer) != 0 || EVP_DigestFinal_ex(w->sha, digest, &dlen) != 1) {
                snprintf(msg, msg_size, "the recording store failed: %s",
                         w->err[0] ? w->err : "sealing failed");
                e = CB_ERR_STORAGE_UNAVAILABLE;
                goto fail;
        }
        if (ops->put_commit(w->put, w->err, sizeof(w->err)) != 0) {
                w->put = NULL; /* a failed commit frees the put and leaves nothing */
                snprintf(msg, msg_size, "the recording store failed: %s", w->err);
                e = CB_ERR_STORAGE_UNAVAILABLE;
                goto fail;
        }
        w->put = NULL;
        memset(out, 0, sizeof(*out));
        cb_strlcpy(out->id, w->id, sizeof(out->id));
        cb_strlcpy(out->key, w->key, sizeof(out->key));
        cb_strlcpy(out->content_type, w->type, sizeof(out->content_type));
        cb_strlcpy(out->key_id, cb_keyring_current_id(w->rec->keys), sizeof(out->key_id));
        out->bytes = cb_sealer_plain_bytes(w->sealer);
        cb_hex(digest, sizeof(digest), out->sha256);
fail:
        cb_rec_writer_abort(wp);
        return e;
}

void cb_rec_writer_abort(struct cb_rec_writer **wp)
{
        struct cb_rec_writer *w = *wp;

        if (w == NULL)
                return;
        if (w->put != NULL)
                w->rec->storage->ops->put_abort(w->put);
        cb_sealer_free(&w->sealer);
        EVP_MD_CTX_free(w->sha);
        free(w);
        *wp = NULL;
}
