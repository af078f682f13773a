/* Agents' values, pure: Salesforce ids in their 15- and 18-character forms, display names. */
#include <stdio.h>
#include <string.h>

#include "callbridge/agents.h"
#include "callbridge/calls.h"
#include "callbridge/phone.h"

static const char suffix_map[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

static bool is_upper(char c)
{
        return c >= 'A' && c <= 'Z';
}

static bool is_lower(char c)
{
        return c >= 'a' && c <= 'z';
}

static bool is_alnum(char c)
{
        return is_upper(c) || is_lower(c) || (c >= '0' && c <= '9');
}

/* The value (0-31) of a suffix character, either case; -1 for anything else. */
static int suffix_value(char c)
{
        const char *p;

        if (is_lower(c))
                c = (char)(c - 'a' + 'A');
        p = c != '\0' ? strchr(suffix_map, c) : NULL;
        return p != NULL ? (int)(p - suffix_map) : -1;
}

/* The suffix of a case-sensitive 15-character id: per 5 characters, a bit per capital. */
static void suffix_of(const char id15[15], char out[3])
{
        for (int chunk = 0; chunk < 3; chunk++) {
                int bits = 0;
                for (int i = 0; i < 5; i++)
                        if (is_upper(id15[chunk * 5 + i]))
                                bits |= 1 << i;
                out[chunk] = suffix_map[bits];
        }
}

/* Restore the case of the first 15 characters of an 18-character id from its suffix. */
static bool restore_case(const char *id, char out[CB_SFID_LEN + 1])
{
        for (int chunk = 0; chunk < 3; chunk++) {
                int bits = suffix_value(id[15 + chunk]);
                if (bits < 0)
                        return false;
                for (int i = 0; i < 5; i++) {
                        char c = id[chunk * 5 + i];
                        bool capital = (bits >> i & 1) != 0;
                        if (capital && !is_upper(c) && !is_lower(c))
                                return false; /* a digit cannot be a capital */
                        if (capital && is_lower(c))
                                c = (char)(c - 'a' + 'A');
                        else if (!capital && is_upper(c))
                                c = (char)(c - 'A' + 'a');
                        out[chunk * 5 + i] = c;
                }
        }
        return true;
}

bool cb_agents_sfid_canon(const char *id, char out[CB_SFID_LEN + 1])
{
        size_t len = id != NULL ? strlen(id) : 0;

        out[0] = '\0';
        if (len != 15 && len != CB_SFID_LEN)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!is_alnum(id[i]))
                        return false;
        if (len == 15)
                memcpy(out, id, 15);
        else if (!restore_case(id, out)) {
                out[0] = '\0';
                return false;
        }
        suffix_of(out, out + 15);
        out[CB_SFID_LEN] = '\0';
        return true;
}

bool cb_agents_sfid_equal(const char *a, const char *b)
{
        char ca[CB_SFID_LEN + 1], cbuf[CB_SFID_LEN + 1];

        return cb_agents_sfid_canon(a, ca) && cb_agents_sfid_canon(b, cbuf) &&
               strcmp(ca, cbuf) == 0;
}

bool cb_agents_crm_user_id_canon(const char *id, char out[CB_SFID_LEN + 1])
{
        size_t n = id != NULL ? strlen(id) : 0;

        if (cb_agents_sfid_canon(id, out) && strncmp(out, "005", 3) == 0)
                return true;
        /* A HubSpot owner id: 1-12 digits, as it is (15 or 18 are Salesforce lengths). */
        if (n >= 1 && n <= 12 && strspn(id, "0123456789") == n) {
                memcpy(out, id, n + 1);
                return true;
        }
        out[0] = '\0';
        return false;
}

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

enum cb_agent_check cb_agents_normalise(struct cb_agent_fields *f, const char *region,
                                        struct cb_agent_values *v, const char **bad, char *msg,
                                        size_t msg_size)
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
                if (!cb_agents_crm_user_id_canon(f->crm_user_id, v->crm_user_id)) {
                        *bad = "crm_user_id";
                        snprintf(msg, msg_size,
                                 "crm_user_id: a Salesforce User id (15 or 18 letters and "
                                 "digits starting with 005) or a HubSpot owner id (digits)");
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
