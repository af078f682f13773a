/* Audio helpers shared by the STT engines (src/stt/audio.c): read a RIFF/WAVE header through
 * a cb_stt_audio reader, plan chunks of PCM on sample-frame boundaries, and read each chunk as
 * a standalone WAV file (its own 44-byte header, then its slice of the data). */
#ifndef CB_STT_AUDIO_H
#define CB_STT_AUDIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callbridge/stt.h"

#define CB_WAV_FORMAT_PCM        1
#define CB_WAV_FORMAT_FLOAT      3
#define CB_WAV_FORMAT_ALAW       6
#define CB_WAV_FORMAT_MULAW      7
#define CB_WAV_FORMAT_EXTENSIBLE 0xFFFE
#define CB_WAV_HEADER_LEN        44

/* What a WAV header says. `format` is the effective tag: for WAVE_FORMAT_EXTENSIBLE the
 * sub-format's tag (`extensible` is then true). */
struct cb_wav_info {
        uint16_t format;
        uint16_t channels;
        uint32_t sample_rate;
        uint16_t bits;
        uint16_t block_align; /* bytes per sample frame (all channels) */
        bool extensible;
        uint64_t data_off; /* where the sample data starts in the file */
        /* Bytes of sample data: the data chunk's size, clamped to what the file holds (a
         * streamed WAV may say 0 or 0xFFFFFFFF) and rounded down to whole frames. */
        uint64_t data_len;
};

/* One chunk of a plan: `len` bytes of sample data at `off` into the data (whole frames). */
struct cb_wav_chunk {
        uint64_t off;
        uint64_t len;
        double start_s; /* where the chunk starts in the recording */
};

/* Parse the RIFF/WAVE header of `audio` (chunks such as LIST or fact before "data" are
 * skipped, odd sizes padded). 0, or -1 with the reason in `err` (not a WAV, truncated, no
 * fmt or data chunk, a format with no frame size). */
int cb_wav_parse(const struct cb_stt_audio *audio, struct cb_wav_info *out, char *err,
                 size_t err_size);

/* Seconds of audio the data holds (0 when the rate is 0). */
double cb_wav_duration(const struct cb_wav_info *w);

/* Write a canonical 44-byte PCM/float header for `data_len` bytes in `w`'s format (an
 * extensible source gets its plain sub-format tag). */
void cb_wav_header(const struct cb_wav_info *w, uint64_t data_len,
                   unsigned char out[CB_WAV_HEADER_LEN]);

/* Cut the data into chunks of at most `max_data` bytes (rounded down to whole frames, at
 * least one frame) in order. Returns the count with a malloc'd array in *out (caller frees),
 * or 0 (and *out NULL) when out of memory or the data is empty. */
size_t cb_wav_plan(const struct cb_wav_info *w, uint64_t max_data, struct cb_wav_chunk **out);

/* Read bytes of the standalone WAV file chunk `c` is: the header, then its data. `len` bytes
 * at `off` (off + len <= CB_WAV_HEADER_LEN + c->len). 0, or -1 when the reader failed. */
int cb_wav_chunk_read(const struct cb_stt_audio *audio, const struct cb_wav_info *w,
                      const struct cb_wav_chunk *c, uint64_t off, void *buf, size_t len);

/* Convert `frames` frames of integer PCM (8-bit unsigned, 16/24/32-bit signed LE) in `in`
 * to 16-bit mono (channels averaged) in `out`. False for a format it does not take
 * (float, a-law...). */
bool cb_wav_to_s16_mono(const struct cb_wav_info *w, const unsigned char *in, size_t frames,
                        int16_t *out);

#endif
