/* The recordings context: the keyring and the storage backend, made once at start. */
#include <stdlib.h>

#include "callbridge/log.h"
#include "callbridge/recordings.h"

struct cb_recordings *cb_recordings_create(const struct cb_config *cfg)
{
        struct cb_recordings *rec = calloc(1, sizeof(*rec));
        char err[256];

        if (rec == NULL)
                return NULL;
        rec->cfg = cfg;
        if (cfg->storage.key_file == NULL) {
                cb_warn("recordings are off: [storage] key_file is not set (make a key with "
                        "`callbridge keygen`)");
                return rec;
        }
        rec->keys = cb_keyring_load(cfg->storage.key_file, err, sizeof(err));
        if (rec->keys == NULL) {
                cb_error("[storage] key_file: %s", err);
                cb_recordings_destroy(&rec);
                return NULL;
        }
        rec->storage = cb_storage_create(cfg);
        if (rec->storage == NULL) {
                cb_recordings_destroy(&rec);
                return NULL;
        }
        return rec;
}

void cb_recordings_destroy(struct cb_recordings **recp)
{
        struct cb_recordings *rec = *recp;

        if (rec == NULL)
                return;
        cb_storage_destroy(&rec->storage);
        cb_keyring_free(&rec->keys);
        free(rec);
        *recp = NULL;
}

bool cb_recordings_enabled(const struct cb_recordings *rec)
{
        return rec != NULL && rec->keys != NULL && rec->storage != NULL;
}
