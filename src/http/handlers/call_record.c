/* POST /api/call/record: audio for a call, in one of three forms (SPEC §4):
 *  - a raw body (audio/wav, audio/mpeg, audio/ogg, audio/webm) with ?call_id=;
 *  - multipart/form-data with one `call_id` field and one `audio` file (repeats are refused);
 *  - JSON {"call_id","recording_url"}: exactly a recording URL of our Twilio account, for a
 *    call placed through Twilio, fetched by a job that first checks it is this call's.
 * Audio streams through the recording writer (type check, SHA-256, sealing, storage) as it
 * arrives: memory stays flat whatever the size. Anything that goes wrong — the size cap
 * mid-stream, the wrong content, a client that hangs up — aborts the writer, so no blob and no
 * row are left. 201 {"recording_id","call_id","bytes","sha256","content_type"} once the blob
 * and its row are committed; 202 for the URL form.
 *
 * The blob's key is noted (storage_intents) before the first byte is written: without the note
 * nothing is written and the answer is 503 db_unavailable. After the blob, an error saving the
 * row is ambiguous (PostgreSQL may have committed it before the connection died): the blob is
 * kept and the answer is 503; if no row names it after [retention] orphan_grace_s, the
 * retention sweep removes it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "callbridge/crypto.h"
#include "callbridge/jobs.h"
#include "callbridge/log.h"
#include "callbridge/store_calls.h"
#include "callbridge/store_recordings.h"
#include "callbridge/telephony.h"
#include "handlers/handlers.h"

#define JSON_MAX  8192
#define FIELD_MAX 64
#define PP_BUFFER ((size_t)64 * 1024)

enum mode { RAW, MULTIPART, URL };

/* The multipart parts we take, each at most once. */
enum part { PART_NONE, PART_CALL_ID, PART_AUDIO, PART_OTHER };

struct upload {
        enum mode mode;
        struct cb_rec_writer *w;
        struct MHD_PostProcessor *pp;
        char call_id[FIELD_MAX + 1]; /* from the query (raw) or the form field (multipart) */
        size_t call_id_len;
        enum part last;      /* the part the previous iterator call was in */
        unsigned seen;       /* 1 << PART_CALL_ID | 1 << PART_AUDIO once begun */
        uint64_t part_bytes; /* received in the current part */
        enum cb_err err;     /* the first failure inside the multipart iterator */
        char msg[256];
        struct cb_buf json; /* URL form */
};

/* The call must exist and be the agent's (or any, for admins). With `provider_call_id`, its
 * telephony provider's call id is copied there ("" when it has none). */
static enum cb_err check_call_ext(struct cb_request *req, const char *id, char *provider_call_id,
                                  size_t id_size)
{
        struct cb_db *db;
        json_t *call = NULL;
        enum cb_qs qs;

        if (!cb_uuid_valid(id))
                return CB_ERR_NOT_FOUND;
        db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        if (db == NULL)
                return CB_ERR_DB_UNAVAILABLE;
        qs = cb_store_call_get_json(db, id, req->agent.admin ? NULL : req->agent.name, &call);
        cb_db_release(&db);
        if (qs > 0 && provider_call_id != NULL) {
                json_t *tel = json_object_get(call, "telephony");
                const char *provider = json_string_value(json_object_get(tel, "provider"));
                const char *sid = json_string_value(json_object_get(tel, "call_id"));
                bool ours = provider != NULL && strcmp(provider, req->env->tel->ops->name) == 0;
                if (!ours || sid == NULL || !cb_strlcpy(provider_call_id, sid, id_size))
                        provider_call_id[0] = '\0';
        }
        json_decref(call);
        return qs < 0 ? CB_ERR_DB_UNAVAILABLE : qs == 0 ? CB_ERR_NOT_FOUND : CB_ERR_NONE;
}

static enum cb_err check_call(struct cb_request *req, const char *id)
{
        return check_call_ext(req, id, NULL, 0);
}

/* What the URL form can refuse without asking the provider (SPEC §3: requests never wait on
 * it): a URL that is not exactly one of our account's recordings, and a call that has no call
 * at the provider for the recording to belong to. The fetch job then checks that the provider
 * says the recording is this call's. CB_ERR_NONE, or the error with `msg`. */
static enum cb_err check_source(struct cb_request *req, const char *call_id, const char *url,
                                char *msg, size_t msg_size)
{
        const struct cb_telephony_ops *ops = req->env->tel->ops;
        char sid[CB_TWILIO_RE_SID_LEN + 1], provider_call[64];
        enum cb_err e;

        if (ops->fetch_media == NULL || ops->recording_url_sid == NULL) {
                snprintf(msg, msg_size, "recording_url needs a telephony provider ([twilio])");
                return CB_ERR_INVALID_FIELD;
        }
        if (!ops->recording_url_sid(req->env->tel->self, url, sid)) {
                snprintf(msg, msg_size,
                         "recording_url must be exactly a recording of our %s account: %s",
                         ops->name, ops->recording_url_form ? ops->recording_url_form : "");
                return CB_ERR_INVALID_FIELD;
        }
        e = check_call_ext(req, call_id, provider_call, sizeof(provider_call));
        if (e == CB_ERR_NOT_FOUND)
                snprintf(msg, msg_size, "no call %.64s", call_id);
        else if (e == CB_ERR_NONE && provider_call[0] == '\0') {
                snprintf(msg, msg_size,
                         "the call has no %s call (yet) for a recording to belong to", ops->name);
                e = CB_ERR_INVALID_FIELD;
        }
        return e;
}

/* Note the writer's key before it writes: CB_ERR_NONE, or DB_UNAVAILABLE with the writer
 * aborted (nothing was written). */
static enum cb_err note_blob(struct cb_request *req, struct upload *u)
{
        struct cb_db *db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        enum cb_qs qs =
            db ? cb_store_storage_intent_note(db, cb_rec_writer_key(u->w)) : CB_QS_HARD_ERROR;

        cb_db_release(&db);
        if (qs >= 0)
                return CB_ERR_NONE;
        cb_rec_writer_abort(&u->w);
        return CB_ERR_DB_UNAVAILABLE;
}

/* Refuse the body from inside the iterator: `e` and a message, MHD_NO. */
static enum MHD_Result refuse(struct upload *u, enum cb_err e, const char *msg)
{
        u->err = e;
        snprintf(u->msg, sizeof(u->msg), "%s", msg);
        return MHD_NO;
}

/* Is this iterator call the start of a new part? MHD calls once per part with offset 0 (maybe
 * with no data), then with growing offsets; a part follows another of the same name when the
 * offset falls back to 0 after data, or when another part came between. (An empty part
 * followed by one of the same name reads as one part: nothing is joined.) */
static bool part_begins(struct upload *u, enum part p, uint64_t off)
{
        if (u->last == p && !(off == 0 && u->part_bytes > 0))
                return false;
        u->last = p;
        u->part_bytes = 0;
        return true;
}

/* An identity Content-Transfer-Encoding (or none): the only kind we read (RFC 7578 §4.7). */
static bool identity_encoding(const char *encoding)
{
        return encoding == NULL || strcasecmp(encoding, "binary") == 0 ||
               strcasecmp(encoding, "8bit") == 0 || strcasecmp(encoding, "7bit") == 0;
}

/* The form's fields: `call_id` (text) and one `audio` file, each at most once (a repeat would
 * be joined to the first), without transfer encoding; other fields are ignored. */
static enum MHD_Result iterate(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *filename, const char *content_type, const char *encoding,
                               const char *data, uint64_t off, size_t size)
{
        struct cb_request *req = cls;
        struct upload *u = req->stream;
        /* A part without name="..." reaches us with a NULL key: another field, ignored. */
        enum part p = key == NULL                   ? PART_OTHER
                      : strcmp(key, "call_id") == 0 ? PART_CALL_ID
                      : strcmp(key, "audio") == 0   ? PART_AUDIO
                                                    : PART_OTHER;

        (void)kind, (void)filename;
        if (part_begins(u, p, off) && p != PART_OTHER) {
                if (u->seen & (1u << p))
                        return refuse(u, CB_ERR_INVALID_BODY,
                                      p == PART_AUDIO ? "the form has more than one \"audio\" part"
                                                      : "the form has more than one \"call_id\"");
                u->seen |= 1u << p;
        }
        if (p == PART_OTHER)
                return MHD_YES; /* other fields are ignored */
        if (!identity_encoding(encoding))
                return refuse(u, CB_ERR_INVALID_BODY,
                              "form parts may not have a Content-Transfer-Encoding");
        u->part_bytes += size;
        if (p == PART_CALL_ID) {
                if (u->call_id_len + size > FIELD_MAX)
                        return refuse(u, CB_ERR_INVALID_FIELD, "call_id is too long");
                memcpy(u->call_id + u->call_id_len, data, size);
                u->call_id_len += size;
                u->call_id[u->call_id_len] = '\0';
                return MHD_YES;
        }
        if (u->w == NULL) {
                u->w = cb_rec_writer_new(req->env->rec, cb_rec_declared_type(content_type), u->msg,
                                         sizeof(u->msg));
                if (u->w == NULL) {
                        u->err = CB_ERR_STORAGE_UNAVAILABLE;
                        return MHD_NO;
                }
                if (note_blob(req, u) != CB_ERR_NONE)
                        return refuse(u, CB_ERR_DB_UNAVAILABLE,
                                      cb_err_info(CB_ERR_DB_UNAVAILABLE)->message);
        }
        u->err = cb_rec_writer_write(u->w, data, size, u->msg, sizeof(u->msg));
        return u->err == CB_ERR_NONE ? MHD_YES : MHD_NO;
}

/* Decide the form from the Content-Type; refuse early what cannot work. */
static bool record_begin(struct cb_request *req, enum MHD_Result *ret)
{
        const char *ct = cb_request_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
        const char *declared = cb_rec_declared_type(ct);
        struct upload *u = calloc(1, sizeof(*u));
        enum cb_err e;

        if (u == NULL) {
                *ret = MHD_NO;
                return true;
        }
        u->err = CB_ERR_NONE;
        u->json.max = JSON_MAX;
        req->stream = u;
        if (cb_content_type_is(ct, "application/json")) {
                u->mode = URL;
                return false;
        }
        if (!cb_recordings_enabled(req->env->rec)) {
                *ret = cb_reply_error(req, CB_ERR_STORAGE_UNAVAILABLE,
                                      "recordings are not configured ([storage] key_file)");
                return true;
        }
        if (cb_content_type_is(ct, "multipart/form-data")) {
                u->mode = MULTIPART;
                u->pp = MHD_create_post_processor(req->conn, PP_BUFFER, iterate, req);
                if (u->pp == NULL) {
                        *ret = cb_reply_error(req, CB_ERR_INVALID_BODY,
                                              "the multipart body has no boundary");
                        return true;
                }
                return false;
        }
        if (declared == NULL) {
                *ret = cb_reply_error(req, CB_ERR_UNSUPPORTED_MEDIA_TYPE,
                                      "Content-Type must be audio/wav, audio/mpeg, audio/ogg, "
                                      "audio/webm, multipart/form-data or application/json");
                return true;
        }
        u->mode = RAW;
        if (!cb_strlcpy(u->call_id, cb_request_arg(req, "call_id") ?: "", sizeof(u->call_id)) ||
            u->call_id[0] == '\0') {
                *ret = cb_reply_error(req, CB_ERR_INVALID_QUERY, "?call_id= is required");
                return true;
        }
        e = check_call(req, u->call_id);
        if (e != CB_ERR_NONE) {
                *ret = e == CB_ERR_NOT_FOUND ? cb_reply_error(req, e, "no call %.64s", u->call_id)
                                             : cb_reply_error(req, e, NULL);
                return true;
        }
        u->w = cb_rec_writer_new(req->env->rec, declared, u->msg, sizeof(u->msg));
        if (u->w == NULL) {
                *ret = cb_reply_error(req, CB_ERR_STORAGE_UNAVAILABLE, "%s", u->msg);
                return true;
        }
        if (note_blob(req, u) != CB_ERR_NONE) {
                *ret = cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
                return true;
        }
        return false;
}

static enum cb_err record_data(struct cb_request *req, const char *data, size_t len, char *msg,
                               size_t msg_size)
{
        struct upload *u = req->stream;
        enum cb_err e = CB_ERR_NONE;

        if (u->mode == URL) {
                if (cb_buf_append(&u->json, data, len) != 0) {
                        snprintf(msg, msg_size, "the JSON form may be at most %d bytes", JSON_MAX);
                        return CB_ERR_PAYLOAD_TOO_LARGE;
                }
                return CB_ERR_NONE;
        }
        if (u->mode == RAW)
                e = cb_rec_writer_write(u->w, data, len, msg, msg_size);
        else if (MHD_post_process(u->pp, data, len) != MHD_YES)
                e = u->err != CB_ERR_NONE ? u->err : CB_ERR_INVALID_BODY;
        if (u->mode == MULTIPART && e != CB_ERR_NONE)
                snprintf(msg, msg_size, "%s", u->msg[0] ? u->msg : "malformed multipart body");
        if (e != CB_ERR_NONE)
                cb_rec_writer_abort(&u->w);
        return e;
}

static void record_cleanup(struct cb_request *req)
{
        struct upload *u = req->stream;

        cb_rec_writer_abort(&u->w);
        if (u->pp != NULL)
                MHD_destroy_post_processor(u->pp);
        cb_buf_free(&u->json);
        free(u);
        req->stream = NULL;
}

static size_t record_limit(const struct cb_config *cfg)
{
        return (size_t)cfg->storage.max_upload_mb * 1024 * 1024;
}

const struct cb_stream_ops cb_record_stream = {
    .begin = record_begin,
    .data = record_data,
    .cleanup = record_cleanup,
    .limit = record_limit,
};

/* The URL form: a pending recording and its fetch job. */
static enum MHD_Result record_url(struct cb_request *req, struct upload *u)
{
        const char *call_id = NULL, *url = NULL, *bad = NULL;
        const struct cb_json_field fields[] = {
            {.name = "call_id",
             .type = CB_JSON_STRING,
             .required = true,
             .max_len = 64,
             .out = &call_id},
            {.name = "recording_url",
             .type = CB_JSON_STRING,
             .required = true,
             .max_len = 2048,
             .out = &url},
            CB_JSON_END,
        };
        char id[CB_UUID_LEN + 1], job[24], msg[256];
        json_t *body =
            json_loadb(u->json.data ? u->json.data : "", u->json.len, JSON_REJECT_DUPLICATES, NULL);
        struct cb_db *db;
        enum cb_err e;
        enum cb_qs qs;
        enum MHD_Result ret;

        if (!json_is_object(body)) {
                json_decref(body);
                return cb_reply_error(req, CB_ERR_MALFORMED_JSON, NULL);
        }
        e = cb_json_parse_fields(body, fields, &bad);
        if (e != CB_ERR_NONE) {
                ret = cb_reply_error(req, e, "field \"%s\" is missing or wrong", bad);
                json_decref(body);
                return ret;
        }
        e = check_source(req, call_id, url, msg, sizeof(msg));
        if (e != CB_ERR_NONE) {
                ret = e == CB_ERR_DB_UNAVAILABLE ? cb_reply_error(req, e, NULL)
                                                 : cb_reply_error(req, e, "%s", msg);
                json_decref(body);
                return ret;
        }
        cb_uuid_v4(id);
        db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        qs = db && cb_uuid_valid(call_id)
                 ? cb_store_recording_insert_pending(db, call_id,
                                                     req->agent.admin ? NULL : req->agent.name, id,
                                                     req->env->tel->ops->name, url, job)
             : db ? CB_QS_NO_RESULTS
                  : CB_QS_HARD_ERROR;
        cb_db_release(&db);
        if (qs < 0)
                ret = cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        else if (qs == 0)
                ret = cb_reply_error(req, CB_ERR_NOT_FOUND, "no call %.64s", call_id);
        else {
                cb_jobs_wake(req->env->jobs);
                ret = cb_reply_json(req, 202,
                                    json_pack("{s:s,s:s,s:s,s:s}", "recording_id", id, "call_id",
                                              call_id, "job_id", job, "status", "queued"));
        }
        json_decref(body);
        return ret;
}

/* Seal the end, then the row: a call that vanished meanwhile takes the blob with it; after an
 * error the row may have committed, so the blob stays (503; the sweep decides). */
static enum MHD_Result record_commit(struct cb_request *req, struct upload *u)
{
        struct cb_rec_stored out;
        struct cb_storage *st = req->env->rec->storage;
        struct cb_db *db;
        enum cb_err e;
        enum cb_qs qs;
        char msg[256];

        /* Noted again: a long upload's grace starts over before its blob becomes visible. */
        if (note_blob(req, u) != CB_ERR_NONE)
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        e = cb_rec_writer_finish(&u->w, &out, msg, sizeof(msg));
        if (e != CB_ERR_NONE)
                return cb_reply_error(req, e, "%s", msg);
        db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        qs = db ? cb_store_recording_insert_stored(
                      db, u->call_id, req->agent.admin ? NULL : req->agent.name,
                      &(struct cb_rec_row){.id = out.id,
                                           .storage_key = out.key,
                                           .content_type = out.content_type,
                                           .bytes = out.bytes,
                                           .sha256 = out.sha256,
                                           .key_id = out.key_id})
                : CB_QS_HARD_ERROR;
        cb_db_release(&db);
        if (qs > 0 && req->env->cfg->workers.debug_lost_commit_reply) {
                cb_warn("upload %s: [workers] debug_lost_commit_reply: reporting the committed "
                        "save as failed",
                        out.id);
                qs = CB_QS_HARD_ERROR;
        }
        if (qs < 0) {
                cb_warn("upload %s: saving the row failed, the blob %s is kept (the row may have "
                        "committed; if not, the retention sweep removes it)",
                        out.id, out.key);
                return cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL);
        }
        if (qs == 0) {
                if (st->ops->remove(st->self, out.key, msg, sizeof(msg)) != 0)
                        cb_warn("upload: could not remove the unused blob %s: %s", out.key, msg);
                return cb_reply_error(req, CB_ERR_NOT_FOUND, "no call %.64s", u->call_id);
        }
        cb_jobs_wake(req->env->jobs);
        return cb_reply_json(req, 201,
                             json_pack("{s:s,s:s,s:I,s:s,s:s}", "recording_id", out.id, "call_id",
                                       u->call_id, "bytes", (json_int_t)out.bytes, "sha256",
                                       out.sha256, "content_type", out.content_type));
}

enum MHD_Result cb_handle_call_record(struct cb_request *req)
{
        struct upload *u = req->stream;
        enum cb_err e;

        if (u->mode == URL)
                return record_url(req, u);
        if (u->mode == MULTIPART) {
                bool complete = MHD_destroy_post_processor(u->pp) == MHD_YES;
                u->pp = NULL;
                if (u->err != CB_ERR_NONE)
                        return cb_reply_error(req, u->err, "%s", u->msg);
                if (!complete)
                        return cb_reply_error(req, CB_ERR_INVALID_BODY,
                                              "the multipart body ends early");
                if (u->call_id[0] == '\0')
                        return cb_reply_error(req, CB_ERR_MISSING_FIELD,
                                              "the form needs a \"call_id\" field");
                if (u->w == NULL)
                        return cb_reply_error(req, CB_ERR_MISSING_FIELD,
                                              "the form needs an \"audio\" file part");
                e = check_call(req, u->call_id);
                if (e != CB_ERR_NONE)
                        return e == CB_ERR_NOT_FOUND
                                   ? cb_reply_error(req, e, "no call %.64s", u->call_id)
                                   : cb_reply_error(req, e, NULL);
        }
        return record_commit(req, u);
}
