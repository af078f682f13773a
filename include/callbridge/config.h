/* Configuration: one settings table (src/config/settings.c) drives parsing, defaults,
 * validation, environment overrides, --check-config and SIGHUP reload. */
#ifndef CALLBRIDGE_CONFIG_H
#define CALLBRIDGE_CONFIG_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>

/* Problems found while loading: one human line each ("[server] threads = \"x\": ..."). */
struct cb_config_errors {
        char **lines;
        size_t count;
};

struct cb_config {
        struct {
                char *listen;
                char *public_url;
                long threads;
                long max_body_bytes;
                char *default_region;
                long connection_timeout_s;
                long max_connections_per_ip;
                long max_connections;
                long drain_timeout_s;
                long sse_heartbeat_s;
                long sse_max_streams;
                long sse_max_streams_per_agent;
                long sse_buffer_events;
        } server;
        struct {
                char *url;
                long pool_size;
                bool auto_migrate;
                long connect_timeout_s;
                long statement_timeout_ms;
        } database;
        struct {
                char *url;
                long lookup_ttl_s;
                long lookup_negative_ttl_s;
                long lookup_local_ms;      /* in-process copy of a Redis lookup, <= 1000 */
                long lookup_local_entries; /* its bound; 0: none */
                char *key_prefix;
                long timeout_ms;
        } redis;
        struct {
                long threads;
                long intake_threads; /* workers that keep claiming while the intake is busy */
                long max_attempts;
                long batch;
                long lease_s;
                long poll_ms;
                long backoff_base_ms;
                long backoff_max_ms;
                long wait_max_ms;
                bool debug_kinds;
                bool debug_run_twice;
                bool debug_lost_commit_reply;
        } workers;
        struct {
                long cache_ttl_s;
                long rate_limit_per_s;
                long rate_limit_burst;
                long session_max_checks;
                long session_negative_ttl_s;
                long unauth_per_ip_per_min;
                long session_ttl_s; /* browser sessions (src/http/session.c) */
                long session_idle_s;
                char *cookie_samesite; /* Lax | Strict | None */
        } auth;
        /* [crm]: the policies every CRM provider follows. */
        struct {
                char *provider;           /* auto | salesforce | hubspot | none */
                char *write_mode;         /* staged | single */
                long single_write_wait_s; /* write_mode = single: bounded wait after the call */
                long batch_delay_ms;      /* CRM writes gather this long into one request */
                char *multi_match;        /* most_recent | all | none */
                char *unknown;            /* ignore | create_lead */
        } crm;
        struct {
                bool enabled;
                char *login_url;
                char *auth;
                char *client_id;
                char *username;
                char *private_key_file;
                char *client_secret_file;
                char *refresh_token_file;
                char *api_version;
                char *call_log_object;
                char *external_id_field;
                char *lead_external_id_field;
                char *timezone;
                long timeout_ms;
                long token_ttl_s;
                long limit_threshold_pct;
                long allowance_retry_s;
                bool session_auth;
                long session_cache_ttl_s;
        } salesforce;
        struct {
                bool enabled;
                char *api_base_url;
                char *auth; /* private_app | oauth */
                char *access_token_file;
                char *client_id;
                char *client_secret_file;
                char *refresh_token_file;
                char *app_url;
                char *call_id_property;
                char *task_key_property;
                char *note_key_property;
                long timeout_ms;
                long search_per_s;
                char *timezone;
        } hubspot;
        struct {
                bool enabled;
                char *api_base_url;
                char *account_sid;
                char *auth_token_file;
                char *api_key_sid;
                char *api_key_secret_file;
                char *twiml_app_sid;
                long token_ttl_s;
                char *caller_id;
                bool record;
                bool conference;
                long timeout_ms;
                long voice_deadline_ms;
                bool route_to_owner;
                char *fallback_agent;
                char *fallback_number;
                long ring_timeout_s;
                bool missed_call_task;
                bool delete_after_download;
                char *webhook_retry;
                long reconcile_after_s;
                long reconcile_interval_s;
                bool live_transcription;
        } twilio;
        struct {
                char *engine;
                char *base_url;
                char *api_key_file;
                char *model;
                char *language;
                char *policy;
                long timeout_ms;
                long parallel;
                long chunk_mb;
                long google_chunk_s;
                char *google_base_url;
                char *google_credentials_file;
                char *cost_per_minute; /* USD as text; NULL: the engine's list price */
                char *offline_model_dir;
                char *source; /* batch | live */
                long live_grace_s;
        } stt;
        struct {
                char *backend;
                char *dir;
                char *key_file;
                long max_upload_mb;
                long link_ttl_s;
                char *s3_endpoint;
                char *s3_region;
                char *s3_bucket;
                char *s3_access_key_id;
                char *s3_secret_access_key_file;
                char *s3_path_style; /* "auto", "true" or "false" */
                long s3_part_size_mb;
                long s3_timeout_ms;
        } storage;
        struct {
                char *rules_file;
                char *lexicon_file;
                char *redact;              /* kinds of PII masked (redact.h), a list */
                bool redact_keep_original; /* the unredacted text, sealed in the document */
        } nlp;
        struct {
                char *engine; /* [nlp] engine: rules | llm */
                char *base_url;
                char *model;
                char *api_key_file;
                long timeout_ms;
                long max_chars_per_part;
                char *cost_per_1m_prompt_tokens;     /* USD as text; NULL: 0 */
                char *cost_per_1m_completion_tokens; /* USD as text; NULL: 0 */
        } llm;
        struct {
                long days;
                long sweep_interval_s;
                long orphan_grace_s;
        } retention;
        struct {
                char *dispositions;        /* "value:Label, ..." (cb_calls_dispositions_check) */
                long wrap_up_s;            /* wrap-up after a call, 0: none */
                bool disposition_required; /* wrap-up also waits for the call's disposition */
        } agents;
        struct {
                bool enabled;          /* GET /console/ serves the agent console */
                char *frame_ancestors; /* the CSP frame-ancestors sources ('self', Salesforce) */
        } console;
        struct {
                char *level;
                bool access;
        } log;
        /* What loading noticed without refusing (deprecated spellings): one human line each,
         * printed by whoever loaded (callbridge --check-config, the daemon's start). */
        struct cb_config_errors warnings;
};

/* Load defaults, then `path` (INI), then CALLBRIDGE_<SECTION>_<KEY> environment overrides,
 * then cross-checks. Returns 0 with `*out` set, or -1 with every problem in `errs`
 * (the caller frees `errs` with cb_config_errors_free). `*out` is freed with cb_config_free. */
int cb_config_load(const char *path, struct cb_config **out, struct cb_config_errors *errs);
void cb_config_free(struct cb_config **cfg);
/* Print every setting (section, key, default, help, type and bounds, its environment
 * variable, whether SIGHUP reloads it) to `out`: callbridge --help-config. */
void cb_config_print_help(FILE *out);
void cb_config_errors_free(struct cb_config_errors *errs);

/* Copy the reloadable settings (log level, TTLs) from `fresh` into `live`. */
void cb_config_apply_reload(struct cb_config *live, const struct cb_config *fresh);

/* Read a secret file (a `*_file` setting, already resolved against $CREDENTIALS_DIRECTORY);
 * trailing whitespace is trimmed. Returns a malloc'd string or NULL (errno set). */
char *cb_config_read_secret(const char *path);

#endif
