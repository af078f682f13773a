/* callbridge-sandbox: the Salesforce REST API under /services/data/<version>/.
 *
 * One entry point for every REST route: it counts the API usage, checks the version and the
 * bearer token, and dispatches on method and path segments under the state lock. Every answer,
 * errors and injected faults included, carries Sforce-Limit-Info. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sf_emu.h"

#define DATA_PREFIX "/services/data/"

static bool is_object(const char *type)
{
        return sf_schema_object_locked(type) != NULL;
}

static void not_found(struct sf_result *res)
{
        sf_error(res, 404, "NOT_FOUND", NULL, "The requested resource does not exist");
}

static void describe(const struct sf_op *op, struct sf_result *res)
{
        json_t *obj = sf_schema_object_locked(op->seg[1]);

        if (!obj) {
                not_found(res);
                return;
        }
        res->status = 200;
        res->body = json_deep_copy(obj);
}

/* GET sobjects/<Obj>/<Id>[?fields=a,b] */
static void get_record(const struct sf_op *op, struct sf_result *res)
{
        json_t *rec = sf_record_get_locked(op->seg[1], op->seg[2]);
        json_t *fields = NULL;

        if (!rec) {
                not_found(res);
                return;
        }
        if (op->fields) {
                const char *p = op->fields;
                fields = json_array();
                while (fields && *p) {
                        size_t n = strcspn(p, ",");
                        char name[256];
                        snprintf(name, sizeof(name), "%.*s", (int)n, p);
                        if (!sf_schema_field_locked(op->seg[1], name)) {
                                json_decref(fields);
                                sf_error(res, 400, "INVALID_FIELD", NULL,
                                         "No such column '%s' on entity '%s'. If you are "
                                         "attempting to use a custom field, be sure to append the "
                                         "'__c' after the custom field name. Please reference your "
                                         "WSDL or the describe call for the appropriate names.",
                                         name, op->seg[1]);
                                return;
                        }
                        json_array_append_new(fields, json_string(name));
                        p += n + (p[n] == ',');
                }
        }
        res->status = 200;
        res->body = sf_record_render_locked(op->version, op->seg[1], rec, fields);
}

/* DELETE sobjects/<Obj>/<Id> */
static void delete_record(const struct sf_op *op, struct sf_result *res)
{
        json_t *rec = sb_state_record_find_locked(op->seg[1], op->seg[2]);

        if (rec && sb_state_record_remove_locked(op->seg[1], rec)) {
                res->status = 204;
                return;
        }
        not_found(res);
}

static void method_not_allowed(const struct sf_op *op, struct sf_result *res, const char *allowed)
{
        sf_error(res, 405, "METHOD_NOT_ALLOWED", NULL,
                 "HTTP Method '%s' not allowed. Allowed are %s", op->method, allowed);
}

/* sobjects/<Obj>[/...] */
static void dispatch_sobjects(const struct sf_op *op, struct sf_result *res)
{
        const char *m = op->method;

        if (op->nseg < 2 || !is_object(op->seg[1])) {
                not_found(res);
                return;
        }
        if (op->nseg == 2) {
                if (strcmp(m, "POST") == 0)
                        sf_write_create_locked(op, res);
                else
                        method_not_allowed(op, res, "HEAD,GET,POST");
        } else if (op->nseg == 3 && strcmp(op->seg[2], "describe") == 0) {
                if (strcmp(m, "GET") == 0)
                        describe(op, res);
                else
                        method_not_allowed(op, res, "HEAD,GET");
        } else if (op->nseg == 3 && op->seg[2][0]) {
                if (strcmp(m, "GET") == 0)
                        get_record(op, res);
                else if (strcmp(m, "PATCH") == 0)
                        sf_write_update_locked(op, res);
                else if (strcmp(m, "DELETE") == 0)
                        delete_record(op, res);
                else
                        method_not_allowed(op, res, "HEAD,GET,PATCH,DELETE");
        } else if (op->nseg == 4 && op->seg[3][0]) {
                if (strcmp(m, "PATCH") == 0)
                        sf_write_upsert_locked(op, res);
                else
                        method_not_allowed(op, res, "HEAD,GET,PATCH,DELETE");
        } else {
                not_found(res);
        }
}

void sf_rest_dispatch_locked(const struct sf_op *op, struct sf_result *res)
{
        const char *first = op->nseg ? op->seg[0] : "";

        if (strcmp(first, "sobjects") == 0) {
                dispatch_sobjects(op, res);
        } else if (op->nseg == 1 && strcmp(first, "query") == 0) {
                if (strcmp(op->method, "GET") == 0)
                        sf_query_run_locked(op, res);
                else
                        method_not_allowed(op, res, "HEAD,GET");
        } else if (op->nseg == 1 && strcmp(first, "search") == 0) {
                if (strcmp(op->method, "GET") == 0)
                        sf_search_run_locked(op, res);
                else
                        method_not_allowed(op, res, "HEAD,GET");
        } else if (op->nseg == 4 && strcmp(first, "composite") == 0 &&
                   strcmp(op->seg[1], "sobjects") == 0) {
                if (strcmp(op->method, "PATCH") == 0)
                        sf_collections_upsert_locked(op, res);
                else
                        method_not_allowed(op, res, "PATCH");
        } else {
                not_found(res);
        }
}

/* The bearer token of the request ("Bearer X" or Salesforce's older "OAuth X"), or NULL. */
static const char *bearer(const struct sb_request *req)
{
        const char *auth = sb_request_header(req, "Authorization");

        if (!auth)
                return NULL;
        if (strncasecmp(auth, "Bearer ", 7) == 0)
                return auth + 7;
        if (strncasecmp(auth, "OAuth ", 6) == 0)
                return auth + 6;
        return NULL;
}

/* Turn a result into the reply; the result is emptied. */
static void reply_result(struct sb_reply *reply, struct sf_result *res, const char *usage)
{
        if (res->status == 0) {
                sf_error(res, 500, "UNKNOWN_EXCEPTION", NULL, "An unexpected error occurred.");
                res->status = 500;
        }
        if (res->body) {
                sb_reply_json_take(reply, res->status, res->body);
                res->body = NULL;
        } else {
                sb_reply_data(reply, res->status, NULL, "", 0);
        }
        if (usage)
                sb_reply_header(reply, "Sforce-Limit-Info", usage);
        if (res->location)
                sb_reply_header(reply, "Location", res->location);
        sf_result_clear(res);
}

/* Route, authenticate and run one wire request; lock held. op->version is left pointing at
 * `version` (the caller's buffer of SF_VERSION_MAX bytes, which must outlive `op`). */
static void rest_locked(const struct sb_request *req, struct sf_op *op, char *version,
                        struct sf_result *res)
{
        if (!sf_op_split(op, req->path + strlen(DATA_PREFIX)) || op->nseg < 2 ||
            !sf_version_ok(op->seg[0]) || strlen(op->seg[0]) >= SF_VERSION_MAX) {
                not_found(res);
                return;
        }
        snprintf(version, SF_VERSION_MAX, "%s", op->seg[0]);
        free(op->seg[0]);
        memmove(op->seg, op->seg + 1, (op->nseg - 1) * sizeof(op->seg[0]));
        op->nseg--;
        op->version = version;
        {
                json_t *user = sf_state_token_user_locked(bearer(req));
                if (!user) {
                        sf_error(res, 401, "INVALID_SESSION_ID", NULL,
                                 "Session expired or invalid");
                        return;
                }
                op->user_id = json_string_value(json_object_get(user, "Id"));
        }
        if (op->nseg == 1 && strcmp(op->seg[0], "composite") == 0) {
                if (strcmp(op->method, "POST") == 0)
                        sf_composite_run_locked(op, res);
                else
                        method_not_allowed(op, res, "POST");
        } else {
                sf_rest_dispatch_locked(op, res);
        }
}

void sb_sf_rest(const struct sb_request *req, struct sb_reply *reply)
{
        const char *host = sb_request_header(req, "Host");
        char usage[64], instance[300];
        char version[SF_VERSION_MAX]; /* op.version points here: same lifetime as `op` */
        struct sf_op op = {0};
        struct sf_result res = {0};

        snprintf(instance, sizeof(instance), "http://%s", host ? host : "localhost");
        op.instance = instance;
        op.method = req->method;
        op.q = sb_request_query(req, "q");
        op.fields = sb_request_query(req, "fields");
        op.body = req->body;
        op.body_len = req->body_len;
        sb_state_lock();
        if (sf_state_usage_count_locked(usage, sizeof(usage)))
                rest_locked(req, &op, version, &res);
        else
                sf_error(&res, 403, "REQUEST_LIMIT_EXCEEDED", NULL,
                         "TotalRequests Limit exceeded.");
        sb_state_unlock();
        sf_op_free_segments(&op);
        reply_result(reply, &res, usage);
}

void sb_sf_unrouted(const struct sb_request *req, struct sb_reply *reply)
{
        struct sf_result res = {0};

        not_found(&res);
        reply_result(reply, &res, NULL);
}

static void rest_fault_reply(enum sb_fault fault, const struct sb_request *req,
                             struct sb_reply *reply)
{
        struct sf_result res = {0};
        char usage[64];

        sb_state_lock();
        (void)sf_state_usage_count_locked(usage, sizeof(usage));
        sb_state_unlock();
        if (fault == SB_FAULT_RATE_LIMIT)
                sf_error(&res, 403, "REQUEST_LIMIT_EXCEEDED", NULL,
                         "TotalRequests Limit exceeded.");
        else
                sf_error(&res, 503, "SERVER_UNAVAILABLE", NULL,
                         "Server temporarily unavailable. Please try again later.");
        reply_result(reply, &res, usage);
}

const struct sb_upstream sb_sf_rest_upstream = {.name = "salesforce",
                                                .fault_reply = rest_fault_reply};
