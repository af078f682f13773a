/* storage_probe: drive cb_storage (the provider [storage] backend names) from the command line,
 * so integration tests exercise the real code against the sandbox or a directory.
 *
 *   storage_probe -c FILE put KEY < data        write stdin, commit
 *   storage_probe -c FILE put-abort KEY < data  write stdin, abort
 *   storage_probe -c FILE get KEY OFF LEN       read_at to stdout
 *   storage_probe -c FILE size KEY              prints the size, or "missing" (exit 3)
 *   storage_probe -c FILE rm KEY
 *
 * Exit 0 on success, 1 on a storage error (the message on stderr), 2 on usage errors. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "callbridge/config.h"
#include "callbridge/log.h"
#include "callbridge/storage.h"
#include "callbridge/util.h"

#define CHUNK ((size_t)256 * 1024)

static int usage(void)
{
        fprintf(stderr, "usage: storage_probe -c FILE put|put-abort KEY < data\n"
                        "       storage_probe -c FILE get KEY OFF LEN | size KEY | rm KEY\n");
        return 2;
}

/* Stream stdin into a put; commit or abort. 0 or 1. */
static int do_put(struct cb_storage *st, const char *key, bool commit)
{
        struct cb_storage_put *put = NULL;
        char err[512] = "";
        char *buf = malloc(CHUNK);
        ssize_t n;

        if (buf == NULL)
                return 1;
        if (st->ops->put_begin(st->self, key, &put, err, sizeof(err)) != 0)
                goto fail;
        while ((n = read(STDIN_FILENO, buf, CHUNK)) > 0) {
                if (st->ops->put_write(put, buf, (size_t)n, err, sizeof(err)) != 0) {
                        st->ops->put_abort(put);
                        goto fail;
                }
        }
        free(buf);
        if (n < 0) {
                st->ops->put_abort(put);
                fprintf(stderr, "storage_probe: reading stdin failed\n");
                return 1;
        }
        if (!commit) {
                st->ops->put_abort(put);
                return 0;
        }
        if (st->ops->put_commit(put, err, sizeof(err)) != 0) {
                fprintf(stderr, "storage_probe: %s\n", err);
                return 1;
        }
        return 0;
fail:
        free(buf);
        fprintf(stderr, "storage_probe: %s\n", err);
        return 1;
}

static int do_get(struct cb_storage *st, const char *key, const char *off_s, const char *len_s)
{
        long off, len;
        char err[512] = "";
        char *buf;
        int rc = 1;

        if (!cb_parse_long(off_s, 0, 1L << 40, &off) || !cb_parse_long(len_s, 0, 1L << 30, &len))
                return usage();
        buf = malloc(len > 0 ? (size_t)len : 1);
        if (buf == NULL)
                return 1;
        if (st->ops->read_at(st->self, key, (uint64_t)off, buf, (size_t)len, err, sizeof(err)) != 0)
                fprintf(stderr, "storage_probe: %s\n", err);
        else if (fwrite(buf, 1, (size_t)len, stdout) == (size_t)len)
                rc = 0;
        free(buf);
        return rc;
}

static int run(struct cb_storage *st, int argc, char **argv)
{
        const char *cmd = argv[0];
        char err[512] = "";
        uint64_t size = 0;
        int rc;

        if (argc < 2)
                return usage();
        if (strcmp(cmd, "put") == 0 || strcmp(cmd, "put-abort") == 0)
                return do_put(st, argv[1], strcmp(cmd, "put") == 0);
        if (strcmp(cmd, "get") == 0)
                return argc == 4 ? do_get(st, argv[1], argv[2], argv[3]) : usage();
        if (strcmp(cmd, "size") == 0) {
                rc = st->ops->size(st->self, argv[1], &size, err, sizeof(err));
                if (rc == 0)
                        printf("%llu\n", (unsigned long long)size);
                else if (rc == 1)
                        printf("missing\n");
                else
                        fprintf(stderr, "storage_probe: %s\n", err);
                return rc == 0 ? 0 : rc == 1 ? 3 : 1;
        }
        if (strcmp(cmd, "rm") == 0) {
                if (st->ops->remove(st->self, argv[1], err, sizeof(err)) == 0)
                        return 0;
                fprintf(stderr, "storage_probe: %s\n", err);
                return 1;
        }
        return usage();
}

int main(int argc, char **argv)
{
        struct cb_config *cfg = NULL;
        struct cb_config_errors errs = {0};
        struct cb_storage *st = NULL;
        int rc;

        if (argc < 4 || strcmp(argv[1], "-c") != 0)
                return usage();
        curl_global_init(CURL_GLOBAL_DEFAULT);
        if (cb_config_load(argv[2], &cfg, &errs) != 0) {
                for (size_t i = 0; i < errs.count; i++)
                        fprintf(stderr, "storage_probe: %s\n", errs.lines[i]);
                cb_config_errors_free(&errs);
                return 1;
        }
        st = cb_storage_create(cfg);
        if (st == NULL) {
                cb_config_free(&cfg);
                return 1;
        }
        rc = run(st, argc - 3, argv + 3);
        cb_storage_destroy(&st);
        cb_config_free(&cfg);
        curl_global_cleanup();
        return rc;
}
