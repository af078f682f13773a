/* What the configuration loader's files share (src/config/config.c, checks.c). */
#ifndef CB_CONFIG_INT_H
#define CB_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "callbridge/config.h"
#include "settings.h"

/* What one load saw of a moved key: its value under the deprecated spelling (and where), and
 * under the new one. Strings owned (cb_config_aliases_resolve frees them). */
struct alias_seen {
        char *old_value;
        char old_where[160];
        char *new_value;
};

/* One load in progress. */
struct load_ctx {
        struct cb_config *cfg;
        struct cb_config_errors *errs;
        const char *path;
        struct alias_seen aliases[CB_SETTING_ALIASES_MAX]; /* by cb_setting_aliases index */
};

/* Append one human line to `errs`; out of memory loses the line. */
void cb_config_add_error(struct cb_config_errors *errs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Parse and store one value of `s` (src/config/config.c); false with what was expected in
 * `why`. */
bool cb_config_set_value(struct cb_config *cfg, const struct cb_setting *s, const char *v,
                         char *why, size_t whylen);
const struct cb_setting *cb_config_find_setting(const char *section, const char *key);

/* ---- deprecated spellings (src/config/aliases.c) ---- */

/* `section`/`key` is a deprecated spelling: remember `value` (seen at `where`) and return true.
 * Else, when it is the new spelling of a moved key, remember `value` under it; false. */
bool cb_config_alias_note(struct load_ctx *ctx, const char *section, const char *key,
                          const char *value, const char *where);
/* The environment's CALLBRIDGE_<SECTION>_<KEY> of the deprecated spellings, as notes. */
void cb_config_alias_env(struct load_ctx *ctx);
/* After the file and the environment: a deprecated spelling sets its key when the new one was
 * not given (warning), and an error when both were given with different values. Frees what
 * the notes kept. */
void cb_config_aliases_resolve(struct load_ctx *ctx);

/* The rules that involve more than one key (src/config/checks.c). */
void cb_config_cross_check(struct load_ctx *ctx);

#endif
