/* JSON-lines logger. One write(2) per line so concurrent threads never interleave. */
#include "callbridge/log.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "callbridge/util.h"

_Atomic int cb_log_threshold = CB_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int cb_log_level_parse(const char *name)
{
        for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
                if (name != NULL && strcmp(name, level_names[i]) == 0)
                        return (int)i;
        return -1;
}

void cb_log_set_level(enum cb_log_level level)
{
        atomic_store(&cb_log_threshold, (int)level);
}

void cb_log_write(enum cb_log_level level, const char *file, int line, json_t *fields,
                  const char *fmt, ...)
{
        char msg[1024];
        char ts[64];
        struct timespec now;
        struct tm tm;
        va_list ap;
        json_t *obj = json_object();
        char *text = NULL;

        if (obj == NULL)
                goto out;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)(now.tv_nsec / 1000000) % 1000);
        json_object_set_new(obj, "ts", json_string(ts));
        json_object_set_new(obj, "level", json_string(level_names[level]));
        json_object_set_new(obj, "msg", json_string(msg));
        if (level <= CB_LOG_WARN && file != NULL) {
                const char *base = strrchr(file, '/');
                json_object_set_new(obj, "src",
                                    json_sprintf("%s:%d", base ? base + 1 : file, line));
        }
        if (fields != NULL)
                json_object_update(obj, fields);
        text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
        if (text != NULL) {
                size_t n = strlen(text);
                text[n] = '\n'; /* overwrite the NUL: one write for the whole line */
                ssize_t w = write(STDERR_FILENO, text, n + 1);
                (void)w;
        }
out:
        free(text);
        json_decref(obj);
        json_decref(fields);
}

/* ---- request targets in the access log ---- */

#define TARGET_MAX 2048 /* longer targets are logged cut */

/* Query names whose values are credentials: logged as "***". */
static const char *const secret_names[] = {
    "sig",
    "signature",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "key",
    "api_key",
    "apikey",
    "secret",
    "password",
    "passwd",
    "auth",
    "authorization",
    "code",
    "session",
    "session_id",
    "sessionid",
    "jwt",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "client_secret",
    "state",         /* OAuth: the sign-in's single-use state */
    "code_verifier", /* PKCE */
    "csrf_token",
};

/* Percent-decode in[0..n) into out (NUL-terminated, cut to size), up to three times so that
 * "%2534" hides nothing either. Returns the decoded length. */
static size_t decode(const char *in, size_t n, char *out, size_t size)
{
        char tmp[TARGET_MAX];
        size_t len = n < size - 1 ? n : size - 1;

        memcpy(out, in, len);
        out[len] = '\0';
        for (int pass = 0; pass < 3 && memchr(out, '%', len) != NULL; pass++) {
                size_t o = 0;
                for (size_t i = 0; i < len && o + 1 < sizeof(tmp); i++) {
                        int hi = i + 2 < len && out[i] == '%' ? cb_hex_digit(out[i + 1]) : -1;
                        int lo = hi >= 0 ? cb_hex_digit(out[i + 2]) : -1;
                        if (lo >= 0) {
                                tmp[o++] = (hi | lo) != 0 ? (char)(hi << 4 | lo) : '?';
                                i += 2;
                        } else {
                                tmp[o++] = out[i];
                        }
                }
                len = o < size - 1 ? o : size - 1;
                memcpy(out, tmp, len);
                out[len] = '\0';
        }
        return len;
}

/* A UUID (8-4-4-4-12 hex) at s[0..n) standing alone: 36, else 0. */
static size_t uuid_at(const char *s, size_t n, bool after_alnum)
{
        static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

        if (after_alnum || n < 36)
                return 0;
        for (size_t i = 0; i < 36; i++)
                if (shape[i] == '-' ? s[i] != '-' : cb_hex_digit(s[i]) < 0)
                        return 0;
        return n > 36 && isalnum((unsigned char)s[36]) ? 0 : 36;
}

/* Append s[0..n) to out with phone-like digit runs masked and UUIDs kept whole. */
static void put_masked(struct cb_buf *out, const char *s, size_t n)
{
        char piece[TARGET_MAX];
        char masked[TARGET_MAX];
        size_t start = 0;

        for (size_t i = 0; i <= n; i++) {
                size_t u =
                    i < n ? uuid_at(s + i, n - i, i > 0 && isalnum((unsigned char)s[i - 1])) : 0;
                if (u == 0 && i < n)
                        continue;
                if (i > start) {
                        size_t len = i - start < sizeof(piece) ? i - start : sizeof(piece) - 1;
                        memcpy(piece, s + start, len);
                        piece[len] = '\0';
                        cb_mask_digits(piece, masked, sizeof(masked));
                        cb_buf_append(out, masked, strlen(masked));
                }
                cb_buf_append(out, s + i, u);
                i += u;
                start = i;
                if (u > 0)
                        i--; /* the loop's i++ looks at the character after the UUID */
        }
}

static bool secret_name(const char *name)
{
        for (size_t i = 0; i < sizeof(secret_names) / sizeof(secret_names[0]); i++)
                if (strcasecmp(name, secret_names[i]) == 0)
                        return true;
        return false;
}

/* One query parameter "name=value" (raw): the value decoded and masked, or "***". */
static void put_param(struct cb_buf *out, const char *p, size_t n)
{
        char name[128];
        char value[TARGET_MAX];
        const char *eq = memchr(p, '=', n);
        size_t nlen = eq ? (size_t)(eq - p) : n;
        size_t vlen;

        decode(p, nlen, name, sizeof(name));
        put_masked(out, name, strlen(name));
        if (eq == NULL)
                return;
        cb_buf_append(out, "=", 1);
        vlen = decode(eq + 1, n - nlen - 1, value, sizeof(value));
        if (secret_name(name) || strncmp(value, "cbk_", 4) == 0 || strncmp(value, "eyJ", 3) == 0)
                cb_buf_append(out, "***", 3);
        else
                put_masked(out, value, vlen);
}

void cb_log_mask_target(const char *in, char *out, size_t outlen)
{
        struct cb_buf b = {.max = (size_t)TARGET_MAX * 2};
        char path[TARGET_MAX];
        size_t n = strlen(in) < TARGET_MAX ? strlen(in) : TARGET_MAX;
        const char *q = memchr(in, '?', n);
        size_t plen = q ? (size_t)(q - in) : n;
        size_t o = 0;

        if (outlen == 0)
                return;
        put_masked(&b, path, decode(in, plen, path, sizeof(path)));
        for (const char *p = q; p != NULL && p < in + n;) {
                const char *end = memchr(p + 1, '&', (size_t)(in + n - p - 1));
                size_t len = end ? (size_t)(end - p - 1) : (size_t)(in + n - p - 1);
                cb_buf_append(&b, p, 1); /* '?' or '&' */
                put_param(&b, p + 1, len);
                p = end;
        }
        /* Control and non-ASCII bytes (decoded from %XX) become '?': the line stays UTF-8. */
        for (size_t i = 0; i < b.len && o + 1 < outlen; i++) {
                unsigned char c = (unsigned char)b.data[i];
                out[o++] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
        }
        out[o] = '\0';
        cb_buf_free(&b);
}
