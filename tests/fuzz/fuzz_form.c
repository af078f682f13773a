/* The form codec (src/util/form.c): Twilio webhook bodies and query strings. Whatever the
 * bytes, parsing never crashes; what it accepts survives encode -> parse unchanged (names,
 * values, order and repeats), and encoding is canonical (encoding the re-parsed form gives the
 * same bytes). A refused body leaves the form empty. */
#include "callbridge/form.h"
#include "fuzz.h"

static void check_round_trip(const struct cb_form *form)
{
        struct cb_buf enc = {.max = 1 << 24}, enc2 = {.max = 1 << 24};
        struct cb_form back = {0};

        FUZZ_CHECK(cb_form_encode(form, &enc) == 0);
        FUZZ_CHECK(cb_form_parse(&back, enc.data ? enc.data : "", enc.len) == 0);
        FUZZ_CHECK(back.n == form->n);
        for (size_t i = 0; i < form->n; i++) {
                FUZZ_CHECK(strcmp(back.p[i].name, form->p[i].name) == 0);
                FUZZ_CHECK(strcmp(back.p[i].value, form->p[i].value) == 0);
        }
        for (size_t i = 0; i < form->n; i++) /* cb_form_get answers the first of a name */
                for (size_t j = 0; j < i; j++)
                        if (strcmp(form->p[j].name, form->p[i].name) == 0) {
                                FUZZ_CHECK(cb_form_get(form, form->p[i].name) != NULL);
                                break;
                        }
        FUZZ_CHECK(cb_form_encode(&back, &enc2) == 0);
        FUZZ_CHECK(enc2.len == enc.len &&
                   (enc.len == 0 || memcmp(enc.data, enc2.data, enc.len) == 0));
        cb_form_free(&back);
        cb_buf_free(&enc);
        cb_buf_free(&enc2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct cb_form form = {0};

        if (cb_form_parse(&form, (const char *)data, size) != 0) {
                FUZZ_CHECK(form.n == 0 && form.p == NULL);
                return 0;
        }
        FUZZ_CHECK(form.n <= CB_FORM_MAX_PARAMS);
        for (size_t i = 0; i < form.n; i++) {
                FUZZ_CHECK(form.p[i].name != NULL && form.p[i].value != NULL);
                FUZZ_CHECK(strlen(form.p[i].name) + strlen(form.p[i].value) <= size);
        }
        check_round_trip(&form);
        cb_form_free(&form);
        return 0;
}
