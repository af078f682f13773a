/* Sealed blobs: recordings and transcripts at rest (SPEC §6), AES-256-GCM in fixed-size chunks
 * so writing and reading stream in constant memory and any range can be read alone.
 *
 * Layout (all integers big-endian; docs/blob-format.md is the full description):
 *   header, 32 bytes: magic "CBBLOB1\0" (8) | version u8 = 2 | reserved u8[3] = 0 |
 *                     key id (the 4 bytes of the key line's "k<8 hex>") |
 *                     chunk size u32 (plaintext bytes per chunk, CB_BLOB_CHUNK) |
 *                     nonce prefix (8 random bytes, new per blob) | reserved u8[4] = 0
 *   then chunk i = 0, 1, ...: ciphertext (chunk size bytes, the last one 0..chunk size) + tag (16)
 * Chunk i is sealed with nonce = nonce prefix (8) | i as u32, and associated data =
 * the 32 header bytes | i as u64 | final flag u8 (1 for the last chunk, else 0) | the binding
 * (version 2: the name the blob was sealed for, e.g. its storage key "recordings/<id>", so a
 * blob copied over another's opens under neither name; version 1 blobs, which have no binding,
 * are still opened, never written). Every blob has
 * at least one chunk (an empty plaintext is one empty final chunk). So a flipped bit, a
 * reordered, dropped or appended chunk, a truncation at any byte and a header edit all fail
 * authentication; the plaintext size follows from the blob size. */
#ifndef CALLBRIDGE_BLOB_H
#define CALLBRIDGE_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CB_BLOB_HEADER 32
#define CB_BLOB_CHUNK  65536
#define CB_BLOB_TAG    16
#define CB_BLOB_KEY_ID 4
/* The longest binding (bytes); storage keys are far shorter. */
#define CB_BLOB_BIND_MAX 128

/* ---- keys ([storage] key_file, src/crypto/keyring.c) ----
 * One key per line: "k<8 hex> <base64 of 32 bytes>" (what `callbridge keygen` prints); blank
 * lines and lines starting with '#' are ignored. The last key encrypts; every key decrypts, so
 * keys rotate by appending a line. */
struct cb_keyring;
/* Load `path`. NULL with a reason in `err` (never the key material) when the file is unreadable,
 * not a regular file, readable by others or writable by anyone but its owner (0600, 0400, 0640
 * and 0440 are fine: systemd credentials are 0440), a line is malformed (its line number is
 * named), an id repeats, or it holds no key. */
struct cb_keyring *cb_keyring_load(const char *path, char *err, size_t err_size);
/* Wipe and free; NULL is fine. Clears *kr. */
void cb_keyring_free(struct cb_keyring **kr);
/* How many keys the ring holds (the last one is current). */
size_t cb_keyring_count(const struct cb_keyring *kr);
/* A 32-byte key for another purpose (e.g. signing links): HMAC-SHA256(key `index`, `label`),
 * so the recording keys themselves never leave the ring. 0, or -1 (no such key). */
int cb_keyring_derive(const struct cb_keyring *kr, size_t index, const char *label,
                      unsigned char out[32]);
/* The id ("k" + 8 hex) of the key new blobs are sealed with. */
const char *cb_keyring_current_id(const struct cb_keyring *kr);

/* ---- sealing (src/crypto/blob.c) ---- */

/* Where sealed bytes go: return 0, or -1 to stop (the sealer then fails). */
typedef int (*cb_blob_sink)(void *ctx, const void *data, size_t len);

struct cb_sealer;
/* A sealer with the keyring's current key writing into `sink`, binding the blob to the name
 * `bind` (NUL-terminated, at most CB_BLOB_BIND_MAX bytes; copied): only an opener given the same
 * name opens it. NULL when out of memory or the name is too long. The header is emitted by the
 * first write or by finish. */
struct cb_sealer *cb_sealer_new_bound(const struct cb_keyring *kr, const char *bind,
                                      cb_blob_sink sink, void *ctx);
/* cb_sealer_new_bound with the empty name. */
struct cb_sealer *cb_sealer_new(const struct cb_keyring *kr, cb_blob_sink sink, void *ctx);
/* Feed plaintext of any length; full chunks are sealed and emitted. 0, or -1 (sink refused,
 * OpenSSL failed): the sealer is then unusable. */
int cb_sealer_write(struct cb_sealer *s, const void *data, size_t len);
/* Seal the final chunk. 0 or -1. Either way the sealer is then spent (further calls fail). */
int cb_sealer_finish(struct cb_sealer *s);
/* Plaintext bytes fed so far. */
uint64_t cb_sealer_plain_bytes(const struct cb_sealer *s);
/* Wipe and free; NULL is fine. Clears *s. */
void cb_sealer_free(struct cb_sealer **s);

/* Size of the sealed blob of `plain` plaintext bytes. */
uint64_t cb_blob_sealed_size(uint64_t plain);

/* ---- opening ---- */

/* Read exactly `len` bytes of the sealed blob at `off` into `buf`: 0, or -1 (I/O error or
 * short read). */
typedef int (*cb_blob_source)(void *ctx, uint64_t off, void *buf, size_t len);

struct cb_opener;
/* Check the header of a sealed blob of `sealed_size` bytes read through `source`, find its key,
 * and authenticate the last chunk (so a blob cut or extended at a chunk boundary fails here and
 * the plaintext size, cb_opener_plain_size, is authentic). NULL with a reason in `err` ("not a
 * callbridge blob", "unknown key kXXXXXXXX", "truncated", "truncated or tampered ..."). */
struct cb_opener *cb_opener_new(const struct cb_keyring *kr, cb_blob_source source, void *ctx,
                                uint64_t sealed_size, char *err, size_t err_size);
/* cb_opener_new for a blob sealed for the name `bind` (NULL: the empty name): a version 2 blob
 * sealed for another name fails like a tampered one ("... another blob ..."). A version 1 blob
 * has no binding and opens under any name: cb_opener_bound says which. */
struct cb_opener *cb_opener_new_bound(const struct cb_keyring *kr, const char *bind,
                                      cb_blob_source source, void *ctx, uint64_t sealed_size,
                                      char *err, size_t err_size);
/* True when the blob authenticated its binding (version 2); false for a version 1 blob. */
bool cb_opener_bound(const struct cb_opener *o);
uint64_t cb_opener_plain_size(const struct cb_opener *o);
/* Decrypt and authenticate the plaintext [off, off + len) (len may run past the end: it is
 * clipped) into `buf`, reading only the chunks it covers; *got = bytes written. 0, or -1 when a
 * chunk fails authentication or the source fails: nothing of that chunk is returned. */
int cb_opener_read(struct cb_opener *o, uint64_t off, void *buf, size_t len, size_t *got);
void cb_opener_free(struct cb_opener **o);

#endif
