/* cb-blob-bench: seal and open a large blob through memory sinks and print MB/s (10^6 bytes of
 * plaintext per second) for each, next to what the pieces cost alone (one AES-256-GCM call per
 * 64 KiB chunk with no I/O; memcpy). Single-threaded, like one recording upload.
 *
 *   cb-blob-bench [--mib N] [--piece BYTES] [--rounds R]
 *
 * N MiB of plaintext (default 1024) is fed to the sealer in pieces of BYTES (default 1 MiB)
 * from one random 1 MiB buffer; the sealed blob goes into one preallocated, pre-touched buffer
 * (so page faults are not timed), then is opened and read back in the same pieces and compared.
 * The best of R rounds (default 3) is printed. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "callbridge/blob.h"
#include "callbridge/crypto.h"
#include "callbridge/util.h"
#include "blob_int.h"

#define MIB (1024L * 1024)

struct mem {
        unsigned char *data;
        size_t len;
        size_t cap;
};

static int mem_sink(void *ctx, const void *data, size_t len)
{
        struct mem *m = ctx;

        if (len > m->cap - m->len)
                return -1;
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

static double now_s(void)
{
        return (double)cb_mono_us() / 1e6;
}

static double mbps(uint64_t bytes, double seconds)
{
        return seconds > 0 ? (double)bytes / seconds / 1e6 : 0;
}

static int usage(void)
{
        fprintf(stderr, "usage: cb-blob-bench [--mib N] [--piece BYTES] [--rounds R]\n");
        return 2;
}

int main(int argc, char **argv)
{
        long mib = 1024, piece = MIB, rounds = 3;
        unsigned char key[32];
        char b64[64], text[128], err[256];
        struct cb_keyring *kr = NULL;
        unsigned char *plain = NULL, *out = NULL;
        struct mem blob = {0};
        uint64_t total;
        double best_seal = 0, best_open = 0, best_gcm = 0, best_copy = 0;
        struct rusage ru;
        int rc = 1;

        for (int i = 1; i < argc; i++) {
                long *dst = NULL;
                long max = 0;
                if (strcmp(argv[i], "--mib") == 0) {
                        dst = &mib;
                        max = 1L << 20;
                } else if (strcmp(argv[i], "--piece") == 0) {
                        dst = &piece;
                        max = 64L * MIB;
                } else if (strcmp(argv[i], "--rounds") == 0) {
                        dst = &rounds;
                        max = 100;
                }
                if (dst == NULL || i + 1 >= argc || !cb_parse_long(argv[++i], 1, max, dst))
                        return usage();
        }
        if (MIB % piece != 0 && piece % MIB != 0) {
                fprintf(stderr, "cb-blob-bench: --piece must divide or be a multiple of 1 MiB\n");
                return 2;
        }
        total = (uint64_t)mib * MIB;

        cb_random(key, sizeof(key));
        cb_base64_encode(key, sizeof(key), b64);
        snprintf(text, sizeof(text), "k0badcafe %s\n", b64);
        kr = cb_keyring_parse(text, strlen(text), err, sizeof(err));
        OPENSSL_cleanse(text, sizeof(text));
        if (kr == NULL) {
                fprintf(stderr, "cb-blob-bench: %s\n", err);
                goto out;
        }
        plain = malloc(piece > MIB ? (size_t)piece : MIB);
        out = malloc(piece > MIB ? (size_t)piece : MIB);
        blob.cap = cb_blob_sealed_size(total);
        blob.data = malloc(blob.cap);
        if (plain == NULL || out == NULL || blob.data == NULL) {
                fprintf(stderr, "cb-blob-bench: out of memory (%" PRIu64 " bytes)\n", blob.cap);
                goto out;
        }
        cb_random(plain, MIB);
        for (long off = MIB; off < piece; off += MIB) /* pieces above 1 MiB repeat it */
                memcpy(plain + off, plain, MIB);
        memset(blob.data, 0, blob.cap); /* touch every page before timing */
        memset(out, 0, piece > MIB ? (size_t)piece : MIB);

        printf("plaintext %" PRIu64 " bytes (%ld MiB) in %ld-byte pieces, sealed %zu bytes; "
               "OpenSSL %s\n",
               total, mib, piece, blob.cap, OpenSSL_version(OPENSSL_VERSION));
        for (long r = 0; r < rounds; r++) {
                struct cb_sealer *s = cb_sealer_new(kr, mem_sink, &blob);
                struct cb_opener *o = NULL;
                double t0, t_seal, t_open = 0;

                blob.len = 0;
                if (s == NULL)
                        goto out;
                t0 = now_s();
                for (uint64_t done = 0; done < total; done += (uint64_t)piece)
                        if (cb_sealer_write(s, plain, (size_t)piece) != 0) {
                                fprintf(stderr, "cb-blob-bench: seal failed\n");
                                cb_sealer_free(&s);
                                goto out;
                        }
                if (cb_sealer_finish(s) != 0) {
                        cb_sealer_free(&s);
                        goto out;
                }
                t_seal = now_s() - t0;
                cb_sealer_free(&s);
                if (blob.len != cb_blob_sealed_size(total)) {
                        fprintf(stderr, "cb-blob-bench: sealed size %zu is wrong\n", blob.len);
                        goto out;
                }

                t0 = now_s();
                o = cb_opener_new(kr, mem_source, &blob, blob.len, err, sizeof(err));
                if (o == NULL) {
                        fprintf(stderr, "cb-blob-bench: open: %s\n", err);
                        goto out;
                }
                t_open += now_s() - t0;
                for (uint64_t off = 0; off < total; off += (uint64_t)piece) {
                        size_t got = 0;
                        int ok;
                        t0 = now_s();
                        ok = cb_opener_read(o, off, out, (size_t)piece, &got);
                        t_open += now_s() - t0;
                        if (ok != 0 || got != (size_t)piece || memcmp(out, plain, got) != 0) {
                                fprintf(stderr, "cb-blob-bench: read at %" PRIu64 " failed\n", off);
                                cb_opener_free(&o);
                                goto out;
                        }
                }
                cb_opener_free(&o);
                printf("round %ld: seal %.0f MB/s (%.3f s), open %.0f MB/s (%.3f s)\n", r + 1,
                       mbps(total, t_seal), t_seal, mbps(total, t_open), t_open);
                if (best_seal < mbps(total, t_seal))
                        best_seal = mbps(total, t_seal);
                if (best_open < mbps(total, t_open))
                        best_open = mbps(total, t_open);
        }

        /* The parts alone: AES-256-GCM over 64 KiB chunks into the blob buffer, and memcpy. */
        for (long r = 0; r < rounds; r++) {
                EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
                unsigned char iv[CB_GCM_IV] = {0};
                unsigned char aad[41] = {0};
                double t0, t;
                size_t chunks = (size_t)(total / CB_BLOB_CHUNK);

                if (ctx == NULL || cb_gcm_init(ctx, key, true) != 0)
                        goto out;
                t0 = now_s();
                for (size_t c = 0; c < chunks; c++) {
                        unsigned char *dst = blob.data + c * (CB_BLOB_CHUNK + CB_BLOB_TAG);
                        iv[11] = (unsigned char)c;
                        if (cb_gcm_seal(ctx, iv, aad, sizeof(aad),
                                        plain + (c * CB_BLOB_CHUNK) % MIB, CB_BLOB_CHUNK, dst,
                                        dst + CB_BLOB_CHUNK) != 0) {
                                EVP_CIPHER_CTX_free(ctx);
                                goto out;
                        }
                }
                t = now_s() - t0;
                EVP_CIPHER_CTX_free(ctx);
                if (best_gcm < mbps(total, t))
                        best_gcm = mbps(total, t);
                t0 = now_s();
                for (uint64_t off = 0; off < total; off += MIB)
                        memcpy(blob.data + off, plain, MIB);
                t = now_s() - t0;
                if (best_copy < mbps(total, t))
                        best_copy = mbps(total, t);
        }
        getrusage(RUSAGE_SELF, &ru);
        printf("best of %ld: seal %.0f MB/s, open %.0f MB/s; AES-256-GCM alone %.0f MB/s, "
               "memcpy %.0f MB/s; max RSS %ld MiB (the blob buffer is %zu MiB)\n",
               rounds, best_seal, best_open, best_gcm, best_copy, ru.ru_maxrss / 1024,
               blob.cap / MIB);
        rc = 0;
out:
        OPENSSL_cleanse(key, sizeof(key));
        cb_keyring_free(&kr);
        free(plain);
        free(out);
        free(blob.data);
        return rc;
}
