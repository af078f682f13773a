/* The worker pool's LISTEN thread: one connection that LISTENs (waking workers on other
 * instances' NOTIFY) and sends this instance's coalesced NOTIFY; it also renews the leases of
 * the jobs workers hold in hand and queues the periodic jobs when due. */
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "callbridge/log.h"
#include "callbridge/store_jobs.h"
#include "workers_int.h"

static PGconn *listen_connect(const char *url)
{
        const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
        const char *vals[] = {url, "3", "callbridge-listen", NULL};
        PGconn *conn = PQconnectdbParams(keys, vals, 1);
        PGresult *res;

        if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
                PQfinish(conn);
                return NULL;
        }
        res = PQexec(conn, "LISTEN " CHANNEL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                PQclear(res);
                PQfinish(conn);
                return NULL;
        }
        PQclear(res);
        return conn;
}

/* Keep the leases of the jobs in hand alive; if the process dies, or a worker lets go of a
 * job whose outcome it could not record, they expire and other workers take the jobs over. */
static void heartbeat(struct cb_jobs *jobs)
{
        int64_t *ids = malloc((size_t)jobs->nworkers * CLAIM_BATCH * sizeof(*ids));
        size_t n = 0;
        struct cb_db *db = NULL;

        if (ids == NULL)
                return; /* the next beat tries again; leases are 3 beats long */
        pthread_mutex_lock(&jobs->held_lock);
        for (long i = 0; i < jobs->nworkers; i++)
                for (int k = 0; k < jobs->workers[i].nheld; k++)
                        ids[n++] = jobs->workers[i].held[k];
        pthread_mutex_unlock(&jobs->held_lock);
        if (n > 0 && (db = cb_db_acquire(jobs->env->pool, 200)) != NULL &&
            cb_store_jobs_extend(db, jobs->owner, ids, n, (int)jobs->env->cfg->workers.lease_s) < 0)
                cb_warn("lease heartbeat failed: %zu running jobs may run again elsewhere", n);
        cb_db_release(&db);
        free(ids);
}

/* Queue a periodic job that is due (the retention sweep, the telephony reconciler), unless one
 * is waiting already.
 * Several instances may queue one each at the same moment: the sweep itself runs one at a
 * time (an advisory lock), so a second one finds nothing to do. */
static void schedule(struct cb_jobs *jobs, const char *kind)
{
        struct cb_db *db = cb_db_acquire(jobs->env->pool, 200);

        if (db == NULL)
                return;
        if (cb_store_job_queue_unless_waiting(db, kind) > 0)
                cb_jobs_wake(jobs);
        cb_db_release(&db);
}

/* One connection that LISTENs (waking workers on other instances' NOTIFY) and sends this
 * instance's coalesced NOTIFY. Reconnects on failure; the poll fallback covers gaps. */
void *cb_jobs_listener_main(void *arg)
{
        struct cb_jobs *jobs = arg;
        PGconn *conn = NULL;
        int64_t last_notify = 0;
        int64_t last_beat = 0;
        int64_t last_schedule = cb_mono_us(), last_reconcile = last_schedule;
        int64_t beat_us = jobs->env->cfg->workers.lease_s * 1000000 / 3;

        while (!atomic_load(&jobs->stopping)) {
                struct pollfd fds[2] = {{.fd = jobs->efd, .events = POLLIN}, {.fd = -1}};
                PGnotify *n;
                int timeout = beat_us / 1000 < 500 ? (int)(beat_us / 1000) : 500;

                if (cb_mono_us() - last_beat >= beat_us) {
                        heartbeat(jobs);
                        last_beat = cb_mono_us();
                }
                if (cb_mono_us() - last_schedule >=
                    jobs->env->cfg->retention.sweep_interval_s * 1000000) {
                        schedule(jobs, CB_JOB_RETENTION);
                        last_schedule = cb_mono_us();
                }
                if (jobs->env->cfg->twilio.enabled &&
                    cb_mono_us() - last_reconcile >=
                        jobs->env->cfg->twilio.reconcile_interval_s * 1000000) {
                        schedule(jobs, CB_JOB_TEL_RECONCILE);
                        last_reconcile = cb_mono_us();
                }
                if (conn == NULL) {
                        conn = listen_connect(jobs->env->cfg->database.url);
                        if (conn == NULL) {
                                poll(fds, 1, 1000);
                                continue;
                        }
                        cb_jobs_wake_local(jobs); /* we may have missed NOTIFYs while away */
                }
                if (atomic_load(&jobs->notify_pending)) {
                        int64_t gap = cb_mono_us() - last_notify;
                        if (gap >= NOTIFY_MIN_GAP_US) {
                                uint64_t drain;
                                ssize_t r = read(jobs->efd, &drain, sizeof(drain));
                                (void)r;
                                atomic_store(&jobs->notify_pending, false);
                                PQclear(PQexec(conn, "NOTIFY " CHANNEL));
                                last_notify = cb_mono_us();
                        } else {
                                timeout = (int)((NOTIFY_MIN_GAP_US - gap) / 1000) + 1;
                                fds[0].fd = -1; /* do not spin on the readable eventfd */
                        }
                }
                fds[1].fd = PQsocket(conn);
                fds[1].events = POLLIN;
                poll(fds, 2, timeout);
                if (!PQconsumeInput(conn) || PQstatus(conn) != CONNECTION_OK) {
                        cb_warn("LISTEN connection lost; polling until it is back");
                        PQfinish(conn);
                        conn = NULL;
                        continue;
                }
                while ((n = PQnotifies(conn)) != NULL) {
                        if (n->be_pid != PQbackendPID(conn))
                                cb_jobs_wake_local(jobs);
                        PQfreemem(n);
                }
        }
        PQfinish(conn);
        return NULL;
}
