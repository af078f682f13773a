/* Query: the call an agent's console shows after a reload (GET /api/agent/call). */
#include <string.h>

#include "callbridge/calls.h"
#include "callbridge/store_calls.h"

/* The agent's newest call that is not final (started in the last 12 hours: a call whose end
 * was never reported does not haunt the console), else the final call its wrap-up waits for
 * (agent_status wrap_up for that call, no disposition yet). calls_agent_created and the
 * agent_status key serve it. */
static struct cb_stmt stmt_active =
    CB_STMT("agent_active_call",
            "SELECT id, status FROM ("
            " (SELECT 0 AS pick, c.id::text AS id, c.status FROM calls c"
            "  WHERE c.agent = $1 AND cb_status_rank(c.status) < 4"
            "   AND c.created_at > now() - interval '12 hours'"
            "  ORDER BY c.created_at DESC, c.id DESC LIMIT 1)"
            " UNION ALL"
            " (SELECT 1, c.id::text, c.status FROM agent_status s JOIN calls c ON c.id = s.call_id"
            "  WHERE s.agent = $1 AND s.status = 'wrap_up' AND c.agent = $1"
            "   AND c.disposition IS NULL AND cb_status_rank(c.status) >= 4)"
            ") t ORDER BY pick LIMIT 1");

enum cb_qs cb_store_agent_active_call(struct cb_db *db, const char *agent, char id[CB_UUID_LEN + 1],
                                      enum cb_call_status *status)
{
        const char *params[1] = {agent};
        enum cb_qs qs;
        PGresult *res = cb_db_exec(db, &stmt_active, 1, params, &qs);

        id[0] = '\0';
        if (res == NULL || qs != CB_QS_ONE_RESULT) {
                PQclear(res);
                return qs;
        }
        cb_strlcpy(id, PQgetvalue(res, 0, 0), CB_UUID_LEN + 1);
        if (!cb_calls_status_parse(PQgetvalue(res, 0, 1), status))
                qs = CB_QS_HARD_ERROR; /* the CHECK constraint allows only known statuses */
        PQclear(res);
        return qs;
}
