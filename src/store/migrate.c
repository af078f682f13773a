/* Numbered migrations: each applied once, in order, in its own transaction. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "callbridge/db.h"
#include "callbridge/log.h"
#include "callbridge/util.h"
#include "migrations.h"

/* pg_advisory_lock key: "cbmg" — held while migrating so instances never race. */
#define MIGRATE_LOCK "1667394919"

static struct cb_stmt stmt_applied =
    CB_STMT("schema_applied", "SELECT COALESCE(max(version), 0) FROM schema_migrations");
static struct cb_stmt stmt_record =
    CB_STMT("schema_record", "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)");

int cb_db_schema_latest(void)
{
        return cb_migrations_count ? cb_migrations[cb_migrations_count - 1].version : 0;
}

int cb_db_schema_applied(struct cb_db *db)
{
        enum cb_qs qs;
        PGresult *res;
        long v = -1;

        res = cb_db_exec(db, &stmt_applied, 0, NULL, &qs);
        if (res == NULL || qs != 1 || !cb_parse_long(PQgetvalue(res, 0, 0), 0, INT_MAX, &v))
                v = -1;
        PQclear(res);
        return (int)v;
}

/* One migration's SQL and its schema_migrations row, inside cb_db_transaction. */
static enum cb_qs apply_sql(struct cb_db *db, void *arg)
{
        const struct cb_migration *m = arg;
        char version[16];
        const char *params[2] = {version, m->name};
        PGresult *res = PQexec(cb_db_conn(db), m->sql);
        enum cb_qs qs = CB_QS_HARD_ERROR;

        snprintf(version, sizeof(version), "%d", m->version);
        if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
                cb_error("migration %s failed: %s", m->name, PQresultErrorMessage(res));
        else if (cb_db_exec_cmd(db, &stmt_record, 2, params) == 1)
                qs = CB_QS_ONE_RESULT;
        PQclear(res);
        return qs;
}

/* Apply one migration in its own transaction; 0, or -1 (logged, rolled back). */
static int apply_one(struct cb_db *db, const struct cb_migration *m)
{
        if (cb_db_transaction(db, m->name, apply_sql, (void *)m) < 0)
                return -1;
        cb_info("applied migration %s", m->name);
        return 0;
}

int cb_db_migrate(struct cb_db *db)
{
        int applied;
        int rc = -1;

        if (cb_db_exec_simple(db, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")") < 0)
                return -1;
        if (cb_db_exec_simple(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                  " version integer PRIMARY KEY, name text NOT NULL,"
                                  " applied_at timestamptz NOT NULL DEFAULT now())") < 0)
                goto out;
        applied = cb_db_schema_applied(db);
        if (applied < 0)
                goto out;
        if (applied > cb_db_schema_latest())
                cb_warn("database schema %d is newer than this binary's %d", applied,
                        cb_db_schema_latest());
        for (size_t i = 0; i < cb_migrations_count; i++) {
                if (cb_migrations[i].version <= applied)
                        continue;
                if (apply_one(db, &cb_migrations[i]) != 0)
                        goto out;
        }
        rc = 0;
out:
        cb_db_exec_simple(db, "SELECT pg_advisory_unlock(" MIGRATE_LOCK ")");
        return rc;
}
