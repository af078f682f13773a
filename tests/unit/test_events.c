/* Events (src/events/): SSE framing, names and ids, the ring (eviction, floor, duplicates),
 * and the hub's streams driven with a fake waker (replay, reset, suspend/resume, caps, stop).
 * No Redis: the hub is fed directly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/events.h"
#include "events_int.h"

/* ---- framing and names ------------------------------------------------------------------ */

static void test_frame(void **state)
{
        struct cb_buf b = {.max = 4096};

        (void)state;
        assert_int_equal(cb_events_frame(&b, 42, "call_status", "{\"a\":1}"), 0);
        assert_string_equal(b.data, "id: 42\nevent: call_status\ndata: {\"a\":1}\n\n");
        b.len = 0;
        assert_int_equal(cb_events_frame(&b, 0, "reset", "{}"), 0);
        assert_string_equal(b.data, "event: reset\ndata: {}\n\n");
        b.len = 0;
        b.max = 20; /* too small: nothing half-written */
        assert_int_equal(cb_events_frame(&b, 7, "call_status", "{}"), -1);
        assert_int_equal(b.len, 0);
        cb_buf_free(&b);
}

static void test_names_and_ids(void **state)
{
        static const char *const good_types[] = {"call_status", "screen_pop", "a", "x9_"};
        static const char *const bad_types[] = {"",          "Call",     "call-status", "a b",
                                                "a\nevent:", "\xc3\xa9", NULL};
        static const char *const bad_ids[] = {"",
                                              "-1",
                                              "+1",
                                              "1 ",
                                              " 1",
                                              "0x10",
                                              "abc",
                                              "1.5",
                                              "18446744073709551616",
                                              "000000000000000000001"};
        uint64_t v = 99;

        (void)state;
        for (size_t i = 0; i < CB_ARRAY_LEN(good_types); i++)
                assert_true(cb_events_type_valid(good_types[i]));
        for (size_t i = 0; i < CB_ARRAY_LEN(bad_types); i++)
                assert_false(cb_events_type_valid(bad_types[i]));
        assert_true(cb_events_type_valid("abcdefghijklmnopqrstuvwxyz012345"));
        assert_false(cb_events_type_valid("abcdefghijklmnopqrstuvwxyz0123456"));
        assert_true(cb_events_agent_valid("alice@example.com"));
        assert_false(cb_events_agent_valid("al\"ice"));
        assert_false(cb_events_agent_valid(""));
        assert_false(cb_events_agent_valid(NULL));

        assert_true(cb_events_parse_id("0", &v));
        assert_int_equal(v, 0);
        assert_true(cb_events_parse_id("1796071211196208", &v));
        assert_int_equal(v, 1796071211196208ULL);
        assert_true(cb_events_parse_id("18446744073709551615", &v));
        assert_true(v == UINT64_MAX);
        for (size_t i = 0; i < CB_ARRAY_LEN(bad_ids); i++) {
                v = 5;
                if (cb_events_parse_id(bad_ids[i], &v))
                        fail_msg("accepted id \"%s\"", bad_ids[i]);
                assert_int_equal(v, 5);
        }
        assert_false(cb_events_parse_id(NULL, &v));
}

/* ---- the ring --------------------------------------------------------------------------- */

static void append(struct cb_events_ring *r, uint64_t id, const char *agent)
{
        char frame[64];
        int n = snprintf(frame, sizeof(frame), "f%llu", (unsigned long long)id);

        assert_int_equal(cb_events_ring_append(r, id, agent, frame, (size_t)n), 1);
}

static void test_ring(void **state)
{
        struct cb_events_ring r;

        (void)state;
        assert_int_equal(cb_events_ring_init(&r, 4), 0);
        assert_false(cb_events_ring_covers(&r, 0)); /* not subscribed yet: no promise */
        r.floor_known = true;
        r.floor = 10;
        assert_true(cb_events_ring_covers(&r, 10));
        assert_false(cb_events_ring_covers(&r, 9));
        assert_null(cb_events_ring_at(&r, 0));
        for (uint64_t id = 11; id <= 14; id++)
                append(&r, id, "alice");
        assert_int_equal(cb_events_ring_oldest(&r), 0);
        assert_string_equal(cb_events_ring_at(&r, 0)->frame, "f11");
        assert_int_equal(r.floor, 10); /* nothing evicted yet */
        /* A duplicate id (local delivery racing the subscriber) is skipped. */
        assert_int_equal(cb_events_ring_append(&r, 13, "alice", "dup", 3), 0);
        assert_int_equal(r.head, 4);
        /* Local-only events (id 0) are never duplicates. */
        assert_int_equal(cb_events_ring_append(&r, 0, "alice", "l1", 2), 1);
        assert_int_equal(cb_events_ring_append(&r, 0, "alice", "l2", 2), 1);
        /* Two evicted: 11 and 12; ids up to 12 may now be missing. */
        assert_int_equal(cb_events_ring_oldest(&r), 2);
        assert_null(cb_events_ring_at(&r, 1));
        assert_string_equal(cb_events_ring_at(&r, 2)->frame, "f13");
        assert_null(cb_events_ring_at(&r, 6));
        assert_int_equal(r.floor, 12);
        assert_false(cb_events_ring_covers(&r, 11));
        assert_true(cb_events_ring_covers(&r, 12));
        /* Evicting a local-only event does not move the floor. */
        append(&r, 15, "bob");
        append(&r, 16, "bob");
        append(&r, 17, "bob");
        assert_int_equal(r.floor, 14);
        append(&r, 18, "bob");
        assert_int_equal(r.floor, 14);
        cb_events_ring_free(&r);
        cb_events_ring_free(&r); /* twice is fine */
}

/* ---- the hub with a fake waker ---------------------------------------------------------- */

struct fake_conn {
        int suspends;
        int resumes;
        int misuse; /* suspended twice or resumed while awake (checked outside the lock) */
        bool suspended;
};

static void fake_suspend(void *ctx)
{
        struct fake_conn *c = ctx;

        /* No cmocka assertion here: it would jump out with the hub's lock held. */
        c->misuse += c->suspended;
        c->suspended = true;
        c->suspends++;
}

static void fake_resume(void *ctx)
{
        struct fake_conn *c = ctx;

        c->misuse += !c->suspended; /* never resumed twice */
        c->suspended = false;
        c->resumes++;
}

static struct cb_config hub_cfg;

static int hub_setup(void **state)
{
        (void)state;
        memset(&hub_cfg, 0, sizeof(hub_cfg));
        hub_cfg.server.sse_heartbeat_s = 3600; /* no ping during a test */
        hub_cfg.server.sse_max_streams = 4;
        hub_cfg.server.sse_max_streams_per_agent = 2;
        hub_cfg.server.sse_buffer_events = 8;
        return cb_events_hub_start(&hub_cfg);
}

static int hub_teardown(void **state)
{
        (void)state;
        cb_events_hub_stop();
        return 0;
}

/* Everything the stream has to send now, as text ("" when it suspended). */
static char *drain(struct cb_events_client *c, struct fake_conn *fc)
{
        static char text[65536];
        size_t len = 0;
        char buf[7]; /* small on purpose: frames are handed over in pieces */
        long n;

        while ((n = cb_events_client_read(c, buf, sizeof(buf))) > 0) {
                assert_true(len + (size_t)n < sizeof(text));
                memcpy(text + len, buf, (size_t)n);
                len += (size_t)n;
        }
        assert_int_equal(n, 0);
        assert_true(fc->suspended);
        assert_int_equal(fc->misuse, 0);
        text[len] = '\0';
        return text;
}

static struct cb_events_client *open_stream(const char *agent, uint64_t last, bool resume,
                                            struct fake_conn *fc)
{
        const struct cb_events_waker w = {fake_suspend, fake_resume, fc, -1};
        enum cb_err err = CB_ERR_NONE;
        struct cb_events_client *c = cb_events_client_open(agent, last, resume, &w, &err);

        assert_non_null(c);
        return c;
}

static void test_hub_delivery(void **state)
{
        struct fake_conn fa = {0}, fb = {0};
        struct cb_events_client *a;
        struct cb_events_client *b;

        (void)state;
        cb_events_hub_subscribed(100, false);
        a = open_stream("alice", 0, false, &fa);
        b = open_stream("bob", 0, false, &fb);
        assert_string_equal(drain(a, &fa), "retry: 3000\n\n");
        assert_string_equal(drain(b, &fb), "retry: 3000\n\n");
        cb_events_hub_deliver(101, "alice", "call_status", "{\"n\":1}");
        assert_int_equal(fa.resumes, 1);
        assert_int_equal(fb.resumes, 0); /* bob's stream stays parked */
        cb_events_hub_deliver(102, "alice", "call_status", "{\"n\":2}");
        assert_int_equal(fa.resumes, 1); /* already awake */
        assert_string_equal(drain(a, &fa), "id: 101\nevent: call_status\ndata: {\"n\":1}\n\n"
                                           "id: 102\nevent: call_status\ndata: {\"n\":2}\n\n");
        assert_true(fb.suspended); /* the server never calls a parked stream's reader */
        assert_int_equal(fb.resumes, 0);
        /* A lost subscription: every stream is told to re-sync. */
        cb_events_hub_subscribed(200, true);
        assert_int_equal(fb.resumes, 1);
        assert_string_equal(drain(b, &fb), "event: reset\ndata: {\"reason\":\"resubscribed\"}\n\n");
        assert_string_equal(drain(a, &fa), "event: reset\ndata: {\"reason\":\"resubscribed\"}\n\n");
        cb_events_client_close(&a);
        cb_events_client_close(&b);
        assert_null(a);
        cb_events_client_close(&a); /* NULL is fine */
}

static void test_hub_resume_and_overrun(void **state)
{
        struct fake_conn f1 = {0}, f2 = {0}, f3 = {0};
        struct cb_events_client *c;
        char want[512];

        (void)state;
        cb_events_hub_subscribed(100, false);
        cb_events_hub_deliver(101, "alice", "t", "1");
        cb_events_hub_deliver(102, "bob", "t", "2");
        cb_events_hub_deliver(0, "alice", "t", "local");
        cb_events_hub_deliver(103, "alice", "t", "3");
        /* Resume after 101: alice's 103 only (bob's is not hers, local-only ones have no id). */
        c = open_stream("alice", 101, true, &f1);
        assert_string_equal(drain(c, &f1), "retry: 3000\n\nid: 103\nevent: t\ndata: 3\n\n");
        cb_events_hub_deliver(104, "alice", "t", "4");
        assert_string_equal(drain(c, &f1), "id: 104\nevent: t\ndata: 4\n\n");
        cb_events_client_close(&c);
        /* Resume from before the subscription: the ring cannot vouch for it. */
        c = open_stream("alice", 99, true, &f2);
        assert_string_equal(drain(c, &f2),
                            "retry: 3000\n\nevent: reset\ndata: {\"reason\":\"too_old\"}\n\n");
        /* Too slow: more events than the ring holds arrive before it reads again. */
        for (int i = 0; i < 9; i++)
                cb_events_hub_deliver(200 + (uint64_t)i, "alice", "t", "x");
        snprintf(want, sizeof(want), "event: reset\ndata: {\"reason\":\"overrun\"}\n\n");
        assert_string_equal(drain(c, &f2), want);
        cb_events_hub_deliver(300, "alice", "t", "y");
        assert_string_equal(drain(c, &f2), "id: 300\nevent: t\ndata: y\n\n");
        cb_events_client_close(&c);
        /* Evicted events raised the floor past 101. */
        c = open_stream("alice", 101, true, &f3);
        assert_string_equal(drain(c, &f3),
                            "retry: 3000\n\nevent: reset\ndata: {\"reason\":\"too_old\"}\n\n");
        cb_events_client_close(&c);
}

static void test_hub_caps_and_stop(void **state)
{
        const struct cb_events_waker w = {fake_suspend, fake_resume, NULL, -1};
        struct fake_conn f[4] = {{0}};
        struct cb_events_client *c[4];
        enum cb_err err = CB_ERR_NONE;
        char buf[64];

        (void)state;
        c[0] = open_stream("alice", 0, false, &f[0]);
        c[1] = open_stream("alice", 0, false, &f[1]);
        assert_null(cb_events_client_open("alice", 0, false, &w, &err));
        assert_int_equal(err, CB_ERR_TOO_MANY_STREAMS);
        c[2] = open_stream("bob", 0, false, &f[2]);
        c[3] = open_stream("carol", 0, false, &f[3]);
        assert_null(cb_events_client_open("dave", 0, false, &w, &err));
        assert_int_equal(err, CB_ERR_NOT_READY);
        drain(c[0], &f[0]);
        cb_events_hub_stop();
        /* Parked streams were woken; every reader now ends (a pending byte goes out first). */
        assert_int_equal(f[0].resumes, 1);
        assert_false(f[0].suspended);
        assert_int_equal(cb_events_client_read(c[0], buf, sizeof(buf)), -1);
        assert_int_equal(cb_events_client_read(c[1], buf, 5), 5);
        assert_int_equal(cb_events_client_read(c[1], buf, sizeof(buf)), 8);
        assert_int_equal(cb_events_client_read(c[1], buf, sizeof(buf)), -1);
        assert_null(cb_events_client_open("dave", 0, false, &w, &err));
        assert_int_equal(err, CB_ERR_NOT_READY);
        cb_events_hub_deliver(1, "alice", "t", "x"); /* dropped, not a crash */
        for (int i = 0; i < 4; i++)
                cb_events_client_close(&c[i]);
        assert_int_equal(hub_setup(NULL), 0); /* the teardown stops it again */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_frame),
            cmocka_unit_test(test_names_and_ids),
            cmocka_unit_test(test_ring),
            cmocka_unit_test_setup_teardown(test_hub_delivery, hub_setup, hub_teardown),
            cmocka_unit_test_setup_teardown(test_hub_resume_and_overrun, hub_setup, hub_teardown),
            cmocka_unit_test_setup_teardown(test_hub_caps_and_stop, hub_setup, hub_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
