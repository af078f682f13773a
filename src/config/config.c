/* Configuration loader: defaults, then the INI file (libinih), then environment overrides,
 * then cross-checks — every problem collected, one human line each. */
#include "callbridge/config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "callbridge/phone.h"
#include "callbridge/util.h"
#include "settings.h"

struct load_ctx {
        struct cb_config *cfg;
        struct cb_config_errors *errs;
        const char *path;
};

static void add_error(struct cb_config_errors *errs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add_error(struct cb_config_errors *errs, const char *fmt, ...)
{
        char line[1024];
        char **grown;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        grown = realloc(errs->lines, (errs->count + 1) * sizeof(*grown));
        if (grown == NULL)
                return;
        errs->lines = grown;
        errs->lines[errs->count] = strdup(line);
        if (errs->lines[errs->count] != NULL)
                errs->count++;
}

static bool is_string_type(enum cb_setting_type t)
{
        return t != CB_SET_INT && t != CB_SET_BOOL;
}

static char **str_slot(struct cb_config *cfg, const struct cb_setting *s)
{
        return (char **)((char *)cfg + s->offset);
}

static bool parse_bool(const char *v, bool *out)
{
        static const char *const yes[] = {"true", "yes", "on", "1"};
        static const char *const no[] = {"false", "no", "off", "0"};

        for (size_t i = 0; i < CB_ARRAY_LEN(yes); i++) {
                if (strcasecmp(v, yes[i]) == 0) {
                        *out = true;
                        return true;
                }
                if (strcasecmp(v, no[i]) == 0) {
                        *out = false;
                        return true;
                }
        }
        return false;
}

static bool valid_hostport(const char *v)
{
        const char *colon = strrchr(v, ':');
        long port;

        if (colon == NULL || colon == v)
                return false;
        if (v[0] == '[' && colon[-1] != ']')
                return false;
        return cb_parse_long(colon + 1, 1, 65535, &port);
}

/* Resolve a *_file path: relative paths live in systemd's credentials directory. */
static char *resolve_file(const char *v)
{
        const char *dir = getenv("CREDENTIALS_DIRECTORY");
        char *out = NULL;

        if (v[0] == '/' || dir == NULL || dir[0] == '\0')
                return strdup(v);
        if (asprintf(&out, "%s/%s", dir, v) < 0)
                return NULL;
        return out;
}

/* True when `path` is a regular file we may read; else `why` says what is wrong. */
static bool readable_file(const char *path, char *why, size_t whylen)
{
        struct stat st;

        if (stat(path, &st) != 0 || access(path, R_OK) != 0) {
                snprintf(why, whylen, "cannot read %s: %s", path, strerror(errno));
                return false;
        }
        if (!S_ISREG(st.st_mode)) {
                snprintf(why, whylen, "cannot read %s: not a regular file", path);
                return false;
        }
        return true;
}

/* Parse and store one value; on failure describe what was expected in `why`. */
static bool set_value(struct cb_config *cfg, const struct cb_setting *s, const char *v, char *why,
                      size_t whylen)
{
        char *copy = NULL;

        switch (s->type) {
        case CB_SET_INT: {
                long n;
                if (!cb_parse_long(v, s->min, s->max, &n)) {
                        snprintf(why, whylen, "expected an integer between %ld and %ld", s->min,
                                 s->max);
                        return false;
                }
                *(long *)((char *)cfg + s->offset) = n;
                return true;
        }
        case CB_SET_BOOL:
                if (!parse_bool(v, (bool *)((char *)cfg + s->offset))) {
                        snprintf(why, whylen, "expected true or false");
                        return false;
                }
                return true;
        case CB_SET_ENUM:
                if (!cb_choice_match(s->choices, v, false)) {
                        snprintf(why, whylen, "expected one of %s", s->choices);
                        return false;
                }
                break;
        case CB_SET_URL:
                if (!cb_choice_match(s->choices, v, true)) {
                        snprintf(why, whylen, "expected a URL starting with %s", s->choices);
                        return false;
                }
                break;
        case CB_SET_HOSTPORT:
                if (!valid_hostport(v)) {
                        snprintf(why, whylen, "expected host:port with a port 1-65535");
                        return false;
                }
                break;
        case CB_SET_REGION:
                if (!cb_phone_region_valid(v)) {
                        snprintf(why, whylen, "expected an ISO 3166 country code such as US");
                        return false;
                }
                break;
        case CB_SET_FILE:
                if (v[0] == '\0')
                        break;
                copy = resolve_file(v);
                if (copy != NULL && !readable_file(copy, why, whylen)) {
                        free(copy);
                        return false;
                }
                break;
        case CB_SET_STRING:
                break;
        }
        if (copy == NULL)
                copy = strdup(v);
        if (copy == NULL) {
                snprintf(why, whylen, "out of memory");
                return false;
        }
        free(*str_slot(cfg, s));
        *str_slot(cfg, s) = copy;
        return true;
}

/* libinih reads lines of at most INI_MAX_LINE - 1 bytes and would split a longer one into
 * two bogus lines. This reader tracks the section itself, hands a long "key = value" line
 * straight to the handler (long database URLs are real) and gives inih a blank line. */
static int on_ini_line(void *user, const char *section, const char *key, const char *value);

struct line_reader {
        FILE *f;
        struct load_ctx *ctx;
        char *line;
        size_t cap;
        int lineno;
        char section[64];
};

static char *trim(char *s)
{
        char *end;

        while (isspace((unsigned char)*s))
                s++;
        end = s + strlen(s);
        while (end > s && isspace((unsigned char)end[-1]))
                *--end = '\0';
        return s;
}

static char *read_line(char *str, int num, void *stream)
{
        struct line_reader *r = stream;
        ssize_t n = getline(&r->line, &r->cap, r->f);
        char *t;
        char *eq;

        if (n < 0)
                return NULL;
        r->lineno++;
        t = trim(r->line);
        if (t[0] == '[' && strchr(t, ']') != NULL) {
                size_t len = (size_t)(strchr(t, ']') - t - 1);
                if (len < sizeof(r->section)) {
                        memcpy(r->section, t + 1, len);
                        r->section[len] = '\0';
                }
        }
        if (n < num) {
                memcpy(str, r->line, (size_t)n + 1);
                return str;
        }
        eq = strchr(t, '=');
        if (t[0] == ';' || t[0] == '#') {
                /* a long comment: nothing to do */
        } else if (eq == NULL) {
                add_error(r->ctx->errs, "%s:%d: syntax error (expected key = value)", r->ctx->path,
                          r->lineno);
        } else {
                *eq = '\0';
                on_ini_line(r->ctx, r->section, trim(t), trim(eq + 1));
        }
        cb_strlcpy(str, "\n", (size_t)num);
        return str;
}

static const struct cb_setting *find_setting(const char *section, const char *key)
{
        for (size_t i = 0; i < cb_settings_count; i++)
                if (strcmp(cb_settings[i].section, section) == 0 &&
                    strcmp(cb_settings[i].key, key) == 0)
                        return &cb_settings[i];
        return NULL;
}

static int on_ini_line(void *user, const char *section, const char *key, const char *value)
{
        struct load_ctx *ctx = user;
        const struct cb_setting *s = find_setting(section, key);
        char why[512];

        if (s == NULL) {
                add_error(ctx->errs, "%s: [%s] %s: unknown key", ctx->path, section, key);
                return 1;
        }
        if (!set_value(ctx->cfg, s, value, why, sizeof(why)))
                add_error(ctx->errs, "%s: [%s] %s = \"%s\": %s", ctx->path, section, key, value,
                          why);
        return 1;
}

static void apply_env(struct load_ctx *ctx)
{
        for (size_t i = 0; i < cb_settings_count; i++) {
                const struct cb_setting *s = &cb_settings[i];
                char name[128];
                const char *v;
                char why[512];
                size_t n =
                    (size_t)snprintf(name, sizeof(name), "CALLBRIDGE_%s_%s", s->section, s->key);

                for (size_t j = 0; j < n && j < sizeof(name); j++)
                        name[j] = (char)toupper((unsigned char)name[j]);
                v = getenv(name);
                if (v == NULL)
                        continue;
                if (!set_value(ctx->cfg, s, v, why, sizeof(why)))
                        add_error(ctx->errs, "environment %s: [%s] %s = \"%s\": %s", name,
                                  s->section, s->key, v, why);
        }
}

static void require(struct load_ctx *ctx, bool cond, const char *section, const char *key,
                    const char *why)
{
        if (!cond)
                add_error(ctx->errs, "[%s] %s: %s", section, key, why);
}

/* "UTC", "Europe/Paris"...: a file under /usr/share/zoneinfo, no "..", no absolute path. */
static bool timezone_known(const char *tz)
{
        char path[256];

        if (!cb_str_charset(tz, 64, "/_+-") || tz[0] == '/' || strstr(tz, "..") != NULL)
                return false;
        snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz);
        return access(path, R_OK) == 0;
}

/* Softphone tokens (POST /api/softphone/token) need account_sid, api_key_sid,
 * api_key_secret_file and twiml_app_sid. None of the last three set: tokens are off (the
 * endpoint answers 503). Some but not all: each missing or malformed one is reported. */
static void check_softphone_tokens(struct load_ctx *ctx)
{
        const struct cb_config *c = ctx->cfg;
        const char *sk = c->twilio.api_key_sid, *ap = c->twilio.twiml_app_sid;
        const char *ac = c->twilio.account_sid, *secret = c->twilio.api_key_secret_file;
        const char *why = "required for softphone tokens once api_key_sid, api_key_secret_file "
                          "or twiml_app_sid is set";

        if ((sk == NULL || sk[0] == '\0') && (ap == NULL || ap[0] == '\0') &&
            (secret == NULL || secret[0] == '\0'))
                return;
        require(ctx, ac != NULL && ac[0] != '\0', "twilio", "account_sid", why);
        require(ctx, sk != NULL && sk[0] != '\0', "twilio", "api_key_sid", why);
        require(ctx, secret != NULL && secret[0] != '\0', "twilio", "api_key_secret_file", why);
        require(ctx, ap != NULL && ap[0] != '\0', "twilio", "twiml_app_sid", why);
        require(ctx,
                ac == NULL || ac[0] == '\0' ||
                    (strncmp(ac, "AC", 2) == 0 && cb_str_charset(ac, 64, "")),
                "twilio", "account_sid", "must be an Account SID (AC...)");
        require(ctx,
                sk == NULL || sk[0] == '\0' ||
                    (strncmp(sk, "SK", 2) == 0 && cb_str_charset(sk, 64, "")),
                "twilio", "api_key_sid", "must be an API key SID (SK...)");
        require(ctx,
                ap == NULL || ap[0] == '\0' ||
                    (strncmp(ap, "AP", 2) == 0 && cb_str_charset(ap, 64, "")),
                "twilio", "twiml_app_sid", "must be a TwiML App SID (AP...)");
}

/* The keys each Salesforce OAuth flow needs. */
static void check_salesforce(struct load_ctx *ctx)
{
        const struct cb_config *c = ctx->cfg;
        const char *flow = c->salesforce.auth;

        require(ctx, c->salesforce.client_id != NULL, "salesforce", "client_id",
                "required when enabled (the Connected App consumer key)");
        if (strcmp(flow, "jwt") == 0) {
                require(ctx, c->salesforce.username != NULL, "salesforce", "username",
                        "required by auth = jwt");
                require(ctx, c->salesforce.private_key_file != NULL, "salesforce",
                        "private_key_file", "required by auth = jwt");
        } else {
                require(ctx, c->salesforce.client_secret_file != NULL, "salesforce",
                        "client_secret_file",
                        "required by auth = client_credentials/refresh_token");
        }
        if (strcmp(flow, "refresh_token") == 0)
                require(ctx, c->salesforce.refresh_token_file != NULL, "salesforce",
                        "refresh_token_file", "required by auth = refresh_token");
        require(ctx, cb_str_charset(c->salesforce.call_log_object, 80, "_"), "salesforce",
                "call_log_object", "must be an object API name");
        require(ctx, cb_str_charset(c->salesforce.external_id_field, 80, "_"), "salesforce",
                "external_id_field", "must be a field API name");
        require(ctx, cb_str_charset(c->salesforce.lead_external_id_field, 80, "_"), "salesforce",
                "lead_external_id_field", "must be a field API name");
        require(ctx, c->salesforce.api_version[0] == 'v', "salesforce", "api_version",
                "must look like v60.0");
        require(ctx, timezone_known(c->salesforce.timezone), "salesforce", "timezone",
                "must be an IANA time zone name found in /usr/share/zoneinfo (e.g. "
                "America/New_York)");
}

/* What placing calls and checking webhooks needs. */
static void check_twilio(struct load_ctx *ctx)
{
        const struct cb_config *c = ctx->cfg;
        const char *region = c->server.default_region;
        char e164[32];

        require(ctx,
                c->twilio.account_sid != NULL && strncmp(c->twilio.account_sid, "AC", 2) == 0 &&
                    cb_str_charset(c->twilio.account_sid, 64, ""),
                "twilio", "account_sid", "required when enabled: the Account SID (AC...)");
        require(ctx, c->twilio.auth_token_file != NULL, "twilio", "auth_token_file",
                "required when enabled: webhooks are checked with the auth token");
        require(ctx,
                c->twilio.caller_id == NULL ||
                    cb_phone_to_e164(c->twilio.caller_id, region, e164, sizeof(e164)) == 0,
                "twilio", "caller_id", "must be a phone number");
        require(ctx,
                c->twilio.fallback_number == NULL ||
                    cb_phone_to_e164(c->twilio.fallback_number, region, e164, sizeof(e164)) == 0,
                "twilio", "fallback_number", "must be a phone number");
        require(ctx,
                c->twilio.fallback_agent == NULL ||
                    cb_str_charset(c->twilio.fallback_agent, 121, "@._-"),
                "twilio", "fallback_agent",
                "a client identity: letters, digits and @ . _ - (at most 121)");
}

/* [storage] backend = s3 needs an endpoint, a bucket and credentials. */
static void check_s3(struct load_ctx *ctx)
{
        const struct cb_config *c = ctx->cfg;

        require(ctx, c->storage.s3_endpoint != NULL, "storage", "s3_endpoint",
                "required with backend = s3");
        require(ctx,
                c->storage.s3_bucket != NULL && strlen(c->storage.s3_bucket) >= 3 &&
                    cb_str_charset(c->storage.s3_bucket, 63, ".-"),
                "storage", "s3_bucket",
                "required with backend = s3: 3-63 letters, digits, '.' and '-'");
        require(ctx,
                c->storage.s3_access_key_id != NULL &&
                    cb_str_charset(c->storage.s3_access_key_id, 128, "_-"),
                "storage", "s3_access_key_id", "required with backend = s3");
        require(ctx, c->storage.s3_secret_access_key_file != NULL, "storage",
                "s3_secret_access_key_file", "required with backend = s3");
        require(ctx, cb_str_charset(c->storage.s3_region, 64, "-_"), "storage", "s3_region",
                "1-64 letters, digits, '-' and '_'");
}

/* [stt]: the engine must be built in and have what it needs. */
static void check_stt(struct load_ctx *ctx)
{
        const struct cb_config *c = ctx->cfg;
        const char *engine = c->stt.engine != NULL ? c->stt.engine : "none";
        const char *cost = c->stt.cost_per_minute;
        char *end = NULL;
        double d;

#ifndef CB_HAVE_POCKETSPHINX
        /* The offline engine (PocketSphinx) is optional at build time. */
        require(ctx, strcmp(engine, "offline") != 0, "stt", "engine",
                "\"offline\" is not part of this build (built without PocketSphinx; use none, "
                "openai or google)");
#endif
        require(ctx, strcmp(engine, "openai") != 0 || c->stt.api_key_file != NULL, "stt",
                "api_key_file", "required with engine = openai");
        require(ctx,
                strcmp(engine, "google") != 0 || c->stt.api_key_file != NULL ||
                    c->stt.google_credentials_file != NULL,
                "stt", "google_credentials_file",
                "engine = google needs google_credentials_file or api_key_file");
        if (cost != NULL) {
                d = strtod(cost, &end);
                require(ctx, end != cost && *end == '\0' && d >= 0 && d < 1000, "stt",
                        "cost_per_minute", "a number of USD from 0 to 1000");
        }
}

/* Rules that involve more than one key. */
static void cross_check(struct load_ctx *ctx)
{
        const struct cb_config *c = ctx->cfg;

        require(ctx, c->database.url != NULL && c->database.url[0] != '\0', "database", "url",
                "required");
        check_softphone_tokens(ctx);
        require(ctx, c->workers.backoff_base_ms <= c->workers.backoff_max_ms, "workers",
                "backoff_max_ms", "must not be below backoff_base_ms");
        require(ctx, cb_str_charset(c->redis.key_prefix, 48, ":_-."), "redis", "key_prefix",
                "1-48 letters, digits and : _ - .");
        if (c->salesforce.enabled)
                check_salesforce(ctx);
        if (c->twilio.enabled)
                check_twilio(ctx);
        if (c->storage.backend != NULL && strcmp(c->storage.backend, "s3") == 0)
                check_s3(ctx);
        check_stt(ctx);
}

int cb_config_load(const char *path, struct cb_config **out, struct cb_config_errors *errs)
{
        struct cb_config *cfg = calloc(1, sizeof(*cfg));
        struct load_ctx ctx = {.cfg = cfg, .errs = errs, .path = path};
        char why[512];
        FILE *f = NULL;
        int rc;

        *out = NULL;
        if (cfg == NULL) {
                add_error(errs, "out of memory");
                return -1;
        }
        for (size_t i = 0; i < cb_settings_count; i++) {
                const struct cb_setting *s = &cb_settings[i];
                if (s->def != NULL && !set_value(cfg, s, s->def, why, sizeof(why)))
                        add_error(errs, "built-in default [%s] %s: %s", s->section, s->key, why);
        }
        f = fopen(path, "r");
        if (f == NULL) {
                add_error(errs, "%s: cannot open: %s", path, strerror(errno));
        } else {
                struct line_reader reader = {.f = f, .ctx = &ctx};
                rc = ini_parse_stream(read_line, &reader, on_ini_line, &ctx);
                free(reader.line);
                fclose(f);
                if (rc > 0)
                        add_error(errs, "%s:%d: syntax error (expected [section] or key = value)",
                                  path, rc);
        }
        apply_env(&ctx);
        cross_check(&ctx);
        if (errs->count > 0) {
                cb_config_free(&cfg);
                return -1;
        }
        *out = cfg;
        return 0;
}

void cb_config_free(struct cb_config **cfgp)
{
        struct cb_config *cfg = *cfgp;

        if (cfg == NULL)
                return;
        for (size_t i = 0; i < cb_settings_count; i++)
                if (is_string_type(cb_settings[i].type))
                        free(*str_slot(cfg, &cb_settings[i]));
        free(cfg);
        *cfgp = NULL;
}

void cb_config_errors_free(struct cb_config_errors *errs)
{
        for (size_t i = 0; i < errs->count; i++)
                free(errs->lines[i]);
        free(errs->lines);
        errs->lines = NULL;
        errs->count = 0;
}

void cb_config_apply_reload(struct cb_config *live, const struct cb_config *fresh)
{
        for (size_t i = 0; i < cb_settings_count; i++) {
                const struct cb_setting *s = &cb_settings[i];
                char *dst = (char *)live + s->offset;
                const char *src = (const char *)fresh + s->offset;

                if (!(s->flags & CB_SET_RELOAD))
                        continue;
                if (s->type == CB_SET_INT) {
                        memcpy(dst, src, sizeof(long));
                } else if (s->type == CB_SET_BOOL) {
                        memcpy(dst, src, sizeof(bool));
                } else {
                        /* Strings are swapped, never freed under a reader: reloadable string
                         * settings are read only by the main thread. */
                        char *copy = *(char *const *)src ? strdup(*(char *const *)src) : NULL;
                        free(*(char **)dst);
                        *(char **)dst = copy;
                }
        }
}

char *cb_config_read_secret(const char *path)
{
        FILE *f;
        struct stat st = {0};
        char *data = NULL;
        size_t len = 0;
        size_t n;
        char chunk[1024];

        if (path == NULL) {
                errno = EINVAL;
                return NULL;
        }
        f = fopen(path, "r");
        if (f == NULL)
                return NULL;
        if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
                errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
                goto fail;
        }
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
                char *grown;
                if (len + n > 1 << 20) { /* no secret is a megabyte */
                        errno = EFBIG;
                        goto fail;
                }
                grown = realloc(data, len + n + 1);
                if (grown == NULL)
                        goto fail;
                data = grown;
                memcpy(data + len, chunk, n);
                len += n;
        }
        if (ferror(f)) {
                errno = EIO;
                goto fail;
        }
        fclose(f);
        if (data == NULL)
                return strdup("");
        while (len > 0 && isspace((unsigned char)data[len - 1]))
                len--;
        data[len] = '\0';
        return data;
fail:
        fclose(f);
        free(data);
        return NULL;
}
