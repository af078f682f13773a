/* Agents' values, pure: display names, CRM user ids (as the provider canonicalises them),
 * phones. */
#include <stdio.h>
#include <string.h>

#include "callbridge/agents.h"
#include "callbridge/calls.h"
#include "callbridge/phone.h"
#include "callbridge/util.h"

/* The length of the UTF-8 sequence at `s` (1-4), 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s)
{
        size_t n = s[0] < 0x80             ? 1
                   : (s[0] & 0xE0) == 0xC0 ? 2
                   : (s[0] & 0xF0) == 0xE0 ? 3
                   : (s[0] & 0xF8) == 0xF0 ? 4
                                           : 0;

        if (n == 2 && s[0] < 0xC2)
                return 0; /* overlong */
        for (size_t i = 1; i < n; i++)
                if ((s[i] & 0xC0) != 0x80)
                        return 0;
        return n;
}

bool cb_agents_display_name_valid(const char *s)
{
        size_t len = s != NULL ? strlen(s) : 0;

        if (len == 0 || len > CB_AGENT_DISPLAY_MAX)
                return false;
        for (const unsigned char *p = (const unsigned char *)s; *p != '\0';) {
                size_t n = utf8_seq(p);
                if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7F)))
                        return false;
                p += n;
        }
        return true;
}

/* A CRM user id as `canon` has it, or as given when there is no canon (a plain token). */
static bool user_id_canon(cb_agents_user_id_canon_fn canon, const char *id, char *out,
                          size_t out_size)
{
        if (canon != NULL)
                return canon(id, out, out_size);
        return id[0] != '\0' && strlen(id) < out_size &&
               cb_str_charset(id, out_size - 1, "._@:-") && cb_strlcpy(out, id, out_size);
}

enum cb_agent_check cb_agents_normalise(struct cb_agent_fields *f, const char *region,
                                        cb_agents_user_id_canon_fn canon, struct cb_agent_values *v,
                                        const char **bad, char *msg, size_t msg_size)
{
        *bad = NULL;
        if (f->name != NULL && !cb_calls_agent_valid(f->name)) {
                *bad = "name";
                snprintf(msg, msg_size,
                         "name: 1 to %d letters, digits and . _ @ - (the softphone identity)",
                         CB_AGENT_MAX - 1);
                return CB_AGENT_BAD_FIELD;
        }
        if (f->display_name != NULL && !cb_agents_display_name_valid(f->display_name)) {
                *bad = "display_name";
                snprintf(msg, msg_size,
                         "display_name: 1 to %d bytes of text without control characters",
                         CB_AGENT_DISPLAY_MAX);
                return CB_AGENT_BAD_FIELD;
        }
        if (f->crm_user_id != NULL) {
                if (!user_id_canon(canon, f->crm_user_id, v->crm_user_id, sizeof(v->crm_user_id))) {
                        *bad = "crm_user_id";
                        snprintf(msg, msg_size,
                                 "crm_user_id: not a user id of the CRM (the CRM's own id of the "
                                 "agent's user; docs/adding-a-crm.md)");
                        return CB_AGENT_BAD_FIELD;
                }
                f->crm_user_id = v->crm_user_id;
        }
        if (f->phone != NULL) {
                if (strlen(f->phone) > 64 ||
                    cb_phone_to_e164(f->phone, region, v->phone, sizeof(v->phone)) != 0) {
                        *bad = "phone";
                        snprintf(msg, msg_size,
                                 "phone: not a phone number (E.164, e.g. +14155550123)");
                        return CB_AGENT_BAD_PHONE;
                }
                f->phone = v->phone;
        }
        return CB_AGENT_VALID;
}
