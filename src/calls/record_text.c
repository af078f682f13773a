/* How a call reads in a CRM record (issue 15): the subject line, the readable outcome and the
 * description a rep sees on the call log. Pure: the provider maps the text to its fields. */
#include <stdio.h>
#include <string.h>

#include "callbridge/calls.h"
#include "callbridge/phone.h"

const char *cb_calls_outcome_label(const struct cb_call *call)
{
        bool answered = call->answered_us != 0;

        if (!cb_calls_status_final(call->status))
                return NULL;
        switch (cb_calls_outcome(call->direction, call->status, answered)) {
        case CB_OUTCOME_ANSWERED:
                return "Answered";
        case CB_OUTCOME_MISSED:
                return "Missed";
        case CB_OUTCOME_ABANDONED:
                return "Abandoned";
        default:
                break;
        }
        switch (call->status) { /* outbound, never answered */
        case CB_CALL_BUSY:
                return "Busy";
        case CB_CALL_FAILED:
                return "Failed";
        case CB_CALL_CANCELED:
                return "Canceled";
        default:
                return "No answer";
        }
}

void cb_calls_number_text(const char *e164, char *out, size_t out_size)
{
        if (e164 == NULL || e164[0] == '\0' || strcmp(e164, "unknown") == 0)
                snprintf(out, out_size, "unknown number");
        else if (cb_phone_format_international(e164, out, out_size) != 0)
                snprintf(out, out_size, "%s", e164);
}

void cb_calls_duration_text(long seconds, char *out, size_t out_size)
{
        if (seconds < 0)
                snprintf(out, out_size, "unknown");
        else if (seconds < 60)
                snprintf(out, out_size, "%ld s", seconds);
        else if (seconds % 60 == 0)
                snprintf(out, out_size, "%ld min", seconds / 60);
        else
                snprintf(out, out_size, "%ld min %ld s", seconds / 60, seconds % 60);
}

/* "Grace Hopper (Acme)", "Grace Hopper", "Acme" or the formatted number. */
static void party_text(const struct cb_call *call, char *out, size_t out_size)
{
        const char *number = call->direction == CB_CALL_INBOUND ? call->from : call->to;

        if (call->party_name[0] != '\0' && call->party_company[0] != '\0')
                snprintf(out, out_size, "%s (%s)", call->party_name, call->party_company);
        else if (call->party_name[0] != '\0' || call->party_company[0] != '\0')
                snprintf(out, out_size, "%s",
                         call->party_name[0] ? call->party_name : call->party_company);
        else
                cb_calls_number_text(number, out, out_size);
}

/* Cut `s` (NUL-terminated, within `size`) back to a whole UTF-8 character. */
static void utf8_trim(char *s)
{
        size_t n = strlen(s), k = n;

        while (k > 0 && ((unsigned char)s[k - 1] & 0xC0) == 0x80)
                k--;
        if (k > 0) {
                unsigned char lead = (unsigned char)s[k - 1];
                size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
                if (n - (k - 1) < want)
                        s[k - 1] = '\0';
        }
}

void cb_calls_record_subject(const struct cb_call *call, char *out, size_t out_size)
{
        char party[CB_PARTY_MAX * 2 + 4], tail[64];
        const char *dir = call->direction == CB_CALL_INBOUND ? "inbound" : "outbound";
        const char *outcome = cb_calls_outcome_label(call);

        party_text(call, party, sizeof(party));
        if (outcome != NULL && strcmp(outcome, "Answered") == 0 && call->duration_s >= 0) {
                long min = (call->duration_s + 30) / 60;
                if (call->duration_s < 60)
                        snprintf(tail, sizeof(tail), ", %ld s", call->duration_s);
                else
                        snprintf(tail, sizeof(tail), ", %ld min", min);
        } else if (outcome != NULL) {
                char low[32];
                snprintf(low, sizeof(low), "%s", outcome);
                low[0] = (char)(low[0] - 'A' + 'a');
                snprintf(tail, sizeof(tail), ", %s", low);
        } else {
                tail[0] = '\0';
        }
        /* The tail always fits: the party is cut first. */
        if (out_size > strlen(tail) + 40) {
                size_t room = out_size - strlen(tail) - strlen(dir) - 16;
                if (strlen(party) > room) {
                        party[room] = '\0';
                        utf8_trim(party);
                }
        }
        snprintf(out, out_size, "Call with %s \xE2\x80\x94 %s%s", party, dir, tail);
        utf8_trim(out);
}
