/* The `local` storage provider: one file per key under [storage] dir.
 *
 * Every path is walked one component at a time from a descriptor of the root with
 * O_NOFOLLOW, so a symlink planted anywhere in the tree is never followed (the walk fails with
 * ELOOP or ENOTDIR). A put writes `<key>.tmp.<random>` beside the final name (O_EXCL, 0600);
 * commit fsyncs it, renames it over the key and fsyncs the directory, so a key is always the
 * old or the new complete file, even across a crash. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "callbridge/crypto.h"
#include "callbridge/log.h"
#include "callbridge/storage.h"
#include "callbridge/util.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define NAME_MAX_ 255

struct local {
        char *dir;  /* [storage] dir, for messages */
        int rootfd; /* open on dir for the provider's life */
};

/* A write in progress (this file's definition of the opaque type). */
struct cb_storage_put {
        int parentfd;             /* directory holding the key */
        int fd;                   /* the temp file */
        char name[NAME_MAX_ + 1]; /* last component of the key */
        char tmp[NAME_MAX_ + 1];  /* the temp file's name in parentfd */
        char key[512 + 1];        /* for messages */
};

/* Open the directory that holds `key` (walking from the root, no symlinks) and copy the last
 * component into `name`. With `create`, missing directories are made (0700). Returns the
 * descriptor (caller closes), or -1 with errno set (EINVAL for a bad key). */
static int open_parent(const struct local *lc, const char *key, bool create, char *name)
{
        int fd = dup(lc->rootfd);
        const char *p = key;

        if (fd < 0)
                return -1;
        if (!cb_storage_key_ok(key)) {
                close(fd);
                errno = EINVAL;
                return -1;
        }
        for (;;) {
                const char *slash = strchr(p, '/');
                size_t n = slash ? (size_t)(slash - p) : strlen(p);
                char seg[NAME_MAX_ + 1];
                int next;

                if (n > NAME_MAX_) {
                        close(fd);
                        errno = ENAMETOOLONG;
                        return -1;
                }
                memcpy(seg, p, n);
                seg[n] = '\0';
                if (slash == NULL) {
                        memcpy(name, seg, n + 1);
                        return fd;
                }
                next = openat(fd, seg, DIR_FLAGS);
                if (next < 0 && errno == ENOENT && create) {
                        if (mkdirat(fd, seg, 0700) != 0 && errno != EEXIST) {
                                close(fd);
                                return -1;
                        }
                        next = openat(fd, seg, DIR_FLAGS);
                }
                close(fd);
                if (next < 0)
                        return -1;
                fd = next;
                p = slash + 1;
        }
}

/* Make `dir` and its missing parents (0700). 0, or -1 with errno. */
static int mkdir_p(const char *dir)
{
        char path[4096];
        size_t len = strlen(dir);

        if (len == 0 || len >= sizeof(path)) {
                errno = ENAMETOOLONG;
                return -1;
        }
        memcpy(path, dir, len + 1);
        for (char *p = path + 1; *p != '\0'; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(path, 0700) != 0 && errno != EEXIST)
                        return -1;
                *p = '/';
        }
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
                return -1;
        return 0;
}

static void *local_create(const struct cb_config *cfg)
{
        struct local *lc = NULL;
        const char *dir = cfg->storage.dir;

        if (dir == NULL || dir[0] == '\0') {
                cb_error("[storage] dir is empty");
                return NULL;
        }
        if (mkdir_p(dir) != 0) {
                cb_error("[storage] dir %s cannot be created: %s", dir, strerror(errno));
                return NULL;
        }
        if (access(dir, W_OK | X_OK) != 0) {
                cb_error("[storage] dir %s is not writable: %s", dir, strerror(errno));
                return NULL;
        }
        lc = calloc(1, sizeof(*lc));
        if (lc == NULL || (lc->dir = strdup(dir)) == NULL) {
                cb_error("out of memory creating the local storage");
                goto fail;
        }
        /* The root itself may be a symlink (an operator's choice); nothing below it may. */
        lc->rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (lc->rootfd < 0) {
                cb_error("[storage] dir %s cannot be opened: %s", dir, strerror(errno));
                goto fail;
        }
        return lc;
fail:
        if (lc != NULL)
                free(lc->dir);
        free(lc);
        return NULL;
}

static void local_destroy(void *self)
{
        struct local *lc = self;

        if (lc == NULL)
                return;
        close(lc->rootfd);
        free(lc->dir);
        free(lc);
}

static int local_put_begin(void *self, const char *key, struct cb_storage_put **putp, char *err,
                           size_t err_size)
{
        struct local *lc = self;
        struct cb_storage_put *put = calloc(1, sizeof(*put));
        unsigned char rnd[8];
        char hex[17];

        *putp = NULL;
        if (put == NULL) {
                cb_err_printf(err, err_size, "out of memory");
                return -1;
        }
        put->fd = -1;
        snprintf(put->key, sizeof(put->key), "%s", key);
        put->parentfd = open_parent(lc, key, true, put->name);
        if (put->parentfd < 0) {
                cb_err_printf(err, err_size, "cannot open the directory of %s under %s: %s", key,
                              lc->dir, errno == EINVAL ? "invalid key" : strerror(errno));
                free(put);
                return -1;
        }
        cb_random(rnd, sizeof(rnd));
        cb_hex(rnd, sizeof(rnd), hex);
        if (snprintf(put->tmp, sizeof(put->tmp), "%s.tmp.%s", put->name, hex) >=
            (int)sizeof(put->tmp)) {
                cb_err_printf(err, err_size, "key %s: name too long", key);
                goto fail;
        }
        put->fd = openat(put->parentfd, put->tmp,
                         O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (put->fd < 0) {
                cb_err_printf(err, err_size, "cannot create a temp file for %s under %s: %s", key,
                              lc->dir, strerror(errno));
                goto fail;
        }
        *putp = put;
        return 0;
fail:
        close(put->parentfd);
        free(put);
        return -1;
}

static int local_put_write(struct cb_storage_put *put, const void *data, size_t len, char *err,
                           size_t err_size)
{
        const char *p = data;

        while (len > 0) {
                ssize_t n = write(put->fd, p, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        cb_err_printf(err, err_size, "writing %s: %s", put->key,
                                      n < 0 ? strerror(errno) : "no progress");
                        return -1;
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

/* Remove the temp file, close everything, free the put. */
static void local_put_abort(struct cb_storage_put *put)
{
        if (put == NULL)
                return;
        if (put->fd >= 0) {
                close(put->fd);
                unlinkat(put->parentfd, put->tmp, 0);
        }
        close(put->parentfd);
        free(put);
}

static int local_put_commit(struct cb_storage_put *put, char *err, size_t err_size)
{
        int rc = -1;

        if (fsync(put->fd) != 0) {
                cb_err_printf(err, err_size, "fsync of %s: %s", put->key, strerror(errno));
                goto out;
        }
        if (close(put->fd) != 0) {
                put->fd = -1;
                unlinkat(put->parentfd, put->tmp, 0);
                cb_err_printf(err, err_size, "closing %s: %s", put->key, strerror(errno));
                goto out;
        }
        put->fd = -1;
        if (renameat(put->parentfd, put->tmp, put->parentfd, put->name) != 0) {
                cb_err_printf(err, err_size, "renaming %s into place: %s", put->key,
                              strerror(errno));
                unlinkat(put->parentfd, put->tmp, 0);
                goto out;
        }
        if (fsync(put->parentfd) != 0) {
                /* The new file is in place but maybe not durable: report it, keep the file. */
                cb_err_printf(err, err_size, "fsync of the directory of %s: %s", put->key,
                              strerror(errno));
                goto out;
        }
        rc = 0;
out:
        local_put_abort(put); /* closes; the temp is already gone unless fsync failed */
        return rc;
}

/* Open `key` read-only without following symlinks; -1 with errno. */
static int open_key(const struct local *lc, const char *key)
{
        char name[NAME_MAX_ + 1];
        int dfd = open_parent(lc, key, false, name);
        int fd;

        if (dfd < 0)
                return -1;
        fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        close(dfd);
        return fd;
}

static int local_size(void *self, const char *key, uint64_t *size, char *err, size_t err_size)
{
        struct local *lc = self;
        struct stat stb;
        int fd = open_key(lc, key);

        if (fd < 0) {
                if (errno == ENOENT)
                        return 1;
                cb_err_printf(err, err_size, "cannot open %s under %s: %s", key, lc->dir,
                              errno == EINVAL ? "invalid key" : strerror(errno));
                return -1;
        }
        if (fstat(fd, &stb) != 0 || !S_ISREG(stb.st_mode)) {
                cb_err_printf(err, err_size, "%s under %s is not a regular file", key, lc->dir);
                close(fd);
                return -1;
        }
        close(fd);
        *size = (uint64_t)stb.st_size;
        return 0;
}

static int local_read_at(void *self, const char *key, uint64_t off, void *buf, size_t len,
                         char *err, size_t err_size)
{
        struct local *lc = self;
        char *p = buf;
        size_t done = 0;
        int fd = open_key(lc, key);

        if (fd < 0) {
                cb_err_printf(err, err_size, "cannot open %s under %s: %s", key, lc->dir,
                              errno == ENOENT   ? "no such key"
                              : errno == EINVAL ? "invalid key"
                                                : strerror(errno));
                return -1;
        }
        while (done < len) {
                ssize_t n = pread(fd, p + done, len - done, (off_t)(off + done));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        cb_err_printf(err, err_size, "reading %s at %llu: %s", key,
                                      (unsigned long long)off + done,
                                      n < 0 ? strerror(errno) : "short read (past the end)");
                        close(fd);
                        return -1;
                }
                done += (size_t)n;
        }
        close(fd);
        return 0;
}

static int local_remove(void *self, const char *key, char *err, size_t err_size)
{
        struct local *lc = self;
        char name[NAME_MAX_ + 1];
        int dfd = open_parent(lc, key, false, name);

        if (dfd < 0) {
                if (errno == ENOENT)
                        return 0;
                cb_err_printf(err, err_size, "cannot open the directory of %s: %s", key,
                              errno == EINVAL ? "invalid key" : strerror(errno));
                return -1;
        }
        if (unlinkat(dfd, name, 0) != 0 && errno != ENOENT) {
                cb_err_printf(err, err_size, "removing %s: %s", key, strerror(errno));
                close(dfd);
                return -1;
        }
        if (fsync(dfd) != 0) {
                cb_err_printf(err, err_size, "fsync of the directory of %s: %s", key,
                              strerror(errno));
                close(dfd);
                return -1;
        }
        close(dfd);
        return 0;
}

const struct cb_storage_ops cb_storage_local = {
    .name = "local",
    .create = local_create,
    .destroy = local_destroy,
    .put_begin = local_put_begin,
    .put_write = local_put_write,
    .put_commit = local_put_commit,
    .put_abort = local_put_abort,
    .size = local_size,
    .read_at = local_read_at,
    .remove = local_remove,
};
