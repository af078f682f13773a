/* callbridge-sandbox: the control API of SPEC §7 (/__sandbox/seed, state, faults, reset).
 * Control routes are never faulted nor counted. Every input is validated in full before the
 * state changes, so a 400 leaves the state as it was. */
#include <ctype.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox.h"
#include "tw_emu.h"

#define MAX_SOBJECT_NAME 80
#define MAX_RECORD_ID    255

/* What a validator reports: a status-400 error code and message, or code NULL when fine. */
struct verdict {
        const char *code;
        char message[256];
};

static bool fail(struct verdict *v, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(struct verdict *v, const char *code, const char *fmt, ...)
{
        va_list ap;

        v->code = code;
        va_start(ap, fmt);
        vsnprintf(v->message, sizeof(v->message), fmt, ap);
        va_end(ap);
        return false;
}

static void reply_verdict(struct sb_reply *reply, const struct verdict *v)
{
        sb_reply_error(reply, MHD_HTTP_BAD_REQUEST, v->code, "%s", v->message);
}

/* A Salesforce object API name: a letter, then letters, digits and underscores. The seed's
 * record types are told apart from its lower-case keys by the upper-case first letter. */
static bool is_sobject_name(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > MAX_SOBJECT_NAME || !isupper((unsigned char)s[0]))
                return false;
        for (size_t i = 1; i < n; i++) {
                if (!isalnum((unsigned char)s[i]) && s[i] != '_')
                        return false;
        }
        return true;
}

static bool is_sha256_hex(const char *s)
{
        if (strlen(s) != 64)
                return false;
        for (size_t i = 0; i < 64; i++) {
                if (!isxdigit((unsigned char)s[i]))
                        return false;
        }
        return true;
}

/* Decode standard base64 (whitespace tolerated). Returns a malloc'd buffer and its length in
 * *len, or NULL on bad input or out of memory. */
static unsigned char *base64_decode(const char *in, size_t inlen, size_t *len)
{
        EVP_ENCODE_CTX *ectx = NULL;
        unsigned char *out = NULL;
        int n = 0, tail = 0;

        if (inlen > (size_t)INT32_MAX)
                return NULL;
        out = malloc(inlen / 4 * 3 + 4);
        ectx = EVP_ENCODE_CTX_new();
        if (!out || !ectx)
                goto fail;
        EVP_DecodeInit(ectx);
        if (EVP_DecodeUpdate(ectx, out, &n, (const unsigned char *)in, (int)inlen) < 0)
                goto fail;
        if (EVP_DecodeFinal(ectx, out + n, &tail) != 1)
                goto fail;
        EVP_ENCODE_CTX_free(ectx);
        *len = (size_t)n + (size_t)tail;
        return out;
fail:
        EVP_ENCODE_CTX_free(ectx);
        free(out);
        return NULL;
}

/* Check that `obj` has only the keys in the NULL-terminated `allowed`. */
static bool only_keys(json_t *obj, const char *const *allowed, const char *where, struct verdict *v)
{
        const char *key;
        json_t *val;

        json_object_foreach(obj, key, val)
        {
                size_t i;
                for (i = 0; allowed[i]; i++) {
                        if (strcmp(key, allowed[i]) == 0)
                                break;
                }
                if (!allowed[i])
                        return fail(v, "unknown_field", "%s: unknown field \"%s\"", where, key);
        }
        return true;
}

/* A string member that must be present and non-empty; NULL after filling `v`. */
static const char *need_string(json_t *obj, const char *name, const char *where, struct verdict *v)
{
        json_t *val = json_object_get(obj, name);

        if (!val) {
                fail(v, "missing_field", "%s.%s is required", where, name);
                return NULL;
        }
        if (!json_is_string(val) || json_string_length(val) == 0) {
                fail(v, "invalid_field", "%s.%s must be a non-empty string", where, name);
                return NULL;
        }
        return json_string_value(val);
}

/* Validate a record array of one SObject type. */
static bool check_records(const char *type, json_t *arr, struct verdict *v)
{
        json_t *rec;
        size_t i;

        if (!json_is_array(arr))
                return fail(v, "invalid_field", "%s must be an array of records", type);
        json_array_foreach(arr, i, rec)
        {
                char where[MAX_SOBJECT_NAME + 32];
                const char *id;

                snprintf(where, sizeof(where), "%s[%zu]", type, i);
                if (!json_is_object(rec))
                        return fail(v, "invalid_field", "%s must be an object", where);
                if (strcmp(type, "UserRecordAccess") == 0 && !json_object_get(rec, "Id")) {
                        /* rows of a read-only object: seeded without ids */
                        static unsigned long n;
                        char gen[32];
                        snprintf(gen, sizeof(gen), "0Ua%015lu", ++n);
                        json_object_set_new(rec, "Id", json_string(gen));
                }
                id = need_string(rec, "Id", where, v);
                if (!id)
                        return false;
                if (strlen(id) > MAX_RECORD_ID)
                        return fail(v, "invalid_field", "%s.Id is longer than %d", where,
                                    MAX_RECORD_ID);
        }
        return true;
}

/* Validate "transcripts" and build {"<sha256 lower>":"text"} into *out (new reference). */
static bool take_transcripts(json_t *arr, json_t **out, struct verdict *v)
{
        static const char *const keys[] = {"sha256", "text", NULL};
        json_t *item;
        size_t i;

        if (!json_is_array(arr))
                return fail(v, "invalid_field", "transcripts must be an array");
        *out = json_object();
        if (!*out)
                return fail(v, "internal", "out of memory");
        json_array_foreach(arr, i, item)
        {
                char where[48], sha[65];
                const char *hex;
                json_t *text;

                snprintf(where, sizeof(where), "transcripts[%zu]", i);
                if (!json_is_object(item))
                        return fail(v, "invalid_field", "%s must be an object", where);
                if (!only_keys(item, keys, where, v))
                        return false;
                hex = need_string(item, "sha256", where, v);
                if (!hex)
                        return false;
                if (!is_sha256_hex(hex))
                        return fail(v, "invalid_field", "%s.sha256 must be 64 hex digits", where);
                text = json_object_get(item, "text");
                if (!json_is_string(text))
                        return fail(v, text ? "invalid_field" : "missing_field",
                                    "%s.text must be a string", where);
                for (size_t k = 0; k < 64; k++)
                        sha[k] = (char)tolower((unsigned char)hex[k]);
                sha[64] = '\0';
                if (json_object_set(*out, sha, text) != 0)
                        return fail(v, "internal", "out of memory");
        }
        return true;
}

/* Validate "recordings" and decode them into a malloc'd blob array (*out, *n). */
static bool take_recordings(json_t *arr, struct sb_blob **out, size_t *n, struct verdict *v)
{
        static const char *const keys[] = {"sid", "wav_base64", NULL};
        json_t *item;
        size_t i;

        if (!json_is_array(arr))
                return fail(v, "invalid_field", "recordings must be an array");
        if (*out != NULL)
                return fail(v, "invalid_field", "recordings given twice");
        *out = calloc(json_array_size(arr) + 1, sizeof(**out));
        if (!*out)
                return fail(v, "internal", "out of memory");
        json_array_foreach(arr, i, item)
        {
                char where[48];
                const char *sid, *b64;
                size_t b64_len;
                struct sb_blob *b = &(*out)[i];

                *n = i + 1; /* the caller frees entries 0..n, even half-filled ones */
                snprintf(where, sizeof(where), "recordings[%zu]", i);
                if (!json_is_object(item))
                        return fail(v, "invalid_field", "%s must be an object", where);
                if (!only_keys(item, keys, where, v))
                        return false;
                sid = need_string(item, "sid", where, v);
                b64 = sid ? need_string(item, "wav_base64", where, v) : NULL;
                if (!b64)
                        return false;
                b64_len = json_string_length(json_object_get(item, "wav_base64"));
                b->data = base64_decode(b64, b64_len, &b->len);
                if (!b->data || b->len == 0)
                        return fail(v, "invalid_field", "%s.wav_base64 is not valid base64 audio",
                                    where);
                b->key = strdup(sid);
                if (!b->key)
                        return fail(v, "internal", "out of memory");
        }
        return true;
}

static void free_blobs(struct sb_blob *blobs, size_t n)
{
        if (!blobs)
                return;
        for (size_t i = 0; i <= n; i++) {
                free(blobs[i].key);
                free(blobs[i].data);
        }
        free(blobs);
}

void sb_control_seed(const struct sb_request *req, struct sb_reply *reply)
{
        json_t *doc = sb_request_json(req, reply);
        json_t *records = NULL, *texts = NULL, *counts = NULL, *val, *talks = NULL, *hs = NULL;
        struct sb_blob *blobs = NULL;
        size_t n_blobs = 0;
        struct verdict v = {0};
        const char *key;

        if (!doc)
                return;
        records = json_object();
        counts = json_object();
        if (!records || !counts) {
                fail(&v, "internal", "out of memory");
                goto out;
        }
        if (!json_is_object(doc)) {
                fail(&v, "invalid_body", "the seed must be a JSON object");
                goto out;
        }
        json_object_foreach(doc, key, val)
        {
                if (strcmp(key, "transcripts") == 0) {
                        if (!take_transcripts(val, &texts, &v))
                                goto out;
                } else if (strcmp(key, "recordings") == 0) {
                        if (!take_recordings(val, &blobs, &n_blobs, &v))
                                goto out;
                } else if (strcmp(key, "conversations") == 0) {
                        char err[160];
                        if (!tw_talk_check(val, err, sizeof(err))) {
                                fail(&v, "invalid_field", "%s", err);
                                goto out;
                        }
                        talks = val;
                } else if (strcmp(key, "hubspot") == 0) {
                        char err[256];
                        if (!sb_hs_seed_check(val, err, sizeof(err))) {
                                fail(&v, "invalid_field", "%s", err);
                                goto out;
                        }
                        hs = val;
                        json_object_set_new(counts, key,
                                            json_integer((json_int_t)json_object_size(val)));
                        continue;
                } else if (is_sobject_name(key)) {
                        if (!check_records(key, val, &v))
                                goto out;
                        json_object_set(records, key, val);
                } else {
                        fail(&v, "unknown_field",
                             "unknown field \"%s\" (expected SObject arrays such as Contact, "
                             "Lead, Account, or transcripts, recordings, conversations, hubspot)",
                             key);
                        goto out;
                }
                json_object_set_new(counts, key, json_integer((json_int_t)json_array_size(val)));
        }
        if (sb_state_seed_take(json_incref(records), json_incref(texts), blobs, n_blobs) != 0) {
                blobs = NULL;
                sb_reply_error(reply, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                               "out of memory while seeding");
                goto out;
        }
        blobs = NULL;
        if ((talks != NULL && tw_talk_seed(talks) != 0) || (hs && sb_hs_seed_apply(hs) != 0)) {
                sb_reply_error(reply, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                               "out of memory while seeding");
                goto out;
        }
        sb_reply_json_take(reply, MHD_HTTP_OK, json_pack("{s:O}", "seeded", counts));
out:
        if (v.code && strcmp(v.code, "internal") == 0)
                sb_reply_error(reply, MHD_HTTP_INTERNAL_SERVER_ERROR, v.code, "%s", v.message);
        else if (v.code)
                reply_verdict(reply, &v);
        free_blobs(blobs, n_blobs);
        json_decref(records);
        json_decref(texts);
        json_decref(counts);
        json_decref(doc);
}

void sb_control_state(const struct sb_request *req, struct sb_reply *reply)
{
        const char *tw = sb_request_query(req, "twilio");
        const char *sum = sb_request_query(req, "summary");
        json_t *snap = sb_state_snapshot((tw != NULL && strcmp(tw, "summary") == 0) ||
                                         (sum != NULL && strcmp(sum, "1") == 0));

        if (!snap) {
                sb_reply_error(reply, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
                return;
        }
        sb_reply_json_take(reply, MHD_HTTP_OK, snap);
}

void sb_control_summary(const struct sb_request *req, struct sb_reply *reply)
{
        json_t *sum = sb_state_summary();

        if (!sum) {
                sb_reply_error(reply, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
                return;
        }
        sb_reply_json_take(reply, MHD_HTTP_OK, sum);
}

json_t *sb_faults_to_json(const struct sb_faults *f)
{
        return json_pack("{s:f,s:I,s:f,s:f,s:f,s:b,s:I}", "error_rate", f->error_rate, "latency_ms",
                         (json_int_t)f->latency_ms, "timeout_rate", f->timeout_rate,
                         "rate_limit_rate", f->rate_limit_rate, "webhook_duplicate_rate",
                         f->webhook_duplicate_rate, "webhook_shuffle", f->webhook_shuffle,
                         "timeout_ms", (json_int_t)f->timeout_ms);
}

void sb_control_faults_get(const struct sb_request *req, struct sb_reply *reply)
{
        struct sb_faults f;

        sb_state_faults_get(&f);
        sb_reply_json_take(reply, MHD_HTTP_OK, sb_faults_to_json(&f));
}

/* A rate in [0,1] into *out; absent leaves *out alone. */
static bool get_rate(json_t *doc, const char *name, double *out, struct verdict *v)
{
        json_t *val = json_object_get(doc, name);
        double d;

        if (!val)
                return true;
        d = json_number_value(val);
        if (!json_is_number(val) || !isfinite(d) || d < 0 || d > 1)
                return fail(v, "invalid_field", "%s must be a number between 0 and 1", name);
        *out = d;
        return true;
}

/* A whole number of milliseconds in [min,max] into *out; absent leaves *out alone. */
static bool get_ms(json_t *doc, const char *name, long min, long max, long *out, struct verdict *v)
{
        json_t *val = json_object_get(doc, name);
        double d;

        if (!val)
                return true;
        d = json_number_value(val);
        if (!json_is_number(val) || !isfinite(d) || d < (double)min || d > (double)max ||
            d != floor(d))
                return fail(v, "invalid_field", "%s must be a whole number from %ld to %ld", name,
                            min, max);
        *out = (long)d;
        return true;
}

/* POST /__sandbox/faults replaces all settings: keys left out return to their defaults. */
void sb_control_faults_set(const struct sb_request *req, struct sb_reply *reply)
{
        static const char *const keys[] = {"error_rate",
                                           "latency_ms",
                                           "timeout_rate",
                                           "rate_limit_rate",
                                           "webhook_duplicate_rate",
                                           "webhook_shuffle",
                                           "timeout_ms",
                                           NULL};
        json_t *doc = sb_request_json(req, reply);
        struct sb_faults f = {0};
        struct verdict v = {0};
        json_t *shuffle;

        if (!doc)
                return;
        f.timeout_ms = SB_FAULT_DEFAULT_TIMEOUT_MS;
        if (!json_is_object(doc)) {
                fail(&v, "invalid_body", "faults must be a JSON object");
                goto out;
        }
        if (!only_keys(doc, keys, "faults", &v) ||
            !get_rate(doc, "error_rate", &f.error_rate, &v) ||
            !get_rate(doc, "timeout_rate", &f.timeout_rate, &v) ||
            !get_rate(doc, "rate_limit_rate", &f.rate_limit_rate, &v) ||
            !get_rate(doc, "webhook_duplicate_rate", &f.webhook_duplicate_rate, &v) ||
            !get_ms(doc, "latency_ms", 0, SB_FAULT_MAX_LATENCY_MS, &f.latency_ms, &v) ||
            !get_ms(doc, "timeout_ms", 1, SB_FAULT_MAX_TIMEOUT_MS, &f.timeout_ms, &v))
                goto out;
        shuffle = json_object_get(doc, "webhook_shuffle");
        if (shuffle && !json_is_boolean(shuffle)) {
                fail(&v, "invalid_field", "webhook_shuffle must be true or false");
                goto out;
        }
        f.webhook_shuffle = json_is_true(shuffle);
        if (f.error_rate + f.timeout_rate + f.rate_limit_rate > 1.0 + 1e-9) {
                fail(&v, "invalid_field",
                     "error_rate + timeout_rate + rate_limit_rate must not exceed 1");
                goto out;
        }
        sb_state_faults_set(&f);
        sb_reply_json_take(reply, MHD_HTTP_OK, sb_faults_to_json(&f));
out:
        if (v.code)
                reply_verdict(reply, &v);
        json_decref(doc);
}

void sb_control_reset(const struct sb_request *req, struct sb_reply *reply)
{
        sb_state_reset();
        tw_talk_reset();
        sb_reply_json_take(reply, MHD_HTTP_OK, json_pack("{s:s}", "status", "reset"));
}

void sb_control_health(const struct sb_request *req, struct sb_reply *reply)
{
        sb_reply_json_take(reply, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"));
}
