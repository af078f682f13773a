/* Private to src/stt/: any stored recording as 16 kHz mono signed 16-bit PCM, decoded in
 * fixed-size blocks (libsndfile over the recording's read_at, mixed to mono, resampled with
 * libsamplerate). Memory is constant in the recording's length; no temporary file. */
#ifndef CALLBRIDGE_STT_PCM16K_H
#define CALLBRIDGE_STT_PCM16K_H

#include <stddef.h>
#include <stdint.h>

#include "callbridge/stt.h"
#include "callbridge/util.h"

#define CB_PCM16K_RATE 16000

struct cb_pcm16k;

/* Open `audio` (borrowed; it must outlive the reader). OK with *out (close it with
 * cb_pcm16k_close); RETRY when the reader failed; FAIL with `err` when libsndfile cannot decode
 * the format (WebM, for one) or memory runs out. */
CB_MUST_CHECK enum cb_result cb_pcm16k_open(const struct cb_stt_audio *audio,
                                            struct cb_pcm16k **out, char *err, size_t err_size);

/* Up to `max` samples into `out`. OK with *got (0 only at the end of the audio); RETRY when
 * the reader failed (storage error), FAIL when the audio is corrupt, both with `err`. */
CB_MUST_CHECK enum cb_result cb_pcm16k_read(struct cb_pcm16k *p, int16_t *out, size_t max,
                                            size_t *got, char *err, size_t err_size);

/* What the source was: "wav 44100 Hz 2 ch" and the like, for logs. */
const char *cb_pcm16k_describe(const struct cb_pcm16k *p);

/* Samples delivered so far (at 16 kHz). */
uint64_t cb_pcm16k_samples(const struct cb_pcm16k *p);

/* Free the reader and clear *p. NULL is fine. */
void cb_pcm16k_close(struct cb_pcm16k **p);

#endif
