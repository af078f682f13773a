/* Agent presence, shared by every instance through Redis: presence:<agent> exists while the
 * agent's softphone holds an event stream open on some instance (refreshed at each heartbeat,
 * so a vanished instance's agents expire by themselves). */
#include "callbridge/cache.h"

void cb_presence_touch(const char *agent, long ttl_s)
{
        freeReplyObject(
            cb_cache_command("SET %spresence:%s 1 EX %ld", cb_cache_prefix(), agent, ttl_s));
}

bool cb_presence_online(const char *agent)
{
        redisReply *r = cb_cache_command("EXISTS %spresence:%s", cb_cache_prefix(), agent);
        bool online = r != NULL && r->type == REDIS_REPLY_INTEGER && r->integer == 1;

        freeReplyObject(r);
        return online;
}
