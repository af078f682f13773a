/* callbridge-sandbox: the reply and request helpers every handler uses (declared in
 * sandbox.h). A reply owns its body and headers until sb_server.c queues it, then frees it with
 * sb_reply_free. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox.h"

/* ---- reply helpers ---------------------------------------------------------------------- */

static void reply_clear_body(struct sb_reply *reply)
{
        free(reply->body);
        reply->body = NULL;
        reply->body_len = 0;
}

void sb_reply_data(struct sb_reply *reply, unsigned int status, const char *content_type,
                   const void *data, size_t len)
{
        reply_clear_body(reply);
        reply->status = status;
        reply->content_type = content_type;
        reply->body = malloc(len ? len : 1);
        if (!reply->body) {
                reply->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
                reply->content_type = NULL;
                return;
        }
        if (len)
                memcpy(reply->body, data, len);
        reply->body_len = len;
}

void sb_reply_json_take(struct sb_reply *reply, unsigned int status, json_t *body)
{
        char *text = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;

        json_decref(body);
        reply_clear_body(reply);
        if (!text) {
                reply->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
                reply->content_type = NULL;
                return;
        }
        reply->status = status;
        reply->content_type = "application/json; charset=utf-8";
        reply->body = text;
        reply->body_len = strlen(text);
}

void sb_reply_error(struct sb_reply *reply, unsigned int status, const char *code, const char *fmt,
                    ...)
{
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        sb_reply_json_take(reply, status,
                           json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg));
}

void sb_reply_header(struct sb_reply *reply, const char *name, const char *value)
{
        char *copy;

        if (reply->n_headers >= SB_REPLY_MAX_HEADERS)
                return;
        copy = strdup(value);
        if (!copy)
                return;
        reply->headers[reply->n_headers].name = name;
        reply->headers[reply->n_headers].value = copy;
        reply->n_headers++;
}

void sb_reply_free(struct sb_reply *reply)
{
        reply_clear_body(reply);
        for (size_t i = 0; i < reply->n_headers; i++)
                free(reply->headers[i].value);
        reply->n_headers = 0;
}

/* ---- request helpers -------------------------------------------------------------------- */

const char *sb_request_header(const struct sb_request *req, const char *name)
{
        return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *sb_request_query(const struct sb_request *req, const char *name)
{
        return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

json_t *sb_request_json(const struct sb_request *req, struct sb_reply *reply)
{
        json_error_t err;
        json_t *doc = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &err);

        if (!doc)
                sb_reply_error(reply, MHD_HTTP_BAD_REQUEST, "malformed_json",
                               "body is not valid JSON: %s (line %d, column %d)", err.text,
                               err.line, err.column);
        return doc;
}
