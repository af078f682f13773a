/* Group commit for the store (src/store/batcher.c); the batched writes are cb_call_batcher_*
 * (store_calls.h) and cb_status_batcher_* (store_lifecycle.h). */
#ifndef CALLBRIDGE_STORE_BATCHER_H
#define CALLBRIDGE_STORE_BATCHER_H

#include <stddef.h>

#include "callbridge/db.h"

/* Group commit (src/store/batcher.c): callers queue items and sleep; a few batcher threads
 * run what is queued as one statement — one commit, one WAL flush — and wake them. */
#define CB_BATCH_MAX 128
struct cb_batcher;
/* Run `n` items as one batch on `db` (NULL when no connection could be had within 5 s: fail
 * them all); the function stores each item's result in the item. */
typedef void (*cb_batch_fn)(struct cb_db *db, void *const *items, size_t n);
/* Start `threads` batcher threads over `pool`; NULL (logged) on failure. */
struct cb_batcher *cb_batcher_start(struct cb_db_pool *pool, const char *name, int threads,
                                    cb_batch_fn fn);
/* Queue `item` and wait until its batch ran. */
void cb_batcher_run(struct cb_batcher *b, void *item);
/* Queue `item` and return at once; `on_done(item)` runs on a batcher thread once its batch
 * ran (the item must live until then). -1 when out of memory (nothing queued). Items queued
 * before cb_batcher_stop still run and are still reported. */
int cb_batcher_submit(struct cb_batcher *b, void *item, void (*on_done)(void *item));
/* A connection from the batcher's pool (waiting up to 5 s), for follow-up questions. */
struct cb_db *cb_batcher_db(struct cb_batcher *b);
/* Stop after the queued items are done. Clears *b. */
void cb_batcher_stop(struct cb_batcher **b);

#endif
