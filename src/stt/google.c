/* The `google` engine: Speech-to-Text v1 POST {google_base_url}/speech:recognize. Sync
 * recognition takes at most 60 s of audio, so the WAV is cut into chunks of at most [stt]
 * google_chunk_s seconds on sample-frame boundaries, each converted to 16-bit mono LINEAR16
 * (any PCM width, float, a-law, mu-law; channels mixed so both sides of a dual-channel call
 * are heard), recognised [stt] parallel at a time and joined in order. Other formats FAIL:
 * v1 has no MP3, and Opus/WebM cannot be cut here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/log.h"
#include "audio.h"
#include "google.h"
#include "stt_int.h"

#define GOOGLE_DEFAULT_COST 0.024 /* USD per minute, standard model list price */
#define READ_FRAMES         4096
#define MAX_PHRASES         500
#define MAX_PHRASE_LEN      100

struct google {
        char *url; /* {google_base_url}/speech:recognize */
        char *language;
        long timeout_ms;
        long chunk_s;
        unsigned int parallel;
        struct google_auth auth;
        struct cb_stt_pool *pool;
        struct cb_stt_counters counters;
};

/* One chunk's request and outcome. */
struct job {
        struct google *g;
        const struct cb_stt_audio *audio;
        const struct cb_wav_info *wav;
        const struct cb_wav_chunk *chunk;
        const char *config; /* the JSON of "config", shared by every chunk */
        enum cb_result rc;
        long retry_after_s;
        json_t *answer; /* the parsed response; decref'd by the caller */
        char err[512];
};

static void google_destroy(void *self)
{
        struct google *g = self;

        if (g == NULL)
                return;
        cb_stt_pool_destroy(&g->pool);
        cb_stt_counters_destroy(&g->counters);
        google_auth_free(&g->auth);
        free(g->url);
        free(g->language);
        free(g);
}

/* "?key=<api key>" percent-encoded into `b`. */
static int append_key(struct cb_buf *b, const char *key)
{
        static const char hex[] = "0123456789ABCDEF";
        int rc = cb_buf_puts(b, "?key=");

        for (const char *p = key; rc == 0 && *p; p++) {
                unsigned char c = (unsigned char)*p;
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == '~')
                        rc = cb_buf_append(b, p, 1);
                else
                        rc = cb_buf_printf(b, "%%%c%c", hex[c >> 4], hex[c & 15]);
        }
        return rc;
}

static void *google_create(const struct cb_config *cfg)
{
        struct google *g = calloc(1, sizeof(*g));
        struct cb_buf b = {.max = 8192};

        if (g == NULL)
                return NULL;
        cb_stt_counters_init(&g->counters, cb_stt_cost(cfg, GOOGLE_DEFAULT_COST));
        if (google_auth_init(&g->auth, cfg->stt.google_credentials_file, cfg->stt.api_key_file,
                             cfg->stt.timeout_ms) != 0)
                goto fail;
        if (cb_buf_printf(&b, "%s/speech:recognize", cfg->stt.google_base_url) != 0 ||
            (g->auth.api_key != NULL && append_key(&b, g->auth.api_key) != 0))
                goto fail;
        g->url = b.data; /* holds the API key: never logged */
        b.data = NULL;
        g->language = strdup(cfg->stt.language ? cfg->stt.language : "en");
        g->timeout_ms = cfg->stt.timeout_ms;
        g->chunk_s = cfg->stt.google_chunk_s;
        g->parallel = (unsigned int)cfg->stt.parallel;
        g->pool = cb_stt_pool_create(g->parallel > 1 ? g->parallel - 1 : 0);
        if (g->language == NULL || g->pool == NULL)
                goto fail;
        return g;
fail:
        cb_secret_free(b.data);
        google_destroy(g);
        return NULL;
}

/* A BCP-47 code for an ISO 639-1 language ("en" → "en-US"); codes with a region pass. */
static const char *bcp47(const char *lang, char *out, size_t size)
{
        static const char *const map[][2] = {
            {"en", "en-US"},       {"es", "es-ES"}, {"fr", "fr-FR"}, {"de", "de-DE"},
            {"it", "it-IT"},       {"pt", "pt-BR"}, {"nl", "nl-NL"}, {"ja", "ja-JP"},
            {"zh", "cmn-Hans-CN"}, {"ko", "ko-KR"}, {"ru", "ru-RU"}, {"pl", "pl-PL"},
            {"sv", "sv-SE"},       {"hi", "hi-IN"}};

        for (size_t i = 0; i < CB_ARRAY_LEN(map); i++) {
                if (strcmp(lang, map[i][0]) == 0)
                        return map[i][1];
        }
        cb_strlcpy(out, lang, size);
        return out;
}

/* The JSON of "config" (malloc'd; NULL when out of memory). */
static char *make_config(const struct google *g, const struct cb_wav_info *wav,
                         const struct cb_stt_request *req)
{
        char buf[32];
        const char *lang =
            bcp47(req && req->language ? req->language : g->language, buf, sizeof(buf));
        json_t *phrases = json_array();
        json_t *cfg;
        char *text = NULL;

        for (size_t i = 0; req && req->phrases && req->phrases[i] && i < MAX_PHRASES; i++) {
                if (strlen(req->phrases[i]) <= MAX_PHRASE_LEN)
                        json_array_append_new(phrases, json_string(req->phrases[i]));
        }
        cfg = json_pack("{s:s,s:I,s:i,s:s,s:b,s:b}", "encoding", "LINEAR16", "sampleRateHertz",
                        (json_int_t)wav->sample_rate, "audioChannelCount", 1, "languageCode", lang,
                        "enableAutomaticPunctuation", 1, "enableWordTimeOffsets", 0);
        if (cfg != NULL && json_array_size(phrases) > 0)
                json_object_set_new(cfg, "speechContexts",
                                    json_pack("[{s:O}]", "phrases", phrases));
        if (cfg != NULL)
                text = json_dumps(cfg, JSON_COMPACT);
        json_decref(cfg);
        json_decref(phrases);
        return text;
}

/* The chunk as a 16-bit mono WAV file, base64, inside the request body. NULL (with j->err)
 * when the audio cannot be read or converted, or out of memory. Caller frees. */
static char *make_body(struct job *j)
{
        const struct cb_wav_info *w = j->wav;
        struct cb_wav_info mono = *w;
        uint64_t frames = j->chunk->len / w->block_align;
        size_t wav_len = CB_WAV_HEADER_LEN + (size_t)frames * 2;
        unsigned char *pcm = malloc(wav_len);
        unsigned char *raw = malloc((size_t)READ_FRAMES * w->block_align);
        struct cb_buf body = {.max = wav_len / 3 * 4 + 64 + strlen(j->config) + 64};
        char *b64 = NULL;

        mono.format = CB_WAV_FORMAT_PCM, mono.channels = 1, mono.bits = 16, mono.block_align = 2;
        if (pcm == NULL || raw == NULL)
                goto oom;
        cb_wav_header(&mono, frames * 2, pcm);
        for (uint64_t f = 0; f < frames; f += READ_FRAMES) {
                size_t n = frames - f < READ_FRAMES ? (size_t)(frames - f) : READ_FRAMES;
                if (j->audio->read_at(j->audio->ctx,
                                      w->data_off + j->chunk->off + f * w->block_align, raw,
                                      n * w->block_align) != 0) {
                        snprintf(j->err, sizeof(j->err), "google: cannot read the recording");
                        goto fail;
                }
                if (!cb_wav_to_s16_mono(w, raw, n, (int16_t *)(pcm + CB_WAV_HEADER_LEN) + f)) {
                        snprintf(j->err, sizeof(j->err),
                                 "google: WAV format %u with %u-bit samples is not supported",
                                 w->format, w->bits);
                        goto fail;
                }
        }
        b64 = malloc(wav_len / 3 * 4 + 8);
        if (b64 == NULL)
                goto oom;
        cb_base64_encode(pcm, wav_len, b64);
        if (cb_buf_puts(&body, "{\"config\":") != 0 || cb_buf_puts(&body, j->config) != 0 ||
            cb_buf_puts(&body, ",\"audio\":{\"content\":\"") != 0 || cb_buf_puts(&body, b64) != 0 ||
            cb_buf_puts(&body, "\"}}") != 0)
                goto oom;
        goto out;
oom:
        snprintf(j->err, sizeof(j->err), "google: out of memory");
fail:
        cb_buf_free(&body);
out:
        free(b64);
        free(raw);
        free(pcm);
        return body.data;
}

/* Google's {"error":{"code","message","status"}} into j->err, with the outcome it means. */
static enum cb_result error_result(struct job *j, const struct cb_upstream_resp *resp)
{
        json_t *doc = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, NULL);
        json_t *e = json_object_get(doc, "error");
        const char *msg = json_string_value(json_object_get(e, "message"));
        const char *status = json_string_value(json_object_get(e, "status"));
        /* A quota or rate limit (429, RESOURCE_EXHAUSTED) is a wait: no attempt spent. */
        bool wait = resp->status == 429 || (status && strcmp(status, "RESOURCE_EXHAUSTED") == 0);
        bool retry = resp->status == 408 || resp->status >= 500 ||
                     (status && (strcmp(status, "UNAVAILABLE") == 0 ||
                                 strcmp(status, "DEADLINE_EXCEEDED") == 0));

        snprintf(j->err, sizeof(j->err), "google answered %ld: %s%s%s%s", resp->status,
                 msg ? msg : "(no error message)", status ? " (" : "", status ? status : "",
                 status ? ")" : "");
        if (resp->status == 429 || resp->status == 503)
                j->retry_after_s = cb_stt_retry_after(resp);
        json_decref(doc);
        return wait ? CB_RESULT_WAIT : retry ? CB_RESULT_RETRY : CB_RESULT_FAIL;
}

/* POST one body with the current authorisation; on a 401 to a cached token, once more with a
 * fresh one. Sets j->rc, j->err, j->answer. */
static void post(struct job *j, const char *body)
{
        char auth[4096 + 32];
        struct cb_upstream_req req = {.service = "google",
                                      .method = "POST",
                                      .url = j->g->url,
                                      .headers = {"Content-Type: application/json; charset=utf-8",
                                                  "Accept: application/json"},
                                      .body = body,
                                      .body_len = strlen(body),
                                      .timeout_ms = j->g->timeout_ms};
        struct cb_upstream_resp resp = {0};

        for (int attempt = 0; attempt < 2; attempt++) {
                j->rc = google_auth_header(&j->g->auth, auth, sizeof(auth), j->err, sizeof(j->err));
                if (j->rc != CB_RESULT_OK)
                        return;
                req.headers[2] = auth[0] ? auth : NULL;
                if (cb_upstream_perform(&req, &resp) != 0) {
                        j->rc = CB_RESULT_RETRY;
                        snprintf(j->err, sizeof(j->err), "google unreachable: %s", resp.error);
                } else if (resp.status == 200) {
                        j->answer = json_loadb(resp.body.data, resp.body.len, 0, NULL);
                        j->rc = json_is_object(j->answer) ? CB_RESULT_OK : CB_RESULT_RETRY;
                        if (j->rc != CB_RESULT_OK)
                                snprintf(j->err, sizeof(j->err),
                                         "google answered 200 without JSON");
                } else {
                        j->rc = error_result(j, &resp);
                }
                cb_upstream_resp_free(&resp);
                cb_stt_count_request(&j->g->counters, j->rc);
                if (!(j->rc == CB_RESULT_FAIL && resp.status == 401 && auth[0]))
                        return;
                google_auth_invalidate(&j->g->auth);
        }
}

static void run_job(void *ctx, size_t i)
{
        struct job *j = &((struct job *)ctx)[i];
        char *body = make_body(j);

        if (body == NULL) {
                j->rc = strstr(j->err, "out of memory") ? CB_RESULT_RETRY : CB_RESULT_FAIL;
                return;
        }
        post(j, body);
        free(body);
}

/* "12.340s" → 12.34; 0 when absent. */
static double duration_value(const char *s)
{
        return s ? strtod(s, NULL) : 0;
}

/* Append chunk answer `a` to `result` (segments shifted by the chunk start, clipped at its
 * end), its text to `text`. -1 when out of memory. */
static int join_answer(json_t *result, const json_t *a, const struct cb_wav_chunk *c,
                       double chunk_len_s, struct cb_buf *text)
{
        json_t *segs = json_object_get(result, "segments");
        json_t *r;
        size_t i;
        double prev = 0;

        json_array_foreach(json_object_get(a, "results"), i, r)
        {
                json_t *alt = json_array_get(json_object_get(r, "alternatives"), 0);
                const char *t = json_string_value(json_object_get(alt, "transcript"));
                double end = duration_value(json_string_value(json_object_get(r, "resultEndTime")));

                if (t == NULL)
                        continue;
                t += strspn(t, " ");
                if (*t == '\0')
                        continue;
                if (end <= 0 || end > chunk_len_s)
                        end = chunk_len_s;
                if (cb_buf_printf(text, "%s%s", text->len ? " " : "", t) != 0 ||
                    json_array_append_new(segs,
                                          json_pack("{s:f,s:f,s:s}", "start", c->start_s + prev,
                                                    "end", c->start_s + end, "text", t)) != 0)
                        return -1;
                prev = end;
        }
        return 0;
}

/* Parse the WAV and cut it; FAIL with `err` when it is not one Google can be given. */
static enum cb_result plan(struct google *g, const struct cb_stt_audio *audio,
                           struct cb_wav_info *wav, struct cb_wav_chunk **chunks, size_t *n,
                           char *err, size_t err_size)
{
        const char *ext = cb_stt_extension(audio->content_type);
        char why[256];

        *n = 0;
        if (ext == NULL || strcmp(ext, "wav") != 0) {
                snprintf(err, err_size,
                         "google: only WAV recordings can be transcribed (got %s); use the "
                         "openai engine for MP3, OGG or WebM",
                         audio->content_type ? audio->content_type : "no content type");
                return CB_RESULT_FAIL;
        }
        if (cb_wav_parse(audio, wav, why, sizeof(why)) != 0) {
                snprintf(err, err_size, "google: %s", why);
                return CB_RESULT_FAIL;
        }
        if (wav->sample_rate < 8000 || wav->sample_rate > 48000) {
                snprintf(err, err_size, "google: sample rate %u Hz is outside 8000-48000",
                         wav->sample_rate);
                return CB_RESULT_FAIL;
        }
        *n = cb_wav_plan(wav, (uint64_t)g->chunk_s * wav->sample_rate * wav->block_align, chunks);
        if (*n == 0) {
                snprintf(err, err_size, "google: the WAV file holds no audio (or out of memory)");
                return CB_RESULT_FAIL;
        }
        return CB_RESULT_OK;
}

/* Join the answers in order into the result object. NULL when out of memory. */
static json_t *join_all(struct google *g, struct job *jobs, size_t n, const char *lang,
                        double duration)
{
        json_t *result = cb_stt_result_new("google", NULL, lang);
        struct cb_buf text = {.max = (size_t)64 * 1024 * 1024};

        for (size_t i = 0; result != NULL && i < n; i++) {
                /* whole frames; block_align > 0 (cb_wav_plan makes no chunk otherwise) */
                uint64_t frames = jobs[i].chunk->len / jobs[i].wav->block_align;
                double len_s = (double)frames / jobs[i].wav->sample_rate;
                if (join_answer(result, jobs[i].answer, jobs[i].chunk, len_s, &text) != 0) {
                        json_decref(result);
                        result = NULL;
                }
        }
        if (result != NULL &&
            (json_object_set_new(result, "text", json_string(text.data ? text.data : "")) != 0 ||
             json_object_set_new(result, "duration_s", json_real(duration)) != 0 ||
             json_object_set_new(result, "model", json_string("default")) != 0 ||
             json_object_set_new(result, "chunks", json_integer((json_int_t)n)) != 0)) {
                json_decref(result);
                result = NULL;
        }
        cb_buf_free(&text);
        return result;
}

/* The first FAIL, else a RETRY, else a WAIT (with the longest Retry-After), else OK. */
static enum cb_result outcome(struct job *jobs, size_t n, long *retry_after_s, char *err,
                              size_t err_size)
{
        enum cb_result rc = CB_RESULT_OK;

        for (size_t i = 0; i < n; i++) {
                if (jobs[i].rc == CB_RESULT_OK || rc == CB_RESULT_FAIL)
                        continue;
                if (jobs[i].retry_after_s > *retry_after_s)
                        *retry_after_s = jobs[i].retry_after_s;
                if (rc == CB_RESULT_OK || jobs[i].rc == CB_RESULT_FAIL ||
                    (rc == CB_RESULT_WAIT && jobs[i].rc == CB_RESULT_RETRY)) {
                        rc = jobs[i].rc;
                        snprintf(err, err_size, "chunk %zu of %zu: %s", i + 1, n, jobs[i].err);
                }
        }
        if (rc != CB_RESULT_OK && n == 1)
                snprintf(err, err_size, "%s", jobs[0].err);
        return rc;
}

static enum cb_result google_transcribe(void *self, const struct cb_stt_audio *audio,
                                        const struct cb_stt_request *req, json_t **result,
                                        long *retry_after_s, char *err, size_t err_size)
{
        struct google *g = self;
        struct cb_wav_info wav = {0};
        struct cb_wav_chunk *chunks = NULL;
        struct job *jobs = NULL;
        char *config = NULL;
        size_t n = 0;
        enum cb_result rc;

        *result = NULL;
        *retry_after_s = 0;
        rc = plan(g, audio, &wav, &chunks, &n, err, err_size);
        if (rc != CB_RESULT_OK)
                goto out;
        config = make_config(g, &wav, req);
        jobs = calloc(n, sizeof(*jobs));
        if (config == NULL || jobs == NULL) {
                rc = CB_RESULT_RETRY;
                snprintf(err, err_size, "google: out of memory");
                goto out;
        }
        for (size_t i = 0; i < n; i++)
                jobs[i] = (struct job){
                    .g = g, .audio = audio, .wav = &wav, .chunk = &chunks[i], .config = config};
        cb_stt_pool_run(g->pool, n, g->parallel, run_job, jobs);
        rc = outcome(jobs, n, retry_after_s, err, err_size);
        if (rc == CB_RESULT_OK) {
                *result = join_all(g, jobs, n, req && req->language ? req->language : g->language,
                                   cb_wav_duration(&wav));
                if (*result == NULL) {
                        rc = CB_RESULT_RETRY;
                        snprintf(err, err_size, "google: out of memory joining the chunks");
                }
        }
out:
        cb_stt_count_transcription(&g->counters, rc, rc == CB_RESULT_OK ? cb_wav_duration(&wav) : 0,
                                   n);
        for (size_t i = 0; jobs != NULL && i < n; i++)
                json_decref(jobs[i].answer);
        free(jobs);
        free(chunks);
        free(config);
        return rc;
}

static void google_metrics(void *self, struct cb_buf *out)
{
        struct google *g = self;
        cb_stt_counters_write(&g->counters, "google", out);
}

const struct cb_stt_ops cb_stt_google = {
    .name = "google",
    .create = google_create,
    .destroy = google_destroy,
    .transcribe = google_transcribe,
    .metrics = google_metrics,
};
