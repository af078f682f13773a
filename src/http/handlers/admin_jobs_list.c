/* GET /api/admin/jobs?state=&kind=&limit=&cursor=: the job queue for operators (dead letters
 * above all), newest first, keyset (cursor) paging. Admin keys only. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>

#include "handlers/handlers.h"
#include "callbridge/store_jobs.h"

#define LIMIT_DEFAULT 50
#define LIMIT_MAX     500

/* The query into `f`. True when it was refused (a 400 queued, returned through `ret`). */
static bool bad_query(struct cb_request *req, struct cb_job_filter *f, enum MHD_Result *ret)
{
        const char *limit_s = cb_request_arg(req, "limit");
        const char *cursor_s = cb_request_arg(req, "cursor");
        long v = LIMIT_DEFAULT, cursor = 0;

        f->state = cb_request_arg(req, "state");
        f->kind = cb_request_arg(req, "kind");
        f->limit = LIMIT_DEFAULT;
        if (f->state != NULL && !cb_store_job_state_valid(f->state))
                *ret = cb_reply_error(req, CB_ERR_INVALID_QUERY,
                                      "state must be queued, running, done or dead");
        else if (f->kind != NULL && !cb_store_job_kind_valid(f->kind))
                *ret = cb_reply_error(req, CB_ERR_INVALID_QUERY,
                                      "kind must be a job kind such as crm.log_call");
        else if (limit_s != NULL && !cb_parse_long(limit_s, 1, LIMIT_MAX, &v))
                *ret = cb_reply_error(req, CB_ERR_INVALID_QUERY,
                                      "limit must be an integer from 1 to %d", LIMIT_MAX);
        else if (cursor_s != NULL && !cb_parse_long(cursor_s, 2, LONG_MAX, &cursor))
                *ret = cb_reply_error(req, CB_ERR_INVALID_CURSOR, NULL);
        else {
                f->limit = (int)v;
                f->before_id = cursor;
                return false;
        }
        return true;
}

enum MHD_Result cb_handle_admin_jobs_list(struct cb_request *req)
{
        struct cb_job_filter f = {0};
        enum MHD_Result ret = MHD_NO;
        json_t *jobs = NULL, *last;
        char next[24];
        struct cb_db *db;
        enum cb_qs qs;

        if (!req->agent.admin)
                return cb_reply_error(req, CB_ERR_FORBIDDEN, "admin keys only");
        if (bad_query(req, &f, &ret))
                return ret;
        db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        if (db == NULL)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        qs = cb_store_jobs_list(db, &f, &jobs);
        cb_db_release(&db);
        if (qs < 0)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        /* A full page may have more after it: the cursor is the last id shown. */
        last = json_array_size(jobs) == (size_t)f.limit ? json_array_get(jobs, f.limit - 1) : NULL;
        if (last != NULL)
                snprintf(next, sizeof(next), "%" JSON_INTEGER_FORMAT,
                         json_integer_value(json_object_get(last, "id")));
        return cb_reply_json(req, 200,
                             json_pack("{s:o,s:o}", "jobs", jobs, "next_cursor",
                                       last ? json_string(next) : json_null()));
}
