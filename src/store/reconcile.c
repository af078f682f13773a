/* Query family: calls to reconcile with the telephony provider — those its webhooks should
 * have finished (lost in an outage), and completed calls whose recording never arrived. */
#include <stdio.h>

#include "callbridge/store_calls.h"
#include "rows.h"

/* Calls of provider $1 not final $2 seconds after their last change, and (when $4) completed
 * calls with talk time, ended between $2 seconds and a day ago, that have no recording.
 * Oldest change first, at most $3; the partial index of 006 keeps the first scan small. */
static struct cb_stmt stmt_due = CB_STMT(
    "calls_to_reconcile",
    "(SELECT id::text, provider_call_id, 'status' FROM calls"
    "  WHERE telephony = $1 AND provider_call_id IS NOT NULL"
    "   AND cb_status_rank(status) < 4 AND updated_at < now() - $2::integer * interval '1 s'"
    "  ORDER BY updated_at LIMIT $3)"
    " UNION ALL"
    " (SELECT c.id::text, c.provider_call_id, 'recording' FROM calls c"
    "  WHERE $4::boolean AND c.telephony = $1 AND c.provider_call_id IS NOT NULL"
    "   AND c.status = 'completed' AND COALESCE(c.duration_s, 0) > 0"
    "   AND c.updated_at < now() - $2::integer * interval '1 s'"
    "   AND c.updated_at > now() - $2::integer * interval '1 s' - interval '1 day'"
    "   AND NOT EXISTS (SELECT 1 FROM recordings r WHERE r.call_id = c.id)"
    "  ORDER BY c.updated_at LIMIT $3)");

enum cb_qs cb_store_calls_to_reconcile(struct cb_db *db, const char *telephony, long after_s,
                                       int limit, bool recordings, json_t **rows)
{
        char a[24], l[16];
        const char *p[4] = {telephony, a, l, recordings ? "true" : "false"};

        snprintf(a, sizeof(a), "%ld", after_s);
        snprintf(l, sizeof(l), "%d", limit);
        return cb_store_exec_rows(db, &stmt_due, 4, p, rows);
}
