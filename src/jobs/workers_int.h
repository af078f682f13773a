/* Inside the worker pool: the state workers.c (claiming, running, settling jobs) and
 * listener.c (LISTEN/NOTIFY, lease heartbeats, periodic jobs) share. */
#ifndef CB_JOBS_WORKERS_INT_H
#define CB_JOBS_WORKERS_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "callbridge/jobs.h"

#define CHANNEL           "cb_jobs"
#define NOTIFY_MIN_GAP_US 10000 /* at most one NOTIFY per 10 ms from this instance */
#define CLAIM_BATCH       64    /* upper bound of [workers] batch */

struct worker {
        struct cb_jobs *jobs;
        pthread_t thread;
        char id[112];
        bool started;
        int64_t held[CLAIM_BATCH]; /* jobs in hand; guarded by jobs->held_lock */
        int nheld;
};

struct cb_jobs {
        struct cb_job_env *env;
        struct worker *workers;
        long nworkers;
        char kinds[512];       /* text[] literal of the kinds this instance runs */
        char kinds_plain[512]; /* ... those of no CRM kind */
        char kinds_batch[512]; /* ... those of a CRM kind (crm_batch.c) */
        atomic_bool gathering; /* a worker waits [crm] batch_delay_ms for more batch jobs */
        pthread_mutex_t lock;
        pthread_cond_t wake;
        uint64_t generation; /* bumped on every wake so no wake-up is missed */
        atomic_bool stopping;
        pthread_t listener;
        bool listener_started;
        int efd;        /* wakes the listener to send a NOTIFY */
        char owner[80]; /* "host:pid:nonce:", the prefix of every worker id here */
        atomic_bool notify_pending;
        _Atomic int64_t intake_busy_until; /* cb_now_us until which workers yield to the intake */
        pthread_mutex_t held_lock;         /* guards every worker's held[] */
};

/* Wake this instance's workers (no NOTIFY). */
void cb_jobs_wake_local(struct cb_jobs *jobs);
/* The LISTEN thread (listener.c): wakes workers on other instances' NOTIFY, sends this
 * instance's coalesced NOTIFY, renews the leases of jobs in hand, queues periodic jobs. */
void *cb_jobs_listener_main(void *arg);

#endif
