/* callbridge-sandbox: Twilio conferences and their participants, under the state mutex.
 *
 * A conference is created when its first participant joins by TwiML <Conference>name</...>
 * or by POST .../Conferences/<name>/Participants.json; it is "init" until a participant is
 * connected, then "in-progress", and "completed" when a participant with endConferenceOnExit
 * leaves (everyone else is hung up) or the last one does. Participants are the calls in it,
 * found by CallSid or by label; a completed participant leaves the list, as at Twilio.
 *
 * conferences   {"CF...": conference JSON + "sandbox": {"participants": {"CA...": participant},
 *                "labels": {"<label>": "CA..."}}}
 * by_name       {"<friendly name>": "CF..."} the live conference of each name
 * A call in a conference has "sandbox"."conference": "CF..." on its entry. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tw_emu.h"

static json_t *conferences;
static json_t *by_name;

void tw_conf_reset_locked(void)
{
        json_decref(conferences);
        json_decref(by_name);
        conferences = json_object();
        by_name = json_object();
}

void tw_conf_clear_locked(void)
{
        json_decref(conferences);
        json_decref(by_name);
        conferences = by_name = NULL;
}

static void touch(json_t *obj)
{
        char now[TW_DATE_LEN];

        tw_date(time(NULL), now);
        json_object_set_new(obj, "date_updated", json_string(now));
}

json_t *tw_conf_find_locked(const char *sid_or_name)
{
        json_t *conf = json_object_get(conferences, sid_or_name);
        const char *sid = json_string_value(json_object_get(by_name, sid_or_name));

        return conf ? conf : sid ? json_object_get(conferences, sid) : NULL;
}

/* A new conference named `name` (status init), indexed. NULL when out of memory. */
static json_t *conf_new(const char *account, const char *name)
{
        char sid[TW_SID_LEN + 1], now[TW_DATE_LEN], uri[160];
        json_t *conf;

        tw_new_sid("CF", sid);
        tw_date(time(NULL), now);
        snprintf(uri, sizeof(uri), TW_PREFIX "%s/Conferences/%s", account, sid);
        conf = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s+,s:{s:s+,s:s+},s:n,s:n,"
                         "s:{s:{},s:{}}}",
                         "account_sid", account, "date_created", now, "date_updated", now,
                         "api_version", TW_API_VERSION, "friendly_name", name, "region", "us1",
                         "sid", sid, "status", "init", "uri", uri, ".json", "subresource_uris",
                         "participants", uri, "/Participants.json", "recordings", uri,
                         "/Recordings.json", "reason_conference_ended",
                         "call_sid_ending_conference", "sandbox", "participants", "labels");
        if (conf == NULL || json_object_set_new(conferences, sid, conf) != 0 ||
            json_object_set_new(by_name, name, json_string(sid)) != 0)
                return NULL;
        return conf;
}

json_t *tw_conf_open_locked(const char *account, const char *sid_or_name)
{
        json_t *conf = tw_conf_find_locked(sid_or_name);

        if (conf != NULL &&
            strcmp(json_string_value(json_object_get(conf, "status")), "completed") != 0)
                return conf;
        /* A CF sid names one conference; anything else is a name, created when needed. */
        if (strncmp(sid_or_name, "CF", 2) == 0 && strlen(sid_or_name) == TW_SID_LEN)
                return NULL;
        return conf_new(account, sid_or_name);
}

json_t *tw_conf_participant_locked(json_t *conf, const char *sid_or_label)
{
        json_t *sb = json_object_get(conf, "sandbox");
        json_t *p = json_object_get(json_object_get(sb, "participants"), sid_or_label);
        const char *sid =
            json_string_value(json_object_get(json_object_get(sb, "labels"), sid_or_label));

        return p ? p : sid ? json_object_get(json_object_get(sb, "participants"), sid) : NULL;
}

int tw_conf_join_locked(json_t *conf, const char *call_sid, const char *label, bool end_on_exit,
                        bool start_on_enter, const char *status)
{
        json_t *sb = json_object_get(conf, "sandbox");
        json_t *call = tw_call_find_locked(call_sid), *p;
        const char *cf = json_string_value(json_object_get(conf, "sid"));
        const char *account = json_string_value(json_object_get(conf, "account_sid"));
        char now[TW_DATE_LEN], uri[200];

        p = json_object_get(json_object_get(sb, "participants"), call_sid);
        if (p != NULL) { /* a queued participant's call answered: it is connected now */
                json_object_set_new(p, "status", json_string(status));
                touch(p);
        } else {
                tw_date(time(NULL), now);
                snprintf(uri, sizeof(uri), TW_PREFIX "%s/Conferences/%s/Participants/%s.json",
                         account, cf, call_sid);
                p = json_pack("{s:s,s:s,s:s?,s:n,s:b,s:s,s:s,s:s,s:b,s:b,s:b,s:b,s:s,s:n,s:s}",
                              "account_sid", account, "call_sid", call_sid, "label", label,
                              "call_sid_to_coach", "coaching", 0, "conference_sid", cf,
                              "date_created", now, "date_updated", now, "end_conference_on_exit",
                              end_on_exit, "muted", 0, "hold", 0, "start_conference_on_enter",
                              start_on_enter, "status", status, "queue_time", "uri", uri);
                if (p == NULL ||
                    json_object_set_new(json_object_get(sb, "participants"), call_sid, p) != 0)
                        return -1;
                if (label != NULL)
                        json_object_set_new(json_object_get(sb, "labels"), label,
                                            json_string(call_sid));
        }
        if (call != NULL)
                json_object_set_new(json_object_get(call, "sandbox"), "conference",
                                    json_string(cf));
        if (strcmp(status, "connected") == 0 &&
            strcmp(json_string_value(json_object_get(conf, "status")), "init") == 0) {
                json_object_set_new(conf, "status", json_string("in-progress"));
                touch(conf);
        }
        return 0;
}

/* Mark the call to be hung up by its sender (tw_driver.c). */
void tw_call_hangup_locked(const char *call_sid)
{
        json_t *call = tw_call_find_locked(call_sid);

        if (call != NULL)
                json_object_set_new(json_object_get(call, "sandbox"), "hangup", json_true());
}

static void conf_end(json_t *conf, const char *reason, const char *by)
{
        json_t *parts = json_object_get(json_object_get(conf, "sandbox"), "participants");
        const char *sid;
        json_t *p;

        json_object_foreach(parts, sid, p)
        {
                json_t *call = tw_call_find_locked(sid);
                json_object_del(json_object_get(call, "sandbox"), "conference");
                tw_call_hangup_locked(sid);
        }
        json_object_clear(parts);
        json_object_clear(json_object_get(json_object_get(conf, "sandbox"), "labels"));
        json_object_set_new(conf, "status", json_string("completed"));
        json_object_set_new(conf, "reason_conference_ended", json_string(reason));
        json_object_set_new(conf, "call_sid_ending_conference", by ? json_string(by) : json_null());
        json_object_del(by_name, json_string_value(json_object_get(conf, "friendly_name")));
        touch(conf);
}

bool tw_conf_leave_locked(const char *call_sid, bool kicked)
{
        json_t *call = tw_call_find_locked(call_sid);
        const char *cf =
            json_string_value(json_object_get(json_object_get(call, "sandbox"), "conference"));
        json_t *conf = cf ? json_object_get(conferences, cf) : NULL;
        json_t *sb = json_object_get(conf, "sandbox"), *p;
        const char *label;
        bool end, others;

        p = json_object_get(json_object_get(sb, "participants"), call_sid);
        if (p == NULL)
                return false;
        /* Only a participant that was in the conference ends it by leaving; one whose call
         * was never answered just goes. */
        end = json_is_true(json_object_get(p, "end_conference_on_exit")) &&
              strcmp(json_string_value(json_object_get(p, "status")), "connected") == 0;
        label = json_string_value(json_object_get(p, "label"));
        if (label != NULL)
                json_object_del(json_object_get(sb, "labels"), label);
        json_object_del(json_object_get(sb, "participants"), call_sid);
        json_object_del(json_object_get(call, "sandbox"), "conference");
        /* Only a conference's end that hangs up someone else wakes the senders: a call that
         * leaves last wakes no one (waking every pausing sender per call, hundreds at once
         * under load, each taking the state lock, cost more than the calls themselves). */
        others = json_object_size(json_object_get(sb, "participants")) > 0;
        if (end)
                conf_end(conf,
                         kicked ? "participant-with-end-conference-on-exit-kicked"
                                : "participant-with-end-conference-on-exit-left",
                         call_sid);
        else if (json_object_size(json_object_get(sb, "participants")) == 0 &&
                 strcmp(json_string_value(json_object_get(conf, "status")), "in-progress") == 0)
                conf_end(conf, kicked ? "last-participant-kicked" : "last-participant-left",
                         call_sid);
        return end && others;
}

json_t *tw_conf_view(json_t *obj)
{
        json_t *v = json_deep_copy(obj);

        json_object_del(v, "sandbox");
        return v;
}

json_t *tw_conf_list_locked(const char *name, const char *status)
{
        json_t *out = json_array(), *conf;
        const char *sid;

        if (name && status && strcmp(status, "completed") != 0) {
                /* Not completed: only the live one of that name can match (by_name). */
                sid = json_string_value(json_object_get(by_name, name));
                conf = sid ? json_object_get(conferences, sid) : NULL;
                if (conf && strcmp(status, json_string_value(json_object_get(conf, "status"))) == 0)
                        json_array_append_new(out, tw_conf_view(conf));
                return out;
        }
        json_object_foreach(conferences, sid, conf)
        {
                const char *n = json_string_value(json_object_get(conf, "friendly_name"));
                const char *s = json_string_value(json_object_get(conf, "status"));
                if ((name == NULL || strcmp(name, n) == 0) &&
                    (status == NULL || strcmp(status, s) == 0))
                        json_array_append_new(out, tw_conf_view(conf));
        }
        return out;
}

/* The attribute `name="..."` inside `tag` (up to its '>') into out; false when absent. */
static bool attr(const char *tag, const char *end, const char *name, char *out, size_t size)
{
        char key[64];
        const char *p, *q;

        snprintf(key, sizeof(key), " %s=\"", name);
        p = strstr(tag, key);
        if (p == NULL || p > end)
                return false;
        p += strlen(key);
        q = strchr(p, '"');
        if (q == NULL || q > end)
                return false;
        snprintf(out, size, "%.*s", (int)(q - p), p);
        return true;
}

bool tw_twiml_conference(const char *twiml, struct tw_conf_noun *out)
{
        const char *tag = twiml ? strstr(twiml, "<Conference") : NULL;
        const char *gt, *close;
        char v[16];

        memset(out, 0, sizeof(*out));
        out->start_on_enter = true;
        if (tag == NULL || (gt = strchr(tag, '>')) == NULL ||
            (close = strstr(gt, "</Conference>")) == NULL)
                return false;
        snprintf(out->name, sizeof(out->name), "%.*s", (int)(close - gt - 1), gt + 1);
        attr(tag, gt, "participantLabel", out->label, sizeof(out->label));
        out->end_on_exit =
            attr(tag, gt, "endConferenceOnExit", v, sizeof(v)) && strcmp(v, "true") == 0;
        if (attr(tag, gt, "startConferenceOnEnter", v, sizeof(v)))
                out->start_on_enter = strcmp(v, "false") != 0;
        return out->name[0] != '\0';
}
