/* callbridge-sandbox: Twilio recordings.
 *
 *   GET    /2010-04-01/Accounts/{AC}/Recordings/{RE}.json  Recording JSON
 *   DELETE /2010-04-01/Accounts/{AC}/Recordings/{RE}.json  204; afterwards everything is 404
 *   GET    /2010-04-01/Accounts/{AC}/Recordings/{RE}[.wav] 302 to a signed /__media/ URL
 *   GET    /__media/{RE}.wav?Expires=<unix>&Signature=<hex>  the audio/x-wav bytes, no auth
 *
 * The REST routes need Basic auth. Media is the seeded recording of that sid when there is
 * one, else a generated 8 kHz mono 16-bit PCM tone of RecordingDuration seconds. .mp3 and
 * other formats answer 404 20404. Media links are HMAC-SHA256 signed with a key made at start
 * and expire after MEDIA_TTL_S. */
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbridge/crypto.h"
#include "callbridge/util.h"
#include "tw_emu.h"

#define MEDIA_TTL_S  600
#define WAV_RATE     8000
#define WAV_HEADER   44
#define MEDIA_PREFIX "/__media/"

static unsigned char media_key[32];

int tw_media_init(void)
{
        return RAND_bytes(media_key, sizeof(media_key)) == 1 ? 0 : -1;
}

/* Hex HMAC-SHA256 of "<sid>:<expires>" into `out` (65 bytes). */
static void media_sign(const char *sid, long long expires, char out[65])
{
        unsigned char mac[32];
        unsigned int len = 0;
        char msg[64];

        snprintf(msg, sizeof(msg), "%s:%lld", sid, expires);
        HMAC(EVP_sha256(), media_key, sizeof(media_key), (const unsigned char *)msg, strlen(msg),
             mac, &len);
        cb_hex(mac, sizeof(mac), out);
}

json_t *tw_recording_json_locked(json_t *rec)
{
        const char *sid = json_string_value(json_object_get(rec, "sid"));
        const char *ac = json_string_value(json_object_get(rec, "account_sid"));
        char base[128], dur[32];

        snprintf(base, sizeof(base), TW_PREFIX "%s/Recordings/%s", ac ? ac : "", sid ? sid : "");
        snprintf(dur, sizeof(dur), "%lld",
                 (long long)json_integer_value(json_object_get(rec, "duration")));
        return json_pack(
            "{s:O,s:s,s:O,s:n,s:i,s:O,s:O,s:O,s:n,s:s,s:s,s:O,s:s,s:s,s:n,s:s+,"
            "s:{s:s+,s:s+},s:n,s:s++}",
            "account_sid", json_object_get(rec, "account_sid"), "api_version", TW_API_VERSION,
            "call_sid", json_object_get(rec, "call_sid"), "conference_sid", "channels", 1,
            "date_created", json_object_get(rec, "date_created"), "date_updated",
            json_object_get(rec, "date_created"), "start_time", json_object_get(rec, "start_time"),
            "price", "price_unit", "USD", "duration", dur, "sid", json_object_get(rec, "sid"),
            "source", "OutboundAPI", "status", "completed", "error_code", "uri", base, ".json",
            "subresource_uris", "add_on_results", base, "/AddOnResults.json", "transcriptions",
            base, "/Transcriptions.json", "encryption_details", "media_url", tw_base_url(), base,
            "");
}

/* Auth, then the RE sid of the path and its extension. False after answering. */
static bool recording_path(const struct sb_request *req, struct sb_reply *reply,
                           char sid[TW_SID_LEN + 1], char ext[8])
{
        char account[TW_SID_LEN + 1];

        if (!tw_auth(req, reply, account))
                return false;
        if (!tw_path_sid(req->path, "RE", sid, ext)) {
                sb_tw_unrouted(req, reply);
                return false;
        }
        return true;
}

/* The live (not deleted) recording's copy, or NULL. */
static json_t *live_recording(const char *sid)
{
        json_t *rec, *copy = NULL;

        sb_state_lock();
        rec = tw_recording_find_locked(sid);
        if (rec && !json_is_true(json_object_get(rec, "deleted")))
                copy = json_deep_copy(rec);
        sb_state_unlock();
        return copy;
}

void sb_tw_recording_fetch(const struct sb_request *req, struct sb_reply *reply)
{
        char sid[TW_SID_LEN + 1], ext[8];
        json_t *rec, *out = NULL;

        if (!recording_path(req, reply, sid, ext))
                return;
        rec = live_recording(sid);
        if (rec)
                out = tw_recording_json_locked(rec); /* a private copy: no lock needed */
        json_decref(rec);
        if (out)
                sb_reply_json_take(reply, 200, out);
        else
                sb_tw_unrouted(req, reply);
}

void sb_tw_recording_delete(const struct sb_request *req, struct sb_reply *reply)
{
        char sid[TW_SID_LEN + 1], ext[8];
        json_t *rec;
        bool deleted = false;

        if (!recording_path(req, reply, sid, ext))
                return;
        sb_state_lock();
        rec = tw_recording_find_locked(sid);
        if (rec && !json_is_true(json_object_get(rec, "deleted"))) {
                json_object_set_new(rec, "deleted", json_true());
                tw_recording_deleted_locked();
                deleted = true;
        }
        sb_state_unlock();
        if (deleted)
                sb_reply_data(reply, 204, NULL, "", 0);
        else
                sb_tw_unrouted(req, reply);
}

/* True when media exists for `sid`: a live recording, or seeded audio for a sid that was
 * never deleted. */
static bool media_exists(const char *sid, long *duration)
{
        json_t *rec;
        bool found = false, deleted = false;
        unsigned char *data = NULL;
        size_t len = 0;

        *duration = -1;
        sb_state_lock();
        rec = tw_recording_find_locked(sid);
        if (rec) {
                deleted = json_is_true(json_object_get(rec, "deleted"));
                *duration = (long)json_integer_value(json_object_get(rec, "duration"));
                found = !deleted;
        }
        sb_state_unlock();
        if (!found && !deleted && sb_state_recording_dup(sid, &data, &len))
                found = true;
        free(data);
        return found;
}

void sb_tw_recording_media(const struct sb_request *req, struct sb_reply *reply)
{
        char sid[TW_SID_LEN + 1], ext[8], sig[65], loc[512];
        long long expires = (long long)time(NULL) + MEDIA_TTL_S;
        long duration;

        if (!recording_path(req, reply, sid, ext))
                return;
        if ((ext[0] && strcmp(ext, "wav") != 0) || !media_exists(sid, &duration)) {
                sb_tw_unrouted(req, reply); /* .mp3 is not emulated */
                return;
        }
        media_sign(sid, expires, sig);
        snprintf(loc, sizeof(loc), "%s" MEDIA_PREFIX "%s.wav?Expires=%lld&Signature=%s",
                 tw_base_url(), sid, expires, sig);
        sb_reply_data(reply, 302, NULL, "", 0);
        sb_reply_header(reply, "Location", loc);
}

/* A four-byte RIFF tag ("RIFF", "fmt ", ...): the bytes only, no NUL. */
static void put_tag(unsigned char *p, const char tag[4])
{
        for (int i = 0; i < 4; i++)
                p[i] = (unsigned char)tag[i];
}

static void put_le(unsigned char *p, uint32_t v, int bytes)
{
        for (int i = 0; i < bytes; i++)
                p[i] = (unsigned char)(v >> (8 * i));
}

/* A malloc'd WAV of `seconds` of a 400 Hz triangle tone; NULL when out of memory. */
static unsigned char *wav_tone(long seconds, size_t *len)
{
        size_t samples = (size_t)seconds * WAV_RATE;
        unsigned char *wav = malloc(WAV_HEADER + samples * 2);

        if (!wav)
                return NULL;
        put_tag(wav, "RIFF");
        put_le(wav + 4, (uint32_t)(36 + samples * 2), 4);
        put_tag(wav + 8, "WAVE");
        put_tag(wav + 12, "fmt ");
        put_le(wav + 16, 16, 4);
        put_le(wav + 20, 1, 2); /* PCM */
        put_le(wav + 22, 1, 2); /* mono */
        put_le(wav + 24, WAV_RATE, 4);
        put_le(wav + 28, WAV_RATE * 2, 4);
        put_le(wav + 32, 2, 2);
        put_le(wav + 34, 16, 2);
        put_tag(wav + 36, "data");
        put_le(wav + 40, (uint32_t)(samples * 2), 4);
        for (size_t i = 0; i < samples; i++) {
                int phase = (int)(i % 20); /* 8000 / 20 = 400 Hz */
                int v = (phase < 10 ? phase : 20 - phase) * 1200 - 6000;
                put_le(wav + WAV_HEADER + 2 * i, (uint32_t)(uint16_t)(int16_t)v, 2);
        }
        *len = WAV_HEADER + samples * 2;
        return wav;
}

/* Check ?Expires=&Signature= for `sid`; false after answering 403. */
static bool media_link_ok(const struct sb_request *req, struct sb_reply *reply, const char *sid)
{
        const char *exp = sb_request_query(req, "Expires"),
                   *sig = sb_request_query(req, "Signature");
        char want[65];
        long n;

        if (!exp || !sig || !cb_parse_long(exp, 0, 1L << 40, &n) || (long long)n < time(NULL) ||
            strlen(sig) != 64) {
                sb_reply_error(reply, 403, "forbidden", "missing, expired or invalid media link");
                return false;
        }
        media_sign(sid, n, want);
        if (!cb_ct_equal(want, sig, 64)) {
                sb_reply_error(reply, 403, "forbidden", "missing, expired or invalid media link");
                return false;
        }
        return true;
}

void sb_tw_media(const struct sb_request *req, struct sb_reply *reply)
{
        char sid[TW_SID_LEN + 1], ext[8];
        unsigned char *data = NULL;
        size_t len = 0;
        long duration;

        if (!tw_path_sid(req->path, "RE", sid, ext) || strcmp(ext, "wav") != 0) {
                sb_reply_error(reply, 404, "not_found", "no such media");
                return;
        }
        if (!media_link_ok(req, reply, sid))
                return;
        if (!media_exists(sid, &duration)) {
                sb_reply_error(reply, 404, "not_found", "the recording was deleted");
                return;
        }
        if (!sb_state_recording_dup(sid, &data, &len))
                data = wav_tone(duration < 0 ? 0 : duration, &len);
        if (!data) {
                sb_reply_error(reply, 500, "internal", "out of memory");
                return;
        }
        sb_reply_data(reply, 200, "audio/x-wav", data, len);
        free(data);
}
