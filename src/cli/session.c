/* `callbridge session list | revoke`: operators' view of the console's browser sessions. The
 * cookies themselves are never stored (only their hashes), so a listing shows ids; a
 * revocation is a row update every running instance picks up within a second (the auth
 * watcher, src/http/session.c). */
#include "session.h"

#include <stdio.h>
#include <string.h>

#include "apikey.h" /* cb_cli_db_open */
#include "callbridge/config.h"
#include "callbridge/sessions.h"
#include "callbridge/util.h"

static const char *or_dash(json_t *row, const char *field)
{
        const char *s = json_string_value(json_object_get(row, field));
        return s != NULL ? s : "-";
}

int cb_cli_session_list(const char *config_path, const char *agent)
{
        struct cb_config *cfg = NULL;
        struct cb_db_pool *pool = NULL;
        struct cb_db *db = NULL;
        json_t *rows = NULL, *row;
        size_t i;
        int rc = 1;

        if (!cb_cli_db_open(config_path, &cfg, &pool, &db))
                goto out;
        if (cb_store_session_list(db, agent, &rows) < 0 || rows == NULL) {
                fprintf(stderr,
                        "callbridge: cannot list the sessions (has `callbridge migrate` run?)\n");
                goto out;
        }
        printf("%-36s  %-24s  %-10s  %-20s  %-20s  %-20s  %s\n", "ID", "AGENT", "HOW", "CREATED",
               "LAST_SEEN", "EXPIRES", "REVOKED");
        json_array_foreach(rows, i, row)
        {
                printf("%-36s  %-24s  %-10s  %-20s  %-20s  %-20s  %s\n", or_dash(row, "id"),
                       or_dash(row, "agent"), or_dash(row, "how"), or_dash(row, "created_at"),
                       or_dash(row, "last_seen_at"), or_dash(row, "expires_at"),
                       or_dash(row, "revoked_at"));
        }
        rc = 0;
out:
        json_decref(rows);
        cb_cli_db_close(&cfg, &pool, &db);
        return rc;
}

int cb_cli_session_revoke(const char *config_path, const char *id, const char *agent)
{
        struct cb_config *cfg = NULL;
        struct cb_db_pool *pool = NULL;
        struct cb_db *db = NULL;
        enum cb_qs qs;
        int rc = 1;

        if ((id == NULL) == (agent == NULL) || (id != NULL && !cb_uuid_valid(id))) {
                fprintf(stderr, "callbridge: session revoke needs a session id (as `callbridge "
                                "session list` shows) or --agent NAME\n");
                return 2;
        }
        if (!cb_cli_db_open(config_path, &cfg, &pool, &db))
                goto out;
        qs = cb_store_session_revoke(db, id, agent);
        if (qs < 0)
                fprintf(stderr, "callbridge: cannot revoke (database error)\n");
        else if (qs == CB_QS_NO_RESULTS)
                fprintf(stderr, "callbridge: no live session %s%s\n", id ? id : "of ",
                        id ? "" : agent);
        else
                rc = 0;
        if (rc == 0)
                printf("revoked %d session%s\n", (int)qs, qs == 1 ? "" : "s");
out:
        cb_cli_db_close(&cfg, &pool, &db);
        return rc;
}
