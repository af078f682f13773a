/* What a finished call was, as a sales manager counts it (answered, unanswered, missed,
 * abandoned): one decision, used by /metrics as calls end and by GET /api/stats over a
 * period (src/store/stats.c hands these rules to its SQL as parameters). */
#include "callbridge/calls.h"

static const char *const names[CB_OUTCOME_COUNT] = {
    [CB_OUTCOME_ANSWERED] = "answered",
    [CB_OUTCOME_UNANSWERED] = "unanswered",
    [CB_OUTCOME_MISSED] = "missed",
    [CB_OUTCOME_ABANDONED] = "abandoned",
};

enum cb_call_outcome cb_calls_outcome(enum cb_call_direction dir, enum cb_call_status final,
                                      bool answered)
{
        if (!cb_calls_status_final(final))
                return CB_OUTCOME_COUNT;
        if (answered)
                return CB_OUTCOME_ANSWERED;
        if (dir == CB_CALL_OUTBOUND)
                return CB_OUTCOME_UNANSWERED;
        /* Inbound, never answered: the provider gave up ringing the agent (missed), or the
         * caller went away first (abandoned: Twilio reports the caller's hang-up during the
         * ring as canceled, or as completed when the TwiML had already answered). */
        switch (final) {
        case CB_CALL_BUSY:
        case CB_CALL_NO_ANSWER:
        case CB_CALL_FAILED:
                return CB_OUTCOME_MISSED;
        default:
                return CB_OUTCOME_ABANDONED;
        }
}

const char *cb_calls_outcome_name(enum cb_call_outcome o)
{
        return (unsigned)o < CB_OUTCOME_COUNT ? names[o] : NULL;
}
