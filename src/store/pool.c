/* The PostgreSQL connection pool and statement execution. */
#include "callbridge/db.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbridge/log.h"
#include "callbridge/util.h"

#define MAX_STMTS 256

struct cb_db {
        struct cb_db_pool *pool;
        PGconn *conn;
        bool leased;
        unsigned char prepared[MAX_STMTS];
};

struct cb_db_pool {
        pthread_mutex_t lock;
        pthread_cond_t freed;
        struct cb_db *slots;
        int size;
        char *url;
        char connect_timeout[16];
        char options[64];
        atomic_bool outage_logged;
};

static atomic_int stmt_counter;

struct cb_db_pool *cb_db_pool_create(const char *url, int size, int connect_timeout_s,
                                     int statement_timeout_ms)
{
        struct cb_db_pool *pool = calloc(1, sizeof(*pool));

        if (pool == NULL)
                return NULL;
        pool->slots = calloc((size_t)size, sizeof(*pool->slots));
        pool->url = strdup(url);
        if (pool->slots == NULL || pool->url == NULL) {
                free(pool->slots);
                free(pool->url);
                free(pool);
                return NULL;
        }
        pool->size = size;
        for (int i = 0; i < size; i++)
                pool->slots[i].pool = pool;
        snprintf(pool->connect_timeout, sizeof(pool->connect_timeout), "%d", connect_timeout_s);
        snprintf(pool->options, sizeof(pool->options), "-c statement_timeout=%d -c TimeZone=UTC",
                 statement_timeout_ms);
        pthread_mutex_init(&pool->lock, NULL);
        pthread_cond_init(&pool->freed, NULL);
        return pool;
}

void cb_db_pool_destroy(struct cb_db_pool **poolp)
{
        struct cb_db_pool *pool = *poolp;

        if (pool == NULL)
                return;
        for (int i = 0; i < pool->size; i++)
                if (pool->slots[i].conn != NULL)
                        PQfinish(pool->slots[i].conn);
        pthread_mutex_destroy(&pool->lock);
        pthread_cond_destroy(&pool->freed);
        free(pool->slots);
        free(pool->url);
        free(pool);
        *poolp = NULL;
}

static void notice_ignore(void *arg, const char *message)
{
        (void)arg;
        (void)message;
}

/* (Re)connect a slot. Returns false (slot left without a connection) when unreachable. */
static bool connect_slot(struct cb_db *db)
{
        struct cb_db_pool *pool = db->pool;
        const char *keys[] = {"dbname", "connect_timeout", "options", "application_name", NULL};
        const char *vals[] = {pool->url, pool->connect_timeout, pool->options, "callbridge", NULL};

        if (db->conn != NULL)
                PQfinish(db->conn);
        memset(db->prepared, 0, sizeof(db->prepared));
        db->conn = PQconnectdbParams(keys, vals, 1);
        if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK) {
                PQsetNoticeProcessor(db->conn, notice_ignore, NULL);
                if (atomic_exchange(&pool->outage_logged, false))
                        cb_info("PostgreSQL reachable again");
                return true;
        }
        if (!atomic_exchange(&pool->outage_logged, true))
                cb_warn("PostgreSQL unreachable: %s",
                        db->conn ? PQerrorMessage(db->conn) : "out of memory");
        if (db->conn != NULL)
                PQfinish(db->conn);
        db->conn = NULL;
        return false;
}

struct cb_db *cb_db_acquire(struct cb_db_pool *pool, int wait_ms)
{
        struct cb_db *db = NULL;
        struct timespec deadline;

        if (pool == NULL)
                return NULL; /* no database (the fuzz harness): as if unreachable */
        cb_deadline_after_ms(wait_ms, &deadline);
        pthread_mutex_lock(&pool->lock);
        for (;;) {
                /* Prefer a slot that is already connected. */
                for (int i = 0; i < pool->size && db == NULL; i++)
                        if (!pool->slots[i].leased && pool->slots[i].conn != NULL)
                                db = &pool->slots[i];
                for (int i = 0; i < pool->size && db == NULL; i++)
                        if (!pool->slots[i].leased)
                                db = &pool->slots[i];
                if (db != NULL)
                        break;
                if (pthread_cond_timedwait(&pool->freed, &pool->lock, &deadline) != 0)
                        break;
        }
        if (db != NULL)
                db->leased = true;
        pthread_mutex_unlock(&pool->lock);
        if (db == NULL) {
                cb_warn("no free PostgreSQL connection within %d ms", wait_ms);
                return NULL;
        }
        if ((db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) && !connect_slot(db)) {
                cb_db_release(&db);
                return NULL;
        }
        return db;
}

void cb_db_release(struct cb_db **dbp)
{
        struct cb_db *db = *dbp;
        struct cb_db_pool *pool;

        if (db == NULL)
                return;
        pool = db->pool;
        if (db->conn != NULL && cb_db_in_transaction(db)) {
                cb_error("connection returned inside a transaction; rolling back");
                PGresult *r = PQexec(db->conn, "ROLLBACK");
                PQclear(r);
        }
        pthread_mutex_lock(&pool->lock);
        db->leased = false;
        pthread_cond_signal(&pool->freed);
        pthread_mutex_unlock(&pool->lock);
        *dbp = NULL;
}

PGconn *cb_db_conn(struct cb_db *db)
{
        return db->conn;
}

bool cb_db_in_transaction(struct cb_db *db)
{
        PGTransactionStatusType st = PQtransactionStatus(db->conn);
        return st == PQTRANS_INTRANS || st == PQTRANS_INERROR || st == PQTRANS_ACTIVE;
}

static enum cb_qs classify(PGresult *res, const char *what)
{
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

        if (state != NULL && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)) {
                cb_debug("%s: retryable conflict %s", what, state);
                return CB_QS_SOFT_ERROR;
        }
        cb_warn("%s failed: %s", what, res ? PQresultErrorMessage(res) : "no result");
        return CB_QS_HARD_ERROR;
}

static int stmt_index(struct cb_stmt *stmt)
{
        int idx = __atomic_load_n(&stmt->index, __ATOMIC_ACQUIRE);
        int fresh;
        int expected = 0;

        if (idx != 0)
                return idx;
        fresh = atomic_fetch_add(&stmt_counter, 1) + 1;
        if (fresh >= MAX_STMTS)
                abort(); /* a programming error: raise MAX_STMTS */
        if (__atomic_compare_exchange_n(&stmt->index, &expected, fresh, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
                return fresh;
        return expected;
}

static PGresult *exec_once(struct cb_db *db, struct cb_stmt *stmt, int nparams,
                           const char *const *params, enum cb_qs *qs)
{
        int idx = stmt_index(stmt);
        PGresult *res;
        ExecStatusType st;

        if (!db->prepared[idx]) {
                res = PQprepare(db->conn, stmt->name, stmt->sql, 0, NULL);
                if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                        *qs = classify(res, stmt->name);
                        PQclear(res);
                        return NULL;
                }
                PQclear(res);
                db->prepared[idx] = 1;
        }
        res = PQexecPrepared(db->conn, stmt->name, nparams, params, NULL, NULL, 0);
        st = PQresultStatus(res);
        if (st == PGRES_TUPLES_OK) {
                *qs = PQntuples(res);
                return res;
        }
        if (st == PGRES_COMMAND_OK) {
                long n = 0;
                if (!cb_parse_long(PQcmdTuples(res), 0, 1L << 30, &n))
                        n = 0;
                *qs = (enum cb_qs)n;
                return res;
        }
        *qs = classify(res, stmt->name);
        PQclear(res);
        return NULL;
}

PGresult *cb_db_exec(struct cb_db *db, struct cb_stmt *stmt, int nparams, const char *const *params,
                     enum cb_qs *qs)
{
        bool idle = PQtransactionStatus(db->conn) == PQTRANS_IDLE;
        PGresult *res = exec_once(db, stmt, nparams, params, qs);

        /* A connection broken by a server restart fails once; outside a transaction the
         * statement is safe to send again on a fresh connection. */
        if (res == NULL && idle && PQstatus(db->conn) == CONNECTION_BAD && connect_slot(db))
                res = exec_once(db, stmt, nparams, params, qs);
        return res;
}

enum cb_qs cb_db_exec_cmd(struct cb_db *db, struct cb_stmt *stmt, int nparams,
                          const char *const *params)
{
        enum cb_qs qs;
        PGresult *res = cb_db_exec(db, stmt, nparams, params, &qs);

        PQclear(res);
        return qs;
}

enum cb_qs cb_db_exec_simple(struct cb_db *db, const char *sql)
{
        PGresult *res = PQexec(db->conn, sql);
        enum cb_qs qs = CB_QS_NO_RESULTS;

        if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
                qs = classify(res, sql);
        PQclear(res);
        return qs;
}

enum cb_qs cb_db_transaction(struct cb_db *db, const char *name,
                             enum cb_qs (*fn)(struct cb_db *db, void *arg), void *arg)
{
        enum cb_qs qs = CB_QS_HARD_ERROR;

        for (int attempt = 0; attempt < 3; attempt++) {
                qs = cb_db_exec_simple(db, "BEGIN");
                if (qs < 0)
                        return qs;
                qs = fn(db, arg);
                if (qs >= 0) {
                        enum cb_qs c = cb_db_exec_simple(db, "COMMIT");
                        if (c >= 0)
                                return qs;
                        qs = c;
                } else {
                        cb_db_exec_simple(db, "ROLLBACK");
                }
                if (qs != CB_QS_SOFT_ERROR)
                        break;
                cb_debug("transaction %s: retrying after a serialization conflict", name);
        }
        if (db->conn != NULL && cb_db_in_transaction(db))
                cb_db_exec_simple(db, "ROLLBACK");
        return qs;
}
