/* Query family: the agent's wrap-up of a call (POST /api/calls/{id}/disposition). */
#include <string.h>

#include "callbridge/calls.h"
#include "callbridge/log.h"
#include "callbridge/store_calls.h"

/* One statement, so one commit: the call row is locked; when the disposition or the notes
 * differ from what it holds they replace them, with a history event (source 'agent') and a
 * crm.log_call job — unless one is already queued and unclaimed (locked here, so no worker
 * claims it before this commits: the job then reads the new values). A claimed or running job
 * may have read the call already, so it never counts. The CRM state is pending again until that
 * job has written it (local stays local). The same wrap-up again changes nothing.
 * Columns: changed, disposed_at (RFC 3339), job queued. */
static struct cb_stmt stmt_dispose = CB_STMT(
    "call_dispose", "WITH c AS (SELECT id, disposition, notes, disposed_at FROM calls"
                    "  WHERE id = $1::uuid AND ($2::text IS NULL OR agent = $2) FOR UPDATE),"
                    " up AS (UPDATE calls k SET disposition = $4, notes = $5, disposed_at = now(),"
                    "  disposed_by = $3, updated_at = now(),"
                    "  crm_state = CASE k.crm_state WHEN 'local' THEN 'local' ELSE 'pending' END"
                    "  FROM c WHERE k.id = c.id"
                    "  AND (c.disposition IS DISTINCT FROM $4 OR c.notes IS DISTINCT FROM $5)"
                    "  RETURNING k.id, k.disposed_at),"
                    " ev AS (INSERT INTO call_events (call_id, status, source)"
                    "  SELECT id, 'disposition', 'agent' FROM up),"
                    " q AS (SELECT j.id FROM jobs j, up WHERE j.call_id = up.id AND j.kind = $6"
                    "  AND j.state = 'queued' LIMIT 1 FOR UPDATE OF j SKIP LOCKED),"
                    " nj AS (INSERT INTO jobs (kind, call_id) SELECT $6, id FROM up"
                    "  WHERE NOT EXISTS (SELECT 1 FROM q) RETURNING id)"
                    " SELECT up.id IS NOT NULL, cb_ts(COALESCE(up.disposed_at, c.disposed_at)),"
                    "  EXISTS (SELECT 1 FROM nj)"
                    " FROM c LEFT JOIN up ON up.id = c.id");

enum cb_qs cb_store_call_dispose(struct cb_db *db, const struct cb_call_disposal *d,
                                 struct cb_call_disposed *out)
{
        const char *params[6] = {d->call_id,     d->agent, d->by,
                                 d->disposition, d->notes, CB_JOB_LOG_CALL};
        enum cb_qs qs;
        PGresult *res;

        memset(out, 0, sizeof(*out));
        res = cb_db_exec(db, &stmt_dispose, 6, params, &qs);
        if (res == NULL || qs != 1) {
                PQclear(res);
                return qs < 0 ? qs : CB_QS_NO_RESULTS;
        }
        out->changed = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        cb_strlcpy(out->disposed_at, PQgetvalue(res, 0, 1), sizeof(out->disposed_at));
        out->job_queued = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
        PQclear(res);
        return CB_QS_ONE_RESULT;
}
