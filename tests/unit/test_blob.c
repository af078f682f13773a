/* Sealed blobs and the keyring: the GCM specification's AES-256 vectors through the code path
 * every chunk takes, round trips at the sizes around chunk boundaries with random reads, every
 * tampering the format claims to detect, no plaintext in the sealed bytes, key rotation, and
 * key file errors. Random choices come from one seed, printed so a failure can be replayed
 * (CB_TEST_SEED=<seed>). */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "callbridge/blob.h"
#include "callbridge/crypto.h"
#include "callbridge/util.h"
#include "blob_int.h"

#define C      ((size_t)CB_BLOB_CHUNK)
#define RECORD ((size_t)CB_BLOB_CHUNK + CB_BLOB_TAG)

/* ---- helpers ----------------------------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
        uint64_t x = rng_state;

        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        rng_state = x;
        return x * 0x2545F4914F6CDD1DULL;
}

/* Uniform-enough in [0, n). */
static uint64_t rnd_below(uint64_t n)
{
        return n == 0 ? 0 : rnd() % n;
}

static void fill_random(unsigned char *p, size_t len)
{
        for (size_t i = 0; i < len; i++)
                p[i] = (unsigned char)(rnd() >> 56);
}

static int setup_seed(void **state)
{
        const char *env = getenv("CB_TEST_SEED");
        long v = 0;

        (void)state;
        if (env != NULL && cb_parse_long(env, 1, LONG_MAX, &v))
                rng_state = (uint64_t)v;
        else
                cb_random(&rng_state, sizeof(rng_state));
        rng_state &= 0x7fffffffffffffffULL;
        if (rng_state == 0)
                rng_state = 1;
        printf("# CB_TEST_SEED=%llu\n", (unsigned long long)rng_state);
        return 0;
}

static size_t unhex(const char *hex, unsigned char *out)
{
        size_t n = strlen(hex) / 2;

        for (size_t i = 0; i < n; i++) {
                char byte[3] = {hex[2 * i], hex[2 * i + 1], '\0'};
                out[i] = (unsigned char)strtoul(byte, NULL, 16);
        }
        return n;
}

/* A sealed blob in memory: the sink appends, the source reads it back. */
struct mem {
        unsigned char *data;
        size_t len;
        size_t cap;
        long fail_at_call; /* the sink refuses this call (1-based); 0 never */
        long calls;
};

static int mem_sink(void *ctx, const void *data, size_t len)
{
        struct mem *m = ctx;

        if (++m->calls == m->fail_at_call)
                return -1;
        if (len == 0)
                return 0;
        if (m->len + len > m->cap) {
                size_t cap = m->cap ? m->cap : 4096;
                unsigned char *p;
                while (cap < m->len + len)
                        cap *= 2;
                p = realloc(m->data, cap);
                if (p == NULL)
                        return -1;
                m->data = p;
                m->cap = cap;
        }
        memcpy(m->data + m->len, data, len);
        m->len += len;
        return 0;
}

static int mem_source(void *ctx, uint64_t off, void *buf, size_t len)
{
        const struct mem *m = ctx;

        if (off > m->len || len > m->len - off)
                return -1;
        memcpy(buf, m->data + off, len);
        return 0;
}

static void mem_free(struct mem *m)
{
        free(m->data);
        memset(m, 0, sizeof(*m));
}

static void mem_copy(struct mem *dst, const unsigned char *data, size_t len)
{
        memset(dst, 0, sizeof(*dst));
        dst->data = malloc(len + 1);
        if (dst->data == NULL)
                abort();
        memcpy(dst->data, data, len);
        dst->len = len;
        dst->cap = len + 1;
}

/* "k<id> <base64 of 32 random bytes>\n" */
static void key_line(char *out, size_t size, const char *id)
{
        unsigned char key[32];
        char b64[64];

        cb_random(key, sizeof(key));
        cb_base64_encode(key, sizeof(key), b64);
        snprintf(out, size, "%s %s\n", id, b64);
}

static struct cb_keyring *ring(const char *text)
{
        char err[256] = "";
        struct cb_keyring *kr = cb_keyring_parse(text, strlen(text), err, sizeof(err));

        if (kr == NULL)
                fail_msg("keyring: %s", err);
        return kr;
}

/* Seal `len` bytes, fed in random pieces (empty ones too). */
static void seal(const struct cb_keyring *kr, const unsigned char *plain, size_t len,
                 struct mem *out)
{
        struct cb_sealer *s = cb_sealer_new(kr, mem_sink, out);
        size_t done = 0;

        assert_non_null(s);
        while (done < len) {
                size_t piece = (size_t)rnd_below(rnd_below(4) == 0 ? 3 * C : 5000);
                if (piece > len - done)
                        piece = len - done;
                assert_int_equal(cb_sealer_write(s, plain + done, piece), 0);
                done += piece;
                assert_int_equal(cb_sealer_plain_bytes(s), done);
        }
        assert_int_equal(cb_sealer_finish(s), 0);
        assert_int_equal(cb_sealer_plain_bytes(s), len);
        cb_sealer_free(&s);
        assert_null(s);
}

/* Open and read everything: 0 when it all authenticates, -1 otherwise. */
static int open_all(const struct cb_keyring *kr, const struct mem *blob, unsigned char **plain,
                    size_t *plain_len, char *err, size_t err_size)
{
        struct mem m = *blob;
        struct cb_opener *o = cb_opener_new(kr, mem_source, &m, blob->len, err, err_size);
        unsigned char *buf = NULL;
        size_t got = 0;
        uint64_t size;
        int rc = -1;

        if (o == NULL)
                return -1;
        size = cb_opener_plain_size(o);
        buf = malloc(size + 1);
        assert_non_null(buf);
        if (cb_opener_read(o, 0, buf, size + 1, &got) == 0 && got == size) {
                rc = 0;
                if (plain != NULL) {
                        *plain = buf;
                        *plain_len = got;
                        buf = NULL;
                }
        } else {
                snprintf(err, err_size, "read failed");
        }
        free(buf);
        cb_opener_free(&o);
        return rc;
}

/* ---- AES-256-GCM: McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 13-16 */

struct gcm_case {
        const char *name, *key, *iv, *plain, *aad, *cipher, *tag;
};

#define K0  "0000000000000000000000000000000000000000000000000000000000000000"
#define KF  "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
#define IVF "cafebabefacedbaddecaf888"
#define P60                                                                                        \
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2"  \
        "449a6b525b16aedf5aa0de657ba637b39"
#define C60                                                                                        \
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1"  \
        "056828838c5f61e6393ba7a0abcc9f662"

static const struct gcm_case gcm_cases[] = {
    {"13", K0, "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {"14", K0, "000000000000000000000000", "00000000000000000000000000000000", "",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"15", KF, IVF, P60 "1aafd255", "", C60 "898015ad", "b094dac5d93471bdec1a502270e3cc6c"},
    {"16", KF, IVF, P60, "feedfacedeadbeeffeedfacedeadbeefabaddad2", C60,
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

static void test_gcm_vectors(void **state)
{
        EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

        (void)state;
        assert_non_null(ctx);
        for (size_t i = 0; i < CB_ARRAY_LEN(gcm_cases); i++) {
                const struct gcm_case *c = &gcm_cases[i];
                unsigned char key[32], iv[12], plain[64], aad[32], want[64], want_tag[16];
                unsigned char out[64], tag[16], back[64];
                size_t plen, alen;

                unhex(c->key, key);
                assert_int_equal(unhex(c->iv, iv), 12);
                plen = unhex(c->plain, plain);
                alen = unhex(c->aad, aad);
                assert_int_equal(unhex(c->cipher, want), plen);
                unhex(c->tag, want_tag);

                assert_int_equal(cb_gcm_init(ctx, key, true), 0);
                assert_int_equal(cb_gcm_seal(ctx, iv, aad, alen, plain, plen, out, tag), 0);
                if (memcmp(out, want, plen) != 0 || memcmp(tag, want_tag, 16) != 0)
                        fail_msg("test case %s: wrong ciphertext or tag", c->name);
                /* in place, as the sealer does it */
                memcpy(out, plain, plen);
                assert_int_equal(cb_gcm_seal(ctx, iv, aad, alen, out, plen, out, tag), 0);
                assert_memory_equal(out, want, plen);
                assert_memory_equal(tag, want_tag, 16);

                assert_int_equal(cb_gcm_init(ctx, key, false), 0);
                assert_int_equal(cb_gcm_open(ctx, iv, aad, alen, want, plen, back, want_tag), 0);
                assert_memory_equal(back, plain, plen);
                /* a changed tag, ciphertext byte or AAD byte fails */
                tag[15] ^= 0x01;
                assert_int_equal(cb_gcm_open(ctx, iv, aad, alen, want, plen, back, tag), -1);
                if (plen > 0) {
                        want[plen / 2] ^= 0x80;
                        assert_int_equal(
                            cb_gcm_open(ctx, iv, aad, alen, want, plen, back, want_tag), -1);
                        want[plen / 2] ^= 0x80;
                }
                if (alen > 0) {
                        aad[0] ^= 0x01;
                        assert_int_equal(
                            cb_gcm_open(ctx, iv, aad, alen, want, plen, back, want_tag), -1);
                        aad[0] ^= 0x01;
                }
                /* the context is reused after a failure */
                memset(back, 0, sizeof(back));
                assert_int_equal(cb_gcm_open(ctx, iv, aad, alen, want, plen, back, want_tag), 0);
                assert_memory_equal(back, plain, plen);
        }
        EVP_CIPHER_CTX_free(ctx);
}

/* ---- round trips ------------------------------------------------------------------------- */

static void check_reads(const struct cb_keyring *kr, const struct mem *blob,
                        const unsigned char *plain, size_t len)
{
        struct mem m = *blob;
        char err[128] = "";
        struct cb_opener *o = cb_opener_new(kr, mem_source, &m, blob->len, err, sizeof(err));
        unsigned char *buf = malloc(len + 3 * C + 1);
        size_t got = 0;

        if (o == NULL)
                fail_msg("open %zu bytes: %s", len, err);
        assert_non_null(buf);
        assert_int_equal(cb_opener_plain_size(o), len);
        /* the whole thing, asking for more than there is */
        assert_int_equal(cb_opener_read(o, 0, buf, len + 1, &got), 0);
        assert_int_equal(got, len);
        assert_memory_equal(buf, plain, len);
        /* at and past the end */
        assert_int_equal(cb_opener_read(o, len, buf, 10, &got), 0);
        assert_int_equal(got, 0);
        assert_int_equal(cb_opener_read(o, (uint64_t)len + 12345, buf, 10, &got), 0);
        assert_int_equal(got, 0);
        /* around every chunk boundary, and random ranges */
        for (size_t b = C; b < len + C; b += C) {
                size_t off = b > 3 ? b - 3 : 0;
                size_t want = off < len ? (len - off < 7 ? len - off : 7) : 0;
                assert_int_equal(cb_opener_read(o, off, buf, 7, &got), 0);
                assert_int_equal(got, want);
                assert_memory_equal(buf, plain + off, want);
        }
        for (int i = 0; i < 300; i++) {
                uint64_t off = rnd_below(len + 2);
                size_t n = (size_t)rnd_below(rnd_below(3) == 0 ? 3 * C : 300);
                size_t want = off < len ? (len - off < n ? len - off : n) : 0;

                got = 99;
                assert_int_equal(cb_opener_read(o, off, buf, n, &got), 0);
                assert_int_equal(got, want);
                if (want > 0)
                        assert_memory_equal(buf, plain + off, want);
        }
        /* sequentially in odd pieces */
        for (size_t off = 0; off < len;) {
                size_t n = 1 + (size_t)rnd_below(9000);
                assert_int_equal(cb_opener_read(o, off, buf, n, &got), 0);
                assert_true(got > 0);
                assert_memory_equal(buf, plain + off, got);
                off += got;
        }
        cb_opener_free(&o);
        assert_null(o);
        free(buf);
}

static void test_round_trips(void **state)
{
        char k1[128];
        struct cb_keyring *kr = NULL;
        size_t sizes[] = {0, 1, C - 1, C, C + 1, 3 * C, 3 * C + 7, 0};

        (void)state;
        sizes[CB_ARRAY_LEN(sizes) - 1] = 8 * C + (size_t)rnd_below(24 * C);
        key_line(k1, sizeof(k1), "k0a0b0c0d");
        kr = ring(k1);
        for (size_t i = 0; i < CB_ARRAY_LEN(sizes); i++) {
                size_t len = sizes[i];
                unsigned char *plain = malloc(len + 1);
                struct mem blob = {0};

                assert_non_null(plain);
                fill_random(plain, len);
                seal(kr, plain, len, &blob);
                if (blob.len != cb_blob_sealed_size(len))
                        fail_msg("%zu bytes sealed into %zu, want %llu", len, blob.len,
                                 (unsigned long long)cb_blob_sealed_size(len));
                assert_memory_equal(blob.data, "CBBLOB1\0\2\0\0\0\x0a\x0b\x0c\x0d\0\1\0\0", 20);
                check_reads(kr, &blob, plain, len);
                mem_free(&blob);
                free(plain);
        }
        /* the size formula at its corners */
        assert_int_equal(cb_blob_sealed_size(0), 48);
        assert_int_equal(cb_blob_sealed_size(1), 49);
        assert_int_equal(cb_blob_sealed_size(C), 32 + RECORD);
        assert_int_equal(cb_blob_sealed_size(C + 1), 32 + RECORD + 17);
        cb_keyring_free(&kr);
        assert_null(kr);
}

/* Two blobs of the same plaintext differ (fresh nonce prefix), and a sink that refuses makes
 * the sealer fail and stay failed. */
static void test_sealer_failures(void **state)
{
        char k1[128];
        struct cb_keyring *kr = NULL;
        unsigned char plain[3 * C];
        struct mem a = {0}, b = {0};

        (void)state;
        key_line(k1, sizeof(k1), "k00000001");
        kr = ring(k1);
        fill_random(plain, sizeof(plain));
        seal(kr, plain, sizeof(plain), &a);
        seal(kr, plain, sizeof(plain), &b);
        assert_int_equal(a.len, b.len);
        assert_memory_not_equal(a.data + 20, b.data + 20, 8);
        assert_memory_not_equal(a.data + 32, b.data + 32, 64);
        mem_free(&a);
        mem_free(&b);

        for (long at = 1; at <= 4; at++) {
                struct mem m = {.fail_at_call = at};
                struct cb_sealer *s = cb_sealer_new(kr, mem_sink, &m);
                int rc = cb_sealer_write(s, plain, sizeof(plain));

                if (rc == 0)
                        rc = cb_sealer_finish(s);
                assert_int_equal(rc, -1);
                assert_int_equal(cb_sealer_write(s, plain, 1), -1);
                assert_int_equal(cb_sealer_finish(s), -1);
                cb_sealer_free(&s);
                mem_free(&m);
        }
        /* finish twice, or write after finish */
        {
                struct cb_sealer *s = cb_sealer_new(kr, mem_sink, &a);
                assert_int_equal(cb_sealer_finish(s), 0);
                assert_int_equal(a.len, 48);
                assert_int_equal(cb_sealer_finish(s), -1);
                assert_int_equal(cb_sealer_write(s, plain, 1), -1);
                cb_sealer_free(&s);
                cb_sealer_free(&s); /* NULL is fine */
                mem_free(&a);
        }
        cb_keyring_free(&kr);
        cb_keyring_free(&kr);
}

/* ---- tampering --------------------------------------------------------------------------- */

struct fixture {
        struct cb_keyring *kr;
        unsigned char *plain;
        size_t plain_len;
        struct mem blob; /* 4 chunks: 3 full, 7 bytes */
};

static void make_fixture(struct fixture *f)
{
        char k1[128];

        key_line(k1, sizeof(k1), "k00000001");
        f->kr = ring(k1);
        f->plain_len = 3 * C + 7;
        f->plain = malloc(f->plain_len);
        assert_non_null(f->plain);
        fill_random(f->plain, f->plain_len);
        memset(&f->blob, 0, sizeof(f->blob));
        seal(f->kr, f->plain, f->plain_len, &f->blob);
}

static void free_fixture(struct fixture *f)
{
        cb_keyring_free(&f->kr);
        free(f->plain);
        mem_free(&f->blob);
}

static void expect_fail(const struct fixture *f, const unsigned char *data, size_t len,
                        const char *what, size_t detail)
{
        struct mem m = {0};
        char err[128] = "";

        mem_copy(&m, data, len);
        if (open_all(f->kr, &m, NULL, NULL, err, sizeof(err)) == 0)
                fail_msg("%s (%zu): opened", what, detail);
        mem_free(&m);
}

static void test_bit_flips(void **state)
{
        struct fixture f;
        unsigned char *copy;
        size_t positions[512];
        size_t n = 0;

        (void)state;
        make_fixture(&f);
        copy = malloc(f.blob.len);
        assert_non_null(copy);
        for (size_t i = 0; i < CB_BLOB_HEADER; i++) /* every header byte */
                positions[n++] = i;
        for (size_t c = 0; c < 4; c++) { /* each chunk: ciphertext ends and middle, tag ends */
                size_t start = CB_BLOB_HEADER + c * RECORD;
                size_t clen = c < 3 ? C : 7;
                positions[n++] = start;
                positions[n++] = start + clen / 2;
                positions[n++] = start + clen - 1;
                positions[n++] = start + clen;
                positions[n++] = start + clen + 7;
                positions[n++] = start + clen + CB_BLOB_TAG - 1;
        }
        while (n < CB_ARRAY_LEN(positions))
                positions[n++] = (size_t)rnd_below(f.blob.len);
        for (size_t i = 0; i < n; i++) {
                memcpy(copy, f.blob.data, f.blob.len);
                copy[positions[i]] ^= (unsigned char)(1u << rnd_below(8));
                expect_fail(&f, copy, f.blob.len, "bit flipped at", positions[i]);
        }
        /* the untouched blob still opens */
        {
                char err[128] = "";
                unsigned char *plain = NULL;
                size_t len = 0;
                assert_int_equal(open_all(f.kr, &f.blob, &plain, &len, err, sizeof(err)), 0);
                assert_int_equal(len, f.plain_len);
                assert_memory_equal(plain, f.plain, len);
                free(plain);
        }
        free(copy);
        free_fixture(&f);
}

/* A flipped bit in a middle chunk: the opener opens (the last chunk is fine), reads of other
 * chunks work, a read covering the bad chunk fails and returns nothing of it. */
static void test_bad_chunk_read(void **state)
{
        struct fixture f;
        struct mem m;
        struct cb_opener *o = NULL;
        unsigned char *buf = malloc(3 * C + 7);
        char err[128] = "";
        size_t got = 0;

        (void)state;
        make_fixture(&f);
        assert_non_null(buf);
        mem_copy(&m, f.blob.data, f.blob.len);
        m.data[CB_BLOB_HEADER + RECORD + 100] ^= 0x04; /* chunk 1 */
        o = cb_opener_new(f.kr, mem_source, &m, m.len, err, sizeof(err));
        assert_non_null(o);
        assert_int_equal(cb_opener_read(o, 2 * C, buf, C + 7, &got), 0);
        assert_int_equal(got, C + 7);
        assert_memory_equal(buf, f.plain + 2 * C, C + 7);
        /* all of chunk 1 wanted: decrypted straight into buf, then wiped */
        memset(buf, 0xA5, 3 * C + 7);
        assert_int_equal(cb_opener_read(o, 0, buf, 2 * C, &got), -1);
        assert_int_equal(got, C);
        assert_memory_equal(buf, f.plain, C);
        assert_memory_not_equal(buf + C, f.plain + C, 64);
        /* part of it: decrypted in the opener's buffer, nothing copied out */
        memset(buf, 0xA5, 3 * C + 7);
        assert_int_equal(cb_opener_read(o, 10, buf, C, &got), -1);
        assert_int_equal(got, C - 10);
        assert_memory_equal(buf, f.plain + 10, C - 10);
        for (size_t i = C - 10; i < C; i++)
                assert_int_equal(buf[i], 0xA5);
        assert_int_equal(cb_opener_read(o, C + 5, buf, 1, &got), -1);
        assert_int_equal(got, 0);
        cb_opener_free(&o);
        mem_free(&m);
        free(buf);
        free_fixture(&f);
}

static void test_truncation(void **state)
{
        struct fixture f;
        char err[128] = "";

        (void)state;
        make_fixture(&f);
        /* every chunk boundary, inside every chunk and tag, the header */
        for (size_t c = 0; c <= 3; c++) {
                size_t start = CB_BLOB_HEADER + c * RECORD;
                expect_fail(&f, f.blob.data, start, "cut at chunk boundary", c);
                expect_fail(&f, f.blob.data, start + 1, "cut after a byte of chunk", c);
                expect_fail(&f, f.blob.data, start + (c < 3 ? C / 2 : 3), "cut mid chunk", c);
                expect_fail(&f, f.blob.data, start + CB_BLOB_TAG, "cut at a tag's length", c);
                expect_fail(&f, f.blob.data, start + (c < 3 ? C : 7) + 8, "cut mid tag", c);
        }
        expect_fail(&f, f.blob.data, f.blob.len - 1, "cut the last byte", 0);
        /* sizes no sealer produces are refused before any decryption: cut inside the first 16
         * bytes of a record, or an empty final chunk after full ones */
        {
                static const size_t sizes[] = {32,
                                               47,
                                               CB_BLOB_HEADER + RECORD + 1,
                                               CB_BLOB_HEADER + RECORD + 15,
                                               CB_BLOB_HEADER + RECORD + CB_BLOB_TAG,
                                               CB_BLOB_HEADER + 3 * RECORD + CB_BLOB_TAG};
                for (size_t i = 0; i < CB_ARRAY_LEN(sizes); i++) {
                        struct mem m = f.blob;
                        assert_null(
                            cb_opener_new(f.kr, mem_source, &m, sizes[i], err, sizeof(err)));
                        if (strcmp(err, "truncated") != 0)
                                fail_msg("size %zu: \"%s\"", sizes[i], err);
                }
        }
        expect_fail(&f, f.blob.data, 10, "cut in the header", 0);
        expect_fail(&f, f.blob.data, 0, "empty", 0);
        {
                struct mem m = {0};
                mem_copy(&m, f.blob.data, CB_BLOB_HEADER + RECORD);
                assert_int_equal(open_all(f.kr, &m, NULL, NULL, err, sizeof(err)), -1);
                assert_non_null(strstr(err, "truncated"));
                mem_free(&m);
        }
        free_fixture(&f);
}

static void test_reorder_duplicate_extend(void **state)
{
        struct fixture f, other;
        struct mem m = {0};
        const size_t h = CB_BLOB_HEADER;

        (void)state;
        make_fixture(&f);
        make_fixture(&other);
        /* chunks 0 and 1 swapped; 1 and 2 swapped */
        for (size_t c = 0; c < 2; c++) {
                mem_copy(&m, f.blob.data, f.blob.len);
                memcpy(m.data + h + c * RECORD, f.blob.data + h + (c + 1) * RECORD, RECORD);
                memcpy(m.data + h + (c + 1) * RECORD, f.blob.data + h + c * RECORD, RECORD);
                expect_fail(&f, m.data, m.len, "chunks swapped", c);
                mem_free(&m);
        }
        /* chunk 1 duplicated (after itself), chunk 0 duplicated at the end of the full ones */
        for (size_t c = 0; c < 2; c++) {
                size_t at = h + (c + 1) * RECORD;
                mem_copy(&m, f.blob.data, at);
                assert_int_equal(mem_sink(&m, f.blob.data + h + c * RECORD, RECORD), 0);
                assert_int_equal(mem_sink(&m, f.blob.data + at, f.blob.len - at), 0);
                expect_fail(&f, m.data, m.len, "chunk duplicated", c);
                mem_free(&m);
        }
        /* a chunk appended: a copy of chunk 0, the final chunk again, an empty final chunk */
        mem_copy(&m, f.blob.data, f.blob.len);
        assert_int_equal(mem_sink(&m, f.blob.data + h, RECORD), 0);
        expect_fail(&f, m.data, m.len, "chunk 0 appended", 0);
        mem_free(&m);
        mem_copy(&m, f.blob.data, f.blob.len);
        assert_int_equal(mem_sink(&m, f.blob.data + h + 3 * RECORD, 7 + CB_BLOB_TAG), 0);
        expect_fail(&f, m.data, m.len, "final chunk appended", 0);
        mem_free(&m);
        mem_copy(&m, f.blob.data, h + 3 * RECORD);
        assert_int_equal(mem_sink(&m, f.blob.data + h + 3 * RECORD + 7, CB_BLOB_TAG), 0);
        expect_fail(&f, m.data, m.len, "empty final chunk after full ones", 0);
        mem_free(&m);
        /* a chunk from another blob under the same key, at the same index */
        cb_keyring_free(&other.kr);
        mem_free(&other.blob);
        seal(f.kr, other.plain, other.plain_len, &other.blob);
        mem_copy(&m, f.blob.data, f.blob.len);
        memcpy(m.data + h + RECORD, other.blob.data + h + RECORD, RECORD);
        expect_fail(&f, m.data, m.len, "chunk spliced from another blob", 1);
        mem_free(&m);
        /* the other blob's header on this blob's chunks */
        mem_copy(&m, f.blob.data, f.blob.len);
        memcpy(m.data, other.blob.data, h);
        expect_fail(&f, m.data, m.len, "header from another blob", 0);
        mem_free(&m);
        free_fixture(&other);
        free_fixture(&f);
}

static void test_header_errors(void **state)
{
        struct fixture f;
        struct mem m = {0};
        char err[128] = "";
        char k2[128];
        struct cb_keyring *kr2 = NULL;

        (void)state;
        make_fixture(&f);
        mem_copy(&m, f.blob.data, f.blob.len);
        m.data[0] = 'X';
        assert_int_equal(open_all(f.kr, &m, NULL, NULL, err, sizeof(err)), -1);
        assert_string_equal(err, "not a callbridge blob");
        mem_free(&m);
        mem_copy(&m, f.blob.data, f.blob.len);
        m.data[8] = 3; /* version */
        assert_int_equal(open_all(f.kr, &m, NULL, NULL, err, sizeof(err)), -1);
        assert_string_equal(err, "not a callbridge blob");
        mem_free(&m);
        mem_copy(&m, f.blob.data, f.blob.len);
        m.data[17] = 0x02; /* chunk size 128 KiB */
        assert_int_equal(open_all(f.kr, &m, NULL, NULL, err, sizeof(err)), -1);
        assert_string_equal(err, "not a callbridge blob");
        mem_free(&m);
        /* sealed with a key the ring does not hold */
        key_line(k2, sizeof(k2), "k0000abcd");
        kr2 = ring(k2);
        assert_int_equal(open_all(kr2, &f.blob, NULL, NULL, err, sizeof(err)), -1);
        assert_string_equal(err, "unknown key k00000001");
        /* the source failing */
        {
                struct mem empty = {0};
                assert_null(cb_opener_new(f.kr, mem_source, &empty, f.blob.len, err, sizeof(err)));
        }
        cb_keyring_free(&kr2);
        free_fixture(&f);
}

/* ---- the sealed bytes hide the plaintext ---------------------------------------------------- */

struct window {
        uint64_t a, b;
};

static int window_cmp(const void *x, const void *y)
{
        const struct window *p = x, *q = y;

        if (p->a != q->a)
                return p->a < q->a ? -1 : 1;
        return p->b < q->b ? -1 : p->b > q->b;
}

static void test_no_plaintext_in_sealed(void **state)
{
        char k1[128];
        struct cb_keyring *kr = NULL;
        size_t len = 3 * C + 7;
        unsigned char *plain = malloc(len + 16);
        struct mem blob = {0};
        struct window *w = NULL;
        size_t nw;

        (void)state;
        assert_non_null(plain);
        for (size_t i = 0; i < len; i += 16) /* 16-byte records: "rec-00000000012\n" */
                snprintf((char *)plain + i, 17, "rec-%011zu\n", i / 16);
        key_line(k1, sizeof(k1), "k00000001");
        kr = ring(k1);
        seal(kr, plain, len, &blob);
        /* every 16-byte window of the sealed blob, sorted; then look up every window of the
         * plaintext at every offset */
        nw = blob.len - 15;
        w = malloc(nw * sizeof(*w));
        assert_non_null(w);
        for (size_t i = 0; i < nw; i++) {
                memcpy(&w[i].a, blob.data + i, 8);
                memcpy(&w[i].b, blob.data + i + 8, 8);
        }
        qsort(w, nw, sizeof(*w), window_cmp);
        for (size_t i = 0; i + 16 <= len; i++) {
                struct window k;
                memcpy(&k.a, plain + i, 8);
                memcpy(&k.b, plain + i + 8, 8);
                if (bsearch(&k, w, nw, sizeof(*w), window_cmp) != NULL)
                        fail_msg("plaintext bytes %zu..%zu appear in the sealed blob", i, i + 15);
        }
        /* and nothing of the record text at all ("rec-000" would be a giveaway) */
        assert_null(memmem(blob.data, blob.len, "rec-000", 7));
        free(w);
        mem_free(&blob);
        free(plain);
        cb_keyring_free(&kr);
}

/* ---- key rotation -------------------------------------------------------------------------- */

static void test_rotation(void **state)
{
        char k1[128], k2[128], both[300];
        struct cb_keyring *r1 = NULL, *r12 = NULL, *r2 = NULL;
        unsigned char plain[C + 100];
        struct mem old = {0}, fresh = {0};
        unsigned char *back = NULL;
        size_t back_len = 0;
        char err[128] = "";

        (void)state;
        fill_random(plain, sizeof(plain));
        key_line(k1, sizeof(k1), "k11111111");
        key_line(k2, sizeof(k2), "k22222222");
        snprintf(both, sizeof(both), "# rotated\n%s%s", k1, k2);
        r1 = ring(k1);
        r12 = ring(both);
        r2 = ring(k2);
        assert_string_equal(cb_keyring_current_id(r1), "k11111111");
        assert_string_equal(cb_keyring_current_id(r12), "k22222222");

        seal(r1, plain, sizeof(plain), &old);
        assert_memory_equal(old.data + 12, "\x11\x11\x11\x11", 4);
        seal(r12, plain, sizeof(plain), &fresh);
        assert_memory_equal(fresh.data + 12, "\x22\x22\x22\x22", 4);

        /* the rotated ring opens both */
        assert_int_equal(open_all(r12, &old, &back, &back_len, err, sizeof(err)), 0);
        assert_int_equal(back_len, sizeof(plain));
        assert_memory_equal(back, plain, sizeof(plain));
        free(back);
        back = NULL;
        assert_int_equal(open_all(r12, &fresh, &back, &back_len, err, sizeof(err)), 0);
        assert_non_null(back);
        assert_memory_equal(back, plain, sizeof(plain));
        free(back);
        /* a ring without key 1 cannot open the old blob; the old ring not the new one */
        assert_int_equal(open_all(r2, &old, NULL, NULL, err, sizeof(err)), -1);
        assert_string_equal(err, "unknown key k11111111");
        assert_int_equal(open_all(r2, &fresh, NULL, NULL, err, sizeof(err)), 0);
        assert_int_equal(open_all(r1, &fresh, NULL, NULL, err, sizeof(err)), -1);
        assert_string_equal(err, "unknown key k22222222");

        mem_free(&old);
        mem_free(&fresh);
        cb_keyring_free(&r1);
        cb_keyring_free(&r12);
        cb_keyring_free(&r2);
}

/* ---- key files ----------------------------------------------------------------------------- */

#define B64_32 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" /* bytes 0..31 */

struct bad_ring {
        const char *text;
        const char *err;
};

static const struct bad_ring bad_rings[] = {
    {"", "no key in the file (add one: callbridge keygen)"},
    {"\n# just a comment\n   \n", "no key in the file (add one: callbridge keygen)"},
    {"k0000000g " B64_32 "\n", "line 1: key id must be 'k' and 8 hex digits"},
    {"# keys\nK00000001 " B64_32 "\n", "line 2: key id must be 'k' and 8 hex digits"},
    {"k0000001 " B64_32 "\n", "line 1: key id must be 'k' and 8 hex digits"},
    {"k000000001 " B64_32 "\n", "line 1: key id must be 'k' and 8 hex digits"},
    {"k00000001\n", "line 1: expected \"k<8 hex digits> <base64 key>\""},
    {"k00000001 " B64_32 " extra\n", "line 1: expected \"k<8 hex digits> <base64 key>\""},
    {"\n\nk00000001 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
     "line 3: key k00000001 is not standard base64"},
    {"k00000001 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd-h8=\n",
     "line 1: key k00000001 is not standard base64"},
    {"k00000001 AAECAw==\n", "line 1: key k00000001 is 4 bytes, want 32"},
    {"k00000001 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g\n",
     "line 1: key k00000001 is 33 bytes, want 32"},
    {"k00000001 " B64_32 B64_32 "\n", "line 1: key k00000001 is not standard base64"},
    {"k00000001 " B64_32 B64_32 B64_32 "\n",
     "line 1: key k00000001 is too long (want base64 of 32 bytes)"},
    {"k00000001 " B64_32 "\n# second\nk00000002 " B64_32 "\nk00000001 " B64_32 "\n",
     "line 4: key id k00000001 repeats line 1"},
    {"k0000000a " B64_32 "\nk0000000A " B64_32 "\n", "line 2: key id k0000000a repeats line 1"},
};

static void test_keyring_parse_errors(void **state)
{
        (void)state;
        for (size_t i = 0; i < CB_ARRAY_LEN(bad_rings); i++) {
                char err[256] = "";
                struct cb_keyring *kr = cb_keyring_parse(
                    bad_rings[i].text, strlen(bad_rings[i].text), err, sizeof(err));
                if (kr != NULL)
                        fail_msg("case %zu accepted", i);
                if (strcmp(err, bad_rings[i].err) != 0)
                        fail_msg("case %zu: \"%s\", want \"%s\"", i, err, bad_rings[i].err);
                /* no part of a key in the message */
                assert_null(strstr(err, "AAEC"));
        }
}

static void test_keyring_parse_ok(void **state)
{
        static const char text[] = "# callbridge recording keys\r\n"
                                   "\r\n"
                                   "  k0000000A\t" B64_32 "  \r\n"
                                   "   # retired next year\n"
                                   "kDEADBEEF " B64_32;
        static const unsigned char id_a[4] = {0, 0, 0, 0x0a};
        static const unsigned char id_b[4] = {0xde, 0xad, 0xbe, 0xef};
        static const unsigned char id_c[4] = {0xde, 0xad, 0xbe, 0xee};
        char err[256] = "";
        struct cb_keyring *kr = cb_keyring_parse(text, strlen(text), err, sizeof(err));
        unsigned char id[4];
        const unsigned char *key;

        (void)state;
        if (kr == NULL)
                fail_msg("%s", err);
        assert_string_equal(cb_keyring_current_id(kr), "kdeadbeef");
        key = cb_keyring_current(kr, id);
        assert_memory_equal(id, id_b, 4);
        for (int i = 0; i < 32; i++)
                assert_int_equal(key[i], i);
        assert_non_null(cb_keyring_find(kr, id_a));
        assert_ptr_equal(cb_keyring_find(kr, id_b), key);
        assert_null(cb_keyring_find(kr, id_c));
        cb_keyring_free(&kr);
        assert_null(kr);
        cb_keyring_free(NULL);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
        FILE *f = fopen(path, "w");

        assert_non_null(f);
        assert_int_equal(fputs(text, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(chmod(path, mode), 0);
}

/* cb_keyring_load: the file's mode and kind, errors prefixed with the path. */
static void test_keyring_load(void **state)
{
        const char *tmp = getenv("TMPDIR");
        char dir[512];
        char path[600];
        char err[512];
        struct cb_keyring *kr = NULL;
        static const mode_t ok[] = {0600, 0400, 0640, 0440};
        static const mode_t bad[] = {0644, 0604, 0660, 0620, 0666, 0602};

        (void)state;
        snprintf(dir, sizeof(dir), "%s/cb-test-keyring-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/storage-key", dir);
        for (size_t i = 0; i < CB_ARRAY_LEN(ok); i++) {
                write_file(path, "k00000001 " B64_32 "\n", ok[i]);
                kr = cb_keyring_load(path, err, sizeof(err));
                if (kr == NULL)
                        fail_msg("mode %04o: %s", (unsigned)ok[i], err);
                assert_string_equal(cb_keyring_current_id(kr), "k00000001");
                cb_keyring_free(&kr);
                assert_int_equal(unlink(path), 0);
        }
        for (size_t i = 0; i < CB_ARRAY_LEN(bad); i++) {
                char want[64];
                write_file(path, "k00000001 " B64_32 "\n", bad[i]);
                assert_null(cb_keyring_load(path, err, sizeof(err)));
                snprintf(want, sizeof(want), "has mode %04o", (unsigned)bad[i]);
                if (strstr(err, want) == NULL || strstr(err, path) == NULL)
                        fail_msg("mode %04o: \"%s\"", (unsigned)bad[i], err);
                assert_int_equal(unlink(path), 0);
        }
        write_file(path, "k00000001 " B64_32 "\nk00000002 AAAA\n", 0600);
        assert_null(cb_keyring_load(path, err, sizeof(err)));
        assert_non_null(strstr(err, path));
        assert_non_null(strstr(err, ": line 2: key k00000002 is 3 bytes, want 32"));
        assert_int_equal(unlink(path), 0);
        assert_null(cb_keyring_load(path, err, sizeof(err)));
        assert_non_null(strstr(err, "cannot open"));
        assert_null(cb_keyring_load(dir, err, sizeof(err)));
        assert_non_null(strstr(err, "not a regular file"));
        assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_gcm_vectors),
            cmocka_unit_test(test_round_trips),
            cmocka_unit_test(test_sealer_failures),
            cmocka_unit_test(test_bit_flips),
            cmocka_unit_test(test_bad_chunk_read),
            cmocka_unit_test(test_truncation),
            cmocka_unit_test(test_reorder_duplicate_extend),
            cmocka_unit_test(test_header_errors),
            cmocka_unit_test(test_no_plaintext_in_sealed),
            cmocka_unit_test(test_rotation),
            cmocka_unit_test(test_keyring_parse_errors),
            cmocka_unit_test(test_keyring_parse_ok),
            cmocka_unit_test(test_keyring_load),
        };

        return cmocka_run_group_tests(tests, setup_seed, NULL);
}
