/* Stored audio as 16 kHz mono PCM: libsndfile reads through a virtual I/O over the
 * recording's read_at (no temporary file), channels are averaged, libsamplerate converts the
 * rate block by block (src_process), floats are clipped to 16 bits. Every buffer has a fixed
 * size, so memory does not grow with the recording. */
#include "pcm16k.h"

#include <samplerate.h>
#include <sndfile.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_FRAMES 4096 /* source frames decoded per sf_readf_float */
#define MAX_CHANNELS 16   /* more is not a phone call */
/* SRC_SINC_FASTEST is transparent below 8 kHz (all PocketSphinx looks at) and ~5x cheaper
 * than the medium converter; measured in bench/stt_offline.sh. */
#define CONVERTER SRC_SINC_FASTEST

struct cb_pcm16k {
        const struct cb_stt_audio *audio; /* borrowed */
        uint64_t pos;                     /* virtual file position */
        bool io_error;                    /* read_at failed: RETRY, not FAIL */
        SNDFILE *sf;
        SF_INFO info;
        SRC_STATE *src; /* NULL when the source is already at 16 kHz */
        double ratio;
        float *in;        /* BLOCK_FRAMES * channels interleaved, from libsndfile */
        float *mono;      /* BLOCK_FRAMES, the channels' average */
        size_t mono_len;  /* frames in mono */
        size_t mono_off;  /* frames of mono already given to the converter */
        bool input_done;  /* libsndfile has nothing more */
        bool output_done; /* the converter has flushed its tail */
        float *out;       /* converter output, max samples of the caller */
        size_t out_size;
        uint64_t samples; /* delivered */
        char describe[96];
};

/* ---- libsndfile virtual I/O over read_at ---------------------------------------------------- */

static sf_count_t vio_filelen(void *user)
{
        const struct cb_pcm16k *p = user;

        return (sf_count_t)p->audio->size;
}

static sf_count_t vio_seek(sf_count_t offset, int whence, void *user)
{
        struct cb_pcm16k *p = user;
        sf_count_t base = 0;
        sf_count_t to;

        if (whence == SEEK_CUR)
                base = (sf_count_t)p->pos;
        else if (whence == SEEK_END)
                base = (sf_count_t)p->audio->size;
        to = base + offset;
        if (to < 0)
                return -1;
        p->pos = (uint64_t)to; /* past the end is allowed; reads there give 0 bytes */
        return to;
}

/* libsndfile asks for `count` bytes; a short count is its end of file. A failing read_at
 * is remembered so the caller can tell storage trouble (retry) from bad audio (fail). */
static sf_count_t vio_read(void *ptr, sf_count_t count, void *user)
{
        struct cb_pcm16k *p = user;
        uint64_t left;
        size_t n;

        if (count <= 0 || p->pos >= p->audio->size)
                return 0;
        left = p->audio->size - p->pos;
        n = (uint64_t)count < left ? (size_t)count : (size_t)left;
        if (p->audio->read_at(p->audio->ctx, p->pos, ptr, n) != 0) {
                p->io_error = true;
                return 0;
        }
        p->pos += n;
        return (sf_count_t)n;
}

static sf_count_t vio_write(const void *ptr, sf_count_t count, void *user)
{
        return 0; /* read only */
}

static sf_count_t vio_tell(void *user)
{
        const struct cb_pcm16k *p = user;

        return (sf_count_t)p->pos;
}

/* ---- open / close -----------------------------------------------------------------------------
 */

static const char *major_name(int format)
{
        SF_FORMAT_INFO fi = {.format = format & SF_FORMAT_TYPEMASK};

        if (sf_command(NULL, SFC_GET_FORMAT_INFO, &fi, sizeof(fi)) != 0 || fi.extension == NULL)
                return "audio";
        return fi.extension;
}

/* Allocate the blocks and the converter once the source's shape is known; -1 on failure. */
static int setup_blocks(struct cb_pcm16k *p, char *err, size_t err_size)
{
        int src_err = 0;

        p->in = malloc(sizeof(float) * BLOCK_FRAMES * (size_t)p->info.channels);
        p->mono = malloc(sizeof(float) * BLOCK_FRAMES);
        if (p->in == NULL || p->mono == NULL) {
                cb_err_printf(err, err_size, "out of memory");
                return -1;
        }
        p->ratio = (double)CB_PCM16K_RATE / (double)p->info.samplerate;
        if (p->info.samplerate == CB_PCM16K_RATE)
                return 0;
        if (src_is_valid_ratio(p->ratio) == 0) {
                cb_err_printf(err, err_size, "sample rate %d Hz cannot be converted",
                              p->info.samplerate);
                return -1;
        }
        p->src = src_new(CONVERTER, 1, &src_err);
        if (p->src == NULL) {
                cb_err_printf(err, err_size, "libsamplerate: %s", src_strerror(src_err));
                return -1;
        }
        return 0;
}

enum cb_result cb_pcm16k_open(const struct cb_stt_audio *audio, struct cb_pcm16k **out, char *err,
                              size_t err_size)
{
        SF_VIRTUAL_IO vio = {vio_filelen, vio_seek, vio_read, vio_write, vio_tell};
        struct cb_pcm16k *p = calloc(1, sizeof(*p));
        enum cb_result rc = CB_RESULT_FAIL;

        *out = NULL;
        if (p == NULL) {
                cb_err_printf(err, err_size, "out of memory");
                return CB_RESULT_FAIL;
        }
        p->audio = audio;
        p->sf = sf_open_virtual(&vio, SFM_READ, &p->info, p);
        if (p->sf == NULL) {
                if (p->io_error) {
                        cb_err_printf(err, err_size, "reading the recording failed");
                        rc = CB_RESULT_RETRY;
                } else {
                        cb_err_printf(err, err_size, "cannot decode %s: %s",
                                      audio->content_type ? audio->content_type : "audio",
                                      sf_strerror(NULL));
                }
                goto fail;
        }
        if (p->info.channels < 1 || p->info.channels > MAX_CHANNELS || p->info.samplerate < 1000 ||
            p->info.samplerate > 384000) {
                cb_err_printf(err, err_size, "unusable audio: %d channels at %d Hz",
                              p->info.channels, p->info.samplerate);
                goto fail;
        }
        if (setup_blocks(p, err, err_size) != 0)
                goto fail;
        snprintf(p->describe, sizeof(p->describe), "%s %d Hz %d ch", major_name(p->info.format),
                 p->info.samplerate, p->info.channels);
        *out = p;
        return CB_RESULT_OK;
fail:
        cb_pcm16k_close(&p);
        return rc;
}

void cb_pcm16k_close(struct cb_pcm16k **pp)
{
        struct cb_pcm16k *p = *pp;

        if (p == NULL)
                return;
        if (p->sf != NULL)
                sf_close(p->sf);
        if (p->src != NULL)
                src_delete(p->src);
        free(p->in);
        free(p->mono);
        free(p->out);
        free(p);
        *pp = NULL;
}

/* ---- reading ------------------------------------------------------------------------------------
 */

/* Decode the next block into `mono`. OK (input_done set at the end), or RETRY/FAIL. */
static enum cb_result fill_mono(struct cb_pcm16k *p, char *err, size_t err_size)
{
        int ch = p->info.channels;
        sf_count_t n = sf_readf_float(p->sf, p->in, BLOCK_FRAMES);

        if (p->io_error) {
                cb_err_printf(err, err_size, "reading the recording failed");
                return CB_RESULT_RETRY;
        }
        if (n <= 0) {
                int e = sf_error(p->sf);

                if (e != SF_ERR_NO_ERROR) {
                        cb_err_printf(err, err_size, "corrupt audio: %s", sf_error_number(e));
                        return CB_RESULT_FAIL;
                }
                p->input_done = true;
                n = 0;
        }
        for (sf_count_t i = 0; i < n; i++) {
                float sum = 0.0f;

                for (int c = 0; c < ch; c++)
                        sum += p->in[i * ch + c];
                p->mono[i] = sum / (float)ch;
        }
        p->mono_len = (size_t)n;
        p->mono_off = 0;
        return CB_RESULT_OK;
}

/* Run the converter over what is pending; returns samples written to p->out, or -1. */
static long convert(struct cb_pcm16k *p, size_t max, char *err, size_t err_size)
{
        SRC_DATA d = {
            .data_in = p->mono + p->mono_off,
            .data_out = p->out,
            .input_frames = (long)(p->mono_len - p->mono_off),
            .output_frames = (long)max,
            .end_of_input = p->input_done,
            .src_ratio = p->ratio,
        };
        int e = src_process(p->src, &d);

        if (e != 0) {
                cb_err_printf(err, err_size, "libsamplerate: %s", src_strerror(e));
                return -1;
        }
        p->mono_off += (size_t)d.input_frames_used;
        if (p->input_done && d.output_frames_gen == 0 && p->mono_off == p->mono_len)
                p->output_done = true;
        return d.output_frames_gen;
}

/* Make sure p->out holds at least `max` floats; -1 when memory runs out. */
static int ensure_out(struct cb_pcm16k *p, size_t max)
{
        float *grown;

        if (p->out_size >= max)
                return 0;
        grown = realloc(p->out, sizeof(float) * max);
        if (grown == NULL)
                return -1;
        p->out = grown;
        p->out_size = max;
        return 0;
}

enum cb_result cb_pcm16k_read(struct cb_pcm16k *p, int16_t *out, size_t max, size_t *got, char *err,
                              size_t err_size)
{
        long n = 0;

        *got = 0;
        if (max == 0)
                return CB_RESULT_OK;
        if (ensure_out(p, max) != 0) {
                cb_err_printf(err, err_size, "out of memory");
                return CB_RESULT_FAIL;
        }
        while (n == 0 && !p->output_done) {
                if (p->mono_off == p->mono_len && !p->input_done) {
                        enum cb_result rc = fill_mono(p, err, err_size);

                        if (rc != CB_RESULT_OK)
                                return rc;
                }
                if (p->src == NULL) { /* already 16 kHz: hand the block over as it is */
                        size_t left = p->mono_len - p->mono_off;

                        n = (long)(left < max ? left : max);
                        memcpy(p->out, p->mono + p->mono_off, sizeof(float) * (size_t)n);
                        p->mono_off += (size_t)n;
                        p->output_done = p->input_done && p->mono_off == p->mono_len;
                } else if ((n = convert(p, max, err, err_size)) < 0) {
                        return CB_RESULT_FAIL;
                }
        }
        /* Floats are scaled to 16 bits and clipped (a float WAV may exceed 1.0). */
        src_float_to_short_array(p->out, out, (int)n);
        p->samples += (uint64_t)n;
        *got = (size_t)n;
        return CB_RESULT_OK;
}

const char *cb_pcm16k_describe(const struct cb_pcm16k *p)
{
        return p->describe;
}

uint64_t cb_pcm16k_samples(const struct cb_pcm16k *p)
{
        return p->samples;
}
