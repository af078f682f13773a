/* Multipart uploads (POST /api/call/record), behind a real libmicrohttpd daemon fed over a
 * socketpair. Every input goes through the route's own stream ops (cb_record_stream: begin,
 * data, cleanup — src/http/handlers/call_record.c, its MHD_PostProcessor and part handler, the
 * recording writer) with storage in memory; property: nothing crashes and every blob the
 * upload began is gone once the request ends. There is no database here: the handler cannot
 * note the blob's key (storage intents) and refuses the upload with 503 once the parts before
 * the audio are parsed, so no blob is begun; fuzz_sniff and fuzz_blob cover the writer's
 * sniffing and sealing. The same bytes then go through a bare part handler that
 * keeps the route's rules (call_id capped at 64 bytes, one `audio` part, other fields and
 * nameless parts ignored) to check the parser itself. The first input byte picks the mode:
 *   even: structured. The input is a call_id, a '\n', then audio bytes; the body is built as a
 *     browser builds it, with a boundary that appears nowhere in the data. Property: the part
 *     handler gets the call_id and the audio back byte for byte, and the body is complete.
 *   odd: raw. The input is the boundary, a '\n', then the body as sent. Properties: every
 *     value arrives in order (each piece's offset is where the last ended), nothing is read
 *     past what was handed over (ASan), the call_id cap holds.
 * libmicrohttpd itself is the distribution's build (not instrumented): coverage guides the
 * fuzzer through our side only, and ASan checks every byte the parser hands us. */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "callbridge/recordings.h"
#include "callbridge/util.h"
#include "blob_int.h"
#include "fuzz.h"
#include "handlers/handlers.h"

#define FIELD_MAX 64
#define AUDIO_MAX (1 << 20)

/* What the part handler saw for one request. */
struct upload {
        struct MHD_PostProcessor *pp;
        char call_id[FIELD_MAX + 1];
        size_t call_id_len;
        bool too_long; /* the call_id cap refused the body */
        int audio_parts;
        struct cb_buf audio;
        char last_key[64];
        uint64_t next_off; /* where the next piece of last_key must start */
        bool stopped;      /* a part handler or the post processor said stop */
        bool complete;     /* the post processor saw the final boundary */
        bool finished;     /* the request handler's last call ran */
};

static struct MHD_Daemon *daemon_;
static struct upload *current; /* NULL: the request goes to the route's stream ops */

/* ---- the route's own stream ops, storage in memory ---- */

struct cb_storage_put {
        struct cb_buf data;
};

static int live_puts; /* blobs begun and neither committed nor aborted */

static int mem_put_begin(void *self, const char *key, struct cb_storage_put **put, char *err,
                         size_t err_size)
{
        (void)self, (void)key, (void)err, (void)err_size;
        *put = calloc(1, sizeof(**put));
        FUZZ_CHECK(*put != NULL);
        (*put)->data.max = 1 << 24;
        live_puts++;
        return 0;
}

static int mem_put_write(struct cb_storage_put *put, const void *data, size_t len, char *err,
                         size_t err_size)
{
        (void)err, (void)err_size;
        return cb_buf_append(&put->data, data, len);
}

static void mem_put_abort(struct cb_storage_put *put)
{
        cb_buf_free(&put->data);
        free(put);
        live_puts--;
}

static int mem_put_commit(struct cb_storage_put *put, char *err, size_t err_size)
{
        (void)err, (void)err_size;
        mem_put_abort(put);
        return 0;
}

static const struct cb_storage_ops mem_storage_ops = {
    .name = "fuzz-memory",
    .put_begin = mem_put_begin,
    .put_write = mem_put_write,
    .put_commit = mem_put_commit,
    .put_abort = mem_put_abort,
};

static struct cb_config cfg;
static struct cb_storage mem_storage = {.ops = &mem_storage_ops};
static struct cb_recordings recordings = {.cfg = &cfg, .storage = &mem_storage};
static struct cb_http_env env = {.cfg = &cfg, .rec = &recordings};

/* One request to the route: what the server does around cb_record_stream. */
struct route_req {
        struct cb_request req;
        bool refused; /* begin or data said no: the rest of the body is dropped */
};

static enum MHD_Result route_handle(struct MHD_Connection *c, const char *upload,
                                    size_t *upload_size, void **con_cls)
{
        struct route_req *r = *con_cls;
        struct MHD_Response *resp;
        enum MHD_Result ret = MHD_YES;

        if (r == NULL) {
                r = calloc(1, sizeof(*r));
                FUZZ_CHECK(r != NULL);
                r->req.conn = c;
                r->req.env = &env;
                r->req.deferred = CB_ERR_NONE;
                *con_cls = r;
                r->refused = cb_record_stream.begin(&r->req, &ret);
                return ret;
        }
        if (*upload_size > 0) {
                char msg[256] = "";
                if (!r->refused && cb_record_stream.data(&r->req, upload, *upload_size, msg,
                                                         sizeof(msg)) != CB_ERR_NONE)
                        r->refused = true;
                *upload_size = 0;
                return MHD_YES;
        }
        if (r->req.replied)
                return MHD_YES;
        resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
        ret = MHD_queue_response(c, r->refused ? 400 : 200, resp);
        MHD_destroy_response(resp);
        r->req.replied = true;
        return ret;
}

static enum MHD_Result iterate(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *filename, const char *content_type, const char *encoding,
                               const char *data, uint64_t off, size_t size)
{
        struct upload *u = cls;
        volatile char sink = 0;

        (void)kind, (void)filename, (void)content_type, (void)encoding;
        if (key == NULL)
                return MHD_YES;           /* a part without a name (name=x unquoted, or none) */
        for (size_t i = 0; i < size; i++) /* every byte handed over is readable (ASan) */
                sink ^= data[i];
        (void)sink;
        /* A value arrives in order: a new part starts at 0, a continuation where the last
         * piece of the same part ended. */
        if (off != 0) {
                FUZZ_CHECK(strcmp(key, u->last_key) == 0);
                FUZZ_CHECK(off == u->next_off);
        }
        snprintf(u->last_key, sizeof(u->last_key), "%s", key);
        u->next_off = off + size;
        if (strcmp(key, "call_id") == 0) {
                if (u->call_id_len + size > FIELD_MAX) {
                        u->too_long = true;
                        return MHD_NO;
                }
                memcpy(u->call_id + u->call_id_len, data, size);
                u->call_id_len += size;
                u->call_id[u->call_id_len] = '\0';
                return MHD_YES;
        }
        if (strcmp(key, "audio") != 0)
                return MHD_YES;
        if (off == 0)
                u->audio_parts++;
        if (u->audio_parts > 1)
                return MHD_NO; /* the handler's rule: one audio part */
        return cb_buf_append(&u->audio, data, size) == 0 ? MHD_YES : MHD_NO;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
        struct upload *u = current;
        struct MHD_Response *resp;
        enum MHD_Result ret;

        (void)cls, (void)url, (void)method, (void)version;
        if (u == NULL)
                return route_handle(c, upload, upload_size, con_cls);
        if (*con_cls == NULL) {
                *con_cls = u;
                u->pp = MHD_create_post_processor(c, 64 * 1024, iterate, u);
                return MHD_YES;
        }
        if (*upload_size > 0) {
                if (u->pp != NULL && !u->stopped &&
                    MHD_post_process(u->pp, upload, *upload_size) != MHD_YES)
                        u->stopped = true;
                *upload_size = 0;
                return MHD_YES;
        }
        if (u->pp != NULL)
                u->complete = MHD_destroy_post_processor(u->pp) == MHD_YES;
        u->pp = NULL;
        u->finished = true;
        resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
        ret = MHD_queue_response(c, 200, resp);
        MHD_destroy_response(resp);
        return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
        struct upload *u = *con_cls;

        (void)cls, (void)c, (void)toe;
        if (current == NULL) {
                struct route_req *r = *con_cls;
                if (r != NULL && r->req.stream != NULL)
                        cb_record_stream.cleanup(&r->req);
                free(r);
                *con_cls = NULL;
                return;
        }
        if (u != NULL && u->pp != NULL) {
                MHD_destroy_post_processor(u->pp);
                u->pp = NULL;
        }
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        static const char keys[] = "kAAAA0001 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n";
        char err[128] = "";

        (void)argc, (void)argv;
        recordings.keys = cb_keyring_parse(keys, strlen(keys), err, sizeof(err));
        FUZZ_CHECK(recordings.keys != NULL);
        daemon_ = MHD_start_daemon(MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL, handle, NULL,
                                   MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
                                   MHD_OPTION_CONNECTION_TIMEOUT, 5u, MHD_OPTION_END);
        FUZZ_CHECK(daemon_ != NULL);
        return 0;
}

/* Send `req` to the daemon over a fresh connection and run it until the daemon closes it. */
static void exchange(const struct cb_buf *req)
{
        struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(40000)};
        int sv[2];
        size_t sent = 0;
        char buf[4096];

        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
        FUZZ_CHECK(fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0);
        FUZZ_CHECK(MHD_add_connection(daemon_, sv[1], (struct sockaddr *)&addr, sizeof(addr)) ==
                   MHD_YES);
        for (int round = 0; round < 100000; round++) {
                ssize_t n;
                if (sent < req->len) {
                        n = write(sv[0], req->data + sent, req->len - sent);
                        if (n > 0)
                                sent += (size_t)n;
                        if (sent == req->len)
                                shutdown(sv[0], SHUT_WR);
                }
                FUZZ_CHECK(MHD_run(daemon_) == MHD_YES);
                n = read(sv[0], buf, sizeof(buf));
                if (n == 0)
                        break; /* the daemon answered and closed */
                if (n < 0 && errno != EAGAIN)
                        break;
                if (n < 0 && sent == req->len)
                        poll(&(struct pollfd){.fd = sv[0], .events = POLLIN}, 1, 1);
        }
        close(sv[0]);
        MHD_run(daemon_); /* let it notice, should it still hold the connection */
}

static void request(struct cb_buf *req, const char *boundary, const void *body, size_t len)
{
        FUZZ_CHECK(cb_buf_printf(req,
                                 "POST /api/call/record HTTP/1.1\r\nHost: cb.example.com\r\n"
                                 "Connection: close\r\n"
                                 "Content-Type: multipart/form-data; boundary=%s\r\n"
                                 "Content-Length: %zu\r\n\r\n",
                                 boundary, len) == 0);
        FUZZ_CHECK(cb_buf_append(req, body, len) == 0);
}

/* A boundary as browsers make them, and one that is in none of the data. */
static bool pick_boundary(char out[48], const uint8_t *data, size_t size)
{
        uint64_t h = 1469598103934665603u;

        for (size_t i = 0; i < size; i++)
                h = (h ^ data[i]) * 1099511628211u;
        snprintf(out, 48, "----WebKitFormBoundary%016llx", (unsigned long long)h);
        return memmem(data, size, out + 2, strlen(out) - 2) == NULL;
}

/* The structured request for `data` (call_id '\n' audio) into `req`: 0, or -1 when it cannot
 * be built (the boundary occurs in the data, or the call_id holds a NUL). */
static int structured_request(struct cb_buf *req, const uint8_t *data, size_t size)
{
        struct fuzz_in in = {data, size};
        size_t id_len;
        char *call_id = fuzz_field(&in, '\n', &id_len);
        struct cb_buf body = {.max = 1 << 24};
        char boundary[48];
        int rc = -1;

        if (pick_boundary(boundary, data, size) && memchr(data, '\0', id_len) == NULL) {
                FUZZ_CHECK(
                    cb_buf_printf(&body,
                                  "--%s\r\nContent-Disposition: form-data; name=\"call_id\"\r\n\r\n"
                                  "%s\r\n--%s\r\nContent-Disposition: form-data; name=\"audio\"; "
                                  "filename=\"call.wav\"\r\nContent-Type: audio/wav\r\n\r\n",
                                  boundary, call_id, boundary) == 0);
                FUZZ_CHECK(cb_buf_append(&body, in.p, in.n) == 0);
                FUZZ_CHECK(cb_buf_printf(&body,
                                         "\r\n--%s\r\nContent-Disposition: form-data; "
                                         "name=\"note\"\r\n\r\nignored\r\n--%s--\r\n",
                                         boundary, boundary) == 0);
                request(req, boundary, body.data, body.len);
                rc = 0;
        }
        cb_buf_free(&body);
        free(call_id);
        return rc;
}

/* The raw request (boundary '\n' body) into `req`. */
static void raw_request(struct cb_buf *req, const uint8_t *data, size_t size)
{
        struct fuzz_in in = {data, size};
        char *boundary = fuzz_field(&in, '\n', NULL);

        for (char *p = boundary; *p != '\0'; p++) /* it travels in a header line */
                if (*p == '\r' || (unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
                        *p = 'x';
        request(req, boundary, in.p, in.n);
        free(boundary);
}

/* What the bare part handler must have seen for a structured request. */
static void check_structured(const struct upload *u, const uint8_t *data, size_t size)
{
        struct fuzz_in in = {data, size};
        size_t id_len;
        char *call_id = fuzz_field(&in, '\n', &id_len);

        FUZZ_CHECK(u->finished);
        if (id_len > FIELD_MAX) {
                FUZZ_CHECK(u->too_long);
        } else {
                FUZZ_CHECK(u->complete && !u->stopped);
                FUZZ_CHECK(u->call_id_len == id_len && memcmp(u->call_id, call_id, id_len) == 0);
                FUZZ_CHECK(u->audio_parts <= 1);
                FUZZ_CHECK(u->audio.len == in.n &&
                           (in.n == 0 || memcmp(u->audio.data, in.p, in.n) == 0));
        }
        free(call_id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct upload u = {.audio = {.max = AUDIO_MAX}};
        struct cb_buf req = {.max = 1 << 24};
        bool structured = size > 0 && data[0] % 2 == 0;

        if (size == 0)
                return 0;
        if (structured) {
                if (structured_request(&req, data + 1, size - 1) != 0)
                        return 0;
        } else {
                raw_request(&req, data + 1, size - 1);
        }
        /* The route's own stream ops (current NULL): every blob begun is gone at the end. */
        exchange(&req);
        FUZZ_CHECK(live_puts == 0);
        /* The bare part handler on the same request. */
        current = &u;
        exchange(&req);
        current = NULL;
        if (structured)
                check_structured(&u, data + 1, size - 1);
        FUZZ_CHECK(u.call_id_len <= FIELD_MAX);
        FUZZ_CHECK(u.audio.len <= req.len);
        if (u.pp != NULL)
                MHD_destroy_post_processor(u.pp);
        cb_buf_free(&u.audio);
        cb_buf_free(&req);
        return 0;
}
