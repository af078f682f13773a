/* PostgreSQL: a fixed pool of libpq connections, statements prepared on first use per
 * connection, a result enum that separates hard errors, retryable (soft) errors and row
 * counts, and a transaction runner that retries soft errors. */
#ifndef CALLBRIDGE_DB_H
#define CALLBRIDGE_DB_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "callbridge/util.h"

/* Outcome of one query or transaction (GNU Taler's shape). */
enum cb_qs {
        CB_QS_HARD_ERROR = -2, /* broken connection, constraint we did not expect, bad SQL */
        CB_QS_SOFT_ERROR = -1, /* serialization failure or deadlock: run the transaction again */
        CB_QS_NO_RESULTS = 0,
        CB_QS_ONE_RESULT = 1, /* or more: the row count */
};

/* A statement, defined once beside the code that uses it:
 *   static struct cb_stmt stmt = CB_STMT("call_get", "SELECT ... WHERE id = $1");
 * The pool assigns it an index and prepares it lazily on each connection. */
struct cb_stmt {
        const char *name;
        const char *sql;
        int index; /* assigned on first use; 0 = unassigned */
};
#define CB_STMT(n, s)                                                                              \
        {                                                                                          \
                .name = (n), .sql = (s), .index = 0                                                \
        }

struct cb_db_pool;
struct cb_db; /* one leased connection */

/* Create a pool of `size` connections to `url` (libpq URI or key=value string). Connections
 * are opened lazily, so this succeeds while PostgreSQL is down. NULL on out of memory. */
struct cb_db_pool *cb_db_pool_create(const char *url, int size, int connect_timeout_s,
                                     int statement_timeout_ms);
/* Close every connection; all leases must have been returned. Clears *pool. */
void cb_db_pool_destroy(struct cb_db_pool **pool);

/* Lease a connected connection, waiting up to `wait_ms` for a free one. NULL when none is
 * free in time or PostgreSQL cannot be reached (logged once per outage), or `pool` is NULL. */
struct cb_db *cb_db_acquire(struct cb_db_pool *pool, int wait_ms);
/* Return a lease; a connection left inside a transaction is rolled back (and that is logged
 * as a bug). Clears *db. NULL is fine. */
void cb_db_release(struct cb_db **db);
PGconn *cb_db_conn(struct cb_db *db);

/* Run a prepared statement with text parameters (NULL = SQL NULL). On success returns the
 * result (caller PQclear()s it) and sets *qs to the row count (or CB_QS_NO_RESULTS for
 * commands); on failure returns NULL with *qs HARD or SOFT, logged with the statement name. */
PGresult *cb_db_exec(struct cb_db *db, struct cb_stmt *stmt, int nparams, const char *const *params,
                     enum cb_qs *qs);
/* Like cb_db_exec for statements whose rows we do not need. */
CB_MUST_CHECK enum cb_qs cb_db_exec_cmd(struct cb_db *db, struct cb_stmt *stmt, int nparams,
                                        const char *const *params);
/* A plain SQL command (BEGIN, COMMIT, ...); returns HARD/SOFT/NO_RESULTS. Not CB_MUST_CHECK:
 * ROLLBACK and unlocks after a failure are best effort (the session ends them anyway). */
enum cb_qs cb_db_exec_simple(struct cb_db *db, const char *sql);

/* Run `fn` inside BEGIN/COMMIT, retrying up to 3 times on soft errors.
 * `fn` returns a qs; negative rolls back. The final qs is returned. */
CB_MUST_CHECK enum cb_qs cb_db_transaction(struct cb_db *db, const char *name,
                                           enum cb_qs (*fn)(struct cb_db *db, void *arg),
                                           void *arg);

/* True when the connection is inside a transaction block (used to assert after handlers). */
bool cb_db_in_transaction(struct cb_db *db);

/* Migrations (src/store/migrate.c). */
/* Apply every pending numbered migration, each in its own transaction, under an advisory
 * lock so concurrent instances do not race. Returns 0 or -1 (logged). */
int cb_db_migrate(struct cb_db *db);
/* The newest migration compiled into this binary, and the newest applied in the database
 * (0 when none, -1 on error). */
int cb_db_schema_latest(void);
int cb_db_schema_applied(struct cb_db *db);

#endif
