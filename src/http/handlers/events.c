/* GET /api/events: Server-Sent Events for the caller's agent (src/events/ does the work).
 * The response is a content-reader stream; when nothing is pending the reader suspends the
 * connection and the events hub resumes it, so an idle stream holds no thread. */
#include <string.h>

#include "callbridge/events.h"
#include "callbridge/log.h"
#include "handlers/handlers.h"

#define BLOCK_SIZE 8192

static void suspend_conn(void *conn)
{
        MHD_suspend_connection(conn);
}

static void resume_conn(void *conn)
{
        MHD_resume_connection(conn);
}

static ssize_t read_events(void *cls, uint64_t pos, char *buf, size_t max)
{
        long n = cb_events_client_read(cls, buf, max);

        (void)pos;
        return n < 0 ? MHD_CONTENT_READER_END_OF_STREAM : (ssize_t)n;
}

/* The response is gone (stream ended, client left, server stopping): unregister. */
static void free_events(void *cls)
{
        struct cb_events_client *c = cls;

        cb_events_client_close(&c);
}

enum MHD_Result cb_handle_events(struct cb_request *req)
{
        const char *last = cb_request_header(req, "Last-Event-ID");
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        const struct cb_events_waker waker = {suspend_conn, resume_conn, req->conn,
                                              ci != NULL ? ci->connect_fd : -1};
        struct cb_events_client *client;
        struct MHD_Response *resp;
        uint64_t last_id = 0;
        enum cb_err err;

        if (last == NULL || last[0] == '\0')
                last = cb_request_arg(req, "last_event_id");
        if (last != NULL && last[0] == '\0')
                last = NULL;
        if (last != NULL && !cb_events_parse_id(last, &last_id))
                return cb_reply_error(req, CB_ERR_INVALID_QUERY,
                                      "Last-Event-ID must be an event id (decimal digits)");
        client = cb_events_client_open(req->agent.name, last_id, last != NULL, &waker, &err);
        if (client == NULL) {
                if (err == CB_ERR_NOT_READY)
                        return cb_reply_error(req, err,
                                              "no event stream can be opened here now; retry");
                return cb_reply_error(req, err, NULL);
        }
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, BLOCK_SIZE, read_events, client,
                                                 free_events);
        if (resp == NULL) {
                cb_events_client_close(&client);
                return MHD_NO;
        }
        MHD_add_response_header(resp, "Cache-Control", "no-cache");
        MHD_add_response_header(resp, "X-Accel-Buffering", "no");
        return cb_reply_response(req, 200, resp, "text/event-stream; charset=utf-8");
}
