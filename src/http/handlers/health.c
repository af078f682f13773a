/* GET /healthz (the process answers) and GET /readyz (PostgreSQL, Redis, migrations). */
#include "callbridge/cache.h"
#include "callbridge/db.h"
#include "handlers/handlers.h"

enum MHD_Result cb_handle_healthz(struct cb_request *req)
{
        return cb_reply_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

enum MHD_Result cb_handle_readyz(struct cb_request *req)
{
        const struct cb_config *cfg = req->env->cfg;
        struct cb_db *db = cb_db_acquire(req->env->pool, 1000);
        const char *pg = "ok";
        const char *mig = "ok";
        const char *redis = "ok";
        struct cb_crm *crm = req->env->crm;
        char detail[768];
        json_t *body;
        bool ready;

        if (db == NULL) {
                pg = "unreachable";
                mig = "unknown";
        } else {
                int applied = cb_db_schema_applied(db);
                if (applied < 0 &&
                    (cb_db_conn(db) == NULL || PQstatus(cb_db_conn(db)) != CONNECTION_OK)) {
                        pg = "unreachable";
                        mig = "unknown";
                } else if (applied < cb_db_schema_latest()) {
                        mig = "pending";
                }
                cb_db_release(&db);
        }
        if (cb_cache_ping(cfg->redis.url, cfg->redis.timeout_ms) != 0)
                redis = "unreachable";
        ready = pg[0] == 'o' && mig[0] == 'o' && redis[0] == 'o';
        body = json_pack("{s:s,s:{s:s,s:s,s:s}}", "status", ready ? "ready" : "not_ready", "checks",
                         "postgres", pg, "redis", redis, "migrations", mig);
        /* The CRM's state is detail, not readiness: calls are still accepted durably while
         * the CRM refuses us, and their jobs wait. */
        if (body != NULL && crm->ops->health != NULL) {
                crm->ops->health(crm->self, detail, sizeof(detail));
                json_object_set_new(json_object_get(body, "checks"), crm->ops->name,
                                    json_string(detail));
        }
        return cb_reply_json(req, ready ? 200 : 503, body);
}
