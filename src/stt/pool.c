/* A small thread pool for the chunks of one transcription. A batch (cb_stt_pool_run) is a
 * range of indices; pool threads and the calling thread claim indices until none are left,
 * and the caller waits until every claimed index is done. Batches from several callers queue
 * in order; the caller always helps with its own, so a busy pool only slows a batch down. */
#include <stdlib.h>

#include "callbridge/log.h"
#include "stt_int.h"

struct batch {
        struct batch *next;
        void (*fn)(void *ctx, size_t i);
        void *ctx;
        size_t n, next_i, done;
        unsigned int width, running;
        pthread_cond_t finished;
};

struct cb_stt_pool {
        pthread_mutex_t lock;
        pthread_cond_t work;
        struct batch *queue; /* batches with indices left to claim */
        bool stopping;
        unsigned int n_threads;
        pthread_t threads[];
};

/* Claim an index of `b` (lock held); false when it has none left or is at its width. */
static bool claim(struct cb_stt_pool *p, struct batch *b, size_t *i)
{
        if (b->next_i >= b->n || (b->width != 0 && b->running >= b->width))
                return false;
        *i = b->next_i++;
        b->running++;
        if (b->next_i >= b->n) { /* fully claimed: off the queue */
                struct batch **pp = &p->queue;
                while (*pp != NULL && *pp != b)
                        pp = &(*pp)->next;
                if (*pp == b)
                        *pp = b->next;
        }
        return true;
}

/* Run index i of b without the lock, then account for it (lock held again on return). */
static void run_one(struct cb_stt_pool *p, struct batch *b, size_t i)
{
        pthread_mutex_unlock(&p->lock);
        b->fn(b->ctx, i);
        pthread_mutex_lock(&p->lock);
        b->running--;
        b->done++;
        if (b->done == b->n)
                pthread_cond_signal(&b->finished);
        else
                pthread_cond_broadcast(&p->work); /* a width slot is free again */
}

static void *worker(void *arg)
{
        struct cb_stt_pool *p = arg;

        pthread_mutex_lock(&p->lock);
        while (!p->stopping) {
                struct batch *b;
                size_t i = 0;

                for (b = p->queue; b != NULL; b = b->next) {
                        if (claim(p, b, &i))
                                break;
                }
                if (b == NULL) {
                        pthread_cond_wait(&p->work, &p->lock);
                        continue;
                }
                run_one(p, b, i);
        }
        pthread_mutex_unlock(&p->lock);
        return NULL;
}

struct cb_stt_pool *cb_stt_pool_create(unsigned int threads)
{
        struct cb_stt_pool *p = calloc(1, sizeof(*p) + threads * sizeof(pthread_t));

        if (p == NULL)
                return NULL;
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->work, NULL);
        for (unsigned int i = 0; i < threads; i++) {
                if (pthread_create(&p->threads[i], NULL, worker, p) != 0) {
                        cb_error("stt: cannot start chunk thread %u of %u", i + 1, threads);
                        cb_stt_pool_destroy(&p);
                        return NULL;
                }
                p->n_threads++;
        }
        return p;
}

void cb_stt_pool_destroy(struct cb_stt_pool **pp)
{
        struct cb_stt_pool *p = *pp;

        if (p == NULL)
                return;
        pthread_mutex_lock(&p->lock);
        p->stopping = true;
        pthread_cond_broadcast(&p->work);
        pthread_mutex_unlock(&p->lock);
        for (unsigned int i = 0; i < p->n_threads; i++)
                pthread_join(p->threads[i], NULL);
        pthread_cond_destroy(&p->work);
        pthread_mutex_destroy(&p->lock);
        free(p);
        *pp = NULL;
}

void cb_stt_pool_run(struct cb_stt_pool *p, size_t n, unsigned int width,
                     void (*fn)(void *ctx, size_t i), void *ctx)
{
        struct batch b = {.fn = fn, .ctx = ctx, .n = n, .width = width};
        struct batch **tail;
        size_t i;

        if (n == 0)
                return;
        pthread_cond_init(&b.finished, NULL);
        pthread_mutex_lock(&p->lock);
        for (tail = &p->queue; *tail != NULL; tail = &(*tail)->next)
                ;
        *tail = &b;
        pthread_cond_broadcast(&p->work);
        while (b.done < b.n) {
                if (claim(p, &b, &i))
                        run_one(p, &b, i);
                else
                        pthread_cond_wait(&b.finished, &p->lock);
        }
        pthread_mutex_unlock(&p->lock);
        pthread_cond_destroy(&b.finished);
}
