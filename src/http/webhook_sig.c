/* Signed telephony webhooks: the checks server.c runs for CB_BODY_WEBHOOK routes. Nothing is
 * stored before they pass, so a forged or unsigned request changes nothing. */
#include <stdatomic.h>

#include "callbridge/http.h"
#include "callbridge/log.h"

#define FORM_TYPE "application/x-www-form-urlencoded"

static atomic_ulong outcomes[CB_WH_COUNT];
static const char *const outcome_names[CB_WH_COUNT] = {
    "unsigned", "forged", "advanced", "recorded", "duplicate", "unknown_call", "voice_timeout"};

void cb_webhook_count(enum cb_webhook_outcome outcome)
{
        if ((unsigned)outcome < CB_WH_COUNT)
                atomic_fetch_add(&outcomes[outcome], 1);
}

void cb_webhook_metrics_write(struct cb_buf *out)
{
        cb_buf_puts(out, "# HELP callbridge_webhooks_total Telephony webhooks by outcome.\n"
                         "# TYPE callbridge_webhooks_total counter\n");
        for (int i = 0; i < CB_WH_COUNT; i++)
                cb_buf_printf(out, "callbridge_webhooks_total{outcome=\"%s\"} %lu\n",
                              outcome_names[i], atomic_load(&outcomes[i]));
}

bool cb_webhook_begin(struct cb_request *req, enum MHD_Result *ret)
{
        const struct cb_telephony_ops *ops = req->env->tel->ops;
        const char *ct = cb_request_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);

        if (!(ops->caps & CB_TEL_CAP_WEBHOOKS) || ops->signature_header == NULL) {
                *ret = cb_reply_error(req, CB_ERR_FORBIDDEN,
                                      "telephony webhooks are not taken here ([twilio] enabled "
                                      "is false)");
                return true;
        }
        if (cb_request_header(req, ops->signature_header) == NULL) {
                cb_webhook_count(CB_WH_UNSIGNED);
                *ret = cb_reply_error(req, CB_ERR_MISSING_SIGNATURE, "%s is required",
                                      ops->signature_header);
                return true;
        }
        if (!cb_content_type_is(ct, FORM_TYPE) && !cb_content_type_is(ct, "application/json")) {
                *ret = cb_reply_error(req, CB_ERR_UNSUPPORTED_MEDIA_TYPE,
                                      "Content-Type must be " FORM_TYPE " or application/json");
                return true;
        }
        return false;
}

/* [server] public_url (kept without trailing slashes by the loader), then the target exactly
 * as received. */
static int webhook_url(const struct cb_request *req, struct cb_buf *url)
{
        return cb_buf_puts(url, req->env->cfg->server.public_url) |
               cb_buf_puts(url, req->raw_target);
}

bool cb_webhook_verify(struct cb_request *req, enum MHD_Result *ret)
{
        struct cb_telephony *tel = req->env->tel;
        const char *sig = cb_request_header(req, tel->ops->signature_header);
        bool json = cb_content_type_is(cb_request_header(req, MHD_HTTP_HEADER_CONTENT_TYPE),
                                       "application/json");
        struct cb_buf url = {.max = CB_URI_MAX + 2048};
        bool ok;

        if (!json &&
            cb_form_parse(&req->form, req->body.data ? req->body.data : "", req->body.len) != 0) {
                *ret = cb_reply_error(req, CB_ERR_MALFORMED_FORM, NULL);
                return true;
        }
        if (webhook_url(req, &url) != 0) {
                cb_buf_free(&url);
                *ret = cb_reply_error(req, CB_ERR_URI_TOO_LONG, NULL);
                return true;
        }
        ok = tel->ops->webhook_valid(tel->self, url.data, json ? NULL : &req->form,
                                     req->body.data ? req->body.data : "", req->body.len, sig);
        cb_buf_free(&url);
        if (!ok) {
                cb_warn("refused a webhook to %s: its signature does not match",
                        req->route->pattern);
                cb_webhook_count(CB_WH_FORGED);
                *ret = cb_reply_error(req, CB_ERR_BAD_SIGNATURE, NULL);
                return true;
        }
        if (json) {
                json_error_t jerr;
                req->json = json_loadb(req->body.data ? req->body.data : "", req->body.len,
                                       JSON_REJECT_DUPLICATES, &jerr);
                if (!json_is_object(req->json)) {
                        *ret = cb_reply_error(req, CB_ERR_MALFORMED_JSON, NULL);
                        return true;
                }
        }
        return false;
}

void cb_webhook_params(struct cb_request *req, struct cb_tel_params *p)
{
        *p = (struct cb_tel_params){.form = req->json ? NULL : &req->form,
                                    .json = req->json,
                                    .call_id = cb_request_arg(req, "call_id"),
                                    .agent = cb_request_arg(req, "agent"),
                                    .leg = cb_request_arg(req, "leg")};
}
