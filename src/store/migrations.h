/* The numbered SQL migrations compiled into the binary (generated table). */
#ifndef CB_STORE_MIGRATIONS_H
#define CB_STORE_MIGRATIONS_H

#include <stddef.h>

struct cb_migration {
        int version;
        const char *name;
        const char *sql;
};

extern const struct cb_migration cb_migrations[];
extern const size_t cb_migrations_count;

#endif
