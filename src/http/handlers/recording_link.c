/* POST /api/recordings/{recording_id}/link: a short-lived signed playback link for the
 * recording ([storage] link_ttl_s): {"url": "<public_url>/r/<id>?exp=..&sig=..",
 * "expires_at"}. For players and CRM pages that cannot send the agent's bearer token. */
#include <stdio.h>
#include <time.h>

#include "handlers/handlers.h"
#include "callbridge/store_recordings.h"

enum MHD_Result cb_handle_recording_link(struct cb_request *req)
{
        const struct cb_config *cfg = req->env->cfg;
        const char *id = req->params[0];
        long long exp = (long long)time(NULL) + cfg->storage.link_ttl_s;
        time_t t = (time_t)exp;
        struct cb_db *db;
        json_t *rec = NULL;
        char sig[65], url[1024], at[32];
        struct tm tm;
        enum cb_qs qs;

        if (!cb_uuid_valid(id))
                return cb_reply_error(req, CB_ERR_NOT_FOUND, "no such recording");
        if (!cb_recordings_enabled(req->env->rec))
                return cb_reply_error(req, CB_ERR_STORAGE_UNAVAILABLE,
                                      "recordings are not configured");
        db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        if (db == NULL)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        qs = cb_store_recording_get(db, id, NULL, req->agent.admin ? NULL : req->agent.name, &rec);
        cb_db_release(&db);
        json_decref(rec);
        if (qs < 0)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        if (qs == CB_QS_NO_RESULTS)
                return cb_reply_error(req, CB_ERR_NOT_FOUND, "no such recording");
        cb_rec_link_sign(req->env->rec, id, exp, sig);
        snprintf(url, sizeof(url), "%s/r/%s?exp=%lld&sig=%s", cfg->server.public_url, id, exp, sig);
        gmtime_r(&t, &tm);
        strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
        return cb_reply_json(req, 200, json_pack("{s:s,s:s}", "url", url, "expires_at", at));
}
