/* Query family: calls and their history, and the group commit that inserts new ones. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/calls.h"
#include "callbridge/log.h"
#include "callbridge/store_batcher.h"
#include "callbridge/store_calls.h"

static enum cb_qs json_row(struct cb_db *db, struct cb_stmt *stmt, int n, const char *const *params,
                           json_t **out);

/* Many calls, their first history events and their jobs in one statement: the arrays are
 * parallel, one element per call; `kinds` holds each call's job kinds joined by ',' and
 * `status` its first status (both cb_calls_created's decision). */
static struct cb_stmt stmt_insert = CB_STMT(
    "calls_insert",
    "WITH input AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[],"
    "  $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],"
    "  $12::text[], $13::text[], $14::text[], $15::text[], $16::text[]) AS t(id, agent,"
    "  direction, to_e164, from_e164, crm_record_id, telephony, provider_call_id, crm,"
    "  idempotency_key, request_hash, kinds, status, party_name, party_company, party_url)),"
    " c AS (INSERT INTO calls (id, agent, direction, to_e164, from_e164, status, crm_record_id,"
    "  telephony, provider_call_id, crm, idempotency_key, request_hash, party_name,"
    "  party_company, party_url)"
    "  SELECT id, agent, direction, to_e164, from_e164, status, crm_record_id, telephony,"
    "  provider_call_id, crm, idempotency_key, decode(request_hash, 'hex'),"
    "  NULLIF(left(party_name, 255), ''), NULLIF(left(party_company, 255), ''),"
    "  NULLIF(left(party_url, 1024), '') FROM input"
    "  ON CONFLICT DO NOTHING RETURNING id),"
    " e AS (INSERT INTO call_events (call_id, status, source) SELECT c.id, i.status, 'api'"
    "  FROM c JOIN input i ON i.id = c.id),"
    " j AS (INSERT INTO jobs (kind, call_id) SELECT k, c.id FROM c JOIN input i ON i.id = c.id,"
    "  unnest(string_to_array(i.kinds, ',')) AS k)"
    " SELECT id::text FROM c");

/* The call an insert collided with: same agent's idempotency key, or same provider call. */
static struct cb_stmt stmt_existing =
    CB_STMT("call_existing", "SELECT id::text, (agent = $1 AND request_hash = decode($3, 'hex'))"
                             " FROM calls WHERE (agent = $1 AND idempotency_key = $2)"
                             "  OR (telephony = $4 AND provider_call_id = $5) LIMIT 1");

/* Append one element to a PostgreSQL array literal: quoted, with " and \ escaped. */
static int array_add(struct cb_buf *b, const char *v)
{
        int rc = cb_buf_puts(b, b->len > 1 ? "," : "");

        if (v == NULL)
                return rc | cb_buf_puts(b, "NULL");
        rc |= cb_buf_puts(b, "\"");
        for (const char *p = v; *p != '\0'; p++) {
                if (*p == '"' || *p == '\\')
                        rc |= cb_buf_append(b, "\\", 1);
                rc |= cb_buf_append(b, p, 1);
        }
        return rc | cb_buf_puts(b, "\"");
}

void cb_store_call_new_planned(struct cb_call_new *c, const char *id,
                               const struct cb_call_request *rq, const struct cb_call_plan *plan)
{
        *c = (struct cb_call_new){
            .id = id,
            .agent = plan->agent,
            .direction = cb_calls_direction_name(plan->direction),
            .to_e164 = plan->to,
            .from_e164 = plan->has_from ? plan->from : NULL,
            .crm_record_id = rq->crm_record_id,
            .provider_call_id = rq->provider_call_id,
            .status = plan->created.status,
            .job_kinds = plan->created.jobs,
            .job_count = plan->created.job_count,
        };
        memcpy(c->request_hash, plan->request_hash, sizeof(c->request_hash));
}

void cb_store_call_new_party(struct cb_call_new *c, const json_t *match)
{
        c->party_name = json_string_value(json_object_get(match, "name"));
        c->party_company = json_string_value(json_object_get(match, "company"));
        c->party_url = json_string_value(json_object_get(match, "url"));
}

enum cb_qs cb_store_calls_insert(struct cb_db *db, const struct cb_call_new *const *calls, size_t n,
                                 bool *created)
{
        enum { NCOL = 16 };
        struct cb_buf cols[NCOL];
        const char *params[NCOL];
        enum cb_qs qs = CB_QS_HARD_ERROR;
        PGresult *res = NULL;
        int rc = 0;

        for (int k = 0; k < NCOL; k++) {
                cols[k] = (struct cb_buf){.max = 1 << 22};
                rc |= cb_buf_puts(&cols[k], "{");
        }
        for (size_t i = 0; i < n; i++) {
                const struct cb_call_new *c = calls[i];
                char hash[65];
                char kinds[256] = "";

                cb_hex(c->request_hash, 32, hash);
                for (size_t j = 0; j < c->job_count; j++) {
                        strncat(kinds, j ? "," : "", sizeof(kinds) - strlen(kinds) - 1);
                        strncat(kinds, c->job_kinds[j], sizeof(kinds) - strlen(kinds) - 1);
                }
                rc |= array_add(&cols[0], c->id);
                rc |= array_add(&cols[1], c->agent);
                rc |= array_add(&cols[2], c->direction);
                rc |= array_add(&cols[3], c->to_e164);
                rc |= array_add(&cols[4], c->from_e164);
                rc |= array_add(&cols[5], c->crm_record_id);
                rc |= array_add(&cols[6], c->telephony);
                rc |= array_add(&cols[7], c->provider_call_id);
                rc |= array_add(&cols[8], c->crm);
                rc |= array_add(&cols[9], c->idempotency_key);
                rc |= array_add(&cols[10], hash);
                rc |= array_add(&cols[11], kinds);
                rc |= array_add(&cols[12], cb_calls_status_name(c->status));
                rc |= array_add(&cols[13], c->party_name);
                rc |= array_add(&cols[14], c->party_company);
                rc |= array_add(&cols[15], c->party_url);
                created[i] = false;
        }
        for (int k = 0; k < NCOL; k++) {
                rc |= cb_buf_puts(&cols[k], "}");
                params[k] = cols[k].data;
        }
        if (rc == 0)
                res = cb_db_exec(db, &stmt_insert, NCOL, params, &qs);
        for (int r = 0; res != NULL && r < PQntuples(res); r++)
                for (size_t i = 0; i < n; i++)
                        if (strcmp(PQgetvalue(res, r, 0), calls[i]->id) == 0)
                                created[i] = true;
        PQclear(res);
        for (int k = 0; k < NCOL; k++)
                cb_buf_free(&cols[k]);
        return res != NULL ? CB_QS_ONE_RESULT : qs;
}

enum cb_qs cb_store_call_existing(struct cb_db *db, const struct cb_call_new *c,
                                  char id_out[CB_UUID_LEN + 1], bool *same_request)
{
        char hash[65];
        const char *params[5] = {c->agent, c->idempotency_key, hash, c->telephony,
                                 c->provider_call_id};
        enum cb_qs qs;
        PGresult *res;

        cb_hex(c->request_hash, 32, hash);
        res = cb_db_exec(db, &stmt_existing, 5, params, &qs);
        if (res == NULL)
                return qs;
        if (qs != 1) {
                /* The conflicting row is gone (retention?): the client may simply retry. */
                PQclear(res);
                return CB_QS_SOFT_ERROR;
        }
        cb_strlcpy(id_out, PQgetvalue(res, 0, 0), CB_UUID_LEN + 1);
        *same_request = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
        PQclear(res);
        return CB_QS_ONE_RESULT;
}

/* The fields of a call every view shares, as json_build_object arguments. Jobs and providers
 * get the same fields typed (cb_store_call_load); cb_calls_to_json gives them this shape. */
#define CALL_FIELDS                                                                                \
        " 'call_id', c.id, 'agent', c.agent, 'direction', c.direction,"                            \
        " 'to', c.to_e164, 'from', c.from_e164, 'status', c.status,"                               \
        " 'crm_record_id', c.crm_record_id, 'party_name', c.party_name,"                           \
        " 'party_company', c.party_company, 'party_url', c.party_url,"                             \
        " 'telephony', json_build_object('provider', c.telephony, 'call_id', c.provider_call_id)," \
        " 'crm', json_build_object('provider', c.crm, 'state', c.crm_state, 'log_id',"             \
        " c.crm_log_id), 'duration_s', c.duration_s, 'disposition', c.disposition,"                \
        " 'notes', c.notes, 'disposed_at', cb_ts(c.disposed_at),"                                  \
        " 'answered_at', cb_ts(c.answered_at), 'ended_at', cb_ts(c.ended_at),"                     \
        " 'created_at', cb_ts(c.created_at), 'updated_at', cb_ts(c.updated_at)"

static struct cb_stmt stmt_get = CB_STMT(
    "call_get",
    "SELECT json_build_object(" CALL_FIELDS ","
    " 'history', COALESCE((SELECT json_agg(json_build_object('status', e.status,"
    "   'source', e.source, 'at', cb_ts(e.at)) ORDER BY e.id)"
    "   FROM call_events e WHERE e.call_id = c.id), '[]'),"
    " 'legal_hold', c.legal_hold,"
    " 'recordings', COALESCE((SELECT json_agg(json_build_object('recording_id', r.id,"
    "   'state', r.state, 'provider', r.provider, 'content_type', r.content_type,"
    "   'bytes', r.bytes, 'duration_s', r.duration_s, 'sha256', r.sha256,"
    "   'created_at', cb_ts(r.created_at), 'stored_at', cb_ts(r.stored_at),"
    "   'deleted_at', cb_ts(r.deleted_at)) ORDER BY r.created_at, r.id)"
    "   FROM recordings r WHERE r.call_id = c.id), '[]'),"
    " 'transcripts', COALESCE((SELECT json_agg(json_build_object('transcript_id', t.id,"
    "   'recording_id', t.recording_id, 'source', t.source, 'engine', t.engine,"
    "   'language', t.language,"
    "   'audio_seconds', t.audio_seconds, 'words', t.words, 'stt_ms', t.stt_ms,"
    "   'sentiment', t.sentiment,"
    "   'sentiment_label', t.sentiment_label, 'intent', t.intent, 'tags', t.tags,"
    "   'keywords', t.keywords, 'entities', t.entities, 'follow_ups', t.follow_ups,"
    "   'storage_key', t.storage_key, 'deleted', t.deleted_at IS NOT NULL,"
    "   'timings', json_build_object('recorded', cb_ts(r.created_at),"
    "    'stored', cb_ts(r.stored_at), 'transcribed', cb_ts(t.transcribed_at),"
    "    'analysed', cb_ts(t.analysed_at), 'crm_written', cb_ts(t.crm_written_at)))"
    "   ORDER BY t.created_at, t.id) FROM transcripts t LEFT JOIN recordings r"
    "   ON r.id = t.recording_id"
    "   WHERE t.call_id = c.id), '[]'),"
    " 'jobs', COALESCE((SELECT json_agg(json_build_object('id', j.id, 'kind', j.kind,"
    "   'state', j.state, 'attempts', j.attempts, 'last_error', j.last_error) ORDER BY j.id)"
    "   FROM jobs j WHERE j.call_id = c.id), '[]')"
    ")::text FROM calls c WHERE c.id = $1::uuid AND ($2::text IS NULL OR c.agent = $2)");

enum cb_qs cb_store_call_get_json(struct cb_db *db, const char *id, const char *agent, json_t **out)
{
        const char *params[2] = {id, agent};
        return json_row(db, &stmt_get, 2, params, out);
}

static enum cb_qs json_row(struct cb_db *db, struct cb_stmt *stmt, int n, const char *const *params,
                           json_t **out)
{
        enum cb_qs qs;
        PGresult *res = cb_db_exec(db, stmt, n, params, &qs);
        json_error_t jerr;

        *out = NULL;
        if (res == NULL || qs != 1) {
                PQclear(res);
                return qs;
        }
        *out = json_loads(PQgetvalue(res, 0, 0), 0, &jerr);
        PQclear(res);
        if (*out == NULL) {
                cb_error("%s returned invalid JSON: %s", stmt->name, jerr.text);
                return CB_QS_HARD_ERROR;
        }
        return CB_QS_ONE_RESULT;
}

/* A time column as integer microseconds since the epoch, 0 when NULL. */
#define CALL_US(col) " COALESCE((extract(epoch FROM " col ") * 1000000)::bigint, 0)"

/* The typed columns of a call, in struct cb_call's order; NULL as "" or -1. Jobs load a call on
 * every attempt. */
/* (clang-format off: its layout of the macros between strings is unreadable) */
/* clang-format off */
static struct cb_stmt stmt_load = CB_STMT(
    "call_load",
    "SELECT c.id::text, c.agent, c.direction, c.to_e164, COALESCE(c.from_e164, ''), c.status,"
    " COALESCE(c.crm_record_id, ''), c.telephony, COALESCE(c.provider_call_id, ''), c.crm,"
    " c.crm_state, COALESCE(c.crm_log_id, ''), COALESCE(c.duration_s, -1),"
    " COALESCE(c.disposition, ''),"
    CALL_US("c.answered_at") "," CALL_US("c.ended_at") "," CALL_US("c.created_at") ","
    CALL_US("c.updated_at") ", COALESCE(c.notes, ''),"
    CALL_US("c.disposed_at") ", COALESCE(a.crm_user_id, ''),"
    " left(COALESCE(c.party_name, ''), 255), left(COALESCE(c.party_company, ''), 255),"
    " left(COALESCE(a.display_name, ''), 255),"
    " COALESCE((SELECT r.id::text FROM recordings r WHERE r.call_id = c.id"
    "  AND r.state = 'stored' ORDER BY r.created_at DESC, r.id DESC LIMIT 1), ''),"
    " COALESCE(c.crm_recording_id::text, ''), COALESCE(c.crm_transcript_id::text, '')"
    " FROM calls c LEFT JOIN agents a ON a.name = c.agent WHERE c.id = $1::uuid");
/* clang-format on */

/* Copy column `col` into `dst`; false when it does not fit. */
static bool text_col(PGresult *res, int col, char *dst, size_t size)
{
        return cb_strlcpy(dst, PQgetvalue(res, 0, col), size);
}

static bool int_col(PGresult *res, int col, int64_t *out)
{
        char *end = NULL;
        const char *v = PQgetvalue(res, 0, col);
        long long n = strtoll(v, &end, 10);

        *out = n;
        return end != v && *end == '\0';
}

/* The row's columns into `c`; false when one does not fit the record or does not parse. */
static bool call_from_row(PGresult *res, struct cb_call *c)
{
        int64_t duration = -1;
        bool ok =
            text_col(res, 0, c->id, sizeof(c->id)) &&
            text_col(res, 1, c->agent, sizeof(c->agent)) &&
            cb_calls_direction_parse(PQgetvalue(res, 0, 2), &c->direction) &&
            text_col(res, 3, c->to, sizeof(c->to)) && text_col(res, 4, c->from, sizeof(c->from)) &&
            cb_calls_status_parse(PQgetvalue(res, 0, 5), &c->status) &&
            text_col(res, 6, c->crm_record_id, sizeof(c->crm_record_id)) &&
            text_col(res, 7, c->telephony, sizeof(c->telephony)) &&
            text_col(res, 8, c->provider_call_id, sizeof(c->provider_call_id)) &&
            text_col(res, 9, c->crm, sizeof(c->crm)) &&
            text_col(res, 10, c->crm_state, sizeof(c->crm_state)) &&
            text_col(res, 11, c->crm_log_id, sizeof(c->crm_log_id)) &&
            int_col(res, 12, &duration) &&
            text_col(res, 13, c->disposition, sizeof(c->disposition)) &&
            int_col(res, 14, &c->answered_us) && int_col(res, 15, &c->ended_us) &&
            int_col(res, 16, &c->created_us) && int_col(res, 17, &c->updated_us) &&
            text_col(res, 18, c->notes, sizeof(c->notes)) && int_col(res, 19, &c->disposed_us) &&
            text_col(res, 20, c->crm_owner_id, sizeof(c->crm_owner_id)) &&
            text_col(res, 21, c->party_name, sizeof(c->party_name)) &&
            text_col(res, 22, c->party_company, sizeof(c->party_company)) &&
            text_col(res, 23, c->agent_display, sizeof(c->agent_display)) &&
            text_col(res, 24, c->recording_id, sizeof(c->recording_id)) &&
            text_col(res, 25, c->crm_recording_id, sizeof(c->crm_recording_id)) &&
            text_col(res, 26, c->crm_transcript_id, sizeof(c->crm_transcript_id));

        c->duration_s = (long)duration;
        return ok;
}

enum cb_qs cb_store_call_load(struct cb_db *db, const char *id, struct cb_call *out)
{
        const char *params[1] = {id};
        enum cb_qs qs;
        PGresult *res = cb_db_exec(db, &stmt_load, 1, params, &qs);

        *out = (struct cb_call){.duration_s = -1};
        if (res == NULL || qs != 1) {
                PQclear(res);
                return qs;
        }
        if (!call_from_row(res, out)) {
                /* The schema and the record disagree: our bug, not the caller's. */
                cb_error("call %s: its row does not fit struct cb_call (status \"%s\", direction "
                         "\"%s\")",
                         id, PQgetvalue(res, 0, 5), PQgetvalue(res, 0, 2));
                *out = (struct cb_call){.duration_s = -1};
                PQclear(res);
                return CB_QS_HARD_ERROR;
        }
        PQclear(res);
        return CB_QS_ONE_RESULT;
}

/* The texts the search matches (?q=), exactly as 015_call_party.sql and
 * 017_call_search_party_number.sql index them: the party's number (not our caller id). */
#define SEARCH_NUMBERS                                                                             \
        "(CASE WHEN direction = 'inbound' THEN coalesce(from_e164, '') ELSE to_e164 END)"
#define SEARCH_TEXT                                                                                \
        "(coalesce(party_name, '') || ' ' || coalesce(party_company, '') || ' ' ||"                \
        " coalesce(disposition, '') || ' ' || coalesce(notes, ''))"

/* One page of calls, `where` more (a search); cursor position: created_at as integer
 * microseconds since the epoch, then id. One statement per search kind, so each plan can use
 * its index. */
#define LIST_SQL(where)                                                                            \
        "SELECT json_build_object('call_id', id, 'agent', agent, 'direction', direction,"          \
        "  'to', to_e164, 'from', from_e164, 'status', status, 'crm_state', crm_state,"            \
        "  'disposition', disposition, 'party_name', party_name, 'party_company',"                 \
        "  party_company, 'party_url', party_url, 'created_at', cb_ts(created_at))::text,"         \
        " (extract(epoch FROM created_at) * 1000000)::bigint, id::text"                            \
        " FROM calls"                                                                              \
        " WHERE ($1::text IS NULL OR agent = $1)"                                                  \
        "  AND ($2::bigint = 0 OR created_at >= 'epoch'::timestamptz"                              \
        "       + ($2::bigint / 1000000) * interval '1 second'"                                    \
        "       + ($2::bigint % 1000000) * interval '1 microsecond')"                              \
        "  AND ($3::bigint = 0 OR (created_at, id) < ('epoch'::timestamptz"                        \
        "       + ($3::bigint / 1000000) * interval '1 second'"                                    \
        "       + ($3::bigint % 1000000) * interval '1 microsecond', $4::uuid))" where             \
        " ORDER BY created_at DESC, id DESC LIMIT $5"

static struct cb_stmt stmt_list = CB_STMT("calls_list", LIST_SQL(" AND $6::text IS NULL"));
static struct cb_stmt stmt_list_number =
    CB_STMT("calls_list_number", LIST_SQL(" AND " SEARCH_NUMBERS " LIKE $6"));
static struct cb_stmt stmt_list_text =
    CB_STMT("calls_list_text", LIST_SQL(" AND " SEARCH_TEXT " ILIKE $6"));

enum cb_qs cb_store_calls_list(struct cb_db *db, const struct cb_call_page *page, json_t **calls,
                               int64_t *next_us, char next_id[CB_UUID_LEN + 1])
{
        char since[24];
        char cursor[24];
        char limit[16];
        const char *params[6] = {
            page->agent, since,
            cursor,      page->cursor_us ? page->cursor_id : "00000000-0000-0000-0000-000000000000",
            limit,       page->search != CB_CALL_SEARCH_INVALID ? page->pattern : NULL};
        struct cb_stmt *stmt = page->search == CB_CALL_SEARCH_NUMBER ? &stmt_list_number
                               : page->search == CB_CALL_SEARCH_TEXT ? &stmt_list_text
                                                                     : &stmt_list;
        enum cb_qs qs;
        PGresult *res;
        int rows;

        snprintf(since, sizeof(since), "%" PRId64, page->since_us);
        snprintf(cursor, sizeof(cursor), "%" PRId64, page->cursor_us);
        snprintf(limit, sizeof(limit), "%d", page->limit + 1); /* one more: is there a next? */
        *calls = NULL;
        *next_us = 0;
        next_id[0] = '\0';
        res = cb_db_exec(db, stmt, 6, params, &qs);
        if (res == NULL)
                return qs;
        *calls = json_array();
        rows = PQntuples(res);
        for (int i = 0; i < rows && i < page->limit; i++) {
                json_t *row = json_loads(PQgetvalue(res, i, 0), 0, NULL);
                if (row != NULL)
                        json_array_append_new(*calls, row);
        }
        if (rows > page->limit) {
                long us = 0;
                if (cb_parse_long(PQgetvalue(res, page->limit - 1, 1), 1, LONG_MAX, &us))
                        *next_us = us;
                cb_strlcpy(next_id, PQgetvalue(res, page->limit - 1, 2), CB_UUID_LEN + 1);
        }
        PQclear(res);
        return rows > 0 ? CB_QS_ONE_RESULT : CB_QS_NO_RESULTS;
}

static struct cb_stmt stmt_set_crm = CB_STMT(
    "call_set_crm", "UPDATE calls SET crm_state = $2, crm_log_id = COALESCE($3, crm_log_id),"
                    " updated_at = now() WHERE id = $1::uuid");

enum cb_qs cb_store_call_set_crm(struct cb_db *db, const char *id, const char *state,
                                 const char *log_id)
{
        const char *params[3] = {id, state, log_id};
        return cb_db_exec_cmd(db, &stmt_set_crm, 3, params);
}

/* $3-$5: the party (name, company, url), kept where the call has one. */
#define SET_PARTY                                                                                  \
        " party_name = COALESCE(party_name, NULLIF(left($3, 255), '')),"                           \
        " party_company = COALESCE(party_company, NULLIF(left($4, 255), '')),"                     \
        " party_url = COALESCE(party_url, NULLIF(left($5, 1024), ''))"

static struct cb_stmt stmt_link_record =
    CB_STMT("call_link_record", "UPDATE calls SET crm_record_id = $2, updated_at = now()," SET_PARTY
                                " WHERE id = $1::uuid AND crm_record_id IS NULL");

static struct cb_stmt stmt_set_party =
    CB_STMT("call_set_party", "UPDATE calls SET" SET_PARTY " WHERE id = $1::uuid"
                              " AND crm_record_id = $2 AND party_name IS NULL"
                              " AND party_company IS NULL AND party_url IS NULL");

/* `stmt` with the call, the record and the party's three fields. */
static enum cb_qs party_cmd(struct cb_db *db, struct cb_stmt *stmt, const char *id,
                            const char *record_id, const json_t *party)
{
        const char *params[5] = {id, record_id, json_string_value(json_object_get(party, "name")),
                                 json_string_value(json_object_get(party, "company")),
                                 json_string_value(json_object_get(party, "url"))};
        return cb_db_exec_cmd(db, stmt, 5, params);
}

enum cb_qs cb_store_call_link_record(struct cb_db *db, const char *id, const char *record_id,
                                     const json_t *party)
{
        return party_cmd(db, &stmt_link_record, id, record_id, party);
}

enum cb_qs cb_store_call_set_party(struct cb_db *db, const char *id, const char *record_id,
                                   const json_t *party)
{
        return party_cmd(db, &stmt_set_party, id, record_id, party);
}

static struct cb_stmt stmt_answer_on_join =
    CB_STMT("call_answer_on_join", "UPDATE calls SET answer_on_join = $2::boolean"
                                   " WHERE id = $1::uuid AND answered_at IS NULL");

enum cb_qs cb_store_call_answer_on_join(struct cb_db *db, const char *id, bool on)
{
        const char *params[2] = {id, on ? "true" : "false"};
        return cb_db_exec_cmd(db, &stmt_answer_on_join, 2, params);
}

static struct cb_stmt stmt_agent_answered =
    CB_STMT("call_agent_answered", "UPDATE calls SET answered_at = now(), updated_at = now()"
                                   " WHERE id = $1::uuid AND answer_on_join"
                                   " AND answered_at IS NULL AND cb_status_rank(status) < 4");

enum cb_qs cb_store_call_agent_answered(struct cb_db *db, const char *id)
{
        const char *params[1] = {id};
        return cb_db_exec_cmd(db, &stmt_agent_answered, 1, params);
}

/* ---- group commit for new calls (a cb_batcher kind): concurrent initiates and inbound calls
 * are inserted together, N requests for one statement and one WAL flush ---- */

/* Run the items' `committed` hooks: once per distinct hook, with how many calls of the batch
 * it covers were created (the job workers are woken once per batch, not once per call). */
static void committed(void *const *items, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                const struct cb_call_item *it = items[i];
                size_t created = 0;
                bool seen = false;

                if (it->committed == NULL)
                        continue;
                for (size_t j = 0; j < i && !seen; j++) {
                        const struct cb_call_item *o = items[j];
                        seen =
                            o->committed == it->committed && o->committed_arg == it->committed_arg;
                }
                if (seen)
                        continue;
                for (size_t j = i; j < n; j++) {
                        const struct cb_call_item *o = items[j];
                        if (o->created && o->committed == it->committed &&
                            o->committed_arg == it->committed_arg)
                                created++;
                }
                if (created > 0)
                        it->committed(it->committed_arg, created);
        }
}

/* Insert one batch; when the statement fails as a whole, fall back to one call at a time so
 * a single bad row cannot fail its neighbours. */
static void insert_batch(struct cb_db *db, void *const *items, size_t n)
{
        const struct cb_call_new *calls[CB_BATCH_MAX] = {NULL};
        bool created[CB_BATCH_MAX] = {false};
        enum cb_qs qs = CB_QS_HARD_ERROR;

        for (size_t i = 0; i < n; i++)
                calls[i] = ((struct cb_call_item *)items[i])->call;
        if (db != NULL)
                qs = cb_store_calls_insert(db, calls, n, created);
        for (size_t i = 0; i < n; i++) {
                struct cb_call_item *it = items[i];
                if (qs < 0 && db != NULL && n > 1)
                        it->qs = cb_store_calls_insert(db, &calls[i], 1, &created[i]);
                else
                        it->qs = qs;
                it->created = it->qs >= 0 && created[i];
        }
        committed(items, n);
}

struct cb_batcher *cb_call_batcher_start(struct cb_db_pool *pool, int threads)
{
        return cb_batcher_start(pool, "call", threads, insert_batch);
}

static void item_done(void *item)
{
        struct cb_call_item *it = item;

        it->done(it->arg);
}

int cb_call_batcher_submit(struct cb_batcher *b, struct cb_call_item *it)
{
        it->qs = CB_QS_HARD_ERROR;
        it->created = false;
        return cb_batcher_submit(b, it, item_done);
}

enum cb_qs cb_call_batcher_existing(struct cb_batcher *b, const struct cb_call_new *c,
                                    char id_out[CB_UUID_LEN + 1], bool *same_request)
{
        struct cb_db *db = cb_batcher_db(b);
        enum cb_qs qs;

        *same_request = true;
        if (db == NULL)
                return CB_QS_HARD_ERROR;
        qs = cb_store_call_existing(db, c, id_out, same_request);
        cb_db_release(&db);
        return qs;
}

enum cb_qs cb_call_batcher_insert(struct cb_batcher *b, const struct cb_call_new *c,
                                  char id_out[CB_UUID_LEN + 1], bool *created, bool *same_request)
{
        struct cb_call_item it = {.call = c};

        cb_batcher_run(b, &it);
        *created = it.created;
        *same_request = true;
        if (it.qs < 0)
                return it.qs;
        if (it.created) {
                cb_strlcpy(id_out, c->id, CB_UUID_LEN + 1);
                return CB_QS_ONE_RESULT;
        }
        /* A collision (idempotent replay or conflict): rare, answered on its own. */
        return cb_call_batcher_existing(b, c, id_out, same_request);
}
