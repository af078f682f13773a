/* Speech-to-text engines behind one interface (src/stt/): `openai` (any OpenAI-compatible
 * POST {base_url}/audio/transcriptions), `google` (Speech-to-Text v1 speech:recognize),
 * `offline` (PocketSphinx, when built), chosen by [stt] engine; `none` refuses.
 *
 * Audio comes as a reader over the stored (decrypted) recording, so an engine can read it
 * once, or in pieces, without the whole file in memory unless the engine's API needs it
 * (a 25 MiB OpenAI request, a 55 s Google chunk). */
#ifndef CALLBRIDGE_STT_H
#define CALLBRIDGE_STT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "callbridge/config.h"
#include "callbridge/util.h"
#include "callbridge/upstream.h"

/* The audio to transcribe. read_at: exactly `len` bytes at `off` into `buf` (0, or -1); an
 * engine may call it from several threads at once (chunks sent in parallel), so it must be
 * safe to. */
struct cb_stt_audio {
        const char *content_type; /* audio/wav, audio/mpeg, audio/ogg, audio/webm */
        uint64_t size;
        int (*read_at)(void *ctx, uint64_t off, void *buf, size_t len);
        void *ctx;
        const char *sha256; /* hex of the plaintext (the sandbox seeds transcripts by it) */
};

struct cb_stt_request {
        const char *language;       /* ISO 639-1, or NULL for [stt] language */
        const char *const *phrases; /* keyword hints (sales terms), NULL-terminated, or NULL */
};

/* The result: {"text": "...", "language": "en", "duration_s": 12.3,
 *              "segments": [{"start": 0.0, "end": 2.1, "text": "..."}, ...],
 *              "engine": "openai", "model": "whisper-1", "chunks": N}
 * Segments are in order with times from the start of the recording (chunk offsets added). */
struct cb_stt_ops {
        const char *name;
        /* NULL (reason logged) when the configuration is unusable. */
        void *(*create)(const struct cb_config *cfg);
        void (*destroy)(void *self);
        /* Transcribe. OK with *result (caller decrefs); WAIT (rate limited) or RETRY (5xx,
         * timeouts), *retry_after_s set when the engine said, else 0; or FAIL (audio the engine
         * cannot take, 4xx) with `err`. Safe to call from several worker threads at once. */
        enum cb_result (*transcribe)(void *self, const struct cb_stt_audio *audio,
                                     const struct cb_stt_request *req, json_t **result,
                                     long *retry_after_s, char *err, size_t err_size);
        /* Optional: Prometheus text (audio seconds, requests, cost estimate). */
        void (*metrics)(void *self, struct cb_buf *out);
};

struct cb_stt {
        const struct cb_stt_ops *ops;
        void *self;
};

/* The engine [stt] engine names ("none" gives an engine whose transcribe FAILs with a clear
 * reason); NULL (logged) when it cannot be made. */
struct cb_stt *cb_stt_create(const struct cb_config *cfg);
void cb_stt_destroy(struct cb_stt **stt);

#endif
