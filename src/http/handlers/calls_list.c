/* GET /api/calls?agent=&since=&limit=&cursor=&q=: newest first, keyset (cursor) paging; q
 * searches the numbers, or the party, disposition and notes (cb_calls_search_term). */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "handlers/handlers.h"
#include "callbridge/store_calls.h"

#define LIMIT_DEFAULT 50
#define LIMIT_MAX     200

/* Cursor: base64url("<created_at microseconds>.<uuid>"), opaque to clients. */
static void cursor_encode(int64_t us, const char *id, char *out)
{
        char plain[64];
        int n = snprintf(plain, sizeof(plain), "%lld.%s", (long long)us, id);

        cb_base64url_encode((const unsigned char *)plain, (size_t)n, out);
}

static bool cursor_decode(const char *in, int64_t *us, char id[CB_UUID_LEN + 1])
{
        unsigned char plain[64];
        long n;
        char *dot;
        long v;

        if (strlen(in) > 80)
                return false;
        n = cb_base64url_decode(in, plain, sizeof(plain) - 1);
        if (n <= 0)
                return false;
        plain[n] = '\0';
        dot = strchr((char *)plain, '.');
        if (dot == NULL)
                return false;
        *dot = '\0';
        if (!cb_parse_long((char *)plain, 1, LONG_MAX, &v) || !cb_uuid_valid(dot + 1))
                return false;
        *us = v;
        cb_strlcpy(id, dot + 1, CB_UUID_LEN + 1);
        return true;
}

enum MHD_Result cb_handle_calls_list(struct cb_request *req)
{
        const char *limit_s = cb_request_arg(req, "limit");
        const char *cursor_s = cb_request_arg(req, "cursor");
        const char *since_s = cb_request_arg(req, "since");
        const char *agent_s = cb_request_arg(req, "agent");
        const char *q = cb_request_arg(req, "q");
        char pattern[CB_CALL_SEARCH_PATTERN_MAX];
        struct cb_call_page page = {.limit = LIMIT_DEFAULT};
        char cursor_id[CB_UUID_LEN + 1] = "";
        char next_id[CB_UUID_LEN + 1];
        char next[128];
        int64_t next_us = 0;
        json_t *calls = NULL;
        struct cb_db *db;
        enum cb_qs qs;
        long limit;

        if (limit_s != NULL) {
                if (!cb_parse_long(limit_s, 1, LIMIT_MAX, &limit))
                        return cb_reply_error(req, CB_ERR_INVALID_QUERY,
                                              "limit must be an integer from 1 to %d", LIMIT_MAX);
                page.limit = (int)limit;
        }
        if (cursor_s != NULL && !cursor_decode(cursor_s, &page.cursor_us, cursor_id))
                return cb_reply_error(req, CB_ERR_INVALID_CURSOR, NULL);
        page.cursor_id = cursor_id;
        if (since_s != NULL && !cb_time_parse(since_s, &page.since_us))
                return cb_reply_error(req, CB_ERR_INVALID_QUERY,
                                      "since must be RFC 3339 UTC (...Z) or Unix seconds");
        if (agent_s != NULL && (agent_s[0] == '\0' || strlen(agent_s) >= CB_AGENT_MAX))
                return cb_reply_error(req, CB_ERR_INVALID_QUERY, "agent is invalid");
        if (q != NULL) {
                page.search = cb_calls_search_term(q, pattern, sizeof(pattern));
                page.pattern = pattern;
                if (page.search == CB_CALL_SEARCH_INVALID)
                        return cb_reply_error(req, CB_ERR_INVALID_FIELD,
                                              "q must be 1 to %d characters of text, without "
                                              "control characters",
                                              CB_CALL_SEARCH_MAX);
        }
        /* Non-admins only ever see their own calls, whatever they ask for. */
        page.agent = req->agent.admin ? agent_s : req->agent.name;

        db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        if (db == NULL)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        qs = cb_store_calls_list(db, &page, &calls, &next_us, next_id);
        cb_db_release(&db);
        if (qs < 0)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        if (next_us != 0)
                cursor_encode(next_us, next_id, next);
        return cb_reply_json(req, 200,
                             json_pack("{s:o,s:o}", "calls", calls, "next_cursor",
                                       next_us ? json_string(next) : json_null()));
}
