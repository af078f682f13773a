/* Recordings at rest (src/recordings/): audio checked by its first bytes, hashed, sealed
 * (blob.h) and streamed into storage (storage.h) in constant memory; read back by range for
 * playback; stable /r/{id} links signed with a key derived from the recording keys.
 *
 * Storage keys are "recordings/<recording id>": chosen here, never from client input. */
#ifndef CALLBRIDGE_RECORDINGS_H
#define CALLBRIDGE_RECORDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callbridge/blob.h"
#include "callbridge/config.h"
#include "callbridge/errors.h"
#include "callbridge/storage.h"
#include "callbridge/util.h"

#define CB_REC_TYPE_MAX 16

struct cb_recordings {
        const struct cb_config *cfg;
        struct cb_keyring *keys;    /* NULL: recordings are not configured */
        struct cb_storage *storage; /* NULL: likewise */
};

/* Load [storage] key_file and open the storage backend. Without a key_file recordings are off
 * (uploads and fetches refuse, clearly); with one that cannot be used, NULL (logged). */
struct cb_recordings *cb_recordings_create(const struct cb_config *cfg);
void cb_recordings_destroy(struct cb_recordings **rec);
bool cb_recordings_enabled(const struct cb_recordings *rec);

/* ---- content types (src/recordings/sniff.c) ---- */

/* The audio type of a body whose first `n` bytes are `p` (`whole`: that is the entire body):
 * "audio/wav", "audio/mpeg", "audio/ogg", "audio/webm"; NULL with the reason in `why` when it is
 * none of them or its structure is broken as far as the bytes show it — WAV: RIFF/WAVE with
 * chunks inside the RIFF size and a sane fmt chunk before the data; MPEG: a valid ID3v2 tag
 * and/or frame header, the next frame where the first ends; Ogg: a CRC-checked first (BOS) page
 * of Opus, Vorbis, Speex or FLAC; WebM: a consistent EBML header with DocType webm/matroska,
 * then a Segment. *total = the body size the container announces (WAV: 8 + the RIFF size), 0
 * when it does not: the caller checks it once the body ended. Wants CB_REC_SNIFF_BYTES bytes
 * unless the body is shorter. */
#define CB_REC_SNIFF_BYTES 4096
const char *cb_rec_sniff(const unsigned char *p, size_t n, bool whole, uint64_t *total, char *why,
                         size_t why_size);
/* The canonical type of a declared Content-Type (parameters ignored; audio/x-wav, audio/wave,
 * audio/mp3 and audio/x-mpeg accepted as aliases); NULL when it is not one of the four. */
const char *cb_rec_declared_type(const char *content_type);

/* ---- writing (src/recordings/writer.c) ---- */

struct cb_rec_stored {
        char id[CB_UUID_LEN + 1];
        char key[64];
        char content_type[CB_REC_TYPE_MAX];
        uint64_t bytes;
        char sha256[65];
        char key_id[16];
};

struct cb_rec_writer;
/* Start a recording whose content must be `declared` (a canonical type; NULL: whatever audio it
 * sniffs as). NULL with `err` when recordings are off or the storage refuses. */
struct cb_rec_writer *cb_rec_writer_new(struct cb_recordings *rec, const char *declared, char *err,
                                        size_t err_size);
/* The storage key the writer chose ("recordings/<id>"), fixed from cb_rec_writer_new on: note it
 * (cb_store_storage_intent_note) before the first write. Borrowed, valid until finish/abort. */
const char *cb_rec_writer_key(const struct cb_rec_writer *w);
/* Feed audio. CB_ERR_NONE, or UNSUPPORTED_MEDIA_TYPE (not audio / not the declared type) or
 * STORAGE_UNAVAILABLE, with `msg`; the writer must then be aborted. */
enum cb_err cb_rec_writer_write(struct cb_rec_writer *w, const void *data, size_t len, char *msg,
                                size_t msg_size);
/* Seal the end and make the blob durable; fills `out`; frees the writer (also on failure,
 * leaving nothing behind). CB_ERR_NONE or as for write (an empty or too-short body is
 * UNSUPPORTED_MEDIA_TYPE). */
enum cb_err cb_rec_writer_finish(struct cb_rec_writer **w, struct cb_rec_stored *out, char *msg,
                                 size_t msg_size);
/* Drop it and everything it wrote. NULL is fine. Clears *w. */
void cb_rec_writer_abort(struct cb_rec_writer **w);

/* ---- reading (src/recordings/reader.c) ---- */

struct cb_rec_reader;
/* Open the sealed blob at `key`, which it must have been sealed for (a version 1 blob, sealed
 * before blobs were bound, opens anywhere: see cb_rec_reader_verify). NULL with `err` (missing,
 * not a blob, unknown key, sealed for another key). */
struct cb_rec_reader *cb_rec_reader_open(struct cb_recordings *rec, const char *key, char *err,
                                         size_t err_size);
uint64_t cb_rec_reader_size(const struct cb_rec_reader *r);
/* Is this the recording whose row says `bytes` and `sha256` (hex)? The size always; the SHA-256
 * of a version 1 blob by reading it all (a version 2 blob proved its key at open). 0, or -1
 * with `err`: treat as tampering, never serve it. */
int cb_rec_reader_verify(struct cb_rec_reader *r, uint64_t bytes, const char *sha256, char *err,
                         size_t err_size);
/* Plaintext [off, off+len) into `buf`, *got bytes (clipped at the end). 0, or -1 when storage
 * fails or a chunk does not authenticate. */
int cb_rec_reader_read(struct cb_rec_reader *r, uint64_t off, void *buf, size_t len, size_t *got);
void cb_rec_reader_close(struct cb_rec_reader **r);

/* ---- small sealed documents: transcripts (src/recordings/sealed.c) ---- */

#define CB_REC_DOC_MAX (16u << 20)
/* Seal `len` bytes and store them durably at `key` ("transcripts/<id>"). 0, or -1 with `err`
 * (nothing left behind). */
int cb_rec_doc_put(struct cb_recordings *rec, const char *key, const void *data, size_t len,
                   char *err, size_t err_size);
/* The whole document at `key`, NUL-terminated (caller frees), *len its length; NULL with `err`
 * when missing, too large, or it does not authenticate. */
char *cb_rec_doc_get(struct cb_recordings *rec, const char *key, size_t *len, char *err,
                     size_t err_size);

/* ---- signed links (src/recordings/links.c) ---- */

/* sig = hex HMAC-SHA256("<recording id>:<exp>") under a key derived from the current recording
 * key; verified against every key of the ring, so links survive a key rotation. */
void cb_rec_link_sign(const struct cb_recordings *rec, const char *id, long long exp, char sig[65]);
bool cb_rec_link_valid(const struct cb_recordings *rec, const char *id, long long exp,
                       const char *sig);

#endif
