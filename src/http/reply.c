/* Reply helpers: every response carries X-Request-Id; errors have the SPEC §4 shape. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "callbridge/http.h"
#include "callbridge/log.h"

static enum MHD_Result queue(struct cb_request *req, unsigned int status, struct MHD_Response *resp,
                             const char *content_type)
{
        enum MHD_Result ret;

        if (resp == NULL)
                return MHD_NO;
        if (content_type != NULL)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
        MHD_add_response_header(resp, "X-Request-Id", req->request_id);
        /* No browser may guess a type: an uploaded "audio" file is never run as HTML. */
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
        if (req->reply_header[0] != NULL)
                MHD_add_response_header(resp, req->reply_header[0], req->reply_header[1]);
        if (req->set_cookie != NULL)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, req->set_cookie);
        if (req->location != NULL)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, req->location);
        if (MHD_get_response_header(resp, "Cache-Control") == NULL)
                MHD_add_response_header(resp, "Cache-Control", "no-store");
        ret = MHD_queue_response(req->conn, status, resp);
        MHD_destroy_response(resp);
        req->status = status;
        req->replied = true;
        return ret;
}

enum MHD_Result cb_reply_response(struct cb_request *req, unsigned int status,
                                  struct MHD_Response *resp, const char *content_type)
{
        return queue(req, status, resp, content_type);
}

enum MHD_Result cb_reply_text(struct cb_request *req, unsigned int status, const char *content_type,
                              const char *text, size_t len)
{
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
        return queue(req, status, resp, content_type);
}

/* Reals are written with 15 significant digits: the shortest text for a value that came from
 * a decimal (30.966, not jansson's default 30.966000000000001). */
enum MHD_Result cb_reply_json(struct cb_request *req, unsigned int status, json_t *body)
{
        char *text = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
        struct MHD_Response *resp;

        json_decref(body);
        if (text == NULL)
                return MHD_NO; /* out of memory: drop the connection */
        resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
        if (resp == NULL) {
                free(text);
                return MHD_NO;
        }
        return queue(req, status, resp, "application/json; charset=utf-8");
}

enum MHD_Result cb_reply_error(struct cb_request *req, enum cb_err err, const char *fmt, ...)
{
        const struct cb_err_info *info = cb_err_info(err);
        char message[512];
        char *text;
        struct MHD_Response *resp;
        json_t *body;

        if (fmt != NULL) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(message, sizeof(message), fmt, ap);
                va_end(ap);
        } else {
                cb_strlcpy(message, info->message, sizeof(message));
        }
        body = json_pack("{s:{s:s,s:s}}", "error", "code", info->code, "message", message);
        text = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
        json_decref(body);
        if (text == NULL)
                return MHD_NO;
        resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
        if (resp == NULL) {
                free(text);
                return MHD_NO;
        }
        if (info->status == 401)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                        "Bearer realm=\"callbridge\"");
        if ((info->status == 503 || info->status == 429) &&
            (req->reply_header[0] == NULL ||
             strcasecmp(req->reply_header[0], MHD_HTTP_HEADER_RETRY_AFTER) != 0))
                MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
        if (info->status == 405 && req->allow[0] != '\0')
                MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, req->allow);
        if (info->status == 413)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
        return queue(req, info->status, resp, "application/json; charset=utf-8");
}

const char *cb_request_arg(struct cb_request *req, const char *name)
{
        return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *cb_request_header(struct cb_request *req, const char *name)
{
        return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

enum MHD_Result cb_reply_error_header(struct cb_request *req, enum cb_err err, const char *name,
                                      const char *value)
{
        req->reply_header[0] = name;
        req->reply_header[1] = value;
        return cb_reply_error(req, err, NULL);
}

/* Weak validators compare weakly (RFC 9110 §13.1.2): W/"x" matches "x". */
bool cb_etag_matches(const char *list, const char *etag)
{
        size_t n = strlen(etag);

        if (list == NULL)
                return false;
        while (*list != '\0') {
                list += strspn(list, " \t,");
                if (*list == '*')
                        return true;
                if (strncmp(list, "W/", 2) == 0)
                        list += 2;
                if (strncmp(list, etag, n) == 0 &&
                    (list[n] == '\0' || list[n] == ',' || list[n] == ' ' || list[n] == '\t'))
                        return true;
                list += strcspn(list, ",");
        }
        return false;
}

enum MHD_Result cb_reply_redirect(struct cb_request *req, unsigned int status, const char *location)
{
        free(req->location);
        req->location = strdup(location);
        if (req->location == NULL)
                return MHD_NO;
        return cb_reply_text(req, status, "text/plain; charset=utf-8", "", 0);
}
