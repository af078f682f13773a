/* Query family: call metrics over a period (GET /api/stats) — per agent and overall, from the
 * calls themselves (placed, answered, missed, abandoned, wait, talk) and from the agents'
 * status log (wrap-up time). Which unanswered inbound calls are missed rather than abandoned
 * is the calls module's decision (cb_calls_outcome), handed to the SQL as a parameter. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "callbridge/store_calls.h"

/* The statuses after which an unanswered inbound call counts as missed, as a text[] literal;
 * the other final statuses make it abandoned. Built once from cb_calls_outcome. */
static char missed_statuses[256];
static char final_statuses[256];
static pthread_once_t rules_once = PTHREAD_ONCE_INIT;

static void rules_build(void)
{
        size_t m = 0, f = 0;

        m += (size_t)snprintf(missed_statuses, sizeof(missed_statuses), "{");
        f += (size_t)snprintf(final_statuses, sizeof(final_statuses), "{");
        for (int s = 0; s < CB_CALL_STATUS_COUNT; s++) {
                enum cb_call_status st = (enum cb_call_status)s;
                const char *name = cb_calls_status_name(st);
                if (!cb_calls_status_final(st))
                        continue;
                f += (size_t)snprintf(final_statuses + f, sizeof(final_statuses) - f, "%s%s",
                                      f > 1 ? "," : "", name);
                if (cb_calls_outcome(CB_CALL_INBOUND, st, false) == CB_OUTCOME_MISSED)
                        m += (size_t)snprintf(missed_statuses + m, sizeof(missed_statuses) - m,
                                              "%s%s", m > 1 ? "," : "", name);
        }
        snprintf(missed_statuses + m, sizeof(missed_statuses) - m, "}");
        snprintf(final_statuses + f, sizeof(final_statuses) - f, "}");
}

/* $1, $2: the period [since, until) in microseconds since the epoch (calls by the time they
 * were created, wrap-ups by the time they began; a wrap-up still going counts until now);
 * $3: one agent or NULL for all; $4: missed statuses; $5: final statuses. One row per agent
 * with calls or wrap-ups in the period, and the overall row (agent NULL), always. */
static struct cb_stmt stmt_stats =
    CB_STMT("call_stats",
            "WITH p AS (SELECT to_timestamp($1::bigint / 1e6) AS since,"
            "  to_timestamp($2::bigint / 1e6) AS until),"
            " c AS (SELECT agent, direction, status, answered_at IS NOT NULL AS answered,"
            "  EXTRACT(epoch FROM answered_at - created_at)::float8 AS wait_s,"
            "  COALESCE(duration_s::float8, EXTRACT(epoch FROM ended_at - answered_at)::float8)"
            "   AS talk_s"
            "  FROM calls, p WHERE created_at >= p.since AND created_at < p.until"
            "  AND ($3::text IS NULL OR agent = $3)),"
            " a AS (SELECT agent, GROUPING(agent) AS overall,"
            "  count(*) FILTER (WHERE direction = 'outbound') AS placed,"
            "  count(*) FILTER (WHERE direction = 'outbound' AND answered) AS out_answered,"
            "  count(*) FILTER (WHERE direction = 'inbound') AS received,"
            "  count(*) FILTER (WHERE direction = 'inbound' AND answered) AS in_answered,"
            "  count(*) FILTER (WHERE direction = 'inbound' AND NOT answered"
            "   AND status = ANY ($4::text[])) AS missed,"
            "  count(*) FILTER (WHERE direction = 'inbound' AND NOT answered"
            "   AND status = ANY ($5::text[]) AND NOT status = ANY ($4::text[])) AS abandoned,"
            "  avg(wait_s) FILTER (WHERE direction = 'inbound' AND answered) AS wait_avg,"
            "  percentile_cont(0.9) WITHIN GROUP (ORDER BY wait_s)"
            "   FILTER (WHERE direction = 'inbound' AND answered) AS wait_p90,"
            "  COALESCE(sum(talk_s) FILTER (WHERE answered), 0) AS talk_total,"
            "  avg(talk_s) FILTER (WHERE answered) AS talk_avg"
            "  FROM c GROUP BY GROUPING SETS ((agent), ())),"
            " w AS (SELECT agent, GROUPING(agent) AS overall, count(*) AS n,"
            "  sum(EXTRACT(epoch FROM COALESCE(l.ended_at, now()) - l.started_at)::float8) AS total"
            "  FROM agent_status_log l, p WHERE l.status = 'wrap_up'"
            "  AND l.started_at >= p.since AND l.started_at < p.until"
            "  AND ($3::text IS NULL OR l.agent = $3)"
            "  GROUP BY GROUPING SETS ((agent), ()))"
            " SELECT COALESCE(a.overall, w.overall) = 1, COALESCE(a.agent, w.agent),"
            "  json_build_object("
            "   'outbound', json_build_object('placed', COALESCE(a.placed, 0),"
            "    'answered', COALESCE(a.out_answered, 0)),"
            "   'inbound', json_build_object('received', COALESCE(a.received, 0),"
            "    'answered', COALESCE(a.in_answered, 0), 'missed', COALESCE(a.missed, 0),"
            "    'abandoned', COALESCE(a.abandoned, 0)),"
            "   'wait_s', json_build_object('avg', round(a.wait_avg::numeric, 3),"
            "    'p90', round(a.wait_p90::numeric, 3)),"
            "   'talk_s', json_build_object('total', round(COALESCE(a.talk_total, 0)::numeric, 3),"
            "    'avg', round(a.talk_avg::numeric, 3)),"
            "   'wrap_up_s', json_build_object('count', COALESCE(w.n, 0),"
            "    'total', round(COALESCE(w.total, 0)::numeric, 3),"
            "    'avg', round((w.total / NULLIF(w.n, 0))::numeric, 3)))::text"
            " FROM a FULL JOIN w ON a.overall = w.overall AND a.agent IS NOT DISTINCT FROM w.agent"
            " ORDER BY 1 DESC, 2");

enum cb_qs cb_store_stats(struct cb_db *db, int64_t since_us, int64_t until_us, const char *agent,
                          json_t **overall, json_t **agents)
{
        char since[24], until[24];
        const char *p[5] = {since, until, agent, missed_statuses, final_statuses};
        enum cb_qs qs;
        PGresult *res;

        *overall = NULL;
        *agents = NULL;
        pthread_once(&rules_once, rules_build);
        snprintf(since, sizeof(since), "%lld", (long long)since_us);
        snprintf(until, sizeof(until), "%lld", (long long)until_us);
        res = cb_db_exec(db, &stmt_stats, 5, p, &qs);
        if (res == NULL)
                return qs;
        *agents = json_array();
        for (int r = 0; r < PQntuples(res) && *agents != NULL; r++) {
                json_t *m = json_loads(PQgetvalue(res, r, 2), 0, NULL);
                if (m == NULL)
                        continue;
                if (strcmp(PQgetvalue(res, r, 0), "t") == 0) {
                        json_decref(*overall);
                        *overall = m;
                } else {
                        json_object_set_new(m, "agent", json_string(PQgetvalue(res, r, 1)));
                        json_array_append_new(*agents, m);
                }
        }
        PQclear(res);
        if (*overall == NULL || *agents == NULL) { /* out of memory */
                json_decref(*overall);
                json_decref(*agents);
                *overall = *agents = NULL;
                return CB_QS_HARD_ERROR;
        }
        return CB_QS_ONE_RESULT;
}
