/* Query family: storage intents — the keys of blobs about to be written, so that a blob whose
 * row never committed can be found and removed (the retention sweep, src/jobs/retention.c). */
#include <stdio.h>

#include "callbridge/store_recordings.h"

static struct cb_stmt stmt_note =
    CB_STMT("storage_intent_note", "INSERT INTO storage_intents (key) VALUES ($1)"
                                   " ON CONFLICT (key) DO UPDATE SET created_at = now()");

enum cb_qs cb_store_storage_intent_note(struct cb_db *db, const char *key)
{
        const char *p[1] = {key};
        enum cb_qs qs = cb_db_exec_cmd(db, &stmt_note, 1, p);

        return qs < 0 ? qs : CB_QS_ONE_RESULT;
}

/* Every column that names a storage key: recordings.storage_key, transcripts.storage_key
 * (retention_log only remembers keys already removed). */
static struct cb_stmt stmt_due =
    CB_STMT("storage_intents_due",
            "SELECT i.key, (EXISTS (SELECT 1 FROM recordings r WHERE r.storage_key = i.key)"
            "  OR EXISTS (SELECT 1 FROM transcripts t WHERE t.storage_key = i.key))"
            " FROM storage_intents i"
            " WHERE i.created_at < now() - make_interval(secs => $1::double precision)"
            " ORDER BY i.created_at LIMIT $2::integer");

enum cb_qs cb_store_storage_intents_due(struct cb_db *db, long grace_s, int limit, json_t **rows)
{
        char grace[24], lim[16];
        const char *p[2] = {grace, lim};
        enum cb_qs qs;
        PGresult *res;

        snprintf(grace, sizeof(grace), "%ld", grace_s);
        snprintf(lim, sizeof(lim), "%d", limit);
        *rows = NULL;
        res = cb_db_exec(db, &stmt_due, 2, p, &qs);
        if (res == NULL || qs < 0) {
                PQclear(res);
                return qs < 0 ? qs : CB_QS_HARD_ERROR;
        }
        *rows = json_array();
        for (int i = 0; *rows != NULL && i < PQntuples(res); i++)
                json_array_append_new(*rows, json_pack("[sb]", PQgetvalue(res, i, 0),
                                                       PQgetvalue(res, i, 1)[0] == 't'));
        PQclear(res);
        return *rows == NULL ? CB_QS_HARD_ERROR : qs;
}

/* The same question for one key, its intent row locked until the transaction ends: a writer
 * noting the key again waits, and one that noted it since is no longer due. */
static struct cb_stmt stmt_claim = CB_STMT(
    "storage_intent_claim",
    "SELECT (EXISTS (SELECT 1 FROM recordings r WHERE r.storage_key = i.key)"
    "  OR EXISTS (SELECT 1 FROM transcripts t WHERE t.storage_key = i.key))"
    " FROM storage_intents i"
    " WHERE i.key = $1 AND i.created_at < now() - make_interval(secs => $2::double precision)"
    " FOR UPDATE OF i");

enum cb_qs cb_store_storage_intent_claim(struct cb_db *db, const char *key, long grace_s,
                                         bool *referenced)
{
        char grace[24];
        const char *p[2] = {key, grace};
        enum cb_qs qs;
        PGresult *res;

        snprintf(grace, sizeof(grace), "%ld", grace_s);
        res = cb_db_exec(db, &stmt_claim, 2, p, &qs);
        *referenced = res != NULL && qs > 0 && PQgetvalue(res, 0, 0)[0] == 't';
        PQclear(res);
        return qs;
}

static struct cb_stmt stmt_forget =
    CB_STMT("storage_intent_forget", "DELETE FROM storage_intents WHERE key = $1");

enum cb_qs cb_store_storage_intent_forget(struct cb_db *db, const char *key)
{
        const char *p[1] = {key};
        return cb_db_exec_cmd(db, &stmt_forget, 1, p);
}
