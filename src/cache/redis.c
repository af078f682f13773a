/* Redis connections. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/cache.h"
#include "callbridge/log.h"
#include "callbridge/util.h"

redisContext *cb_cache_connect(const char *url, long timeout_ms)
{
        struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
        redisContext *c = NULL;
        long db = 0;

        if (strncmp(url, "unix://", 7) == 0) {
                c = redisConnectUnixWithTimeout(url + 7, tv);
        } else if (strncmp(url, "redis://", 8) == 0) {
                char host[256];
                const char *p = url + 8;
                const char *slash = strchr(p, '/');
                const char *colon = strrchr(p, ':');
                size_t hl;
                long port = 6379;
                char portbuf[8];

                if (slash == NULL)
                        slash = p + strlen(p);
                if (colon == NULL || colon > slash)
                        colon = slash;
                hl = (size_t)(colon - p);
                if (hl == 0 || hl >= sizeof(host))
                        return NULL;
                memcpy(host, p, hl);
                host[hl] = '\0';
                if (colon < slash) {
                        size_t pl = (size_t)(slash - colon - 1);
                        if (pl == 0 || pl >= sizeof(portbuf))
                                return NULL;
                        memcpy(portbuf, colon + 1, pl);
                        portbuf[pl] = '\0';
                        if (!cb_parse_long(portbuf, 1, 65535, &port))
                                return NULL;
                }
                if (*slash == '/' && slash[1] != '\0' && !cb_parse_long(slash + 1, 0, 1024, &db))
                        return NULL;
                c = redisConnectWithTimeout(host, (int)port, tv);
        }
        if (c == NULL)
                return NULL;
        if (c->err) {
                cb_debug("redis connect: %s", c->errstr);
                redisFree(c);
                return NULL;
        }
        redisSetTimeout(c, tv);
        if (db != 0) {
                redisReply *r = redisCommand(c, "SELECT %ld", db);
                bool ok = r != NULL && r->type == REDIS_REPLY_STATUS;
                freeReplyObject(r);
                if (!ok) {
                        redisFree(c);
                        return NULL;
                }
        }
        return c;
}

int cb_cache_ping(const char *url, long timeout_ms)
{
        redisContext *c = cb_cache_connect(url, timeout_ms);
        redisReply *r;
        int rc = -1;

        if (c == NULL)
                return -1;
        r = redisCommand(c, "PING");
        if (r != NULL && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0)
                rc = 0;
        freeReplyObject(r);
        redisFree(c);
        return rc;
}
