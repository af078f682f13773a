/* callbridge-sandbox: Twilio's real-time transcription. When the TwiML a call fetched on
 * answer starts it (<Start><Transcription statusCallbackUrl="...">), the call's talk time is
 * played as transcription callbacks to that URL, signed like every webhook: transcription-
 * started, then for each segment of the conversation a partial result (its first half, when
 * partialResults="true" and it has two words or more) and the final one, spread evenly over
 * the talk time, then transcription-stopped. The conversation is the one seeded for the
 * call's To number (POST /__sandbox/seed "conversations"), else the one seeded for "*", else
 * a fixed sales conversation. track="inbound_track"/"outbound_track" plays that side only.
 * Faults: webhook_duplicate_rate applies to each callback (tw_deliver); webhook_shuffle sends
 * the segments in random order (started first and stopped last still). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbridge/util.h"
#include "tw_emu.h"

#define MAX_SEGMENTS 200
#define MAX_TEXT     4096

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *conversations; /* {"<To> or *": [{"track","text"}, ...]} */

/* The default: a short sales call with dictionary terms (pricing, competitor, product). */
static const char *const default_talk[][2] = {
    {"outbound_track", "Hi, this is Alex from Callbridge. Thanks for taking my call."},
    {"inbound_track", "Sure. We are looking at the pricing for fifty seats."},
    {"outbound_track", "Great. I can send you a quote today and set up a demo next week."},
    {"inbound_track", "That sounds good. We use Aircall now but the contract ends soon."},
    {"outbound_track", "Perfect, I will send the quote this afternoon."},
};

bool tw_talk_check(const json_t *arr, char *err, size_t err_size)
{
        const json_t *c, *seg;
        size_t i, k;

        if (!json_is_array(arr))
                return snprintf(err, err_size, "conversations must be an array"), false;
        json_array_foreach(arr, i, c)
        {
                const json_t *to = json_object_get(c, "to"), *segs = json_object_get(c, "segments");
                const char *key;
                const json_t *v;
                if (!json_is_object(c))
                        return snprintf(err, err_size, "conversations[%zu] must be an object", i),
                               false;
                json_object_foreach((json_t *)c, key, v)
                {
                        if (strcmp(key, "to") != 0 && strcmp(key, "segments") != 0) {
                                snprintf(err, err_size, "conversations[%zu]: unknown field \"%s\"",
                                         i, key);
                                return false;
                        }
                }
                if ((to != NULL && (!json_is_string(to) || json_string_length(to) == 0 ||
                                    json_string_length(to) > 32)) ||
                    !json_is_array(segs) || json_array_size(segs) == 0 ||
                    json_array_size(segs) > MAX_SEGMENTS)
                        return snprintf(err, err_size,
                                        "conversations[%zu] needs \"segments\" (1-%d) and an "
                                        "optional \"to\" (a number, or \"*\")",
                                        i, MAX_SEGMENTS),
                               false;
                json_array_foreach(segs, k, seg)
                {
                        const char *track = json_string_value(json_object_get(seg, "track"));
                        const json_t *text = json_object_get(seg, "text");
                        if (track == NULL ||
                            (strcmp(track, "inbound_track") != 0 &&
                             strcmp(track, "outbound_track") != 0) ||
                            !json_is_string(text) || json_string_length(text) == 0 ||
                            json_string_length(text) > MAX_TEXT)
                                return snprintf(err, err_size,
                                                "conversations[%zu].segments[%zu] needs a track "
                                                "(inbound_track or outbound_track) and a text",
                                                i, k),
                                       false;
                }
        }
        return true;
}

int tw_talk_seed(const json_t *arr)
{
        const json_t *c;
        size_t i;
        int rc = 0;

        pthread_mutex_lock(&lock);
        if (conversations == NULL)
                conversations = json_object();
        json_array_foreach(arr, i, c)
        {
                const char *to = json_string_value(json_object_get(c, "to"));
                if (conversations == NULL ||
                    json_object_set(conversations, to ? to : "*", json_object_get(c, "segments")))
                        rc = -1;
        }
        pthread_mutex_unlock(&lock);
        return rc;
}

void tw_talk_reset(void)
{
        pthread_mutex_lock(&lock);
        json_decref(conversations);
        conversations = NULL;
        pthread_mutex_unlock(&lock);
}

/* The conversation for calls to `to` (new reference; NULL when out of memory). */
static json_t *talk_for(const char *to)
{
        json_t *segs;

        pthread_mutex_lock(&lock);
        segs = json_object_get(conversations, to);
        if (segs == NULL)
                segs = json_object_get(conversations, "*");
        segs = json_deep_copy(segs);
        pthread_mutex_unlock(&lock);
        if (segs != NULL)
                return segs;
        segs = json_array();
        for (size_t i = 0; segs && i < sizeof(default_talk) / sizeof(default_talk[0]); i++)
                json_array_append_new(segs, json_pack("{s:s,s:s}", "track", default_talk[i][0],
                                                      "text", default_talk[i][1]));
        return segs;
}

/* The value of attribute `name` of the <Transcription> element in `twiml`, XML entities
 * decoded, into `out`; false when absent or too long. */
static bool attr(const char *twiml, const char *name, char *out, size_t size)
{
        const char *el = strstr(twiml, "<Start><Transcription"), *end, *p;
        char pat[64];
        size_t n = 0;

        snprintf(pat, sizeof(pat), " %s=\"", name);
        end = el ? strstr(el, "/>") : NULL;
        p = el ? strstr(el, pat) : NULL;
        if (p == NULL || (end != NULL && p > end))
                return false;
        for (p += strlen(pat); *p != '\0' && *p != '"' && n + 1 < size; n++) {
                static const char *const ents[][2] = {{"&amp;", "&"},
                                                      {"&lt;", "<"},
                                                      {"&gt;", ">"},
                                                      {"&quot;", "\""},
                                                      {"&apos;", "'"}};
                size_t k = 0;
                for (; k < 5 && strncmp(p, ents[k][0], strlen(ents[k][0])) != 0; k++)
                        ;
                out[n] = k < 5 ? ents[k][1][0] : *p;
                p += k < 5 ? strlen(ents[k][0]) : 1;
        }
        out[n] = '\0';
        return *p == '"';
}

/* One callback under way. */
struct talk {
        CURL *curl;
        const struct tw_job *job;
        char url[2048];
        char tsid[TW_SID_LEN + 1];
};

/* One callback; `seq` is its SequenceId, the order Twilio made the events in (delivery may
 * differ: the shuffle fault). */
static bool talk_send(struct talk *t, long seq_id, const char *event, const char *track,
                      const char *text, bool final)
{
        struct tw_hook hk = {.kind = "transcription", .url = t->url, .method = "POST"};
        struct timespec ts;
        struct tm tm;
        char now[40], seq[24], *data = NULL;
        int rc = 0;
        bool ok;

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(now, 24, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(now + 19, sizeof(now) - 19, ".%03ldZ", ts.tv_nsec / 1000000);
        snprintf(seq, sizeof(seq), "%ld", seq_id);
        snprintf(hk.status, sizeof(hk.status), "%s", event + strlen("transcription-"));
        rc |= cb_form_add(&hk.params, "AccountSid", t->job->account);
        rc |= cb_form_add(&hk.params, "CallSid", t->job->sid);
        rc |= cb_form_add(&hk.params, "TranscriptionSid", t->tsid);
        rc |= cb_form_add(&hk.params, "Timestamp", now);
        rc |= cb_form_add(&hk.params, "SequenceId", seq);
        rc |= cb_form_add(&hk.params, "TranscriptionEvent", event);
        if (strcmp(event, "transcription-started") == 0) {
                rc |= cb_form_add(&hk.params, "ProviderName", "Google");
                rc |= cb_form_add(&hk.params, "TranscriptionEngine", "google");
                rc |= cb_form_add(&hk.params, "LanguageCode", "en-US");
                rc |= cb_form_add(&hk.params, "Track", track);
                rc |= cb_form_add(&hk.params, "PartialResults", final ? "false" : "true");
        } else if (text != NULL) {
                json_t *d =
                    json_pack("{s:s,s:f}", "transcript", text, "confidence", final ? 0.9412 : 0.6);
                data = d ? json_dumps(d, JSON_COMPACT) : NULL;
                json_decref(d);
                rc |= data ? cb_form_add(&hk.params, "TranscriptionData", data) : -1;
                rc |= cb_form_add(&hk.params, "LanguageCode", "en-US");
                rc |= cb_form_add(&hk.params, "Track", track);
                rc |= cb_form_add(&hk.params, "Final", final ? "true" : "false");
                if (!final)
                        rc |= cb_form_add(&hk.params, "Stability", "0.8");
        }
        ok = rc != 0 || tw_deliver(t->curl, t->job, &hk, NULL); /* out of memory: lost */
        cb_form_free(&hk.params);
        free(data);
        return ok;
}

/* The callbacks of the segments: [[track, text, final, SequenceId], ...] in the order they
 * are made (SequenceId 1 is transcription-started). */
static json_t *contents(const json_t *segs, const char *track, bool partials)
{
        json_t *out = json_array(), *seg;
        size_t i;

        json_array_foreach(segs, i, seg)
        {
                const char *tr = json_string_value(json_object_get(seg, "track"));
                const char *text = json_string_value(json_object_get(seg, "text"));
                const char *mid = text ? strchr(text, ' ') : NULL;
                if (out == NULL || tr == NULL || text == NULL ||
                    (strcmp(track, "both_tracks") != 0 && strcmp(track, tr) != 0))
                        continue;
                for (const char *s = mid; s && s - text < (long)strlen(text) / 2;
                     s = strchr(s + 1, ' '))
                        mid = s; /* the word boundary before the middle */
                if (partials && mid != NULL)
                        json_array_append_new(out, json_pack("[s,s%,b,I]", tr, text,
                                                             (size_t)(mid - text), 0,
                                                             (json_int_t)json_array_size(out) + 2));
                json_array_append_new(
                    out, json_pack("[s,s,b,I]", tr, text, 1, (json_int_t)json_array_size(out) + 2));
        }
        return out;
}

bool tw_talk_play(CURL *curl, const struct tw_job *job, const char *twiml, long talk_ms,
                  bool (*pause)(const struct tw_job *job, long ms, bool *cut), bool *cut)
{
        struct talk t = {.curl = curl, .job = job};
        char track[32] = "both_tracks", partial[8] = "false";
        json_t *segs, *hooks, *h;
        bool ok = true;
        size_t i, n;

        if (twiml == NULL || !attr(twiml, "statusCallbackUrl", t.url, sizeof(t.url)) ||
            !tw_url_ok(t.url))
                return pause(job, talk_ms, cut); /* no transcription asked for */
        attr(twiml, "track", track, sizeof(track));
        attr(twiml, "partialResults", partial, sizeof(partial));
        tw_new_sid("GT", t.tsid);
        segs = talk_for(job->to);
        hooks = segs ? contents(segs, track, strcmp(partial, "true") == 0) : NULL;
        n = json_array_size(hooks);
        for (i = n; sb_fault_webhook_shuffle() && i > 1; i--) { /* Fisher-Yates */
                size_t j = (size_t)(sb_random_unit() * (double)i);
                json_t *a = json_incref(json_array_get(hooks, i - 1));
                json_array_set(hooks, i - 1, json_array_get(hooks, j < i ? j : i - 1));
                json_array_set_new(hooks, j < i ? j : i - 1, a);
        }
        ok = talk_send(&t, 1, "transcription-started", track, NULL, strcmp(partial, "true") != 0);
        json_array_foreach(hooks, i, h)
        {
                if (!ok || !pause(job, talk_ms / (long)(n + 1), cut) || *cut)
                        break; /* the sandbox stops, or the call was hung up: no more speech */
                ok = talk_send(&t, (long)json_integer_value(json_array_get(h, 3)),
                               "transcription-content", json_string_value(json_array_get(h, 0)),
                               json_string_value(json_array_get(h, 1)),
                               json_is_true(json_array_get(h, 2)));
        }
        ok = ok && (*cut || pause(job, talk_ms / (long)(n + 1), cut)) &&
             talk_send(&t, (long)n + 2, "transcription-stopped", track, NULL, true);
        json_decref(hooks);
        json_decref(segs);
        return ok;
}
