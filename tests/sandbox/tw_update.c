/* callbridge-sandbox: changing a live call (twilio-oai UpdateCall, UpdateCallRecording).
 *
 *   POST .../Calls/{CA}.json  Status=completed|canceled: hang up (a call not answered yet is
 *        canceled; canceled leaves an answered call alone; an ended call is answered as it
 *        is); Twiml= or Url= (+Method): redirect — the call leaves its conference and runs
 *        the new TwiML (a <Conference> in it joins that one); an ended call cannot be
 *        redirected (400 21220)
 *   POST .../Calls/{CA}/Recordings/{RE|Twilio.CURRENT}.json  Status=paused|in-progress|stopped,
 *        PauseBehavior=skip|silence: the call's running recording (404 20404 when none)
 *
 * The sandbox keeps what happened on the call's entry: "sandbox"."hangup", "sandbox".
 * "redirects" (the TwiML documents, in order), "sandbox"."recording" {"sid","status",
 * "pause_behavior","pauses"}. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tw_emu.h"

static bool ended(json_t *call)
{
        static const char *const final[] = {"completed", "busy", "no-answer", "failed", "canceled"};
        const char *s = json_string_value(json_object_get(call, "status"));

        for (size_t i = 0; s && i < sizeof(final) / sizeof(final[0]); i++)
                if (strcmp(s, final[i]) == 0)
                        return true;
        return false;
}

static bool in_progress(json_t *call)
{
        const char *s = json_string_value(json_object_get(call, "status"));

        return s != NULL && strcmp(s, "in-progress") == 0;
}

/* Redirect the call to `twiml` (or to what `url` will answer: kept as the URL). */
static void redirect_locked(json_t *call, const char *sid, const char *twiml, const char *url)
{
        json_t *sb = json_object_get(call, "sandbox");
        json_t *list = json_object_get(sb, "redirects");
        struct tw_conf_noun noun;

        if (list == NULL)
                json_object_set_new(sb, "redirects", list = json_array());
        json_array_append_new(list, json_string(twiml ? twiml : url));
        tw_conf_leave_locked(sid, false);
        json_object_set_new(call, "twiml", twiml ? json_string(twiml) : json_null());
        if (twiml && tw_twiml_conference(twiml, &noun)) {
                json_t *conf = tw_conf_open_locked(
                    json_string_value(json_object_get(call, "account_sid")), noun.name);
                if (conf != NULL)
                        tw_conf_join_locked(conf, sid, noun.label[0] ? noun.label : NULL,
                                            noun.end_on_exit, noun.start_on_enter, "connected");
        }
}

/* Check the update's parameters; false after answering 400. */
static bool update_ok(const struct cb_form *f, struct sb_reply *reply)
{
        const char *status = cb_form_get(f, "Status"), *url = cb_form_get(f, "Url");
        const char *method = cb_form_get(f, "Method");

        if (status && strcmp(status, "completed") != 0 && strcmp(status, "canceled") != 0)
                return tw_error(reply, 400, 20001, "Status must be completed or canceled"), false;
        if (url && !tw_url_ok(url))
                return tw_error(reply, 400, 21205, "Url is not a valid URL: %s", url), false;
        if (method && strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
                return tw_error(reply, 400, 21209, "Method is not valid: %s", method), false;
        if (url && cb_form_get(f, "Twiml"))
                return tw_error(reply, 400, 21205, "Only one of Url or Twiml may be given"), false;
        return true;
}

void sb_tw_calls_update(const struct sb_request *req, struct sb_reply *reply)
{
        char account[TW_SID_LEN + 1], sid[TW_SID_LEN + 1], ext[8];
        struct cb_form form = {0};
        const char *status, *twiml, *url;
        json_t *call, *view = NULL;
        bool wake = false, not_live = false;

        if (!tw_auth(req, reply, account))
                return;
        if (!tw_path_sid(req->path, "CA", sid, ext) || strcmp(ext, "json") != 0) {
                sb_tw_unrouted(req, reply);
                return;
        }
        if (cb_form_parse(&form, req->body, req->body_len) != 0 || !update_ok(&form, reply)) {
                if (reply->status == 0)
                        tw_error(reply, 400, 20001, "The request body is not a valid form");
                goto out;
        }
        status = cb_form_get(&form, "Status");
        twiml = cb_form_get(&form, "Twiml");
        url = cb_form_get(&form, "Url");
        sb_state_lock();
        call = tw_call_find_locked(sid);
        if (call != NULL && ended(call)) {
                not_live = status == NULL;
        } else if (call != NULL && status != NULL) {
                /* canceled only ends a call still queued or ringing (twilio-oai UpdateCall) */
                wake = strcmp(status, "completed") == 0 || !in_progress(call);
                if (wake)
                        tw_call_hangup_locked(sid);
        } else if (call != NULL && (twiml || url)) {
                redirect_locked(call, sid, twiml, url);
                wake = true;
        }
        if (call != NULL && !not_live) {
                view = json_deep_copy(call);
                json_object_del(view, "twiml");
                json_object_del(view, "recording_sid");
                json_object_del(view, "sandbox");
        }
        sb_state_unlock();
        if (wake)
                tw_driver_wake(); /* a member hung up by the conference's end, or this call */
        if (call == NULL)
                sb_tw_unrouted(req, reply);
        else if (not_live)
                tw_error(reply, 400, 21220, "Call is not in-progress. Cannot redirect.");
        else
                sb_reply_json_take(reply, 200, view);
out:
        cb_form_free(&form);
}

/* The call-scoped Recording JSON of the running recording `rec` of `call`. */
static json_t *recording_view(json_t *call, json_t *rec, const char *account)
{
        const char *call_sid = json_string_value(json_object_get(call, "sid"));
        const char *sid = json_string_value(json_object_get(rec, "sid"));
        char uri[256];

        snprintf(uri, sizeof(uri), TW_PREFIX "%s/Calls/%s/Recordings/%s.json", account, call_sid,
                 sid);
        json_t *v = json_pack(
            "{s:s,s:s,s:s,s:n,s:I,s:n,s:n,s:s,s:s,s:n,s:s,s:s,s:s,s:s}", "account_sid", account,
            "api_version", TW_API_VERSION, "call_sid", call_sid, "conference_sid", "channels",
            (json_int_t)1, "price", "duration", "price_unit", "USD", "sid", sid, "error_code",
            "source", "OutboundAPI", "status", json_string_value(json_object_get(rec, "status")),
            "uri", uri, "track", "both");

        if (v != NULL) {
                json_object_set(v, "date_created", json_object_get(rec, "date_created"));
                json_object_set(v, "date_updated", json_object_get(rec, "date_updated"));
                json_object_set(v, "start_time", json_object_get(rec, "date_created"));
                json_object_set_new(v, "encryption_details", json_null());
        }
        return v;
}

void sb_tw_call_recording_update(const struct sb_request *req, struct sb_reply *reply)
{
        char account[TW_SID_LEN + 1], call_sid[TW_SID_LEN + 1], rec_sid[64];
        struct cb_form form = {0};
        const char *status, *behavior;
        json_t *call, *rec = NULL, *view = NULL;
        const char *p = strstr(req->path, "/Calls/");

        if (!tw_auth(req, reply, account))
                return;
        if (p == NULL ||
            sscanf(p, "/Calls/%34[0-9a-zA-Z]/Recordings/%63[^/]", call_sid, rec_sid) != 2 ||
            strlen(rec_sid) < 6 || strcmp(rec_sid + strlen(rec_sid) - 5, ".json") != 0) {
                sb_tw_unrouted(req, reply);
                return;
        }
        rec_sid[strlen(rec_sid) - 5] = '\0';
        if (cb_form_parse(&form, req->body, req->body_len) != 0) {
                tw_error(reply, 400, 20001, "The request body is not a valid form");
                return;
        }
        status = cb_form_get(&form, "Status");
        behavior = cb_form_get(&form, "PauseBehavior");
        if (!status || (strcmp(status, "paused") != 0 && strcmp(status, "in-progress") != 0 &&
                        strcmp(status, "stopped") != 0)) {
                tw_error(reply, 400, 20001, "Status must be paused, in-progress or stopped");
                goto out;
        }
        if (behavior && strcmp(behavior, "skip") != 0 && strcmp(behavior, "silence") != 0) {
                tw_error(reply, 400, 20001, "PauseBehavior must be skip or silence");
                goto out;
        }
        sb_state_lock();
        call = tw_call_find_locked(call_sid);
        rec = call && !ended(call) ? json_object_get(json_object_get(call, "sandbox"), "recording")
                                   : NULL;
        if (rec && strcmp(rec_sid, "Twilio.CURRENT") != 0 &&
            strcmp(rec_sid, json_string_value(json_object_get(rec, "sid"))) != 0)
                rec = NULL;
        if (rec && strcmp(json_string_value(json_object_get(rec, "status")), "stopped") == 0)
                rec = NULL;
        if (rec) {
                char now[TW_DATE_LEN];
                tw_date(time(NULL), now);
                if (strcmp(status, "paused") == 0) {
                        json_object_set_new(rec, "pause_behavior",
                                            json_string(behavior ? behavior : "silence"));
                        json_object_set_new(
                            rec, "pauses",
                            json_integer(json_integer_value(json_object_get(rec, "pauses")) + 1));
                }
                json_object_set_new(rec, "status", json_string(status));
                json_object_set_new(rec, "date_updated", json_string(now));
                view = recording_view(call, rec, account);
        }
        sb_state_unlock();
        if (view)
                sb_reply_json_take(reply, 200, view);
        else
                sb_tw_unrouted(req, reply);
out:
        cb_form_free(&form);
}
