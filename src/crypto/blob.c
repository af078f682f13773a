/* Sealed blobs: AES-256-GCM over 64 KiB chunks (layout in include/callbridge/blob.h and
 * docs/blob-format.md). Sealer and opener each hold one cipher context, keyed once, and one
 * chunk buffer; plaintext left in a buffer is wiped on free. */
#include "callbridge/blob.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "callbridge/crypto.h"
#include "callbridge/util.h"
#include "blob_int.h"

#define MAGIC         "CBBLOB1\0"
#define MAGIC_LEN     8
#define VERSION_V1    1 /* no binding: still opened, never written */
#define VERSION       2 /* the binding follows the fixed part of the AAD */
#define RECORD        ((uint64_t)CB_BLOB_CHUNK + CB_BLOB_TAG) /* one full chunk, sealed */
#define AAD_FIXED     (CB_BLOB_HEADER + 8 + 1)
#define AAD_MAX       (AAD_FIXED + CB_BLOB_BIND_MAX)
#define NONCE_PREFIX  8
#define OFF_VERSION   8
#define OFF_KEY_ID    12
#define OFF_CHUNK     16
#define OFF_NONCE     20
#define OFF_RESERVED2 28
#define MAX_CHUNKS    ((uint64_t)UINT32_MAX + 1) /* the index is 32 bits in the nonce */

/* ---- AES-256-GCM ------------------------------------------------------------------------- */

int cb_gcm_init(EVP_CIPHER_CTX *ctx, const unsigned char key[CB_GCM_KEY], bool seal)
{
        int enc = seal ? 1 : 0;

        if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, CB_GCM_IV, NULL) != 1 ||
            EVP_CipherInit_ex(ctx, NULL, NULL, key, NULL, enc) != 1)
                return -1;
        return 0;
}

int cb_gcm_seal(EVP_CIPHER_CTX *ctx, const unsigned char iv[CB_GCM_IV], const void *aad,
                size_t aad_len, const void *in, size_t len, void *out,
                unsigned char tag[CB_GCM_TAG])
{
        unsigned char tail[16];
        int n = 0;

        if (len > INT_MAX || aad_len > INT_MAX)
                return -1;
        if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, iv) != 1)
                return -1;
        if (aad_len > 0 && EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
                return -1;
        if (len > 0 && (EVP_EncryptUpdate(ctx, out, &n, in, (int)len) != 1 || n != (int)len))
                return -1;
        if (EVP_EncryptFinal_ex(ctx, tail, &n) != 1 || n != 0)
                return -1;
        if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, CB_GCM_TAG, tag) != 1)
                return -1;
        return 0;
}

int cb_gcm_open(EVP_CIPHER_CTX *ctx, const unsigned char iv[CB_GCM_IV], const void *aad,
                size_t aad_len, const void *in, size_t len, void *out,
                const unsigned char tag[CB_GCM_TAG])
{
        unsigned char tail[16];
        unsigned char t[CB_GCM_TAG];
        int n = 0;

        if (len > INT_MAX || aad_len > INT_MAX)
                return -1;
        memcpy(t, tag, sizeof(t)); /* the ctrl takes a non-const pointer */
        if (EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, iv) != 1)
                return -1;
        if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, CB_GCM_TAG, t) != 1)
                return -1;
        if (aad_len > 0 && EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
                return -1;
        if (len > 0 && (EVP_DecryptUpdate(ctx, out, &n, in, (int)len) != 1 || n != (int)len))
                return -1;
        if (EVP_DecryptFinal_ex(ctx, tail, &n) != 1 || n != 0)
                return -1;
        return 0;
}

/* ---- layout ------------------------------------------------------------------------------ */

static void put_u32(unsigned char *p, uint32_t v)
{
        p[0] = (unsigned char)(v >> 24);
        p[1] = (unsigned char)(v >> 16);
        p[2] = (unsigned char)(v >> 8);
        p[3] = (unsigned char)v;
}

static uint32_t get_u32(const unsigned char *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Nonce and associated data of chunk `index` of the blob with `header`; version 2 appends the
 * binding (bind_len bytes) to the AAD. Returns the AAD length. */
static size_t chunk_params(const unsigned char header[CB_BLOB_HEADER], const unsigned char *bind,
                           size_t bind_len, uint64_t index, bool final, unsigned char iv[CB_GCM_IV],
                           unsigned char aad[AAD_MAX])
{
        memcpy(iv, header + OFF_NONCE, NONCE_PREFIX);
        put_u32(iv + NONCE_PREFIX, (uint32_t)index);
        memcpy(aad, header, CB_BLOB_HEADER);
        put_u32(aad + CB_BLOB_HEADER, (uint32_t)(index >> 32));
        put_u32(aad + CB_BLOB_HEADER + 4, (uint32_t)index);
        aad[CB_BLOB_HEADER + 8] = final ? 1 : 0;
        if (header[OFF_VERSION] == VERSION_V1)
                return AAD_FIXED;
        memcpy(aad + AAD_FIXED, bind, bind_len);
        return AAD_FIXED + bind_len;
}

uint64_t cb_blob_sealed_size(uint64_t plain)
{
        uint64_t chunks = plain == 0 ? 1 : (plain - 1) / CB_BLOB_CHUNK + 1;

        return CB_BLOB_HEADER + plain + chunks * CB_BLOB_TAG;
}

/* The chunk count and last chunk's plaintext length of a blob of `sealed` bytes: the inverse of
 * cb_blob_sealed_size. False for a size no sealer produces (cut inside a tag, an empty final
 * chunk after full ones, more than 2^32 chunks). */
static bool blob_layout(uint64_t sealed, uint64_t *chunks, size_t *last_len)
{
        uint64_t body;
        uint64_t rest;

        if (sealed < CB_BLOB_HEADER + CB_BLOB_TAG)
                return false;
        body = sealed - CB_BLOB_HEADER;
        rest = body % RECORD;
        if (rest == 0) {
                *chunks = body / RECORD;
                *last_len = CB_BLOB_CHUNK;
        } else if (rest >= CB_BLOB_TAG) {
                *chunks = body / RECORD + 1;
                *last_len = (size_t)(rest - CB_BLOB_TAG);
        } else {
                return false;
        }
        if (*last_len == 0 && *chunks > 1)
                return false;
        return *chunks <= MAX_CHUNKS;
}

/* ---- sealing ----------------------------------------------------------------------------- */

struct cb_sealer {
        EVP_CIPHER_CTX *ctx;
        cb_blob_sink sink;
        void *sink_ctx;
        unsigned char header[CB_BLOB_HEADER];
        uint64_t index; /* of the next chunk */
        uint64_t plain;
        size_t fill; /* plaintext bytes waiting in buf */
        bool header_sent;
        bool done; /* finished or failed: every further call fails */
        size_t bind_len;
        unsigned char bind[CB_BLOB_BIND_MAX];
        unsigned char buf[CB_BLOB_CHUNK + CB_BLOB_TAG];
};

struct cb_sealer *cb_sealer_new(const struct cb_keyring *kr, cb_blob_sink sink, void *ctx)
{
        return cb_sealer_new_bound(kr, NULL, sink, ctx);
}

struct cb_sealer *cb_sealer_new_bound(const struct cb_keyring *kr, const char *bind,
                                      cb_blob_sink sink, void *ctx)
{
        size_t bind_len = bind ? strlen(bind) : 0;
        struct cb_sealer *s = bind_len <= CB_BLOB_BIND_MAX ? calloc(1, sizeof(*s)) : NULL;
        const unsigned char *key = NULL;

        if (s == NULL)
                return NULL;
        memcpy(s->bind, bind ? bind : "", bind_len);
        s->bind_len = bind_len;
        s->sink = sink;
        s->sink_ctx = ctx;
        memcpy(s->header, MAGIC, MAGIC_LEN);
        s->header[OFF_VERSION] = VERSION;
        key = cb_keyring_current(kr, s->header + OFF_KEY_ID);
        put_u32(s->header + OFF_CHUNK, CB_BLOB_CHUNK);
        cb_random(s->header + OFF_NONCE, NONCE_PREFIX);
        s->ctx = EVP_CIPHER_CTX_new();
        if (s->ctx == NULL || cb_gcm_init(s->ctx, key, true) != 0)
                cb_sealer_free(&s);
        return s;
}

static int send_header(struct cb_sealer *s)
{
        if (s->header_sent)
                return 0;
        s->header_sent = true;
        return s->sink(s->sink_ctx, s->header, CB_BLOB_HEADER);
}

/* Seal `len` bytes at `in` (buf itself, or the caller's data) as the next chunk and emit it. */
static int seal_chunk(struct cb_sealer *s, const unsigned char *in, size_t len, bool final)
{
        unsigned char iv[CB_GCM_IV];
        unsigned char aad[AAD_MAX];
        size_t aad_len;

        if (!final && s->index + 1 >= MAX_CHUNKS) /* no index left for the final chunk */
                return -1;
        aad_len = chunk_params(s->header, s->bind, s->bind_len, s->index, final, iv, aad);
        if (cb_gcm_seal(s->ctx, iv, aad, aad_len, in, len, s->buf, s->buf + len) != 0)
                return -1;
        s->index++;
        return s->sink(s->sink_ctx, s->buf, len + CB_BLOB_TAG);
}

int cb_sealer_write(struct cb_sealer *s, const void *data, size_t len)
{
        const unsigned char *p = data;

        if (s->done || send_header(s) != 0)
                goto fail;
        while (len > 0) {
                size_t n;

                /* A full chunk is sealed only once more data shows it is not the last. */
                if (s->fill == CB_BLOB_CHUNK) {
                        if (seal_chunk(s, s->buf, CB_BLOB_CHUNK, false) != 0)
                                goto fail;
                        s->fill = 0;
                }
                if (s->fill == 0 && len > CB_BLOB_CHUNK) { /* straight from the caller's data */
                        if (seal_chunk(s, p, CB_BLOB_CHUNK, false) != 0)
                                goto fail;
                        p += CB_BLOB_CHUNK;
                        len -= CB_BLOB_CHUNK;
                        s->plain += CB_BLOB_CHUNK;
                        continue;
                }
                n = CB_BLOB_CHUNK - s->fill < len ? CB_BLOB_CHUNK - s->fill : len;
                memcpy(s->buf + s->fill, p, n);
                s->fill += n;
                s->plain += n;
                p += n;
                len -= n;
        }
        return 0;
fail:
        s->done = true;
        OPENSSL_cleanse(s->buf, sizeof(s->buf));
        return -1;
}

int cb_sealer_finish(struct cb_sealer *s)
{
        int rc = -1;

        if (!s->done && send_header(s) == 0)
                rc = seal_chunk(s, s->buf, s->fill, true);
        s->done = true;
        s->fill = 0;
        OPENSSL_cleanse(s->buf, sizeof(s->buf));
        return rc;
}

uint64_t cb_sealer_plain_bytes(const struct cb_sealer *s)
{
        return s->plain;
}

void cb_sealer_free(struct cb_sealer **s)
{
        if (s == NULL || *s == NULL)
                return;
        EVP_CIPHER_CTX_free((*s)->ctx); /* wipes the key schedule */
        OPENSSL_cleanse(*s, sizeof(**s));
        free(*s);
        *s = NULL;
}

/* ---- opening ----------------------------------------------------------------------------- */

struct cb_opener {
        EVP_CIPHER_CTX *ctx;
        cb_blob_source source;
        void *source_ctx;
        unsigned char header[CB_BLOB_HEADER];
        uint64_t chunks;
        size_t last_len;
        uint64_t plain_size;
        uint64_t cached; /* the chunk whose plaintext is in buf, when have_cached */
        bool have_cached;
        size_t bind_len;
        unsigned char bind[CB_BLOB_BIND_MAX];
        unsigned char buf[CB_BLOB_CHUNK + CB_BLOB_TAG];
};

static size_t chunk_len(const struct cb_opener *o, uint64_t index)
{
        return index + 1 == o->chunks ? o->last_len : CB_BLOB_CHUNK;
}

/* Read chunk `index` into buf and decrypt it into `out` (buf itself, or the caller's memory).
 * 0, or -1 with `out` wiped. */
static int open_chunk(struct cb_opener *o, uint64_t index, unsigned char *out)
{
        size_t len = chunk_len(o, index);
        unsigned char iv[CB_GCM_IV];
        unsigned char aad[AAD_MAX];
        size_t aad_len;

        o->have_cached = false;
        if (o->source(o->source_ctx, CB_BLOB_HEADER + index * RECORD, o->buf, len + CB_BLOB_TAG) !=
            0)
                return -1;
        aad_len =
            chunk_params(o->header, o->bind, o->bind_len, index, index + 1 == o->chunks, iv, aad);
        if (cb_gcm_open(o->ctx, iv, aad, aad_len, o->buf, len, out, o->buf + len) != 0) {
                OPENSSL_cleanse(out, len);
                return -1;
        }
        if (out == o->buf) {
                o->cached = index;
                o->have_cached = true;
        }
        return 0;
}

static void set_err(char *err, size_t err_size, const char *msg)
{
        if (err != NULL && err_size > 0)
                snprintf(err, err_size, "%s", msg);
}

struct cb_opener *cb_opener_new(const struct cb_keyring *kr, cb_blob_source source, void *ctx,
                                uint64_t sealed_size, char *err, size_t err_size)
{
        return cb_opener_new_bound(kr, NULL, source, ctx, sealed_size, err, err_size);
}

/* Magic, a version we read, reserved bytes zero and our chunk size. */
static bool header_ok(const unsigned char *h)
{
        static const unsigned char zero[4] = {0};

        return memcmp(h, MAGIC, MAGIC_LEN) == 0 &&
               (h[OFF_VERSION] == VERSION || h[OFF_VERSION] == VERSION_V1) &&
               memcmp(h + OFF_VERSION + 1, zero, 3) == 0 &&
               get_u32(h + OFF_CHUNK) == CB_BLOB_CHUNK && memcmp(h + OFF_RESERVED2, zero, 4) == 0;
}

struct cb_opener *cb_opener_new_bound(const struct cb_keyring *kr, const char *bind,
                                      cb_blob_source source, void *ctx, uint64_t sealed_size,
                                      char *err, size_t err_size)
{
        size_t bind_len = bind ? strlen(bind) : 0;
        struct cb_opener *o = NULL;
        const unsigned char *key = NULL;

        if (bind_len > CB_BLOB_BIND_MAX) {
                set_err(err, err_size, "binding too long");
                return NULL;
        }
        o = calloc(1, sizeof(*o));
        if (o == NULL) {
                set_err(err, err_size, "out of memory");
                return NULL;
        }
        memcpy(o->bind, bind ? bind : "", bind_len);
        o->bind_len = bind_len;
        o->source = source;
        o->source_ctx = ctx;
        if (sealed_size < CB_BLOB_HEADER) {
                set_err(err, err_size, "truncated");
                goto fail;
        }
        if (source(ctx, 0, o->header, CB_BLOB_HEADER) != 0) {
                set_err(err, err_size, "cannot read the header");
                goto fail;
        }
        if (!header_ok(o->header)) {
                set_err(err, err_size, "not a callbridge blob");
                goto fail;
        }
        key = cb_keyring_find(kr, o->header + OFF_KEY_ID);
        if (key == NULL) {
                char name[2 + 2 * CB_BLOB_KEY_ID] = "k";
                char msg[64];

                cb_hex(o->header + OFF_KEY_ID, CB_BLOB_KEY_ID, name + 1);
                snprintf(msg, sizeof(msg), "unknown key %s", name);
                set_err(err, err_size, msg);
                goto fail;
        }
        if (!blob_layout(sealed_size, &o->chunks, &o->last_len)) {
                set_err(err, err_size, "truncated");
                goto fail;
        }
        o->plain_size = (o->chunks - 1) * CB_BLOB_CHUNK + o->last_len;
        o->ctx = EVP_CIPHER_CTX_new();
        if (o->ctx == NULL || cb_gcm_init(o->ctx, key, false) != 0) {
                set_err(err, err_size, "OpenSSL failed");
                goto fail;
        }
        /* The size decides which chunk is final: authenticate that one now, so a blob cut or
         * extended at a chunk boundary fails here and cb_opener_plain_size can be trusted. */
        if (open_chunk(o, o->chunks - 1, o->buf) != 0) {
                set_err(err, err_size,
                        "truncated, tampered or another blob (the last chunk fails "
                        "authentication)");
                goto fail;
        }
        return o;
fail:
        cb_opener_free(&o);
        return NULL;
}

uint64_t cb_opener_plain_size(const struct cb_opener *o)
{
        return o->plain_size;
}

bool cb_opener_bound(const struct cb_opener *o)
{
        return o->header[OFF_VERSION] != VERSION_V1;
}

int cb_opener_read(struct cb_opener *o, uint64_t off, void *buf, size_t len, size_t *got)
{
        unsigned char *out = buf;

        *got = 0;
        if (off >= o->plain_size)
                return 0;
        if (len > o->plain_size - off)
                len = (size_t)(o->plain_size - off);
        while (len > 0) {
                uint64_t index = off / CB_BLOB_CHUNK;
                size_t in = (size_t)(off % CB_BLOB_CHUNK);
                size_t clen = chunk_len(o, index);
                size_t take = clen - in < len ? clen - in : len;
                bool cached = o->have_cached && o->cached == index;

                if (take == clen && !cached) { /* the whole chunk: decrypt straight into buf */
                        if (open_chunk(o, index, out) != 0)
                                return -1;
                } else {
                        if (!cached && open_chunk(o, index, o->buf) != 0)
                                return -1;
                        memcpy(out, o->buf + in, take);
                }
                out += take;
                off += take;
                len -= take;
                *got += take;
        }
        return 0;
}

void cb_opener_free(struct cb_opener **o)
{
        if (o == NULL || *o == NULL)
                return;
        EVP_CIPHER_CTX_free((*o)->ctx);
        OPENSSL_cleanse(*o, sizeof(**o));
        free(*o);
        *o = NULL;
}
