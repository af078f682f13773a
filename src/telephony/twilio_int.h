/* What src/telephony/twilio.c shares with twilio_lookup.c (Twilio's read-only REST lookups).
 * Internal to the telephony library. */
#ifndef CB_TELEPHONY_TWILIO_INT_H
#define CB_TELEPHONY_TWILIO_INT_H

#include "callbridge/config.h"
#include "callbridge/telephony.h"
#include "callbridge/upstream.h"

#define TWILIO_MAX_RESPONSE ((size_t)256 * 1024)

struct twilio {
        const struct cb_config *cfg;
        char *auth_token;   /* webhook signatures; REST auth unless an API key is set */
        char *userpwd;      /* "SK...:secret" or "AC...:token" */
        char fragment[256]; /* connection overrides for callback URLs ("" when none) */
};

/* Map an answer to OK/RETRY/FAIL; `what` names the request in the error. */
CB_MUST_CHECK enum cb_result cb_twilio_outcome(int rc, const struct cb_upstream_resp *resp,
                                               const char *what, char *err, size_t err_size);

/* The lookups of twilio_lookup.c, as cb_telephony_ops members. */
CB_MUST_CHECK enum cb_result cb_twilio_find_placed(void *self, const struct cb_call *call,
                                                   json_t **ids, char *err, size_t err_size);
CB_MUST_CHECK enum cb_result cb_twilio_call_status(void *self, const char *sid, json_t **call,
                                                   char *err, size_t err_size);
CB_MUST_CHECK enum cb_result cb_twilio_call_recordings(void *self, const char *sid, json_t **recs,
                                                       char *err, size_t err_size);

#endif
