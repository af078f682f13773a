/* JSON body specs (src/http/jsonspec.c) over JSON parsed as the server parses request bodies.
 * The specs are the handlers' own shapes (call initiate, transcribe, record-by-URL, softphone
 * token). Properties: on success every required field is filled, every string output is the
 * object's own string, within its byte cap and free of NUL bytes, every enum one of its
 * choices, every absent optional output untouched; on failure `bad` names a field of the
 * spec, which is missing (MISSING_FIELD, and required) or present (INVALID_FIELD). */
#include <jansson.h>

#include "callbridge/http.h"
#include "fuzz.h"

static const char unset_mark[] = "unset";
#define UNSET unset_mark

struct slot {
        const char *s;
        bool b;
        json_int_t i;
};

static void check_spec(const json_t *obj, const struct cb_json_field *fields, struct slot *slots)
{
        const char *bad = UNSET;
        enum cb_err e = cb_json_parse_fields(obj, fields, &bad);

        if (e == CB_ERR_NONE) {
                FUZZ_CHECK(bad == NULL);
                for (size_t k = 0; fields[k].name != NULL; k++) {
                        const struct cb_json_field *f = &fields[k];
                        json_t *v = json_object_get(obj, f->name);
                        bool absent = v == NULL || json_is_null(v);

                        FUZZ_CHECK(!(absent && f->required));
                        if (f->type == CB_JSON_STRING || f->type == CB_JSON_ENUM) {
                                const char *s = slots[k].s;
                                if (absent) {
                                        FUZZ_CHECK(s == UNSET);
                                        continue;
                                }
                                FUZZ_CHECK(s == json_string_value(v));
                                FUZZ_CHECK(strlen(s) <= f->max_len);
                                FUZZ_CHECK(strlen(s) == json_string_length(v));
                                if (f->type == CB_JSON_ENUM)
                                        FUZZ_CHECK(cb_choice_match(f->choices, s, false));
                        } else if (f->type == CB_JSON_BOOL && !absent) {
                                FUZZ_CHECK(slots[k].b == json_is_true(v));
                        } else if (f->type == CB_JSON_INT && !absent) {
                                FUZZ_CHECK(slots[k].i == json_integer_value(v));
                        }
                }
                return;
        }
        FUZZ_CHECK(e == CB_ERR_MISSING_FIELD || e == CB_ERR_INVALID_FIELD);
        FUZZ_CHECK(bad != NULL && bad != UNSET);
        for (size_t k = 0; fields[k].name != NULL; k++) {
                json_t *v;
                if (fields[k].name != bad)
                        continue;
                v = json_object_get(obj, bad);
                if (e == CB_ERR_MISSING_FIELD)
                        FUZZ_CHECK(fields[k].required && (v == NULL || json_is_null(v)));
                else
                        FUZZ_CHECK(v != NULL && !json_is_null(v));
                return;
        }
        FUZZ_CHECK(!"bad names no field of the spec");
}

static void check_all(const json_t *obj)
{
        struct slot s[8];
        const struct cb_json_field initiate[] = {
            {.name = "to", .type = CB_JSON_STRING, .required = true, .max_len = 64, .out = &s[0].s},
            {.name = "from", .type = CB_JSON_STRING, .max_len = 64, .out = &s[1].s},
            {.name = "crm_record_id", .type = CB_JSON_STRING, .max_len = 64, .out = &s[2].s},
            {.name = "direction",
             .type = CB_JSON_ENUM,
             .max_len = 16,
             .choices = "outbound|inbound",
             .out = &s[3].s},
            {.name = "provider_call_id", .type = CB_JSON_STRING, .max_len = 64, .out = &s[4].s},
            {.name = "idempotency_key", .type = CB_JSON_STRING, .max_len = 255, .out = &s[5].s},
            CB_JSON_END,
        };
        const struct cb_json_field transcribe[] = {
            {.name = "call_id",
             .type = CB_JSON_STRING,
             .required = true,
             .max_len = 64,
             .out = &s[0].s},
            {.name = "recording_id", .type = CB_JSON_STRING, .max_len = 64, .out = &s[1].s},
            {.name = "engine",
             .type = CB_JSON_ENUM,
             .max_len = 16,
             .choices = "openai|google|offline",
             .out = &s[2].s},
            {.name = "language", .type = CB_JSON_STRING, .max_len = 8, .out = &s[3].s},
            CB_JSON_END,
        };
        const struct cb_json_field record[] = {
            {.name = "call_id",
             .type = CB_JSON_STRING,
             .required = true,
             .max_len = 64,
             .out = &s[0].s},
            {.name = "recording_url",
             .type = CB_JSON_STRING,
             .required = true,
             .max_len = 2048,
             .out = &s[1].s},
            CB_JSON_END,
        };
        const struct cb_json_field mixed[] = {
            {.name = "ttl_s", .type = CB_JSON_INT, .out = &s[0].i},
            {.name = "admin", .type = CB_JSON_BOOL, .out = &s[1].b},
            {.name = "name", .type = CB_JSON_STRING, .out = &s[2].s},
            CB_JSON_END,
        };
        const struct cb_json_field *specs[] = {initiate, transcribe, record, mixed};

        for (size_t i = 0; i < 4; i++) {
                for (size_t k = 0; k < 8; k++)
                        s[k] = (struct slot){.s = UNSET, .b = false, .i = -424242};
                check_spec(obj, specs[i], s);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        json_t *obj =
            json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);

        if (json_is_object(obj))
                check_all(obj);
        json_decref(obj);
        return 0;
}
