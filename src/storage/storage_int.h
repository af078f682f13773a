/* What the storage providers share (src/storage/storage.c). */
#ifndef CB_STORAGE_INT_H
#define CB_STORAGE_INT_H

#include <stddef.h>

/* Format a reason into `err` (`size` bytes); a NULL or empty `err` is left alone. */
void cb_storage_err(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
