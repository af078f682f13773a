/* callbridge-sandbox: POST composite: up to 25 subrequests (at most 5 of them sObject
 * Collections or queries) run in order through the same REST dispatcher (collateSubrequests is
 * accepted; the order is always kept), a Collections subrequest answering its UpsertResult
 * array as its body, "@{ref.path}" references resolved against earlier answers, and with allOrNone
 * a failure rolls back every change (the records object is restored from a copy) and the other
 * subrequests answer PROCESSING_HALTED, as Salesforce does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sf_emu.h"

#define MAX_SUBREQUESTS 25
#define MAX_HEAVY       5 /* of which sObject Collections or query subrequests */
#define HALTED_MESSAGE                                                                             \
        "The transaction was rolled back since another operation in the same transaction failed."

/* The value at "a.b[0].c" inside `doc` as text into buf; false when absent. */
static bool lookup(json_t *doc, const char *path, char *buf, size_t len)
{
        char key[256];
        const char *p = path;
        json_t *cur = doc;

        while (*p && cur) {
                size_t n = strcspn(p, ".[");
                snprintf(key, sizeof(key), "%.*s", (int)n, p);
                if (n)
                        cur = json_object_get(cur, key);
                p += n;
                if (*p == '[') {
                        char *end = NULL;
                        long idx = strtol(p + 1, &end, 10);
                        if (!end || *end != ']' || idx < 0)
                                return false;
                        cur = json_array_get(cur, (size_t)idx);
                        p = end + 1;
                }
                if (*p == '.')
                        p++;
        }
        if (json_is_string(cur))
                snprintf(buf, len, "%s", json_string_value(cur));
        else if (json_is_integer(cur))
                snprintf(buf, len, "%lld", (long long)json_integer_value(cur));
        else
                return false;
        return true;
}

/* Copy `in` with every @{ref.path} replaced from `refs`; new string, or NULL with the missing
 * reference in `missing` (or out of memory, missing left empty). */
static char *substitute(const char *in, json_t *refs, char *missing, size_t mlen)
{
        size_t cap = strlen(in) + 1024, n = 0;
        char *out = malloc(cap);
        const char *p = in;

        missing[0] = '\0';
        while (out && *p) {
                const char *end;
                char ref[256], name[256], value[1024];
                size_t vlen;

                if (p[0] != '@' || p[1] != '{' || !(end = strchr(p, '}'))) {
                        out[n++] = *p++;
                } else {
                        snprintf(ref, sizeof(ref), "%.*s", (int)(end - p - 2), p + 2);
                        snprintf(name, sizeof(name), "%.*s", (int)strcspn(ref, ".["), ref);
                        if (!lookup(json_object_get(refs, name), ref + strlen(name), value,
                                    sizeof(value))) {
                                snprintf(missing, mlen, "%s", ref);
                                free(out);
                                return NULL;
                        }
                        vlen = strlen(value);
                        if (n + vlen + 1 >= cap) {
                                char *grown = realloc(out, cap += vlen + 1024);
                                if (!grown)
                                        break;
                                out = grown;
                        }
                        memcpy(out + n, value, vlen);
                        n += vlen;
                        p = end + 1;
                }
                if (n + 2 >= cap) {
                        char *grown = realloc(out, cap *= 2);
                        if (!grown)
                                break;
                        out = grown;
                }
        }
        if (out && *p) { /* out of memory mid-way */
                free(out);
                return NULL;
        }
        if (out)
                out[n] = '\0';
        return out;
}

/* Run one subrequest `url` (already substituted) through the dispatcher. */
static void run_sub(const struct sf_op *parent, const char *method, const char *url,
                    const char *body, struct sf_result *res)
{
        struct sf_op op = *parent;
        const char *prefix = "/services/data/";
        const char *query = strchr(url, '?');
        char *path = NULL, *q = NULL, *fields = NULL;

        op.nseg = 0;
        op.method = method;
        op.body = body ? body : "";
        op.body_len = strlen(op.body);
        if (strncmp(url, prefix, strlen(prefix)) != 0)
                goto not_found;
        path = strndup(url + strlen(prefix),
                       query ? (size_t)(query - url) - strlen(prefix) : strlen(url));
        if (!path || !sf_op_split(&op, path) || op.nseg < 2 || !sf_version_ok(op.seg[0]))
                goto not_found;
        free(op.seg[0]);
        memmove(op.seg, op.seg + 1, (op.nseg - 1) * sizeof(op.seg[0]));
        op.nseg--;
        q = query ? sf_form_get(query + 1, "q") : NULL;
        fields = query ? sf_form_get(query + 1, "fields") : NULL;
        op.q = q;
        op.fields = fields;
        sf_rest_dispatch_locked(&op, res);
        goto out;
not_found:
        sf_error(res, 404, "NOT_FOUND", NULL, "The requested resource does not exist");
out:
        sf_op_free_segments(&op);
        free(path);
        free(q);
        free(fields);
}

static json_t *entry(json_t *body, json_t *headers, unsigned int status, const char *ref)
{
        return json_pack("{s:o,s:o,s:i,s:s}", "body", body ? body : json_null(), "httpHeaders",
                         headers ? headers : json_object(), "httpStatusCode", (int)status,
                         "referenceId", ref);
}

static json_t *halted(const char *ref)
{
        return entry(
            json_pack("[{s:s,s:s}]", "errorCode", "PROCESSING_HALTED", "message", HALTED_MESSAGE),
            NULL, 400, ref);
}

/* Run subrequest `sub` (validated); returns its response entry and sets *failed. */
static json_t *run_one(const struct sf_op *op, json_t *sub, json_t *refs, bool *failed)
{
        const char *ref = json_string_value(json_object_get(sub, "referenceId"));
        json_t *jbody = json_object_get(sub, "body");
        char *url = NULL, *text = NULL, *body = NULL, missing[256];
        struct sf_result res = {0};
        json_t *out, *headers = json_object();

        url = substitute(json_string_value(json_object_get(sub, "url")), refs, missing,
                         sizeof(missing));
        text = jbody ? json_dumps(jbody, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        body = text ? substitute(text, refs, missing, sizeof(missing)) : NULL;
        if (!url || (text && !body)) {
                char name[256];
                snprintf(name, sizeof(name), "%.*s", (int)strcspn(missing, ".["), missing);
                sf_error(
                    &res, 400, "PROCESSING_HALTED", NULL,
                    "Invalid reference specified. No value for %s found in %s. Provided "
                    "referenceId ('%s') may be incorrect or dependent request may have failed.",
                    missing, name, name);
        } else {
                run_sub(op, json_string_value(json_object_get(sub, "method")), url, body, &res);
        }
        if (res.location)
                json_object_set_new(headers, "Location", json_string(res.location));
        *failed = res.status >= 400;
        if (res.body && res.status < 400)
                json_object_set(refs, ref, res.body);
        out = entry(res.body, headers, res.status, ref);
        res.body = NULL;
        sf_result_clear(&res);
        free(url);
        free(text);
        free(body);
        return out;
}

/* Check the request shape; false with Salesforce's error in `res`. */
static bool check_request(json_t *doc, struct sf_result *res)
{
        json_t *subs = json_object_get(doc, "compositeRequest"), *sub;
        size_t i, heavy = 0;

        if (!json_is_array(subs) || json_array_size(subs) == 0) {
                sf_error(res, 400, "INVALID_INPUT", NULL, "compositeRequest is required");
                return false;
        }
        if (json_array_size(subs) > MAX_SUBREQUESTS) {
                sf_error(res, 400, "LIMIT_EXCEEDED", NULL,
                         "Limit Exceeded: the number of subrequests (%zu) exceeds %d",
                         json_array_size(subs), MAX_SUBREQUESTS);
                return false;
        }
        json_array_foreach(subs, i, sub)
        {
                const char *url = json_string_value(json_object_get(sub, "url"));
                heavy += url && (strstr(url, "/composite/sobjects") || strstr(url, "/query"));
                if (!json_is_string(json_object_get(sub, "method")) ||
                    !json_is_string(json_object_get(sub, "url")) ||
                    !json_is_string(json_object_get(sub, "referenceId"))) {
                        sf_error(res, 400, "INVALID_INPUT", NULL,
                                 "Each subrequest needs method, url and referenceId");
                        return false;
                }
        }
        if (heavy > MAX_HEAVY) {
                sf_error(res, 400, "LIMIT_EXCEEDED", NULL,
                         "Limit Exceeded: the number of sObject Collections and query "
                         "subrequests (%zu) exceeds %d",
                         heavy, MAX_HEAVY);
                return false;
        }
        return true;
}

void sf_composite_run_locked(const struct sf_op *op, struct sf_result *res)
{
        json_error_t jerr;
        json_t *doc = json_loadb(op->body, op->body_len, 0, &jerr);
        json_t *refs = json_object(), *out = json_array(), *backup = NULL, *sub;
        bool all = false, failed = false;
        size_t i;

        if (!doc || !json_is_object(doc)) {
                sf_error(res, 400, "JSON_PARSER_ERROR", NULL, "%s at [line:%d, column:%d]",
                         doc ? "Expected a JSON object" : jerr.text, jerr.line, jerr.column);
                goto out;
        }
        if (!check_request(doc, res))
                goto out;
        all = json_is_true(json_object_get(doc, "allOrNone"));
        if (all)
                backup = json_deep_copy(sb_state_records_all_locked());
        json_array_foreach(json_object_get(doc, "compositeRequest"), i, sub)
        {
                bool this_failed = false;
                const char *ref = json_string_value(json_object_get(sub, "referenceId"));

                if (all && failed) {
                        json_array_append_new(out, halted(ref));
                        continue;
                }
                json_array_append_new(out, run_one(op, sub, refs, &this_failed));
                if (this_failed && all) {
                        failed = true;
                        for (size_t k = 0; k < i; k++) /* roll back the earlier ones */
                                json_array_set_new(out, k,
                                                   halted(json_string_value(json_object_get(
                                                       json_array_get(out, k), "referenceId"))));
                }
        }
        if (failed) {
                sb_state_records_replace_locked(backup);
                backup = NULL;
        }
        res->status = 200;
        res->body = json_pack("{s:O}", "compositeResponse", out);
out:
        json_decref(backup);
        json_decref(doc);
        json_decref(refs);
        json_decref(out);
}
