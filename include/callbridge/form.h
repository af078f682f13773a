/* application/x-www-form-urlencoded bodies and query strings: Twilio webhooks arrive in it
 * and Twilio's REST API takes it. Parameters keep their order and repeats. */
#ifndef CALLBRIDGE_FORM_H
#define CALLBRIDGE_FORM_H

#include <stdbool.h>
#include <stddef.h>

#include "callbridge/util.h"

#define CB_FORM_MAX_PARAMS 256

struct cb_form_param {
        char *name; /* decoded, NUL-terminated; owned by the form */
        char *value;
};

struct cb_form {
        struct cb_form_param *p;
        size_t n;
        size_t alloc;
};

/* Decode `len` bytes ("a=1&b=x+y%21"): '+' is a space, %XX a byte. Empty pairs are skipped;
 * a pair without '=' has an empty value. Returns 0, or -1 on a malformed escape, a NUL byte,
 * more than CB_FORM_MAX_PARAMS pairs or out of memory; the form is then empty. */
int cb_form_parse(struct cb_form *form, const char *data, size_t len);
/* Append a copy of name=value. Returns 0 or -1 (out of memory, or the form is full). */
int cb_form_add(struct cb_form *form, const char *name, const char *value);
/* The first value of `name`, or NULL. Borrowed from the form. */
const char *cb_form_get(const struct cb_form *form, const char *name);
/* Encode as a body ("a=1&b=x+y%21", unreserved characters kept). Returns 0 or -1 (the
 * buffer's cap or memory). */
int cb_form_encode(const struct cb_form *form, struct cb_buf *out);
/* Free every parameter; the struct may be reused. */
void cb_form_free(struct cb_form *form);

#endif
