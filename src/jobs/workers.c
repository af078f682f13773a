/* The worker pool: threads that claim jobs with FOR UPDATE SKIP LOCKED under a lease, run
 * them (the claimed jobs of the CRM kinds together, in one CRM batch, gathered for up to [crm]
 * batch_delay_ms), and record done / retry-with-backoff / wait / dead. A LISTEN thread
 * (listener.c) wakes them on NOTIFY from other instances, sends a coalesced NOTIFY for jobs
 * this instance inserted, and renews the leases of the jobs workers hold in hand (the one
 * running and the finished ones whose outcome is about to be recorded), never of claimed jobs
 * not started nor of jobs whose outcome could not be recorded: their leases run out and
 * another worker takes them. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "callbridge/crypto.h"
#include "callbridge/jobs.h"
#include "callbridge/log.h"
#include "callbridge/store_jobs.h"
#include "kinds.h"

#define BATCH_RUN_US 1000000 /* a batch's unstarted jobs are handed back after this */

enum outcome { OUT_DONE, OUT_RETRY, OUT_DEAD, OUT_WAIT, OUT_COUNT };
static const char *const outcome_names[OUT_COUNT] = {"done", "retry", "dead", "wait"};
/* Outcome counters per registered kind; process-wide so /metrics can read them. */
#define MAX_KINDS 32
static atomic_ulong outcomes[MAX_KINDS][OUT_COUNT];

#include "workers_int.h"

/* Take job `id` in hand: the heartbeat renews its lease from now on. */
static void hold(struct worker *w, int64_t id)
{
        pthread_mutex_lock(&w->jobs->held_lock);
        if (w->nheld < CLAIM_BATCH)
                w->held[w->nheld++] = id;
        pthread_mutex_unlock(&w->jobs->held_lock);
}

/* Let go of job `id` (0: of every job): its lease is no longer renewed. */
static void let_go(struct worker *w, int64_t id)
{
        pthread_mutex_lock(&w->jobs->held_lock);
        for (int i = 0; i < w->nheld; i++)
                if (id == 0 || w->held[i] == id)
                        w->held[i--] = w->held[--w->nheld];
        pthread_mutex_unlock(&w->jobs->held_lock);
}

void cb_jobs_wake_local(struct cb_jobs *jobs)
{
        pthread_mutex_lock(&jobs->lock);
        jobs->generation++;
        pthread_cond_broadcast(&jobs->wake);
        pthread_mutex_unlock(&jobs->lock);
}

void cb_jobs_wake(struct cb_jobs *jobs)
{
        uint64_t one = 1;

        if (jobs == NULL)
                return;
        cb_jobs_wake_local(jobs);
        if (!atomic_exchange(&jobs->notify_pending, true)) {
                ssize_t w = write(jobs->efd, &one, sizeof(one));
                (void)w;
        }
}

void cb_jobs_intake(struct cb_jobs *jobs, size_t created)
{
        if (jobs == NULL)
                return;
        if (created >= CB_JOBS_INTAKE_BUSY)
                atomic_store(&jobs->intake_busy_until,
                             cb_mono_us() + CB_JOBS_INTAKE_YIELD_MS * (int64_t)1000);
        cb_jobs_wake(jobs);
}

/* Intake priority (issue 17): while POST /api/call/initiate is saturated (cb_jobs_intake saw a
 * big batch in the last CB_JOBS_INTAKE_YIELD_MS), workers past the first [workers]
 * intake_threads claim nothing new and pause until it is quiet, so the HTTP threads and the
 * call batcher get the cores. Only the claim is held back: jobs already in hand run and renew
 * their leases as before, and the first intake_threads workers keep draining the queue, so
 * nothing is lost and every job still runs — later, once the burst ends. True when `w` paused
 * (the caller loops back to check `stopping` first). */
static bool yield_to_intake(struct worker *w)
{
        struct cb_jobs *jobs = w->jobs;
        long floor = jobs->env->cfg->workers.intake_threads;
        int64_t until = atomic_load(&jobs->intake_busy_until), now = cb_mono_us();
        struct timespec deadline;

        if (floor <= 0 || w - jobs->workers < floor || now >= until)
                return false;
        cb_deadline_after_ms((until - now) / 1000 + 1, &deadline);
        pthread_mutex_lock(&jobs->lock);
        if (!atomic_load(&jobs->stopping)) /* cb_jobs_stop broadcasts `wake` */
                pthread_cond_timedwait(&jobs->wake, &jobs->lock, &deadline);
        pthread_mutex_unlock(&jobs->lock);
        return true;
}

/* Sleep until woken, stopped, or `ms` pass, unless a wake came after `seen`. */
static void wait_for_work(struct cb_jobs *jobs, uint64_t seen, long ms)
{
        struct timespec deadline;

        cb_deadline_after_ms(ms, &deadline);
        pthread_mutex_lock(&jobs->lock);
        while (jobs->generation == seen && !atomic_load(&jobs->stopping))
                if (pthread_cond_timedwait(&jobs->wake, &jobs->lock, &deadline) == ETIMEDOUT)
                        break;
        pthread_mutex_unlock(&jobs->lock);
}

static int kind_index(const struct cb_job_kind *kind)
{
        int i = (int)(kind - cb_job_kinds);
        return i >= 0 && i < MAX_KINDS ? i : MAX_KINDS - 1;
}

/* How long a job told to wait sleeps: the upstream's hint, else a backoff growing with the
 * times it has waited, capped at [workers] wait_max_ms. */
static int64_t wait_delay(const struct cb_config *cfg, const struct cb_job *job, int64_t hint)
{
        uint32_t rnd;

        cb_random(&rnd, sizeof(rnd));
        return cb_jobs_wait_ms(job->row->waits, hint, cfg->workers.backoff_base_ms,
                               cfg->workers.wait_max_ms, rnd);
}

/* Record a failure: wait (no attempt spent), retry with backoff, or dead. Without a
 * database nothing is recorded: the caller lets go of the job, its lease runs out and it
 * runs again. */
static void settle_failure(struct worker *w, const struct cb_job_kind *kind, struct cb_job *job,
                           enum cb_result r, int64_t hint)
{
        const struct cb_config *cfg = w->jobs->env->cfg;
        const struct cb_job_row *row = job->row;
        struct cb_db *db = cb_db_acquire(w->jobs->env->pool, 5000);
        enum outcome out = r == CB_RESULT_WAIT ? OUT_WAIT
                           : r == CB_RESULT_FAIL || row->attempts >= cfg->workers.max_attempts
                               ? OUT_DEAD
                               : OUT_RETRY;
        int64_t delay = 0;
        enum cb_qs qs;

        if (db == NULL) {
                cb_warn("job %" PRId64 " (%s): outcome not recorded, it will run again", row->id,
                        row->kind);
                return;
        }
        if (out == OUT_WAIT) {
                delay = wait_delay(cfg, job, hint);
                qs = cb_store_job_wait(db, row, w->id, delay, job->error);
        } else if (out == OUT_DEAD) {
                qs = cb_store_job_dead(db, row, w->id, job->error);
        } else {
                uint32_t rnd;
                cb_random(&rnd, sizeof(rnd));
                delay = cb_jobs_backoff_ms(row->attempts, cfg->workers.backoff_base_ms,
                                           cfg->workers.backoff_max_ms, rnd);
                /* An upstream that said when to come back (Retry-After) is believed. */
                if (job->retry_after_ms > delay)
                        delay = job->retry_after_ms;
                qs = cb_store_job_retry(db, row, w->id, delay, job->error);
        }
        cb_db_release(&db);
        if (qs == CB_QS_NO_RESULTS)
                cb_warn("job %" PRId64 " (%s): lease lost before it finished", row->id, row->kind);
        if (qs <= 0)
                return;
        atomic_fetch_add(&outcomes[kind_index(kind)][out], 1);
        if (out == OUT_DEAD) {
                cb_warn("job %" PRId64 " (%s) dead after %d attempts: %s", row->id, row->kind,
                        row->attempts, job->error);
                if (kind->on_dead != NULL)
                        kind->on_dead(job);
        } else if (out == OUT_WAIT) {
                cb_info("job %" PRId64 " (%s) waits %" PRId64 " ms (no attempt spent): %s", row->id,
                        row->kind, delay, job->error);
        } else {
                cb_info("job %" PRId64 " (%s) attempt %d failed, will retry: %s", row->id,
                        row->kind, row->attempts, job->error);
        }
}

/* Get claimed job `row` ready to run: its kind into *kindp and the job held (its lease
 * renewed). False when it must not run: its kind is unknown, or its workers kept dying (it is
 * recorded dead here). */
static bool start_one(struct worker *w, struct cb_job_row *row, const struct cb_job_kind **kindp)
{
        const struct cb_config *cfg = w->jobs->env->cfg;
        const struct cb_job_kind *kind = cb_job_kind_find(row->kind, cfg->workers.debug_kinds);

        *kindp = kind;
        if (kind == NULL) /* cannot happen: we only claim kinds we know */
                return false;
        if (row->attempts > cfg->workers.max_attempts) {
                /* Its workers kept dying (lease expiry): stop feeding it to new ones. */
                struct cb_job job = {.row = row, .env = w->jobs->env};
                snprintf(job.error, sizeof(job.error), "lease expired %d times", row->attempts - 1);
                settle_failure(w, kind, &job, CB_RESULT_FAIL, 0);
                return false;
        }
        cb_debug("job %" PRId64 " (%s) attempt %d", row->id, row->kind, row->attempts);
        hold(w, row->id);
        return true;
}

/* Record what job `job` (run) answered; true when it succeeded (its "done" is recorded with
 * the batch, it stays held until then). */
static bool finish_one(struct worker *w, const struct cb_job_kind *kind, struct cb_job *job,
                       enum cb_result r, int64_t hint)
{
        if (r == CB_RESULT_OK)
                return true;
        if (job->error[0] == '\0')
                snprintf(job->error, sizeof(job->error), "%s failed without a reason",
                         job->row->kind);
        settle_failure(w, kind, job, r, hint);
        let_go(w, job->row->id);
        return false;
}

/* Run one claimed job; true when it succeeded. */
static bool run_one(struct worker *w, struct cb_job_row *row, const struct cb_job_kind **kindp)
{
        struct cb_job job = {.row = row, .env = w->jobs->env};
        enum cb_result r;

        if (!start_one(w, row, kindp))
                return false;
        (void)cb_wait_hint_take(); /* forget a hint nobody took */
        r = (*kindp)->run(&job);
        /* Tests of idempotency: every job runs twice; the second run's outcome counts. */
        if (w->jobs->env->cfg->workers.debug_run_twice && r == CB_RESULT_OK)
                r = (*kindp)->run(&job);
        return finish_one(w, *kindp, &job, r, cb_wait_hint_take());
}

/* Run together the jobs of every CRM kind among rows[i..n) not run yet (`ran` marks them),
 * through crm_batch.c; the successes go to done_ids/done_kinds. */
static void run_group(struct worker *w, struct cb_job_row *rows, int i, int n, bool *ran,
                      int64_t *done_ids, const struct cb_job_kind **done_kinds, size_t *ndone)
{
        struct cb_job jobs[CLAIM_BATCH];
        const struct cb_job_kind *kinds[CLAIM_BATCH];
        enum cb_result res[CLAIM_BATCH];
        size_t m = 0;

        for (int k = i; k < n; k++) {
                const struct cb_job_kind *kk =
                    cb_job_kind_find(rows[k].kind, w->jobs->env->cfg->workers.debug_kinds);
                if (ran[k] || kk == NULL || kk->crm_prepare == NULL)
                        continue;
                ran[k] = true;
                if (!start_one(w, &rows[k], &kk))
                        continue;
                jobs[m] = (struct cb_job){.row = &rows[k], .env = w->jobs->env};
                kinds[m] = kk;
                res[m++] = CB_RESULT_RETRY;
        }
        (void)cb_wait_hint_take();
        cb_job_crm_run(jobs, kinds, m, res);
        if (w->jobs->env->cfg->workers.debug_run_twice) {
                /* Tests of idempotency: the successes run again, together. */
                struct cb_job again[CLAIM_BATCH];
                const struct cb_job_kind *again_kinds[CLAIM_BATCH];
                enum cb_result res2[CLAIM_BATCH];
                size_t a = 0, pos[CLAIM_BATCH];
                for (size_t k = 0; k < m; k++)
                        if (res[k] == CB_RESULT_OK) {
                                pos[a] = k;
                                again_kinds[a] = kinds[k];
                                again[a++] = jobs[k];
                        }
                cb_job_crm_run(again, again_kinds, a, res2);
                for (size_t k = 0; k < a; k++) {
                        jobs[pos[k]] = again[k];
                        res[pos[k]] = res2[k];
                }
        }
        for (size_t k = 0; k < m; k++)
                if (finish_one(w, kinds[k], &jobs[k], res[k], 0)) {
                        done_ids[*ndone] = jobs[k].row->id;
                        done_kinds[(*ndone)++] = kinds[k];
                }
}

/* Run a claimed batch in order; the jobs of the CRM kinds run together when the first of them
 * comes. Jobs not started within BATCH_RUN_US (or when stopping) are given back
 * for other workers; successes are recorded in one statement. */
static void run_batch(struct worker *w, struct cb_job_row *rows, int n)
{
        int64_t deadline = cb_mono_us() + BATCH_RUN_US;
        int64_t done_ids[CLAIM_BATCH];
        const struct cb_job_kind *done_kinds[CLAIM_BATCH];
        bool ran[CLAIM_BATCH] = {false};
        size_t ndone = 0;
        struct cb_db *db = NULL;
        bool unstarted = false;

        /* On SIGTERM the job in hand finishes; the rest go back to the queue. */
        for (int i = 0; i < n && cb_mono_us() < deadline && !atomic_load(&w->jobs->stopping); i++) {
                const struct cb_job_kind *kind =
                    cb_job_kind_find(rows[i].kind, w->jobs->env->cfg->workers.debug_kinds);
                if (ran[i])
                        continue;
                if (kind != NULL && kind->crm_prepare != NULL) {
                        run_group(w, rows, i, n, ran, done_ids, done_kinds, &ndone);
                        continue;
                }
                ran[i] = true;
                if (run_one(w, &rows[i], &kind)) {
                        done_ids[ndone] = rows[i].id;
                        done_kinds[ndone++] = kind;
                }
        }
        for (int i = 0; i < n; i++)
                unstarted |= !ran[i];
        if (!unstarted && ndone == 0)
                return;
        db = cb_db_acquire(w->jobs->env->pool, 5000);
        for (int i = 0; db != NULL && i < n; i++)
                if (!ran[i] && cb_store_job_release(db, &rows[i], w->id) < 0)
                        cb_debug("job %" PRId64 " not handed back; its lease will run out",
                                 rows[i].id);
        if (db != NULL && ndone > 0 && cb_store_jobs_done(db, done_ids, ndone, w->id) >= 0)
                for (size_t k = 0; k < ndone; k++)
                        atomic_fetch_add(&outcomes[kind_index(done_kinds[k])][OUT_DONE], 1);
        else if (ndone > 0)
                cb_warn("%zu finished jobs not recorded; they will run again", ndone);
        cb_db_release(&db);
        /* Recorded or not, nothing of this batch is renewed any more: a job whose outcome
         * was lost runs again once its lease runs out. */
        let_go(w, 0);
}

/* True when some of rows[0..n) are of a CRM kind (crm_batch.c). */
static bool has_batch_kind(const struct cb_jobs *jobs, const struct cb_job_row *rows, int n)
{
        for (int i = 0; i < n; i++) {
                const struct cb_job_kind *k =
                    cb_job_kind_find(rows[i].kind, jobs->env->cfg->workers.debug_kinds);
                if (k != NULL && k->crm_prepare != NULL)
                        return true;
        }
        return false;
}

/* One worker at a time holds the batch jobs it claimed for [crm] batch_delay_ms (other workers
 * leave batch kinds alone meanwhile), then claims those that came since, so that they go to
 * the CRM together. Returns the number of rows now claimed. */
static int gather(struct worker *w, struct cb_job_row *rows, int n)
{
        struct cb_jobs *jobs = w->jobs;
        const struct cb_config *cfg = jobs->env->cfg;
        struct timespec deadline;
        struct cb_db *db;
        enum cb_qs qs = CB_QS_NO_RESULTS;

        if (cfg->crm.batch_delay_ms <= 0 || n >= cfg->workers.batch ||
            !has_batch_kind(jobs, rows, n) || atomic_exchange(&jobs->gathering, true))
                return n;
        cb_deadline_after_ms(cfg->crm.batch_delay_ms, &deadline);
        pthread_mutex_lock(&jobs->lock);
        while (!atomic_load(&jobs->stopping))
                if (pthread_cond_timedwait(&jobs->wake, &jobs->lock, &deadline) == ETIMEDOUT)
                        break;
        pthread_mutex_unlock(&jobs->lock);
        db = cb_db_acquire(jobs->env->pool, 1000);
        if (db != NULL)
                qs = cb_store_jobs_claim(db, w->id, jobs->kinds_batch, (int)cfg->workers.lease_s,
                                         rows + n, (int)cfg->workers.batch - n);
        cb_db_release(&db);
        atomic_store(&jobs->gathering, false);
        return qs > 0 ? n + (int)qs : n;
}

static void *worker_main(void *arg)
{
        struct worker *w = arg;
        struct cb_jobs *jobs = w->jobs;
        const struct cb_config *cfg = jobs->env->cfg;
        struct cb_job_row rows[CLAIM_BATCH];

        while (!atomic_load(&jobs->stopping)) {
                enum cb_qs qs = CB_QS_HARD_ERROR;
                uint64_t seen;
                struct cb_db *db;
                int n;
                const char *kinds = atomic_load(&jobs->gathering) ? jobs->kinds_plain : jobs->kinds;

                if (yield_to_intake(w))
                        continue;
                pthread_mutex_lock(&jobs->lock);
                seen = jobs->generation;
                pthread_mutex_unlock(&jobs->lock);
                db = cb_db_acquire(jobs->env->pool, 1000);
                if (db != NULL) {
                        qs = cb_store_jobs_claim(db, w->id, kinds, (int)cfg->workers.lease_s, rows,
                                                 (int)cfg->workers.batch);
                        cb_db_release(&db);
                }
                if (qs <= 0) {
                        wait_for_work(jobs, seen, cfg->workers.poll_ms);
                        continue;
                }
                n = gather(w, rows, (int)qs);
                run_batch(w, rows, n);
                for (int i = 0; i < n; i++)
                        cb_job_row_clear(&rows[i]);
        }
        return NULL;
}

/* The text[] literal of the kinds this instance runs into `out`: all (batch < 0), those
 * not of a CRM kind (0) or those of one (1). */
static void kinds_literal(const struct cb_jobs *jobs, int batch, char *out, size_t size)
{
        size_t len = 1;

        out[0] = '{';
        for (size_t i = 0; i < cb_job_kinds_count; i++) {
                const struct cb_job_kind *k = &cb_job_kinds[i];
                if ((k->debug && !jobs->env->cfg->workers.debug_kinds) ||
                    (batch >= 0 && (k->crm_prepare != NULL) != (batch == 1)))
                        continue;
                len += (size_t)snprintf(out + len, size - len, "%s%s", len > 1 ? "," : "", k->name);
        }
        snprintf(out + len, size - len, "}");
}

static void build_kinds(struct cb_jobs *jobs)
{
        kinds_literal(jobs, -1, jobs->kinds, sizeof(jobs->kinds));
        kinds_literal(jobs, 0, jobs->kinds_plain, sizeof(jobs->kinds_plain));
        kinds_literal(jobs, 1, jobs->kinds_batch, sizeof(jobs->kinds_batch));
}

static void free_jobs(struct cb_jobs *jobs)
{
        if (jobs->efd >= 0)
                close(jobs->efd);
        pthread_mutex_destroy(&jobs->lock);
        pthread_mutex_destroy(&jobs->held_lock);
        pthread_cond_destroy(&jobs->wake);
        free(jobs->workers);
        free(jobs);
}

struct cb_jobs *cb_jobs_start(struct cb_job_env *env)
{
        struct cb_jobs *jobs = calloc(1, sizeof(*jobs));
        char host[64] = "host";
        unsigned char nonce[4];
        char nonce_hex[9];

        if (jobs == NULL)
                return NULL;
        jobs->env = env;
        env->jobs = jobs; /* kinds that queue jobs wake the workers through it */
        jobs->nworkers = env->cfg->workers.threads;
        jobs->workers = calloc((size_t)jobs->nworkers, sizeof(*jobs->workers));
        jobs->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        pthread_mutex_init(&jobs->lock, NULL);
        pthread_mutex_init(&jobs->held_lock, NULL);
        pthread_cond_init(&jobs->wake, NULL);
        if (jobs->workers == NULL || jobs->efd < 0) {
                free_jobs(jobs);
                return NULL;
        }
        build_kinds(jobs);
        gethostname(host, sizeof(host) - 1);
        cb_random(nonce, sizeof(nonce));
        cb_hex(nonce, sizeof(nonce), nonce_hex);
        snprintf(jobs->owner, sizeof(jobs->owner), "%s:%d:%s:", host, (int)getpid(), nonce_hex);
        if (pthread_create(&jobs->listener, NULL, cb_jobs_listener_main, jobs) != 0)
                goto fail;
        jobs->listener_started = true;
        for (long i = 0; i < jobs->nworkers; i++) {
                struct worker *w = &jobs->workers[i];
                w->jobs = jobs;
                snprintf(w->id, sizeof(w->id), "%s%ld", jobs->owner, i);
                if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
                        goto fail;
                w->started = true;
        }
        cb_info("%ld job workers running kinds %s", jobs->nworkers, jobs->kinds);
        return jobs;
fail:
        cb_error("cannot start job worker threads");
        cb_jobs_stop(&jobs, 0);
        return NULL;
}

bool cb_jobs_stop(struct cb_jobs **jobsp, long drain_s)
{
        struct cb_jobs *jobs = *jobsp;
        struct timespec deadline;
        bool all = true;

        if (jobs == NULL)
                return true;
        atomic_store(&jobs->stopping, true);
        cb_jobs_wake_local(jobs);
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += drain_s;
        for (long i = 0; i < jobs->nworkers; i++) {
                if (!jobs->workers[i].started)
                        continue;
                if (pthread_timedjoin_np(jobs->workers[i].thread, NULL, &deadline) != 0) {
                        all = false;
                        cb_warn("worker %ld still running a job at the drain deadline", i);
                }
        }
        if (jobs->listener_started)
                pthread_join(jobs->listener, NULL);
        *jobsp = NULL;
        if (!all)
                return false; /* threads still use `jobs`: leak it rather than free under them */
        free_jobs(jobs);
        return true;
}

void cb_jobs_metrics_write(struct cb_buf *out)
{
        cb_buf_puts(out, "# HELP callbridge_job_outcomes_total Jobs finished, by outcome.\n"
                         "# TYPE callbridge_job_outcomes_total counter\n");
        for (size_t k = 0; k < cb_job_kinds_count && k < MAX_KINDS - 1; k++)
                for (int o = 0; o < OUT_COUNT; o++)
                        cb_buf_printf(out,
                                      "callbridge_job_outcomes_total{kind=\"%s\",outcome=\"%s\"}"
                                      " %lu\n",
                                      cb_job_kinds[k].name, outcome_names[o],
                                      atomic_load(&outcomes[k][o]));
}
