/* Sealed blobs bound to a name (version 2): a blob opens only under the name it was sealed for,
 * so one recording's blob copied over another's is refused; version 1 blobs (no binding), made
 * by callbridge before blobs were bound, still open. The fixed blobs below were made by an
 * independent implementation of docs/blob-format.md (Python's cryptography AESGCM). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/blob.h"
#include "blob_int.h"

/* k01020304 = bytes 0x20..0x3f */
static const char KEYS[] = "k01020304 ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=\n";

/* Version 1, nonce prefix a0..a7, plaintext "a version 1 blob". */
static const unsigned char V1[] =
    "\x43\x42\x42\x4c\x4f\x42\x31\x00\x01\x00\x00\x00\x01\x02\x03\x04"
    "\x00\x01\x00\x00\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\x00\x00\x00\x00"
    "\x89\xc8\x70\x51\xf3\xb6\x0c\x40\xfe\x51\x3a\x86\xbc\x3c\x3f\x52"
    "\x96\xa4\xd7\x76\xa3\xb9\xee\xd7\x34\x61\x51\x9b\xba\x3a\x55\x8d";

/* Version 2 bound to "recordings/x", nonce prefix b0..b7, plaintext "bound to recordings/x". */
static const unsigned char V2[] = "\x43\x42\x42\x4c\x4f\x42\x31\x00\x02\x00\x00\x00\x01\x02\x03\x04"
                                  "\x00\x01\x00\x00\xb0\xb1\xb2\xb3\xb4\xb5\xb6\xb7\x00\x00\x00\x00"
                                  "\x4e\x0c\x32\x47\x53\x21\x03\x5c\xa4\x94\x6d\x85\x96\x1b\x7f\xb6"
                                  "\x2d\x1a\x10\xb9\x3c\xf4\xf9\x4a\xf3\x11\xfd\x4a\xda\x24\x36\x6a"
                                  "\x85\x16\x38\xde\x15";

struct mem {
        unsigned char data[4096];
        size_t len;
};

static int mem_sink(void *ctx, const void *data, size_t len)
{
        struct mem *m = ctx;

        if (len > sizeof(m->data) - m->len)
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

static struct cb_keyring *ring(void)
{
        char err[128] = "";
        struct cb_keyring *kr = cb_keyring_parse(KEYS, strlen(KEYS), err, sizeof(err));

        if (kr == NULL)
                fail_msg("keyring: %s", err);
        return kr;
}

static void mem_set(struct mem *m, const unsigned char *data, size_t len)
{
        memcpy(m->data, data, len);
        m->len = len;
}

/* Open `m` under `bind` and read it all into `out` (NUL-terminated); 0, or -1 with `err`. */
static int open_read(const struct cb_keyring *kr, const char *bind, struct mem *m, char *out,
                     size_t out_size, bool *bound, char *err, size_t err_size)
{
        struct cb_opener *o = cb_opener_new_bound(kr, bind, mem_source, m, m->len, err, err_size);
        size_t got = 0;
        int rc;

        if (o == NULL)
                return -1;
        *bound = cb_opener_bound(o);
        rc = cb_opener_read(o, 0, out, out_size - 1, &got);
        out[got] = '\0';
        cb_opener_free(&o);
        return rc;
}

static void test_old_format_still_opens(void **state)
{
        struct cb_keyring *kr = ring();
        struct mem m;
        char out[64], err[128] = "";
        bool bound = true;

        (void)state;
        mem_set(&m, V1, sizeof(V1) - 1);
        /* no binding in version 1: it opens under any name, and says so */
        assert_int_equal(
            open_read(kr, "recordings/anything", &m, out, sizeof(out), &bound, err, sizeof(err)),
            0);
        assert_string_equal(out, "a version 1 blob");
        assert_false(bound);
        assert_int_equal(open_read(kr, NULL, &m, out, sizeof(out), &bound, err, sizeof(err)), 0);
        /* a version 2 blob relabelled version 1 to shed its binding fails: the header is in AAD */
        mem_set(&m, V2, sizeof(V2) - 1);
        m.data[8] = 1;
        assert_int_equal(
            open_read(kr, "recordings/x", &m, out, sizeof(out), &bound, err, sizeof(err)), -1);
        cb_keyring_free(&kr);
}

static void test_bound_vector(void **state)
{
        struct cb_keyring *kr = ring();
        struct mem m;
        char out[64], err[128] = "";
        bool bound = false;

        (void)state;
        mem_set(&m, V2, sizeof(V2) - 1);
        assert_int_equal(
            open_read(kr, "recordings/x", &m, out, sizeof(out), &bound, err, sizeof(err)), 0);
        assert_string_equal(out, "bound to recordings/x");
        assert_true(bound);
        /* another name, a prefix of it, a longer one, none: all refused at open */
        static const char *const others[] = {"recordings/y", "recordings/", "recordings/xx", NULL};
        for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
                err[0] = '\0';
                assert_int_equal(
                    open_read(kr, others[i], &m, out, sizeof(out), &bound, err, sizeof(err)), -1);
                assert_non_null(strstr(err, "another blob"));
        }
        cb_keyring_free(&kr);
}

static void test_sealer_binds(void **state)
{
        struct cb_keyring *kr = ring();
        struct cb_sealer *s = NULL;
        struct mem m = {0};
        char out[64], err[128] = "", longname[CB_BLOB_BIND_MAX + 2];
        bool bound = false;

        (void)state;
        s = cb_sealer_new_bound(kr, "recordings/a", mem_sink, &m);
        assert_non_null(s);
        assert_int_equal(cb_sealer_write(s, "audio of a", 10), 0);
        assert_int_equal(cb_sealer_finish(s), 0);
        cb_sealer_free(&s);
        assert_int_equal(m.data[8], 2);
        assert_int_equal(
            open_read(kr, "recordings/a", &m, out, sizeof(out), &bound, err, sizeof(err)), 0);
        assert_string_equal(out, "audio of a");
        assert_true(bound);
        /* the same bytes in another recording's place */
        assert_int_equal(
            open_read(kr, "recordings/b", &m, out, sizeof(out), &bound, err, sizeof(err)), -1);
        /* names past the limit are refused on both sides */
        memset(longname, 'n', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        assert_null(cb_sealer_new_bound(kr, longname, mem_sink, &m));
        assert_null(cb_opener_new_bound(kr, longname, mem_source, &m, m.len, err, sizeof(err)));
        cb_keyring_free(&kr);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_old_format_still_opens),
            cmocka_unit_test(test_bound_vector),
            cmocka_unit_test(test_sealer_binds),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
