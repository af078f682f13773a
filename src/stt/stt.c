/* Chooses the speech-to-text engine [stt] engine names, and what the engines share (counters
 * for metrics, Retry-After, the result skeleton). Add an engine: write src/stt/<name>.c from
 * none.c and list its ops in `engines` below. */
#include "callbridge/stt.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "callbridge/log.h"
#include "stt_int.h"

static const struct cb_stt_ops *const engines[] = {
    &cb_stt_none,
    &cb_stt_openai,
    &cb_stt_google,
#ifdef CB_HAVE_POCKETSPHINX
    &cb_stt_offline,
#endif
};

struct cb_stt *cb_stt_create(const struct cb_config *cfg)
{
        const char *want = cfg->stt.engine != NULL ? cfg->stt.engine : "none";
        struct cb_stt *stt = NULL;

        for (size_t i = 0; i < CB_ARRAY_LEN(engines); i++) {
                if (strcmp(engines[i]->name, want) != 0)
                        continue;
                stt = calloc(1, sizeof(*stt));
                if (stt == NULL)
                        return NULL;
                stt->ops = engines[i];
                stt->self = stt->ops->create(cfg);
                if (stt->self == NULL) {
                        free(stt);
                        return NULL;
                }
                return stt;
        }
        cb_error("speech-to-text engine %s is not part of this build", want);
        return NULL;
}

void cb_stt_destroy(struct cb_stt **sttp)
{
        struct cb_stt *stt = *sttp;

        if (stt == NULL)
                return;
        stt->ops->destroy(stt->self);
        free(stt);
        *sttp = NULL;
}

/* ---- counters ---------------------------------------------------------------------------- */

void cb_stt_counters_init(struct cb_stt_counters *c, double cost_per_minute)
{
        memset(c, 0, sizeof(*c));
        pthread_mutex_init(&c->lock, NULL);
        c->cost_per_minute = cost_per_minute;
}

void cb_stt_counters_destroy(struct cb_stt_counters *c)
{
        pthread_mutex_destroy(&c->lock);
}

void cb_stt_count_request(struct cb_stt_counters *c, enum cb_result r)
{
        pthread_mutex_lock(&c->lock);
        if (r == CB_RESULT_OK)
                c->requests_ok++;
        else if (r == CB_RESULT_RETRY || r == CB_RESULT_WAIT)
                c->requests_retry++;
        else
                c->requests_fail++;
        pthread_mutex_unlock(&c->lock);
}

void cb_stt_count_transcription(struct cb_stt_counters *c, enum cb_result r, double seconds,
                                size_t chunks)
{
        pthread_mutex_lock(&c->lock);
        if (r == CB_RESULT_OK) {
                c->transcriptions_ok++;
                c->audio_seconds += seconds;
                c->chunks += chunks;
        } else if (r == CB_RESULT_RETRY) {
                c->transcriptions_retry++;
        } else {
                c->transcriptions_fail++;
        }
        pthread_mutex_unlock(&c->lock);
}

void cb_stt_counters_write(struct cb_stt_counters *c, const char *name, struct cb_buf *out)
{
        static const char *const results[] = {"ok", "retry", "fail"};
        uint64_t req[3], tr[3], chunks;
        double secs, cost;

        pthread_mutex_lock(&c->lock);
        req[0] = c->requests_ok, req[1] = c->requests_retry, req[2] = c->requests_fail;
        tr[0] = c->transcriptions_ok, tr[1] = c->transcriptions_retry,
        tr[2] = c->transcriptions_fail;
        secs = c->audio_seconds;
        chunks = c->chunks;
        cost = c->cost_per_minute;
        pthread_mutex_unlock(&c->lock);
        cb_buf_puts(out, "# HELP cb_stt_requests_total Speech-to-text engine HTTP requests by "
                         "outcome.\n# TYPE cb_stt_requests_total counter\n");
        for (size_t i = 0; i < 3; i++)
                cb_buf_printf(out, "cb_stt_requests_total{engine=\"%s\",result=\"%s\"} %llu\n",
                              name, results[i], (unsigned long long)req[i]);
        cb_buf_puts(out, "# HELP cb_stt_transcriptions_total Recordings transcribed by "
                         "outcome.\n# TYPE cb_stt_transcriptions_total counter\n");
        for (size_t i = 0; i < 3; i++)
                cb_buf_printf(out,
                              "cb_stt_transcriptions_total{engine=\"%s\",result=\"%s\"} %llu\n",
                              name, results[i], (unsigned long long)tr[i]);
        cb_buf_printf(out,
                      "# HELP cb_stt_audio_seconds_total Seconds of audio transcribed.\n"
                      "# TYPE cb_stt_audio_seconds_total counter\n"
                      "cb_stt_audio_seconds_total{engine=\"%s\"} %.3f\n"
                      "# HELP cb_stt_chunks_total Chunks long recordings were cut into.\n"
                      "# TYPE cb_stt_chunks_total counter\n"
                      "cb_stt_chunks_total{engine=\"%s\"} %llu\n"
                      "# HELP cb_stt_cost_usd_total Estimated engine cost ([stt] "
                      "cost_per_minute).\n"
                      "# TYPE cb_stt_cost_usd_total counter\n"
                      "cb_stt_cost_usd_total{engine=\"%s\"} %.6f\n",
                      name, secs, name, (unsigned long long)chunks, name, secs / 60.0 * cost);
}

/* ---- helpers ----------------------------------------------------------------------------- */

long cb_stt_retry_after(const struct cb_upstream_resp *resp)
{
        char v[128];
        long n;
        struct tm tm = {0};
        char *end;

        if (cb_upstream_resp_header(resp, "retry-after-ms", v, sizeof(v))) {
                double ms = strtod(v, &end);
                if (end != v && isfinite(ms) && ms > 0 && ms < 86400000.0)
                        return (long)ceil(ms / 1000.0);
        }
        if (!cb_upstream_resp_header(resp, "retry-after", v, sizeof(v)))
                return 0;
        if (cb_parse_long(v, 0, 86400, &n))
                return n;
        end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        if (end != NULL && *end == '\0') {
                time_t at = timegm(&tm), now = time(NULL);
                return at > now ? (long)(at - now) : 0;
        }
        return 0;
}

double cb_stt_cost(const struct cb_config *cfg, double engine_default)
{
        const char *s = cfg->stt.cost_per_minute;
        char *end = NULL;
        double d;

        if (s == NULL || s[0] == '\0')
                return engine_default;
        d = strtod(s, &end);
        return (end != s && *end == '\0' && isfinite(d) && d >= 0) ? d : engine_default;
}

const char *cb_stt_extension(const char *content_type)
{
        static const struct {
                const char *type, *ext;
        } map[] = {{"audio/wav", "wav"},      {"audio/x-wav", "wav"},   {"audio/wave", "wav"},
                   {"audio/vnd.wave", "wav"}, {"audio/mpeg", "mp3"},    {"audio/mp3", "mp3"},
                   {"audio/ogg", "ogg"},      {"audio/opus", "ogg"},    {"audio/webm", "webm"},
                   {"audio/flac", "flac"},    {"audio/x-flac", "flac"}, {"audio/mp4", "m4a"},
                   {"audio/x-m4a", "m4a"}};
        size_t len;

        if (content_type == NULL)
                return NULL;
        len = strcspn(content_type, ";");
        while (len > 0 && content_type[len - 1] == ' ')
                len--;
        for (size_t i = 0; i < CB_ARRAY_LEN(map); i++) {
                if (strlen(map[i].type) == len && strncasecmp(map[i].type, content_type, len) == 0)
                        return map[i].ext;
        }
        return NULL;
}

json_t *cb_stt_result_new(const char *engine, const char *model, const char *language)
{
        return json_pack("{s:s,s:s?,s:f,s:[],s:s,s:s?,s:i}", "text", "", "language", language,
                         "duration_s", 0.0, "segments", "engine", engine, "model", model, "chunks",
                         0);
}
