/* src/stt/audio.c: RIFF/WAVE header parsing, chunk plans on frame boundaries, chunk reads
 * with their own headers, and sample conversion to 16-bit mono. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audio.h"

struct mem {
        const unsigned char *data;
        size_t len;
};

static int mem_read(void *ctx, uint64_t off, void *buf, size_t len)
{
        const struct mem *m = ctx;

        if (off > m->len || len > m->len - off)
                return -1;
        memcpy(buf, m->data + off, len);
        return 0;
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

/* A WAV file in `out` (caller frees): fmt (16 or 40 bytes when extensible), an optional
 * LIST chunk of odd size before the data, `data_len` bytes of a counting pattern, and a data
 * size field of `declared` (data_len when UINT32_MAX is not asked). Returns the length. */
static size_t make_wav(unsigned char **out, uint16_t tag, uint16_t channels, uint32_t rate,
                       uint16_t bits, bool extensible, bool list, uint32_t data_len,
                       uint32_t declared)
{
        size_t fmt_len = extensible ? 40 : 16;
        size_t len = 12 + 8 + fmt_len + (list ? 8 + 5 + 1 : 0) + 8 + data_len;
        unsigned char *w = calloc(1, len);
        unsigned char *p = w;
        uint16_t align = (uint16_t)(channels * ((bits + 7) / 8));

        assert_non_null(w);
        memcpy(p, "RIFF", 4), put32(p + 4, (uint32_t)len - 8), memcpy(p + 8, "WAVE", 4);
        p += 12;
        memcpy(p, "fmt ", 4), put32(p + 4, (uint32_t)fmt_len);
        put16(p + 8, extensible ? 0xFFFE : tag), put16(p + 10, channels), put32(p + 12, rate);
        put32(p + 16, rate * align), put16(p + 20, align), put16(p + 22, bits);
        if (extensible) {
                put16(p + 24, 22), put16(p + 26, bits), put32(p + 28, 3);
                put16(p + 32, tag); /* the sub-format GUID starts with the tag */
                memcpy(p + 34, "\x00\x00\x00\x00\x10\x00\x80\x00\x00\xAA\x00\x38\x9B\x71", 14);
        }
        p += 8 + fmt_len;
        if (list) {
                memcpy(p, "LIST", 4), put32(p + 4, 5), memcpy(p + 8, "INFOx", 5);
                p += 8 + 5 + 1; /* odd size: one pad byte */
        }
        memcpy(p, "data", 4), put32(p + 4, declared);
        for (uint32_t i = 0; i < data_len; i++)
                p[8 + i] = (unsigned char)(i * 7 + 3);
        *out = w;
        return len;
}

static struct cb_stt_audio audio_of(struct mem *m)
{
        return (struct cb_stt_audio){
            .content_type = "audio/wav", .size = m->len, .read_at = mem_read, .ctx = m};
}

/* Data-driven header cases: the fields parsed from each shape. */
struct header_case {
        const char *name;
        uint16_t tag, channels, bits;
        uint32_t rate;
        bool extensible, list;
        uint32_t data_len, declared;
        uint64_t want_len; /* data_len as parsed */
};

static const struct header_case header_cases[] = {
    {"pcm16 mono", 1, 1, 16, 16000, false, false, 3200, 3200, 3200},
    {"pcm8 mono", 1, 1, 8, 8000, false, false, 801, 801, 801},
    {"pcm16 stereo", 1, 2, 16, 44100, false, false, 4000, 4000, 4000},
    {"pcm8 stereo, LIST of odd size first", 1, 2, 8, 22050, false, true, 1000, 1000, 1000},
    {"extensible pcm24 stereo", 1, 2, 24, 48000, true, false, 600, 600, 600},
    {"extensible float32 mono", 3, 1, 32, 16000, true, true, 400, 400, 400},
    {"mu-law mono", 7, 1, 8, 8000, false, false, 80, 80, 80},
    {"streamed: size 0xFFFFFFFF", 1, 1, 16, 8000, false, false, 1000, UINT32_MAX, 1000},
    {"size larger than the file", 1, 2, 16, 8000, false, false, 1001, 5000, 1000},
    {"size not whole frames", 1, 2, 16, 8000, false, false, 1000, 999, 996},
};

static void test_header_cases(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(header_cases) / sizeof(header_cases[0]); i++) {
                const struct header_case *c = &header_cases[i];
                unsigned char *w;
                struct mem m;
                struct cb_stt_audio a;
                struct cb_wav_info info;
                char err[128];

                m.len = make_wav(&w, c->tag, c->channels, c->rate, c->bits, c->extensible, c->list,
                                 c->data_len, c->declared);
                m.data = w;
                a = audio_of(&m);
                if (cb_wav_parse(&a, &info, err, sizeof(err)) != 0)
                        fail_msg("%s: %s", c->name, err);
                assert_int_equal(info.format, c->tag);
                assert_int_equal(info.channels, c->channels);
                assert_int_equal(info.sample_rate, c->rate);
                assert_int_equal(info.bits, c->bits);
                assert_int_equal(info.extensible, c->extensible);
                assert_int_equal(info.block_align, c->channels * ((c->bits + 7) / 8));
                assert_int_equal(info.data_off, m.len - c->data_len);
                if (info.data_len != c->want_len)
                        fail_msg("%s: data_len %llu, want %llu", c->name,
                                 (unsigned long long)info.data_len,
                                 (unsigned long long)c->want_len);
                free(w);
        }
}

/* Broken files are refused with a reason, never read past their end. */
static void test_bad_headers(void **state)
{
        unsigned char *w;
        size_t len = make_wav(&w, 1, 1, 16000, 16, false, false, 100, 100);
        static const size_t cuts[] = {0, 4, 11, 12, 19, 30, 36, 43};
        struct cb_wav_info info;
        char err[128];
        struct mem m = {w, len};
        struct cb_stt_audio a;

        (void)state;
        for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
                m.len = cuts[i];
                a = audio_of(&m);
                err[0] = '\0';
                assert_int_equal(cb_wav_parse(&a, &info, err, sizeof(err)), -1);
                assert_true(err[0] != '\0');
        }
        m.len = len;
        memcpy(w + 8, "AVI ", 4);
        a = audio_of(&m);
        assert_int_equal(cb_wav_parse(&a, &info, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "RIFF/WAVE"));
        memcpy(w + 8, "WAVE", 4);
        put16(w + 32, 0); /* block align 0 */
        assert_int_equal(cb_wav_parse(&a, &info, err, sizeof(err)), -1);
        free(w);
        /* An extensible header whose sub-format is "extensible" again names no format: its
         * chunks were written with a tag no parser takes back (found by fuzz_wav). */
        m.len = make_wav(&w, 0xFFFE, 1, 16000, 16, true, false, 100, 100);
        m.data = w;
        a = audio_of(&m);
        err[0] = '\0';
        assert_int_equal(cb_wav_parse(&a, &info, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "sub-format"));
        free(w);
}

/* Chunks tile the data on frame boundaries; each reads back as a valid WAV of its slice. */
static void test_plan_and_chunks(void **state)
{
        static const uint64_t limits[] = {1, 5, 6, 4096, 10000, 1 << 20};
        unsigned char *w;
        size_t len = make_wav(&w, 1, 2, 8000, 24, true, true, 6 * 1234, 6 * 1234);
        struct mem m = {w, len};
        struct cb_stt_audio a = audio_of(&m);
        struct cb_wav_info info;
        char err[128];

        (void)state;
        assert_int_equal(cb_wav_parse(&a, &info, err, sizeof(err)), 0);
        for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
                struct cb_wav_chunk *chunks = NULL;
                size_t n = cb_wav_plan(&info, limits[l], &chunks);
                uint64_t next = 0;

                assert_true(n >= 1);
                for (size_t i = 0; i < n; i++) {
                        struct cb_wav_chunk *c = &chunks[i];
                        size_t file_len = CB_WAV_HEADER_LEN + (size_t)c->len;
                        unsigned char *f = malloc(file_len);
                        struct cb_stt_audio ca;
                        struct mem cm = {f, file_len};
                        struct cb_wav_info ci;

                        assert_int_equal(c->off, next);
                        if (c->len % 6 != 0)
                                fail_msg("limit %llu chunk %zu len %llu data %llu",
                                         (unsigned long long)limits[l], i,
                                         (unsigned long long)c->len,
                                         (unsigned long long)info.data_len);
                        assert_true(c->len <= (limits[l] < 6 ? 6 : limits[l]));
                        assert_true(c->start_s * 8000 + 1e-6 >= (double)(c->off / 6));
                        assert_int_equal(cb_wav_chunk_read(&a, &info, c, 0, f, file_len), 0);
                        ca = audio_of(&cm);
                        assert_int_equal(cb_wav_parse(&ca, &ci, err, sizeof(err)), 0);
                        assert_int_equal(ci.channels, 2);
                        assert_int_equal(ci.bits, 24);
                        assert_int_equal(ci.sample_rate, 8000);
                        assert_int_equal(ci.format, 1);
                        assert_int_equal(ci.data_len, c->len);
                        assert_memory_equal(f + CB_WAV_HEADER_LEN, w + info.data_off + c->off,
                                            c->len);
                        /* A read across the header's end gives the same bytes. */
                        if (c->len >= 4) {
                                unsigned char part[8];
                                assert_int_equal(cb_wav_chunk_read(&a, &info, c, 40, part, 8), 0);
                                assert_memory_equal(part, f + 40, 8);
                        }
                        assert_int_equal(cb_wav_chunk_read(&a, &info, c, 1, f, file_len), -1);
                        next += c->len;
                        free(f);
                }
                assert_int_equal(next, info.data_len); /* every sample, once */
                free(chunks);
        }
        free(w);
}

static void test_to_s16_mono(void **state)
{
        struct cb_wav_info w = {.format = 1, .channels = 2, .bits = 16, .block_align = 4};
        unsigned char s16[] = {0x00, 0x10, 0x00, 0x30, 0xFF, 0xFF, 0x01, 0x00};
        unsigned char u8[] = {0x80, 0xFF, 0x00};
        unsigned char s24[] = {0x00, 0x00, 0x40};
        unsigned char mulaw[] = {0xFF, 0x00};
        float f[] = {0.5f, -2.0f};
        int16_t out[4];

        (void)state;
        assert_true(cb_wav_to_s16_mono(&w, s16, 2, out));
        assert_int_equal(out[0], 0x2000); /* (0x1000 + 0x3000) / 2 */
        assert_int_equal(out[1], 0);      /* (-1 + 1) / 2 */
        w = (struct cb_wav_info){.format = 1, .channels = 1, .bits = 8, .block_align = 1};
        assert_true(cb_wav_to_s16_mono(&w, u8, 3, out));
        assert_int_equal(out[0], 0);
        assert_int_equal(out[1], 127 * 256);
        assert_int_equal(out[2], -128 * 256);
        w = (struct cb_wav_info){.format = 1, .channels = 1, .bits = 24, .block_align = 3};
        assert_true(cb_wav_to_s16_mono(&w, s24, 1, out));
        assert_int_equal(out[0], 0x4000);
        w = (struct cb_wav_info){.format = 7, .channels = 1, .bits = 8, .block_align = 1};
        assert_true(cb_wav_to_s16_mono(&w, mulaw, 2, out));
        assert_int_equal(out[0], 0);
        assert_int_equal(out[1], -32124);
        w = (struct cb_wav_info){.format = 3, .channels = 1, .bits = 32, .block_align = 4};
        assert_true(cb_wav_to_s16_mono(&w, (unsigned char *)f, 2, out));
        assert_int_equal(out[0], 16384);
        assert_int_equal(out[1], -32767); /* clipped */
        w = (struct cb_wav_info){.format = 0x55, .channels = 1, .bits = 8, .block_align = 1};
        assert_false(cb_wav_to_s16_mono(&w, u8, 1, out));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_header_cases),
            cmocka_unit_test(test_bad_headers),
            cmocka_unit_test(test_plan_and_chunks),
            cmocka_unit_test(test_to_s16_mono),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
