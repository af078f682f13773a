/* TwiML documents for the voice webhook (src/telephony/twilio_twiml.c). Each appends a whole
 * document to `out` and returns 0, or -1 when the buffer's cap or memory ran out. */
#ifndef CB_TELEPHONY_TWILIO_TWIML_H
#define CB_TELEPHONY_TWILIO_TWIML_H

#include "callbridge/util.h"

#define CB_TWIML_TYPE "text/xml; charset=utf-8"

/* Ring the softphone `identity`, passing our call id as a custom parameter (may be NULL). */
int cb_twiml_dial_client(struct cb_buf *out, const char *identity, const char *call_id,
                         long timeout_s);
/* Dial a phone number, presenting `caller_id` (may be NULL: Twilio uses the caller's). */
int cb_twiml_dial_number(struct cb_buf *out, const char *e164, const char *caller_id,
                         long timeout_s);
/* Tell the caller `text` and hang up. */
int cb_twiml_say_hangup(struct cb_buf *out, const char *text);

#endif
