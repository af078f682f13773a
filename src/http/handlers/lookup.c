/* GET /api/lookup?phone=: screen pop. The number is normalised to E.164 and answered from
 * Redis when cached, else from the CRM (the one request that may wait on an upstream). */
#include <string.h>

#include "callbridge/crm.h"
#include "callbridge/log.h"
#include "callbridge/phone.h"
#include "handlers/handlers.h"

#define PHONE_MAX 64

enum MHD_Result cb_handle_lookup(struct cb_request *req)
{
        const struct cb_config *cfg = req->env->cfg;
        const char *phone = cb_request_arg(req, "phone");
        struct cb_lookup_result res = {0};
        char e164[32], err[512];
        enum cb_result r;
        enum MHD_Result ret;

        if (phone == NULL || phone[0] == '\0')
                return cb_reply_error(req, CB_ERR_INVALID_QUERY, "phone is required");
        if (strlen(phone) > PHONE_MAX)
                return cb_reply_error(req, CB_ERR_INVALID_QUERY, "phone is longer than %d bytes",
                                      PHONE_MAX);
        if (cb_phone_to_e164(phone, cfg->server.default_region, e164, sizeof(e164)) != 0)
                return cb_reply_error(req, CB_ERR_INVALID_PHONE, "phone is not a phone number");
        r = cb_lookup(req->env->crm, cfg, e164, false, &res, err, sizeof(err));
        if (r != CB_RESULT_OK) {
                cb_warn("lookup failed: %s", err);
                return cb_reply_error(req, CB_ERR_UPSTREAM_UNAVAILABLE,
                                      "the CRM cannot be asked right now; retry");
        }
        ret = cb_reply_json(req, 200,
                            json_pack("{s:s,s:O,s:b}", "phone_e164", e164, "matches", res.matches,
                                      "cached", res.cached));
        cb_lookup_result_clear(&res);
        return ret;
}
