/* callbridge-sandbox: S3 objects and multipart uploads, in memory, under the state lock.
 * ETags are S3's: the quoted MD5 of an object, or for a multipart object the MD5 of the parts'
 * MD5s followed by "-<parts>". */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_emu.h"
#include "sandbox.h"

struct object {
        char *key;
        unsigned char *data;
        size_t len;
        char etag[SB_S3_ETAG_MAX];
        char sha256[65];
};

struct part {
        long number;
        unsigned char *data;
        size_t len;
        unsigned char md5[16];
        char etag[33]; /* unquoted hex MD5 */
};

struct upload {
        char id[SB_S3_UPLOAD_ID + 1];
        char *key;
        struct part *parts; /* unordered */
        size_t n_parts;
};

static struct object *objects;
static size_t n_objects;
static struct upload *uploads;
static size_t n_uploads;

static void hex(const unsigned char *in, size_t len, char *out)
{
        static const char digits[] = "0123456789abcdef";

        for (size_t i = 0; i < len; i++) {
                out[2 * i] = digits[in[i] >> 4];
                out[2 * i + 1] = digits[in[i] & 15];
        }
        out[2 * len] = '\0';
}

static void digest(const EVP_MD *md, const void *data, size_t len, unsigned char *out)
{
        unsigned int n = 0;

        EVP_Digest(data, len, out, &n, md, NULL);
}

static void object_free(struct object *o)
{
        free(o->key);
        free(o->data);
}

static void upload_free(struct upload *u)
{
        for (size_t i = 0; i < u->n_parts; i++)
                free(u->parts[i].data);
        free(u->parts);
        free(u->key);
}

void sb_s3_state_clear_locked(void)
{
        for (size_t i = 0; i < n_objects; i++)
                object_free(&objects[i]);
        free(objects);
        objects = NULL;
        n_objects = 0;
        for (size_t i = 0; i < n_uploads; i++)
                upload_free(&uploads[i]);
        free(uploads);
        uploads = NULL;
        n_uploads = 0;
}

int sb_s3_state_snapshot_locked(json_t *snap)
{
        json_t *list = json_array();
        json_t *s3 = NULL;
        int bad = list == NULL;

        for (size_t i = 0; !bad && i < n_objects; i++)
                bad |= json_array_append_new(list,
                                             json_pack("{s:s,s:I,s:s,s:s}", "key", objects[i].key,
                                                       "size", (json_int_t)objects[i].len, "sha256",
                                                       objects[i].sha256, "etag", objects[i].etag));
        s3 = bad ? NULL : json_pack("{s:o,s:I}", "objects", list, "uploads", (json_int_t)n_uploads);
        if (s3 == NULL) {
                if (bad)
                        json_decref(list);
                return -1;
        }
        return json_object_set_new(snap, "s3", s3);
}

static struct object *object_find_locked(const char *key)
{
        for (size_t i = 0; i < n_objects; i++)
                if (strcmp(objects[i].key, key) == 0)
                        return &objects[i];
        return NULL;
}

/* Install `data` (taken) as `key`; -1 (data freed) when out of memory. Lock held. */
static int object_set_take_locked(const char *key, unsigned char *data, size_t len,
                                  const char *etag)
{
        struct object *o = object_find_locked(key);
        unsigned char sum[32];

        if (o == NULL) {
                struct object *grown = realloc(objects, (n_objects + 1) * sizeof(*objects));
                char *k = strdup(key);

                if (grown == NULL || k == NULL) {
                        if (grown != NULL)
                                objects = grown;
                        free(k);
                        free(data);
                        return -1;
                }
                objects = grown;
                o = &objects[n_objects++];
                memset(o, 0, sizeof(*o));
                o->key = k;
        }
        free(o->data);
        o->data = data;
        o->len = len;
        snprintf(o->etag, sizeof(o->etag), "%s", etag);
        digest(EVP_sha256(), data, len, sum);
        hex(sum, sizeof(sum), o->sha256);
        return 0;
}

int sb_s3_object_put(const char *key, const void *data, size_t len, char etag[SB_S3_ETAG_MAX])
{
        unsigned char *copy = malloc(len ? len : 1);
        unsigned char md5[16];
        char md5_hex[33];
        int rc;

        if (copy == NULL)
                return -1;
        memcpy(copy, data, len);
        digest(EVP_md5(), data, len, md5);
        hex(md5, sizeof(md5), md5_hex);
        snprintf(etag, SB_S3_ETAG_MAX, "\"%s\"", md5_hex);
        sb_state_lock();
        rc = object_set_take_locked(key, copy, len, etag);
        sb_state_unlock();
        return rc;
}

int sb_s3_object_copy(const char *key, unsigned char **data, size_t *len, char etag[SB_S3_ETAG_MAX])
{
        struct object *o;
        int rc = 1;

        sb_state_lock();
        o = object_find_locked(key);
        if (o != NULL) {
                *data = malloc(o->len ? o->len : 1);
                rc = *data == NULL ? -1 : 0;
                if (rc == 0) {
                        memcpy(*data, o->data, o->len);
                        *len = o->len;
                        snprintf(etag, SB_S3_ETAG_MAX, "%s", o->etag);
                }
        }
        sb_state_unlock();
        return rc;
}

void sb_s3_object_delete(const char *key)
{
        struct object *o;

        sb_state_lock();
        o = object_find_locked(key);
        if (o != NULL) {
                object_free(o);
                *o = objects[--n_objects];
        }
        sb_state_unlock();
}

/* ---- multipart -------------------------------------------------------------------------- */

static struct upload *upload_find_locked(const char *id, const char *key, struct sb_s3_err *err)
{
        for (size_t i = 0; i < n_uploads; i++)
                if (strcmp(uploads[i].id, id) == 0 && strcmp(uploads[i].key, key) == 0)
                        return &uploads[i];
        err->status = 404;
        err->code = "NoSuchUpload";
        snprintf(err->message, sizeof(err->message),
                 "The specified upload does not exist. The upload ID may be invalid, or the "
                 "upload may have been aborted or completed.");
        return NULL;
}

int sb_s3_upload_create(const char *key, char id[SB_S3_UPLOAD_ID + 1])
{
        unsigned char rnd[SB_S3_UPLOAD_ID / 2];
        struct upload *grown;
        char *k = strdup(key);
        int rc = -1;

        if (k == NULL || RAND_bytes(rnd, sizeof(rnd)) != 1) {
                free(k);
                return -1;
        }
        hex(rnd, sizeof(rnd), id);
        sb_state_lock();
        grown = realloc(uploads, (n_uploads + 1) * sizeof(*uploads));
        if (grown != NULL) {
                uploads = grown;
                memset(&uploads[n_uploads], 0, sizeof(*uploads));
                memcpy(uploads[n_uploads].id, id, SB_S3_UPLOAD_ID + 1);
                uploads[n_uploads++].key = k;
                k = NULL;
                rc = 0;
        }
        sb_state_unlock();
        free(k);
        return rc;
}

static void oom(struct sb_s3_err *err)
{
        err->status = 500;
        err->code = "InternalError";
        snprintf(err->message, sizeof(err->message), "sandbox: out of memory");
}

void sb_s3_upload_part(const char *id, const char *key, long number, const void *data, size_t len,
                       char etag[SB_S3_ETAG_MAX], struct sb_s3_err *err)
{
        unsigned char *copy = malloc(len ? len : 1);
        unsigned char md5[16];
        struct upload *u;
        struct part *p = NULL;

        if (copy == NULL) {
                oom(err);
                return;
        }
        memcpy(copy, data, len);
        digest(EVP_md5(), data, len, md5);
        sb_state_lock();
        u = upload_find_locked(id, key, err);
        for (size_t i = 0; u != NULL && i < u->n_parts && p == NULL; i++)
                if (u->parts[i].number == number)
                        p = &u->parts[i];
        if (u != NULL && p == NULL) {
                struct part *grown = realloc(u->parts, (u->n_parts + 1) * sizeof(*u->parts));
                if (grown == NULL) {
                        oom(err);
                } else {
                        u->parts = grown;
                        p = &u->parts[u->n_parts++];
                        memset(p, 0, sizeof(*p));
                        p->number = number;
                }
        }
        if (p != NULL) {
                free(p->data);
                p->data = copy;
                copy = NULL;
                p->len = len;
                memcpy(p->md5, md5, sizeof(md5));
                hex(md5, sizeof(md5), p->etag);
                snprintf(etag, SB_S3_ETAG_MAX, "\"%s\"", p->etag);
        }
        sb_state_unlock();
        free(copy);
}

static void fail(struct sb_s3_err *err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A 400 `code` with a formatted message. */
static void fail(struct sb_s3_err *err, const char *code, const char *fmt, ...)
{
        va_list ap;

        err->status = 400;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
}

/* The stored part `ref` names, after checking it; NULL with `err` set. Lock held. */
static struct part *part_check_locked(struct upload *u, const struct sb_s3_part_ref *ref, bool last,
                                      struct sb_s3_err *err)
{
        for (size_t i = 0; i < u->n_parts; i++) {
                struct part *p = &u->parts[i];

                if (p->number != ref->number)
                        continue;
                if (strcmp(p->etag, ref->etag) != 0)
                        break;
                if (!last && p->len < SB_S3_MIN_PART) {
                        fail(err, "EntityTooSmall",
                             "Your proposed upload is smaller than the minimum allowed object "
                             "size (part %ld is under 5 MiB and not the last).",
                             ref->number);
                        return NULL;
                }
                return p;
        }
        fail(err, "InvalidPart",
             "One or more of the specified parts could not be found. The part may not have been "
             "uploaded, or the specified entity tag may not match the part's entity tag (part "
             "%ld).",
             ref->number);
        return NULL;
}

void sb_s3_upload_complete(const char *id, const char *key, const struct sb_s3_part_ref *parts,
                           size_t n, char etag[SB_S3_ETAG_MAX], struct sb_s3_err *err)
{
        struct part **chosen = calloc(n ? n : 1, sizeof(struct part *));
        unsigned char *md5s = malloc(16 * (n ? n : 1)), *data = NULL, sum[16];
        char sum_hex[33];
        size_t total = 0, off = 0;
        struct upload *u;

        if (chosen == NULL || md5s == NULL) {
                free(chosen);
                free(md5s);
                oom(err);
                return;
        }
        sb_state_lock();
        if ((u = upload_find_locked(id, key, err)) == NULL)
                goto out;
        if (n == 0) {
                fail(err, "MalformedXML", "The XML you provided named no parts.");
                goto out;
        }
        for (size_t i = 1; i < n; i++) {
                if (parts[i].number <= parts[i - 1].number) {
                        fail(err, "InvalidPartOrder",
                             "The list of parts was not in ascending order (part %ld).",
                             parts[i].number);
                        goto out;
                }
        }
        for (size_t i = 0; i < n; i++) {
                if ((chosen[i] = part_check_locked(u, &parts[i], i == n - 1, err)) == NULL)
                        goto out;
                total += chosen[i]->len;
                memcpy(md5s + 16 * i, chosen[i]->md5, 16);
        }
        if ((data = malloc(total ? total : 1)) == NULL) {
                oom(err);
                goto out;
        }
        for (size_t i = 0; i < n; i++) {
                memcpy(data + off, chosen[i]->data, chosen[i]->len);
                off += chosen[i]->len;
        }
        digest(EVP_md5(), md5s, 16 * n, sum);
        hex(sum, sizeof(sum), sum_hex);
        snprintf(etag, SB_S3_ETAG_MAX, "\"%s-%u\"", sum_hex, (unsigned)n);
        if (object_set_take_locked(key, data, total, etag) != 0) {
                oom(err);
                goto out;
        }
        upload_free(u);
        *u = uploads[--n_uploads];
out:
        sb_state_unlock();
        free(chosen);
        free(md5s);
}

void sb_s3_upload_abort(const char *id, const char *key, struct sb_s3_err *err)
{
        struct upload *u;

        sb_state_lock();
        u = upload_find_locked(id, key, err);
        if (u != NULL) {
                upload_free(u);
                *u = uploads[--n_uploads];
        }
        sb_state_unlock();
}
