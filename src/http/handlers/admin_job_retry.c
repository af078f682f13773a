/* POST /api/admin/jobs/{id}/retry: a dead job back to the queue now, attempts reset.
 * Admin keys only; 404 for an unknown id, 409 job_not_dead for any other state. */
#include <limits.h>

#include "handlers/handlers.h"
#include "callbridge/store_jobs.h"

enum MHD_Result cb_handle_admin_job_retry(struct cb_request *req)
{
        const char *id_s = req->params[0];
        char state[16];
        struct cb_db *db;
        enum cb_qs qs;
        long id;

        if (!req->agent.admin)
                return cb_reply_error(req, CB_ERR_FORBIDDEN, "admin keys only");
        if (!cb_parse_long(id_s, 1, LONG_MAX, &id))
                return cb_reply_error(req, CB_ERR_NOT_FOUND, "no job %.24s", id_s);
        db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        if (db == NULL)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        qs = cb_store_job_requeue_dead(db, id, state);
        cb_db_release(&db);
        if (qs < 0)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        if (qs == CB_QS_NO_RESULTS && state[0] == '\0')
                return cb_reply_error(req, CB_ERR_NOT_FOUND, "no job %ld", id);
        if (qs == CB_QS_NO_RESULTS)
                return cb_reply_error(req, CB_ERR_JOB_NOT_DEAD, "job %ld is %s, not dead", id,
                                      state);
        return cb_reply_json(req, 200,
                             json_pack("{s:I,s:s}", "id", (json_int_t)id, "state", "queued"));
}
