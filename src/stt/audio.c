/* RIFF/WAVE parsing, chunk planning and sample conversion for the STT engines. */
#include "audio.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HEADER_CHUNKS 64 /* chunks skipped before "data" before we give up */

static uint16_t le16(const unsigned char *p)
{
        return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t le32(const unsigned char *p)
{
        return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
               ((uint32_t)p[3] << 24);
}

static void put16(unsigned char *p, uint16_t v)
{
        p[0] = (unsigned char)v;
        p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (unsigned char)(v >> (8 * i));
}

/* Read the "fmt " chunk body of `size` bytes at `off` into `w`. */
static int parse_fmt(const struct cb_stt_audio *a, uint64_t off, uint32_t size,
                     struct cb_wav_info *w, char *err, size_t err_size)
{
        unsigned char f[40] = {0};
        size_t n = size < sizeof(f) ? size : sizeof(f);

        if (size < 16 || a->read_at(a->ctx, off, f, n) != 0) {
                snprintf(err, err_size, "WAV fmt chunk is truncated");
                return -1;
        }
        w->format = le16(f);
        w->channels = le16(f + 2);
        w->sample_rate = le32(f + 4);
        w->block_align = le16(f + 12);
        w->bits = le16(f + 14);
        if (w->format == CB_WAV_FORMAT_EXTENSIBLE) {
                if (size < 40) {
                        snprintf(err, err_size, "WAV extensible fmt chunk is truncated");
                        return -1;
                }
                w->extensible = true;
                w->format = le16(f + 24); /* the first two bytes of the sub-format GUID */
                if (w->format == CB_WAV_FORMAT_EXTENSIBLE) { /* no format: no chunk could say it */
                        snprintf(err, err_size, "WAV extensible sub-format is not a format");
                        return -1;
                }
        }
        if (w->channels == 0 || w->sample_rate == 0 || w->block_align == 0 || w->bits == 0) {
                snprintf(err, err_size, "WAV fmt chunk has no channels, rate or frame size");
                return -1;
        }
        return 0;
}

int cb_wav_parse(const struct cb_stt_audio *a, struct cb_wav_info *out, char *err, size_t err_size)
{
        unsigned char hdr[12], ch[8];
        uint64_t off = 12;
        bool have_fmt = false;

        memset(out, 0, sizeof(*out));
        if (a->size < 12 || a->read_at(a->ctx, 0, hdr, 12) != 0 || memcmp(hdr, "RIFF", 4) != 0 ||
            memcmp(hdr + 8, "WAVE", 4) != 0) {
                snprintf(err, err_size, "not a RIFF/WAVE file");
                return -1;
        }
        for (int i = 0; i < MAX_HEADER_CHUNKS; i++) {
                uint32_t size;

                if (off + 8 > a->size || a->read_at(a->ctx, off, ch, 8) != 0) {
                        snprintf(err, err_size, "WAV header is truncated (no data chunk)");
                        return -1;
                }
                size = le32(ch + 4);
                if (memcmp(ch, "fmt ", 4) == 0) {
                        if (off + 8 + size > a->size ||
                            parse_fmt(a, off + 8, size, out, err, err_size) != 0) {
                                if (off + 8 + size > a->size)
                                        snprintf(err, err_size, "WAV fmt chunk is truncated");
                                return -1;
                        }
                        have_fmt = true;
                } else if (memcmp(ch, "data", 4) == 0) {
                        uint64_t avail = a->size - (off + 8);

                        if (!have_fmt) {
                                snprintf(err, err_size, "WAV data chunk before fmt chunk");
                                return -1;
                        }
                        out->data_off = off + 8;
                        out->data_len =
                            (size == 0 || size == UINT32_MAX || size > avail) ? avail : size;
                        out->data_len -= out->data_len % out->block_align;
                        return 0;
                }
                off += 8 + (uint64_t)size + (size & 1);
        }
        snprintf(err, err_size, "WAV header has too many chunks before the data");
        return -1;
}

double cb_wav_duration(const struct cb_wav_info *w)
{
        uint64_t frames; /* whole frames: a trailing partial one does not play */

        if (w->sample_rate == 0 || w->block_align == 0)
                return 0;
        frames = w->data_len / w->block_align;
        return (double)frames / (double)w->sample_rate;
}

/* A chunk tag ("RIFF", "data"...): `n` bytes, no terminator. */
static void put_tag(unsigned char *p, const char *tag, size_t n)
{
        memcpy(p, tag, n);
}

void cb_wav_header(const struct cb_wav_info *w, uint64_t data_len,
                   unsigned char out[CB_WAV_HEADER_LEN])
{
        uint32_t len32 = data_len > UINT32_MAX - 36 ? UINT32_MAX - 36 : (uint32_t)data_len;

        put_tag(out, "RIFF", 4);
        put32(out + 4, 36 + len32);
        put_tag(out + 8, "WAVEfmt ", 8);
        put32(out + 16, 16);
        put16(out + 20, w->format);
        put16(out + 22, w->channels);
        put32(out + 24, w->sample_rate);
        put32(out + 28, w->sample_rate * w->block_align);
        put16(out + 32, w->block_align);
        put16(out + 34, w->bits);
        put_tag(out + 36, "data", 4);
        put32(out + 40, len32);
}

size_t cb_wav_plan(const struct cb_wav_info *w, uint64_t max_data, struct cb_wav_chunk **out)
{
        uint64_t step, frames;
        size_t n;

        *out = NULL;
        if (w->data_len == 0 || w->block_align == 0)
                return 0;
        step = max_data - max_data % w->block_align;
        if (step == 0)
                step = w->block_align;
        n = (size_t)((w->data_len + step - 1) / step);
        *out = calloc(n, sizeof(**out));
        if (*out == NULL)
                return 0;
        for (size_t i = 0; i < n; i++) {
                struct cb_wav_chunk *c = &(*out)[i];

                c->off = (uint64_t)i * step;
                c->len = w->data_len - c->off < step ? w->data_len - c->off : step;
                frames = c->off / w->block_align; /* chunks start on a frame */
                c->start_s = (double)frames / (double)w->sample_rate;
        }
        return n;
}

int cb_wav_chunk_read(const struct cb_stt_audio *a, const struct cb_wav_info *w,
                      const struct cb_wav_chunk *c, uint64_t off, void *buf, size_t len)
{
        unsigned char *p = buf;

        if (off + len > CB_WAV_HEADER_LEN + c->len)
                return -1;
        if (off < CB_WAV_HEADER_LEN) {
                unsigned char hdr[CB_WAV_HEADER_LEN];
                size_t n = CB_WAV_HEADER_LEN - (size_t)off;

                if (n > len)
                        n = len;
                cb_wav_header(w, c->len, hdr);
                memcpy(p, hdr + off, n);
                p += n;
                len -= n;
                off += n;
        }
        if (len == 0)
                return 0;
        return a->read_at(a->ctx, w->data_off + c->off + (off - CB_WAV_HEADER_LEN), p, len);
}

/* G.711 a-law and mu-law to linear 16-bit (ITU-T G.711 reference expansion). */
static int16_t alaw_to_s16(unsigned char v)
{
        int t, seg;

        v ^= 0x55;
        t = (v & 0x0f) << 4;
        seg = (v & 0x70) >> 4;
        if (seg == 0)
                t += 8;
        else
                t = (t + 0x108) << (seg - 1);
        return (int16_t)((v & 0x80) ? t : -t);
}

static int16_t mulaw_to_s16(unsigned char v)
{
        int t;

        v = (unsigned char)~v;
        t = (((v & 0x0f) << 3) + 0x84) << ((v & 0x70) >> 4);
        return (int16_t)((v & 0x80) ? (0x84 - t) : (t - 0x84));
}

/* One sample at `p` as a value in [-32768, 32767]; false for an unknown format. */
static bool sample_s16(const struct cb_wav_info *w, const unsigned char *p, int32_t *v)
{
        double d;

        switch (w->format) {
        case CB_WAV_FORMAT_PCM:
                if (w->bits <= 8)
                        *v = ((int32_t)p[0] - 128) * 256;
                else if (w->bits <= 16)
                        *v = (int16_t)le16(p);
                else if (w->bits <= 24)
                        *v = (int32_t)(((uint32_t)p[0] << 8 | (uint32_t)p[1] << 16 |
                                        (uint32_t)p[2] << 24)) >>
                             16;
                else
                        *v = (int32_t)le32(p) >> 16;
                return true;
        case CB_WAV_FORMAT_FLOAT: {
                if (w->bits == 32) {
                        float f;
                        uint32_t u = le32(p);
                        memcpy(&f, &u, 4);
                        d = f;
                } else {
                        uint64_t u = (uint64_t)le32(p) | ((uint64_t)le32(p + 4) << 32);
                        memcpy(&d, &u, 8);
                }
                if (!isfinite(d))
                        d = 0;
                d = d > 1 ? 1 : d < -1 ? -1 : d;
                *v = (int32_t)lrint(d * 32767.0);
                return true;
        }
        case CB_WAV_FORMAT_ALAW:
                *v = alaw_to_s16(p[0]);
                return true;
        case CB_WAV_FORMAT_MULAW:
                *v = mulaw_to_s16(p[0]);
                return true;
        default:
                return false;
        }
}

bool cb_wav_to_s16_mono(const struct cb_wav_info *w, const unsigned char *in, size_t frames,
                        int16_t *out)
{
        size_t bytes = (size_t)((w->bits + 7) / 8);

        if (bytes == 0 || w->channels == 0 || bytes * w->channels > w->block_align ||
            (w->format == CB_WAV_FORMAT_FLOAT && w->bits != 32 && w->bits != 64) ||
            ((w->format == CB_WAV_FORMAT_ALAW || w->format == CB_WAV_FORMAT_MULAW) && bytes != 1) ||
            (w->format == CB_WAV_FORMAT_PCM && bytes > 4))
                return false;
        for (size_t f = 0; f < frames; f++) {
                const unsigned char *frame = in + f * w->block_align;
                int64_t sum = 0;

                for (uint16_t c = 0; c < w->channels; c++) {
                        int32_t v;
                        if (!sample_s16(w, frame + c * bytes, &v))
                                return false;
                        sum += v;
                }
                out[f] = (int16_t)(sum / w->channels);
        }
        return true;
}
