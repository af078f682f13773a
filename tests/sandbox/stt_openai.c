/* callbridge-sandbox: OpenAI POST /v1/audio/transcriptions. The Bearer key is checked against
 * --openai-api-key-file, the multipart body parsed for real (file and model required;
 * language, prompt, response_format json|text|verbose_json|srt|vtt, timestamp
 * granularities), the file type checked by its extension like OpenAI does, and a body over
 * 25 MiB answered with OpenAI's own 413. The transcript is the seeded text for the file's
 * SHA-256 (see stt_state.c); verbose_json gives one segment spanning the WAV's duration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "stt_emu.h"

static const char *const formats[] = {"flac", "m4a", "mp3", "mp4", "mpeg",
                                      "mpga", "oga", "ogg", "wav", "webm"};

/* {"error":{"message","type","param":null,"code"}} with `status`. */
static void openai_error(struct sb_reply *reply, unsigned int status, const char *type,
                         const char *code, const char *msg)
{
        sb_reply_json_take(reply, status,
                           json_pack("{s:{s:s,s:s,s:n,s:s?}}", "error", "message", msg, "type",
                                     type, "param", "code", code));
}

static void fault_reply(enum sb_fault fault, const struct sb_request *req, struct sb_reply *reply)
{
        long secs, ms;
        char v[32];

        if (fault != SB_FAULT_RATE_LIMIT) {
                openai_error(reply, 500, "server_error", NULL,
                             "The server had an error while processing your request. Sorry "
                             "about that!");
                return;
        }
        openai_error(reply, 429, "requests", "rate_limit_exceeded",
                     "Rate limit reached for whisper-1 in organization org-sandbox on requests "
                     "per min (RPM): Limit 50, Used 50, Requested 1. Please try again later.");
        sb_stt_retry_after(&secs, &ms);
        if (secs > 0) {
                snprintf(v, sizeof(v), "%ld", secs);
                sb_reply_header(reply, "retry-after", v);
        }
        if (ms > 0) {
                snprintf(v, sizeof(v), "%ld", ms);
                sb_reply_header(reply, "retry-after-ms", v);
        }
}

static void too_large(const struct sb_request *req, struct sb_reply *reply)
{
        char msg[160];

        snprintf(msg, sizeof(msg),
                 "Maximum content size limit (26214400) exceeded (%llu bytes read)",
                 (unsigned long long)req->body_seen);
        openai_error(reply, 413, "server_error", NULL, msg);
}

const struct sb_upstream sb_stt_openai_upstream = {.name = "openai",
                                                   .fault_reply = fault_reply,
                                                   .too_large_reply = too_large,
                                                   .extra_latency_ms = sb_stt_latency_ms};

/* The Bearer key: true when it is the configured one (any key without one). */
static bool key_ok(const struct sb_request *req, struct sb_reply *reply)
{
        const char *auth = sb_request_header(req, "Authorization");
        const char *want = req->cfg->openai_api_key;
        char msg[256];

        if (auth == NULL || strncmp(auth, "Bearer ", 7) != 0 || auth[7] == '\0') {
                openai_error(reply, 401, "invalid_request_error", NULL,
                             "You didn't provide an API key. You need to provide your API key in "
                             "an Authorization header using Bearer auth (i.e. Authorization: "
                             "Bearer YOUR_KEY), or as the password field (with blank username) "
                             "if you're accessing the API from your browser and are prompted "
                             "for a username and password. You can obtain an API key from "
                             "https://platform.openai.com/account/api-keys.");
                return false;
        }
        if (want == NULL || strcmp(auth + 7, want) == 0)
                return true;
        snprintf(msg, sizeof(msg),
                 "Incorrect API key provided: %.3s***%s. You can find your API key at "
                 "https://platform.openai.com/account/api-keys.",
                 auth + 7, strlen(auth + 7) > 4 ? auth + 7 + strlen(auth + 7) - 4 : "");
        openai_error(reply, 401, "invalid_request_error", "invalid_api_key", msg);
        return false;
}

/* The form fields by name (last wins), as a JSON object of strings; the file part apart. */
static json_t *fields_of(const struct sb_part *parts, int n, const struct sb_part **file,
                         json_t **granularities)
{
        json_t *f = json_object();

        *file = NULL;
        *granularities = json_array();
        for (int i = 0; f && i < n; i++) {
                char name[64];
                json_t *v;

                if (parts[i].name_len >= sizeof(name))
                        continue;
                memcpy(name, parts[i].name, parts[i].name_len);
                name[parts[i].name_len] = '\0';
                if (strcmp(name, "file") == 0) {
                        *file = &parts[i];
                        continue;
                }
                v = json_stringn_nocheck((const char *)parts[i].data, parts[i].len);
                if (strcmp(name, "timestamp_granularities[]") == 0)
                        json_array_append_new(*granularities, v);
                else
                        json_object_set_new(f, name, v);
        }
        return f;
}

/* True when the file name's extension is one OpenAI takes; `ext` gets it. */
static bool format_ok(const struct sb_part *file, char *ext, size_t size)
{
        const char *dot = NULL;

        ext[0] = '\0';
        for (size_t i = 0; file->filename && i < file->filename_len; i++)
                if (file->filename[i] == '.')
                        dot = file->filename + i + 1;
        if (dot == NULL || (size_t)(file->filename + file->filename_len - dot) >= size)
                return false;
        memcpy(ext, dot, (size_t)(file->filename + file->filename_len - dot));
        ext[file->filename + file->filename_len - dot] = '\0';
        for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
                if (strcasecmp(ext, formats[i]) == 0)
                        return true;
        return false;
}

/* "00:00:01,500" (srt) or "00:00:01.500" (vtt). */
static void timestamp(double s, char sep, char *out, size_t size)
{
        long ms = (long)(s * 1000 + 0.5);

        snprintf(out, size, "%02ld:%02ld:%02ld%c%03ld", ms / 3600000, ms / 60000 % 60,
                 ms / 1000 % 60, sep, ms % 1000);
}

/* Answer `text` of `duration` seconds in `format`. */
static void answer(struct sb_reply *reply, const char *format, const char *text, double duration,
                   const char *language)
{
        char a[32], b[32], *body = NULL;
        int n = -1;

        if (strcmp(format, "json") == 0) {
                sb_reply_json_take(reply, 200, json_pack("{s:s}", "text", text));
        } else if (strcmp(format, "verbose_json") == 0) {
                sb_reply_json_take(
                    reply, 200,
                    json_pack("{s:s,s:s,s:f,s:s,s:[{s:i,s:i,s:f,s:f,s:s,s:[],s:f,s:f,s:f,s:f}]}",
                              "task", "transcribe", "language", language, "duration", duration,
                              "text", text, "segments", "id", 0, "seek", 0, "start", 0.0, "end",
                              duration, "text", text, "tokens", "temperature", 0.0, "avg_logprob",
                              -0.25, "compression_ratio", 1.2, "no_speech_prob", 0.01));
        } else if (strcmp(format, "text") == 0) {
                n = asprintf(&body, "%s\n", text);
        } else {
                char sep = strcmp(format, "srt") == 0 ? ',' : '.';
                timestamp(0, sep, a, sizeof(a));
                timestamp(duration, sep, b, sizeof(b));
                n = sep == ',' ? asprintf(&body, "1\n%s --> %s\n%s\n\n", a, b, text)
                               : asprintf(&body, "WEBVTT\n\n%s --> %s\n%s\n\n", a, b, text);
        }
        if (n >= 0)
                sb_reply_data(reply, 200, "text/plain; charset=utf-8", body, (size_t)n);
        free(body);
}

/* The language name verbose_json reports for an ISO 639-1 code ("en" → "english"). */
static const char *language_name(const char *code)
{
        static const char *const names[][2] = {
            {"en", "english"}, {"es", "spanish"},    {"fr", "french"}, {"de", "german"},
            {"it", "italian"}, {"pt", "portuguese"}, {"nl", "dutch"},  {"ja", "japanese"}};

        for (size_t i = 0; code && i < sizeof(names) / sizeof(names[0]); i++)
                if (strcmp(code, names[i][0]) == 0)
                        return names[i][1];
        return "english";
}

/* True when the form has a file part with a file name; else answers 400 as OpenAI does. */
static bool file_ok(const struct sb_part *file, struct sb_reply *reply)
{
        if (file != NULL && file->filename != NULL)
                return true;
        openai_error(reply, 400, "invalid_request_error", NULL,
                     "1 validation error for Request\nbody -> file\n  field required "
                     "(type=value_error.missing)");
        return false;
}

/* Check the rest of the form (file_ok first); on a problem fill `reply` and return false. */
static bool form_ok(json_t *fields, const struct sb_part *file, const char **format,
                    struct sb_reply *reply)
{
        const char *model = json_string_value(json_object_get(fields, "model"));
        static const char *const allowed[] = {"json", "text", "verbose_json", "srt", "vtt"};
        char ext[16], msg[160];

        if (model == NULL || model[0] == '\0') {
                openai_error(reply, 400, "invalid_request_error", NULL,
                             "you must provide a model parameter");
                return false;
        }
        *format = json_string_value(json_object_get(fields, "response_format"));
        if (*format == NULL)
                *format = "json";
        for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
                if (strcmp(*format, allowed[i]) == 0)
                        goto format_known;
        snprintf(msg, sizeof(msg),
                 "'%.40s' is not one of ['json', 'text', 'srt', 'verbose_json', 'vtt'] - "
                 "'response_format'",
                 *format);
        openai_error(reply, 400, "invalid_request_error", NULL, msg);
        return false;
format_known:
        if (!format_ok(file, ext, sizeof(ext))) {
                openai_error(reply, 400, "invalid_request_error", NULL,
                             "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', "
                             "'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']");
                return false;
        }
        return true;
}

/* What the request was, for GET /__sandbox/state "stt.recent". */
static json_t *describe(json_t *fields, json_t *granularities, const struct sb_part *file,
                        const char *sha, const struct sb_wav *wav, bool is_wav, size_t body_len)
{
        json_t *d = json_pack(
            "{s:s,s:O,s:O,s:s#,s:s#,s:I,s:I,s:s}", "api", "openai", "fields", fields,
            "timestamp_granularities", granularities, "filename", file->filename,
            (int)file->filename_len, "content_type", file->content_type ? file->content_type : "",
            (int)(file->content_type ? file->content_type_len : 0), "file_bytes",
            (json_int_t)file->len, "request_bytes", (json_int_t)body_len, "sha256", sha);

        if (d != NULL && is_wav)
                json_object_set_new(d, "wav",
                                    json_pack("{s:i,s:i,s:i,s:I,s:f}", "channels", wav->channels,
                                              "rate", (int)wav->rate, "bits", wav->bits,
                                              "data_bytes", (json_int_t)wav->data_len, "seconds",
                                              sb_stt_wav_seconds(wav)));
        return d;
}

void sb_stt_openai_transcribe(const struct sb_request *req, struct sb_reply *reply)
{
        struct sb_part parts[SB_MAX_PARTS];
        const struct sb_part *file = NULL;
        json_t *fields = NULL, *gran = NULL;
        const char *format = NULL;
        struct sb_wav wav;
        char why[128], sha[65];
        char *text = NULL;
        bool is_wav;
        int n;

        if (!key_ok(req, reply))
                return;
        n = sb_multipart_parse(sb_request_header(req, "Content-Type"), req->body, req->body_len,
                               parts, why, sizeof(why));
        if (n < 0) {
                openai_error(reply, 400, "invalid_request_error", NULL, why);
                return;
        }
        fields = fields_of(parts, n, &file, &gran);
        if (fields == NULL || gran == NULL || !file_ok(file, reply) ||
            !form_ok(fields, file, &format, reply))
                goto out;
        is_wav = sb_stt_wav(file->data, file->len, &wav);
        if (!is_wav && file->filename_len > 4 &&
            strncasecmp(file->filename + file->filename_len - 4, ".wav", 4) == 0) {
                openai_error(reply, 400, "invalid_request_error", NULL,
                             "Audio file might be corrupted or unsupported");
                goto out;
        }
        text = sb_stt_text_for(file->data, file->len, sha);
        if (text == NULL) {
                sb_reply_error(reply, 500, "internal", "out of memory");
                goto out;
        }
        sb_stt_remember_take(describe(fields, gran, file, sha, &wav, is_wav, req->body_len));
        answer(reply, format, text, is_wav ? sb_stt_wav_seconds(&wav) : 1.0,
               language_name(json_string_value(json_object_get(fields, "language"))));
out:
        free(text);
        json_decref(fields);
        json_decref(gran);
}
