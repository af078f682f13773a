/* Group commit for new calls. A request thread queues its call and sleeps; a batcher thread
 * takes everything queued (up to MAX_BATCH), inserts it with one statement — one commit,
 * one WAL flush — and wakes the callers. Under load this turns N durable inserts into one;
 * idle, a call waits only for its own statement. */
#include <pthread.h>
#include <stdlib.h>

#include "callbridge/log.h"
#include "callbridge/store.h"

#define MAX_BATCH 128

struct entry {
        const struct cb_call_new *call;
        struct entry *next;
        enum cb_qs qs;
        bool created;
        bool done;
};

struct cb_call_batcher {
        struct cb_db_pool *pool;
        pthread_mutex_t lock;
        pthread_cond_t work;
        pthread_cond_t finished;
        struct entry *head;
        struct entry *tail;
        bool stopping;
        pthread_t *threads;
        int nthreads;
};

/* Insert one batch; when the statement fails as a whole, fall back to one call at a time so
 * a single bad row cannot fail its neighbours. */
static void insert_batch(struct cb_call_batcher *b, struct entry **batch, size_t n)
{
        const struct cb_call_new *calls[MAX_BATCH];
        bool created[MAX_BATCH];
        struct cb_db *db = cb_db_acquire(b->pool, 5000);
        enum cb_qs qs = CB_QS_HARD_ERROR;

        for (size_t i = 0; i < n; i++)
                calls[i] = batch[i]->call;
        if (db != NULL)
                qs = cb_store_calls_insert(db, calls, n, created);
        for (size_t i = 0; i < n; i++) {
                if (qs < 0 && db != NULL && n > 1)
                        batch[i]->qs = cb_store_calls_insert(db, &calls[i], 1, &created[i]);
                else
                        batch[i]->qs = qs;
                batch[i]->created = batch[i]->qs >= 0 && created[i];
        }
        cb_db_release(&db);
}

static void *batcher_main(void *arg)
{
        struct cb_call_batcher *b = arg;
        struct entry *batch[MAX_BATCH];

        pthread_mutex_lock(&b->lock);
        for (;;) {
                size_t n = 0;

                while (b->head == NULL && !b->stopping)
                        pthread_cond_wait(&b->work, &b->lock);
                if (b->head == NULL)
                        break; /* stopping and nothing left */
                while (b->head != NULL && n < MAX_BATCH) {
                        batch[n++] = b->head;
                        b->head = b->head->next;
                }
                if (b->head == NULL)
                        b->tail = NULL;
                pthread_mutex_unlock(&b->lock);
                insert_batch(b, batch, n);
                pthread_mutex_lock(&b->lock);
                for (size_t i = 0; i < n; i++)
                        batch[i]->done = true;
                pthread_cond_broadcast(&b->finished);
        }
        pthread_mutex_unlock(&b->lock);
        return NULL;
}

enum cb_qs cb_call_batcher_insert(struct cb_call_batcher *b, const struct cb_call_new *c,
                                  char id_out[CB_UUID_LEN + 1], bool *created, bool *same_request)
{
        struct entry e = {.call = c};
        struct cb_db *db;
        enum cb_qs qs;

        pthread_mutex_lock(&b->lock);
        if (b->tail != NULL)
                b->tail->next = &e;
        else
                b->head = &e;
        b->tail = &e;
        pthread_cond_signal(&b->work);
        while (!e.done)
                pthread_cond_wait(&b->finished, &b->lock);
        pthread_mutex_unlock(&b->lock);

        *created = e.created;
        *same_request = true;
        if (e.qs < 0)
                return e.qs;
        if (e.created) {
                cb_strlcpy(id_out, c->id, CB_UUID_LEN + 1);
                return CB_QS_ONE_RESULT;
        }
        /* A collision (idempotent replay or conflict): rare, answered on its own. */
        db = cb_db_acquire(b->pool, 5000);
        if (db == NULL)
                return CB_QS_HARD_ERROR;
        qs = cb_store_call_existing(db, c, id_out, same_request);
        cb_db_release(&db);
        return qs;
}

struct cb_call_batcher *cb_call_batcher_start(struct cb_db_pool *pool, int threads)
{
        struct cb_call_batcher *b = calloc(1, sizeof(*b));

        if (b == NULL)
                return NULL;
        b->pool = pool;
        b->threads = calloc((size_t)threads, sizeof(*b->threads));
        pthread_mutex_init(&b->lock, NULL);
        pthread_cond_init(&b->work, NULL);
        pthread_cond_init(&b->finished, NULL);
        for (int i = 0; b->threads != NULL && i < threads; i++) {
                if (pthread_create(&b->threads[i], NULL, batcher_main, b) != 0)
                        break;
                b->nthreads++;
        }
        if (b->nthreads == 0) {
                cb_error("cannot start the call batcher");
                cb_call_batcher_stop(&b);
                return NULL;
        }
        return b;
}

void cb_call_batcher_stop(struct cb_call_batcher **bp)
{
        struct cb_call_batcher *b = *bp;

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
        pthread_cond_destroy(&b->finished);
        free(b->threads);
        free(b);
        *bp = NULL;
}
