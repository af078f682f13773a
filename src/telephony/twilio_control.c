/* Twilio call control through the REST API (CB_TEL_CAP_CONTROL), each action in the request:
 *
 *   hang up        POST Calls/{CallSid}.json  Status=completed (whatever the leg's state:
 *                  canceled would leave a leg Twilio already answered untouched — every
 *                  inbound call's, whose TwiML answered it while the agent still rings)
 *   blind transfer POST Calls/{CallSid}.json  Twiml=<Dial><Client>|<Number>  (the customer's
 *                  leg leaves the bridge or conference for the target; the agent's leg ends)
 *   recording      POST Calls/{CallSid}/Recordings/Twilio.CURRENT.json
 *                  Status=paused&PauseBehavior=skip | Status=in-progress
 *   hold           POST Conferences/{CF}/Participants/customer.json  Hold=true|false
 *   warm transfer  hold the customer, then POST Conferences/{CF}/Participants.json
 *                  (Label=transfer, To=client:<agent>|<E.164>); complete: the target gets
 *                  EndConferenceOnExit, the agent loses it and is removed, the customer is taken
 *                  off hold; cancel: the target is removed, the customer taken off hold
 *
 * The conference is the one the bridge put both legs in ("cb-<customer's CallSid>",
 * twilio_webhook.c); its CF sid is looked up by that name (Conferences.json?FriendlyName=
 * &Status=in-progress). Participants are addressed by their labels: customer, agent,
 * transfer. A 404 from Twilio (no such conference, participant or running recording) or
 * 21220 (the call is not in progress) is the call's state; anything else is upstream
 * trouble. */
#include <stdio.h>
#include <string.h>

#include "callbridge/log.h"
#include "callbridge/telephony.h"
#include "twilio_int.h"

#define CTL_TIMEOUT_MS 5000L /* a rep pressing Hold waits for this at most per request */

/* One REST request under the account: `path` after /Accounts/<AC>/, `form` the body (NULL for
 * GET/DELETE). The answer's JSON into *out when asked (caller decrefs). */
static enum cb_tel_ctl rest(struct twilio *tw, const char *method, const char *path,
                            const struct cb_form *form, json_t **out, char *err, size_t err_size)
{
        struct cb_upstream_req req = {.service = "twilio", .method = method};
        struct cb_upstream_resp resp = {0};
        struct cb_buf body = {.max = (size_t)64 * 1024};
        char url[1024];
        char ct[] = "Content-Type: application/x-www-form-urlencoded";
        enum cb_tel_ctl r = CB_TEL_CTL_UPSTREAM;
        long timeout = tw->cfg->twilio.timeout_ms;
        json_t *j;

        if (form != NULL &&
            (cb_form_encode(form, &body) != 0 || cb_buf_append(&body, "", 0) != 0)) {
                snprintf(err, err_size, "out of memory building the Twilio request");
                goto out;
        }
        snprintf(url, sizeof(url), "%s/2010-04-01/Accounts/%s/%s", tw->cfg->twilio.api_base_url,
                 tw->cfg->twilio.account_sid, path);
        req.url = url;
        if (form != NULL) {
                req.headers[0] = ct;
                req.body = body.data;
                req.body_len = body.len;
        }
        req.userpwd = tw->userpwd;
        req.timeout_ms = timeout < CTL_TIMEOUT_MS ? timeout : CTL_TIMEOUT_MS;
        req.max_response = TWILIO_MAX_RESPONSE;
        switch (cb_twilio_outcome(cb_upstream_perform(&req, &resp), &resp, path, err, err_size)) {
        case CB_RESULT_OK:
                r = CB_TEL_CTL_OK;
                break;
        default:
                j = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, NULL);
                /* 404: no such call, conference, participant or running recording; 21220:
                 * the call is not in progress any more. */
                if (resp.status == 404 || json_integer_value(json_object_get(j, "code")) == 21220)
                        r = CB_TEL_CTL_STATE;
                json_decref(j);
                break;
        }
        if (r == CB_TEL_CTL_OK && out != NULL) {
                *out = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, NULL);
                if (*out == NULL) {
                        snprintf(err, err_size, "twilio %s answered %ld without JSON", path,
                                 resp.status);
                        r = CB_TEL_CTL_UPSTREAM;
                }
        }
out:
        cb_upstream_resp_free(&resp);
        cb_buf_free(&body);
        return r;
}

/* A form of one or two parameters (name2 may be NULL); -1 when out of memory. */
static int form2(struct cb_form *f, const char *n1, const char *v1, const char *n2, const char *v2)
{
        int rc = cb_form_add(f, n1, v1);

        if (n2 != NULL)
                rc |= cb_form_add(f, n2, v2);
        return rc;
}

/* POST `form` to `path`; frees the form. */
static enum cb_tel_ctl post(struct twilio *tw, const char *path, struct cb_form *f, int built,
                            char *err, size_t err_size)
{
        enum cb_tel_ctl r = CB_TEL_CTL_UPSTREAM;

        if (built != 0)
                snprintf(err, err_size, "out of memory building the Twilio request");
        else
                r = rest(tw, "POST", path, f, NULL, err, err_size);
        cb_form_free(f);
        return r;
}

/* The CF sid of the in-progress conference the call's legs are bridged through. */
static enum cb_tel_ctl conference_sid(struct twilio *tw, const char *call_sid, char *sid,
                                      size_t size, char *err, size_t err_size)
{
        char name[CB_CALL_SID_MAX + 4], path[256];
        json_t *list = NULL;
        const char *got;
        enum cb_tel_ctl r;

        if (!cb_calls_conference_name(call_sid, name, sizeof(name)) ||
            !cb_str_charset(call_sid, 64, "")) {
                snprintf(err, err_size, "the call has no Twilio call sid");
                return CB_TEL_CTL_STATE;
        }
        snprintf(path, sizeof(path), "Conferences.json?FriendlyName=%s&Status=in-progress", name);
        r = rest(tw, "GET", path, NULL, &list, err, err_size);
        if (r != CB_TEL_CTL_OK)
                return r;
        got = json_string_value(
            json_object_get(json_array_get(json_object_get(list, "conferences"), 0), "sid"));
        if (got == NULL || !cb_twilio_sid_ok(got, "CF") || !cb_strlcpy(sid, got, size)) {
                snprintf(err, err_size, "the call is not in a conference at Twilio");
                r = CB_TEL_CTL_STATE;
        }
        json_decref(list);
        return r;
}

/* Update participant `label` of conference `cf`: one or two parameters. */
static enum cb_tel_ctl participant_set(struct twilio *tw, const char *cf, const char *label,
                                       const char *n1, const char *v1, const char *n2,
                                       const char *v2, char *err, size_t err_size)
{
        struct cb_form f = {0};
        char path[256];

        snprintf(path, sizeof(path), "Conferences/%s/Participants/%s.json", cf, label);
        return post(tw, path, &f, form2(&f, n1, v1, n2, v2), err, err_size);
}

static enum cb_tel_ctl participant_remove(struct twilio *tw, const char *cf, const char *label,
                                          char *err, size_t err_size)
{
        char path[256];
        enum cb_tel_ctl r;

        snprintf(path, sizeof(path), "Conferences/%s/Participants/%s.json", cf, label);
        r = rest(tw, "DELETE", path, NULL, NULL, err, err_size);
        return r == CB_TEL_CTL_STATE ? CB_TEL_CTL_OK : r; /* gone already */
}

/* Ask for the participant's "answered" callback on POST /webhooks/twilio/participant, naming
 * our call: the agent picking up answers an inbound call bridged by conference. */
static int answered_callback(const struct twilio *tw, struct cb_form *f, const char *call_id)
{
        char url[1024];
        int rc;

        snprintf(url, sizeof(url), "%s/webhooks/twilio/participant?call_id=%s%s%s",
                 tw->cfg->server.public_url, call_id, tw->fragment[0] ? "#" : "", tw->fragment);
        rc = form2(f, "StatusCallback", url, "StatusCallbackMethod", "POST");
        return rc | cb_form_add(f, "StatusCallbackEvent", "answered");
}

/* Add a participant to conference `conf` (a CF sid, or a name: Twilio then creates it); with
 * `call_id` (else NULL) its answer is reported for that call. */
static enum cb_tel_ctl participant_add(struct twilio *tw, const char *conf, const char *label,
                                       const char *to, bool to_agent, const char *from,
                                       bool end_on_exit, const char *call_id, char *err,
                                       size_t err_size)
{
        struct cb_form f = {0};
        char path[256], target[CB_AGENT_MAX + 8];
        int rc;

        snprintf(target, sizeof(target), "%s%s", to_agent ? "client:" : "", to);
        snprintf(path, sizeof(path), "Conferences/%s/Participants.json", conf);
        rc = form2(&f, "From", from, "To", target);
        rc |= form2(&f, "Label", label, "EndConferenceOnExit", end_on_exit ? "true" : "false");
        rc |= form2(&f, "StartConferenceOnEnter", "true", "Beep", "false");
        rc |= cb_form_add(&f, "Timeout", "30");
        if (call_id != NULL)
                rc |= answered_callback(tw, &f, call_id);
        return post(tw, path, &f, rc, err, err_size);
}

/* Redirect the customer's leg to ring the target. */
static enum cb_tel_ctl blind_transfer(struct twilio *tw, const struct cb_tel_control *c,
                                      const char *path, char *err, size_t err_size)
{
        struct cb_buf twiml = {.max = 4096};
        struct cb_form f = {0};
        long ring = tw->cfg->twilio.ring_timeout_s;
        int rc = c->to_agent ? cb_twiml_dial_client(&twiml, c->to, NULL, ring)
                             : cb_twiml_dial_number(&twiml, c->to, c->caller_id, ring);
        enum cb_tel_ctl r;

        rc |= cb_buf_append(&twiml, "", 0);
        r = post(tw, path, &f, rc != 0 ? -1 : form2(&f, "Twiml", twiml.data, NULL, NULL), err,
                 err_size);
        cb_buf_free(&twiml);
        return r;
}

/* The warm transfer's steps, in the conference `cf`. */
static enum cb_tel_ctl warm_step(struct twilio *tw, const struct cb_tel_control *c, const char *cf,
                                 char *err, size_t err_size)
{
        enum cb_tel_ctl r;

        switch (c->action) {
        case CB_ACT_TRANSFER_WARM:
                r = participant_set(tw, cf, "customer", "Hold", "true", NULL, NULL, err, err_size);
                if (r != CB_TEL_CTL_OK)
                        return r;
                r = participant_add(tw, cf, "transfer", c->to, c->to_agent,
                                    c->caller_id ? c->caller_id : "anonymous", false, NULL, err,
                                    err_size);
                if (r != CB_TEL_CTL_OK) { /* the customer back off hold, as far as we can */
                        char ignored[256];
                        (void)participant_set(tw, cf, "customer", "Hold", "false", NULL, NULL,
                                              ignored, sizeof(ignored));
                }
                return r;
        case CB_ACT_TRANSFER_COMPLETE:
                r = participant_set(tw, cf, "transfer", "EndConferenceOnExit", "true", NULL, NULL,
                                    err, err_size);
                if (r == CB_TEL_CTL_OK)
                        r = participant_set(tw, cf, "agent", "EndConferenceOnExit", "false", NULL,
                                            NULL, err, err_size);
                if (r == CB_TEL_CTL_OK)
                        r = participant_set(tw, cf, "customer", "Hold", "false", NULL, NULL, err,
                                            err_size);
                return r == CB_TEL_CTL_OK ? participant_remove(tw, cf, "agent", err, err_size) : r;
        default: /* cancel */
                r = participant_remove(tw, cf, "transfer", err, err_size);
                return r == CB_TEL_CTL_OK ? participant_set(tw, cf, "customer", "Hold", "false",
                                                            NULL, NULL, err, err_size)
                                          : r;
        }
}

enum cb_tel_ctl cb_twilio_control(void *self, const struct cb_tel_control *c, char *err,
                                  size_t err_size)
{
        struct twilio *tw = self;
        struct cb_form f = {0};
        char path[256], cf[CB_TWILIO_SID_MAX];
        enum cb_tel_ctl r;

        if (c->call_sid == NULL || !cb_twilio_sid_ok(c->call_sid, "CA")) {
                snprintf(err, err_size, "the call has no Twilio call sid");
                return CB_TEL_CTL_STATE;
        }
        snprintf(path, sizeof(path), "Calls/%s.json", c->call_sid);
        switch (c->action) {
        case CB_ACT_HANGUP:
                return post(tw, path, &f, form2(&f, "Status", "completed", NULL, NULL), err,
                            err_size);
        case CB_ACT_TRANSFER_BLIND:
                return blind_transfer(tw, c, path, err, err_size);
        case CB_ACT_RECORDING_PAUSE:
        case CB_ACT_RECORDING_RESUME:
                snprintf(path, sizeof(path), "Calls/%s/Recordings/Twilio.CURRENT.json",
                         c->call_sid);
                return post(tw, path, &f,
                            c->action == CB_ACT_RECORDING_PAUSE
                                ? form2(&f, "Status", "paused", "PauseBehavior", "skip")
                                : form2(&f, "Status", "in-progress", NULL, NULL),
                            err, err_size);
        default:
                break;
        }
        r = conference_sid(tw, c->call_sid, cf, sizeof(cf), err, err_size);
        if (r != CB_TEL_CTL_OK)
                return r;
        if (c->action == CB_ACT_HOLD || c->action == CB_ACT_UNHOLD)
                return participant_set(tw, cf, "customer", "Hold",
                                       c->action == CB_ACT_HOLD ? "true" : "false", NULL, NULL, err,
                                       err_size);
        return warm_step(tw, c, cf, err, err_size);
}

enum cb_result cb_twilio_conference_join(void *self, const char *conference, const char *agent,
                                         const char *from, const char *call_id, char *err,
                                         size_t err_size)
{
        enum cb_tel_ctl r =
            participant_add(self, conference, "agent", agent, true, from ? from : "anonymous", true,
                            call_id, err, err_size);

        return r == CB_TEL_CTL_OK ? CB_RESULT_OK : CB_RESULT_RETRY;
}
