/* callbridge-sandbox: Twilio's Conferences and Participants resources (twilio-oai
 * twilio_api_v2010.yaml: api.v2010.account.conference, .conference.participant).
 *
 *   GET    .../Conferences.json?FriendlyName=&Status=       list
 *   GET    .../Conferences/{CF}.json                         fetch
 *   GET    .../Conferences/{CF}/Participants.json            list (Hold=, Muted= filters)
 *   POST   .../Conferences/{CF|name}/Participants.json       create: places a call (From, To,
 *          Label, EndConferenceOnExit, StartConferenceOnEnter, StatusCallback...) that joins
 *          when the driver answers it → 201 participant, status "queued"
 *   GET    .../Conferences/{CF}/Participants/{CA|label}.json fetch
 *   POST   .../Conferences/{CF}/Participants/{CA|label}.json update Hold, Muted,
 *          EndConferenceOnExit (HoldUrl, HoldMethod, AnnounceUrl... checked, not played)
 *   DELETE .../Conferences/{CF}/Participants/{CA|label}.json kick: 204, its call hangs up
 * Unknown conferences and participants: 404 code 20404. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tw_emu.h"

/* The path segments after /2010-04-01/Accounts/<AC>/Conferences/, ".json" cut from the last:
 * conference, "Participants", participant. Returns how many (0 when malformed). */
static int segments(const char *path, char seg[3][TW_SID_LEN + 130])
{
        const char *p = strstr(path, "/Conferences/");
        int n = 0;

        if (p == NULL)
                return 0;
        p += strlen("/Conferences/");
        while (*p && n < 3) {
                size_t len = strcspn(p, "/");
                if (len == 0 || len >= TW_SID_LEN + 130)
                        return 0;
                snprintf(seg[n], TW_SID_LEN + 130, "%.*s", (int)len, p);
                n++;
                p += len + (p[len] == '/');
        }
        if (*p || n == 0)
                return 0;
        char *dot = strstr(seg[n - 1], ".json");
        if (dot == NULL || dot[5] != '\0')
                return 0;
        *dot = '\0';
        return n;
}

static bool bool_param(const struct cb_form *f, const char *name, bool *out, bool *given)
{
        const char *v = cb_form_get(f, name);

        *given = v != NULL;
        if (v == NULL)
                return true;
        if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
                return false;
        *out = strcmp(v, "true") == 0;
        return true;
}

static json_t *page(const char *key, json_t *items, const char *uri)
{
        return json_pack("{s:o,s:I,s:s,s:n,s:I,s:I,s:n,s:I,s:s}", key, items, "end",
                         (json_int_t)(json_array_size(items) ? json_array_size(items) - 1 : 0),
                         "first_page_uri", uri, "next_page_uri", "page", (json_int_t)0, "page_size",
                         (json_int_t)50, "previous_page_uri", "start", (json_int_t)0, "uri", uri);
}

void sb_tw_conferences_list(const struct sb_request *req, struct sb_reply *reply)
{
        char account[TW_SID_LEN + 1];
        json_t *list;

        if (!tw_auth(req, reply, account))
                return;
        sb_state_lock();
        list = tw_conf_list_locked(sb_request_query(req, "FriendlyName"),
                                   sb_request_query(req, "Status"));
        sb_state_unlock();
        sb_reply_json_take(reply, 200, page("conferences", list, req->path));
}

void sb_tw_conference_fetch(const struct sb_request *req, struct sb_reply *reply)
{
        char account[TW_SID_LEN + 1], seg[3][TW_SID_LEN + 130];
        json_t *view = NULL;

        if (!tw_auth(req, reply, account))
                return;
        if (segments(req->path, seg) == 1) {
                sb_state_lock();
                json_t *conf = strncmp(seg[0], "CF", 2) == 0 ? tw_conf_find_locked(seg[0]) : NULL;
                view = conf ? tw_conf_view(conf) : NULL;
                sb_state_unlock();
        }
        if (view)
                sb_reply_json_take(reply, 200, view);
        else
                sb_tw_unrouted(req, reply);
}

void sb_tw_participants_list(const struct sb_request *req, struct sb_reply *reply)
{
        char account[TW_SID_LEN + 1], seg[3][TW_SID_LEN + 130];
        const char *hold = sb_request_query(req, "Hold");
        json_t *list = NULL, *conf, *p;
        const char *sid;

        if (!tw_auth(req, reply, account))
                return;
        sb_state_lock();
        conf = segments(req->path, seg) == 2 ? tw_conf_find_locked(seg[0]) : NULL;
        if (conf != NULL) {
                list = json_array();
                json_object_foreach(
                    json_object_get(json_object_get(conf, "sandbox"), "participants"), sid, p)
                {
                        if (hold == NULL ||
                            json_is_true(json_object_get(p, "hold")) == (strcmp(hold, "true") == 0))
                                json_array_append_new(list, tw_conf_view(p));
                }
        }
        sb_state_unlock();
        if (list)
                sb_reply_json_take(reply, 200, page("participants", list, req->path));
        else
                sb_tw_unrouted(req, reply);
}

/* The participant the path names (conference, participant), as a view, or 404. */
void sb_tw_participant_fetch(const struct sb_request *req, struct sb_reply *reply)
{
        char account[TW_SID_LEN + 1], seg[3][TW_SID_LEN + 130];
        json_t *view = NULL, *conf;

        if (!tw_auth(req, reply, account))
                return;
        sb_state_lock();
        conf = segments(req->path, seg) == 3 ? tw_conf_find_locked(seg[0]) : NULL;
        if (conf != NULL) {
                json_t *p = tw_conf_participant_locked(conf, seg[2]);
                view = p ? tw_conf_view(p) : NULL;
        }
        sb_state_unlock();
        if (view)
                sb_reply_json_take(reply, 200, view);
        else
                sb_tw_unrouted(req, reply);
}

/* Apply Hold, Muted and EndConferenceOnExit; false (400 answered) on a bad value. */
static bool apply_update(const struct cb_form *f, json_t *p, struct sb_reply *reply)
{
        static const char *const flags[][2] = {{"Hold", "hold"},
                                               {"Muted", "muted"},
                                               {"EndConferenceOnExit", "end_conference_on_exit"},
                                               {"BeepOnExit", NULL}};
        const char *hold_url = cb_form_get(f, "HoldUrl");
        bool v, given;

        if (hold_url != NULL && !tw_url_ok(hold_url)) {
                tw_error(reply, 400, 21205, "HoldUrl is not a valid URL: %s", hold_url);
                return false;
        }
        for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
                if (!bool_param(f, flags[i][0], &v, &given)) {
                        tw_error(reply, 400, 20001, "%s must be true or false", flags[i][0]);
                        return false;
                }
                if (given && flags[i][1] != NULL)
                        json_object_set_new(p, flags[i][1], json_boolean(v));
        }
        return true;
}

void sb_tw_participant_update(const struct sb_request *req, struct sb_reply *reply)
{
        char account[TW_SID_LEN + 1], seg[3][TW_SID_LEN + 130];
        struct cb_form form = {0};
        json_t *view = NULL, *conf, *p = NULL;
        bool ok = true;

        if (!tw_auth(req, reply, account))
                return;
        if (cb_form_parse(&form, req->body, req->body_len) != 0) {
                tw_error(reply, 400, 20001, "The request body is not a valid form");
                return;
        }
        sb_state_lock();
        conf = segments(req->path, seg) == 3 ? tw_conf_find_locked(seg[0]) : NULL;
        p = conf ? tw_conf_participant_locked(conf, seg[2]) : NULL;
        if (p != NULL) {
                json_t *copy = json_deep_copy(p);
                ok = copy != NULL && apply_update(&form, copy, reply);
                if (ok) { /* all or nothing */
                        json_object_update(p, copy);
                        char now[TW_DATE_LEN];
                        tw_date(time(NULL), now);
                        json_object_set_new(p, "date_updated", json_string(now));
                        view = tw_conf_view(p);
                }
                json_decref(copy);
        }
        sb_state_unlock();
        cb_form_free(&form);
        if (view)
                sb_reply_json_take(reply, 200, view);
        else if (ok)
                sb_tw_unrouted(req, reply);
}

void sb_tw_participant_delete(const struct sb_request *req, struct sb_reply *reply)
{
        char account[TW_SID_LEN + 1], seg[3][TW_SID_LEN + 130], sid[TW_SID_LEN + 1] = "";
        json_t *conf, *p;

        if (!tw_auth(req, reply, account))
                return;
        sb_state_lock();
        conf = segments(req->path, seg) == 3 ? tw_conf_find_locked(seg[0]) : NULL;
        p = conf ? tw_conf_participant_locked(conf, seg[2]) : NULL;
        if (p != NULL) {
                snprintf(sid, sizeof(sid), "%s", json_string_value(json_object_get(p, "call_sid")));
                tw_conf_leave_locked(sid, true);
                tw_call_hangup_locked(sid);
        }
        sb_state_unlock();
        if (!sid[0]) {
                sb_tw_unrouted(req, reply);
                return;
        }
        tw_driver_wake();
        sb_reply_data(reply, 204, NULL, "", 0);
}

/* The Calls.json form of a participant's call: To, From, the status callbacks, Timeout,
 * Record, and TwiML that joins the conference with the participant's settings. */
static int call_form(const struct cb_form *f, const char *conf_name, struct cb_form *out)
{
        static const char *const copied[] = {
            "To",      "From",  "StatusCallback", "StatusCallbackMethod", "StatusCallbackEvent",
            "Timeout", "Record"};
        const char *label = cb_form_get(f, "Label");
        const char *end = cb_form_get(f, "EndConferenceOnExit");
        const char *start = cb_form_get(f, "StartConferenceOnEnter");
        char twiml[1024];
        int rc = 0;

        for (size_t i = 0; i < f->n; i++)
                for (size_t k = 0; k < sizeof(copied) / sizeof(copied[0]); k++)
                        if (strcmp(f->p[i].name, copied[k]) == 0)
                                rc |= cb_form_add(out, f->p[i].name, f->p[i].value);
        snprintf(twiml, sizeof(twiml),
                 "<Response><Dial><Conference participantLabel=\"%s\" endConferenceOnExit=\"%s\""
                 " startConferenceOnEnter=\"%s\">%s</Conference></Dial></Response>",
                 label ? label : "", end && strcmp(end, "true") == 0 ? "true" : "false",
                 start && strcmp(start, "false") == 0 ? "false" : "true", conf_name);
        return rc | cb_form_add(out, "Twiml", twiml);
}

/* Check the participant create parameters Twilio checks before placing the call. */
static bool create_ok(const struct cb_form *f, struct sb_reply *reply)
{
        static const char *const bools[] = {"EndConferenceOnExit",
                                            "StartConferenceOnEnter",
                                            "Muted",
                                            "Beep",
                                            "EarlyMedia",
                                            "Record"};
        const char *label = cb_form_get(f, "Label");
        bool v, given;

        if (!cb_form_get(f, "From"))
                return tw_error(reply, 400, 21213, "No 'From' number is specified"), false;
        if (!cb_form_get(f, "To"))
                return tw_error(reply, 400, 21201, "No 'To' number is specified"), false;
        for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++)
                if (strcmp(bools[i], "Beep") != 0 && !bool_param(f, bools[i], &v, &given))
                        return tw_error(reply, 400, 20001, "%s must be true or false", bools[i]),
                               false;
        if (label && strpbrk(label, "<>&\"/"))
                return tw_error(reply, 400, 20001, "Label has characters it cannot have"), false;
        return true;
}

void sb_tw_participant_create(const struct sb_request *req, struct sb_reply *reply)
{
        char account[TW_SID_LEN + 1], seg[3][TW_SID_LEN + 130], name[160] = "";
        struct cb_form form = {0}, cf = {0};
        struct tw_job *job = NULL;
        json_t *view = NULL, *conf, *pview = NULL;
        const char *label;
        bool taken = false;

        if (!tw_auth(req, reply, account))
                return;
        if (cb_form_parse(&form, req->body, req->body_len) != 0) {
                tw_error(reply, 400, 20001, "The request body is not a valid form");
                return;
        }
        label = cb_form_get(&form, "Label");
        if (segments(req->path, seg) != 2 || !create_ok(&form, reply))
                goto out_unrouted;
        sb_state_lock();
        conf = tw_conf_open_locked(account, seg[0]);
        if (conf != NULL) {
                snprintf(name, sizeof(name), "%s",
                         json_string_value(json_object_get(conf, "friendly_name")));
                taken = label && tw_conf_participant_locked(conf, label) != NULL;
        }
        sb_state_unlock();
        if (conf == NULL || taken) {
                if (taken)
                        tw_error(reply, 400, 20001, "Label %s is already in use", label);
                else
                        sb_tw_unrouted(req, reply);
                goto out;
        }
        if (call_form(&form, name, &cf) != 0 ||
            tw_calls_place(req, reply, &cf, account, &job, &view) != 0)
                goto out;
        sb_state_lock();
        conf = tw_conf_open_locked(account, name);
        if (conf != NULL &&
            tw_conf_join_locked(conf, job->sid, label, false, true, "queued") == 0) {
                json_t *p = tw_conf_participant_locked(conf, job->sid);
                json_object_set_new(
                    p, "end_conference_on_exit",
                    json_boolean(
                        strcmp(cb_form_get(&form, "EndConferenceOnExit") ?: "false", "true") == 0));
                pview = tw_conf_view(p);
        }
        sb_state_unlock();
        json_decref(view);
        if (pview == NULL) {
                tw_job_free(job);
                tw_error(reply, 500, 20500, "An internal server error has occurred");
                goto out;
        }
        json_object_set_new(pview, "queue_time", json_string("0"));
        sb_reply_json_take(reply, 201, pview);
        tw_driver_enqueue_take(job);
        goto out;
out_unrouted:
        if (reply->status == 0)
                sb_tw_unrouted(req, reply);
out:
        cb_form_free(&cf);
        cb_form_free(&form);
}
