/* Shared inside src/upstream/. */
#ifndef CB_UPSTREAM_INT_H
#define CB_UPSTREAM_INT_H

#include <stdint.h>

/* Count one upstream request: `status` 0 is a transport failure. */
void cb_upstream_observe(const char *service, long status, int64_t us);

#endif
