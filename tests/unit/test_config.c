/* Configuration loading (src/config/config.c): defaults, every validation error, the
 * environment, credentials, reload, cross-checks and config/callbridge.conf.example. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "callbridge/config.h"
#include "callbridge/util.h"
#include "settings.h"

#define MISSING_PATH "/nonexistent/callbridge-test/callbridge.conf"

/* ---- helpers ---------------------------------------------------------------------------- */

/* The environment variable that overrides `s` ("CALLBRIDGE_SERVER_THREADS"). */
static void env_name(const struct cb_setting *s, char *out, size_t size)
{
        snprintf(out, size, "CALLBRIDGE_%s_%s", s->section, s->key);
        for (char *p = out; *p != '\0'; p++)
                if (*p >= 'a' && *p <= 'z')
                        *p = (char)(*p - 'a' + 'A');
}

/* Every test starts from an environment with no override and no credentials directory. */
static int clear_env(void **state)
{
        (void)state;
        for (size_t i = 0; i < cb_settings_count; i++) {
                char name[128];
                env_name(&cb_settings[i], name, sizeof(name));
                unsetenv(name);
        }
        unsetenv("CREDENTIALS_DIRECTORY");
        return 0;
}

/* Write `text` to a new file under /tmp; its name goes into `path` (PATH_MAX bytes). */
static void write_temp(const char *text, char *path)
{
        int fd;
        size_t len = strlen(text);

        snprintf(path, PATH_MAX, "/tmp/cb-test-config-XXXXXX");
        fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, len), (ssize_t)len);
        assert_int_equal(close(fd), 0);
}

/* Load `text` as a config file (NULL: a path that does not exist). */
static int load_text(const char *text, struct cb_config **cfg, struct cb_config_errors *errs)
{
        char path[PATH_MAX];
        int rc;

        if (text == NULL)
                return cb_config_load(MISSING_PATH, cfg, errs);
        write_temp(text, path);
        rc = cb_config_load(path, cfg, errs);
        unlink(path);
        return rc;
}

static void print_errors(const struct cb_config_errors *errs)
{
        for (size_t i = 0; i < errs->count; i++)
                print_error("    error %zu: %s\n", i, errs->lines[i]);
}

/* Load `text`, expecting success; the caller frees the result. */
static struct cb_config *load_ok(const char *text)
{
        struct cb_config *cfg = NULL;
        struct cb_config_errors errs = {0};
        int rc = load_text(text, &cfg, &errs);
        size_t count = errs.count;

        if (rc != 0)
                print_errors(&errs);
        cb_config_errors_free(&errs);
        assert_int_equal(rc, 0);
        assert_int_equal(count, 0);
        assert_non_null(cfg);
        return cfg;
}

static const struct cb_setting *setting(const char *section, const char *key)
{
        for (size_t i = 0; i < cb_settings_count; i++)
                if (strcmp(cb_settings[i].section, section) == 0 &&
                    strcmp(cb_settings[i].key, key) == 0)
                        return &cb_settings[i];
        fail_msg("no setting [%s] %s", section, key);
        return NULL;
}

static bool is_int(const struct cb_setting *s)
{
        return s->type == CB_SET_INT;
}

static bool is_bool(const struct cb_setting *s)
{
        return s->type == CB_SET_BOOL;
}

static long int_of(const struct cb_config *cfg, const struct cb_setting *s)
{
        return *(const long *)((const char *)cfg + s->offset);
}

static bool bool_of(const struct cb_config *cfg, const struct cb_setting *s)
{
        return *(const bool *)((const char *)cfg + s->offset);
}

static const char *str_of(const struct cb_config *cfg, const struct cb_setting *s)
{
        return *(char *const *)((const char *)cfg + s->offset);
}

/* True when `s` holds the same value in `a` and `b`. */
static bool same_value(const struct cb_config *a, const struct cb_config *b,
                       const struct cb_setting *s)
{
        const char *x;
        const char *y;

        if (is_int(s))
                return int_of(a, s) == int_of(b, s);
        if (is_bool(s))
                return bool_of(a, s) == bool_of(b, s);
        x = str_of(a, s);
        y = str_of(b, s);
        return (x == NULL && y == NULL) || (x != NULL && y != NULL && strcmp(x, y) == 0);
}

/* ---- defaults --------------------------------------------------------------------------- */

/* A file with nothing to say gives every default of the table. */
static void test_defaults(void **state)
{
        static const char *const minimal[] = {"", "# nothing here\n", "[server]\n",
                                              "; comment\n\n[log]\n"};
        (void)state;

        for (size_t m = 0; m < CB_ARRAY_LEN(minimal); m++) {
                struct cb_config *cfg = load_ok(minimal[m]);

                for (size_t i = 0; i < cb_settings_count; i++) {
                        const struct cb_setting *s = &cb_settings[i];
                        if (is_int(s)) {
                                assert_non_null(s->def);
                                assert_int_equal(int_of(cfg, s), strtol(s->def, NULL, 10));
                        } else if (is_bool(s)) {
                                assert_non_null(s->def);
                                assert_int_equal(bool_of(cfg, s), strcmp(s->def, "true") == 0);
                        } else if (s->def == NULL) {
                                assert_null(str_of(cfg, s));
                        } else {
                                assert_non_null(str_of(cfg, s));
                                assert_string_equal(str_of(cfg, s), s->def);
                        }
                }
                /* The table is read through the right fields. */
                assert_string_equal(cfg->server.listen, "127.0.0.1:8080");
                assert_int_equal(cfg->server.threads, 32);
                assert_string_equal(cfg->server.default_region, "US");
                assert_string_equal(cfg->database.url, "postgresql:///callbridge");
                assert_false(cfg->database.auto_migrate);
                assert_int_equal(cfg->workers.backoff_max_ms, 3600000);
                assert_false(cfg->salesforce.enabled);
                assert_false(cfg->twilio.enabled);
                assert_null(cfg->twilio.auth_token_file);
                assert_string_equal(cfg->stt.engine, "none");
                assert_string_equal(cfg->log.level, "info");
                assert_true(cfg->log.access);
                cb_config_free(&cfg);
                assert_null(cfg);
        }
}

/* ---- accepted values -------------------------------------------------------------------- */

struct good_case {
        const char *section;
        const char *key;
        const char *value;
        const char *want; /* the stored value as text: ints in decimal, bools as 0/1 */
};

static const struct good_case good_cases[] = {
    {"server", "threads", "1", "1"},
    {"server", "threads", "1024", "1024"},
    {"server", "threads", "+8", "8"},
    {"server", "max_body_bytes", "1073741824", "1073741824"},
    {"database", "statement_timeout_ms", "0", "0"},
    {"database", "auto_migrate", "true", "1"},
    {"database", "auto_migrate", "Yes", "1"},
    {"database", "auto_migrate", "ON", "1"},
    {"database", "auto_migrate", "1", "1"},
    {"log", "access", "false", "0"},
    {"log", "access", "no", "0"},
    {"log", "access", "Off", "0"},
    {"log", "access", "0", "0"},
    {"log", "level", "debug", "debug"},
    {"log", "level", "error", "error"},
    {"storage", "s3_path_style", "false", "false"},
    {"storage", "s3_part_size_mb", "5", "5"},
    {"salesforce", "auth", "refresh_token", "refresh_token"},
    {"server", "listen", "0.0.0.0:1", "0.0.0.0:1"},
    {"server", "listen", "localhost:65535", "localhost:65535"},
    {"server", "listen", "[::1]:8080", "[::1]:8080"},
    {"server", "public_url", "https://cb.example.com", "https://cb.example.com"},
    {"redis", "url", "unix:///run/redis/redis.sock", "unix:///run/redis/redis.sock"},
    {"server", "default_region", "GB", "GB"},
    {"server", "default_region", "de", "de"},
    {"database", "url", "host=/run/postgresql dbname=cb", "host=/run/postgresql dbname=cb"},
    {"twilio", "caller_id", "+14155550123", "+14155550123"},
    {"server", "public_url", "https://cb.example.com/", "https://cb.example.com"},
    {"server", "public_url", "https://cb.example.com/edge//", "https://cb.example.com/edge"},
    {"twilio", "api_base_url", "http://127.0.0.1:9/", "http://127.0.0.1:9"},
    {"stt", "engine", "none", "none"},
    {"stt", "cost_per_minute", "0.012", "0.012"},
    {"stt", "google_chunk_s", "59", "59"},
    {"stt", "offline_model_dir", "/opt/models/en-us", "/opt/models/en-us"},
#ifdef CB_HAVE_POCKETSPHINX
    {"stt", "engine", "offline", "offline"},
#endif
};

/* The stored value of setting `s` as text, for comparing with a table's expectation. */
static void value_text(struct cb_config *cfg, const struct cb_setting *s, char *got, size_t size)
{
        if (is_int(s))
                snprintf(got, size, "%ld", int_of(cfg, s));
        else if (is_bool(s))
                snprintf(got, size, "%d", bool_of(cfg, s) ? 1 : 0);
        else
                snprintf(got, size, "%s", str_of(cfg, s));
}

/* The engines with what they need load; the defaults of the engine keys. */
static void test_stt_engines(void **state)
{
        struct cb_config *cfg;
        (void)state;

        cfg = load_ok("[stt]\nengine = openai\napi_key_file = /etc/hostname\n");
        assert_string_equal(cfg->stt.engine, "openai");
        assert_int_equal(cfg->stt.chunk_mb, 24);
        assert_int_equal(cfg->stt.google_chunk_s, 55);
        assert_int_equal(cfg->stt.parallel, 4);
        assert_null(cfg->stt.cost_per_minute);
        assert_string_equal(cfg->stt.google_base_url, "https://speech.googleapis.com/v1");
        cb_config_free(&cfg);
        cfg = load_ok("[stt]\nengine = google\ngoogle_credentials_file = /etc/hostname\n");
        assert_string_equal(cfg->stt.engine, "google");
        cb_config_free(&cfg);
        cfg = load_ok("[stt]\nengine = google\napi_key_file = /etc/hostname\n");
        cb_config_free(&cfg);
}

static void test_good_values(void **state)
{
        (void)state;
        for (size_t i = 0; i < CB_ARRAY_LEN(good_cases); i++) {
                const struct good_case *c = &good_cases[i];
                const struct cb_setting *s = setting(c->section, c->key);
                char text[512];
                char got[512];
                struct cb_config *cfg;

                snprintf(text, sizeof(text), "[%s]\n%s = %s\n", c->section, c->key, c->value);
                cfg = load_ok(text);
                value_text(cfg, s, got, sizeof(got));
                if (strcmp(got, c->want) != 0)
                        fail_msg("case %zu: [%s] %s = %s stored \"%s\", want \"%s\"", i, c->section,
                                 c->key, c->value, got, c->want);
                cb_config_free(&cfg);
        }
}

/* ---- every validation error: exactly one line that says what is wrong ------------------- */

struct bad_case {
        const char *what;
        const char *file;    /* file contents; NULL: the file does not exist */
        const char *env;     /* optional "NAME=value" set for this case */
        const char *want[5]; /* substrings the one error line must contain */
};

static const struct bad_case bad_cases[] = {
    /* integers */
    {"bad int",
     "[server]\nthreads = four\n",
     NULL,
     {"[server]", "threads", "\"four\"", "expected an integer between 1 and 1024"}},
    {"int with trailing garbage",
     "[server]\nthreads = 4x\n",
     NULL,
     {"[server]", "threads", "\"4x\"", "expected an integer"}},
    {"int as float",
     "[workers]\nlease_s = 1.5\n",
     NULL,
     {"[workers]", "lease_s", "\"1.5\"", "expected an integer between 1 and 86400"}},
    {"int below range",
     "[server]\nthreads = 0\n",
     NULL,
     {"[server]", "threads", "\"0\"", "between 1 and 1024"}},
    {"int above range",
     "[server]\nthreads = 1025\n",
     NULL,
     {"[server]", "threads", "\"1025\"", "between 1 and 1024"}},
    {"negative int",
     "[database]\nstatement_timeout_ms = -1\n",
     NULL,
     {"[database]", "statement_timeout_ms", "\"-1\"", "between 0 and 3600000"}},
    {"int overflow",
     "[server]\nmax_body_bytes = 99999999999999999999\n",
     NULL,
     {"[server]", "max_body_bytes", "\"99999999999999999999\"", "between 1024 and 1073741824"}},
    {"empty int",
     "[retention]\ndays =\n",
     NULL,
     {"[retention]", "days", "\"\"", "expected an integer between 1 and 36500"}},
    /* booleans */
    {"bad bool",
     "[database]\nauto_migrate = maybe\n",
     NULL,
     {"[database]", "auto_migrate", "\"maybe\"", "expected true or false"}},
    {"bool as 2",
     "[log]\naccess = 2\n",
     NULL,
     {"[log]", "access", "\"2\"", "expected true or false"}},
    /* enums */
    {"bad enum",
     "[log]\nlevel = verbose\n",
     NULL,
     {"[log]", "level", "\"verbose\"", "expected one of error|warn|info|debug"}},
    {"enum prefix",
     "[storage]\nbackend = loc\n",
     NULL,
     {"[storage]", "backend", "\"loc\"", "expected one of local|s3"}},
    {"s3 backend without its secret",
     "[storage]\nbackend = s3\ns3_endpoint = http://127.0.0.1:9000\ns3_bucket = recs\n"
     "s3_access_key_id = AKIATEST\n",
     NULL,
     {"[storage]", "s3_secret_access_key_file", "required with backend = s3"}},
    {"s3 bucket name",
     "[storage]\nbackend = s3\ns3_endpoint = http://127.0.0.1:9000\ns3_bucket = a/b\n"
     "s3_access_key_id = AKIATEST\ns3_secret_access_key_file = /etc/hostname\n",
     NULL,
     {"[storage]", "s3_bucket", "3-63 letters"}},
    {"s3 part size below the S3 minimum",
     "[storage]\ns3_part_size_mb = 4\n",
     NULL,
     {"[storage]", "s3_part_size_mb", "\"4\""}},
    {"enum is case-sensitive",
     "[salesforce]\nauth = JWT\n",
     NULL,
     {"[salesforce]", "auth", "\"JWT\"", "expected one of jwt|client_credentials|refresh_token"}},
    /* URLs */
    {"bad URL scheme",
     "[server]\npublic_url = ftp://cb.example.com\n",
     NULL,
     {"[server]", "public_url", "\"ftp://cb.example.com\"",
      "expected a URL starting with http://|https://"}},
    {"URL without scheme",
     "[twilio]\napi_base_url = api.twilio.com\n",
     NULL,
     {"[twilio]", "api_base_url", "\"api.twilio.com\"", "expected a URL starting with"}},
    {"URL that is only a scheme",
     "[redis]\nurl = redis://\n",
     NULL,
     {"[redis]", "url", "\"redis://\"", "expected a URL starting with redis://|unix://"}},
    {"http URL for redis",
     "[redis]\nurl = http://127.0.0.1:6379\n",
     NULL,
     {"[redis]", "url", "\"http://127.0.0.1:6379\"", "redis://|unix://"}},
    /* host:port */
    {"host without port",
     "[server]\nlisten = localhost\n",
     NULL,
     {"[server]", "listen", "\"localhost\"", "expected host:port with a port 1-65535"}},
    {"port 0",
     "[server]\nlisten = 127.0.0.1:0\n",
     NULL,
     {"[server]", "listen", "\"127.0.0.1:0\"", "expected host:port"}},
    {"port 70000",
     "[server]\nlisten = 127.0.0.1:70000\n",
     NULL,
     {"[server]", "listen", "\"127.0.0.1:70000\"", "expected host:port"}},
    {"empty host",
     "[server]\nlisten = :8080\n",
     NULL,
     {"[server]", "listen", "\":8080\"", "expected host:port"}},
    {"empty port",
     "[server]\nlisten = localhost:\n",
     NULL,
     {"[server]", "listen", "\"localhost:\"", "expected host:port"}},
    {"named port",
     "[server]\nlisten = localhost:http\n",
     NULL,
     {"[server]", "listen", "\"localhost:http\"", "expected host:port"}},
    {"unclosed IPv6 bracket",
     "[server]\nlisten = [::1:8080\n",
     NULL,
     {"[server]", "listen", "\"[::1:8080\"", "expected host:port"}},
    /* regions */
    {"unknown region",
     "[server]\ndefault_region = XX\n",
     NULL,
     {"[server]", "default_region", "\"XX\"", "expected an ISO 3166 country code"}},
    {"alpha-3 region",
     "[server]\ndefault_region = USA\n",
     NULL,
     {"[server]", "default_region", "\"USA\"", "ISO 3166"}},
    {"empty region",
     "[server]\ndefault_region =\n",
     NULL,
     {"[server]", "default_region", "\"\"", "ISO 3166"}},
    /* files */
    {"unreadable absolute file",
     "[storage]\nkey_file = /nonexistent/cb-test/storage-key\n",
     NULL,
     {"[storage]", "key_file", "\"/nonexistent/cb-test/storage-key\"",
      "cannot read /nonexistent/cb-test/storage-key"}},
    {"directory as a file",
     "[storage]\nkey_file = /tmp\n",
     NULL,
     {"[storage]", "key_file", "\"/tmp\"", "/tmp"}},
    {"unreadable credential",
     "[twilio]\nauth_token_file = twilio-auth-token\n",
     "CREDENTIALS_DIRECTORY=/nonexistent/cb-creds",
     {"[twilio]", "auth_token_file", "\"twilio-auth-token\"",
      "cannot read /nonexistent/cb-creds/twilio-auth-token"}},
    /* names and syntax */
    {"unknown key", "[server]\nthreadz = 4\n", NULL, {"[server]", "threadz", "unknown key"}},
    {"unknown section", "[servre]\nthreads = 4\n", NULL, {"[servre]", "threads", "unknown"}},
    {"key before any section", "threads = 4\n", NULL, {"threads", "unknown"}},
    {"syntax error: no '='", "[server]\nthreads 4\n", NULL, {":2:", "syntax error"}},
    {"syntax error: unclosed section", "# c\n[server]\n[log\n", NULL, {":3:", "syntax error"}},
    {"missing file", NULL, NULL, {MISSING_PATH, "cannot open", "No such file"}},
    /* environment */
    {"bad env int",
     "[server]\nthreads = 2\n",
     "CALLBRIDGE_SERVER_THREADS=lots",
     {"CALLBRIDGE_SERVER_THREADS", "[server] threads", "\"lots\"", "expected an integer"}},
    {"bad env enum",
     "",
     "CALLBRIDGE_LOG_LEVEL=loud",
     {"CALLBRIDGE_LOG_LEVEL", "[log] level", "\"loud\"", "expected one of"}},
    {"bad env host:port",
     "",
     "CALLBRIDGE_SERVER_LISTEN=8080",
     {"CALLBRIDGE_SERVER_LISTEN", "[server] listen", "\"8080\"", "expected host:port"}},
    /* cross-checks */
    {"backoff max below base",
     "[workers]\nbackoff_base_ms = 5000\nbackoff_max_ms = 4999\n",
     NULL,
     {"[workers]", "backoff_max_ms", "backoff_base_ms"}},
    {"empty database url", "[database]\nurl =\n", NULL, {"[database]", "url", "required"}},
    {"salesforce jwt without username",
     "[salesforce]\nenabled = true\nclient_id = c\nprivate_key_file = /etc/hostname\n",
     NULL,
     {"[salesforce]", "username", "auth = jwt"}},
    {"salesforce jwt without key",
     "[salesforce]\nenabled = true\nclient_id = c\nusername = u@example.com\n",
     NULL,
     {"[salesforce]", "private_key_file", "auth = jwt"}},
    {"salesforce without client id",
     "[salesforce]\nenabled = true\nusername = u\nprivate_key_file = /etc/hostname\n",
     NULL,
     {"[salesforce]", "client_id", "required"}},
    {"salesforce client credentials without secret",
     "[salesforce]\nenabled = true\nauth = client_credentials\nclient_id = c\n",
     NULL,
     {"[salesforce]", "client_secret_file", "required"}},
    {"salesforce refresh token without token",
     "[salesforce]\nenabled = true\nauth = refresh_token\nclient_id = c\n"
     "client_secret_file = /etc/hostname\n",
     NULL,
     {"[salesforce]", "refresh_token_file", "required"}},
    {"salesforce bad time zone",
     "[salesforce]\nenabled = true\nclient_id = c\nusername = u\n"
     "private_key_file = /etc/hostname\ntimezone = ../../etc/passwd\n",
     NULL,
     {"[salesforce]", "timezone", "IANA"}},
    {"salesforce unknown time zone",
     "[salesforce]\nenabled = true\nclient_id = c\nusername = u\n"
     "private_key_file = /etc/hostname\ntimezone = Mars/Olympus\n",
     NULL,
     {"[salesforce]", "timezone", "IANA"}},
    {"salesforce bad object name",
     "[salesforce]\nenabled = true\nclient_id = c\nusername = u\n"
     "private_key_file = /etc/hostname\ncall_log_object = Task;DROP\n",
     NULL,
     {"[salesforce]", "call_log_object", "API name"}},
    {"hubspot private app without a token",
     "[hubspot]\nenabled = true\n",
     NULL,
     {"[hubspot]", "access_token_file", "auth = private_app"}},
    {"hubspot oauth without a refresh token",
     "[hubspot]\nenabled = true\nauth = oauth\nclient_id = c\n"
     "client_secret_file = /etc/hostname\n",
     NULL,
     {"[hubspot]", "refresh_token_file", "auth = oauth"}},
    {"hubspot bad property name",
     "[hubspot]\nenabled = true\naccess_token_file = /etc/hostname\n"
     "call_id_property = Call-Id\n",
     NULL,
     {"[hubspot]", "call_id_property", "internal name"}},
    {"hubspot unknown time zone",
     "[hubspot]\nenabled = true\naccess_token_file = /etc/hostname\ntimezone = Mars/Olympus\n",
     NULL,
     {"[hubspot]", "timezone", "IANA"}},
    {"crm provider not enabled",
     "[crm]\nprovider = hubspot\n",
     NULL,
     {"[crm]", "provider", "[hubspot] enabled"}},
    {"crm provider unknown", "[crm]\nprovider = zoho\n", NULL, {"[crm] provider", "zoho"}},
    {"twilio enabled without an account",
     "[server]\npublic_url = https://cb.example.com\n[twilio]\nenabled = yes\n"
     "auth_token_file = /etc/hostname\n",
     NULL,
     {"[twilio]", "account_sid", "Account SID"}},
    {"twilio enabled without a token",
     "[server]\npublic_url = https://cb.example.com\n[twilio]\nenabled = yes\n"
     "account_sid = AC0123\n",
     NULL,
     {"[twilio]", "auth_token_file", "auth token"}},
    {"twilio caller id not a number",
     "[server]\npublic_url = https://cb.example.com\n[twilio]\nenabled = yes\n"
     "account_sid = AC0123\nauth_token_file = /etc/hostname\ncaller_id = sales\n",
     NULL,
     {"[twilio]", "caller_id", "phone number"}},
    {"twilio fallback agent with a space",
     "[server]\npublic_url = https://cb.example.com\n[twilio]\nenabled = yes\n"
     "account_sid = AC0123\nauth_token_file = /etc/hostname\nfallback_agent = a b\n",
     NULL,
     {"[twilio]", "fallback_agent", "client identity"}},
    {"twilio conference without a caller id",
     "[server]\npublic_url = https://cb.example.com\n[twilio]\nenabled = yes\n"
     "account_sid = AC0123\nauth_token_file = /etc/hostname\nconference = true\n",
     NULL,
     {"[twilio]", "caller_id", "conference = true"}},
    {"twilio conference without twilio",
     "[twilio]\nconference = true\n",
     NULL,
     {"[twilio]", "conference", "enabled = true"}},
    {"softphone tokens without the app",
     "[twilio]\naccount_sid = AC1\napi_key_sid = SK1\napi_key_secret_file = /etc/hostname\n",
     NULL,
     {"[twilio]", "twiml_app_sid", "softphone tokens"}},
    {"softphone tokens without the account",
     "[twilio]\napi_key_sid = SK1\napi_key_secret_file = /etc/hostname\ntwiml_app_sid = AP1\n",
     NULL,
     {"[twilio]", "account_sid", "softphone tokens"}},
    {"softphone tokens: a key SID that is not one",
     "[twilio]\naccount_sid = AC1\napi_key_sid = AC2\napi_key_secret_file = /etc/hostname\n"
     "twiml_app_sid = AP1\n",
     NULL,
     {"[twilio]", "api_key_sid", "SK..."}},
    {"token ttl above 24 h", "[twilio]\ntoken_ttl_s = 86401\n", NULL, {"[twilio]", "token_ttl_s"}},
    {"redact: an unknown kind",
     "[nlp]\nredact = cards, passport\n",
     NULL,
     {"[nlp] redact", "passport"}},
    {"dispositions: a value with a capital",
     "[agents]\ndispositions = Interested:Interested\n",
     NULL,
     {"[agents]", "dispositions", "a-z, 0-9"}},
    {"dispositions: listed twice",
     "[agents]\ndispositions = callback:Call Back, callback:Call Later\n",
     NULL,
     {"[agents]", "dispositions", "\"callback\" is listed twice"}},
    {"dispositions: empty",
     "[agents]\ndispositions = \n",
     NULL,
     {"[agents]", "dispositions", "at least one"}},
    {"dispositions: trailing comma",
     "[agents]\ndispositions = a:A,\n",
     NULL,
     {"[agents]", "dispositions", "item 2 is empty"}},
    {"stt openai without a key",
     "[stt]\nengine = openai\n",
     NULL,
     {"[stt]", "api_key_file", "engine = openai"}},
    {"stt google without credentials",
     "[stt]\nengine = google\n",
     NULL,
     {"[stt]", "google_credentials_file", "api_key_file"}},
#ifndef CB_HAVE_POCKETSPHINX
    {"stt offline not built",
     "",
     "CALLBRIDGE_STT_ENGINE=offline",
     {"[stt]", "engine", "\"offline\" is not part of this build"}},
#endif
    {"stt cost not a number",
     "[stt]\ncost_per_minute = cheap\n",
     NULL,
     {"[stt]", "cost_per_minute", "USD"}},
    {"stt chunk over the API limit", "[stt]\nchunk_mb = 26\n", NULL, {"[stt]", "chunk_mb"}},
    {"stt live source without live transcription",
     "[stt]\nsource = live\n",
     NULL,
     {"[stt]", "source", "live_transcription = true"}},
    {"stt source unknown", "[stt]\nsource = both\n", NULL, {"[stt]", "source", "batch"}},
    {"stt live grace too long", "[stt]\nlive_grace_s = 301\n", NULL, {"[stt]", "live_grace_s"}},
};

/* Set "NAME=value"; returns the name to unset afterwards in `name`. */
static void set_env(const char *assignment, char *name, size_t size)
{
        const char *eq = strchr(assignment, '=');

        assert_non_null(eq);
        assert_true((size_t)(eq - assignment) < size);
        memcpy(name, assignment, (size_t)(eq - assignment));
        name[eq - assignment] = '\0';
        assert_int_equal(setenv(name, eq + 1, 1), 0);
}

static void test_bad_values(void **state)
{
        int failures = 0;

        (void)state;
        for (size_t i = 0; i < CB_ARRAY_LEN(bad_cases); i++) {
                const struct bad_case *c = &bad_cases[i];
                static struct cb_config sentinel;
                struct cb_config *cfg = &sentinel; /* cb_config_load must clear it */
                struct cb_config_errors errs = {0};
                char name[128] = "";
                int rc;

                if (c->env != NULL)
                        set_env(c->env, name, sizeof(name));
                rc = load_text(c->file, &cfg, &errs);
                if (name[0] != '\0')
                        unsetenv(name);

                bool ok = rc == -1 && cfg == NULL && errs.count == 1;
                for (size_t w = 0; ok && w < CB_ARRAY_LEN(c->want) && c->want[w] != NULL; w++)
                        ok = strstr(errs.lines[0], c->want[w]) != NULL;
                if (!ok) {
                        print_error("case %zu (%s): rc=%d, %zu error line(s):\n", i, c->what, rc,
                                    errs.count);
                        print_errors(&errs);
                        failures++;
                }
                if (cfg != &sentinel)
                        cb_config_free(&cfg);
                cb_config_errors_free(&errs);
                assert_null(errs.lines);
                assert_int_equal(errs.count, 0);
        }
        assert_int_equal(failures, 0);
}

/* Several problems at once are all reported, each once, in one pass. */
static void test_many_errors(void **state)
{
        static const char *const want[] = {
            "[server] threads = \"x\"",
            "[server] listen = \"nohost\"",
            "[log] level = \"loud\"",
            "[server] bogus",
            "syntax error",
            "CALLBRIDGE_REDIS_LOOKUP_TTL_S",
            "[salesforce] username",
            "[salesforce] private_key_file",
            "[workers] backoff_max_ms",
        };
        const char *text = "[server]\n"
                           "threads = x\n"
                           "listen = nohost\n"
                           "bogus = 1\n"
                           "this line is not ini\n"
                           "[log]\n"
                           "level = loud\n"
                           "[salesforce]\n"
                           "enabled = true\n"
                           "client_id = x\n"
                           "[workers]\n"
                           "backoff_base_ms = 10\n"
                           "backoff_max_ms = 5\n";
        struct cb_config *cfg = NULL;
        struct cb_config_errors errs = {0};

        (void)state;
        setenv("CALLBRIDGE_REDIS_LOOKUP_TTL_S", "0", 1);
        assert_int_equal(load_text(text, &cfg, &errs), -1);
        unsetenv("CALLBRIDGE_REDIS_LOOKUP_TTL_S");
        assert_null(cfg);
        if (errs.count != CB_ARRAY_LEN(want))
                print_errors(&errs);
        assert_int_equal(errs.count, CB_ARRAY_LEN(want));
        for (size_t w = 0; w < CB_ARRAY_LEN(want); w++) {
                size_t hits = 0;
                for (size_t i = 0; i < errs.count; i++)
                        hits += strstr(errs.lines[i], want[w]) != NULL;
                if (hits != 1) {
                        print_errors(&errs);
                        fail_msg("\"%s\" reported %zu times", want[w], hits);
                }
        }
        cb_config_errors_free(&errs);
}

/* A later value of the same key in the file replaces the earlier one without leaking it. */
static void test_repeated_key(void **state)
{
        struct cb_config *cfg;

        (void)state;
        cfg = load_ok("[database]\nurl = postgresql:///a\nurl = postgresql:///b\n");
        assert_string_equal(cfg->database.url, "postgresql:///b");
        cb_config_free(&cfg);
}

/* ---- deprecated spellings ([salesforce] policies moved to [crm]) ---------------------- */

/* The new spelling sets the key and warns about nothing; the old one still sets it, with one
 * warning naming both spellings; both with the same value: the value and the warning; both
 * with different values: one error naming both. The environment's old name counts too. */
static void test_crm_aliases(void **state)
{
        struct cb_config *cfg;
        struct cb_config_errors errs = {0};

        (void)state;
        cfg = load_ok("[crm]\nwrite_mode = single\nunknown = create_lead\n");
        assert_string_equal(cfg->crm.write_mode, "single");
        assert_string_equal(cfg->crm.unknown, "create_lead");
        assert_string_equal(cfg->crm.multi_match, "most_recent");
        assert_int_equal(cfg->warnings.count, 0);
        cb_config_free(&cfg);

        cfg = load_ok("[salesforce]\nwrite_mode = single\nmulti_match = all\n"
                      "single_write_wait_s = 7\nunknown = create_lead\n");
        assert_string_equal(cfg->crm.write_mode, "single");
        assert_string_equal(cfg->crm.multi_match, "all");
        assert_int_equal(cfg->crm.single_write_wait_s, 7);
        assert_string_equal(cfg->crm.unknown, "create_lead");
        assert_int_equal(cfg->warnings.count, 4);
        assert_non_null(strstr(cfg->warnings.lines[0], "[salesforce] write_mode is deprecated"));
        assert_non_null(strstr(cfg->warnings.lines[0], "[crm] write_mode"));
        cb_config_free(&cfg);

        cfg = load_ok("[crm]\nmulti_match = none\n[salesforce]\nmulti_match = none\n");
        assert_string_equal(cfg->crm.multi_match, "none");
        assert_int_equal(cfg->warnings.count, 1);
        cb_config_free(&cfg);

        setenv("CALLBRIDGE_SALESFORCE_UNKNOWN", "create_lead", 1);
        cfg = load_ok("");
        unsetenv("CALLBRIDGE_SALESFORCE_UNKNOWN");
        assert_string_equal(cfg->crm.unknown, "create_lead");
        assert_int_equal(cfg->warnings.count, 1);
        assert_non_null(strstr(cfg->warnings.lines[0], "environment"));
        cb_config_free(&cfg);

        assert_int_equal(
            load_text("[salesforce]\nwrite_mode = single\n[crm]\nwrite_mode = staged\n", &cfg,
                      &errs),
            -1);
        assert_null(cfg);
        if (errs.count != 1)
                print_errors(&errs);
        assert_int_equal(errs.count, 1);
        assert_non_null(strstr(errs.lines[0], "[salesforce] write_mode = \"single\""));
        assert_non_null(strstr(errs.lines[0], "[crm] write_mode = \"staged\""));
        cb_config_errors_free(&errs);

        /* A bad value under the old spelling is reported under it. */
        assert_int_equal(load_text("[salesforce]\nunknown = shout\n", &cfg, &errs), -1);
        assert_int_equal(errs.count, 1);
        assert_non_null(strstr(errs.lines[0], "[salesforce] unknown = \"shout\""));
        cb_config_errors_free(&errs);
}

/* ---- environment ------------------------------------------------------------------------ */

struct env_case {
        const char *file;
        const char *env; /* NAME=value */
        const char *section;
        const char *key;
        const char *want; /* as in good_case */
};

static const struct env_case env_cases[] = {
    {"[server]\nthreads = 2\n", "CALLBRIDGE_SERVER_THREADS=8", "server", "threads", "8"},
    {"", "CALLBRIDGE_SERVER_THREADS=16", "server", "threads", "16"},
    {"[database]\nurl = postgresql:///file\n", "CALLBRIDGE_DATABASE_URL=postgresql:///env",
     "database", "url", "postgresql:///env"},
    {"[database]\nauto_migrate = false\n", "CALLBRIDGE_DATABASE_AUTO_MIGRATE=true", "database",
     "auto_migrate", "1"},
    {"[log]\nlevel = info\n", "CALLBRIDGE_LOG_LEVEL=debug", "log", "level", "debug"},
    {"", "CALLBRIDGE_SERVER_LISTEN=0.0.0.0:9090", "server", "listen", "0.0.0.0:9090"},
    {"", "CALLBRIDGE_REDIS_LOOKUP_TTL_S=60", "redis", "lookup_ttl_s", "60"},
    /* A variable that is set but empty still overrides (and must be valid). */
    {"[twilio]\ncaller_id = +14155550123\n", "CALLBRIDGE_TWILIO_CALLER_ID=", "twilio", "caller_id",
     ""},
};

static void test_env_overrides(void **state)
{
        (void)state;
        for (size_t i = 0; i < CB_ARRAY_LEN(env_cases); i++) {
                const struct env_case *c = &env_cases[i];
                const struct cb_setting *s = setting(c->section, c->key);
                struct cb_config *cfg;
                char name[128];
                char got[512];

                set_env(c->env, name, sizeof(name));
                cfg = load_ok(c->file);
                unsetenv(name);
                value_text(cfg, s, got, sizeof(got));
                if (strcmp(got, c->want) != 0)
                        fail_msg("case %zu: %s over \"%s\" gave \"%s\", want \"%s\"", i, c->env,
                                 c->file, got, c->want);
                cb_config_free(&cfg);
        }
}

/* Every setting has an override whose name is CALLBRIDGE_<SECTION>_<KEY>. */
static void test_env_every_key(void **state)
{
        (void)state;
        for (size_t i = 0; i < cb_settings_count; i++) {
                const struct cb_setting *s = &cb_settings[i];
                struct cb_config *cfg = NULL;
                struct cb_config_errors errs = {0};
                char name[128];

                /* A value no setting accepts except a plain string. */
                env_name(s, name, sizeof(name));
                setenv(name, "\x01", 1);
                int rc = load_text("", &cfg, &errs);
                unsetenv(name);
                if (s->type == CB_SET_STRING) {
                        /* Accepted, and it is the value in effect. */
                        if (rc == 0) {
                                assert_string_equal(str_of(cfg, s), "\x01");
                        } else {
                                /* Only cross-checks on a string's shape may object, and
                                 * the softphone token keys, which go together. */
                                assert_true(strcmp(s->key, "url") == 0 ||
                                            strcmp(s->key, "key_prefix") == 0 ||
                                            strcmp(s->key, "api_key_sid") == 0 ||
                                            strcmp(s->key, "twiml_app_sid") == 0 ||
                                            strcmp(s->key, "cost_per_minute") == 0 ||
                                            strncmp(s->key, "cost_per_1m_", 12) == 0 ||
                                            strcmp(s->key, "dispositions") == 0 ||
                                            strcmp(s->key, "redact") == 0 ||
                                            strcmp(s->key, "frame_ancestors") == 0);
                        }
                } else {
                        assert_int_equal(rc, -1);
                        assert_true(errs.count >= 1);
                        assert_non_null(strstr(errs.lines[0], name));
                }
                cb_config_free(&cfg);
                cb_config_errors_free(&errs);
        }
}

/* ---- credentials ------------------------------------------------------------------------ */

static void write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");

        assert_non_null(f);
        assert_int_equal(fputs(text, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
}

/* Relative `*_file` names live in $CREDENTIALS_DIRECTORY; absolute ones are kept. */
static void test_credentials_directory(void **state)
{
        char dir[] = "/tmp/cb-test-creds-XXXXXX";
        char token[PATH_MAX];
        char key[PATH_MAX];
        char text[PATH_MAX + 128];
        char cwd[PATH_MAX];
        struct cb_config *cfg;
        char *secret;

        (void)state;
        assert_non_null(mkdtemp(dir));
        snprintf(token, sizeof(token), "%s/twilio-auth-token", dir);
        write_file(token, "tw-secret \t\r\n\n");
        snprintf(key, sizeof(key), "%s/absolute-storage-key", dir);
        write_file(key, "storage-secret");

        setenv("CREDENTIALS_DIRECTORY", dir, 1);
        snprintf(text, sizeof(text),
                 "[twilio]\nauth_token_file = twilio-auth-token\n[storage]\nkey_file = %s\n", key);
        cfg = load_ok(text);
        assert_string_equal(cfg->twilio.auth_token_file, token);
        assert_string_equal(cfg->storage.key_file, key);
        secret = cb_config_read_secret(cfg->twilio.auth_token_file);
        assert_non_null(secret);
        assert_string_equal(secret, "tw-secret");
        free(secret);
        cb_config_free(&cfg);

        /* An empty value means "not set" and is not resolved. */
        cfg = load_ok("[twilio]\nauth_token_file =\n");
        assert_string_equal(cfg->twilio.auth_token_file, "");
        cb_config_free(&cfg);

        /* Without CREDENTIALS_DIRECTORY a relative name is relative to the working directory. */
        unsetenv("CREDENTIALS_DIRECTORY");
        assert_non_null(getcwd(cwd, sizeof(cwd)));
        assert_int_equal(chdir(dir), 0);
        cfg = load_ok("[twilio]\nauth_token_file = twilio-auth-token\n");
        assert_string_equal(cfg->twilio.auth_token_file, "twilio-auth-token");
        cb_config_free(&cfg);
        assert_int_equal(chdir(cwd), 0);

        unlink(token);
        unlink(key);
        assert_int_equal(rmdir(dir), 0);
}

struct secret_case {
        const char *content;
        const char *want;
};

static const struct secret_case secret_cases[] = {
    {"abc", "abc"},
    {"abc\n", "abc"},
    {"abc\r\n", "abc"},
    {"abc \t\n\n\n", "abc"},
    {"  abc", "  abc"}, /* only trailing whitespace goes */
    {"a b\tc\n", "a b\tc"},
    {"-----BEGIN KEY-----\nAAAA\n-----END KEY-----\n",
     "-----BEGIN KEY-----\nAAAA\n-----END KEY-----"},
    {"", ""},
    {"\n\n", ""},
};

static void test_read_secret(void **state)
{
        char path[PATH_MAX];
        char *got;

        (void)state;
        for (size_t i = 0; i < CB_ARRAY_LEN(secret_cases); i++) {
                write_temp(secret_cases[i].content, path);
                got = cb_config_read_secret(path);
                unlink(path);
                assert_non_null(got);
                assert_string_equal(got, secret_cases[i].want);
                free(got);
        }

        /* Larger than the 1024-byte read chunk. */
        {
                char big[3000];
                memset(big, 'k', sizeof(big) - 2);
                big[sizeof(big) - 2] = '\n';
                big[sizeof(big) - 1] = '\0';
                write_temp(big, path);
                got = cb_config_read_secret(path);
                unlink(path);
                assert_non_null(got);
                assert_int_equal(strlen(got), sizeof(big) - 2);
                free(got);
        }

        /* Over a megabyte is no secret. */
        {
                static char huge[(1 << 20) + 2];
                memset(huge, 's', sizeof(huge) - 1);
                write_temp(huge, path);
                errno = 0;
                got = cb_config_read_secret(path);
                unlink(path);
                assert_null(got);
                assert_int_equal(errno, EFBIG);
        }

        errno = 0;
        assert_null(cb_config_read_secret("/nonexistent/cb-test/secret"));
        assert_int_equal(errno, ENOENT);
        /* A directory opens but cannot be read: that is a failure, not an empty secret. */
        errno = 0;
        got = cb_config_read_secret("/tmp");
        if (got != NULL) {
                free(got);
                fail_msg("reading the directory /tmp as a secret succeeded");
        }
        errno = 0;
        assert_null(cb_config_read_secret(NULL));
        assert_int_equal(errno, EINVAL);
}

/* ---- reload ----------------------------------------------------------------------------- */

/* Exactly these keys are reloadable. */
static const char *const reloadable[] = {"log/level",
                                         "twilio/voice_deadline_ms",
                                         "storage/link_ttl_s",
                                         "twilio/ring_timeout_s",
                                         "server/sse_heartbeat_s",
                                         "redis/lookup_ttl_s",
                                         "redis/lookup_negative_ttl_s",
                                         "redis/lookup_local_ms",
                                         "auth/cache_ttl_s",
                                         "salesforce/limit_threshold_pct",
                                         "salesforce/session_cache_ttl_s",
                                         "twilio/token_ttl_s"};

static void test_reload_flags(void **state)
{
        (void)state;
        for (size_t i = 0; i < cb_settings_count; i++) {
                const struct cb_setting *s = &cb_settings[i];
                char name[128];
                bool want = false;

                snprintf(name, sizeof(name), "%s/%s", s->section, s->key);
                for (size_t r = 0; r < CB_ARRAY_LEN(reloadable); r++)
                        want = want || strcmp(reloadable[r], name) == 0;
                if (((s->flags & CB_SET_RELOAD) != 0) != want)
                        fail_msg("%s: reload flag %s", name, want ? "missing" : "unexpected");
        }
}

/* apply_reload copies the reloadable keys from the new config and nothing else. */
static void test_apply_reload(void **state)
{
        const char *fresh_text = "[server]\n"
                                 "listen = 0.0.0.0:9999\n"
                                 "public_url = https://new.example.com\n"
                                 "threads = 9\n"
                                 "[database]\n"
                                 "url = postgresql:///other\n"
                                 "auto_migrate = true\n"
                                 "[redis]\n"
                                 "lookup_ttl_s = 61\n"
                                 "timeout_ms = 999\n"
                                 "[workers]\n"
                                 "threads = 7\n"
                                 "[auth]\n"
                                 "cache_ttl_s = 5\n"
                                 "[log]\n"
                                 "level = debug\n"
                                 "access = false\n";
        struct cb_config *live;
        struct cb_config *before;
        struct cb_config *fresh;

        (void)state;
        live = load_ok("");
        before = load_ok("");
        fresh = load_ok(fresh_text);

        cb_config_apply_reload(live, fresh);

        assert_string_equal(live->log.level, "debug");
        assert_int_equal(live->redis.lookup_ttl_s, 61);
        assert_int_equal(live->auth.cache_ttl_s, 5);
        assert_string_equal(live->server.listen, "127.0.0.1:8080");
        assert_string_equal(live->server.public_url, "http://127.0.0.1:8080");
        assert_int_equal(live->server.threads, 32);
        assert_string_equal(live->database.url, "postgresql:///callbridge");
        assert_false(live->database.auto_migrate);
        assert_int_equal(live->redis.timeout_ms, 500);
        assert_int_equal(live->workers.threads, 4);
        assert_true(live->log.access);
        /* The copy is owned by `live`: freeing `fresh` first must not matter. */
        assert_true(live->log.level != fresh->log.level);

        for (size_t i = 0; i < cb_settings_count; i++) {
                const struct cb_setting *s = &cb_settings[i];
                const struct cb_config *want = (s->flags & CB_SET_RELOAD) ? fresh : before;
                if (!same_value(live, want, s))
                        fail_msg("[%s] %s: not what reload should leave", s->section, s->key);
        }
        cb_config_free(&fresh);
        assert_string_equal(live->log.level, "debug");
        cb_config_free(&before);
        cb_config_free(&live);
}

/* ---- long lines ------------------------------------------------------------------------- */

/* A long value (a libpq URI with TLS options easily passes 200 bytes) is read whole. */
static void test_long_value(void **state)
{
        char url[400];
        char text[512];
        struct cb_config *cfg;

        (void)state;
        memset(url, 'a', sizeof(url));
        memcpy(url,
               "postgresql:///cb?application_name=", strlen("postgresql:///cb?application_name="));
        url[300] = '\0';
        snprintf(text, sizeof(text), "[database]\nurl = %s\n[server]\nthreads = 3\n", url);
        cfg = load_ok(text);
        assert_string_equal(cfg->database.url, url);
        assert_int_equal(cfg->server.threads, 3);
        cb_config_free(&cfg);
}

/* ---- config/callbridge.conf.example ------------------------------------------------------ */

/* The repository root: $CB_SOURCE_DIR, else two directories above this file's (tests/unit). */
static void source_root(char *out, size_t size)
{
        const char *env = getenv("CB_SOURCE_DIR");
        const char *slash = strrchr(__FILE__, '/');

        if (env != NULL && env[0] != '\0')
                snprintf(out, size, "%s", env);
        else if (slash == NULL)
                snprintf(out, size, "../..");
        else
                snprintf(out, size, "%.*s/../..", (int)(slash - __FILE__), __FILE__);
}

static void example_path(char *out, size_t size)
{
        char root[PATH_MAX];

        source_root(root, sizeof(root));
        snprintf(out, size, "%s/config/callbridge.conf.example", root);
}

/* The example loads as shipped, with nothing to complain about. */
static void test_example_loads(void **state)
{
        char path[PATH_MAX + 64];
        struct cb_config *cfg = NULL;
        struct cb_config_errors errs = {0};

        (void)state;
        example_path(path, sizeof(path));
        if (access(path, R_OK) != 0)
                fail_msg("cannot read %s", path);
        if (cb_config_load(path, &cfg, &errs) != 0) {
                print_errors(&errs);
                fail_msg("%s does not load", path);
        }
        assert_int_equal(errs.count, 0);
        cb_config_free(&cfg);
}

/* If `line` is "key = ..." or "# key = ...", the key (written into `key`). */
static bool key_line(const char *line, char *key, size_t size)
{
        const char *p = line + strspn(line, " \t");
        size_t n;

        if (*p == '#' || *p == ';')
                p += 1 + strspn(p + 1, " \t");
        n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_");
        if (n == 0 || n >= size)
                return false;
        if (p[n + strspn(p + n, " \t")] != '=')
                return false;
        memcpy(key, p, n);
        key[n] = '\0';
        return true;
}

/* If `line` is "[section]", the section. */
static bool section_line(const char *line, char *section, size_t size)
{
        const char *p = line + strspn(line, " \t");
        const char *end;

        if (*p != '[' || (end = strchr(p, ']')) == NULL || (size_t)(end - p - 1) >= size)
                return false;
        memcpy(section, p + 1, (size_t)(end - p - 1));
        section[end - p - 1] = '\0';
        return true;
}

/* Every key of the table is in the example, under its section, in table order, once; and
 * the example mentions no key the table does not have. */
static void test_example_documents_every_key(void **state)
{
        char path[PATH_MAX + 64];
        char line[1024];
        char section[64] = "";
        char key[64];
        size_t *seen = NULL;
        size_t next = 0; /* the table index the next key line must have */
        size_t lineno = 0;
        FILE *f;

        (void)state;
        example_path(path, sizeof(path));
        f = fopen(path, "r");
        if (f == NULL)
                fail_msg("cannot open %s", path);
        seen = calloc(cb_settings_count, sizeof(*seen));
        assert_non_null(seen);

        while (fgets(line, sizeof(line), f) != NULL) {
                lineno++;
                if (strlen(line) > 199)
                        fail_msg("%s:%zu: longer than the 199 bytes libinih reads", path, lineno);
                if (section_line(line, section, sizeof(section)) ||
                    !key_line(line, key, sizeof(key)))
                        continue;
                size_t i = 0;
                while (i < cb_settings_count && (strcmp(cb_settings[i].section, section) != 0 ||
                                                 strcmp(cb_settings[i].key, key) != 0))
                        i++;
                if (i == cb_settings_count)
                        fail_msg("%s:%zu: [%s] %s is not a setting", path, lineno, section, key);
                if (seen[i] != 0)
                        fail_msg("%s:%zu: [%s] %s already at line %zu", path, lineno, section, key,
                                 seen[i]);
                if (i != next)
                        fail_msg("%s:%zu: [%s] %s is out of table order (expected [%s] %s)", path,
                                 lineno, section, key, cb_settings[next].section,
                                 cb_settings[next].key);
                seen[i] = lineno;
                next = i + 1;
        }
        fclose(f);
        for (size_t i = 0; i < cb_settings_count; i++)
                if (seen[i] == 0)
                        fail_msg("%s: [%s] %s is missing", path, cb_settings[i].section,
                                 cb_settings[i].key);
        free(seen);
}

/* The example shows each default as the table has it, and no *_file key is active. */
static void test_example_shows_defaults(void **state)
{
        char path[PATH_MAX + 64];
        char line[1024];
        char section[64] = "";
        char key[64];
        FILE *f;

        (void)state;
        example_path(path, sizeof(path));
        f = fopen(path, "r");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f) != NULL) {
                const struct cb_setting *s = NULL;
                const char *p = line + strspn(line, " \t");
                const char *value;
                bool commented = *p == '#' || *p == ';';

                if (section_line(line, section, sizeof(section)) ||
                    !key_line(line, key, sizeof(key)))
                        continue;
                s = setting(section, key);
                line[strcspn(line, "\r\n")] = '\0';
                value = strchr(line, '=') + 1;
                value += strspn(value, " \t");
                if (s->type == CB_SET_FILE) {
                        if (!commented)
                                fail_msg("[%s] %s: secrets files must be commented out", section,
                                         key);
                        continue;
                }
                if (commented && strcmp(value, s->def != NULL ? s->def : "") != 0)
                        fail_msg("[%s] %s: example shows \"%s\", default is \"%s\"", section, key,
                                 value, s->def != NULL ? s->def : "");
        }
        fclose(f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup(test_defaults, clear_env),
            cmocka_unit_test_setup(test_good_values, clear_env),
            cmocka_unit_test_setup(test_bad_values, clear_env),
            cmocka_unit_test_setup(test_many_errors, clear_env),
            cmocka_unit_test_setup(test_repeated_key, clear_env),
            cmocka_unit_test_setup(test_crm_aliases, clear_env),
            cmocka_unit_test_setup(test_env_overrides, clear_env),
            cmocka_unit_test_setup(test_env_every_key, clear_env),
            cmocka_unit_test_setup(test_stt_engines, clear_env),
            cmocka_unit_test_setup(test_credentials_directory, clear_env),
            cmocka_unit_test_setup(test_read_secret, clear_env),
            cmocka_unit_test_setup(test_reload_flags, clear_env),
            cmocka_unit_test_setup(test_apply_reload, clear_env),
            cmocka_unit_test_setup(test_long_value, clear_env),
            cmocka_unit_test_setup(test_example_loads, clear_env),
            cmocka_unit_test_setup(test_example_documents_every_key, clear_env),
            cmocka_unit_test_setup(test_example_shows_defaults, clear_env),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
