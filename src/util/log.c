/* JSON-lines logger. One write(2) per line so concurrent threads never interleave. */
#include "callbridge/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
