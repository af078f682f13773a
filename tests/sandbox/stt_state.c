/* callbridge-sandbox: speech-to-text state and control. Under the state lock:
 *
 * settings  {"latency_ms","retry_after_s","retry_after_ms","unseeded"} (POST /__sandbox/stt)
 * recent    the last SB_STT_RECENT_MAX validated requests, oldest first, as GET
 *           /__sandbox/state shows them under "stt":{"recent":[...]}
 * tokens    Google access tokens issued by /google/oauth2/token, with their expiry */
#include <math.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbridge/crypto.h"
#include "callbridge/util.h"
#include "stt_emu.h"

#define MAX_TOKENS         256
#define MAX_STT_LATENCY_MS 60000L

struct token {
        char value[64];
        time_t expires;
};

static long latency_ms;
static long retry_after_s = 1;
static long retry_after_ms;
static bool unseeded_sha;
static json_t *recent;
static struct token tokens[MAX_TOKENS];
static size_t n_tokens;

void sb_stt_state_clear_locked(void)
{
        latency_ms = 0;
        retry_after_s = 1;
        retry_after_ms = 0;
        unseeded_sha = false;
        json_decref(recent);
        recent = NULL;
        n_tokens = 0;
        memset(tokens, 0, sizeof(tokens));
}

static json_t *settings_json_locked(void)
{
        return json_pack("{s:I,s:I,s:I,s:s}", "latency_ms", (json_int_t)latency_ms, "retry_after_s",
                         (json_int_t)retry_after_s, "retry_after_ms", (json_int_t)retry_after_ms,
                         "unseeded", unseeded_sha ? "sha" : "default");
}

int sb_stt_state_snapshot_locked(json_t *snap)
{
        json_t *stt = json_pack("{s:o,s:o,s:I}", "settings", settings_json_locked(), "recent",
                                recent ? json_deep_copy(recent) : json_array(), "tokens",
                                (json_int_t)n_tokens);

        return stt && json_object_set_new(snap, "stt", stt) == 0 ? 0 : -1;
}

void sb_stt_remember_take(json_t *fields)
{
        sb_state_lock();
        if (recent == NULL)
                recent = json_array();
        if (recent != NULL && fields != NULL) {
                json_array_append(recent, fields);
                while (json_array_size(recent) > SB_STT_RECENT_MAX)
                        json_array_remove(recent, 0);
        }
        sb_state_unlock();
        json_decref(fields);
}

void sb_stt_retry_after(long *seconds, long *ms)
{
        sb_state_lock();
        *seconds = retry_after_s;
        *ms = retry_after_ms;
        sb_state_unlock();
}

static long stt_latency(void)
{
        long ms;

        sb_state_lock();
        ms = latency_ms;
        sb_state_unlock();
        return ms;
}

bool sb_stt_token_issue(long ttl_s, char out[64])
{
        unsigned char raw[16];
        char hex[33];
        time_t now = time(NULL);
        size_t slot = 0;

        if (RAND_bytes(raw, sizeof(raw)) != 1)
                return false;
        cb_hex(raw, sizeof(raw), hex);
        snprintf(out, 64, "ya29.sandbox-%s", hex);
        sb_state_lock();
        /* Reuse an expired slot, else append, else replace the oldest. */
        while (slot < n_tokens && tokens[slot].expires > now)
                slot++;
        if (slot == n_tokens && n_tokens < MAX_TOKENS)
                n_tokens++;
        else if (slot == n_tokens)
                slot = 0;
        cb_strlcpy(tokens[slot].value, out, sizeof(tokens[slot].value));
        tokens[slot].expires = now + ttl_s;
        sb_state_unlock();
        return true;
}

bool sb_stt_token_valid(const char *token)
{
        time_t now = time(NULL);
        bool ok = false;

        sb_state_lock();
        for (size_t i = 0; i < n_tokens && !ok; i++)
                ok = tokens[i].expires > now && strcmp(tokens[i].value, token) == 0;
        sb_state_unlock();
        return ok;
}

char *sb_stt_text_for(const unsigned char *data, size_t len, char sha_hex[65])
{
        unsigned char digest[32];
        char *text, buf[32];
        bool sha;

        cb_sha256(data, len, digest);
        cb_hex(digest, sizeof(digest), sha_hex);
        text = sb_state_transcript_dup(sha_hex);
        if (text != NULL)
                return text;
        sb_state_lock();
        sha = unseeded_sha;
        sb_state_unlock();
        if (!sha)
                return strdup(SB_STT_DEFAULT_TEXT);
        snprintf(buf, sizeof(buf), "chunk %.12s", sha_hex);
        return strdup(buf);
}

static uint16_t le16(const unsigned char *p)
{
        return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t le32(const unsigned char *p)
{
        return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
               ((uint32_t)p[3] << 24);
}

bool sb_stt_wav(const unsigned char *d, size_t len, struct sb_wav *w)
{
        size_t off = 12;
        bool fmt = false;

        memset(w, 0, sizeof(*w));
        if (len < 12 || memcmp(d, "RIFF", 4) != 0 || memcmp(d + 8, "WAVE", 4) != 0)
                return false;
        while (off + 8 <= len) {
                uint32_t size = le32(d + off + 4);
                if (memcmp(d + off, "fmt ", 4) == 0 && size >= 16 && off + 8 + size <= len) {
                        w->format = le16(d + off + 8);
                        w->channels = le16(d + off + 10);
                        w->rate = le32(d + off + 12);
                        w->block_align = le16(d + off + 20);
                        w->bits = le16(d + off + 22);
                        if (w->format == 0xFFFE && size >= 40)
                                w->format = le16(d + off + 32);
                        fmt = w->channels && w->rate && w->block_align;
                } else if (memcmp(d + off, "data", 4) == 0) {
                        size_t avail = len - off - 8;
                        w->data_len = size < avail ? size : avail;
                        return fmt;
                }
                off += 8 + (size_t)size + (size & 1);
        }
        return false;
}

double sb_stt_wav_seconds(const struct sb_wav *w)
{
        size_t frames; /* whole frames: a trailing partial frame is not played */

        if (w->rate == 0 || w->block_align == 0)
                return 0;
        frames = w->data_len / w->block_align;
        return (double)frames / w->rate;
}

/* A whole number in [0, max] at `name` of `doc` into *out; absent leaves it. */
static bool get_whole(json_t *doc, const char *name, long max, long *out, char *why, size_t n)
{
        json_t *v = json_object_get(doc, name);
        double d = json_number_value(v);

        if (v == NULL)
                return true;
        if (!json_is_number(v) || !isfinite(d) || d < 0 || d > (double)max || d != floor(d)) {
                snprintf(why, n, "%s must be a whole number from 0 to %ld", name, max);
                return false;
        }
        *out = (long)d;
        return true;
}

void sb_stt_control(const struct sb_request *req, struct sb_reply *reply)
{
        json_t *doc = sb_request_json(req, reply);
        long lat = 0, ra = 1, ra_ms = 0;
        const char *unseeded;
        char why[128];
        const char *key;
        json_t *v;

        if (doc == NULL)
                return;
        if (!json_is_object(doc)) {
                sb_reply_error(reply, 400, "invalid_body", "the settings must be a JSON object");
                goto out;
        }
        json_object_foreach(doc, key, v)
        {
                if (strcmp(key, "latency_ms") != 0 && strcmp(key, "retry_after_s") != 0 &&
                    strcmp(key, "retry_after_ms") != 0 && strcmp(key, "unseeded") != 0) {
                        sb_reply_error(reply, 400, "unknown_field", "unknown field \"%s\"", key);
                        goto out;
                }
        }
        unseeded = json_string_value(json_object_get(doc, "unseeded"));
        why[0] = '\0';
        if (json_object_get(doc, "unseeded") &&
            (unseeded == NULL ||
             (strcmp(unseeded, "sha") != 0 && strcmp(unseeded, "default") != 0)))
                snprintf(why, sizeof(why), "unseeded must be \"default\" or \"sha\"");
        if (why[0] != '\0' ||
            !get_whole(doc, "latency_ms", MAX_STT_LATENCY_MS, &lat, why, sizeof(why)) ||
            !get_whole(doc, "retry_after_s", 86400, &ra, why, sizeof(why)) ||
            !get_whole(doc, "retry_after_ms", 86400000, &ra_ms, why, sizeof(why))) {
                sb_reply_error(reply, 400, "invalid_field", "%s", why);
                goto out;
        }
        sb_state_lock();
        latency_ms = lat;
        retry_after_s = ra;
        retry_after_ms = ra_ms;
        unseeded_sha = unseeded != NULL && strcmp(unseeded, "sha") == 0;
        v = settings_json_locked();
        sb_state_unlock();
        sb_reply_json_take(reply, 200, v);
out:
        json_decref(doc);
}

long sb_stt_latency_ms(void)
{
        return stt_latency();
}
