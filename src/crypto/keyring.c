/* Recording keys ([storage] key_file): one "k<8 hex> <base64 of 32 bytes>" line per key, the
 * last one current. Key bytes never reach an error message and are wiped when freed. */
#include "callbridge/blob.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "callbridge/crypto.h"
#include "callbridge/util.h"
#include "blob_int.h"

#define KEY_FILE_MAX ((size_t)64 * 1024) /* ~1,200 keys; a larger file is a mistake */
#define ID_TEXT_LEN  (1 + 2 * CB_BLOB_KEY_ID)

struct key {
        unsigned char id[CB_BLOB_KEY_ID];
        char name[ID_TEXT_LEN + 1];
        unsigned char bytes[CB_GCM_KEY];
        unsigned line;
};

struct cb_keyring {
        struct key *keys; /* in file order; the last one is current */
        size_t n;
        size_t cap; /* slots allocated (and wiped on free: a rejected line may fill slot n) */
};

/* One line of the file: [start, end) without the newline, and its 1-based number. */
struct line_iter {
        const char *p;
        const char *end;
        unsigned number;
};

static bool next_line(struct line_iter *it, const char **start, const char **end)
{
        const char *nl;

        if (it->p >= it->end)
                return false;
        nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
        *start = it->p;
        *end = nl != NULL ? nl : it->end;
        it->p = nl != NULL ? nl + 1 : it->end;
        it->number++;
        return true;
}

static bool is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\r';
}

/* Trim; false for lines that hold no key (blank, comment). */
static bool key_line(const char **start, const char **end)
{
        while (*start < *end && is_space(**start))
                (*start)++;
        while (*end > *start && is_space((*end)[-1]))
                (*end)--;
        return *start < *end && **start != '#';
}

/* A reason into `err` (which may be NULL). */
#define set_err(err, err_size, ...)                                                                \
        do {                                                                                       \
                if ((err) != NULL && (err_size) > 0)                                               \
                        snprintf((err), (err_size), __VA_ARGS__);                                  \
        } while (0)

/* Parse one trimmed key line into `k`. 0, or -1 with a reason naming the line (never the key). */
static int parse_key(const char *s, const char *end, unsigned number, struct key *k, char *err,
                     size_t err_size)
{
        const char *id_end = s;
        const char *b64 = NULL;
        char text[128]; /* the base64 field, NUL-terminated for the decoder */
        unsigned char raw[96];
        size_t b64_len;
        long n = -1;
        int rc = -1;

        while (id_end < end && !is_space(*id_end))
                id_end++;
        b64 = id_end;
        while (b64 < end && is_space(*b64))
                b64++;
        if (b64 == end || memchr(b64, ' ', (size_t)(end - b64)) != NULL ||
            memchr(b64, '\t', (size_t)(end - b64)) != NULL) {
                set_err(err, err_size, "line %u: expected \"k<8 hex digits> <base64 key>\"",
                        number);
                goto out;
        }
        if (id_end - s != ID_TEXT_LEN || s[0] != 'k') {
                set_err(err, err_size, "line %u: key id must be 'k' and 8 hex digits", number);
                goto out;
        }
        for (size_t i = 0; i < CB_BLOB_KEY_ID; i++) {
                int hi = cb_hex_digit(s[1 + 2 * i]);
                int lo = cb_hex_digit(s[2 + 2 * i]);
                if (hi < 0 || lo < 0) {
                        set_err(err, err_size, "line %u: key id must be 'k' and 8 hex digits",
                                number);
                        goto out;
                }
                k->id[i] = (unsigned char)(hi << 4 | lo);
        }
        k->name[0] = 'k';
        cb_hex(k->id, CB_BLOB_KEY_ID, k->name + 1);
        b64_len = (size_t)(end - b64);
        if (b64_len >= sizeof(text)) {
                set_err(err, err_size, "line %u: key %s is too long (want base64 of %d bytes)",
                        number, k->name, CB_GCM_KEY);
                goto out;
        }
        memcpy(text, b64, b64_len);
        text[b64_len] = '\0';
        n = cb_base64_decode(text, raw, sizeof(raw));
        if (n < 0) {
                set_err(err, err_size, "line %u: key %s is not standard base64", number, k->name);
                goto out;
        }
        if (n != CB_GCM_KEY) {
                set_err(err, err_size, "line %u: key %s is %ld bytes, want %d", number, k->name, n,
                        CB_GCM_KEY);
                goto out;
        }
        memcpy(k->bytes, raw, CB_GCM_KEY);
        k->line = number;
        rc = 0;
out:
        OPENSSL_cleanse(text, sizeof(text));
        OPENSSL_cleanse(raw, sizeof(raw));
        return rc;
}

struct cb_keyring *cb_keyring_parse(const char *text, size_t len, char *err, size_t err_size)
{
        struct line_iter it = {.p = text, .end = text + len};
        struct cb_keyring *kr = NULL;
        const char *s = NULL;
        const char *e = NULL;
        size_t cap = 0;

        while (next_line(&it, &s, &e))
                if (key_line(&s, &e))
                        cap++;
        if (cap == 0) {
                set_err(err, err_size, "no key in the file (add one: callbridge keygen)");
                return NULL;
        }
        kr = calloc(1, sizeof(*kr));
        if (kr == NULL || (kr->keys = calloc(cap, sizeof(*kr->keys))) == NULL) {
                set_err(err, err_size, "out of memory");
                goto fail;
        }
        kr->cap = cap;
        it = (struct line_iter){.p = text, .end = text + len};
        while (next_line(&it, &s, &e)) {
                struct key *k = &kr->keys[kr->n];

                if (!key_line(&s, &e))
                        continue;
                if (parse_key(s, e, it.number, k, err, err_size) != 0)
                        goto fail;
                for (size_t i = 0; i < kr->n; i++) {
                        if (memcmp(kr->keys[i].id, k->id, CB_BLOB_KEY_ID) == 0) {
                                set_err(err, err_size, "line %u: key id %s repeats line %u",
                                        it.number, k->name, kr->keys[i].line);
                                goto fail;
                        }
                }
                kr->n++;
        }
        return kr;
fail:
        cb_keyring_free(&kr);
        return NULL;
}

/* Read the whole key file. 0, or -1 with a reason. The buffer is the caller's to wipe. */
static int read_key_file(const char *path, char **out, size_t *len, char *err, size_t err_size)
{
        struct stat st;
        char *buf = NULL;
        size_t got = 0;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        int rc = -1;

        if (fd < 0) {
                set_err(err, err_size, "cannot open %s: %s", path, strerror(errno));
                goto out;
        }
        if (fstat(fd, &st) != 0) {
                set_err(err, err_size, "cannot stat %s: %s", path, strerror(errno));
                goto out;
        }
        if (!S_ISREG(st.st_mode)) {
                set_err(err, err_size, "%s is not a regular file", path);
                goto out;
        }
        /* Group-readable is fine (systemd credentials are 0440); anyone else reading, or anyone
         * but the owner writing (who could append a key of their own), is not. */
        if ((st.st_mode & (S_IWGRP | S_IRWXO)) != 0) {
                set_err(err, err_size,
                        "%s has mode %04o: a key file must not be readable by others or writable "
                        "by anyone but its owner (chmod 0600 or 0440)",
                        path, (unsigned)(st.st_mode & 07777));
                goto out;
        }
        if ((uint64_t)st.st_size > KEY_FILE_MAX) {
                set_err(err, err_size, "%s is larger than %zu bytes", path, KEY_FILE_MAX);
                goto out;
        }
        buf = malloc(KEY_FILE_MAX + 1);
        if (buf == NULL) {
                set_err(err, err_size, "out of memory");
                goto out;
        }
        for (;;) {
                ssize_t n = read(fd, buf + got, KEY_FILE_MAX + 1 - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        set_err(err, err_size, "cannot read %s: %s", path, strerror(errno));
                        goto out;
                }
                if (n == 0)
                        break;
                got += (size_t)n;
                if (got > KEY_FILE_MAX) {
                        set_err(err, err_size, "%s is larger than %zu bytes", path, KEY_FILE_MAX);
                        goto out;
                }
        }
        *out = buf;
        *len = got;
        buf = NULL;
        rc = 0;
out:
        if (buf != NULL) {
                OPENSSL_cleanse(buf, KEY_FILE_MAX + 1);
                free(buf);
        }
        if (fd >= 0)
                close(fd);
        return rc;
}

struct cb_keyring *cb_keyring_load(const char *path, char *err, size_t err_size)
{
        struct cb_keyring *kr = NULL;
        char *text = NULL;
        size_t len = 0;
        char why[256];

        if (read_key_file(path, &text, &len, err, err_size) != 0)
                return NULL;
        kr = cb_keyring_parse(text, len, why, sizeof(why));
        if (kr == NULL)
                set_err(err, err_size, "%s: %s", path, why);
        OPENSSL_cleanse(text, KEY_FILE_MAX + 1);
        free(text);
        return kr;
}

void cb_keyring_free(struct cb_keyring **kr)
{
        if (kr == NULL || *kr == NULL)
                return;
        if ((*kr)->keys != NULL) {
                OPENSSL_cleanse((*kr)->keys, (*kr)->cap * sizeof(*(*kr)->keys));
                free((*kr)->keys);
        }
        free(*kr);
        *kr = NULL;
}

const char *cb_keyring_current_id(const struct cb_keyring *kr)
{
        return kr->keys[kr->n - 1].name;
}

const unsigned char *cb_keyring_find(const struct cb_keyring *kr,
                                     const unsigned char id[CB_BLOB_KEY_ID])
{
        for (size_t i = 0; i < kr->n; i++)
                if (memcmp(kr->keys[i].id, id, CB_BLOB_KEY_ID) == 0)
                        return kr->keys[i].bytes;
        return NULL;
}

const unsigned char *cb_keyring_current(const struct cb_keyring *kr,
                                        unsigned char id[CB_BLOB_KEY_ID])
{
        const struct key *k = &kr->keys[kr->n - 1];

        memcpy(id, k->id, CB_BLOB_KEY_ID);
        return k->bytes;
}

size_t cb_keyring_count(const struct cb_keyring *kr)
{
        return kr ? kr->n : 0;
}

int cb_keyring_derive(const struct cb_keyring *kr, size_t index, const char *label,
                      unsigned char out[32])
{
        if (kr == NULL || index >= kr->n)
                return -1;
        if (!cb_hmac_sha256(kr->keys[index].bytes, sizeof(kr->keys[index].bytes), label,
                            strlen(label), out))
                return -1;
        return 0;
}
