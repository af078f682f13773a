/* Every configuration key lives in this table and nowhere else: the loader, the
 * environment overrides, --check-config, reload and --help-config (help.c) all read it. */
#include "settings.h"

#include <stddef.h>

#include "callbridge/config.h"

#define OFF(field) offsetof(struct cb_config, field)
#define STR(s, k, field, def, help)                                                                \
        {                                                                                          \
                s, k, CB_SET_STRING, OFF(field), def, 0, 0, NULL, 0, help                          \
        }
#define INT(s, k, field, def, lo, hi, flags, help)                                                 \
        {                                                                                          \
                s, k, CB_SET_INT, OFF(field), def, lo, hi, NULL, flags, help                       \
        }
#define BOOL(s, k, field, def, help)                                                               \
        {                                                                                          \
                s, k, CB_SET_BOOL, OFF(field), def, 0, 0, NULL, 0, help                            \
        }
#define ENUM(s, k, field, def, choices, flags, help)                                               \
        {                                                                                          \
                s, k, CB_SET_ENUM, OFF(field), def, 0, 0, choices, flags, help                     \
        }
#define FILE_(s, k, field, help)                                                                   \
        {                                                                                          \
                s, k, CB_SET_FILE, OFF(field), NULL, 0, 0, NULL, 0, help                           \
        }
#define URL(s, k, field, def, schemes, help)                                                       \
        {                                                                                          \
                s, k, CB_SET_URL, OFF(field), def, 0, 0, schemes, 0, help                          \
        }

const struct cb_setting cb_settings[] = {
    {"server", "listen", CB_SET_HOSTPORT, OFF(server.listen), "127.0.0.1:8080", 0, 0, NULL, 0,
     "address and port the HTTP server binds"},
    URL("server", "public_url", server.public_url, "http://127.0.0.1:8080", "http://|https://",
        "the URL Twilio and the CRM reach this daemon at; used for webhook signatures"),
    INT("server", "threads", server.threads, "32", 1, 1024, 0,
        "HTTP threads; a request waiting for its commit holds one, so this bounds concurrency"),
    INT("server", "max_body_bytes", server.max_body_bytes, "65536", 1024, 1073741824, 0,
        "largest JSON request body accepted"),
    {"server", "default_region", CB_SET_REGION, OFF(server.default_region), "US", 0, 0, NULL, 0,
     "ISO country used to read phone numbers written without +country code"},
    INT("server", "connection_timeout_s", server.connection_timeout_s, "30", 1, 3600, 0,
        "a request must arrive in full (headers and body) within this, and idle client connections "
        "are closed after it"),
    INT("server", "max_connections", server.max_connections, "4096", 16, 1000000, 0,
        "concurrent client connections"),
    INT("server", "max_connections_per_ip", server.max_connections_per_ip, "256", 0, 1000000, 0,
        "concurrent connections from one client address, 0 for no limit (behind a proxy, every "
        "client has the proxy's address)"),
    INT("server", "drain_timeout_s", server.drain_timeout_s, "20", 0, 3600, 0,
        "on SIGTERM, how long in-flight requests and jobs may take to finish"),
    INT("server", "sse_heartbeat_s", server.sse_heartbeat_s, "15", 1, 3600, CB_SET_RELOAD,
        "GET /api/events sends a `: ping` comment this often"),
    INT("server", "sse_max_streams", server.sse_max_streams, "1000", 1, 1000000, 0,
        "open event streams per instance; more get 503"),
    INT("server", "sse_max_streams_per_agent", server.sse_max_streams_per_agent, "10", 1, 100000, 0,
        "open event streams per agent per instance; more get 429"),
    INT("server", "sse_buffer_events", server.sse_buffer_events, "1024", 16, 1000000, 0,
        "recent events kept per instance for Last-Event-ID resume"),

    STR("database", "url", database.url, "postgresql:///callbridge",
        "libpq connection URI or key=value string"),
    INT("database", "pool_size", database.pool_size, "16", 1, 1024, 0,
        "PostgreSQL connections per instance (HTTP threads and workers share them)"),
    BOOL("database", "auto_migrate", database.auto_migrate, "false",
         "apply pending migrations at start-up"),
    INT("database", "connect_timeout_s", database.connect_timeout_s, "3", 1, 60, 0,
        "PostgreSQL connect timeout"),
    INT("database", "statement_timeout_ms", database.statement_timeout_ms, "5000", 0, 3600000, 0,
        "server-side statement timeout (0 = none)"),

    URL("redis", "url", redis.url, "redis://127.0.0.1:6379/0", "redis://|unix://",
        "redis://host:port/db or unix:///path/to/socket"),
    INT("redis", "lookup_ttl_s", redis.lookup_ttl_s, "300", 1, 86400, CB_SET_RELOAD,
        "how long a caller lookup stays cached"),
    INT("redis", "lookup_negative_ttl_s", redis.lookup_negative_ttl_s, "30", 1, 86400,
        CB_SET_RELOAD, "how long an unknown number stays cached as unknown"),
    INT("redis", "lookup_local_ms", redis.lookup_local_ms, "1000", 0, 1000, CB_SET_RELOAD,
        "how long a lookup read from Redis is also kept in this process (0 = not kept); a "
        "record created in the CRM is seen by every instance at most this much later"),
    INT("redis", "lookup_local_entries", redis.lookup_local_entries, "10000", 0, 1000000, 0,
        "numbers the in-process lookup cache holds at most (0 = no in-process cache)"),
    STR("redis", "key_prefix", redis.key_prefix,
        "cb:", "prefix of every key callbridge writes (several deployments may share one Redis)"),
    INT("redis", "timeout_ms", redis.timeout_ms, "500", 10, 60000, 0,
        "Redis connect and command timeout"),

    INT("workers", "threads", workers.threads, "4", 1, 256, 0, "job worker threads"),
    INT("workers", "intake_threads", workers.intake_threads, "2", 0, 256, 0,
        "job workers that keep claiming while POST /api/call/initiate is saturated (a commit "
        "of 8 or more new calls in the last 50 ms); the others pause meanwhile so the intake "
        "gets the cores. 0: no pause"),
    INT("workers", "max_attempts", workers.max_attempts, "25", 1, 100, 0,
        "failed attempts before a job is marked dead (waiting spends none)"),
    INT("workers", "batch", workers.batch, "16", 1, 64, 0,
        "jobs one worker claims at once (fast kinds finish many per round trip)"),
    INT("workers", "lease_s", workers.lease_s, "60", 1, 86400, 0,
        "a claimed job is claimable again this long after its worker stops answering"),
    INT("workers", "poll_ms", workers.poll_ms, "1000", 10, 600000, 0,
        "poll interval when no NOTIFY arrives"),
    INT("workers", "backoff_base_ms", workers.backoff_base_ms, "1000", 1, 3600000, 0,
        "first retry delay; doubles each attempt, with jitter"),
    INT("workers", "backoff_max_ms", workers.backoff_max_ms, "3600000", 1, 86400000, 0,
        "longest retry delay"),
    INT("workers", "wait_max_ms", workers.wait_max_ms, "300000", 1, 86400000, 0,
        "longest delay of a job told to wait (429, allowance, budget) without a hint"),
    BOOL("workers", "debug_kinds", workers.debug_kinds, "false",
         "register the debug.sleep and debug.fail job kinds (tests only)"),
    BOOL("workers", "debug_run_twice", workers.debug_run_twice, "false",
         "tests only: run every job twice to prove it idempotent"),
    BOOL("workers", "debug_lost_commit_reply", workers.debug_lost_commit_reply, "false",
         "tests only: recording (fetch and upload) and transcript saves report failure after "
         "committing"),

    INT("auth", "cache_ttl_s", auth.cache_ttl_s, "30", 0, 3600, CB_SET_RELOAD,
        "how long a verified API key is trusted without asking PostgreSQL"),
    INT("auth", "rate_limit_per_s", auth.rate_limit_per_s, "100", 0, 10000000, 0,
        "requests per second one bearer token may make, summed over every instance; 0 for "
        "no limit"),
    INT("auth", "rate_limit_burst", auth.rate_limit_burst, "200", 1, 100000000, 0,
        "requests one bearer token may make at once above its rate"),
    INT("auth", "session_max_checks", auth.session_max_checks, "8", 1, 1024, 0,
        "Salesforce session tokens checked at once per instance; more get 429"),
    INT("auth", "session_negative_ttl_s", auth.session_negative_ttl_s, "60", 0, 3600, 0,
        "how long a session token Salesforce refused is refused without asking again"),
    INT("auth", "unauth_per_ip_per_min", auth.unauth_per_ip_per_min, "30", 0, 1000000, 0,
        "failed authentications per client address per minute before that address gets 429 "
        "for tokens not already verified; 0 for no limit"),
    INT("auth", "session_ttl_s", auth.session_ttl_s, "43200", 60, 2592000, 0,
        "a browser session (the console's cb_session cookie) ends this long after sign-in"),
    INT("auth", "session_idle_s", auth.session_idle_s, "7200", 60, 2592000, 0,
        "a browser session unused this long ends"),
    ENUM("auth", "cookie_samesite", auth.cookie_samesite, "Lax", "Lax|Strict|None", 0,
         "SameSite of the session cookie; None (the console inside Salesforce's iframe, Open "
         "CTI) needs an https public_url"),

    ENUM("crm", "provider", crm.provider, "auto", "auto|salesforce|hubspot|none", 0,
         "the CRM calls are logged to; auto: salesforce when [salesforce] enabled, else hubspot "
         "when [hubspot] enabled, else none"),
    ENUM("crm", "write_mode", crm.write_mode, "staged", "staged|single", 0,
         "staged: create the call log in progress, update it later; single: one write at the "
         "end"),
    INT("crm", "single_write_wait_s", crm.single_write_wait_s, "120", 0, 3600, 0,
        "write_mode = single: how long after the call the log waits for recording and analysis"),
    INT("crm", "batch_delay_ms", crm.batch_delay_ms, "25", 0, 1000, 0,
        "CRM writes (call logs, attachments, analyses, follow-ups) wait up to this long for "
        "others to go with them in one request; 0: no wait"),
    ENUM("crm", "multi_match", crm.multi_match, "most_recent", "most_recent|all|none", 0,
         "several records share the caller's number: link which"),
    ENUM("crm", "unknown", crm.unknown, "ignore", "ignore|create_lead", 0,
         "no record has the caller's number: log unlinked, or create a person record for it "
         "(each provider says which: see docs/adding-a-crm.md)"),

    BOOL("salesforce", "enabled", salesforce.enabled, "false", "log calls to Salesforce"),
    URL("salesforce", "login_url", salesforce.login_url, "https://login.salesforce.com",
        "http://|https://", "OAuth server (test.salesforce.com for sandboxes)"),
    ENUM("salesforce", "auth", salesforce.auth, "jwt", "jwt|client_credentials|refresh_token", 0,
         "OAuth 2.0 flow"),
    STR("salesforce", "client_id", salesforce.client_id, NULL, "Connected App consumer key"),
    STR("salesforce", "username", salesforce.username, NULL, "integration user (JWT flow)"),
    FILE_("salesforce", "private_key_file", salesforce.private_key_file,
          "PEM RSA key for the JWT bearer flow"),
    FILE_("salesforce", "client_secret_file", salesforce.client_secret_file,
          "Connected App consumer secret"),
    FILE_("salesforce", "refresh_token_file", salesforce.refresh_token_file,
          "refresh token (refresh_token flow)"),
    STR("salesforce", "api_version", salesforce.api_version, "v60.0", "REST API version"),
    STR("salesforce", "call_log_object", salesforce.call_log_object, "Task",
        "object the call log is written to"),
    STR("salesforce", "external_id_field", salesforce.external_id_field, "Callbridge_Call_Id__c",
        "External ID field the call log is upserted by"),
    STR("salesforce", "lead_external_id_field", salesforce.lead_external_id_field,
        "Callbridge_Phone__c", "External ID field on Lead holding the E.164 of an unknown caller"),
    STR("salesforce", "timezone", salesforce.timezone, "UTC",
        "the org's time zone (IANA name), for ActivityDate"),
    INT("salesforce", "timeout_ms", salesforce.timeout_ms, "10000", 100, 120000, 0,
        "one Salesforce request, connect to last byte"),
    INT("salesforce", "token_ttl_s", salesforce.token_ttl_s, "1800", 60, 86400, 0,
        "how long an access token is reused before a new one is asked for"),
    INT("salesforce", "limit_threshold_pct", salesforce.limit_threshold_pct, "80", 1, 100,
        CB_SET_RELOAD, "API usage (Sforce-Limit-Info) above which low-priority writes wait"),
    INT("salesforce", "allowance_retry_s", salesforce.allowance_retry_s, "60", 1, 86400, 0,
        "after REQUEST_LIMIT_EXCEEDED, writes wait this long before Salesforce is asked again"),
    BOOL("salesforce", "session_auth", salesforce.session_auth, "false",
         "accept a Salesforce session token as the softphone bearer (checked with userinfo)"),
    INT("salesforce", "session_cache_ttl_s", salesforce.session_cache_ttl_s, "60", 0, 3600,
        CB_SET_RELOAD, "how long a validated Salesforce session is trusted"),

    BOOL("hubspot", "enabled", hubspot.enabled, "false", "log calls to HubSpot"),
    URL("hubspot", "api_base_url", hubspot.api_base_url, "https://api.hubapi.com",
        "http://|https://", "HubSpot API base URL"),
    ENUM("hubspot", "auth", hubspot.auth, "private_app", "private_app|oauth", 0,
         "private_app: a fixed access token; oauth: the refresh-token flow of a public app"),
    FILE_("hubspot", "access_token_file", hubspot.access_token_file,
          "private app access token (auth = private_app)"),
    STR("hubspot", "client_id", hubspot.client_id, NULL, "OAuth app client id (auth = oauth)"),
    FILE_("hubspot", "client_secret_file", hubspot.client_secret_file,
          "OAuth app client secret (auth = oauth)"),
    FILE_("hubspot", "refresh_token_file", hubspot.refresh_token_file,
          "OAuth refresh token of the installed app (auth = oauth)"),
    URL("hubspot", "app_url", hubspot.app_url, "https://app.hubspot.com", "http://|https://",
        "where record links open"),
    STR("hubspot", "call_id_property", hubspot.call_id_property, "callbridge_call_id",
        "unique custom property of calls the call log is upserted by"),
    STR("hubspot", "task_key_property", hubspot.task_key_property, "callbridge_task_key",
        "unique custom property of tasks follow-ups are upserted by"),
    STR("hubspot", "note_key_property", hubspot.note_key_property, "callbridge_note_key",
        "unique custom property of notes transcripts are upserted by"),
    INT("hubspot", "timeout_ms", hubspot.timeout_ms, "10000", 100, 120000, 0,
        "one HubSpot request, connect to last byte"),
    INT("hubspot", "search_per_s", hubspot.search_per_s, "5", 1, 100, 0,
        "search requests per second this instance makes (HubSpot allows 5 per account)"),
    STR("hubspot", "timezone", hubspot.timezone, "UTC",
        "the account's time zone (IANA name): task due dates and the daily limit's reset"),

    BOOL("twilio", "enabled", twilio.enabled, "false", "place calls through Twilio"),
    URL("twilio", "api_base_url", twilio.api_base_url, "https://api.twilio.com", "http://|https://",
        "Twilio REST base URL"),
    STR("twilio", "account_sid", twilio.account_sid, NULL, "Account SID (AC...)"),
    FILE_("twilio", "auth_token_file", twilio.auth_token_file,
          "auth token: REST auth and webhook signatures"),
    STR("twilio", "api_key_sid", twilio.api_key_sid, NULL, "API key SID (SK...) for tokens"),
    FILE_("twilio", "api_key_secret_file", twilio.api_key_secret_file, "API key secret"),
    STR("twilio", "twiml_app_sid", twilio.twiml_app_sid, NULL, "TwiML App SID (AP...)"),
    INT("twilio", "token_ttl_s", twilio.token_ttl_s, "3600", 60, 86400, CB_SET_RELOAD,
        "how long a softphone access token (POST /api/softphone/token) is valid"),
    STR("twilio", "caller_id", twilio.caller_id, NULL, "default From number"),
    BOOL("twilio", "record", twilio.record, "false", "record calls"),
    BOOL("twilio", "conference", twilio.conference, "false",
         "bridge agent and customer through a named conference (hold and warm transfer)"),
    INT("twilio", "timeout_ms", twilio.timeout_ms, "10000", 100, 120000, 0, "REST request timeout"),
    INT("twilio", "voice_deadline_ms", twilio.voice_deadline_ms, "2000", 100, 10000, CB_SET_RELOAD,
        "the voice webhook answers fallback TwiML when routing takes longer"),
    BOOL("twilio", "route_to_owner", twilio.route_to_owner, "true",
         "ring the agent whose CRM user id owns the caller's CRM record when online"),
    STR("twilio", "fallback_agent", twilio.fallback_agent, NULL,
        "client identity that takes inbound calls no owner takes"),
    STR("twilio", "fallback_number", twilio.fallback_number, NULL,
        "E.164 number dialled when no agent takes an inbound call"),
    INT("twilio", "ring_timeout_s", twilio.ring_timeout_s, "20", 5, 600, CB_SET_RELOAD,
        "how long an agent's softphone rings"),
    BOOL("twilio", "missed_call_task", twilio.missed_call_task, "true",
         "a missed (no-answer/busy) inbound call creates a follow-up task"),
    BOOL("twilio", "delete_after_download", twilio.delete_after_download, "false",
         "delete a recording at Twilio once it is stored here"),
    BOOL("twilio", "live_transcription", twilio.live_transcription, "false",
         "bridged calls start Twilio's real-time transcription (both tracks, partial results); "
         "segments reach the agent's event stream"),
    STR("twilio", "webhook_retry", twilio.webhook_retry, "rc=3&rp=all",
        "connection overrides on callback URLs asking Twilio to redeliver (none: off)"),
    INT("twilio", "reconcile_after_s", twilio.reconcile_after_s, "900", 0, 604800, 0,
        "ask Twilio about calls unfinished this long (0: never)"),
    INT("twilio", "reconcile_interval_s", twilio.reconcile_interval_s, "60", 1, 86400, 0,
        "how often the telephony.reconcile job runs"),

    ENUM("stt", "engine", stt.engine, "none", "none|openai|google|offline", 0,
         "speech-to-text engine"),
    URL("stt", "base_url", stt.base_url, "https://api.openai.com/v1", "http://|https://",
        "engine base URL"),
    FILE_("stt", "api_key_file", stt.api_key_file, "engine API key"),
    STR("stt", "model", stt.model, "whisper-1", "engine model"),
    STR("stt", "language", stt.language, "en", "spoken language (ISO 639-1)"),
    STR("stt", "policy", stt.policy, "all", "which calls are transcribed"),
    INT("stt", "timeout_ms", stt.timeout_ms, "120000", 1000, 3600000, 0,
        "timeout of one engine request (one chunk)"),
    INT("stt", "parallel", stt.parallel, "4", 1, 16, 0,
        "chunks of one long recording recognised at once"),
    INT("stt", "chunk_mb", stt.chunk_mb, "24", 1, 25, 0,
        "openai: PCM WAV above this many MiB is cut into chunks (the API takes 25 MiB)"),
    INT("stt", "google_chunk_s", stt.google_chunk_s, "55", 5, 59, 0,
        "google: audio is cut into chunks of at most this many seconds (sync limit 60 s)"),
    URL("stt", "google_base_url", stt.google_base_url, "https://speech.googleapis.com/v1",
        "http://|https://", "google: Speech-to-Text v1 base URL"),
    FILE_("stt", "google_credentials_file", stt.google_credentials_file,
          "google: service-account JSON key (else api_key_file holds an API key)"),
    STR("stt", "cost_per_minute", stt.cost_per_minute, NULL,
        "USD per audio minute for the cost metric; default the engine's list price"),
    STR("stt", "offline_model_dir", stt.offline_model_dir, "/usr/share/pocketsphinx/model/en-us",
        "PocketSphinx model of the offline engine (en-us/, en-us.lm.bin, cmudict-en-us.dict)"),
    ENUM("stt", "source", stt.source, "batch", "batch|live", 0,
         "a call's transcript: batch (its recording through the engine) or live (Twilio's "
         "real-time transcription; no engine request)"),
    INT("stt", "live_grace_s", stt.live_grace_s, "5", 0, 300, 0,
        "source = live: seconds after the call ends that late segments are waited for"),

    ENUM("storage", "backend", storage.backend, "local", "local|s3", 0, "recording store"),
    STR("storage", "dir", storage.dir, "/var/lib/callbridge/recordings",
        "directory of the local store"),
    FILE_("storage", "key_file", storage.key_file, "recording encryption keys"),
    INT("storage", "max_upload_mb", storage.max_upload_mb, "2048", 1, 1048576, 0,
        "largest recording POST /api/call/record takes"),
    INT("storage", "link_ttl_s", storage.link_ttl_s, "300", 10, 604800, CB_SET_RELOAD,
        "how long a signed /r/{id} link works"),
    URL("storage", "s3_endpoint", storage.s3_endpoint, NULL, "http://|https://",
        "S3 endpoint URL (AWS regional endpoint, MinIO, ...); required with backend = s3"),
    STR("storage", "s3_region", storage.s3_region, "us-east-1",
        "region in the SigV4 credential scope"),
    STR("storage", "s3_bucket", storage.s3_bucket, NULL, "bucket; required with backend = s3"),
    STR("storage", "s3_access_key_id", storage.s3_access_key_id, NULL,
        "access key id; required with backend = s3"),
    FILE_("storage", "s3_secret_access_key_file", storage.s3_secret_access_key_file,
          "secret access key; required with backend = s3"),
    ENUM("storage", "s3_path_style", storage.s3_path_style, "auto", "auto|true|false", 0,
         "path-style URLs (endpoint/bucket/key); auto: virtual-hosted for *.amazonaws.com"),
    INT("storage", "s3_part_size_mb", storage.s3_part_size_mb, "8", 5, 512, 0,
        "multipart part size in MiB; one part per upload in progress is held in memory"),
    INT("storage", "s3_timeout_ms", storage.s3_timeout_ms, "60000", 1000, 3600000, 0,
        "timeout of one S3 request"),

    STR("nlp", "rules_file", nlp.rules_file, "/etc/callbridge/nlp-rules.json",
        "tagging and follow-up rules (JSON; docs/nlp-rules.md); reloaded on SIGHUP"),
    STR("nlp", "lexicon_file", nlp.lexicon_file, "/usr/share/callbridge/sentiment-lexicon.tsv",
        "sentiment lexicon (TSV); read with the rules, at start and on SIGHUP"),
    STR("nlp", "redact", nlp.redact, "cards, ssn",
        "PII masked in transcripts before they are stored, analysed or sent to the CRM: any of "
        "cards, ssn, email, phone (or all, none); as [card], [ssn], [email], [phone]"),
    BOOL("nlp", "redact_keep_original", nlp.redact_keep_original, "false",
         "keep the unredacted speech result in the transcript's sealed (encrypted) document; "
         "never in the API, the CRM, events or logs"),
    ENUM("nlp", "engine", llm.engine, "rules", "rules|llm", 0,
         "the analysis: rules (in process) or llm ([llm]: an OpenAI-compatible chat completions "
         "server; on any failure the rules answer for that call)"),

    URL("llm", "base_url", llm.base_url, "https://api.openai.com/v1", "http://|https://",
        "engine = llm: the OpenAI-compatible API base; POST {base_url}/chat/completions"),
    STR("llm", "model", llm.model, "gpt-4o-mini",
        "engine = llm: the model (it must support response_format json_schema, strict)"),
    FILE_("llm", "api_key_file", llm.api_key_file,
          "engine = llm: the API key (Bearer); unset for a server that needs none"),
    INT("llm", "timeout_ms", llm.timeout_ms, "30000", 1000, 600000, 0,
        "engine = llm: timeout of one chat completion request; past it the rules answer"),
    INT("llm", "max_chars_per_part", llm.max_chars_per_part, "12000", 200, 1000000, 0,
        "engine = llm: a longer transcript is summarised in parts of at most this many bytes, "
        "then analysed from the parts' summaries"),
    STR("llm", "cost_per_1m_prompt_tokens", llm.cost_per_1m_prompt_tokens, NULL,
        "engine = llm: USD per million prompt tokens for callbridge_llm_cost_usd_total"),
    STR("llm", "cost_per_1m_completion_tokens", llm.cost_per_1m_completion_tokens, NULL,
        "engine = llm: USD per million completion tokens for callbridge_llm_cost_usd_total"),

    INT("retention", "days", retention.days, "90", 1, 36500, 0,
        "recordings and transcripts older than this are deleted"),
    INT("retention", "sweep_interval_s", retention.sweep_interval_s, "3600", 1, 86400, 0,
        "how often the retention sweep is queued"),
    INT("retention", "orphan_grace_s", retention.orphan_grace_s, "86400", 60, 31536000, 0,
        "age after which a blob noted for writing but named by no row is removed"),

    STR("agents", "dispositions", agents.dispositions,
        "interested:Interested, not_interested:Not Interested, callback:Call Back, "
        "voicemail:Left Voicemail, no_answer:No Answer, wrong_number:Wrong Number",
        "what an agent may give a call at wrap-up (POST /api/calls/{id}/disposition): "
        "value:Label items, comma-separated; the Label is the CRM's CallDisposition"),
    INT("agents", "wrap_up_s", agents.wrap_up_s, "30", 0, 86400, 0,
        "after a call an agent is in wrap_up (not rung) this long, then back to available; 0 for "
        "no wrap-up"),
    BOOL("agents", "disposition_required", agents.disposition_required, "false",
         "wrap-up also lasts until the call's disposition is posted"),

    BOOL("console", "enabled", console.enabled, "true",
         "serve the agent console at /console/ (off: those paths answer 404)"),
    STR("console", "frame_ancestors", console.frame_ancestors, "'self'",
        "who may frame the console (CSP frame-ancestors sources, space-separated): 'self', "
        "'none', or https://host sources such as Salesforce's for Open CTI; those hosts may also "
        "serve scripts to it (Open CTI's opencti_min.js)"),

    ENUM("log", "level", log.level, "info", "error|warn|info|debug", CB_SET_RELOAD,
         "log threshold"),
    BOOL("log", "access", log.access, "true", "one log line per HTTP request"),

};

const size_t cb_settings_count = sizeof(cb_settings) / sizeof(cb_settings[0]);

/* Old spellings still read (with a warning) for the keys that moved. */
const struct cb_setting_alias cb_setting_aliases[] = {
    {"salesforce", "write_mode", "crm", "write_mode"},
    {"salesforce", "single_write_wait_s", "crm", "single_write_wait_s"},
    {"salesforce", "multi_match", "crm", "multi_match"},
    {"salesforce", "unknown", "crm", "unknown"},
};

const size_t cb_setting_aliases_count = sizeof(cb_setting_aliases) / sizeof(cb_setting_aliases[0]);
