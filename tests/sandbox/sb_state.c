/* callbridge-sandbox: the in-memory state of every emulated upstream, under one mutex.
 *
 * records      {"Contact":[...],"Lead":[...],"Account":[...],"Task":[...],<other types>}
 * twilio_calls [...] calls placed through the Twilio emulation (its other state: tw_state.c)
 * requests     {"<endpoint>":n} upstream requests received
 * in_flight    {"<endpoint>":n} upstream requests being answered now, and the most at once
 * transcripts  {"<sha256>":"text"} seeded transcription answers
 * recordings   seeded recording audio by SID
 * faults       the current fault settings */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox.h"

/* The object types always present in a snapshot, even when empty. */
static const char *const standard_types[] = {"Contact", "Lead", "Account", "Task"};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *records;
static json_t *twilio_calls;
static json_t *requests;
static json_t *in_flight, *in_flight_max;
static json_t *transcripts;
static struct sb_blob *recordings;
static size_t n_recordings;
static struct sb_faults faults;

static void blob_free(struct sb_blob *b)
{
        free(b->key);
        free(b->data);
        b->key = NULL;
        b->data = NULL;
        b->len = 0;
}

static void faults_clear(struct sb_faults *f)
{
        memset(f, 0, sizeof(*f));
        f->timeout_ms = SB_FAULT_DEFAULT_TIMEOUT_MS;
}

/* Free the containers; lock held (or not yet shared). */
static void clear_locked(void)
{
        json_decref(records);
        json_decref(twilio_calls);
        json_decref(requests);
        json_decref(in_flight);
        json_decref(in_flight_max);
        json_decref(transcripts);
        records = twilio_calls = requests = in_flight = in_flight_max = transcripts = NULL;
        for (size_t i = 0; i < n_recordings; i++)
                blob_free(&recordings[i]);
        free(recordings);
        recordings = NULL;
        n_recordings = 0;
        faults_clear(&faults);
        sb_sf_state_clear_locked();
        sb_tw_state_clear_locked();
        sb_s3_state_clear_locked();
        sb_stt_state_clear_locked();
        sb_llm_state_clear_locked();
        sb_hs_state_clear_locked();
}

/* Allocate empty containers; lock held. -1 when out of memory (containers left NULL). */
static int fill_locked(void)
{
        records = json_object();
        twilio_calls = json_array();
        requests = json_object();
        in_flight = json_object();
        in_flight_max = json_object();
        transcripts = json_object();
        if (!records || !twilio_calls || !requests || !in_flight || !in_flight_max ||
            !transcripts || sb_sf_state_reset_locked() != 0 || sb_tw_state_reset_locked() != 0 ||
            sb_hs_state_reset_locked() != 0) {
                clear_locked();
                return -1;
        }
        return 0;
}

int sb_state_init(void)
{
        int rc;

        pthread_mutex_lock(&lock);
        clear_locked();
        rc = fill_locked();
        pthread_mutex_unlock(&lock);
        return rc;
}

void sb_state_destroy(void)
{
        pthread_mutex_lock(&lock);
        clear_locked();
        pthread_mutex_unlock(&lock);
}

void sb_state_reset(void)
{
        pthread_mutex_lock(&lock);
        clear_locked();
        if (fill_locked() != 0)
                sb_log("error", "out of memory while resetting the state");
        pthread_mutex_unlock(&lock);
}

void sb_state_lock(void)
{
        pthread_mutex_lock(&lock);
}

void sb_state_unlock(void)
{
        pthread_mutex_unlock(&lock);
}

json_t *sb_state_records_locked(const char *type, bool create)
{
        json_t *arr;

        if (!records)
                return NULL;
        arr = json_object_get(records, type);
        if (arr || !create)
                return arr;
        arr = json_array();
        if (!arr || json_object_set_new(records, type, arr) != 0)
                return NULL;
        return arr;
}

json_t *sb_state_records_all_locked(void)
{
        return records;
}

void sb_state_records_replace_locked(json_t *all)
{
        if (!all)
                return;
        json_decref(records);
        records = all;
}

json_t *sb_state_record_find_locked(const char *type, const char *id)
{
        json_t *arr = sb_state_records_locked(type, false);
        json_t *rec;
        size_t i;

        json_array_foreach(arr, i, rec)
        {
                const char *rid = json_string_value(json_object_get(rec, "Id"));
                if (rid && strcmp(rid, id) == 0)
                        return rec;
        }
        return NULL;
}

/* Merge the records of one type into the state by Id; lock held. -1 when out of memory. */
static int merge_type_locked(const char *type, json_t *incoming)
{
        json_t *arr = sb_state_records_locked(type, true);
        json_t *rec;
        size_t i;

        if (!arr)
                return -1;
        json_array_foreach(incoming, i, rec)
        {
                const char *id = json_string_value(json_object_get(rec, "Id"));
                json_t *old = id ? sb_state_record_find_locked(type, id) : NULL;

                if (old) {
                        if (json_object_update(old, rec) != 0)
                                return -1;
                } else if (json_array_append(arr, rec) != 0) {
                        return -1;
                }
                sb_sf_record_seeded_locked(type, old ? old : rec);
        }
        return 0;
}

/* Store one recording, replacing a same-SID one; takes b's buffers. Lock held. */
static int put_recording_locked(struct sb_blob *b)
{
        struct sb_blob *grown;

        for (size_t i = 0; i < n_recordings; i++) {
                if (strcmp(recordings[i].key, b->key) == 0) {
                        blob_free(&recordings[i]);
                        recordings[i] = *b;
                        b->key = NULL;
                        b->data = NULL;
                        return 0;
                }
        }
        grown = realloc(recordings, (n_recordings + 1) * sizeof(*recordings));
        if (!grown)
                return -1;
        recordings = grown;
        recordings[n_recordings++] = *b;
        b->key = NULL;
        b->data = NULL;
        return 0;
}

int sb_state_seed_take(json_t *recs, json_t *texts, struct sb_blob *blobs, size_t n_blobs)
{
        const char *key;
        json_t *val;
        int rc = -1;

        pthread_mutex_lock(&lock);
        if (!records)
                goto out;
        json_object_foreach(recs, key, val)
        {
                if (merge_type_locked(key, val) != 0)
                        goto out;
        }
        if (texts && json_object_update(transcripts, texts) != 0)
                goto out;
        for (size_t i = 0; i < n_blobs; i++) {
                if (put_recording_locked(&blobs[i]) != 0)
                        goto out;
        }
        rc = 0;
out:
        pthread_mutex_unlock(&lock);
        json_decref(recs);
        json_decref(texts);
        for (size_t i = 0; i < n_blobs; i++)
                blob_free(&blobs[i]);
        free(blobs);
        return rc;
}

json_t *sb_state_snapshot(bool twilio_summary)
{
        json_t *snap = NULL;
        json_t *seeded = NULL, *arr;
        const char *type;
        int bad = 0;

        pthread_mutex_lock(&lock);
        if (!records)
                goto out;
        /* The standard types first, then the others in the order they appeared. */
        snap = json_object();
        if (!snap)
                goto out;
        for (size_t i = 0; i < sizeof(standard_types) / sizeof(standard_types[0]); i++) {
                json_t *std = json_object_get(records, standard_types[i]);
                bad |= json_object_set_new(snap, standard_types[i],
                                           std ? json_deep_copy(std) : json_array());
        }
        json_object_foreach(records, type, arr)
        {
                if (!json_object_get(snap, type))
                        bad |= json_object_set_new(snap, type, json_deep_copy(arr));
        }
        seeded = json_pack("{s:I,s:I}", "transcripts", (json_int_t)json_object_size(transcripts),
                           "recordings", (json_int_t)n_recordings);
        if (!twilio_summary)
                bad |= json_object_set_new(snap, "twilio_calls", json_deep_copy(twilio_calls));
        bad |= json_object_set_new(snap, "requests", json_deep_copy(requests));
        bad |= json_object_set_new(snap, "seeded", seeded);
        if (twilio_summary)
                bad |= json_object_set_new(snap, "twilio", sb_tw_state_summary_locked());
        else
                bad |= sb_tw_state_snapshot_locked(snap);
        bad |= sb_s3_state_snapshot_locked(snap);
        bad |= sb_stt_state_snapshot_locked(snap);
        bad |= sb_hs_state_snapshot_locked(snap, twilio_summary);
        if (bad) {
                json_decref(snap);
                snap = NULL;
        }
out:
        pthread_mutex_unlock(&lock);
        return snap;
}

json_t *sb_state_summary(void)
{
        json_t *sum = NULL;

        pthread_mutex_lock(&lock);
        if (requests && twilio_calls)
                sum = json_pack("{s:o,s:o,s:o*}", "requests", json_deep_copy(requests),
                                "in_flight_max", json_deep_copy(in_flight_max), "twilio",
                                sb_tw_state_summary_locked());
        if (sum && sb_hs_state_snapshot_locked(sum, true) != 0) {
                json_decref(sum);
                sum = NULL;
        }
        pthread_mutex_unlock(&lock);
        return sum;
}

void sb_state_in_flight(const char *endpoint, int delta)
{
        json_int_t n, max;

        pthread_mutex_lock(&lock);
        if (in_flight && in_flight_max) {
                /* A reset while requests are answered leaves them uncounted: never below 0. */
                n = json_integer_value(json_object_get(in_flight, endpoint)) + delta;
                n = n < 0 ? 0 : n;
                json_object_set_new(in_flight, endpoint, json_integer(n));
                max = json_integer_value(json_object_get(in_flight_max, endpoint));
                if (n > max)
                        json_object_set_new(in_flight_max, endpoint, json_integer(n));
        }
        pthread_mutex_unlock(&lock);
}

void sb_state_count_request(const char *endpoint)
{
        json_t *n;

        pthread_mutex_lock(&lock);
        if (requests) {
                n = json_object_get(requests, endpoint);
                if (n)
                        json_integer_set(n, json_integer_value(n) + 1);
                else
                        json_object_set_new(requests, endpoint, json_integer(1));
        }
        pthread_mutex_unlock(&lock);
}

void sb_state_twilio_call_add_take(json_t *call)
{
        pthread_mutex_lock(&lock);
        if (twilio_calls)
                json_array_append(twilio_calls, call);
        pthread_mutex_unlock(&lock);
        json_decref(call);
}

json_t *sb_state_twilio_calls_locked(void)
{
        return twilio_calls;
}

char *sb_state_transcript_dup(const char *sha256_hex)
{
        char *copy = NULL;
        const char *text;

        pthread_mutex_lock(&lock);
        text = json_string_value(json_object_get(transcripts, sha256_hex));
        if (text)
                copy = strdup(text);
        pthread_mutex_unlock(&lock);
        return copy;
}

bool sb_state_recording_dup(const char *sid, unsigned char **data, size_t *len)
{
        bool found = false;

        *data = NULL;
        *len = 0;
        pthread_mutex_lock(&lock);
        for (size_t i = 0; i < n_recordings; i++) {
                if (strcmp(recordings[i].key, sid) != 0)
                        continue;
                *data = malloc(recordings[i].len ? recordings[i].len : 1);
                if (*data) {
                        memcpy(*data, recordings[i].data, recordings[i].len);
                        *len = recordings[i].len;
                        found = true;
                }
                break;
        }
        pthread_mutex_unlock(&lock);
        return found;
}

void sb_state_faults_get(struct sb_faults *out)
{
        pthread_mutex_lock(&lock);
        *out = faults;
        pthread_mutex_unlock(&lock);
}

void sb_state_faults_set(const struct sb_faults *in)
{
        pthread_mutex_lock(&lock);
        faults = *in;
        pthread_mutex_unlock(&lock);
}
