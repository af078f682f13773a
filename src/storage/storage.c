/* Chooses the storage provider [storage] backend names, and the key rule every provider
 * applies. Add a provider: write src/storage/<name>.c behind struct cb_storage_ops and list
 * its ops here. */
#include "callbridge/storage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/log.h"
#include "callbridge/util.h"

#define KEY_MAX 512

static const struct cb_storage_ops *const providers[] = {&cb_storage_local, &cb_storage_s3};

struct cb_storage *cb_storage_create(const struct cb_config *cfg)
{
        const char *want = cfg->storage.backend != NULL ? cfg->storage.backend : "local";
        struct cb_storage *st = NULL;

        for (size_t i = 0; i < CB_ARRAY_LEN(providers); i++) {
                if (strcmp(providers[i]->name, want) != 0)
                        continue;
                st = calloc(1, sizeof(*st));
                if (st == NULL) {
                        cb_error("out of memory creating the %s storage", want);
                        return NULL;
                }
                st->ops = providers[i];
                st->self = st->ops->create(cfg);
                if (st->self == NULL) {
                        free(st);
                        return NULL;
                }
                return st;
        }
        cb_error("storage backend %s is not part of this build", want);
        return NULL;
}

void cb_storage_destroy(struct cb_storage **stp)
{
        struct cb_storage *st = *stp;

        if (st == NULL)
                return;
        st->ops->destroy(st->self);
        free(st);
        *stp = NULL;
}

/* Segments of 1+ characters from [A-Za-z0-9._-], joined by single '/', none "." and no ".."
 * anywhere; at most KEY_MAX bytes. So no absolute path, no empty segment ("a//b", trailing
 * '/'), nothing a filesystem or an S3 URL would reinterpret. */
bool cb_storage_key_ok(const char *key)
{
        size_t seg = 0, n = 0;
        const char *p;

        if (key == NULL || key[0] == '\0' || strstr(key, "..") != NULL)
                return false;
        for (p = key; *p != '\0'; p++, n++) {
                char c = *p;

                if (n >= KEY_MAX)
                        return false;
                if (c == '/') {
                        if (seg == 0 || (seg == 1 && p[-1] == '.'))
                                return false;
                        seg = 0;
                        continue;
                }
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-'))
                        return false;
                seg++;
        }
        return seg > 0 && !(seg == 1 && p[-1] == '.');
}
