/* callbridge-sandbox: what the speech-to-text emulation's files share (stt_state.c,
 * stt_openai.c, stt_google.c, stt_multipart.c). Sandbox-local. */
#ifndef CALLBRIDGE_SANDBOX_STT_H
#define CALLBRIDGE_SANDBOX_STT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sandbox.h"

#define SB_STT_DEFAULT_TEXT "Thank you for calling. This is the sandbox transcript."
#define SB_STT_RECENT_MAX   64

/* What a WAV header in memory says (enough to check a request against it). */
struct sb_wav {
        uint16_t format, channels, bits, block_align;
        uint32_t rate;
        size_t data_len;
};

/* Parse the RIFF/WAVE header of `data`; false when it is not a WAV with fmt and data. */
bool sb_stt_wav(const unsigned char *data, size_t len, struct sb_wav *out);
/* Seconds of audio in a parsed WAV. */
double sb_stt_wav_seconds(const struct sb_wav *w);

/* The transcript for audio bytes: the text seeded for their SHA-256, else (with "unseeded":
 * "sha" set) "chunk <first 12 hex digits>", else SB_STT_DEFAULT_TEXT. Malloc'd; the hex
 * digest goes to `sha_hex` (65 bytes). NULL when out of memory. */
char *sb_stt_text_for(const unsigned char *data, size_t len, char sha_hex[65]);

/* Remember a validated request (stolen) in the recent list, oldest dropped past
 * SB_STT_RECENT_MAX. Out of memory: it is lost. */
void sb_stt_remember_take(json_t *fields);

/* The Retry-After to send with a rate-limit fault: seconds (0: none) and milliseconds (0:
 * none, else a retry-after-ms header too). */
void sb_stt_retry_after(long *seconds, long *ms);

/* The fixed STT latency of POST /__sandbox/stt, added to every STT request. */
long sb_stt_latency_ms(void);

/* Issue a Google access token valid `ttl_s` seconds into `out` (64 bytes). False when out of
 * memory. Check one: true when it was issued and has not expired. */
bool sb_stt_token_issue(long ttl_s, char out[64]);
bool sb_stt_token_valid(const char *token);

/* One part of a multipart/form-data body: pointers into the body (not NUL-terminated). */
struct sb_part {
        const char *name;
        size_t name_len;
        const char *filename; /* NULL for a plain field */
        size_t filename_len;
        const char *content_type; /* NULL when the part has none */
        size_t content_type_len;
        const unsigned char *data;
        size_t len;
};

#define SB_MAX_PARTS 32

/* Split `body` by the boundary of `content_type` ("multipart/form-data; boundary=...").
 * Returns the number of parts (at most SB_MAX_PARTS), or -1 with the reason in `why`. */
int sb_multipart_parse(const char *content_type, const char *body, size_t len,
                       struct sb_part *parts, char *why, size_t why_size);

#endif
