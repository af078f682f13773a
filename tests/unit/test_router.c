/* Route matching (src/http/router.c): the real route table and a small local one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/http.h"

/* One request: `route` is the index of the route it must reach, or -1 when it must get
 * `status` (404, or 405 with exactly `allow`). `params` are the captured wildcards. */
struct route_case {
        const char *method;
        const char *path;
        int route;
        unsigned int status;
        const char *allow;
        const char *params[CB_ROUTE_PARAMS];
};

/* Indexes into cb_routes (checked by test_real_table_shape). */
enum {
        R_INITIATE,
        R_CALLS,
        R_CALL,
        R_HEALTHZ,
        R_READYZ,
        R_METRICS,
        R_LOOKUP,
        R_TWILIO_VOICE,
        R_TWILIO_STATUS,
        R_TWILIO_RECORDING,
        R_SOFTPHONE_TOKEN,
        R_EVENTS
};

static const struct route_case real_cases[] = {
    /* exact paths */
    {"POST", "/api/call/initiate", R_INITIATE, 0, NULL, {NULL}},
    {"GET", "/api/calls", R_CALLS, 0, NULL, {NULL}},
    {"GET", "/healthz", R_HEALTHZ, 0, NULL, {NULL}},
    {"GET", "/readyz", R_READYZ, 0, NULL, {NULL}},
    {"GET", "/metrics", R_METRICS, 0, NULL, {NULL}},
    {"GET", "/api/lookup", R_LOOKUP, 0, NULL, {NULL}},
    {"POST", "/webhooks/twilio/status", R_TWILIO_STATUS, 0, NULL, {NULL}},
    {"GET", "/api/events", R_EVENTS, 0, NULL, {NULL}},
    {"POST", "/api/events", -1, 405, "GET, HEAD", {NULL}},
    {"POST", "/api/lookup", -1, 405, "GET, HEAD", {NULL}},
    {"POST", "/api/softphone/token", R_SOFTPHONE_TOKEN, 0, NULL, {NULL}},
    {"GET", "/api/softphone/token", -1, 405, "POST", {NULL}},
    {"POST", "/api/softphone", -1, 404, NULL, {NULL}},
    /* HEAD reaches GET routes */
    {"HEAD", "/api/calls", R_CALLS, 0, NULL, {NULL}},
    {"HEAD", "/healthz", R_HEALTHZ, 0, NULL, {NULL}},
    {"HEAD", "/api/calls/abc", R_CALL, 0, NULL, {"abc"}},
    /* wildcards */
    {"GET",
     "/api/calls/0b7e4a5c-9a4f-4e3b-8d3c-2f6a1b9c0d1e",
     R_CALL,
     0,
     NULL,
     {"0b7e4a5c-9a4f-4e3b-8d3c-2f6a1b9c0d1e"}},
    {"GET", "/api/calls/x", R_CALL, 0, NULL, {"x"}},
    {"GET", "/api/calls/a%2Fb", R_CALL, 0, NULL, {"a%2Fb"}},
    {"GET", "/api/calls/", -1, 404, NULL, {NULL}}, /* empty wildcard */
    {"GET", "/api/calls//", -1, 404, NULL, {NULL}},
    {"GET", "/api/calls//x", -1, 404, NULL, {NULL}},
    /* trailing slashes and extra segments */
    {"GET", "/healthz/", -1, 404, NULL, {NULL}},
    {"POST", "/api/call/initiate/", -1, 404, NULL, {NULL}},
    {"GET", "/api/calls/abc/", -1, 404, NULL, {NULL}},
    {"GET", "/api/calls/abc/def", -1, 404, NULL, {NULL}},
    {"GET", "/metrics/x", -1, 404, NULL, {NULL}},
    /* prefixes, near misses, case */
    {"GET", "/", -1, 404, NULL, {NULL}},
    {"GET", "", -1, 404, NULL, {NULL}},
    {"GET", "/api", -1, 404, NULL, {NULL}},
    {"GET", "/api/", -1, 404, NULL, {NULL}},
    {"POST", "/api/call", -1, 404, NULL, {NULL}},
    {"GET", "/api/call", -1, 404, NULL, {NULL}},
    {"GET", "/health", -1, 404, NULL, {NULL}},
    {"GET", "/healthzz", -1, 404, NULL, {NULL}},
    {"GET", "/HEALTHZ", -1, 404, NULL, {NULL}},
    {"GET", "//healthz", -1, 404, NULL, {NULL}},
    {"GET", "healthz", -1, 404, NULL, {NULL}},
    {"GET", "/api/callsx", -1, 404, NULL, {NULL}},
    {"DELETE", "/nowhere", -1, 404, NULL, {NULL}},
    /* wrong method: 405 and the path's methods */
    {"GET", "/api/call/initiate", -1, 405, "POST", {NULL}},
    {"HEAD", "/api/call/initiate", -1, 405, "POST", {NULL}},
    {"PUT", "/api/call/initiate", -1, 405, "POST", {NULL}},
    {"POST", "/api/calls", -1, 405, "GET, HEAD", {NULL}},
    {"DELETE", "/api/calls/abc", -1, 405, "GET, HEAD", {NULL}},
    {"POST", "/healthz", -1, 405, "GET, HEAD", {NULL}},
    {"OPTIONS", "/metrics", -1, 405, "GET, HEAD", {NULL}},
    {"get", "/healthz", -1, 405, "GET, HEAD", {NULL}}, /* methods are case-sensitive */
};

static enum MHD_Result no_handler(struct cb_request *req)
{
        (void)req;
        return MHD_NO;
}

#define ROUTE(m, p)                                                                                \
        {                                                                                          \
                m, p, no_handler, CB_BODY_NONE, 0, false, NULL                                     \
        }

static const struct cb_route local_routes[] = {
    ROUTE("GET", "/a"),              /* 0 */
    ROUTE("POST", "/a"),             /* 1 */
    ROUTE("GET", "/a/{}/b/{}"),      /* 2 */
    ROUTE("PUT", "/a/{}/b/{}"),      /* 3 */
    ROUTE("DELETE", "/a/{}"),        /* 4 */
    ROUTE("GET", "/"),               /* 5 */
    ROUTE("GET", "/lit/{}/lit"),     /* 6 */
    ROUTE("GET", "/three/{}/{}/{}"), /* 7: more wildcards than CB_ROUTE_PARAMS */
    ROUTE("POST", "/dup"),           /* 8 */
    ROUTE("POST", "/dup"),           /* 9: a duplicate is never reached */
};

static const struct route_case local_cases[] = {
    {"GET", "/a", 0, 0, NULL, {NULL}},
    {"HEAD", "/a", 0, 0, NULL, {NULL}},
    {"POST", "/a", 1, 0, NULL, {NULL}},
    {"PUT", "/a", -1, 405, "GET, HEAD, POST", {NULL}},
    {"GET", "/a/x/b/y", 2, 0, NULL, {"x", "y"}},
    {"HEAD", "/a/x/b/y", 2, 0, NULL, {"x", "y"}},
    {"PUT", "/a/first/b/second", 3, 0, NULL, {"first", "second"}},
    {"POST", "/a/x/b/y", -1, 405, "GET, HEAD, PUT", {NULL}},
    {"DELETE", "/a/x", 4, 0, NULL, {"x"}},
    {"GET", "/a/x", -1, 405, "DELETE", {NULL}},
    {"GET", "/a/x/b", -1, 404, NULL, {NULL}},
    {"GET", "/a/x/b/", -1, 404, NULL, {NULL}},
    {"GET", "/a//b/y", -1, 404, NULL, {NULL}},
    {"GET", "/a/x/c/y", -1, 404, NULL, {NULL}},
    {"GET", "/a/x/b/y/z", -1, 404, NULL, {NULL}},
    {"GET", "/", 5, 0, NULL, {NULL}},
    {"POST", "/", -1, 405, "GET, HEAD", {NULL}},
    {"GET", "/lit/7/lit", 6, 0, NULL, {"7"}},
    {"GET", "/lit/7/lat", -1, 404, NULL, {NULL}},
    {"GET", "/lit/lit", -1, 404, NULL, {NULL}},
    {"GET", "/three/a/b/c", -1, 404, NULL, {NULL}},
    {"POST", "/dup", 8, 0, NULL, {NULL}},
    {"GET", "/dup", -1, 405, "POST", {NULL}},
};

/* Run one table of cases; prints every mismatch and fails at the end. */
static void run_cases(const struct cb_route *routes, size_t n, const struct route_case *cases,
                      size_t ncases)
{
        int failures = 0;

        for (size_t i = 0; i < ncases; i++) {
                const struct route_case *c = &cases[i];
                char params[CB_ROUTE_PARAMS][CB_PARAM_MAX];
                char allow[64];
                unsigned int status = 0;
                const struct cb_route *r;
                bool ok;

                memset(params, 0, sizeof(params));
                memset(allow, 'x', sizeof(allow));
                r = cb_router_match(routes, n, c->method, c->path, params, &status, allow,
                                    sizeof(allow));
                if (c->route >= 0) {
                        ok = r == &routes[c->route];
                        for (size_t p = 0; ok && p < CB_ROUTE_PARAMS && c->params[p] != NULL; p++)
                                ok = strcmp(params[p], c->params[p]) == 0;
                } else {
                        ok = r == NULL && status == c->status &&
                             (c->status != 405 || strcmp(allow, c->allow) == 0) &&
                             (c->status != 404 || allow[0] == '\0');
                }
                if (!ok) {
                        print_error("case %zu: %s %s: got route %ld status %u allow \"%.*s\" "
                                    "params \"%.*s\" \"%.*s\"\n",
                                    i, c->method, c->path, r ? (long)(r - routes) : -1L, status,
                                    (int)strnlen(allow, sizeof(allow)), allow, CB_PARAM_MAX,
                                    params[0], CB_PARAM_MAX, params[1]);
                        failures++;
                }
        }
        assert_int_equal(failures, 0);
}

/* The indexes the real cases use still name the routes they mean. */
static void test_real_table_shape(void **state)
{
        static const char *const want[][2] = {
            [R_INITIATE] = {"POST", "/api/call/initiate"},
            [R_CALLS] = {"GET", "/api/calls"},
            [R_CALL] = {"GET", "/api/calls/{}"},
            [R_HEALTHZ] = {"GET", "/healthz"},
            [R_READYZ] = {"GET", "/readyz"},
            [R_METRICS] = {"GET", "/metrics"},
            [R_LOOKUP] = {"GET", "/api/lookup"},
            [R_TWILIO_VOICE] = {"POST", "/webhooks/twilio/voice"},
            [R_TWILIO_STATUS] = {"POST", "/webhooks/twilio/status"},
            [R_TWILIO_RECORDING] = {"POST", "/webhooks/twilio/recording"},
            [R_SOFTPHONE_TOKEN] = {"POST", "/api/softphone/token"},
            [R_EVENTS] = {"GET", "/api/events"},
        };
        (void)state;

        assert_true(cb_routes_count >= CB_ARRAY_LEN(want));
        for (size_t i = 0; i < CB_ARRAY_LEN(want); i++) {
                assert_string_equal(cb_routes[i].method, want[i][0]);
                assert_string_equal(cb_routes[i].pattern, want[i][1]);
        }
        for (size_t i = 0; i < cb_routes_count; i++) {
                assert_non_null(cb_routes[i].handler);
                /* streamed routes, and only they, have stream ops (server.c relies on it) */
                assert_int_equal(cb_routes[i].stream != NULL, cb_routes[i].body == CB_BODY_STREAM);
                assert_true(cb_routes[i].pattern[0] == '/');
                /* Every /api route needs a key; probes and metrics do not. */
                assert_int_equal(cb_routes[i].auth, strncmp(cb_routes[i].pattern, "/api/", 5) == 0);
        }
}

static void test_real_routes(void **state)
{
        (void)state;
        run_cases(cb_routes, cb_routes_count, real_cases, CB_ARRAY_LEN(real_cases));
}

static void test_local_routes(void **state)
{
        (void)state;
        run_cases(local_routes, CB_ARRAY_LEN(local_routes), local_cases, CB_ARRAY_LEN(local_cases));
}

/* A wildcard segment is captured only when it fits in CB_PARAM_MAX with its NUL. */
static void test_wildcard_length(void **state)
{
        static const struct {
                size_t len;
                bool match;
        } lengths[] = {{1, true},
                       {CB_PARAM_MAX - 2, true},
                       {CB_PARAM_MAX - 1, true},
                       {CB_PARAM_MAX, false},
                       {CB_PARAM_MAX + 1, false},
                       {4 * CB_PARAM_MAX, false}};
        (void)state;

        for (size_t i = 0; i < CB_ARRAY_LEN(lengths); i++) {
                char path[16 + 4 * CB_PARAM_MAX + 1];
                char params[CB_ROUTE_PARAMS][CB_PARAM_MAX];
                char allow[64];
                unsigned int status = 0;
                const struct cb_route *r;
                size_t prefix = strlen("/api/calls/");

                memcpy(path, "/api/calls/", prefix);
                memset(path + prefix, 'k', lengths[i].len);
                path[prefix + lengths[i].len] = '\0';
                memset(params, 0, sizeof(params));
                r = cb_router_match(cb_routes, cb_routes_count, "GET", path, params, &status, allow,
                                    sizeof(allow));
                if (lengths[i].match) {
                        assert_ptr_equal(r, &cb_routes[R_CALL]);
                        assert_int_equal(strlen(params[0]), lengths[i].len);
                        assert_int_equal(strspn(params[0], "k"), lengths[i].len);
                } else {
                        assert_null(r);
                        assert_int_equal(status, 404);
                }
        }
}

/* A small Allow buffer is truncated at a method boundary, never overrun. */
static void test_allow_small_buffer(void **state)
{
        static const struct {
                size_t size;
                const char *want;
        } sizes[] = {{64, "GET, HEAD, POST"},
                     {16, "GET, HEAD, POST"},
                     {15, "GET, HEAD"},
                     {10, "GET, HEAD"},
                     {9, "GET"},
                     {6, "GET"},
                     {5, ""},
                     {1, ""}};
        (void)state;

        for (size_t i = 0; i < CB_ARRAY_LEN(sizes); i++) {
                char params[CB_ROUTE_PARAMS][CB_PARAM_MAX];
                char allow[80];
                unsigned int status = 0;

                memset(allow, '#', sizeof(allow));
                assert_null(cb_router_match(local_routes, CB_ARRAY_LEN(local_routes), "PUT", "/a",
                                            params, &status, allow, sizes[i].size));
                assert_int_equal(status, 405);
                assert_string_equal(allow, sizes[i].want);
                for (size_t b = sizes[i].size; b < sizeof(allow); b++)
                        assert_int_equal(allow[b], '#');
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_real_table_shape),   cmocka_unit_test(test_real_routes),
            cmocka_unit_test(test_local_routes),       cmocka_unit_test(test_wildcard_length),
            cmocka_unit_test(test_allow_small_buffer),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
