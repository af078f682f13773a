/* Agent bodies for the admin API: types first (JSON), then values (cb_agents_normalise). */
#include <stdio.h>
#include <string.h>

#include "callbridge/calls.h"
#include "agent_body.h"

/* A text field: string or (when `nullable`) null; anything else refused. */
static enum cb_err text_field(const json_t *v, const char *name, bool nullable, const char **out,
                              char *msg, size_t msg_size)
{
        if (json_is_null(v) && nullable) {
                *out = NULL;
                return CB_ERR_NONE;
        }
        if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
                snprintf(msg, msg_size, "%s must be a string%s", name, nullable ? " or null" : "");
                return CB_ERR_INVALID_FIELD;
        }
        *out = json_string_value(v);
        return CB_ERR_NONE;
}

/* One field of the body into `f`. */
static enum cb_err field(const char *key, const json_t *v, bool create, struct cb_agent_fields *f,
                         char *msg, size_t msg_size)
{
        if (strcmp(key, "name") == 0) {
                if (!create) {
                        snprintf(msg, msg_size, "name cannot change (it is the agent's identity)");
                        return CB_ERR_INVALID_FIELD;
                }
                return text_field(v, key, false, &f->name, msg, msg_size);
        }
        if (strcmp(key, "display_name") == 0) {
                f->set_display_name = true;
                return text_field(v, key, true, &f->display_name, msg, msg_size);
        }
        if (strcmp(key, "crm_user_id") == 0) {
                f->set_crm_user_id = true;
                return text_field(v, key, true, &f->crm_user_id, msg, msg_size);
        }
        if (strcmp(key, "phone") == 0) {
                f->set_phone = true;
                return text_field(v, key, true, &f->phone, msg, msg_size);
        }
        if (strcmp(key, "admin") == 0) {
                f->set_admin = true;
                f->admin = json_is_true(v);
                if (json_is_boolean(v))
                        return CB_ERR_NONE;
                snprintf(msg, msg_size, "admin must be true or false");
                return CB_ERR_INVALID_FIELD;
        }
        snprintf(msg, msg_size, "unknown field \"%.64s\"", key);
        return CB_ERR_INVALID_FIELD;
}

enum cb_err cb_agent_body_parse(const json_t *body, bool create, const char *region,
                                cb_agents_user_id_canon_fn canon, struct cb_agent_fields *f,
                                struct cb_agent_values *v, char *msg, size_t msg_size)
{
        const char *key, *bad = NULL;
        const json_t *val;
        enum cb_err e;

        *f = (struct cb_agent_fields){0};
        json_object_foreach((json_t *)body, key, val)
        {
                e = field(key, val, create, f, msg, msg_size);
                if (e != CB_ERR_NONE)
                        return e;
        }
        if (create && f->name == NULL) {
                snprintf(msg, msg_size, "name is required");
                return CB_ERR_MISSING_FIELD;
        }
        switch (cb_agents_normalise(f, region, canon, v, &bad, msg, msg_size)) {
        case CB_AGENT_VALID:
                return CB_ERR_NONE;
        case CB_AGENT_BAD_PHONE:
                return CB_ERR_INVALID_PHONE;
        default:
                return CB_ERR_INVALID_FIELD;
        }
}

bool cb_agent_name_arg(const char *s)
{
        return cb_calls_agent_valid(s);
}
