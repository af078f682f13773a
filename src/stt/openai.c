/* The `openai` engine: POST {base_url}/audio/transcriptions (OpenAI, or any server speaking
 * its API) as multipart/form-data, response_format=verbose_json. A file over [stt] chunk_mb
 * is cut, if it is PCM WAV, into chunks on sample-frame boundaries (each a WAV file of its
 * own) recognised [stt] parallel at a time and joined in order; other formats that large
 * FAIL. The file is streamed from the reader, never held whole in memory. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/log.h"
#include "audio.h"
#include "stt_int.h"

#define OPENAI_MAX_BYTES    26214400ULL /* the API's limit on a request */
#define OPENAI_DEFAULT_COST 0.006       /* USD per minute, whisper-1 list price */
#define MAX_PROMPT          800         /* bytes of keyword hints in `prompt` */

struct openai {
        char *url;  /* {base_url}/audio/transcriptions */
        char *auth; /* "Authorization: Bearer <key>"; wiped on destroy */
        char *model;
        char *language;
        long timeout_ms;
        uint64_t chunk_bytes;
        unsigned int parallel;
        struct cb_stt_pool *pool;
        struct cb_stt_counters counters;
};

/* One request's input and outcome (a chunk, or the whole file with chunk NULL). */
struct job {
        struct openai *o;
        const struct cb_stt_audio *audio;
        const struct cb_wav_info *wav;
        const struct cb_wav_chunk *chunk;
        const char *language;
        const char *prompt;
        const char *filename;
        enum cb_result rc;
        long retry_after_s;
        json_t *answer; /* the parsed verbose_json; owned, decref'd by the caller */
        char err[512];
};

static void openai_destroy(void *self)
{
        struct openai *o = self;

        if (o == NULL)
                return;
        cb_stt_pool_destroy(&o->pool);
        cb_stt_counters_destroy(&o->counters);
        free(o->url);
        cb_secret_free(o->auth);
        free(o->model);
        free(o->language);
        free(o);
}

static void *openai_create(const struct cb_config *cfg)
{
        struct openai *o = calloc(1, sizeof(*o));
        char *key = NULL;
        struct cb_buf b = {.max = 4096};

        if (o == NULL)
                return NULL;
        cb_stt_counters_init(&o->counters, cb_stt_cost(cfg, OPENAI_DEFAULT_COST));
        key = cfg->stt.api_key_file ? cb_config_read_secret(cfg->stt.api_key_file) : NULL;
        if (key == NULL || key[0] == '\0') {
                cb_error("stt openai: cannot read [stt] api_key_file");
                goto fail;
        }
        if (cb_buf_printf(&b, "Authorization: Bearer %s", key) != 0)
                goto fail;
        o->auth = b.data;
        b.data = NULL;
        b = (struct cb_buf){.max = 4096};
        if (cb_buf_printf(&b, "%s/audio/transcriptions", cfg->stt.base_url) != 0)
                goto fail;
        o->url = b.data;
        o->model = strdup(cfg->stt.model ? cfg->stt.model : "whisper-1");
        o->language = cfg->stt.language ? strdup(cfg->stt.language) : NULL;
        o->timeout_ms = cfg->stt.timeout_ms;
        o->chunk_bytes = (uint64_t)cfg->stt.chunk_mb * 1024 * 1024;
        o->parallel = (unsigned int)cfg->stt.parallel;
        o->pool = cb_stt_pool_create(o->parallel > 1 ? o->parallel - 1 : 0);
        if (o->model == NULL || (cfg->stt.language && o->language == NULL) || o->pool == NULL)
                goto fail;
        cb_secret_free(key);
        return o;
fail:
        cb_secret_free(key);
        openai_destroy(o);
        return NULL;
}

static int read_whole(void *ctx, uint64_t off, void *buf, size_t len)
{
        const struct cb_stt_audio *a = ctx;
        return a->read_at(a->ctx, off, buf, len);
}

static int read_chunk(void *ctx, uint64_t off, void *buf, size_t len)
{
        const struct job *j = ctx;
        return cb_wav_chunk_read(j->audio, j->wav, j->chunk, off, buf, len);
}

/* The message of OpenAI's {"error":{"message","type","code"}} answer into j->err. */
static void error_text(struct job *j, const struct cb_upstream_resp *resp)
{
        json_t *doc = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, NULL);
        json_t *e = json_object_get(doc, "error");
        const char *msg = json_string_value(json_object_get(e, "message"));
        const char *type = json_string_value(json_object_get(e, "type"));
        const char *code = json_string_value(json_object_get(e, "code"));

        if (msg == NULL && json_is_string(e))
                msg = json_string_value(e); /* some compatible servers */
        snprintf(j->err, sizeof(j->err), "openai answered %ld: %s%s%s%s%s%s", resp->status,
                 msg ? msg : "(no error message)", type || code ? " (" : "", type ? type : "",
                 type && code ? ", " : "", code ? code : "", type || code ? ")" : "");
        json_decref(doc);
}

/* Classify the answer of one request; on success j->answer holds the parsed body. */
static void classify(struct job *j, int rc, const struct cb_upstream_resp *resp)
{
        json_error_t jerr;

        if (rc != 0) {
                j->rc = CB_RESULT_RETRY;
                snprintf(j->err, sizeof(j->err), "openai unreachable: %s", resp->error);
        } else if (resp->status >= 200 && resp->status < 300) {
                j->answer = json_loadb(resp->body.data, resp->body.len, 0, &jerr);
                j->rc =
                    json_is_object(j->answer) && json_is_string(json_object_get(j->answer, "text"))
                        ? CB_RESULT_OK
                        : CB_RESULT_RETRY;
                if (j->rc != CB_RESULT_OK)
                        snprintf(j->err, sizeof(j->err),
                                 "openai answered %ld without a transcript object", resp->status);
        } else {
                error_text(j, resp);
                /* A rate limit is a wait (no attempt spent); an exhausted quota needs a
                 * person. */
                j->rc = resp->status == 429 && strstr(j->err, "insufficient_quota") == NULL
                            ? CB_RESULT_WAIT
                        : resp->status == 408 || resp->status >= 500 ? CB_RESULT_RETRY
                                                                     : CB_RESULT_FAIL;
                if (resp->status == 429 || resp->status == 503)
                        j->retry_after_s = cb_stt_retry_after(resp);
        }
        cb_stt_count_request(&j->o->counters, j->rc);
}

/* Transcribe one chunk (or the whole file); the pool calls it with the job array. */
static void run_job(void *ctx, size_t i)
{
        struct job *j = &((struct job *)ctx)[i];
        struct openai *o = j->o;
        struct cb_upstream_part parts[7];
        struct cb_upstream_req req = {.service = "openai",
                                      .method = "POST",
                                      .url = o->url,
                                      .headers = {o->auth, "Accept: application/json"},
                                      .timeout_ms = o->timeout_ms,
                                      .parts = parts};
        struct cb_upstream_resp resp;
        size_t n = 0;
        int rc;

        parts[n++] = (struct cb_upstream_part){
            .name = "file",
            .filename = j->filename,
            .content_type = j->chunk ? "audio/wav" : j->audio->content_type,
            .size = j->chunk ? CB_WAV_HEADER_LEN + j->chunk->len : j->audio->size,
            .read_at = j->chunk ? read_chunk : read_whole,
            .ctx = j->chunk ? (void *)j : (void *)j->audio};
        parts[n++] = (struct cb_upstream_part){.name = "model", .value = o->model};
        if (j->language != NULL && j->language[0] != '\0')
                parts[n++] = (struct cb_upstream_part){.name = "language", .value = j->language};
        parts[n++] = (struct cb_upstream_part){.name = "response_format", .value = "verbose_json"};
        parts[n++] =
            (struct cb_upstream_part){.name = "timestamp_granularities[]", .value = "segment"};
        if (j->prompt != NULL)
                parts[n++] = (struct cb_upstream_part){.name = "prompt", .value = j->prompt};
        req.n_parts = n;
        rc = cb_upstream_perform(&req, &resp);
        classify(j, rc, &resp);
        cb_upstream_resp_free(&resp);
}

/* The keyword hints as one prompt ("Acme, Pro plan, ..."), capped; NULL when none. */
static char *make_prompt(const char *const *phrases)
{
        struct cb_buf b = {.max = MAX_PROMPT + 1};

        for (size_t i = 0; phrases != NULL && phrases[i] != NULL; i++) {
                if (cb_buf_printf(&b, "%s%s", b.len ? ", " : "", phrases[i]) != 0)
                        break; /* over the cap: the hints so far */
        }
        return b.data;
}

/* Append the segments of chunk answer `a` to `result`, times shifted by `offset` s; the
 * chunk's text joins result's text with a space. -1 when out of memory. */
static int join_answer(json_t *result, const json_t *a, double offset, struct cb_buf *text)
{
        json_t *segs = json_object_get(result, "segments");
        json_t *in = json_object_get(a, "segments");
        const char *t = json_string_value(json_object_get(a, "text"));
        json_t *seg;
        size_t i;

        while (t != NULL && *t == ' ')
                t++;
        if (t != NULL && *t != '\0' && cb_buf_printf(text, "%s%s", text->len ? " " : "", t) != 0)
                return -1;
        if (!json_is_array(in) || json_array_size(in) == 0) {
                /* A compatible server without segments: the chunk is one segment. */
                double d = json_number_value(json_object_get(a, "duration"));
                return t == NULL || *t == '\0'
                           ? 0
                           : json_array_append_new(segs, json_pack("{s:f,s:f,s:s}", "start", offset,
                                                                   "end", offset + d, "text", t));
        }
        json_array_foreach(in, i, seg)
        {
                const char *st = json_string_value(json_object_get(seg, "text"));
                json_t *out =
                    json_pack("{s:f,s:f,s:s}", "start",
                              offset + json_number_value(json_object_get(seg, "start")), "end",
                              offset + json_number_value(json_object_get(seg, "end")), "text",
                              st ? st + strspn(st, " ") : "");
                if (json_array_append_new(segs, out) != 0)
                        return -1;
        }
        return 0;
}

/* verbose_json names the language ("english"); the result carries ISO 639-1. NULL when the
 * name is not one we know (the request's language is then reported). */
static const char *iso_language(const char *name)
{
        static const char *const map[][2] = {
            {"english", "en"}, {"spanish", "es"},    {"french", "fr"},  {"german", "de"},
            {"italian", "it"}, {"portuguese", "pt"}, {"dutch", "nl"},   {"japanese", "ja"},
            {"chinese", "zh"}, {"korean", "ko"},     {"russian", "ru"}, {"polish", "pl"}};

        if (name != NULL && strlen(name) == 2)
                return name;
        for (size_t i = 0; name != NULL && i < CB_ARRAY_LEN(map); i++)
                if (strcmp(name, map[i][0]) == 0)
                        return map[i][1];
        return NULL;
}

/* Build the result from the answers of `n` jobs in order. NULL when out of memory. */
static json_t *join_all(struct openai *o, struct job *jobs, size_t n, double wav_duration)
{
        json_t *result = cb_stt_result_new("openai", o->model, NULL);
        struct cb_buf text = {.max = (size_t)64 * 1024 * 1024};
        const char *lang =
            iso_language(json_string_value(json_object_get(jobs[0].answer, "language")));
        double duration = 0;

        for (size_t i = 0; result != NULL && i < n; i++) {
                double offset = jobs[i].chunk ? jobs[i].chunk->start_s : 0;
                duration += json_number_value(json_object_get(jobs[i].answer, "duration"));
                if (join_answer(result, jobs[i].answer, offset, &text) != 0) {
                        json_decref(result);
                        result = NULL;
                }
        }
        if (result != NULL &&
            (json_object_set_new(result, "text", json_string(text.data ? text.data : "")) != 0 ||
             json_object_set_new(result, "language",
                                 lang ? json_string(lang)
                                      : json_string(jobs[0].language ? jobs[0].language : "")) !=
                 0 ||
             json_object_set_new(result, "duration_s",
                                 json_real(wav_duration > 0 ? wav_duration : duration)) != 0 ||
             json_object_set_new(result, "chunks", json_integer((json_int_t)n)) != 0)) {
                json_decref(result);
                result = NULL;
        }
        cb_buf_free(&text);
        return result;
}

/* Decide how the audio is sent: whole (*n 1, *chunks NULL) or as WAV chunks. FAIL with
 * `err` when it is too large and cannot be cut. */
static enum cb_result plan(struct openai *o, const struct cb_stt_audio *audio,
                           struct cb_wav_info *wav, struct cb_wav_chunk **chunks, size_t *n,
                           char *err, size_t err_size)
{
        const char *ext = cb_stt_extension(audio->content_type);
        char why[256] = "";

        *chunks = NULL;
        *n = 1;
        if (ext == NULL) {
                snprintf(err, err_size, "openai: audio of type %s cannot be transcribed",
                         audio->content_type ? audio->content_type : "(none)");
                return CB_RESULT_FAIL;
        }
        if (audio->size <= o->chunk_bytes)
                return CB_RESULT_OK;
        if (strcmp(ext, "wav") != 0 || cb_wav_parse(audio, wav, why, sizeof(why)) != 0) {
                snprintf(err, err_size,
                         "openai: the recording is %llu bytes, over the %llu-byte limit per "
                         "request, and only PCM WAV can be cut into chunks here%s%s",
                         (unsigned long long)audio->size, OPENAI_MAX_BYTES, why[0] ? ": " : "",
                         why);
                return CB_RESULT_FAIL;
        }
        *n = cb_wav_plan(wav, o->chunk_bytes - CB_WAV_HEADER_LEN, chunks);
        if (*n == 0) {
                snprintf(err, err_size, "openai: the WAV file holds no audio (or out of memory)");
                return CB_RESULT_FAIL;
        }
        return CB_RESULT_OK;
}

/* The outcome of the jobs: the first FAIL, else a RETRY, else a WAIT (with the longest
 * Retry-After), else OK. */
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
                        if (n > 1)
                                snprintf(err, err_size, "chunk %zu of %zu: %s", i + 1, n,
                                         jobs[i].err);
                        else
                                snprintf(err, err_size, "%s", jobs[i].err);
                }
        }
        return rc;
}

static enum cb_result openai_transcribe(void *self, const struct cb_stt_audio *audio,
                                        const struct cb_stt_request *req, json_t **result,
                                        long *retry_after_s, char *err, size_t err_size)
{
        struct openai *o = self;
        struct cb_wav_info wav = {0};
        struct cb_wav_chunk *chunks = NULL;
        struct job *jobs = NULL;
        char *prompt = make_prompt(req ? req->phrases : NULL);
        char filename[32];
        size_t n = 0;
        enum cb_result rc;

        *result = NULL;
        *retry_after_s = 0;
        rc = plan(o, audio, &wav, &chunks, &n, err, err_size);
        if (rc != CB_RESULT_OK)
                goto out;
        jobs = calloc(n, sizeof(*jobs));
        if (jobs == NULL) {
                rc = CB_RESULT_RETRY;
                snprintf(err, err_size, "openai: out of memory");
                goto out;
        }
        snprintf(filename, sizeof(filename), "audio.%s",
                 chunks ? "wav" : cb_stt_extension(audio->content_type));
        for (size_t i = 0; i < n; i++)
                jobs[i] =
                    (struct job){.o = o,
                                 .audio = audio,
                                 .wav = &wav,
                                 .chunk = chunks ? &chunks[i] : NULL,
                                 .language = req && req->language ? req->language : o->language,
                                 .prompt = prompt,
                                 .filename = filename};
        cb_stt_pool_run(o->pool, n, o->parallel, run_job, jobs);
        rc = outcome(jobs, n, retry_after_s, err, err_size);
        if (rc == CB_RESULT_OK) {
                *result = join_all(o, jobs, n, chunks ? cb_wav_duration(&wav) : 0);
                if (*result == NULL) {
                        rc = CB_RESULT_RETRY;
                        snprintf(err, err_size, "openai: out of memory joining the chunks");
                }
        }
out:
        cb_stt_count_transcription(
            &o->counters, rc,
            *result ? json_number_value(json_object_get(*result, "duration_s")) : 0, n);
        for (size_t i = 0; jobs != NULL && i < n; i++)
                json_decref(jobs[i].answer);
        free(jobs);
        free(chunks);
        free(prompt);
        return rc;
}

static void openai_metrics(void *self, struct cb_buf *out)
{
        struct openai *o = self;
        cb_stt_counters_write(&o->counters, "openai", out);
}

const struct cb_stt_ops cb_stt_openai = {
    .name = "openai",
    .create = openai_create,
    .destroy = openai_destroy,
    .transcribe = openai_transcribe,
    .metrics = openai_metrics,
};
