/* Query family: API keys. Only SHA-256 hashes are stored. */
#include <string.h>

#include "callbridge/store.h"

static struct cb_stmt stmt_insert =
    CB_STMT("apikey_insert", "INSERT INTO api_keys (key_id, key_hash, agent, admin)"
                             " VALUES ($1, decode($2, 'hex'), $3, $4::boolean)");

enum cb_qs cb_store_apikey_insert(struct cb_db *db, const char *key_id, const char *hash_hex,
                                  const char *agent, bool admin)
{
        const char *params[4] = {key_id, hash_hex, agent, admin ? "true" : "false"};
        return cb_db_exec_cmd(db, &stmt_insert, 4, params);
}

static struct cb_stmt stmt_get =
    CB_STMT("apikey_get", "SELECT encode(key_hash, 'hex'), agent, admin FROM api_keys"
                          " WHERE key_id = $1 AND revoked_at IS NULL");

enum cb_qs cb_store_apikey_get(struct cb_db *db, const char *key_id, char hash_hex[65], char *agent,
                               size_t agent_size, bool *admin)
{
        const char *params[1] = {key_id};
        enum cb_qs qs;
        PGresult *res = cb_db_exec(db, &stmt_get, 1, params, &qs);

        if (res == NULL || qs != 1) {
                PQclear(res);
                return qs;
        }
        cb_strlcpy(hash_hex, PQgetvalue(res, 0, 0), 65);
        cb_strlcpy(agent, PQgetvalue(res, 0, 1), agent_size);
        *admin = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
        PQclear(res);
        return CB_QS_ONE_RESULT;
}
