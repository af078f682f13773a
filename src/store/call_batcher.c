/* Group commit for new calls (a cb_batcher kind): concurrent initiates and inbound calls are
 * inserted together, N requests for one statement and one WAL flush. */
#include <stdlib.h>

#include "callbridge/log.h"
#include "callbridge/store.h"

/* Insert one batch; when the statement fails as a whole, fall back to one call at a time so
 * a single bad row cannot fail its neighbours. */
static void insert_batch(struct cb_db *db, void *const *items, size_t n)
{
        const struct cb_call_new *calls[CB_BATCH_MAX] = {NULL};
        bool created[CB_BATCH_MAX] = {false};
        enum cb_qs qs = CB_QS_HARD_ERROR;

        for (size_t i = 0; i < n; i++)
                calls[i] = ((struct cb_call_item *)items[i])->call;
        if (db != NULL)
                qs = cb_store_calls_insert(db, calls, n, created);
        for (size_t i = 0; i < n; i++) {
                struct cb_call_item *it = items[i];
                if (qs < 0 && db != NULL && n > 1)
                        it->qs = cb_store_calls_insert(db, &calls[i], 1, &created[i]);
                else
                        it->qs = qs;
                it->created = it->qs >= 0 && created[i];
        }
}

struct cb_batcher *cb_call_batcher_start(struct cb_db_pool *pool, int threads)
{
        return cb_batcher_start(pool, "call", threads, insert_batch);
}

static void item_done(void *item)
{
        struct cb_call_item *it = item;

        it->done(it->arg);
}

int cb_call_batcher_submit(struct cb_batcher *b, struct cb_call_item *it)
{
        it->qs = CB_QS_HARD_ERROR;
        it->created = false;
        return cb_batcher_submit(b, it, item_done);
}

enum cb_qs cb_call_batcher_existing(struct cb_batcher *b, const struct cb_call_new *c,
                                    char id_out[CB_UUID_LEN + 1], bool *same_request)
{
        struct cb_db *db = cb_batcher_db(b);
        enum cb_qs qs;

        *same_request = true;
        if (db == NULL)
                return CB_QS_HARD_ERROR;
        qs = cb_store_call_existing(db, c, id_out, same_request);
        cb_db_release(&db);
        return qs;
}

enum cb_qs cb_call_batcher_insert(struct cb_batcher *b, const struct cb_call_new *c,
                                  char id_out[CB_UUID_LEN + 1], bool *created, bool *same_request)
{
        struct cb_call_item it = {.call = c};

        cb_batcher_run(b, &it);
        *created = it.created;
        *same_request = true;
        if (it.qs < 0)
                return it.qs;
        if (it.created) {
                cb_strlcpy(id_out, c->id, CB_UUID_LEN + 1);
                return CB_QS_ONE_RESULT;
        }
        /* A collision (idempotent replay or conflict): rare, answered on its own. */
        return cb_call_batcher_existing(b, c, id_out, same_request);
}
