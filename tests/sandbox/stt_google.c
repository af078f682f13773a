/* callbridge-sandbox: Google Speech-to-Text v1 POST /v1/speech:recognize and the token
 * endpoint of service accounts (POST /google/oauth2/token, JWT bearer grant checked against
 * --google-sa-cert-file). Recognize takes ?key= (--google-api-key-file) or a Bearer token it
 * issued, validates config (encoding, sampleRateHertz and audioChannelCount against the WAV
 * header, languageCode) and refuses audio over 60 s with Google's own message. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbridge/util.h"
#include "sf_emu.h"
#include "stt_emu.h"

#define TOKEN_TTL_S 3600
#define SCOPE       "https://www.googleapis.com/auth/cloud-platform"

static void google_error(struct sb_reply *reply, unsigned int status, const char *gstatus,
                         const char *msg)
{
        sb_reply_json_take(reply, status,
                           json_pack("{s:{s:i,s:s,s:s}}", "error", "code", (int)status, "message",
                                     msg, "status", gstatus));
}

static void fault_reply(enum sb_fault fault, const struct sb_request *req, struct sb_reply *reply)
{
        long secs, ms;
        char v[32];

        if (fault != SB_FAULT_RATE_LIMIT) {
                google_error(reply, 503, "UNAVAILABLE", "The service is currently unavailable.");
                return;
        }
        google_error(reply, 429, "RESOURCE_EXHAUSTED",
                     "Quota exceeded for quota metric 'Requests' and limit 'Requests per "
                     "minute' of service 'speech.googleapis.com'.");
        sb_stt_retry_after(&secs, &ms);
        if (secs > 0) {
                snprintf(v, sizeof(v), "%ld", secs);
                sb_reply_header(reply, "Retry-After", v);
        }
}

const struct sb_upstream sb_stt_google_upstream = {
    .name = "google", .fault_reply = fault_reply, .extra_latency_ms = sb_stt_latency_ms};

/* ---- token endpoint ---------------------------------------------------------------------- */

/* Why the assertion is refused, or NULL when it is good. */
static const char *assertion_problem(const struct sb_request *req, const char *jwt)
{
        const char *d1 = strchr(jwt, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
        json_t *claims = NULL;
        const char *why = NULL, *aud, *scope;
        double exp, iat, now = (double)time(NULL);

        if (d2 == NULL || strchr(d2 + 1, '.') != NULL)
                return "Invalid JWT: Token must be a short-lived token and in a reasonable "
                       "timeframe";
        if (!sf_jwt_rs256_ok(req->cfg->google_sa_key, jwt, (size_t)(d2 - jwt), d2 + 1))
                return "Invalid JWT Signature.";
        claims = sf_jwt_part(d1 + 1, (size_t)(d2 - d1 - 1));
        aud = json_string_value(json_object_get(claims, "aud"));
        scope = json_string_value(json_object_get(claims, "scope"));
        exp = json_number_value(json_object_get(claims, "exp"));
        iat = json_number_value(json_object_get(claims, "iat"));
        if (claims == NULL || !json_is_string(json_object_get(claims, "iss")))
                why = "Invalid JWT: iss is missing";
        else if (aud == NULL || strstr(aud, "/google/oauth2/token") == NULL)
                why = "Invalid JWT audience.";
        else if (scope == NULL || strstr(scope, SCOPE) == NULL)
                why = "Invalid OAuth scope or ID token audience provided.";
        else if (exp < now || iat > now + 60 || exp - iat > 3600)
                why = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
                      "reasonable timeframe. Check your iat and exp values in the JWT claim.";
        json_decref(claims);
        return why;
}

void sb_stt_google_token(const struct sb_request *req, struct sb_reply *reply)
{
        char *grant = sf_form_get(req->body, "grant_type");
        char *jwt = sf_form_get(req->body, "assertion");
        const char *why = NULL;
        char token[64];

        if (grant == NULL || strcmp(grant, "urn:ietf:params:oauth:grant-type:jwt-bearer") != 0)
                why = "Invalid grant_type: ";
        else if (jwt == NULL)
                why = "Missing required parameter: assertion";
        else
                why = assertion_problem(req, jwt);
        if (why != NULL)
                sb_reply_json_take(reply, 400,
                                   json_pack("{s:s,s:s}", "error",
                                             grant && jwt ? "invalid_grant" : "invalid_request",
                                             "error_description", why));
        else if (!sb_stt_token_issue(TOKEN_TTL_S, token))
                sb_reply_error(reply, 500, "internal", "out of memory");
        else
                sb_reply_json_take(reply, 200,
                                   json_pack("{s:s,s:i,s:s}", "access_token", token, "expires_in",
                                             TOKEN_TTL_S - 1, "token_type", "Bearer"));
        free(grant);
        free(jwt);
}

/* ---- speech:recognize -------------------------------------------------------------------- */

/* "key" or "bearer" when the request is authorised, else NULL after filling `reply`. */
static const char *authorised(const struct sb_request *req, struct sb_reply *reply)
{
        const char *key = sb_request_query(req, "key");
        const char *auth = sb_request_header(req, "Authorization");

        if (key != NULL) {
                if (req->cfg->google_api_key != NULL && strcmp(key, req->cfg->google_api_key) == 0)
                        return "key";
                google_error(reply, 400, "INVALID_ARGUMENT",
                             "API key not valid. Please pass a valid API key.");
                return NULL;
        }
        if (auth != NULL && strncmp(auth, "Bearer ", 7) == 0) {
                if (sb_stt_token_valid(auth + 7))
                        return "bearer";
                google_error(reply, 401, "UNAUTHENTICATED",
                             "Request had invalid authentication credentials. Expected OAuth 2 "
                             "access token, login cookie or other valid authentication "
                             "credential. See https://developers.google.com/identity/sign-in/web/"
                             "devconsole-project.");
                return NULL;
        }
        google_error(reply, 403, "PERMISSION_DENIED",
                     "Method doesn't allow unregistered callers (callers without established "
                     "identity). Please use API Key or other form of API consumer identity to "
                     "call this API.");
        return NULL;
}

static bool encoding_known(const char *e)
{
        static const char *const v1[] = {
            "ENCODING_UNSPECIFIED",   "LINEAR16", "FLAC", "MULAW", "AMR", "AMR_WB", "OGG_OPUS",
            "SPEEX_WITH_HEADER_BYTE", "WEBM_OPUS"};

        for (size_t i = 0; i < sizeof(v1) / sizeof(v1[0]); i++)
                if (strcmp(e, v1[i]) == 0)
                        return true;
        return false;
}

/* Check config against the audio; the seconds of audio into *secs. False after `reply`. */
static bool config_ok(json_t *cfg, const unsigned char *audio, size_t len, double *secs,
                      struct sb_wav *wav, struct sb_reply *reply)
{
        const char *enc = json_string_value(json_object_get(cfg, "encoding"));
        json_int_t rate = json_integer_value(json_object_get(cfg, "sampleRateHertz"));
        json_t *ch = json_object_get(cfg, "audioChannelCount");
        json_int_t channels = ch ? json_integer_value(ch) : 1;
        const char *lang = json_string_value(json_object_get(cfg, "languageCode"));
        char msg[256];

        if (enc != NULL && !encoding_known(enc)) {
                snprintf(msg, sizeof(msg),
                         "Invalid value at 'config.encoding' (type.googleapis.com/"
                         "google.cloud.speech.v1.RecognitionConfig.AudioEncoding), \"%.40s\"",
                         enc);
                google_error(reply, 400, "INVALID_ARGUMENT", msg);
                return false;
        }
        if (lang == NULL || lang[0] == '\0') {
                google_error(reply, 400, "INVALID_ARGUMENT",
                             "Invalid recognition 'config': missing language_code.");
                return false;
        }
        if (sb_stt_wav(audio, len, wav)) {
                if (rate != 0 && rate != (json_int_t)wav->rate) {
                        snprintf(msg, sizeof(msg),
                                 "sample_rate_hertz (%lld) in RecognitionConfig must either be "
                                 "unspecified or match the value in the WAV header (%u).",
                                 (long long)rate, wav->rate);
                        google_error(reply, 400, "INVALID_ARGUMENT", msg);
                        return false;
                }
                if (channels != wav->channels) {
                        snprintf(msg, sizeof(msg),
                                 "Must use single channel (mono) audio, but WAV header indicates "
                                 "%u channels.",
                                 wav->channels);
                        google_error(reply, 400, "INVALID_ARGUMENT", msg);
                        return false;
                }
                *secs = sb_stt_wav_seconds(wav);
        } else if (enc != NULL && strcmp(enc, "LINEAR16") == 0 && rate > 0 && channels > 0) {
                *secs = (double)len / (2.0 * (double)channels * (double)rate);
        } else {
                *secs = 1.0; /* compressed audio: duration unknown to the sandbox */
        }
        if (*secs > 60.0) {
                google_error(reply, 400, "INVALID_ARGUMENT",
                             "Sync input too long. For audio longer than 1 min use "
                             "LongRunningRecognize with a 'uri' parameter.");
                return false;
        }
        return true;
}

/* The base64 audio.content decoded (malloc'd, *len); NULL after filling `reply`. */
static unsigned char *audio_of(json_t *doc, size_t *len, struct sb_reply *reply)
{
        json_t *content = json_object_get(json_object_get(doc, "audio"), "content");
        const char *b64 = json_string_value(content);
        size_t cap = b64 ? json_string_length(content) / 4 * 3 + 3 : 0;
        unsigned char *out = b64 ? malloc(cap + 1) : NULL;
        long n = out ? cb_base64_decode(b64, out, cap) : -1;

        if (n < 0) {
                free(out);
                google_error(reply, 400, "INVALID_ARGUMENT",
                             b64 ? "Invalid value at 'audio.content' (TYPE_BYTES), Base64 "
                                   "decoding failed"
                                 : "RecognitionAudio not set.");
                return NULL;
        }
        *len = (size_t)n;
        return out;
}

void sb_stt_google_recognize(const struct sb_request *req, struct sb_reply *reply)
{
        const char *how = authorised(req, reply);
        json_t *doc = NULL, *cfg, *seen;
        unsigned char *audio = NULL;
        struct sb_wav wav = {0};
        char sha[65], end[32], *text = NULL;
        double secs = 0;
        size_t len = 0;

        if (how == NULL || (doc = sb_request_json(req, reply)) == NULL)
                return;
        cfg = json_object_get(doc, "config");
        if (!json_is_object(cfg)) {
                google_error(reply, 400, "INVALID_ARGUMENT", "RecognitionConfig not set.");
                goto out;
        }
        audio = audio_of(doc, &len, reply);
        if (audio == NULL || !config_ok(cfg, audio, len, &secs, &wav, reply))
                goto out;
        text = sb_stt_text_for(audio, len, sha);
        if (text == NULL) {
                sb_reply_error(reply, 500, "internal", "out of memory");
                goto out;
        }
        seen = json_pack("{s:s,s:s,s:O,s:I,s:s,s:f}", "api", "google", "auth", how, "config", cfg,
                         "audio_bytes", (json_int_t)len, "sha256", sha, "seconds", secs);
        sb_stt_remember_take(seen);
        snprintf(end, sizeof(end), "%.3fs", secs);
        sb_reply_json_take(reply, 200,
                           json_pack("{s:[{s:[{s:s,s:f}],s:s,s:s}],s:s,s:s}", "results",
                                     "alternatives", "transcript", text, "confidence", 0.92,
                                     "resultEndTime", end, "languageCode",
                                     json_string_value(json_object_get(cfg, "languageCode")),
                                     "totalBilledTime", end, "requestId", "sandbox"));
out:
        free(text);
        free(audio);
        json_decref(doc);
}
