/* callbridge: arguments, configuration, signals and sd_notify; everything else is modules. */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "callbridge/blob.h"
#include "callbridge/cache.h"
#include "callbridge/config.h"
#include "callbridge/crm.h"
#include "callbridge/crypto.h"
#include "callbridge/db.h"
#include "callbridge/events.h"
#include "callbridge/http.h"
#include "callbridge/jobs.h"
#include "callbridge/log.h"
#include "callbridge/nlp.h"
#include "callbridge/nlp_llm.h"
#include "callbridge/store_batcher.h"
#include "callbridge/store_calls.h"
#include "callbridge/store_lifecycle.h"
#include "callbridge/stt.h"
#include "callbridge/stt_policy.h"
#include "callbridge/telephony.h"
#include "callbridge/util.h"

#include "agent.h"
#include "apikey.h" /* src/cli/, the executable's private include directory */
#include "crm.h"
#include "jobs.h"
#include "session.h"

#define DEFAULT_CONFIG "/etc/callbridge/callbridge.conf"

static const char usage_text[] =
    "usage: callbridge [-c FILE]                     run the daemon\n"
    "       callbridge --check-config [-c FILE]      validate the configuration\n"
    "       callbridge migrate [-c FILE]             apply database migrations\n"
    "       callbridge apikey create --agent NAME [--admin] [-c FILE]\n"
    "                                                print a new API key for an agent (made\n"
    "                                                if missing; --admin makes it an admin)\n"
    "       callbridge apikey list [--agent NAME] | revoke KEYID [-c FILE]\n"
    "                                                list keys (never secrets) | revoke one\n"
    "       callbridge session list [--agent NAME] | revoke ID | revoke --agent NAME [-c FILE]\n"
    "                                                browser sessions (the console's sign-ins):\n"
    "                                                list them | end one or all of an agent's\n"
    "       callbridge agent add NAME [--display-name S] [--crm-user-id ID] [--phone E164]\n"
    "                            [--admin] [-c FILE]\n"
    "       callbridge agent set NAME [...] [--no-admin] [--clear FIELD] [-c FILE]\n"
    "       callbridge agent list [--json] [-c FILE]\n"
    "                                                agents: display name, CRM user id\n"
    "                                                (owns their records, routes their callers),\n"
    "                                                phone, admin rights\n"
    "       callbridge jobs list [--state S] [--kind K] [--limit N] [--json] [-c FILE]\n"
    "       callbridge jobs retry ID | --dead [--kind K] [-c FILE]\n"
    "                                                dead letters: list them, queue them again\n"
    "       callbridge crm check | setup [-c FILE]\n"
    "                                                HubSpot: create | list the missing custom\n"
    "                                                properties callbridge writes\n"
    "       callbridge keygen                        print a new 256-bit recording key line;\n"
    "                                                append it to [storage] key_file to rotate\n"
    "       callbridge --help-config                 every setting: default, bounds, env name\n"
    "       callbridge --version | --help\n"
    "\n"
    "FILE defaults to " DEFAULT_CONFIG ". Every key can be overridden by the\n"
    "environment as CALLBRIDGE_<SECTION>_<KEY>; see config/callbridge.conf.example.\n";

struct args {
        const char *config;
        const char *agent;
        const char *words[3];
        int nwords;
        bool check_config;
        bool admin;
        bool help;
        bool help_config;
        bool version;
};

static int usage_error(const char *what)
{
        fprintf(stderr, "callbridge: %s\n%s", what, usage_text);
        return 2;
}

/* Returns 0, or 2 after printing usage. */
static int parse_args(int argc, char **argv, struct args *a)
{
        for (int i = 1; i < argc; i++) {
                const char *s = argv[i];
                if (strcmp(s, "-c") == 0 || strcmp(s, "--config") == 0) {
                        if (++i >= argc)
                                return usage_error("-c needs a file");
                        a->config = argv[i];
                } else if (strcmp(s, "--agent") == 0) {
                        if (++i >= argc)
                                return usage_error("--agent needs a name");
                        a->agent = argv[i];
                } else if (strcmp(s, "--admin") == 0) {
                        a->admin = true;
                } else if (strcmp(s, "--check-config") == 0) {
                        a->check_config = true;
                } else if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
                        a->help = true;
                } else if (strcmp(s, "--help-config") == 0) {
                        a->help_config = true;
                } else if (strcmp(s, "--version") == 0 || strcmp(s, "-V") == 0) {
                        a->version = true;
                } else if (s[0] == '-') {
                        char msg[256];
                        snprintf(msg, sizeof(msg), "unknown option %s", s);
                        return usage_error(msg);
                } else if (a->nwords < 3) {
                        a->words[a->nwords++] = s;
                } else {
                        return usage_error("too many arguments");
                }
        }
        if (a->config == NULL)
                a->config = DEFAULT_CONFIG;
        return 0;
}

static struct cb_config *load_config(const char *path)
{
        struct cb_config_errors errs = {0};
        struct cb_config *cfg = NULL;

        if (cb_config_load(path, &cfg, &errs) != 0) {
                for (size_t i = 0; i < errs.count; i++)
                        fprintf(stderr, "callbridge: %s\n", errs.lines[i]);
        }
        cb_config_errors_free(&errs);
        if (cfg != NULL)
                cb_log_set_level((enum cb_log_level)cb_log_level_parse(cfg->log.level));
        for (size_t i = 0; cfg != NULL && i < cfg->warnings.count; i++)
                fprintf(stderr, "callbridge: warning: %s\n", cfg->warnings.lines[i]);
        return cfg;
}

/* [stt] policy parses: the daemon refuses to start otherwise. */
static int check_policy(const struct cb_config *cfg)
{
        char err[256];

        if (cb_stt_policy_check(cfg->stt.policy, err, sizeof(err)) == 0)
                return 0;
        fprintf(stderr, "callbridge: [stt] policy = \"%s\": %s\n", cfg->stt.policy, err);
        return -1;
}

/* --check-config: the policy, and the recording keys load (format, permissions) as the
 * daemon's start would load them. */
static int check_files(const struct cb_config *cfg)
{
        struct cb_keyring *kr;
        char err[256];

        if (check_policy(cfg) != 0)
                return -1;
        if (cfg->storage.key_file == NULL)
                return 0;
        kr = cb_keyring_load(cfg->storage.key_file, err, sizeof(err));
        if (kr == NULL) {
                fprintf(stderr, "callbridge: [storage] key_file: %s\n", err);
                return -1;
        }
        cb_keyring_free(&kr);
        return 0;
}

/* A connection for the one-shot commands; NULL (printed) when unreachable. */
static struct cb_db *oneshot_db(const struct cb_config *cfg, struct cb_db_pool **pool)
{
        struct cb_db *db;

        *pool = cb_db_pool_create(cfg->database.url, 1, (int)cfg->database.connect_timeout_s, 0);
        if (*pool == NULL)
                return NULL;
        db = cb_db_acquire(*pool, 1000);
        if (db == NULL)
                fprintf(stderr, "callbridge: cannot connect to PostgreSQL ([database] url)\n");
        return db;
}

static int cmd_migrate(const char *path)
{
        struct cb_config *cfg = load_config(path);
        struct cb_db_pool *pool = NULL;
        struct cb_db *db;
        int rc = 1;

        if (cfg == NULL)
                return 1;
        db = oneshot_db(cfg, &pool);
        if (db != NULL && cb_db_migrate(db) == 0) {
                printf("schema at version %d\n", cb_db_schema_latest());
                rc = 0;
        }
        cb_db_release(&db);
        cb_db_pool_destroy(&pool);
        cb_config_free(&cfg);
        return rc;
}

static bool valid_agent(const char *s)
{
        return cb_str_charset(s, CB_AGENT_MAX - 1, "._@-");
}

static int cmd_apikey_create(const char *path, const char *agent, bool admin)
{
        struct cb_config *cfg;
        struct cb_db_pool *pool = NULL;
        struct cb_db *db;
        char key[96];
        int rc = 1;

        if (agent == NULL || !valid_agent(agent))
                return usage_error("--agent needs a name of letters, digits and . _ @ -");
        cfg = load_config(path);
        if (cfg == NULL)
                return 1;
        db = oneshot_db(cfg, &pool);
        if (db != NULL) {
                if (cb_auth_key_create(db, agent, admin, key) == 0) {
                        printf("%s\n", key);
                        rc = 0;
                } else {
                        fprintf(stderr, "callbridge: could not store the key (has `callbridge "
                                        "migrate` run?)\n");
                }
        }
        cb_db_release(&db);
        cb_db_pool_destroy(&pool);
        cb_config_free(&cfg);
        return rc;
}

/* One key file line, "k<8 hex> <base64 of 32 bytes>" (include/callbridge/blob.h): the id
 * random too, so keys made anywhere can share a file. */
static int cmd_keygen(void)
{
        unsigned char id[4];
        unsigned char key[32];
        char id_hex[9];
        char b64[64];

        cb_random(id, sizeof(id));
        cb_random(key, sizeof(key));
        cb_hex(id, sizeof(id), id_hex);
        cb_base64_encode(key, sizeof(key), b64);
        printf("k%s %s\n", id_hex, b64);
        OPENSSL_cleanse(key, sizeof(key));
        OPENSSL_cleanse(b64, sizeof(b64));
        return 0;
}

/* [nlp] engine = llm: the LLM engine's settings (the key read once, wiped after). 0, or -1
 * when its key file cannot be read. */
static int llm_engine(const struct cb_config *cfg)
{
        char *key = NULL;
        int rc;

        if (cfg->llm.engine == NULL || strcmp(cfg->llm.engine, "llm") != 0)
                return 0;
        if (cfg->llm.api_key_file != NULL) {
                key = cb_config_read_secret(cfg->llm.api_key_file);
                if (key == NULL) {
                        fprintf(stderr, "callbridge: [llm] api_key_file: cannot read it\n");
                        return -1;
                }
        }
        struct cb_nlp_llm_settings s = {
            .base_url = cfg->llm.base_url,
            .model = cfg->llm.model,
            .api_key = key,
            .timeout_ms = cfg->llm.timeout_ms,
            .max_chars_per_part = cfg->llm.max_chars_per_part,
            .usd_per_1m_prompt = cfg->llm.cost_per_1m_prompt_tokens
                                     ? strtod(cfg->llm.cost_per_1m_prompt_tokens, NULL)
                                     : 0,
            .usd_per_1m_completion = cfg->llm.cost_per_1m_completion_tokens
                                         ? strtod(cfg->llm.cost_per_1m_completion_tokens, NULL)
                                         : 0,
        };
        rc = cb_nlp_llm_configure(&s);
        cb_secret_free(key);
        if (rc == 0)
                cb_info("nlp: the LLM engine (%s, model %s) analyses calls; the rules answer when "
                        "it fails",
                        cfg->llm.base_url, cfg->llm.model);
        return rc;
}

/* Load the NLP rules (and lexicon) of `cfg`: at start (`reload` false) every problem is
 * printed and -1 returned; on SIGHUP (`reload` true) problems are logged and the running
 * rules stay. */
static int nlp_rules(const struct cb_config *cfg, bool reload)
{
        char err[4096];
        int rc;

        cb_nlp_set_lexicon(cfg->nlp.lexicon_file);
        rc = reload ? cb_nlp_reload(cfg->nlp.rules_file, err, sizeof(err))
                    : cb_nlp_init(cfg->nlp.rules_file, err, sizeof(err));
        for (char *line = err, *nl; rc != 0 && line != NULL; line = nl) {
                if ((nl = strchr(line, '\n')) != NULL)
                        *nl++ = '\0';
                if (reload)
                        cb_error("reload rejected, keeping the running NLP rules: %s", line);
                else
                        fprintf(stderr, "callbridge: [nlp] %s\n", line);
        }
        return rc;
}

static void reload(struct cb_config *live, const char *path)
{
        struct cb_config_errors errs = {0};
        struct cb_config *fresh = NULL;

        sd_notify(0, "RELOADING=1");
        if (cb_config_load(path, &fresh, &errs) != 0) {
                for (size_t i = 0; i < errs.count; i++)
                        cb_error("reload rejected, keeping the running configuration: %s",
                                 errs.lines[i]);
        } else {
                cb_config_apply_reload(live, fresh);
                if (nlp_rules(fresh, true) == 0)
                        cb_info("NLP rules reloaded from %s", fresh->nlp.rules_file);
                cb_log_set_level((enum cb_log_level)cb_log_level_parse(live->log.level));
                cb_auth_cache_clear();
                cb_info("configuration reloaded (log level %s)", live->log.level);
        }
        cb_config_errors_free(&errs);
        cb_config_free(&fresh);
        sd_notify(0, "READY=1");
}

/* Wait for signals in this thread only; returns the signal or 0 on timeout. */
static int wait_signal(const sigset_t *set, long timeout_ms)
{
        struct timespec ts = {.tv_sec = timeout_ms / 1000,
                              .tv_nsec = (timeout_ms % 1000) * 1000000L};
        int sig = sigtimedwait(set, NULL, &ts);

        return sig < 0 ? 0 : sig;
}

/* Block the signals the main loop takes synchronously, in every thread started after. */
static void block_signals(sigset_t *set)
{
        sigemptyset(set);
        sigaddset(set, SIGTERM);
        sigaddset(set, SIGINT);
        sigaddset(set, SIGHUP);
        pthread_sigmask(SIG_BLOCK, set, NULL);
        signal(SIGPIPE, SIG_IGN);
}

/* The connection pool, migrated when [database] auto_migrate says so. NULL (logged) when the
 * pool cannot be made or the migrations fail; the caller owns the pool. */
static struct cb_db_pool *open_database(const struct cb_config *cfg)
{
        struct cb_db_pool *pool = cb_db_pool_create(cfg->database.url, (int)cfg->database.pool_size,
                                                    (int)cfg->database.connect_timeout_s,
                                                    (int)cfg->database.statement_timeout_ms);

        if (pool != NULL && cfg->database.auto_migrate) {
                struct cb_db *db = cb_db_acquire(pool, 5000);
                int m = db ? cb_db_migrate(db) : -1;
                cb_db_release(&db);
                if (m != 0) {
                        cb_error("auto_migrate: migrations could not be applied");
                        cb_db_pool_destroy(&pool);
                }
        }
        return pool;
}

/* Memory (issue 17, RSS <= 30 MB idle): glibc gives each thread that allocates its own arena,
 * up to 8 per core, and memory freed into an arena stays mapped; with ~60 threads (HTTP pool,
 * job workers, batchers) that was ~10 arenas holding 1-2 MB each after a burst. Two arenas
 * are enough for two cores' worth of concurrent allocation. MALLOC_ARENA_MAX in the
 * environment, when set, wins (glibc reads it; we then leave the choice alone). */
static void memory_setup(void)
{
        if (getenv("MALLOC_ARENA_MAX") == NULL)
                mallopt(M_ARENA_MAX, 2);
}

#define TRIM_EVERY_S 5 /* hand freed heap memory back to the kernel this often */

/* Ready: tell systemd, then take signals (SIGHUP reloads) and feed the watchdog until
 * SIGTERM or SIGINT. */
static void serve(struct cb_config *cfg, const char *path, const sigset_t *set)
{
        uint64_t watchdog_us = 0;
        int64_t trimmed_us = cb_mono_us();

        sd_notify(0, "READY=1\nSTATUS=serving");
        if (sd_watchdog_enabled(0, &watchdog_us) <= 0)
                watchdog_us = 0;
        for (;;) {
                long tick = watchdog_us ? (long)(watchdog_us / 2000) : 1000;
                int sig = wait_signal(set, tick);
                if (sig == SIGHUP) {
                        reload(cfg, path);
                } else if (sig == SIGTERM || sig == SIGINT) {
                        cb_info("signal %d: stopping", sig);
                        break;
                }
                if (watchdog_us)
                        sd_notify(0, "WATCHDOG=1");
                /* Free pages at the top and inside the arenas go back after a burst (a few
                 * hundred microseconds for a few MB of heap; the arenas' locks are held as
                 * briefly as a malloc's). */
                if (cb_mono_us() - trimmed_us >= TRIM_EVERY_S * 1000000L) {
                        malloc_trim(0);
                        trimmed_us = cb_mono_us();
                }
        }
        sd_notify(0, "STOPPING=1");
}

static int run(const char *path)
{
        struct cb_config *cfg = load_config(path);
        struct cb_db_pool *pool = NULL;
        struct cb_crm *crm = NULL;
        struct cb_telephony *tel = NULL;
        struct cb_recordings *rec = NULL;
        struct cb_stt *stt = NULL;
        struct cb_jobs *jobs = NULL;
        struct cb_batcher *batcher = NULL;
        struct cb_batcher *status_batcher = NULL;
        struct cb_http *http = NULL;
        struct cb_job_env job_env;
        struct cb_http_env http_env;
        sigset_t set;
        int rc = 1;
        bool drained = true;

        if (cfg == NULL)
                return 1;
        block_signals(&set);
        curl_global_init(CURL_GLOBAL_DEFAULT);
        cb_cache_configure(cfg->redis.url, cfg->redis.timeout_ms, cfg->redis.key_prefix);
        if (nlp_rules(cfg, false) != 0 || llm_engine(cfg) != 0)
                goto out;

        pool = open_database(cfg);
        if (pool == NULL)
                goto out;
        crm = cb_crm_create(cfg);
        tel = cb_telephony_create(cfg);
        if (check_policy(cfg) != 0)
                goto out; /* the keys are checked by cb_recordings_create, once */
        rec = cb_recordings_create(cfg);
        stt = cb_stt_create(cfg);
        if (crm == NULL || tel == NULL || rec == NULL || stt == NULL)
                goto out;
        job_env = (struct cb_job_env){
            .cfg = cfg, .pool = pool, .crm = crm, .tel = tel, .rec = rec, .stt = stt};
        jobs = cb_jobs_start(&job_env);
        if (jobs == NULL)
                goto out;
        batcher = cb_call_batcher_start(pool, 2);
        status_batcher = cb_status_batcher_start(pool, 1);
        if (batcher == NULL || status_batcher == NULL)
                goto out;
        if (cb_events_start(cfg) != 0)
                goto out;
        http_env = (struct cb_http_env){.cfg = cfg,
                                        .pool = pool,
                                        .jobs = jobs,
                                        .batcher = batcher,
                                        .status_batcher = status_batcher,
                                        .crm = crm,
                                        .tel = tel,
                                        .rec = rec,
                                        .stt = stt};
        http = cb_http_start(&http_env);
        if (http == NULL)
                goto out;
        cb_info("callbridge %s ready (crm %s, telephony %s)", CB_VERSION, crm->ops->name,
                tel->ops->name);
        serve(cfg, path, &set);
        rc = 0;
out:
        cb_events_stop(); /* ends every event stream, so the drain below is not held up */
        cb_http_stop(&http, cfg->server.drain_timeout_s);
        cb_batcher_stop(&batcher);
        cb_batcher_stop(&status_batcher);
        drained = cb_jobs_stop(&jobs, cfg->server.drain_timeout_s);
        if (!drained) {
                /* A worker is still inside a job: its lease will hand the job to another
                 * worker. Exit without freeing what that thread still uses. */
                cb_warn("exiting with a job still running; it will be retried");
                exit(rc);
        }
        cb_telephony_destroy(&tel);
        cb_recordings_destroy(&rec);
        cb_stt_destroy(&stt);
        cb_crm_destroy(&crm);
        cb_db_pool_destroy(&pool);
        cb_nlp_llm_shutdown();
        cb_nlp_shutdown();
        cb_info("stopped");
        cb_config_free(&cfg);
        curl_global_cleanup();
        return rc;
}

int main(int argc, char **argv)
{
        struct args a = {0};
        int rc = cb_cli_jobs(argc, argv, DEFAULT_CONFIG);

        if (rc >= 0)
                return rc;
        rc = cb_cli_agent(argc, argv, DEFAULT_CONFIG);
        if (rc >= 0)
                return rc;
        rc = cb_cli_crm(argc, argv, DEFAULT_CONFIG);
        if (rc >= 0)
                return rc;
        rc = parse_args(argc, argv, &a);
        if (rc != 0)
                return rc;
        if (a.help) {
                fputs(usage_text, stdout);
                return 0;
        }
        if (a.help_config) {
                cb_config_print_help(stdout);
                return 0;
        }
        if (a.version) {
                printf("callbridge %s\n", CB_VERSION);
                return 0;
        }
        if (a.check_config) {
                struct cb_config *cfg;
                if (a.nwords != 0)
                        return usage_error("--check-config takes no command");
                cfg = load_config(a.config);
                if (cfg == NULL)
                        return 1;
                if (check_files(cfg) != 0) {
                        cb_config_free(&cfg);
                        return 1;
                }
                rc = nlp_rules(cfg, false);
                if (rc == 0)
                        printf("%s: configuration OK\n", a.config);
                cb_nlp_shutdown();
                cb_config_free(&cfg);
                return rc == 0 ? 0 : 1;
        }
        if (a.nwords == 0) {
                memory_setup(); /* before any thread starts */
                return run(a.config);
        }
        if (a.nwords == 1 && strcmp(a.words[0], "migrate") == 0)
                return cmd_migrate(a.config);
        if (a.nwords == 1 && strcmp(a.words[0], "keygen") == 0)
                return cmd_keygen();
        if (a.nwords == 2 && strcmp(a.words[0], "apikey") == 0 && strcmp(a.words[1], "create") == 0)
                return cmd_apikey_create(a.config, a.agent, a.admin);
        if (a.nwords == 2 && strcmp(a.words[0], "apikey") == 0 && strcmp(a.words[1], "list") == 0)
                return cb_cli_apikey_list(a.config, a.agent);
        if (a.nwords == 3 && strcmp(a.words[0], "apikey") == 0 && strcmp(a.words[1], "revoke") == 0)
                return cb_cli_apikey_revoke(a.config, a.words[2]);
        if (a.nwords == 2 && strcmp(a.words[0], "session") == 0 && strcmp(a.words[1], "list") == 0)
                return cb_cli_session_list(a.config, a.agent);
        if (a.nwords >= 2 && a.nwords <= 3 && strcmp(a.words[0], "session") == 0 &&
            strcmp(a.words[1], "revoke") == 0)
                return cb_cli_session_revoke(a.config, a.nwords == 3 ? a.words[2] : NULL, a.agent);
        return usage_error("unknown command");
}
