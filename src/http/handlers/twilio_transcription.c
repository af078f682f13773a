/* POST /webhooks/twilio/transcription: Twilio's real-time transcription callbacks
 * ([twilio] live_transcription; signature already checked).
 *
 * Each segment goes to the call's agent as an SSE event, transcript_partial or
 * transcript_final {"call_id","speaker","text","sequence","final","confidence"?,
 * "keywords":[{"keyword","rule"}],"sentiment":{"score","label"}}: speaker from the track and
 * the leg that started the transcription (cb_tel_speaker_of), keywords the rules file's
 * dictionary terms in this segment, sentiment the running one over the final segments so far
 * (this one included when final). Final segments are stored once by (call, SequenceId), so a
 * duplicate changes nothing and publishes nothing, and a late one lands in its place;
 * partials are only published. transcription-started records the transcription (and with
 * [stt] source = live queues the job that assembles the call's transcript);
 * transcription-stopped and -error bring that job forward to the end of [stt] live_grace_s.
 * A callback for a call we do not know, or an event we do not use, is answered 204 and
 * ignored; 503 when the database is unavailable, so Twilio may deliver it again. Final
 * segments count in callbridge_webhooks_total as recorded or duplicate, unknown calls as
 * unknown_call. */
#include <stdlib.h>
#include <string.h>

#include "callbridge/events.h"
#include "callbridge/log.h"
#include "callbridge/nlp.h"
#include "callbridge/redact.h"
#include "callbridge/store_transcripts.h"
#include "handlers/handlers.h"

/* How often the assembly job looks whether a call still going on has ended. */
#define LIVE_POLL_S 15

static bool source_live(const struct cb_config *cfg)
{
        return cfg->stt.source != NULL && strcmp(cfg->stt.source, "live") == 0;
}

/* The SSE event of a segment; best effort (a lost event leaves the agent's view a segment
 * short, the stored transcript is whole). `finals` is the text of the final segments before
 * this one. */
static void publish(const char *agent, const char *call_id, const struct cb_tel_transcription *t,
                    const char *finals)
{
        struct cb_nlp_rules *rules = cb_nlp_current();
        size_t n = strlen(finals), m = t->final ? strlen(t->text) : 0;
        char *all = malloc(n + m + 2); /* finals, then this segment when it is final */
        json_t *keywords = cb_nlp_keyword_hits(rules, t->text);
        json_t *analysis = NULL, *data = NULL;

        if (all != NULL) {
                memcpy(all, finals, n);
                all[n] = ' ';
                memcpy(all + (n > 0 && m > 0 ? n + 1 : n), t->text, m);
                all[n > 0 && m > 0 ? n + 1 + m : n + m] = '\0';
                analysis = cb_nlp_analyse(rules, all, NULL);
        }
        if (keywords != NULL && analysis != NULL)
                data = json_pack("{s:s,s:s,s:s,s:I,s:b,s:O,s:O}", "call_id", call_id, "speaker",
                                 cb_tel_speaker_name(t->speaker), "text", t->text, "sequence",
                                 (json_int_t)t->sequence, "final", t->final, "keywords", keywords,
                                 "sentiment", json_object_get(analysis, "sentiment"));
        if (data != NULL && t->confidence >= 0)
                json_object_set_new(data, "confidence", json_real(t->confidence));
        if (data != NULL)
                cb_events_publish(agent, t->final ? "transcript_final" : "transcript_partial",
                                  data);
        else
                cb_warn("live transcript of call %s: out of memory, segment %lld not published",
                        call_id, t->sequence);
        json_decref(data);
        json_decref(analysis);
        json_decref(keywords);
        free(all);
        cb_nlp_rules_unref(&rules);
}

/* The segment's text with [nlp] redact applied (caller frees; NULL when out of memory):
 * what is stored and published, so the transcript assembled from the segments, its analysis,
 * the CRM and the softphones never see the PII. Originals of live segments are not kept. */
static char *redacted(const struct cb_config *cfg, const char *text, bool partial)
{
        unsigned kinds = 0, counts[CB_REDACT_NKINDS] = {0};
        char err[128], *out;

        if (cb_redact_parse(cfg->nlp.redact, &kinds, err, sizeof(err)) != 0)
                kinds = CB_REDACT_ALL; /* --check-config refuses this; never fail open */
        if (kinds != 0 && partial)
                kinds |= CB_REDACT_PARTIAL;
        out = cb_redact_text(text ? text : "", kinds, cfg->server.default_region, counts);
        if (out != NULL)
                cb_redact_count(counts);
        return out;
}

/* A segment: stored when final (once), then published unless it was a duplicate. */
static enum cb_qs content(struct cb_request *req, struct cb_db *db, const char *call_id,
                          const char *agent, const struct cb_tel_transcription *orig)
{
        struct cb_tel_transcription red = *orig;
        const struct cb_tel_transcription *t = &red;
        char *text = redacted(req->env->cfg, orig->text, !orig->final);

        if (text == NULL)
                return CB_QS_HARD_ERROR; /* out of memory: 503, Twilio delivers it again */
        red.text = text;
        struct cb_live_segment seg = {.call_id = call_id,
                                      .sequence = t->sequence,
                                      .speaker = cb_tel_speaker_name(t->speaker),
                                      .text = t->text,
                                      .confidence = t->confidence,
                                      .final = t->final};
        char *finals = NULL;
        bool inserted = false;
        enum cb_qs qs = cb_store_live_segment(db, &seg, &inserted, &finals);

        /* A segment before transcription-started (lost, or delivered late) still makes the
         * call live: recorded once, the assembly queued with it. */
        if (qs > 0 && inserted)
                qs = cb_store_live_started(db, call_id, t->transcription_sid,
                                           source_live(req->env->cfg), LIVE_POLL_S);
        if (qs >= 0 && t->final)
                cb_webhook_count(inserted ? CB_WH_RECORDED : CB_WH_DUPLICATE);
        if (qs >= 0 && (inserted || !t->final))
                publish(agent, call_id, t, finals);
        if (qs >= 0 && inserted)
                cb_jobs_wake(req->env->jobs); /* a late segment may have queued the assembly */
        free(finals);
        free(text);
        return qs < 0 ? qs : CB_QS_ONE_RESULT;
}

static enum cb_qs apply(struct cb_request *req, struct cb_db *db, const char *call_id,
                        const char *agent, const struct cb_tel_transcription *t)
{
        const struct cb_config *cfg = req->env->cfg;

        switch (t->event) {
        case CB_TEL_TX_STARTED:
                return cb_store_live_started(db, call_id, t->transcription_sid, source_live(cfg),
                                             LIVE_POLL_S);
        case CB_TEL_TX_CONTENT:
                return content(req, db, call_id, agent, t);
        case CB_TEL_TX_ERROR: /* it ended too */
                cb_warn("live transcription of call %s failed: %.200s", call_id,
                        t->error ? t->error : "no reason given");
                return cb_store_live_stopped(db, call_id, t->error ? t->error : "failed",
                                             cfg->stt.live_grace_s);
        case CB_TEL_TX_STOPPED:
                return cb_store_live_stopped(db, call_id, NULL, cfg->stt.live_grace_s);
        case CB_TEL_TX_OTHER:
                break;
        }
        return CB_QS_NO_RESULTS;
}

enum MHD_Result cb_handle_twilio_transcription(struct cb_request *req)
{
        const struct cb_telephony *tel = req->env->tel;
        struct cb_tel_transcription t;
        struct cb_tel_params p;
        const char *msg = NULL;
        char call_id[CB_UUID_LEN + 1], agent[CB_AGENT_MAX];
        struct cb_db *db = NULL;
        enum MHD_Result ret;
        enum cb_qs qs;
        enum cb_err e;

        if (tel->ops->parse_transcription == NULL)
                return cb_reply_error(req, CB_ERR_ROUTE_NOT_FOUND, NULL);
        cb_webhook_params(req, &p);
        e = tel->ops->parse_transcription(tel->self, &p, &t, &msg);
        if (e != CB_ERR_NONE)
                return cb_reply_error(req, e, "%s", msg);
        if (t.event == CB_TEL_TX_OTHER) {
                cb_info("transcription event %.64s ignored", t.event_name);
                ret = cb_reply_text(req, 204, NULL, "", 0);
                goto out;
        }
        db = cb_db_acquire(req->env->pool, CB_DB_WAIT_MS);
        qs = db ? cb_store_live_call(db, t.call_id, tel->ops->name, t.call_sid, call_id, agent)
                : CB_QS_HARD_ERROR;
        if (qs == CB_QS_NO_RESULTS) {
                cb_webhook_count(CB_WH_UNKNOWN);
                cb_info("transcription %.64s for a call we do not know, ignored", t.event_name);
                ret = cb_reply_text(req, 204, NULL, "", 0);
                goto out;
        }
        if (qs > 0)
                qs = apply(req, db, call_id, agent, &t);
        ret = qs < 0 ? cb_reply_error(req, CB_ERR_DB_UNAVAILABLE, NULL)
                     : cb_reply_text(req, 204, NULL, "", 0);
out:
        cb_db_release(&db);
        json_decref(t.data);
        return ret;
}
