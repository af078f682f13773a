/* Declarative JSON body fields: handlers list what they expect, this checks it. */
#include <string.h>

#include "callbridge/http.h"

enum cb_err cb_json_parse_fields(const json_t *obj, const struct cb_json_field *fields,
                                 const char **bad)
{
        for (const struct cb_json_field *f = fields; f->name != NULL; f++) {
                json_t *v = json_object_get(obj, f->name);

                *bad = f->name;
                if (v == NULL || json_is_null(v)) {
                        if (f->required)
                                return CB_ERR_MISSING_FIELD;
                        continue;
                }
                switch (f->type) {
                case CB_JSON_STRING:
                case CB_JSON_ENUM: {
                        const char *s;
                        if (!json_is_string(v))
                                return CB_ERR_INVALID_FIELD;
                        s = json_string_value(v);
                        if (json_string_length(v) > f->max_len ||
                            strlen(s) != json_string_length(v))
                                return CB_ERR_INVALID_FIELD;
                        if (f->type == CB_JSON_ENUM && !cb_choice_match(f->choices, s, false))
                                return CB_ERR_INVALID_FIELD;
                        *(const char **)f->out = s;
                        break;
                }
                case CB_JSON_BOOL:
                        if (!json_is_boolean(v))
                                return CB_ERR_INVALID_FIELD;
                        *(bool *)f->out = json_is_true(v);
                        break;
                case CB_JSON_INT:
                        if (!json_is_integer(v))
                                return CB_ERR_INVALID_FIELD;
                        *(json_int_t *)f->out = json_integer_value(v);
                        break;
                }
        }
        *bad = NULL;
        return CB_ERR_NONE;
}
