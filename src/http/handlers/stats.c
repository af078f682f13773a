/* GET /api/stats?since=&until=&agent=: call metrics over a period — placed, answered, missed,
 * abandoned, wait (avg, p90), talk and wrap-up time — overall and per agent. Agents see
 * their own; admins everyone's, or one agent's with agent=. */
#include <string.h>

#include "handlers/handlers.h"
#include "callbridge/store_calls.h"

#define DAY_US        (86400LL * 1000000)
#define PERIOD_MAX_US (366 * DAY_US)

/* The period from the query: until defaults to now, since to a day before until. False (and
 * a reply) when a bound is malformed, the period is empty or longer than PERIOD_MAX_US. */
static bool period(struct cb_request *req, int64_t *since, int64_t *until, enum MHD_Result *ret)
{
        const char *since_s = cb_request_arg(req, "since");
        const char *until_s = cb_request_arg(req, "until");

        *until = cb_now_us();
        if (until_s != NULL && !cb_time_parse(until_s, until)) {
                *ret = cb_reply_error(req, CB_ERR_INVALID_QUERY,
                                      "until must be RFC 3339 UTC (...Z) or Unix seconds");
                return false;
        }
        *since = *until - DAY_US;
        if (since_s != NULL && !cb_time_parse(since_s, since)) {
                *ret = cb_reply_error(req, CB_ERR_INVALID_QUERY,
                                      "since must be RFC 3339 UTC (...Z) or Unix seconds");
                return false;
        }
        if (*since >= *until || *until - *since > PERIOD_MAX_US) {
                *ret = cb_reply_error(req, CB_ERR_INVALID_QUERY,
                                      "since must be before until, at most 366 days apart");
                return false;
        }
        return true;
}

enum MHD_Result cb_handle_stats(struct cb_request *req)
{
        const char *agent = cb_request_arg(req, "agent");
        char since_ts[CB_TS_LEN + 1], until_ts[CB_TS_LEN + 1];
        json_t *overall, *agents;
        int64_t since, until;
        enum MHD_Result ret;
        struct cb_db *db;
        enum cb_qs qs;

        if (!period(req, &since, &until, &ret))
                return ret;
        if (agent != NULL && !cb_calls_agent_valid(agent))
                return cb_reply_error(req, CB_ERR_INVALID_QUERY, "agent is invalid");
        if (!req->agent.admin) {
                if (agent != NULL && strcmp(agent, req->agent.name) != 0)
                        return cb_reply_error(req, CB_ERR_FORBIDDEN,
                                              "agents see their own figures; admins see all");
                agent = req->agent.name;
        }
        db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        if (db == NULL)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        qs = cb_store_stats(db, since, until, agent, &overall, &agents);
        cb_db_release(&db);
        if (qs < 0)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        cb_ts_format(since, since_ts);
        cb_ts_format(until, until_ts);
        return cb_reply_json(req, 200,
                             json_pack("{s:s,s:s,s:o,s:o,s:o}", "since", since_ts, "until",
                                       until_ts, "agent", agent ? json_string(agent) : json_null(),
                                       "overall", overall, "agents", agents));
}
