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
#include "config_int.h"
#include "settings.h"

void cb_config_add_error(struct cb_config_errors *errs, const char *fmt, ...)
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

bool cb_config_set_value(struct cb_config *cfg, const struct cb_setting *s, const char *v,
                         char *why, size_t whylen)
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
                /* Paths are appended to base URLs everywhere: keep them without trailing
                 * slashes once, here ("https://cb.example.com/" is "https://cb.example.com"). */
                if (cb_choice_match("http://|https://", v, true)) {
                        size_t n = strlen(v), min = (size_t)(strstr(v, "://") - v) + 4;
                        while (n > min && v[n - 1] == '/')
                                n--;
                        copy = strndup(v, n);
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
                cb_config_add_error(r->ctx->errs, "%s:%d: syntax error (expected key = value)",
                                    r->ctx->path, r->lineno);
        } else {
                *eq = '\0';
                on_ini_line(r->ctx, r->section, trim(t), trim(eq + 1));
        }
        cb_strlcpy(str, "\n", (size_t)num);
        return str;
}

const struct cb_setting *cb_config_find_setting(const char *section, const char *key)
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
        const struct cb_setting *s = cb_config_find_setting(section, key);
        char why[512];

        /* A deprecated spelling is only noted (resolved after the environment); the new
         * spelling of a moved key is noted too, for the conflict check. */
        if (cb_config_alias_note(ctx, section, key, value, ctx->path))
                return 1;
        if (s == NULL) {
                cb_config_add_error(ctx->errs, "%s: [%s] %s: unknown key", ctx->path, section, key);
                return 1;
        }
        if (!cb_config_set_value(ctx->cfg, s, value, why, sizeof(why)))
                cb_config_add_error(ctx->errs, "%s: [%s] %s = \"%s\": %s", ctx->path, section, key,
                                    value, why);
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
                (void)cb_config_alias_note(ctx, s->section, s->key, v, name);
                if (!cb_config_set_value(ctx->cfg, s, v, why, sizeof(why)))
                        cb_config_add_error(ctx->errs, "environment %s: [%s] %s = \"%s\": %s", name,
                                            s->section, s->key, v, why);
        }
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
                cb_config_add_error(errs, "out of memory");
                return -1;
        }
        for (size_t i = 0; i < cb_settings_count; i++) {
                const struct cb_setting *s = &cb_settings[i];
                if (s->def != NULL && !cb_config_set_value(cfg, s, s->def, why, sizeof(why)))
                        cb_config_add_error(errs, "built-in default [%s] %s: %s", s->section,
                                            s->key, why);
        }
        f = fopen(path, "r");
        if (f == NULL) {
                cb_config_add_error(errs, "%s: cannot open: %s", path, strerror(errno));
        } else {
                struct line_reader reader = {.f = f, .ctx = &ctx};
                rc = ini_parse_stream(read_line, &reader, on_ini_line, &ctx);
                free(reader.line);
                fclose(f);
                if (rc > 0)
                        cb_config_add_error(
                            errs, "%s:%d: syntax error (expected [section] or key = value)", path,
                            rc);
        }
        apply_env(&ctx);
        cb_config_alias_env(&ctx);
        cb_config_aliases_resolve(&ctx);
        cb_config_cross_check(&ctx);
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
        cb_config_errors_free(&cfg->warnings);
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
