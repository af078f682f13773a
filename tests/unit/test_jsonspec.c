/* Declarative JSON fields (src/http/jsonspec.c): one spec, a table of bodies and outcomes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "callbridge/http.h"

#define OK CB_ERR_NONE /* cb_json_parse_fields' success value */

static const char untouched[] = "(untouched)";

struct outputs {
        const char *name;
        const char *kind;
        bool flag;
        json_int_t count;
        const char *note;
};

#define UNTOUCHED_COUNT ((json_int_t)-424242)

/* name: required string <= 8 bytes; kind: required enum; flag, count, note: optional. */
static void spec(struct outputs *o, struct cb_json_field fields[6])
{
        const struct cb_json_field f[6] = {
            {.name = "name",
             .type = CB_JSON_STRING,
             .required = true,
             .max_len = 8,
             .out = &o->name},
            {.name = "kind",
             .type = CB_JSON_ENUM,
             .required = true,
             .max_len = 16,
             .choices = "alpha|beta|gamma",
             .out = &o->kind},
            {.name = "flag", .type = CB_JSON_BOOL, .out = &o->flag},
            {.name = "count", .type = CB_JSON_INT, .out = &o->count},
            {.name = "note", .type = CB_JSON_STRING, .max_len = 5, .out = &o->note},
            CB_JSON_END,
        };
        memcpy(fields, f, sizeof(f));
}

/* A body, the verdict, the field blamed, and (on success) what the outputs must hold:
 * NULL strings, flag -1 and count UNTOUCHED_COUNT mean "left as they were". */
struct spec_case {
        const char *json;
        enum cb_err err;
        const char *bad;
        const char *name;
        const char *kind;
        int flag;
        json_int_t count;
        const char *note;
};

#define BASE "\"name\":\"bob\",\"kind\":\"alpha\""
#define GOOD(json, n, k, f, c, t)                                                                  \
        {                                                                                          \
                json, OK, NULL, n, k, f, c, t                                                      \
        }
#define BAD(json, err, field)                                                                      \
        {                                                                                          \
                json, err, field, NULL, NULL, -1, UNTOUCHED_COUNT, NULL                            \
        }
#define U UNTOUCHED_COUNT

static const struct spec_case cases[] = {
    /* outputs set; optional absent fields untouched */
    GOOD("{" BASE "}", "bob", "alpha", -1, U, NULL),
    GOOD("{" BASE ",\"flag\":false,\"count\":-7,\"note\":\"hi\"}", "bob", "alpha", 0, -7, "hi"),
    GOOD("{" BASE ",\"flag\":true,\"count\":9007199254740993}", "bob", "alpha", 1,
         9007199254740993LL, NULL),
    GOOD("{\"kind\":\"gamma\",\"name\":\"\"}", "", "gamma", -1, U, NULL),
    /* null counts as absent */
    GOOD("{" BASE ",\"flag\":null,\"count\":null,\"note\":null}", "bob", "alpha", -1, U, NULL),
    /* unknown fields are ignored, whatever their type */
    GOOD("{" BASE ",\"extra\":1,\"nested\":{\"name\":5},\"list\":[null]}", "bob", "alpha", -1, U,
         NULL),
    /* required missing */
    BAD("{}", CB_ERR_MISSING_FIELD, "name"),
    BAD("{\"kind\":\"alpha\"}", CB_ERR_MISSING_FIELD, "name"),
    BAD("{\"name\":null,\"kind\":\"alpha\"}", CB_ERR_MISSING_FIELD, "name"),
    BAD("{\"name\":\"bob\"}", CB_ERR_MISSING_FIELD, "kind"),
    BAD("{\"name\":\"bob\",\"kind\":null}", CB_ERR_MISSING_FIELD, "kind"),
    BAD("{\"Name\":\"bob\",\"kind\":\"alpha\"}", CB_ERR_MISSING_FIELD, "name"),
    BAD("[]", CB_ERR_MISSING_FIELD, "name"), /* not an object: nothing is there */
    /* fields are checked in spec order: the first problem is the one reported */
    BAD("{\"name\":1}", CB_ERR_INVALID_FIELD, "name"),
    BAD("{\"name\":\"bob\",\"kind\":\"alpha\",\"flag\":1,\"count\":\"x\"}", CB_ERR_INVALID_FIELD,
        "flag"),
    /* wrong types: strings */
    BAD("{\"name\":5,\"kind\":\"alpha\"}", CB_ERR_INVALID_FIELD, "name"),
    BAD("{\"name\":1.5,\"kind\":\"alpha\"}", CB_ERR_INVALID_FIELD, "name"),
    BAD("{\"name\":true,\"kind\":\"alpha\"}", CB_ERR_INVALID_FIELD, "name"),
    BAD("{\"name\":[\"bob\"],\"kind\":\"alpha\"}", CB_ERR_INVALID_FIELD, "name"),
    BAD("{\"name\":{},\"kind\":\"alpha\"}", CB_ERR_INVALID_FIELD, "name"),
    BAD("{" BASE ",\"note\":3}", CB_ERR_INVALID_FIELD, "note"),
    /* wrong types: enums */
    BAD("{\"name\":\"bob\",\"kind\":1}", CB_ERR_INVALID_FIELD, "kind"),
    BAD("{\"name\":\"bob\",\"kind\":true}", CB_ERR_INVALID_FIELD, "kind"),
    BAD("{\"name\":\"bob\",\"kind\":[\"alpha\"]}", CB_ERR_INVALID_FIELD, "kind"),
    /* wrong types: booleans */
    BAD("{" BASE ",\"flag\":\"true\"}", CB_ERR_INVALID_FIELD, "flag"),
    BAD("{" BASE ",\"flag\":1}", CB_ERR_INVALID_FIELD, "flag"),
    BAD("{" BASE ",\"flag\":0}", CB_ERR_INVALID_FIELD, "flag"),
    BAD("{" BASE ",\"flag\":{}}", CB_ERR_INVALID_FIELD, "flag"),
    /* wrong types: integers */
    BAD("{" BASE ",\"count\":\"3\"}", CB_ERR_INVALID_FIELD, "count"),
    BAD("{" BASE ",\"count\":1.0}", CB_ERR_INVALID_FIELD, "count"),
    BAD("{" BASE ",\"count\":1e3}", CB_ERR_INVALID_FIELD, "count"),
    BAD("{" BASE ",\"count\":true}", CB_ERR_INVALID_FIELD, "count"),
    BAD("{" BASE ",\"count\":[1]}", CB_ERR_INVALID_FIELD, "count"),
    /* enums outside their choices */
    BAD("{\"name\":\"bob\",\"kind\":\"delta\"}", CB_ERR_INVALID_FIELD, "kind"),
    BAD("{\"name\":\"bob\",\"kind\":\"Alpha\"}", CB_ERR_INVALID_FIELD, "kind"),
    BAD("{\"name\":\"bob\",\"kind\":\"\"}", CB_ERR_INVALID_FIELD, "kind"),
    BAD("{\"name\":\"bob\",\"kind\":\"alph\"}", CB_ERR_INVALID_FIELD, "kind"),
    BAD("{\"name\":\"bob\",\"kind\":\"alphaa\"}", CB_ERR_INVALID_FIELD, "kind"),
    BAD("{\"name\":\"bob\",\"kind\":\"alpha|beta\"}", CB_ERR_INVALID_FIELD, "kind"),
    BAD("{\"name\":\"bob\",\"kind\":\" beta\"}", CB_ERR_INVALID_FIELD, "kind"),
    GOOD("{\"name\":\"bob\",\"kind\":\"beta\"}", "bob", "beta", -1, U, NULL),
    /* max_len counts bytes: "é" is two */
    GOOD("{\"name\":\"12345678\",\"kind\":\"alpha\"}", "12345678", "alpha", -1, U, NULL),
    BAD("{\"name\":\"123456789\",\"kind\":\"alpha\"}", CB_ERR_INVALID_FIELD, "name"),
    GOOD("{\"name\":\"\\u00e9\\u00e9\\u00e9\\u00e9\",\"kind\":\"alpha\"}",
         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", "alpha", -1, U, NULL),
    BAD("{\"name\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\",\"kind\":\"alpha\"}",
        CB_ERR_INVALID_FIELD, "name"),
    BAD("{\"name\":\"\\u00e9\\u00e9\\u00e9\\u00e9x\",\"kind\":\"alpha\"}", CB_ERR_INVALID_FIELD,
        "name"),
    GOOD("{" BASE ",\"note\":\"\\u00e9\\u00e9x\"}", "bob", "alpha", -1, U, "\xc3\xa9\xc3\xa9x"),
    BAD("{" BASE ",\"note\":\"\\u00e9\\u00e9\\u00e9\"}", CB_ERR_INVALID_FIELD, "note"),
    BAD("{" BASE ",\"note\":\"\\ud83d\\ude00\\ud83d\\ude00\"}", CB_ERR_INVALID_FIELD, "note"),
    /* embedded NUL: rejected, not truncated */
    BAD("{\"name\":\"a\\u0000b\",\"kind\":\"alpha\"}", CB_ERR_INVALID_FIELD, "name"),
    BAD("{\"name\":\"\\u0000\",\"kind\":\"alpha\"}", CB_ERR_INVALID_FIELD, "name"),
    BAD("{\"name\":\"bob\",\"kind\":\"alpha\\u0000x\"}", CB_ERR_INVALID_FIELD, "kind"),
    BAD("{" BASE ",\"note\":\"ok\\u0000\"}", CB_ERR_INVALID_FIELD, "note"),
};

static bool same_str(const char *got, const char *want)
{
        return (want == NULL && got == untouched) ||
               (want != NULL && got != untouched && strcmp(got, want) == 0);
}

static void test_table(void **state)
{
        int failures = 0;

        (void)state;
        for (size_t i = 0; i < CB_ARRAY_LEN(cases); i++) {
                const struct spec_case *c = &cases[i];
                struct outputs o = {untouched, untouched, true, UNTOUCHED_COUNT, untouched};
                struct cb_json_field fields[6];
                const char *bad = "(unset)";
                json_error_t jerr;
                json_t *obj = json_loads(c->json, JSON_ALLOW_NUL, &jerr);
                enum cb_err err;
                bool ok;

                if (obj == NULL)
                        fail_msg("case %zu: bad test JSON %s: %s", i, c->json, jerr.text);
                spec(&o, fields);
                err = cb_json_parse_fields(obj, fields, &bad);
                ok = err == c->err && ((c->bad == NULL && bad == NULL) ||
                                       (c->bad != NULL && bad != NULL && strcmp(bad, c->bad) == 0));
                if (ok && c->err == OK) {
                        ok = same_str(o.name, c->name) && same_str(o.kind, c->kind) &&
                             same_str(o.note, c->note) &&
                             (c->flag < 0 ? o.flag : o.flag == (c->flag == 1)) &&
                             o.count == c->count;
                        /* Strings are borrowed from the object, not copied. */
                        if (ok && c->name != NULL)
                                ok = o.name == json_string_value(json_object_get(obj, "name"));
                }
                if (!ok) {
                        print_error("case %zu: %s: got err %d bad \"%s\" name \"%s\" kind \"%s\" "
                                    "flag %d count %lld note \"%s\"; want err %d bad \"%s\"\n",
                                    i, c->json, (int)err, bad ? bad : "(null)", o.name, o.kind,
                                    (int)o.flag, (long long)o.count, o.note, (int)c->err,
                                    c->bad ? c->bad : "(null)");
                        failures++;
                }
                json_decref(obj);
        }
        assert_int_equal(failures, 0);
}

/* The error codes the spec returns are the registry's, with their statuses. */
static void test_error_codes(void **state)
{
        (void)state;
        assert_string_equal(cb_err_info(CB_ERR_MISSING_FIELD)->code, "missing_field");
        assert_string_equal(cb_err_info(CB_ERR_INVALID_FIELD)->code, "invalid_field");
        assert_int_equal(cb_err_info(CB_ERR_MISSING_FIELD)->status, 422);
        assert_int_equal(cb_err_info(CB_ERR_INVALID_FIELD)->status, 422);
}

/* An empty spec accepts anything and leaves *bad NULL. */
static void test_empty_spec(void **state)
{
        const struct cb_json_field none[] = {CB_JSON_END};
        const char *bad = "(unset)";
        json_t *obj = json_pack("{s:i}", "x", 1);

        (void)state;
        assert_int_equal(cb_json_parse_fields(obj, none, &bad), OK);
        assert_null(bad);
        json_decref(obj);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_table),
            cmocka_unit_test(test_error_codes),
            cmocka_unit_test(test_empty_spec),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
