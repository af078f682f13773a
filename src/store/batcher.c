/* Group commit. A request thread queues its item and sleeps; a batcher thread takes everything
 * queued (up to MAX_BATCH), runs it as one statement — one commit, one WAL flush — and wakes
 * the callers. Under load N durable writes cost one; idle, an item waits only for its own
 * statement. Each batch kind (calls, status events) is a cb_batch_fn.
 *
 * An item can also be submitted without waiting (cb_batcher_submit): its `done` callback runs
 * on the batcher thread after the batch, so a request parked by libmicrohttpd holds no thread
 * while its commit is under way. */
#include <pthread.h>
#include <stdlib.h>

#include "callbridge/log.h"
#include "callbridge/store_batcher.h"

struct entry {
        void *item;
        struct entry *next;
        void (*on_done)(void *item); /* submitted: called after the batch, then the entry freed */
        pthread_cond_t done_cond;    /* waited for: finishing a batch wakes only its callers */
        bool done;
};

struct cb_batcher {
        struct cb_db_pool *pool;
        cb_batch_fn fn;
        const char *name;
        pthread_mutex_t lock;
        pthread_cond_t work;
        struct entry *head;
        struct entry *tail;
        bool stopping;
        pthread_t *threads;
        int nthreads;
};

static void *batcher_main(void *arg)
{
        struct cb_batcher *b = arg;
        struct entry *batch[CB_BATCH_MAX];
        void *items[CB_BATCH_MAX];

        pthread_mutex_lock(&b->lock);
        for (;;) {
                size_t n = 0;
                struct cb_db *db;

                while (b->head == NULL && !b->stopping)
                        pthread_cond_wait(&b->work, &b->lock);
                if (b->head == NULL)
                        break; /* stopping and nothing left */
                while (b->head != NULL && n < CB_BATCH_MAX) {
                        items[n] = b->head->item;
                        batch[n++] = b->head;
                        b->head = b->head->next;
                }
                if (b->head == NULL)
                        b->tail = NULL;
                pthread_mutex_unlock(&b->lock);
                db = cb_db_acquire(b->pool, 5000);
                b->fn(db, items, n);
                cb_db_release(&db);
                /* Submitted items first, without the lock: their callbacks may take others'. */
                for (size_t i = 0; i < n; i++) {
                        if (batch[i]->on_done != NULL) {
                                batch[i]->on_done(batch[i]->item);
                                free(batch[i]);
                                batch[i] = NULL;
                        }
                }
                pthread_mutex_lock(&b->lock);
                for (size_t i = 0; i < n; i++) {
                        if (batch[i] == NULL)
                                continue;
                        batch[i]->done = true;
                        pthread_cond_signal(&batch[i]->done_cond);
                }
        }
        pthread_mutex_unlock(&b->lock);
        return NULL;
}

/* Append `e` to the queue and wake a batcher thread. Called with b->lock held. */
static void enqueue(struct cb_batcher *b, struct entry *e)
{
        if (b->tail != NULL)
                b->tail->next = e;
        else
                b->head = e;
        b->tail = e;
        pthread_cond_signal(&b->work);
}

void cb_batcher_run(struct cb_batcher *b, void *item)
{
        struct entry e = {.item = item};

        pthread_cond_init(&e.done_cond, NULL);
        pthread_mutex_lock(&b->lock);
        enqueue(b, &e);
        while (!e.done)
                pthread_cond_wait(&e.done_cond, &b->lock);
        pthread_mutex_unlock(&b->lock);
        pthread_cond_destroy(&e.done_cond);
}

int cb_batcher_submit(struct cb_batcher *b, void *item, void (*on_done)(void *item))
{
        struct entry *e = calloc(1, sizeof(*e));

        if (e == NULL)
                return -1;
        e->item = item;
        e->on_done = on_done;
        pthread_mutex_lock(&b->lock);
        enqueue(b, e);
        pthread_mutex_unlock(&b->lock);
        return 0;
}

struct cb_db *cb_batcher_db(struct cb_batcher *b)
{
        return cb_db_acquire(b->pool, 5000);
}

struct cb_batcher *cb_batcher_start(struct cb_db_pool *pool, const char *name, int threads,
                                    cb_batch_fn fn)
{
        struct cb_batcher *b = calloc(1, sizeof(*b));

        if (b == NULL)
                return NULL;
        b->pool = pool;
        b->fn = fn;
        b->name = name;
        b->threads = calloc((size_t)threads, sizeof(*b->threads));
        pthread_mutex_init(&b->lock, NULL);
        pthread_cond_init(&b->work, NULL);
        for (int i = 0; b->threads != NULL && i < threads; i++) {
                if (pthread_create(&b->threads[i], NULL, batcher_main, b) != 0)
                        break;
                b->nthreads++;
        }
        if (b->nthreads == 0) {
                cb_error("cannot start the %s batcher", name);
                cb_batcher_stop(&b);
                return NULL;
        }
        return b;
}

void cb_batcher_stop(struct cb_batcher **bp)
{
        struct cb_batcher *b = *bp;

        if (b == NULL)
                return;
        pthread_mutex_lock(&b->lock);
        b->stopping = true;
        pthread_cond_broadcast(&b->work);
        pthread_mutex_unlock(&b->lock);
        for (int i = 0; i < b->nthreads; i++)
                pthread_join(b->threads[i], NULL);
        pthread_mutex_destroy(&b->lock);
        pthread_cond_destroy(&b->work);
        free(b->threads);
        free(b);
        *bp = NULL;
}
