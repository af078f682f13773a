/* The `local` storage provider in a temp directory: round trip, abort, remove, key rules,
 * symlinks never followed, concurrent puts of one key (last commit wins, no temp files). */
#include <dirent.h>
#include <pthread.h>
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

#include "callbridge/config.h"
#include "callbridge/storage.h"

struct fixture {
        char dir[256];
        struct cb_config cfg;
        struct cb_storage *st;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        snprintf(f->dir, sizeof(f->dir), "/tmp/cb-storage-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        f->cfg.storage.backend = "local";
        f->cfg.storage.dir = f->dir;
        f->st = cb_storage_create(&f->cfg);
        assert_non_null(f->st);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        char cmd[300];

        cb_storage_destroy(&f->st);
        assert_null(f->st);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        assert_int_equal(system(cmd), 0);
        free(f);
        return 0;
}

static int put(struct fixture *f, const char *key, const char *data, bool commit)
{
        struct cb_storage_put *p = NULL;
        char err[256];

        if (f->st->ops->put_begin(f->st->self, key, &p, err, sizeof(err)) != 0)
                return -1;
        assert_int_equal(f->st->ops->put_write(p, data, strlen(data), err, sizeof(err)), 0);
        if (!commit) {
                f->st->ops->put_abort(p);
                return 0;
        }
        return f->st->ops->put_commit(p, err, sizeof(err));
}

/* Number of files whose name contains ".tmp." under dir (recursively). */
static int temp_files(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *e;
        int n = 0;

        if (d == NULL)
                return 0;
        while ((e = readdir(d)) != NULL) {
                char path[1024];

                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
                if (strstr(e->d_name, ".tmp.") != NULL)
                        n++;
                if (e->d_type == DT_DIR)
                        n += temp_files(path);
        }
        closedir(d);
        return n;
}

static void test_round_trip(void **state)
{
        struct fixture *f = *state;
        char buf[16] = {0}, err[256];
        uint64_t size = 0;

        assert_int_equal(put(f, "recordings/c1/r1", "hello, storage", true), 0);
        assert_int_equal(f->st->ops->size(f->st->self, "recordings/c1/r1", &size, err, sizeof(err)),
                         0);
        assert_int_equal(size, 14);
        assert_int_equal(
            f->st->ops->read_at(f->st->self, "recordings/c1/r1", 7, buf, 7, err, sizeof(err)), 0);
        assert_string_equal(buf, "storage");
        /* Past the end: an error, not a short read. */
        assert_int_equal(
            f->st->ops->read_at(f->st->self, "recordings/c1/r1", 10, buf, 8, err, sizeof(err)), -1);
        assert_int_equal(f->st->ops->remove(f->st->self, "recordings/c1/r1", err, sizeof(err)), 0);
        assert_int_equal(f->st->ops->size(f->st->self, "recordings/c1/r1", &size, err, sizeof(err)),
                         1);
        assert_int_equal(f->st->ops->remove(f->st->self, "recordings/c1/r1", err, sizeof(err)), 0);
        assert_int_equal(f->st->ops->size(f->st->self, "never/was", &size, err, sizeof(err)), 1);
}

static void test_abort_leaves_nothing(void **state)
{
        struct fixture *f = *state;
        char err[256];
        uint64_t size;

        assert_int_equal(put(f, "recordings/c2/r", "partial", false), 0);
        assert_int_equal(f->st->ops->size(f->st->self, "recordings/c2/r", &size, err, sizeof(err)),
                         1);
        assert_int_equal(temp_files(f->dir), 0);
}

static void test_key_rules(void **state)
{
        static const char *const good[] = {"a", "recordings/0b7e/9f1c.wav", "A-b_c.d/e", "x.y"};
        static const char *const bad[] = {"",     "../x", "a/../b",      "/abs",  "a//b",
                                          "a/",   "a b",  "caf\xc3\xa9", "a/./b", ".",
                                          "a\\b", "a..b", "a?b",         "a%2fb"};
        struct fixture *f = *state;
        char long_key[600];

        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                assert_true(cb_storage_key_ok(good[i]));
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                if (cb_storage_key_ok(bad[i]))
                        fail_msg("key \"%s\" accepted", bad[i]);
                assert_int_equal(put(f, bad[i], "x", true), -1);
        }
        memset(long_key, 'k', sizeof(long_key) - 1);
        long_key[sizeof(long_key) - 1] = '\0';
        assert_false(cb_storage_key_ok(long_key));
}

static void test_symlink_not_followed(void **state)
{
        struct fixture *f = *state;
        char outside[300], link[400], target[400], buf[4], err[256];
        uint64_t size;
        struct stat stb;

        snprintf(outside, sizeof(outside), "%s-outside", f->dir);
        assert_int_equal(mkdir(outside, 0700), 0);
        snprintf(link, sizeof(link), "%s/evil", f->dir);
        assert_int_equal(symlink(outside, link), 0);
        snprintf(target, sizeof(target), "%s/file", outside);
        FILE *fp = fopen(target, "w");
        assert_non_null(fp);
        fputs("secret", fp);
        fclose(fp);
        /* A directory symlink, and a symlink as the final component. */
        assert_int_equal(put(f, "evil/new", "x", true), -1);
        assert_int_equal(f->st->ops->read_at(f->st->self, "evil/file", 0, buf, 4, err, sizeof(err)),
                         -1);
        assert_int_equal(f->st->ops->size(f->st->self, "evil/file", &size, err, sizeof(err)), -1);
        snprintf(link, sizeof(link), "%s/leaf", f->dir);
        assert_int_equal(symlink(target, link), 0);
        assert_int_equal(f->st->ops->read_at(f->st->self, "leaf", 0, buf, 4, err, sizeof(err)), -1);
        assert_int_equal(stat(target, &stb), 0);
        assert_int_equal(stb.st_size, 6);
        unlink(target);
        rmdir(outside);
}

struct writer {
        struct fixture *f;
        char data[64];
};

static void *write_one(void *arg)
{
        struct writer *w = arg;

        return (void *)(intptr_t)put(w->f, "shared/key", w->data, true);
}

static void test_concurrent_puts(void **state)
{
        struct fixture *f = *state;
        struct writer w[8];
        pthread_t t[8];
        char buf[64] = {0}, err[256];
        uint64_t size = 0;
        bool matched = false;

        for (int i = 0; i < 8; i++) {
                w[i].f = f;
                snprintf(w[i].data, sizeof(w[i].data), "writer-%d-%s", i,
                         i % 2 ? "odd" : "even-and-longer");
                assert_int_equal(pthread_create(&t[i], NULL, write_one, &w[i]), 0);
        }
        for (int i = 0; i < 8; i++) {
                void *rc;
                pthread_join(t[i], &rc);
                assert_int_equal((intptr_t)rc, 0);
        }
        assert_int_equal(f->st->ops->size(f->st->self, "shared/key", &size, err, sizeof(err)), 0);
        assert_int_equal(
            f->st->ops->read_at(f->st->self, "shared/key", 0, buf, (size_t)size, err, sizeof(err)),
            0);
        for (int i = 0; i < 8; i++)
                matched |= strcmp(buf, w[i].data) == 0; /* one whole version, never a mix */
        assert_true(matched);
        assert_int_equal(temp_files(f->dir), 0);
}

static void test_uncreatable_dir(void **state)
{
        struct cb_config cfg = {0};

        (void)state;
        cfg.storage.backend = "local";
        cfg.storage.dir = "/proc/cb-storage-cannot-exist";
        assert_null(cb_storage_create(&cfg));
        cfg.storage.backend = "nonesuch";
        assert_null(cb_storage_create(&cfg));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
            cmocka_unit_test_setup_teardown(test_abort_leaves_nothing, setup, teardown),
            cmocka_unit_test_setup_teardown(test_key_rules, setup, teardown),
            cmocka_unit_test_setup_teardown(test_symlink_not_followed, setup, teardown),
            cmocka_unit_test_setup_teardown(test_concurrent_puts, setup, teardown),
            cmocka_unit_test(test_uncreatable_dir),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
