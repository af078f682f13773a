/* Query family: agents (migration 010) — `callbridge agent`, /api/admin/agents, /api/agent and
 * inbound routing's owner → agent map. Values arrive checked (include/callbridge/agents.h);
 * rows leave as JSON built by PostgreSQL. */
#include <string.h>

#include "callbridge/agents.h"
#include "callbridge/log.h"
#include "callbridge/store_agents.h"

#define AGENT_JSON                                                                                 \
        "json_build_object('name', a.name, 'display_name', a.display_name, 'crm_user_id',"         \
        " a.crm_user_id, 'phone', a.phone, 'admin', a.admin, 'created_at', cb_ts(a.created_at),"   \
        " 'updated_at', cb_ts(a.updated_at))::text"

/* Run `stmt` whose rows are one JSON text each: an array of them in *out (NULL on error). */
static enum cb_qs json_rows(struct cb_db *db, struct cb_stmt *stmt, int n,
                            const char *const *params, json_t **out)
{
        enum cb_qs qs;
        PGresult *res = cb_db_exec(db, stmt, n, params, &qs);

        *out = NULL;
        if (res == NULL)
                return qs;
        *out = json_array();
        for (int i = 0; *out != NULL && i < PQntuples(res); i++) {
                json_t *row = json_loads(PQgetvalue(res, i, 0), 0, NULL);
                if (row == NULL || json_array_append_new(*out, row) != 0) {
                        cb_error("%s: a row is not JSON (or out of memory)", stmt->name);
                        json_decref(*out);
                        *out = NULL;
                }
        }
        PQclear(res);
        return *out != NULL ? qs : CB_QS_HARD_ERROR;
}

/* The first row of json_rows as *out (ONE_RESULT), or NO_RESULTS / negative with *out NULL. */
static enum cb_qs json_row(struct cb_db *db, struct cb_stmt *stmt, int n, const char *const *params,
                           json_t **out)
{
        json_t *rows = NULL;
        enum cb_qs qs = json_rows(db, stmt, n, params, &rows);

        *out = NULL;
        if (qs >= 0 && json_array_size(rows) > 0) {
                *out = json_incref(json_array_get(rows, 0));
                qs = CB_QS_ONE_RESULT;
        } else if (qs >= 0) {
                qs = CB_QS_NO_RESULTS;
        }
        json_decref(rows);
        return qs;
}

static struct cb_stmt stmt_list =
    CB_STMT("agents_list", "SELECT " AGENT_JSON " FROM agents a ORDER BY a.name");

enum cb_qs cb_store_agents_list(struct cb_db *db, json_t **out)
{
        return json_rows(db, &stmt_list, 0, NULL, out);
}

static struct cb_stmt stmt_get =
    CB_STMT("agent_get", "SELECT " AGENT_JSON " FROM agents a WHERE a.name = $1");

enum cb_qs cb_store_agent_get(struct cb_db *db, const char *name, json_t **out)
{
        const char *params[1] = {name};
        return json_row(db, &stmt_get, 1, params, out);
}

static struct cb_stmt stmt_exists = CB_STMT("agent_exists", "SELECT 1 FROM agents WHERE name = $1");

enum cb_qs cb_store_agent_exists(struct cb_db *db, const char *name)
{
        const char *params[1] = {name};
        enum cb_qs qs;
        PGresult *res = cb_db_exec(db, &stmt_exists, 1, params, &qs);

        PQclear(res);
        return qs < 0 ? qs : qs > 0 ? CB_QS_ONE_RESULT : CB_QS_NO_RESULTS;
}

/* Why a write that changed nothing did not: is there an agent called `name`? */
static enum cb_qs refusal(struct cb_db *db, const char *name, bool inserting,
                          enum cb_agent_refusal *why)
{
        const char *params[1] = {name};
        enum cb_qs qs;
        PGresult *res = cb_db_exec(db, &stmt_exists, 1, params, &qs);

        PQclear(res);
        if (qs < 0)
                return qs;
        if (inserting)
                *why = qs > 0 ? CB_AGENT_NAME_TAKEN : CB_AGENT_CRM_ID_TAKEN;
        else
                *why = qs > 0 ? CB_AGENT_CRM_ID_TAKEN : CB_AGENT_UNKNOWN;
        return CB_QS_NO_RESULTS;
}

/* Nothing when the name is taken or another agent has the CRM user id (ON CONFLICT covers
 * both unique indexes, so two admins racing for one User do not fail the statement). */
static struct cb_stmt stmt_insert = CB_STMT(
    "agent_insert",
    "INSERT INTO agents AS a (name, display_name, crm_user_id, phone, admin)"
    " SELECT $1, $2, $3, $4, $5::boolean"
    " WHERE $3::text IS NULL OR NOT EXISTS (SELECT 1 FROM agents o WHERE o.crm_user_id = $3)"
    " ON CONFLICT DO NOTHING RETURNING " AGENT_JSON);

enum cb_qs cb_store_agent_insert(struct cb_db *db, const struct cb_agent_fields *f, json_t **out,
                                 enum cb_agent_refusal *why)
{
        const char *params[5] = {f->name, f->display_name, f->crm_user_id, f->phone,
                                 f->admin ? "true" : "false"};
        enum cb_qs qs = json_row(db, &stmt_insert, 5, params, out);

        *why = CB_AGENT_REFUSED_NONE;
        return qs == CB_QS_NO_RESULTS ? refusal(db, f->name, true, why) : qs;
}

/* Each field changes when its flag ($2, $4, $6, $8) is on; nothing when the CRM user id is
 * another agent's. */
static struct cb_stmt stmt_update = CB_STMT(
    "agent_update", "UPDATE agents AS a SET"
                    " display_name = CASE WHEN $2::boolean THEN $3 ELSE a.display_name END,"
                    " crm_user_id = CASE WHEN $4::boolean THEN $5 ELSE a.crm_user_id END,"
                    " phone = CASE WHEN $6::boolean THEN $7 ELSE a.phone END,"
                    " admin = CASE WHEN $8::boolean THEN $9::boolean ELSE a.admin END,"
                    " updated_at = now()"
                    " WHERE a.name = $1 AND NOT ($4::boolean AND $5::text IS NOT NULL AND EXISTS"
                    "  (SELECT 1 FROM agents o WHERE o.crm_user_id = $5 AND o.name <> $1))"
                    " RETURNING " AGENT_JSON);

static const char *flag(bool b)
{
        return b ? "true" : "false";
}

enum cb_qs cb_store_agent_update(struct cb_db *db, const struct cb_agent_fields *f, json_t **out,
                                 enum cb_agent_refusal *why)
{
        const char *params[9] = {
            f->name,        flag(f->set_display_name), f->display_name, flag(f->set_crm_user_id),
            f->crm_user_id, flag(f->set_phone),        f->phone,        flag(f->set_admin),
            flag(f->admin)};
        enum cb_qs qs = json_row(db, &stmt_update, 9, params, out);

        *why = CB_AGENT_REFUSED_NONE;
        return qs == CB_QS_NO_RESULTS ? refusal(db, f->name, false, why) : qs;
}

static struct cb_stmt stmt_by_crm =
    CB_STMT("agents_by_crm_user_ids",
            "SELECT json_build_object('name', a.name, 'crm_user_id', a.crm_user_id, 'display_name',"
            " COALESCE(a.display_name, a.name))::text FROM agents a WHERE a.crm_user_id = ANY "
            "(string_to_array($1, ','))");

enum cb_qs cb_store_agents_by_crm_user_ids(struct cb_db *db, const char *ids_csv, json_t **out)
{
        const char *params[1] = {ids_csv};
        return json_rows(db, &stmt_by_crm, 1, params, out);
}

/* Who `me` may hand a call to: every other agent (not the "unassigned" placeholder), with the
 * status routing sees (available when it has no agent_status row yet). */
static struct cb_stmt stmt_targets =
    CB_STMT("agents_transfer_targets",
            "SELECT json_build_object('name', a.name, 'display_name', a.display_name,"
            " 'status', COALESCE(s.status, 'available'))::text"
            " FROM agents a LEFT JOIN agent_status s ON s.agent = a.name"
            " WHERE a.name <> $1 AND a.name <> 'unassigned' ORDER BY a.name LIMIT 500");

enum cb_qs cb_store_agents_transfer_targets(struct cb_db *db, const char *me, json_t **out)
{
        const char *params[1] = {me};
        return json_rows(db, &stmt_targets, 1, params, out);
}
