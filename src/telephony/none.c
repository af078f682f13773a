/* No telephony provider: the softphone dials itself and reports the call. Copy this file
 * to add a provider; place_call and find_placed get the call as a `const struct cb_call *`
 * (include/callbridge/calls.h). */
#include "callbridge/telephony.h"

static int none_self; /* a non-NULL token: this provider has no state */

static void *none_create(const struct cb_config *cfg)
{
        (void)cfg;
        return &none_self;
}

static void none_destroy(void *self)
{
        (void)self;
}

static enum cb_result none_place_call(void *self, const struct cb_call *call,
                                      char *provider_call_id, size_t id_size, char *err,
                                      size_t err_size)
{
        (void)self;
        (void)call;
        (void)err;
        (void)err_size;
        if (id_size > 0)
                provider_call_id[0] = '\0';
        return CB_RESULT_OK;
}

const struct cb_telephony_ops cb_telephony_none = {
    .name = "none",
    /* No CB_TEL_CAP_WEBHOOKS: no webhooks (the signature check refuses them all), so no
     * parsers and no voice answers. A provider with webhooks sets the flag and all of
     * signature_header, webhook_valid, parse_status, parse_voice, parse_recording and
     * render_route. No CB_TEL_CAP_SOFTPHONE either: a provider whose softphone SDK needs
     * access tokens from us sets it and all of softphone_create, softphone_destroy,
     * softphone_token and softphone_off (POST /api/softphone/token asks the first such
     * provider, whichever places calls). */
    .caps = 0,
    .create = none_create,
    .destroy = none_destroy,
    .place_call = none_place_call,
    .signature_header = NULL,
    .webhook_valid = NULL,
    .parse_status = NULL,
    .parse_voice = NULL,
    .parse_recording = NULL,
    .render_route = NULL,
    .softphone_create = NULL,
    .softphone_destroy = NULL,
    .softphone_token = NULL,
    .softphone_off = NULL,
};
