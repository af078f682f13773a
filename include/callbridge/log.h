/* Structured logging: one JSON object per line on stderr (journald reads it). */
#ifndef CALLBRIDGE_LOG_H
#define CALLBRIDGE_LOG_H

#include <jansson.h>
#include <stdatomic.h>

enum cb_log_level { CB_LOG_ERROR = 0, CB_LOG_WARN, CB_LOG_INFO, CB_LOG_DEBUG };

extern _Atomic int cb_log_threshold;

/* Parse "error|warn|info|debug"; -1 when unknown. */
int cb_log_level_parse(const char *name);
void cb_log_set_level(enum cb_log_level level);

/* Write one line: {"ts","level","msg", fields...}. Steals `fields` (may be NULL).
 * Never fails visibly: a line that cannot be built is dropped. */
void cb_log_write(enum cb_log_level level, const char *file, int line, json_t *fields,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* A request target as the access log shows it: percent-decoded (so "%2B1415…" is seen as a
 * phone number), phone-like digit runs masked, UUIDs (call ids) kept whole, the values of
 * credential-like query parameters (sig, token, key, …) and of cbk_/JWT-looking values
 * replaced by "***", control and non-ASCII bytes as '?'. Cut to fit `outlen`; never fails. */
void cb_log_mask_target(const char *in, char *out, size_t outlen);

/* True when a line at `level` would be written. Build fields only when it is: CB_LOG drops
 * (and so cannot free) fields for lines below the threshold. */
#define cb_log_enabled(level)                                                                      \
        ((int)(level) <= atomic_load_explicit(&cb_log_threshold, memory_order_relaxed))

/* The level is checked before the arguments are evaluated, so `fields` must be built inside
 * the call (or guarded by cb_log_enabled). */
#define CB_LOG(level, fields, ...)                                                                 \
        do {                                                                                       \
                if (cb_log_enabled(level))                                                         \
                        cb_log_write((level), __FILE__, __LINE__, (fields), __VA_ARGS__);          \
        } while (0)

#define cb_error(...) CB_LOG(CB_LOG_ERROR, NULL, __VA_ARGS__)
#define cb_warn(...)  CB_LOG(CB_LOG_WARN, NULL, __VA_ARGS__)
#define cb_info(...)  CB_LOG(CB_LOG_INFO, NULL, __VA_ARGS__)
#define cb_debug(...) CB_LOG(CB_LOG_DEBUG, NULL, __VA_ARGS__)

#endif
