/* Route matching: literal segments and "{}" wildcards, 404 vs 405 with Allow. */
#include <stdio.h>
#include <string.h>

#include "callbridge/http.h"

/* Match one path against one pattern, segment by segment, capturing wildcards. */
static bool path_matches(const char *pattern, const char *path,
                         char params[CB_ROUTE_PARAMS][CB_PARAM_MAX])
{
        int nparam = 0;

        while (*pattern != '\0' && *path != '\0') {
                size_t plen = strcspn(pattern + 1, "/") + 1; /* both start at a '/' */
                size_t slen = strcspn(path + 1, "/") + 1;

                if (pattern[0] != '/' || path[0] != '/')
                        return false;
                if (plen == 3 && strncmp(pattern, "/{}", 3) == 0) {
                        if (slen < 2 || slen - 1 >= CB_PARAM_MAX || nparam >= CB_ROUTE_PARAMS)
                                return false;
                        memcpy(params[nparam], path + 1, slen - 1);
                        params[nparam][slen - 1] = '\0';
                        nparam++;
                } else if (plen != slen || strncmp(pattern, path, plen) != 0) {
                        return false;
                }
                pattern += plen;
                path += slen;
        }
        return *pattern == '\0' && *path == '\0';
}

static void allow_add(char *allow, size_t size, const char *method)
{
        size_t len = strlen(allow);

        if (strstr(allow, method) != NULL || len + strlen(method) + 3 > size)
                return;
        snprintf(allow + len, size - len, "%s%s", len > 0 ? ", " : "", method);
}

const struct cb_route *cb_router_match(const struct cb_route *routes, size_t n, const char *method,
                                       const char *path, char params[CB_ROUTE_PARAMS][CB_PARAM_MAX],
                                       unsigned int *status, char *allow, size_t allow_size)
{
        bool head = strcmp(method, "HEAD") == 0;
        bool path_known = false;

        if (allow_size > 0)
                allow[0] = '\0';
        for (size_t i = 0; i < n; i++) {
                if (!path_matches(routes[i].pattern, path, params))
                        continue;
                path_known = true;
                if (strcmp(routes[i].method, method) == 0 ||
                    (head && strcmp(routes[i].method, "GET") == 0))
                        return &routes[i];
        }
        *status = path_known ? 405 : 404;
        if (!path_known)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                if (!path_matches(routes[i].pattern, path, params))
                        continue;
                allow_add(allow, allow_size, routes[i].method);
                if (strcmp(routes[i].method, "GET") == 0)
                        allow_add(allow, allow_size, "HEAD");
        }
        return NULL;
}
