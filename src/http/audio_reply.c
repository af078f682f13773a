/* Streaming a stored recording to a player: the decrypted audio, whole (200) or one byte range
 * (206, so a browser can seek), read chunk by chunk from storage — constant memory whatever the
 * length. Shared by GET /api/calls/{id}/recording/{rid} and GET /r/{rid}. */
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "callbridge/log.h"
#include "callbridge/store_recordings.h"
#include "audio_reply.h"

#define BLOCK ((size_t)64 * 1024)

struct stream {
        struct cb_rec_reader *reader;
        uint64_t base; /* plaintext offset of the response's first byte */
        /* A whole-file response also checks the row's SHA-256 as it goes: */
        EVP_MD_CTX *sha; /* NULL: not checking */
        uint64_t hashed, size;
        char want[65];
};

/* Hash what a whole-file response sends; false when the end is reached and the hash is not
 * the row's (the response is then cut short: never a complete, wrong recording). */
static bool hash_block(struct stream *s, uint64_t pos, const char *buf, size_t got)
{
        unsigned char digest[32];
        unsigned int len = 0;
        char hex[65];

        if (s->sha == NULL || pos != s->hashed || EVP_DigestUpdate(s->sha, buf, got) != 1) {
                EVP_MD_CTX_free(s->sha); /* not sequential: give up checking */
                s->sha = NULL;
                return true;
        }
        s->hashed += got;
        if (s->hashed < s->size)
                return true;
        if (EVP_DigestFinal_ex(s->sha, digest, &len) != 1)
                return true;
        EVP_MD_CTX_free(s->sha);
        s->sha = NULL;
        cb_hex(digest, sizeof(digest), hex);
        return strcasecmp(hex, s->want) == 0;
}

static ssize_t read_audio(void *cls, uint64_t pos, char *buf, size_t max)
{
        struct stream *s = cls;
        size_t got = 0;

        if (cb_rec_reader_read(s->reader, s->base + pos, buf, max, &got) != 0) {
                cb_error("playback: a chunk failed to read or authenticate");
                return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        if (got > 0 && !hash_block(s, pos, buf, got)) {
                cb_error("playback: the recording's SHA-256 is not its row's; response cut");
                return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        return got > 0 ? (ssize_t)got : MHD_CONTENT_READER_END_OF_STREAM;
}

static void free_stream(void *cls)
{
        struct stream *s = cls;

        cb_rec_reader_close(&s->reader);
        EVP_MD_CTX_free(s->sha);
        free(s);
}

/* Check the SHA-256 `want` (the row's) while a whole-file response streams. */
static void check_hash_as_sent(struct stream *s, const char *want, uint64_t size)
{
        if (want == NULL || size == 0 || !cb_strlcpy(s->want, want, sizeof(s->want)))
                return;
        s->size = size;
        s->sha = EVP_MD_CTX_new();
        if (s->sha != NULL && EVP_DigestInit_ex(s->sha, EVP_sha256(), NULL) != 1) {
                EVP_MD_CTX_free(s->sha);
                s->sha = NULL;
        }
}

/* 1*DIGIT at *p (RFC 9110: no sign, no blanks), saturating at UINT64_MAX (a position past any
 * file). False when *p is not a digit. */
static bool range_digits(const char **p, uint64_t *v)
{
        const char *s = *p;

        *v = 0;
        if (*s < '0' || *s > '9')
                return false;
        for (; *s >= '0' && *s <= '9'; s++)
                *v = *v > (UINT64_MAX - 9) / 10 ? UINT64_MAX : *v * 10 + (uint64_t)(*s - '0');
        *p = s;
        return true;
}

int cb_range_parse(const char *h, uint64_t size, uint64_t *first, uint64_t *last)
{
        uint64_t a = 0, b = UINT64_MAX;

        if (h == NULL || strncmp(h, "bytes=", 6) != 0 || strchr(h, ',') != NULL)
                return 0; /* absent, another unit, or several ranges: the whole file */
        h += 6;
        if (h[0] == '-') { /* the last b bytes */
                h++;
                if (!range_digits(&h, &b) || h[0] != '\0')
                        return 0;
                if (b == 0 || size == 0)
                        return -1;
                *first = b >= size ? 0 : size - b;
                *last = size - 1;
                return 1;
        }
        if (!range_digits(&h, &a) || *h++ != '-')
                return 0;
        if (h[0] != '\0' && (!range_digits(&h, &b) || h[0] != '\0' || b < a))
                return 0;
        if (a >= size)
                return -1;
        *first = a;
        *last = b >= size ? size - 1 : b;
        return 1;
}

/* Stream the stored recording `rec` (cb_store_recording_get JSON). */
static enum MHD_Result reply_stored(struct cb_request *req, const json_t *rec)
{
        const char *state = json_string_value(json_object_get(rec, "state"));
        const char *key = json_string_value(json_object_get(rec, "storage_key"));
        const char *type = json_string_value(json_object_get(rec, "content_type"));
        struct stream *s;
        struct MHD_Response *resp;
        uint64_t size, first = 0, last = 0;
        char err[256], range[96];
        int r;

        if (state != NULL && strcmp(state, "deleted") == 0)
                return cb_reply_error(req, CB_ERR_GONE, NULL);
        if (state == NULL || strcmp(state, "stored") != 0 || key == NULL)
                return cb_reply_error(req, CB_ERR_NOT_FOUND, "the recording is %s, not stored",
                                      state ? state : "unknown");
        s = calloc(1, sizeof(*s));
        if (s == NULL)
                return MHD_NO;
        s->reader = cb_rec_reader_open(req->env->rec, key, err, sizeof(err));
        if (s->reader == NULL ||
            cb_rec_reader_verify(
                s->reader, (uint64_t)json_integer_value(json_object_get(rec, "bytes")),
                json_string_value(json_object_get(rec, "sha256")), err, sizeof(err)) != 0) {
                /* Missing, tampered with, or another recording's blob: never serve it. */
                free_stream(s);
                cb_error("playback of %s refused: %s", key, err);
                return cb_reply_error(req, CB_ERR_STORAGE_UNAVAILABLE,
                                      "the stored recording does not verify");
        }
        size = cb_rec_reader_size(s->reader);
        r = cb_range_parse(cb_request_header(req, "Range"), size, &first, &last);
        if (r < 0) {
                free_stream(s);
                snprintf(range, sizeof(range), "bytes */%" PRIu64, size);
                return cb_reply_error_header(req, CB_ERR_RANGE_NOT_SATISFIABLE, "Content-Range",
                                             range);
        }
        if (r == 0) {
                last = size ? size - 1 : 0;
                check_hash_as_sent(s, json_string_value(json_object_get(rec, "sha256")), size);
        }
        s->base = first;
        resp = MHD_create_response_from_callback(size ? last - first + 1 : 0, BLOCK, read_audio, s,
                                                 free_stream);
        if (resp == NULL) {
                free_stream(s);
                return MHD_NO;
        }
        MHD_add_response_header(resp, "Accept-Ranges", "bytes");
        MHD_add_response_header(resp, "Cache-Control", "private, no-store");
        if (r > 0) {
                snprintf(range, sizeof(range), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, first,
                         last, size);
                MHD_add_response_header(resp, "Content-Range", range);
        }
        return cb_reply_response(req, r > 0 ? 206 : 200, resp,
                                 type ? type : "application/octet-stream");
}

enum MHD_Result cb_reply_recording(struct cb_request *req, const char *id, const char *call_id,
                                   const char *agent)
{
        struct cb_db *db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        json_t *rec = NULL;
        enum MHD_Result ret;
        enum cb_qs qs;

        if (db == NULL)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        qs = cb_store_recording_get(db, id, call_id, agent, &rec);
        cb_db_release(&db);
        if (qs < 0)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        if (qs == CB_QS_NO_RESULTS)
                return cb_reply_error(req, CB_ERR_NOT_FOUND, "no such recording");
        ret = reply_stored(req, rec);
        json_decref(rec);
        return ret;
}
