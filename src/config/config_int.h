/* What the configuration loader's files share (src/config/config.c, checks.c). */
#ifndef CB_CONFIG_INT_H
#define CB_CONFIG_INT_H

#include "callbridge/config.h"

/* One load in progress. */
struct load_ctx {
        struct cb_config *cfg;
        struct cb_config_errors *errs;
        const char *path;
};

/* Append one human line to `errs`; out of memory loses the line. */
void cb_config_add_error(struct cb_config_errors *errs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The rules that involve more than one key (src/config/checks.c). */
void cb_config_cross_check(struct load_ctx *ctx);

#endif
