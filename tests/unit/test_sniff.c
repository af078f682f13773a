/* The audio sniffer: well-formed WAV, MPEG, Ogg and WebM prefixes pass, and a magic number
 * followed by nonsense does not — a matrix of one good body per format and its broken
 * variants, as a prefix of a longer stream and as a whole body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/recordings.h"

#define BODY_MAX 8192

struct body {
        unsigned char b[BODY_MAX];
        size_t n;
};

static void put(struct body *d, const void *p, size_t n)
{
        assert_true(d->n + n <= BODY_MAX);
        memcpy(d->b + d->n, p, n);
        d->n += n;
}

static void put_le(struct body *d, uint32_t v, int bytes)
{
        for (int i = 0; i < bytes; i++) {
                unsigned char c = (unsigned char)(v >> (8 * i));
                put(d, &c, 1);
        }
}

/* A WAV of `samples` 16-bit mono 8 kHz samples, fields as given. */
static void wav(struct body *d, uint16_t tag, uint16_t ch, uint32_t rate, uint16_t align,
                uint16_t bits, uint32_t samples)
{
        d->n = 0;
        put(d, "RIFF", 4);
        put_le(d, 36 + samples * 2, 4);
        put(d, "WAVEfmt ", 8);
        put_le(d, 16, 4);
        put_le(d, tag, 2);
        put_le(d, ch, 2);
        put_le(d, rate, 4);
        put_le(d, rate * align, 4);
        put_le(d, align, 2);
        put_le(d, bits, 2);
        put(d, "data", 4);
        put_le(d, samples * 2, 4);
        for (uint32_t i = 0; i < samples; i++)
                put_le(d, i * 31, 2);
}

static const char *sniff(const struct body *d, bool whole, uint64_t *total)
{
        char why[128] = "";
        uint64_t t = 0;
        const char *type = cb_rec_sniff(d->b, d->n, whole, total ? total : &t, why, sizeof(why));

        if (type == NULL)
                printf("# refused: %s\n", why);
        return type;
}

static void test_wav(void **state)
{
        struct body d;
        uint64_t total = 0;

        (void)state;
        wav(&d, 1, 1, 8000, 2, 16, 100);
        assert_string_equal(sniff(&d, true, &total), "audio/wav");
        assert_int_equal(total, d.n);
        /* A long one, seen through its prefix: the total is for the writer to check. */
        wav(&d, 1, 1, 8000, 2, 16, 3000);
        d.n = CB_REC_SNIFF_BYTES;
        assert_string_equal(sniff(&d, false, &total), "audio/wav");
        assert_int_equal(total, 44 + 6000);
        /* the first 12 bytes alone are not a WAV */
        wav(&d, 1, 1, 8000, 2, 16, 100);
        d.n = 12;
        assert_null(sniff(&d, true, NULL));
        memset(d.b + 12, 'x', 200);
        d.n = 212;
        assert_null(sniff(&d, false, NULL));
        /* broken fmt fields */
        wav(&d, 0x1234, 1, 8000, 2, 16, 100); /* unknown format */
        assert_null(sniff(&d, true, NULL));
        wav(&d, 1, 0, 8000, 2, 16, 100); /* no channels */
        assert_null(sniff(&d, true, NULL));
        wav(&d, 1, 1, 0, 2, 16, 100); /* no sample rate */
        assert_null(sniff(&d, true, NULL));
        wav(&d, 1, 1, 8000, 3, 16, 100); /* block align not channels x bytes */
        assert_null(sniff(&d, true, NULL));
        wav(&d, 1, 1, 8000, 2, 16, 100);
        d.b[28] ^= 1; /* byte rate not rate x align */
        assert_null(sniff(&d, true, NULL));
        /* sizes */
        wav(&d, 1, 1, 8000, 2, 16, 100);
        d.n -= 10; /* cut: the RIFF size says more */
        assert_null(sniff(&d, true, NULL));
        wav(&d, 1, 1, 8000, 2, 16, 100);
        d.b[4] = 2, d.b[5] = d.b[6] = d.b[7] = 0; /* RIFF size too small */
        assert_null(sniff(&d, true, NULL));
        wav(&d, 1, 1, 8000, 2, 16, 100);
        d.b[16] = 0xF0; /* fmt chunk larger than the file */
        assert_null(sniff(&d, true, NULL));
        wav(&d, 1, 1, 8000, 2, 16, 100);
        memcpy(d.b + 12, "data", 4); /* data before fmt */
        assert_null(sniff(&d, true, NULL));
        wav(&d, 1, 1, 8000, 2, 16, 100);
        memcpy(d.b + 12, "f\x01t ", 4); /* a chunk id that is not text */
        assert_null(sniff(&d, true, NULL));
        /* A streamed WAV leaves its sizes unset (0 or 0xFFFFFFFF): an unknown length, no
         * total for the writer to check; the fmt chunk must still be sane. */
        for (int v = 0; v < 2; v++) {
                unsigned char fill = v ? 0xFF : 0x00;
                wav(&d, 1, 1, 8000, 2, 16, 100);
                memset(d.b + 4, fill, 4);
                memset(d.b + 40, fill, 4);
                total = 77;
                assert_string_equal(sniff(&d, true, &total), "audio/wav");
                assert_int_equal(total, 0);
                d.b[22] = 0; /* no channels */
                assert_null(sniff(&d, true, NULL));
        }
        /* a data chunk whose size runs past a real RIFF size is still refused */
        wav(&d, 1, 1, 8000, 2, 16, 100);
        d.b[40] = 0xF0;
        d.b[41] = 0xFF;
        assert_null(sniff(&d, true, NULL));
}

static void test_mpeg(void **state)
{
        /* MPEG-1 layer III, 128 kbit/s, 44.1 kHz: 417-byte frames */
        static const unsigned char frame[4] = {0xFF, 0xFB, 0x90, 0x64};
        struct body d = {0};

        (void)state;
        put(&d, "ID3\x04\x00\x00\x00\x00\x00\x00", 10);
        for (int i = 0; i < 3; i++) {
                put(&d, frame, 4);
                for (int j = 0; j < 413; j++)
                        put(&d, "\x55", 1);
        }
        assert_string_equal(sniff(&d, true, NULL), "audio/mpeg");
        assert_string_equal(sniff(&(struct body){{0xFF, 0xFB, 0x90, 0x64}, 4}, true, NULL),
                            "audio/mpeg");
        /* the second frame is not where the first ends */
        d.b[10 + 417] = 0x00;
        assert_null(sniff(&d, true, NULL));
        d.b[10 + 417] = 0xFF;
        d.b[10 + 417 + 2] = 0x94; /* another sample rate */
        assert_null(sniff(&d, true, NULL));
        d.b[10 + 417 + 2] = 0x90;
        /* ID3 then nonsense, or a broken ID3 header */
        d.b[10] = 'x';
        assert_null(sniff(&d, true, NULL));
        d.b[10] = 0xFF;
        d.b[3] = 9; /* ID3v2.9 */
        assert_null(sniff(&d, true, NULL));
        d.b[3] = 4;
        d.b[6] = 0x80; /* not a syncsafe size */
        assert_null(sniff(&d, true, NULL));
        /* frame headers with reserved fields */
        assert_null(sniff(&(struct body){{0xFF, 0xEB, 0x90, 0x64}, 4}, true, NULL)); /* ver */
        assert_null(sniff(&(struct body){{0xFF, 0xF9, 0x90, 0x64}, 4}, true, NULL)); /* layer */
        assert_null(sniff(&(struct body){{0xFF, 0xFB, 0xF0, 0x64}, 4}, true, NULL)); /* rate */
        assert_null(sniff(&(struct body){{0xFF, 0xFB, 0x9C, 0x64}, 4}, true, NULL)); /* s.r. */
        assert_null(sniff(&(struct body){{0xFF, 0xFB, 0x90, 0x66}, 4}, true, NULL)); /* emph */
        /* a tag that fills the prefix (cover art): fine in a stream, not as the whole body */
        d.n = 0;
        put(&d, "ID3\x03\x00\x00\x00\x01\x00\x00", 10); /* 16 KiB tag */
        while (d.n < CB_REC_SNIFF_BYTES)
                put(&d, "\0", 1);
        assert_string_equal(sniff(&d, false, NULL), "audio/mpeg");
        assert_null(sniff(&d, true, NULL));
}

/* The first page of an Ogg Vorbis file made by sox (libvorbis). */
static const unsigned char OGG[] =
    "\x4f\x67\x67\x53\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\xbc\x7b"
    "\x35\x09\x00\x00\x00\x00\x99\x36\x20\xcb\x01\x1e\x01\x76\x6f\x72"
    "\x62\x69\x73\x00\x00\x00\x00\x01\x40\x1f\x00\x00\x00\x00\x00\x00"
    "\x80\x57\x00\x00\x00\x00\x00\x00\x99\x01";

static void test_ogg(void **state)
{
        struct body d = {0};

        (void)state;
        put(&d, OGG, sizeof(OGG) - 1);
        put(&d, "OggS", 4);
        assert_string_equal(sniff(&d, false, NULL), "audio/ogg");
        d.b[40] ^= 1; /* CRC */
        assert_null(sniff(&d, false, NULL));
        d.b[40] ^= 1;
        d.b[5] = 0; /* not a first page */
        assert_null(sniff(&d, false, NULL));
        d.b[5] = 2;
        d.n = 40; /* the first page cut short */
        assert_null(sniff(&d, true, NULL));
        memcpy(d.b + 4, "\0\2", 2);
        memset(d.b + 6, 0, 21); /* magic then zeros */
        d.n = 27;
        assert_null(sniff(&d, true, NULL));
}

static void ebml(struct body *d, const char *doctype, bool segment)
{
        unsigned char dt[16];
        size_t n = strlen(doctype);

        d->n = 0;
        put(d, "\x1A\x45\xDF\xA3", 4);
        put_le(d, 0x80 | (uint32_t)(4 + 4 + 3 + n), 1); /* header size */
        put(d, "\x42\x86\x81\x01", 4);                  /* EBMLVersion 1 */
        put(d, "\x42\x87\x81\x02", 4);                  /* DocTypeVersion 2 */
        dt[0] = 0x42, dt[1] = 0x82, dt[2] = (unsigned char)(0x80 | n);
        put(d, dt, 3);
        put(d, doctype, n);
        if (segment)
                put(d, "\x18\x53\x80\x67\x01\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 12);
}

static void test_webm(void **state)
{
        struct body d;

        (void)state;
        ebml(&d, "webm", true);
        assert_string_equal(sniff(&d, true, NULL), "audio/webm");
        ebml(&d, "matroska", true);
        assert_string_equal(sniff(&d, true, NULL), "audio/webm");
        ebml(&d, "mkvx", true);
        assert_null(sniff(&d, true, NULL));
        ebml(&d, "webm", false);
        assert_null(sniff(&d, true, NULL)); /* no Segment */
        ebml(&d, "webm", true);
        d.b[4] = 0x80 | 40; /* header size past its elements */
        assert_null(sniff(&d, true, NULL));
        ebml(&d, "webm", true);
        d.b[4] = 0xFF; /* unknown-size header */
        assert_null(sniff(&d, true, NULL));
        ebml(&d, "webm", true);
        d.b[7] = 0x90; /* an element running past the header */
        assert_null(sniff(&d, true, NULL));
}

static void test_not_audio(void **state)
{
        (void)state;
        assert_null(sniff(&(struct body){"hello world, not audio", 22}, true, NULL));
        assert_null(sniff(&(struct body){"", 0}, true, NULL));
        assert_null(sniff(&(struct body){"RIFF", 4}, true, NULL));
        assert_null(sniff(&(struct body){"RIFF\x04\0\0\0AVI ", 12}, true, NULL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_wav),       cmocka_unit_test(test_mpeg),
            cmocka_unit_test(test_ogg),       cmocka_unit_test(test_webm),
            cmocka_unit_test(test_not_audio),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
