/* The in-process cache (cb_lcache, src/cache/local.c): what is put is got until deleted or
 * replaced, a full bucket makes room without growing past its capacity, values outlive their
 * entries while referenced, and a TTL of 0 keeps nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/cache.h"

static struct cb_lcache_val *val(const char *text, int tag)
{
        struct cb_lcache_val *v = cb_lcache_val_new(text, strlen(text), tag);
        assert_non_null(v);
        return v;
}

static void assert_holds(struct cb_lcache *c, const char *key, const char *text, int tag)
{
        struct cb_lcache_val *v = cb_lcache_get(c, key);
        size_t len;

        assert_non_null(v);
        assert_string_equal(cb_lcache_val_text(v, &len), text);
        assert_int_equal(len, strlen(text));
        assert_int_equal(cb_lcache_val_tag(v), tag);
        cb_lcache_val_release(&v);
        assert_null(v);
}

static void test_put_get_replace_delete(void **state)
{
        struct cb_lcache *c = cb_lcache_create(16);
        struct cb_lcache_val *v = val("[1]", 1);

        (void)state;
        assert_null(cb_lcache_get(c, "+14155550123"));
        cb_lcache_put(c, "+14155550123", v, 60000);
        cb_lcache_val_release(&v);
        assert_holds(c, "+14155550123", "[1]", 1);
        v = val("[]", 0);
        cb_lcache_put(c, "+14155550123", v, 60000); /* replaces */
        cb_lcache_val_release(&v);
        assert_holds(c, "+14155550123", "[]", 0);
        cb_lcache_del(c, "+14155550123");
        assert_null(cb_lcache_get(c, "+14155550123"));
        cb_lcache_destroy(&c);
        assert_null(c);
}

static void test_zero_ttl_and_long_keys_are_not_kept(void **state)
{
        struct cb_lcache *c = cb_lcache_create(16);
        struct cb_lcache_val *v = val("x", 0);
        char long_key[CB_LCACHE_KEY_MAX + 1];

        (void)state;
        memset(long_key, 'k', sizeof(long_key) - 1);
        long_key[sizeof(long_key) - 1] = '\0';
        cb_lcache_put(c, "a", v, 0);
        cb_lcache_put(c, long_key, v, 60000);
        assert_null(cb_lcache_get(c, "a"));
        assert_null(cb_lcache_get(c, long_key));
        cb_lcache_val_release(&v);
        cb_lcache_destroy(&c);
}

/* Many more keys than it holds: never more than its capacity live, the newest always. */
static void test_bounded(void **state)
{
        struct cb_lcache *c = cb_lcache_create(64);
        size_t cap = cb_lcache_capacity(c), live = 0;
        char key[32];

        (void)state;
        assert_true(cap >= 64 && cap < 256);
        for (int i = 0; i < 5000; i++) {
                struct cb_lcache_val *v = val("v", i);
                snprintf(key, sizeof(key), "+1415555%04d", i);
                cb_lcache_put(c, key, v, 60000 + i);
                cb_lcache_val_release(&v);
                assert_holds(c, key, "v", i);
        }
        for (int i = 0; i < 5000; i++) {
                struct cb_lcache_val *v;
                snprintf(key, sizeof(key), "+1415555%04d", i);
                v = cb_lcache_get(c, key);
                live += v != NULL;
                cb_lcache_val_release(&v);
        }
        assert_true(live > 0 && live <= cap);
        cb_lcache_destroy(&c);
}

/* A reader's reference survives the entry's replacement and the cache's end. */
static void test_value_outlives_entry(void **state)
{
        struct cb_lcache *c = cb_lcache_create(4);
        struct cb_lcache_val *v = val("[\"old\"]", 1), *got;
        size_t len;

        (void)state;
        cb_lcache_put(c, "k", v, 60000);
        cb_lcache_val_release(&v);
        got = cb_lcache_get(c, "k");
        v = val("[]", 0);
        cb_lcache_put(c, "k", v, 60000);
        cb_lcache_val_release(&v);
        cb_lcache_destroy(&c);
        assert_string_equal(cb_lcache_val_text(got, &len), "[\"old\"]");
        cb_lcache_val_release(&got);
}

static void test_null_cache_holds_nothing(void **state)
{
        struct cb_lcache_val *v = val("x", 0);

        (void)state;
        assert_null(cb_lcache_create(0));
        cb_lcache_put(NULL, "k", v, 1000);
        assert_null(cb_lcache_get(NULL, "k"));
        cb_lcache_del(NULL, "k");
        cb_lcache_val_release(&v);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_put_get_replace_delete),
            cmocka_unit_test(test_zero_ttl_and_long_keys_are_not_kept),
            cmocka_unit_test(test_bounded),
            cmocka_unit_test(test_value_outlives_entry),
            cmocka_unit_test(test_null_cache_holds_nothing),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
