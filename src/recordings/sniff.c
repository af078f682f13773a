/* What audio a body holds, from its first bytes, and what a client says it sends. Each format
 * is checked as far as the prefix shows its structure: a magic number alone is not enough. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "callbridge/recordings.h"

#define WAV_MAX_CHANNELS 64
#define WAV_MAX_RATE     768000u

struct sniff {
        const unsigned char *p;
        size_t n;
        bool whole;
        uint64_t *total;
        char *why;
        size_t why_size;
};

static uint32_t le16(const unsigned char *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
        return le16(p) | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t be32(const unsigned char *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Record why the body was refused; NULL, for `return bad(...)`. */
static const char *bad(const struct sniff *s, const char *why)
{
        snprintf(s->why, s->why_size, "%s", why);
        return NULL;
}

/* ---- WAV: RIFF, WAVE, a sane fmt chunk before the data, sizes that add up ---------------- */

static bool fourcc_ok(const unsigned char *id)
{
        for (int i = 0; i < 4; i++)
                if (id[i] < 0x20 || id[i] > 0x7e)
                        return false;
        return true;
}

/* The fmt chunk body (`len` bytes): a format we know, with consistent rates for linear ones. */
static bool wav_fmt_ok(const unsigned char *f, uint32_t len)
{
        uint32_t tag = le16(f), ch = le16(f + 2), rate = le32(f + 4), byte_rate = le32(f + 8);
        uint32_t align = le16(f + 12), bits = le16(f + 14);

        if (len < 16 || ch == 0 || ch > WAV_MAX_CHANNELS || rate == 0 || rate > WAV_MAX_RATE ||
            align == 0 || byte_rate == 0)
                return false;
        switch (tag) {
        case 0x0001: /* PCM */
        case 0x0003: /* IEEE float */
        case 0x0006: /* A-law */
        case 0x0007: /* mu-law */
        case 0xFFFE: /* extensible */
                if (tag == 0xFFFE && len < 40)
                        return false;
                if (bits == 0 || bits % 8 != 0 || bits > 64)
                        return false;
                return align == ch * (bits / 8) && byte_rate == rate * align;
        case 0x0002: /* MS ADPCM */
        case 0x0011: /* IMA ADPCM */
        case 0x0031: /* GSM 6.10 */
        case 0x0050: /* MPEG */
        case 0x0055: /* MPEG layer 3 */
                return true;
        default:
                return false;
        }
}

static const char *sniff_wav(const struct sniff *s)
{
        const unsigned char *p = s->p;
        uint64_t riff = le32(p + 4), end = 8 + riff, off = 12;
        bool fmt = false;

        /* A writer that streams (ffmpeg to a pipe, live recorders) cannot seek back to fill
         * the sizes in and leaves 0 or 0xFFFFFFFF: the length is then unknown, not wrong. */
        if (riff == 0 || riff == 0xFFFFFFFFu)
                end = UINT64_MAX;
        else if (riff < 4)
                return bad(s, "the RIFF size is too small");
        else
                *s->total = end;
        if (s->whole && end != UINT64_MAX && s->n != end)
                return bad(s, "the RIFF size is not the body's size");
        for (; off + 8 <= s->n; off += 8 + (uint64_t)le32(p + off + 4) + (le32(p + off + 4) & 1)) {
                const unsigned char *id = p + off;
                uint32_t size = le32(p + off + 4);

                if (!fourcc_ok(id))
                        return bad(s, "a RIFF chunk id is not text");
                if (off + 8 + size > end)
                        return bad(s, "a RIFF chunk runs past the RIFF size");
                if (memcmp(id, "fmt ", 4) == 0) {
                        if (fmt || size < 16 || off + 8 + (size < 40 ? size : 40) > s->n ||
                            !wav_fmt_ok(p + off + 8, size))
                                return bad(s, "the WAV fmt chunk is missing or not a sane format");
                        fmt = true;
                } else if (memcmp(id, "data", 4) == 0) {
                        return fmt ? "audio/wav"
                                   : bad(s, "the WAV data comes before its fmt chunk");
                }
        }
        /* The prefix ended (or the body) without a data chunk: fine only while it may follow. */
        if (!fmt)
                return bad(s, "no WAV fmt chunk in the first bytes");
        return s->whole ? bad(s, "the WAV has no data chunk") : "audio/wav";
}

/* ---- MPEG audio: an ID3v2 tag and/or frame headers, a second frame where the first ends --- */

/* Frame length in bytes of the MPEG audio frame header at `h`, 0 when it is not one; `sig`
 * gets version, layer and sample rate (which every frame of a stream shares). */
static size_t mpeg_frame(const unsigned char *h, unsigned *sig)
{
        static const unsigned short kbps[5][15] = {
            {0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448}, /* V1 L1 */
            {0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384},    /* V1 L2 */
            {0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320},     /* V1 L3 */
            {0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256},    /* V2 L1 */
            {0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},         /* V2 L2/3 */
        };
        static const unsigned rates[4][3] = {
            {11025, 12000, 8000}, {0, 0, 0}, {22050, 24000, 16000}, {44100, 48000, 32000}};
        unsigned ver = (h[1] >> 3) & 3, layer = (h[1] >> 1) & 3, bi = h[2] >> 4;
        unsigned si = (h[2] >> 2) & 3, pad = (h[2] >> 1) & 1, row, rate;

        if (h[0] != 0xFF || (h[1] & 0xE0) != 0xE0 || ver == 1 || layer == 0 || bi == 15 ||
            si == 3 || (h[3] & 3) == 2)
                return 0;
        rate = rates[ver][si];
        row = ver == 3 ? 3 - layer : (layer == 3 ? 3 : 4);
        *sig = (unsigned)h[1] << 8 | (h[2] & 0x0C);
        if (bi == 0)
                return 1; /* free format: no length to check */
        if (layer == 3)   /* layer I */
                return ((size_t)12 * kbps[row][bi] * 1000 / rate + pad) * 4;
        if (layer == 1 && ver != 3) /* layer III, MPEG 2 and 2.5 */
                return 72u * kbps[row][bi] * 1000 / rate + pad;
        return 144u * kbps[row][bi] * 1000 / rate + pad;
}

static const char *sniff_mpeg(const struct sniff *s)
{
        const unsigned char *p = s->p;
        uint64_t off = 0;
        unsigned sig = 0, sig2 = 0;
        size_t len;

        if (s->n >= 3 && memcmp(p, "ID3", 3) == 0) {
                if (s->n < 10 || p[3] < 2 || p[3] > 4 || p[4] == 0xFF ||
                    (p[5] & (p[3] == 4 ? 0x0F : 0x1F)) != 0 || ((p[6] | p[7] | p[8] | p[9]) & 0x80))
                        return bad(s, "the ID3v2 tag header is malformed");
                off =
                    10 + ((uint64_t)p[6] << 21 | (uint64_t)p[7] << 14 | (uint64_t)p[8] << 7 | p[9]);
                if (p[3] == 4 && (p[5] & 0x10))
                        off += 10;  /* footer */
                if (off + 4 > s->n) /* the tag (cover art...) fills the prefix */
                        return s->whole ? bad(s, "an ID3 tag but no MPEG audio") : "audio/mpeg";
        }
        len = off + 4 <= s->n ? mpeg_frame(p + off, &sig) : 0;
        if (len == 0)
                return bad(s, "no MPEG audio frame header");
        off += len;
        if (len > 1 && off + 4 <= s->n && (mpeg_frame(p + off, &sig2) == 0 || sig2 != sig))
                return bad(s, "the second MPEG frame is not where the first one ends");
        return "audio/mpeg";
}

/* ---- Ogg: a first page that is a well-formed, CRC-checked BOS page of an audio codec ------ */

static uint32_t ogg_crc(const unsigned char *p, size_t n)
{
        uint32_t crc = 0;

        for (size_t i = 0; i < n; i++) {
                crc ^= (uint32_t)((i >= 22 && i < 26) ? 0 : p[i]) << 24; /* the CRC field as 0 */
                for (int b = 0; b < 8; b++)
                        crc = crc & 0x80000000u ? crc << 1 ^ 0x04C11DB7u : crc << 1;
        }
        return crc;
}

static const char *sniff_ogg(const struct sniff *s)
{
        static const struct {
                const char *magic;
                size_t len;
        } codecs[] = {{"OpusHead", 8},
                      {"\x01vorbis", 7},
                      {"Speex   ", 8},
                      {"\x7f"
                       "FLAC",
                       5}};
        const unsigned char *p = s->p;
        size_t head, body = 0;

        if (s->n < 27 || p[4] != 0 || (p[5] & ~0x06) != 0 || !(p[5] & 0x02) || le32(p + 18) != 0 ||
            p[26] == 0)
                return bad(s, "the first Ogg page is not a stream's first page");
        head = 27 + (size_t)p[26];
        for (size_t i = 27; i < head && i < s->n; i++)
                body += p[i];
        if (head + body > s->n)
                return bad(s, "the first Ogg page is cut short");
        if (ogg_crc(p, head + body) != le32(p + 22))
                return bad(s, "the first Ogg page fails its CRC");
        for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++)
                if (body >= codecs[i].len && memcmp(p + head, codecs[i].magic, codecs[i].len) == 0)
                        return "audio/ogg";
        return bad(s, "the Ogg stream is not Opus, Vorbis, Speex or FLAC audio");
}

/* ---- WebM: an EBML header whose elements add up, DocType webm/matroska, then a Segment ----- */

/* An EBML variable-length integer at p[*off] of at most `max` bytes: its value (with the length
 * marker kept for ids, removed for sizes). False when malformed, longer than `max` or cut. */
static bool ebml_vint(const struct sniff *s, uint64_t *off, size_t max, bool id, uint64_t *v)
{
        unsigned char first;
        size_t len = 1;

        if (*off >= s->n)
                return false;
        first = s->p[*off];
        while (len <= 8 && !(first & (0x80 >> (len - 1))))
                len++;
        if (len > max || *off + len > s->n)
                return false;
        *v = id ? first : first & (0xFF >> len);
        for (size_t i = 1; i < len; i++)
                *v = *v << 8 | s->p[*off + i];
        *off += len;
        return true;
}

static const char *sniff_webm(const struct sniff *s)
{
        uint64_t off = 4, size, id, len, end;
        bool doctype = false;

        if (!ebml_vint(s, &off, 8, false, &size) || size > CB_REC_SNIFF_BYTES || off + size > s->n)
                return bad(s, "the EBML header is malformed or cut short");
        end = off + size;
        while (off < end) {
                if (!ebml_vint(s, &off, 4, true, &id) || !ebml_vint(s, &off, 8, false, &len) ||
                    off + len > end)
                        return bad(s, "an EBML header element runs past the header");
                if (id == 0x4282) {
                        size_t n = (size_t)len;
                        while (n > 0 && s->p[off + n - 1] == 0)
                                n--; /* strings may be padded with NULs */
                        doctype = (n == 4 && memcmp(s->p + off, "webm", 4) == 0) ||
                                  (n == 8 && memcmp(s->p + off, "matroska", 8) == 0);
                        if (!doctype)
                                return bad(s, "the EBML DocType is not webm or matroska");
                }
                off += len;
        }
        if (!doctype)
                return bad(s, "the EBML header has no DocType");
        if (end + 4 <= s->n ? be32(s->p + end) != 0x18538067 : s->whole)
                return bad(s, "no Matroska Segment after the EBML header");
        return "audio/webm";
}

const char *cb_rec_sniff(const unsigned char *p, size_t n, bool whole, uint64_t *total, char *why,
                         size_t why_size)
{
        struct sniff s = {p, n, whole, total, why, why_size};

        *total = 0;
        snprintf(why, why_size, "it is not WAV, MP3, Ogg or WebM audio");
        if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WAVE", 4) == 0)
                return sniff_wav(&s);
        if (n >= 4 && memcmp(p, "OggS", 4) == 0)
                return sniff_ogg(&s);
        if (n >= 4 && be32(p) == 0x1A45DFA3)
                return sniff_webm(&s);
        if ((n >= 3 && memcmp(p, "ID3", 3) == 0) ||
            (n >= 2 && p[0] == 0xFF && (p[1] & 0xE0) == 0xE0))
                return sniff_mpeg(&s);
        return NULL;
}

const char *cb_rec_declared_type(const char *ct)
{
        static const struct {
                const char *name;
                const char *canonical;
        } types[] = {
            {"audio/wav", "audio/wav"},     {"audio/x-wav", "audio/wav"},
            {"audio/wave", "audio/wav"},    {"audio/vnd.wave", "audio/wav"},
            {"audio/mpeg", "audio/mpeg"},   {"audio/mp3", "audio/mpeg"},
            {"audio/x-mpeg", "audio/mpeg"}, {"audio/ogg", "audio/ogg"},
            {"audio/webm", "audio/webm"},
        };
        size_t n;

        if (ct == NULL)
                return NULL;
        n = strcspn(ct, "; \t");
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
                if (strlen(types[i].name) == n && strncasecmp(ct, types[i].name, n) == 0)
                        return types[i].canonical;
        return NULL;
}
