/* callbridge-sandbox: what the sandbox's files share. Sandbox-local, never installed.
 *
 * The sandbox is one libmicrohttpd server standing in for the upstreams (Salesforce, Twilio,
 * OpenAI, Google, S3) plus the /__sandbox/ control API of SPEC §7. Its state lives in memory
 * (sb_state.c) under one mutex; sb_server.c routes requests through one static table and applies
 * the configured faults to upstream routes (never to control routes). */
#ifndef CALLBRIDGE_SANDBOX_H
#define CALLBRIDGE_SANDBOX_H

#include <jansson.h>
#include <microhttpd.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- configuration (sb_main.c) ---------------------------------------------------------- */

/* Everything given on the command line, secrets already read. Owned by sb_main.c; read-only and
 * valid for the server's whole life, so handlers may borrow any field. */
struct sb_config {
        char *listen_host;           /* host part of --listen, brackets removed */
        char *listen_port;           /* port part of --listen */
        unsigned int threads;        /* libmicrohttpd thread pool size */
        bool verbose;                /* log every request */
        char *twilio_account_sid;    /* NULL when not given */
        char *twilio_auth_token;     /* contents of --twilio-auth-token-file, trimmed; or NULL */
        char *twilio_api_key_sid;    /* --twilio-api-key-sid: an API key for REST auth, or NULL */
        char *twilio_api_key_secret; /* contents of --twilio-api-key-secret-file, or NULL */
        char *sf_client_id;          /* NULL when not given */
        EVP_PKEY *sf_public_key;     /* from --sf-cert-file (certificate or public key); or NULL */
        char *sf_client_secret;      /* contents of --sf-client-secret-file, trimmed; or NULL */
        char *public_url;            /* --public-url (no trailing slash), or NULL: from --listen */
        char *s3_access_key_id;      /* --s3-access-key-id, or NULL: S3 answers AccessDenied */
        char *s3_secret;             /* contents of --s3-secret-access-key-file, or NULL */
        char *s3_bucket;             /* --s3-bucket, default "callbridge" */
        char *s3_region;             /* --s3-region, default "us-east-1" */
        char *openai_api_key;        /* contents of --openai-api-key-file, or NULL: any key */
        char *google_api_key;        /* contents of --google-api-key-file, or NULL */
        EVP_PKEY *google_sa_key;     /* from --google-sa-cert-file: service-account JWT checks */
        char *hs_access_token;       /* contents of --hs-access-token-file (private app), or NULL */
        char *hs_client_id;          /* --hs-client-id (OAuth), or NULL */
        char *hs_client_secret;      /* contents of --hs-client-secret-file, or NULL */
        char *hs_refresh_token;      /* contents of --hs-refresh-token-file, or NULL */
};

/* One JSON log line on stderr: {"ts","level","component":"sandbox","msg"}. Never fails
 * visibly; a line that cannot be built is dropped. `level` is "error", "warn", "info"... */
void sb_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- faults (sb_faults.c, settings kept in sb_state.c) ---------------------------------- */

enum sb_fault {
        SB_FAULT_NONE = 0,
        SB_FAULT_ERROR,      /* answer with the upstream's 5xx */
        SB_FAULT_TIMEOUT,    /* hold the request timeout_ms, then drop it without an answer */
        SB_FAULT_RATE_LIMIT, /* answer with the upstream's rate-limit reply */
};

#define SB_FAULT_MAX_LATENCY_MS     60000L
#define SB_FAULT_MAX_TIMEOUT_MS     600000L
#define SB_FAULT_DEFAULT_TIMEOUT_MS 30000L

/* The fault settings of POST /__sandbox/faults. All zero/false means no faults, except
 * timeout_ms which defaults to SB_FAULT_DEFAULT_TIMEOUT_MS. */
struct sb_faults {
        double error_rate;             /* [0,1] */
        double timeout_rate;           /* [0,1] */
        double rate_limit_rate;        /* [0,1]; the three rates sum to at most 1 */
        double webhook_duplicate_rate; /* [0,1] chance an outgoing webhook is sent twice */
        long latency_ms;               /* added before every upstream answer */
        long timeout_ms;               /* how long a "timeout" holds the connection */
        bool webhook_shuffle;          /* deliver queued outgoing webhooks out of order */
};

/* Roll the dice for one upstream request without sleeping: returns the fault to inject and
 * stores the latency to add in `*latency_ms`. Used by sb_server.c, which waits asynchronously. */
enum sb_fault sb_fault_roll(const char *endpoint, long *latency_ms);
/* Sleep the configured latency in the calling thread, then roll the dice. For threads of our
 * own (e.g. an outgoing webhook sender); never call it on a libmicrohttpd thread. */
enum sb_fault sb_fault_decide(const char *endpoint);
/* True with probability webhook_duplicate_rate: send this outgoing webhook twice. */
bool sb_fault_webhook_duplicate(void);
/* True when outgoing webhooks are to be shuffled. */
bool sb_fault_webhook_shuffle(void);
/* Uniform random double in [0,1), from a per-thread generator seeded from OpenSSL. */
double sb_random_unit(void);
/* "none", "error", "timeout" or "rate_limit". */
const char *sb_fault_name(enum sb_fault fault);

/* ---- state (sb_state.c) ----------------------------------------------------------------- */

/* A decoded seeded recording. */
struct sb_blob {
        char *key;           /* the recording SID */
        unsigned char *data; /* the WAV bytes */
        size_t len;
};

/* Create the empty state; -1 when out of memory. Call once before the server starts. */
int sb_state_init(void);
/* Free all state; safe to call twice or without init. */
void sb_state_destroy(void);
/* Forget every record, call, counter, transcript, recording and fault setting. */
void sb_state_reset(void);

/* Apply a validated seed in one step, under the lock. Takes ownership of everything given:
 * `records` {"Type":[{"Id",...}]} is merged by Id (fields of an existing record are updated),
 * `transcripts` {"<sha256 lower hex>":"text"} and the `n_rec` blobs replace same-keyed entries.
 * Each argument may be NULL/0. Returns 0, or -1 when out of memory (state may be half seeded). */
int sb_state_seed_take(json_t *records, json_t *transcripts, struct sb_blob *recs, size_t n_rec);

/* A deep copy of the whole state as GET /__sandbox/state shows it; caller owns it.
 * NULL when out of memory. With `twilio_summary` (?twilio=summary) the Twilio calls, webhook
 * log and recordings are replaced by counts ("twilio"), which stay small however many calls
 * were placed. */
json_t *sb_state_snapshot(bool twilio_summary);

/* {"requests":{endpoint:n},"in_flight_max":{endpoint:n},"twilio":{counts,
 * sb_tw_state_summary_locked}}: counters without the records, small at any size
 * (GET /__sandbox/summary); caller owns it. NULL when out of memory. in_flight_max is the
 * most requests to an endpoint answered at once since the last reset (a client's concurrency
 * bound shows there). */
json_t *sb_state_summary(void);

/* One more (delta 1) or one fewer (-1) request to `endpoint` being answered now (a static
 * string), for in_flight_max. Out of memory: not counted. */
void sb_state_in_flight(const char *endpoint, int delta);
/* Count one request to an upstream endpoint. Out of memory: the count is lost. */
void sb_state_count_request(const char *endpoint);
/* Append a placed Twilio call (stolen). Out of memory: the call is lost. */
void sb_state_twilio_call_add_take(json_t *call);
/* The twilio_calls array (borrowed; NULL when out of memory). Lock held. */
json_t *sb_state_twilio_calls_locked(void);

/* Copy of the transcript seeded for this audio hash (lower hex), or NULL; caller frees. */
char *sb_state_transcript_dup(const char *sha256_hex);
/* Copy of a seeded recording into *data and *len (caller frees *data); false when unknown or
 * out of memory. */
bool sb_state_recording_dup(const char *sid, unsigned char **data, size_t *len);

/* Current fault settings, copied out / replaced. */
void sb_state_faults_get(struct sb_faults *out);
void sb_state_faults_set(const struct sb_faults *in);

/* Raw access for upstream emulations that read and write records (query, upsert...). Take the
 * lock, use the borrowed arrays, release the lock; never keep a borrowed pointer after
 * unlocking. `create` adds an empty array for a type not seen yet (NULL when out of memory). */
void sb_state_lock(void);
void sb_state_unlock(void);
json_t *sb_state_records_locked(const char *type, bool create);
/* The whole {"Type":[...]} records object (borrowed), and its replacement (stolen; NULL is
 * ignored), for all-or-none rollbacks. Lock held. */
json_t *sb_state_records_all_locked(void);
void sb_state_records_replace_locked(json_t *all);
/* Borrowed record of `type` whose "Id" is `id`, or NULL. Lock held. */
json_t *sb_state_record_find_locked(const char *type, const char *id);

/* ---- HTTP server (sb_server.c) ---------------------------------------------------------- */

/* What a handler sees of a request; every pointer is valid until the handler returns. */
struct sb_request {
        struct MHD_Connection *conn;
        const struct sb_config *cfg;
        const char *method;
        const char *path; /* decoded path, no query string */
        const char *body; /* NUL-terminated copy of the body ("" when empty) */
        size_t body_len;
        uint64_t body_seen; /* bytes of body received, also past a route's cap */
};

#define SB_REPLY_MAX_HEADERS 8

/* What a handler answers. Fill it with the sb_reply_* helpers; sb_server.c owns and frees it. */
struct sb_reply {
        unsigned int status;
        const char *content_type; /* static string */
        char *body;               /* malloc'd */
        size_t body_len;
        size_t n_headers;
        struct {
                const char *name; /* static string */
                char *value;      /* malloc'd */
        } headers[SB_REPLY_MAX_HEADERS];
};

typedef void (*sb_handler_fn)(const struct sb_request *req, struct sb_reply *reply);

/* One emulated upstream: the name used in logs and how it answers an injected fault in its own
 * dialect (Salesforce error arrays, Twilio error objects...). `fault_reply` may be NULL for the
 * generic {"error":{...}} 500/429 replies; it is only called for SB_FAULT_ERROR and
 * SB_FAULT_RATE_LIMIT. */
struct sb_upstream {
        const char *name;
        void (*fault_reply)(enum sb_fault fault, const struct sb_request *req,
                            struct sb_reply *reply);
        /* The counter name of a request when the route's `endpoint` is NULL (an upstream whose
         * operations share method and path, like S3's); NULL otherwise. */
        const char *(*endpoint)(struct MHD_Connection *conn, const char *method);
        /* Optional: the upstream's own answer to a body over the route's cap (else a generic
         * 413); req->body is then empty and req->body_seen tells the size. */
        void (*too_large_reply)(const struct sb_request *req, struct sb_reply *reply);
        /* Optional: latency added to every request of this upstream, beyond the faults'. */
        long (*extra_latency_ms)(void);
};

/* One row of the route table in sb_server.c. `pattern` is an fnmatch(3) pattern over the path with
 * FNM_PATHNAME ("*" never crosses "/"). Rows whose pattern is "/" followed by two stars are
 * fallbacks, tried only for a path no other row has under any method, outside /__, /services/,
 * /2010-04-01/, /crm/, /oauth/ and /account-info/ (S3's /<bucket>/<key>). Rows with an `upstream`
 * are counted under `endpoint` (or the upstream's classification when NULL) and get faults; rows
 * without one (the control API) never do. `max_body` 0 means 1 MiB. */
struct sb_route {
        const char *method;
        const char *pattern;
        sb_handler_fn handler;
        const char *endpoint;
        const struct sb_upstream *upstream;
        size_t max_body;
};

/* The route table (sb_routes.c): first match on the path wins for a method; a path matched
 * only under other methods answers 405 with Allow; max_body 0 is the server's default. */
extern const struct sb_route sb_routes[];
extern const size_t sb_routes_count;

struct sb_server;

/* Bind and start serving on cfg->listen_host:listen_port. Returns NULL after logging why
 * (bad address, port in use, out of memory). `cfg` is borrowed for the server's life. */
struct sb_server *sb_server_start(const struct sb_config *cfg);
/* The port actually bound (useful with port 0). */
unsigned int sb_server_port(const struct sb_server *srv);
/* Drop delayed requests, stop all threads, free everything, set *srv to NULL. NULL-safe. */
void sb_server_stop(struct sb_server **srv);

/* Reply helpers. On out of memory they leave a bodyless 500. */
void sb_reply_json_take(struct sb_reply *reply, unsigned int status, json_t *body);
void sb_reply_error(struct sb_reply *reply, unsigned int status, const char *code, const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));
void sb_reply_data(struct sb_reply *reply, unsigned int status, const char *content_type,
                   const void *data, size_t len);
/* Add a response header; the value is copied. Silently dropped past SB_REPLY_MAX_HEADERS. */
void sb_reply_header(struct sb_reply *reply, const char *name, const char *value);
/* Free what a reply holds (body, headers); the struct itself is the caller's. */
void sb_reply_free(struct sb_reply *reply);

/* Request header / query argument (borrowed from libmicrohttpd) or NULL. */
const char *sb_request_header(const struct sb_request *req, const char *name);
const char *sb_request_query(const struct sb_request *req, const char *name);
/* Parse the body as JSON. Returns a new reference, or NULL after setting a 400
 * malformed_json reply. */
json_t *sb_request_json(const struct sb_request *req, struct sb_reply *reply);

/* ---- control API (sb_control.c) --------------------------------------------------------- */

void sb_control_seed(const struct sb_request *req, struct sb_reply *reply);
void sb_control_state(const struct sb_request *req, struct sb_reply *reply);
void sb_control_summary(const struct sb_request *req, struct sb_reply *reply);
void sb_control_faults_get(const struct sb_request *req, struct sb_reply *reply);
void sb_control_faults_set(const struct sb_request *req, struct sb_reply *reply);
void sb_control_reset(const struct sb_request *req, struct sb_reply *reply);
void sb_control_health(const struct sb_request *req, struct sb_reply *reply);

/* The JSON form of fault settings (new reference, NULL when out of memory). */
json_t *sb_faults_to_json(const struct sb_faults *f);

/* ---- Salesforce emulation (sf_*.c; see sf_emu.h) ---------------------------------------- */

/* The Salesforce upstreams: fault replies in the token endpoint's {"error","error_description"}
 * dialect and in the REST [{"message","errorCode"}] dialect. */
extern const struct sb_upstream sb_sf_oauth_upstream;
extern const struct sb_upstream sb_sf_rest_upstream;

void sb_sf_token(const struct sb_request *req, struct sb_reply *reply);
void sb_sf_userinfo(const struct sb_request *req, struct sb_reply *reply);
/* GET and POST /services/oauth2/authorize: the login page and its answer (sf_authorize.c). */
void sb_sf_authorize(const struct sb_request *req, struct sb_reply *reply);
void sb_sf_rest(const struct sb_request *req, struct sb_reply *reply);
/* Answer a path under /services/ that no route matched (Salesforce's 404 NOT_FOUND). */
void sb_sf_unrouted(const struct sb_request *req, struct sb_reply *reply);

void sb_sf_control_expire(const struct sb_request *req, struct sb_reply *reply);
void sb_sf_control_session(const struct sb_request *req, struct sb_reply *reply);
void sb_sf_control_refresh_token(const struct sb_request *req, struct sb_reply *reply);
void sb_sf_control_revoke(const struct sb_request *req, struct sb_reply *reply);
void sb_sf_control_schema(const struct sb_request *req, struct sb_reply *reply);
void sb_sf_control_limits(const struct sb_request *req, struct sb_reply *reply);

/* Salesforce state kept beside the records (tokens, usage, schema). Called by sb_state.c with the
 * lock held: reset restores the defaults (-1 when out of memory), clear frees everything. */
int sb_sf_state_reset_locked(void);
void sb_sf_state_clear_locked(void);
/* Fill what Salesforce derives on a seeded record (Name of a Contact or Lead). Lock held. */
void sb_sf_record_seeded_locked(const char *type, json_t *rec);

/* ---- HubSpot emulation (hs_*.c; see hs_emu.h) ------------------------------------------- */

/* HubSpot's CRM API: errors as {"status":"error","message","correlationId","category"}, 429
 * with policyName, X-HubSpot-RateLimit-* headers. Without --hs-access-token-file and
 * --hs-refresh-token-file any bearer token is taken. */
extern const struct sb_upstream sb_hs_upstream;
/* Every /crm/ and /account-info/ route: authenticate, count the budgets, dispatch. */
void sb_hs_api(const struct sb_request *req, struct sb_reply *reply);
/* POST /oauth/v1/token (grant_type=refresh_token). */
void sb_hs_token(const struct sb_request *req, struct sb_reply *reply);
void sb_hs_control_schema(const struct sb_request *req, struct sb_reply *reply);
void sb_hs_control_expire(const struct sb_request *req, struct sb_reply *reply);
void sb_hs_control_limits(const struct sb_request *req, struct sb_reply *reply);
/* The "hubspot" key of a seed: check it whole (false with a message in `err`), then apply it
 * (takes the lock; -1 when out of memory, possibly half applied). `hs` is borrowed. */
bool sb_hs_seed_check(json_t *hs, char *err, size_t len);
int sb_hs_seed_apply(json_t *hs);
/* HubSpot state. Lock held: reset restores the defaults (-1 when out of memory), clear frees
 * everything, snapshot adds "hubspot" to `snap` (counts only with `summary`; -1 on failure). */
int sb_hs_state_reset_locked(void);
void sb_hs_state_clear_locked(void);
int sb_hs_state_snapshot_locked(json_t *snap, bool summary);

/* ---- Twilio emulation (tw_*.c; see tw_emu.h) -------------------------------------------- */

/* Twilio's REST API: fault replies as Twilio error objects (500 20500, 429 20429). */
extern const struct sb_upstream sb_tw_upstream;

void sb_tw_calls_create(const struct sb_request *req, struct sb_reply *reply);
void sb_tw_calls_list(const struct sb_request *req, struct sb_reply *reply);
void sb_tw_calls_fetch(const struct sb_request *req, struct sb_reply *reply);
void sb_tw_call_recordings(const struct sb_request *req, struct sb_reply *reply);
void sb_tw_control_calls(const struct sb_request *req, struct sb_reply *reply);
void sb_tw_calls_update(const struct sb_request *req, struct sb_reply *reply);
void sb_tw_call_recording_update(const struct sb_request *req, struct sb_reply *reply);
void sb_tw_conferences_list(const struct sb_request *req, struct sb_reply *reply);
void sb_tw_conference_fetch(const struct sb_request *req, struct sb_reply *reply);
void sb_tw_participants_list(const struct sb_request *req, struct sb_reply *reply);
void sb_tw_participant_create(const struct sb_request *req, struct sb_reply *reply);
void sb_tw_participant_fetch(const struct sb_request *req, struct sb_reply *reply);
void sb_tw_participant_update(const struct sb_request *req, struct sb_reply *reply);
void sb_tw_participant_delete(const struct sb_request *req, struct sb_reply *reply);
void sb_tw_recording_fetch(const struct sb_request *req, struct sb_reply *reply);
void sb_tw_recording_delete(const struct sb_request *req, struct sb_reply *reply);
void sb_tw_recording_media(const struct sb_request *req, struct sb_reply *reply);
/* GET /__media/<RE>.wav?Expires=&Signature=: the short-lived, unauthenticated media URL. */
void sb_tw_media(const struct sb_request *req, struct sb_reply *reply);
/* Answer a path under /2010-04-01/ that no route matched (Twilio's 404 20404). */
void sb_tw_unrouted(const struct sb_request *req, struct sb_reply *reply);
void sb_tw_control_outcome(const struct sb_request *req, struct sb_reply *reply);

/* Start the webhook sender threads once the server is bound to `port` (the base URL of
 * recording links comes from cfg->public_url or the listen host and this port). -1 after
 * logging why. */
int sb_tw_start(const struct sb_config *cfg, unsigned int port);
/* Stop the senders (calls still playing are abandoned) and free their queue. Safe to call
 * without a start or twice. */
void sb_tw_stop(void);

/* ---- S3 emulation (s3_api.c, s3_state.c, s3_sig.c; see s3_emu.h) ------------------------ */

/* S3: fault replies as S3 XML errors (500 InternalError, 503 SlowDown); counters s3.put,
 * s3.get, s3.head, s3.delete, s3.multipart.{create,part,complete,abort}. */
extern const struct sb_upstream sb_s3_upstream;
/* Every S3 request: path-style /<bucket>/<key>, SigV4-verified, dispatched on method+query. */
void sb_s3_handle(const struct sb_request *req, struct sb_reply *reply);
/* Objects and uploads in progress. Lock held: clear frees everything; snapshot adds
 * "s3":{"objects":[{"key","size","sha256"}],"uploads":N} to `snap` (-1 on failure). */
void sb_s3_state_clear_locked(void);
int sb_s3_state_snapshot_locked(json_t *snap);

/* Twilio state beside the calls (outcomes, webhook log, recordings). Called by sb_state.c with
 * the lock held: reset restores the defaults (-1 when out of memory), clear frees everything,
 * snapshot adds "twilio_webhooks" and "twilio_recordings" copies to `snap` (-1 on failure). */
int sb_tw_state_reset_locked(void);
void sb_tw_state_clear_locked(void);
int sb_tw_state_snapshot_locked(json_t *snap);
/* The Twilio counts of GET /__sandbox/summary and /__sandbox/state?twilio=summary: calls,
 * calls_by_status, calls_live (not in a final status), webhooks by outcome, retries,
 * recordings (new reference, NULL when out of memory). */
json_t *sb_tw_state_summary_locked(void);

/* ---- speech-to-text emulation (stt_*.c; see stt_emu.h) ---------------------------------- */

/* OpenAI (POST /v1/audio/transcriptions, errors as {"error":{"message","type",...}}) and
 * Google (POST /v1/speech:recognize and its token endpoint, errors as
 * {"error":{"code","message","status"}}); both add the STT latency of /__sandbox/stt. */
extern const struct sb_upstream sb_stt_openai_upstream;
extern const struct sb_upstream sb_stt_google_upstream;
void sb_stt_openai_transcribe(const struct sb_request *req, struct sb_reply *reply);
void sb_stt_google_recognize(const struct sb_request *req, struct sb_reply *reply);
void sb_stt_google_token(const struct sb_request *req, struct sb_reply *reply);
/* POST /__sandbox/stt: {"latency_ms","retry_after_s","retry_after_ms","unseeded"}. */
void sb_stt_control(const struct sb_request *req, struct sb_reply *reply);
/* STT state beside the rest (settings, recent requests, issued tokens). Lock held: clear
 * frees everything and restores the defaults; snapshot adds "stt" to `snap` (-1 on failure). */
void sb_stt_state_clear_locked(void);
int sb_stt_state_snapshot_locked(json_t *snap);

/* ---- the LLM's chat completions (llm_chat.c) ---- */
extern const struct sb_upstream sb_llm_upstream;
void sb_llm_chat(const struct sb_request *req, struct sb_reply *reply);
/* POST /__sandbox/llm {"mode","latency_ms"}; GET: the settings and recent requests. */
void sb_llm_control(const struct sb_request *req, struct sb_reply *reply);
void sb_llm_control_get(const struct sb_request *req, struct sb_reply *reply);
void sb_llm_state_clear_locked(void);

#endif
