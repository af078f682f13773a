/* `callbridge apikey list | revoke`: operators' view of the API keys. Keys are stored hashed,
 * so a listing shows ids, never secrets; a revocation is a row update that every running
 * instance picks up within a second (src/http/auth.c polls for recent revocations). */
#include "apikey.h"

#include <stdio.h>
#include <string.h>

#include "callbridge/config.h"
#include "callbridge/log.h"
#include "callbridge/store_agents.h"
#include "callbridge/util.h"

#define KEY_ID_HEX 16

bool cb_cli_db_open(const char *path, struct cb_config **cfg, struct cb_db_pool **pool,
                    struct cb_db **db)
{
        struct cb_config_errors errs = {0};

        *pool = NULL;
        *db = NULL;
        if (cb_config_load(path, cfg, &errs) != 0) {
                for (size_t i = 0; i < errs.count; i++)
                        fprintf(stderr, "callbridge: %s\n", errs.lines[i]);
        }
        cb_config_errors_free(&errs);
        if (*cfg == NULL)
                return false;
        cb_log_set_level((enum cb_log_level)cb_log_level_parse((*cfg)->log.level));
        *pool =
            cb_db_pool_create((*cfg)->database.url, 1, (int)(*cfg)->database.connect_timeout_s, 0);
        if (*pool != NULL)
                *db = cb_db_acquire(*pool, 1000);
        if (*db == NULL)
                fprintf(stderr, "callbridge: cannot connect to PostgreSQL ([database] url)\n");
        return *db != NULL;
}

void cb_cli_db_close(struct cb_config **cfg, struct cb_db_pool **pool, struct cb_db **db)
{
        cb_db_release(db);
        cb_db_pool_destroy(pool);
        cb_config_free(cfg);
}

static const char *or_dash(json_t *row, const char *field)
{
        const char *s = json_string_value(json_object_get(row, field));
        return s != NULL ? s : "-";
}

int cb_cli_apikey_list(const char *config_path, const char *agent)
{
        struct cb_config *cfg = NULL;
        struct cb_db_pool *pool = NULL;
        struct cb_db *db = NULL;
        json_t *rows = NULL;
        size_t i;
        json_t *row;
        int rc = 1;

        if (!cb_cli_db_open(config_path, &cfg, &pool, &db))
                goto out;
        if (cb_store_apikey_list(db, agent, &rows) < 0 || rows == NULL) {
                fprintf(stderr,
                        "callbridge: cannot list the keys (has `callbridge migrate` run?)\n");
                goto out;
        }
        printf("%-16s  %-24s  %-5s  %-20s  %-20s  %s\n", "KEY_ID", "AGENT", "ADMIN", "CREATED",
               "LAST_USED", "REVOKED");
        json_array_foreach(rows, i, row)
        {
                printf("%-16s  %-24s  %-5s  %-20s  %-20s  %s\n", or_dash(row, "key_id"),
                       or_dash(row, "agent"),
                       json_is_true(json_object_get(row, "admin")) ? "yes" : "no",
                       or_dash(row, "created_at"), or_dash(row, "last_used_at"),
                       or_dash(row, "revoked_at"));
        }
        rc = 0;
out:
        json_decref(rows);
        cb_cli_db_close(&cfg, &pool, &db);
        return rc;
}

/* "0123456789abcdef", "cbk_0123456789abcdef" or a whole key → the id; false otherwise. */
static bool key_id_of(const char *arg, char id[KEY_ID_HEX + 1])
{
        if (strncmp(arg, "cbk_", 4) == 0)
                arg += 4;
        if (strlen(arg) < KEY_ID_HEX || (arg[KEY_ID_HEX] != '\0' && arg[KEY_ID_HEX] != '_'))
                return false;
        for (size_t i = 0; i < KEY_ID_HEX; i++)
                if (strchr("0123456789abcdef", arg[i]) == NULL || arg[i] == '\0')
                        return false;
        memcpy(id, arg, KEY_ID_HEX);
        id[KEY_ID_HEX] = '\0';
        return true;
}

int cb_cli_apikey_revoke(const char *config_path, const char *key_arg)
{
        struct cb_config *cfg = NULL;
        struct cb_db_pool *pool = NULL;
        struct cb_db *db = NULL;
        char id[KEY_ID_HEX + 1];
        enum cb_qs qs;
        int rc = 1;

        if (key_arg == NULL || !key_id_of(key_arg, id)) {
                fprintf(stderr, "callbridge: apikey revoke needs a key id (16 hex characters, "
                                "as `callbridge apikey list` shows)\n");
                return 2;
        }
        if (!cb_cli_db_open(config_path, &cfg, &pool, &db))
                goto out;
        qs = cb_store_apikey_revoke(db, id);
        if (qs < 0)
                fprintf(stderr, "callbridge: cannot revoke the key (database error)\n");
        else if (qs == CB_QS_NO_RESULTS)
                fprintf(stderr, "callbridge: no live key %s (unknown or already revoked)\n", id);
        else
                rc = 0;
        if (rc == 0)
                printf("revoked %s\n", id);
out:
        cb_cli_db_close(&cfg, &pool, &db);
        return rc;
}
