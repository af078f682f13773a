/* Sealed blobs (src/crypto/blob.c) and their key file (src/crypto/keyring.c). The first input
 * byte picks what the rest is:
 *   0 (and default): a sealed blob as read back from storage (header, chunks, tags). Opening
 *     never crashes; an opened blob reads back consistently (any range equals the same bytes
 *     of a whole read; nothing past the end).
 *   1: plaintext to seal (repeated up to a length from two bytes, so blobs span chunks), fed
 *     in pieces; it opens to the same bytes and the size the format gives; then one flipped
 *     bit (anywhere) or one byte cut off makes the open or a read of that chunk fail.
 *   2: a key file; parsing never crashes and an accepted ring has a current key.
 * Set CB_FUZZ_BLOB_SEEDS=<dir> to write sealed seeds made by this code into <dir> and exit. */
#include "callbridge/blob.h"
#include "callbridge/util.h"
#include "blob_int.h"
#include "fuzz.h"

#define B64_A "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define B64_B "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
static const char keys[] = "kAAAA0001 " B64_A "\nkBBBB0002 " B64_B "\n";

static struct cb_keyring *kr;

struct mem {
        unsigned char *p;
        size_t len, cap;
};

static int mem_sink(void *ctx, const void *data, size_t len)
{
        struct mem *m = ctx;

        if (m->len + len > m->cap) {
                size_t cap = (m->len + len) * 2;
                unsigned char *p = realloc(m->p, cap);
                if (p == NULL)
                        return -1;
                m->p = p;
                m->cap = cap;
        }
        memcpy(m->p + m->len, data, len);
        m->len += len;
        return 0;
}

static int mem_source(void *ctx, uint64_t off, void *buf, size_t len)
{
        const struct mem *m = ctx;

        if (off > m->len || len > m->len - off)
                return -1;
        memcpy(buf, m->p + off, len);
        return 0;
}

/* Seal `len` bytes of `plain` in pieces whose sizes come from `cuts`. */
static void seal(const unsigned char *plain, size_t len, const uint8_t *cuts, size_t ncuts,
                 struct mem *out)
{
        struct cb_sealer *s = cb_sealer_new(kr, mem_sink, out);
        size_t done = 0, i = 0;

        FUZZ_CHECK(s != NULL);
        while (done < len) {
                size_t piece = ncuts ? ((size_t)cuts[i++ % ncuts] + 1) * 521 : len;
                if (piece > len - done)
                        piece = len - done;
                FUZZ_CHECK(cb_sealer_write(s, plain + done, piece) == 0);
                done += piece;
        }
        FUZZ_CHECK(cb_sealer_finish(s) == 0);
        FUZZ_CHECK(cb_sealer_plain_bytes(s) == len);
        cb_sealer_free(&s);
        FUZZ_CHECK(out->len == cb_blob_sealed_size(len));
}

/* Open `m`; when it opens, check reads against one whole read. */
static struct cb_opener *open_and_read(struct mem *m, const uint8_t *offs, size_t noffs,
                                       unsigned char **whole)
{
        char err[128] = "";
        struct cb_opener *o = cb_opener_new(kr, mem_source, m, m->len, err, sizeof(err));
        uint64_t size;
        size_t got = 0;

        *whole = NULL;
        if (o == NULL) {
                FUZZ_CHECK(err[0] != '\0');
                return NULL;
        }
        size = cb_opener_plain_size(o);
        FUZZ_CHECK(size + CB_BLOB_HEADER + CB_BLOB_TAG <= m->len);
        *whole = malloc(size + 1);
        FUZZ_CHECK(*whole != NULL);
        if (cb_opener_read(o, 0, *whole, size + 1, &got) != 0) {
                free(*whole);
                *whole = NULL;
                return o;
        }
        FUZZ_CHECK(got == size);
        for (size_t i = 0; i + 1 < noffs; i += 2) {
                uint64_t off = (uint64_t)offs[i] * 997 % (size + 2);
                size_t len = (size_t)offs[i + 1] * 613, g = 0;
                unsigned char *part = malloc(len + 1);
                FUZZ_CHECK(part != NULL);
                FUZZ_CHECK(cb_opener_read(o, off, part, len, &g) == 0);
                FUZZ_CHECK(g == (off >= size ? 0 : len < size - off ? len : size - off));
                FUZZ_CHECK(g == 0 || memcmp(part, *whole + off, g) == 0);
                free(part);
        }
        return o;
}

static void round_trip(const uint8_t *data, size_t size)
{
        struct fuzz_in in = {data, size};
        size_t want = ((size_t)fuzz_byte(&in) << 8 | fuzz_byte(&in)) * 4;
        uint8_t flip_at = fuzz_byte(&in);
        struct mem m = {0}, bad = {0};
        unsigned char *plain, *whole = NULL, *whole2 = NULL;
        struct cb_opener *o;
        size_t len = in.n == 0 ? 0 : want < in.n ? in.n : want;
        uint64_t pos;

        plain = malloc(len + 1);
        FUZZ_CHECK(plain != NULL);
        for (size_t i = 0; i < len; i++)
                plain[i] = in.p[i % in.n];
        seal(plain, len, in.p, in.n < 8 ? in.n : 8, &m);
        o = open_and_read(&m, in.p, in.n < 16 ? in.n : 16, &whole);
        FUZZ_CHECK(o != NULL && whole != NULL);
        FUZZ_CHECK(cb_opener_plain_size(o) == len);
        FUZZ_CHECK(len == 0 || memcmp(whole, plain, len) == 0);
        cb_opener_free(&o);
        free(whole);

        /* One flipped bit: the open or the whole read fails. */
        bad.p = malloc(m.len);
        FUZZ_CHECK(bad.p != NULL);
        memcpy(bad.p, m.p, m.len);
        bad.len = bad.cap = m.len;
        pos = ((uint64_t)flip_at * 2654435761u + len) % m.len;
        bad.p[pos] ^= (unsigned char)(1u << (flip_at % 8));
        o = open_and_read(&bad, NULL, 0, &whole2);
        FUZZ_CHECK(o == NULL || whole2 == NULL);
        cb_opener_free(&o);
        free(whole2);
        /* One byte short: never opens. */
        memcpy(bad.p, m.p, m.len);
        bad.len = m.len - 1;
        o = open_and_read(&bad, NULL, 0, &whole2);
        FUZZ_CHECK(o == NULL || whole2 == NULL);
        cb_opener_free(&o);
        free(whole2);
        free(bad.p);
        free(m.p);
        free(plain);
}

static void write_seeds(const char *dir)
{
        static const char *const texts[] = {"", "RIFF\x24\x08\0\0WAVEfmt ", "hello, recording"};
        char path[4096];

        for (size_t i = 0; i < 3; i++) {
                struct mem m = {0};
                FILE *f;
                seal((const unsigned char *)texts[i], i == 1 ? 16 : strlen(texts[i]), NULL, 0, &m);
                snprintf(path, sizeof(path), "%s/sealed-%zu", dir, i);
                f = fopen(path, "wb");
                FUZZ_CHECK(f != NULL);
                fputc(0, f); /* mode 0: open */
                fwrite(m.p, 1, m.len, f);
                fclose(f);
                free(m.p);
        }
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        char err[128] = "";
        const char *seeds = getenv("CB_FUZZ_BLOB_SEEDS");

        (void)argc, (void)argv;
        kr = cb_keyring_parse(keys, strlen(keys), err, sizeof(err));
        FUZZ_CHECK(kr != NULL);
        if (seeds != NULL) {
                write_seeds(seeds);
                exit(0);
        }
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_in in = {data, size};
        uint8_t mode = fuzz_byte(&in);

        if (mode == 1) {
                round_trip(in.p, in.n);
        } else if (mode == 2) {
                char err[256] = "";
                struct cb_keyring *ring =
                    cb_keyring_parse((const char *)in.p, in.n, err, sizeof(err));
                if (ring != NULL) {
                        FUZZ_CHECK(cb_keyring_count(ring) > 0);
                        FUZZ_CHECK(strlen(cb_keyring_current_id(ring)) == 9);
                } else {
                        FUZZ_CHECK(err[0] != '\0');
                }
                cb_keyring_free(&ring);
        } else {
                struct mem m = {(unsigned char *)in.p, in.n, in.n};
                unsigned char *whole = NULL;
                struct cb_opener *o =
                    open_and_read(&m, in.p + (in.n > 64 ? 32 : 0), in.n > 64 ? 16 : 0, &whole);
                cb_opener_free(&o);
                free(whole);
        }
        return 0;
}
