/* The `offline` speech-to-text engine: PocketSphinx (Debian 12's 5prealpha, the cmd_ln/ps_init
 * API) with the en-us model of `pocketsphinx-en-us`, on this machine, no network.
 *
 * Two passes over the recording, both decoded block by block from storage (pcm16k.c):
 * 1. the n-gram model transcribes; the decoder's voice activity detection cuts utterances,
 *    which become the segments (an utterance is also cut after MAX_UTT_S of speech so the
 *    search stays small);
 * 2. with request phrases, keyword spotting (ps_set_kws) looks for the sales terms only, and
 *    what it finds goes to "keywords_spotted" — spotting catches terms the n-gram pass
 *    misrecognises. Phrases with a word the CMU dictionary lacks are skipped and listed in
 *    "keywords_skipped" (Debian's PocketSphinx has no grapheme-to-phoneme model).
 *
 * A decoder is not thread-safe and takes ~0.3 s and ~100 MB resident to load, so each
 * worker thread gets its own, made on its first transcription and freed when the thread
 * exits. Measured figures (WER, real-time factor): docs/benchmarks.md. */
#include <errno.h>
#include <sphinxbase/cmn.h>
#include <sphinxbase/err.h>
#include <sphinxbase/feat.h>
#include <pocketsphinx.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "callbridge/log.h"
#include "callbridge/stt.h"
#include "offline_kws.h"
#include "pcm16k.h"
#include "stt_int.h"

#define BLOCK_SAMPLES 2048 /* 128 ms fed to the decoder at a time */
#define MAX_UTT_S     30   /* longest utterance before a forced cut */
#define MODEL_NAME    "pocketsphinx-en-us"
#define MAX_CEP       64 /* cepstrum length bound (the en-us model has 13) */

struct decoder {
        struct decoder *next; /* the engine's list, for destroy */
        struct offline *owner;
        ps_decoder_t *ps;
        char *lm_search;          /* name of the n-gram search (ps_init's default) */
        char *kws_spec;           /* keyphrase list last given to ps_set_kws, or NULL */
        int frate;                /* frames per second (-frate) */
        uint64_t phrases_hash;    /* of the last request's phrases: warn once per list */
        int cep;                  /* cepstrum length, 0 when CMN is not live */
        mfcc_t cmn_init[MAX_CEP]; /* the model's initial cepstral mean */
};

struct offline {
        char *hmm, *lm, *dict; /* model paths under [stt] offline_model_dir */
        pthread_key_t key;     /* this thread's struct decoder */
        pthread_mutex_t lock;  /* guards decoders */
        struct decoder *decoders;
        _Atomic unsigned long requests, failures, decoders_made;
        _Atomic unsigned long long audio_ms, lm_us, kws_us;
};

/* One pass over the audio: what it collects. */
struct pass {
        struct decoder *dec;
        bool kws;      /* keyword spotting, else transcription */
        json_t *items; /* segments, or keywords_spotted */
        struct cb_buf text;
        uint64_t samples;
};

/* ---- PocketSphinx's log ------------------------------------------------------------------ */

/* PocketSphinx logs a page per decoder to stderr, where our JSON lines go. Its errors become
 * warnings of ours; its info and warnings (model parameters, timings) are dropped. */
__attribute__((format(printf, 3, 4))) static void ps_log(void *user, err_lvl_t level,
                                                         const char *fmt, ...)
{
        char line[512];
        size_t n;
        va_list ap;

        if (level < ERR_ERROR || !cb_log_enabled(CB_LOG_WARN))
                return;
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        n = strlen(line);
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' '))
                line[--n] = '\0';
        cb_warn("pocketsphinx: %s", line);
}

/* ---- decoders, one per thread ----------------------------------------------------------- */

static void decoder_free(struct decoder *dec)
{
        if (dec == NULL)
                return;
        if (dec->ps != NULL)
                ps_free(dec->ps);
        free(dec->lm_search);
        free(dec->kws_spec);
        free(dec);
}

/* pthread key destructor: the worker thread is exiting. */
static void decoder_exit(void *v)
{
        struct decoder *dec = v;
        struct offline *off = dec->owner;

        pthread_mutex_lock(&off->lock);
        for (struct decoder **pp = &off->decoders; *pp != NULL; pp = &(*pp)->next) {
                if (*pp == dec) {
                        *pp = dec->next;
                        break;
                }
        }
        pthread_mutex_unlock(&off->lock);
        decoder_free(dec);
}

/* Live cepstral mean normalisation carries its estimate from one utterance to the next, so
 * a recording's first words would depend on the call decoded before it on this thread. The
 * model's initial mean is kept here and put back before every pass (reset_cmn). */
static void remember_cmn(struct decoder *dec)
{
        feat_t *feat = ps_get_feat(dec->ps);

        if (feat == NULL || feat->cmn_struct == NULL || feat_cepsize(feat) > MAX_CEP)
                return;
        dec->cep = feat_cepsize(feat);
        cmn_live_get(feat->cmn_struct, dec->cmn_init);
}

static void reset_cmn(struct decoder *dec)
{
        feat_t *feat = ps_get_feat(dec->ps);

        if (dec->cep > 0 && feat != NULL && feat->cmn_struct != NULL)
                cmn_live_set(feat->cmn_struct, dec->cmn_init);
}

/* Load a decoder; NULL (logged) when the model will not load or memory runs out. */
static struct decoder *decoder_create(struct offline *off)
{
        struct decoder *dec = calloc(1, sizeof(*dec));
        cmd_ln_t *config = NULL;
        const char *search;

        if (dec == NULL)
                return NULL;
        dec->owner = off;
        config = cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", off->hmm, "-lm", off->lm, "-dict",
                             off->dict, NULL);
        if (config == NULL) {
                cb_error("offline stt: bad PocketSphinx configuration");
                goto fail;
        }
        dec->ps = ps_init(config);
        dec->frate = (int)cmd_ln_int32_r(config, "-frate");
        cmd_ln_free_r(config); /* the decoder holds its own reference */
        if (dec->ps == NULL) {
                cb_error("offline stt: PocketSphinx could not load the model from %s", off->hmm);
                goto fail;
        }
        remember_cmn(dec);
        /* The n-gram search ps_init made is "_default" in 5prealpha. Asking ps_get_search
         * leaks its hash iterator (24 bytes, a library bug), so it is only the fallback. */
        search = ps_set_search(dec->ps, "_default") == 0 ? "_default" : ps_get_search(dec->ps);
        dec->lm_search = strdup(search != NULL ? search : "_default");
        if (dec->lm_search == NULL || dec->frate <= 0)
                goto fail;
        atomic_fetch_add(&off->decoders_made, 1);
        return dec;
fail:
        decoder_free(dec);
        return NULL;
}

/* This thread's decoder, made on first use; NULL (logged) when it cannot be made. */
static struct decoder *thread_decoder(struct offline *off)
{
        struct decoder *dec = pthread_getspecific(off->key);
        int64_t t0;

        if (dec != NULL)
                return dec;
        t0 = cb_mono_us();
        dec = decoder_create(off);
        if (dec == NULL)
                return NULL;
        if (pthread_setspecific(off->key, dec) != 0) {
                decoder_free(dec);
                return NULL;
        }
        pthread_mutex_lock(&off->lock);
        dec->next = off->decoders;
        off->decoders = dec;
        pthread_mutex_unlock(&off->lock);
        cb_info("offline stt: decoder loaded for this worker in %.2f s",
                (double)(cb_mono_us() - t0) / 1e6);
        return dec;
}

/* ---- decoding ----------------------------------------------------------------------------- */

static bool is_filler(const char *w)
{
        return w[0] == '<' || w[0] == '[' || w[0] == '+';
}

static double frames_s(const struct decoder *dec, int frames)
{
        return (double)frames / (double)dec->frate;
}

/* {"word","start","end"} of a detection; PocketSphinx gives the phrase with a trailing
 * space. NULL when memory runs out (json_array_append_new takes that). */
static json_t *spotted(const struct decoder *dec, const char *w, int sf, int ef)
{
        size_t n = strlen(w);

        while (n > 0 && w[n - 1] == ' ')
                n--;
        return json_pack("{s:s%, s:f, s:f}", "word", w, n, "start", frames_s(dec, sf), "end",
                         frames_s(dec, ef + 1));
}

/* After an utterance: the n-gram pass keeps its text as a segment timed by its first and
 * last words; the spotting pass keeps every detection. */
static void collect(struct pass *pass)
{
        ps_decoder_t *ps = pass->dec->ps;
        const char *hyp = ps_get_hyp(ps, NULL);
        int sf, ef, first = -1, last = -1;

        if (hyp == NULL || hyp[0] == '\0')
                return;
        for (ps_seg_t *seg = ps_seg_iter(ps); seg != NULL; seg = ps_seg_next(seg)) {
                const char *w = ps_seg_word(seg);

                if (w == NULL || is_filler(w))
                        continue;
                ps_seg_frames(seg, &sf, &ef);
                if (pass->kws) {
                        json_array_append_new(pass->items, spotted(pass->dec, w, sf, ef));
                        continue;
                }
                if (first < 0)
                        first = sf;
                last = ef + 1;
        }
        if (pass->kws)
                return;
        if (first < 0)
                first = last = 0;
        json_array_append_new(pass->items,
                              json_pack("{s:f, s:f, s:s}", "start", frames_s(pass->dec, first),
                                        "end", frames_s(pass->dec, last), "text", hyp));
        if (pass->text.len > 0)
                cb_buf_puts(&pass->text, " ");
        cb_buf_puts(&pass->text, hyp);
}

/* Feed the whole recording through the decoder's current search, an utterance per stretch
 * of speech. OK, or RETRY/FAIL with `err` (storage trouble, undecodable audio, decoder). */
static enum cb_result run_pass(struct pass *pass, const struct cb_stt_audio *audio, char *err,
                               size_t err_size)
{
        ps_decoder_t *ps = pass->dec->ps;
        struct cb_pcm16k *pcm = NULL;
        int16_t block[BLOCK_SAMPLES];
        uint64_t utt_samples = 0;
        bool in_utt = false;
        enum cb_result rc = cb_pcm16k_open(audio, &pcm, err, err_size);

        if (rc != CB_RESULT_OK)
                return rc;
        reset_cmn(pass->dec);
        if (ps_start_stream(ps) < 0 || ps_start_utt(ps) < 0) {
                cb_err_printf(err, err_size, "PocketSphinx would not start an utterance");
                rc = CB_RESULT_FAIL;
                goto out;
        }
        for (;;) {
                size_t got = 0;

                rc = cb_pcm16k_read(pcm, block, BLOCK_SAMPLES, &got, err, err_size);
                if (rc != CB_RESULT_OK || got == 0)
                        break;
                if (ps_process_raw(ps, block, got, FALSE, FALSE) < 0) {
                        cb_err_printf(err, err_size, "PocketSphinx failed on the audio");
                        rc = CB_RESULT_FAIL;
                        break;
                }
                utt_samples += got;
                if (ps_get_in_speech(ps)) {
                        in_utt = true;
                        if (utt_samples < (uint64_t)MAX_UTT_S * CB_PCM16K_RATE)
                                continue;
                } else if (!in_utt) {
                        continue;
                }
                /* Speech ended (or ran too long): close the utterance and start the next. */
                ps_end_utt(ps);
                collect(pass);
                ps_start_utt(ps);
                in_utt = false;
                utt_samples = 0;
        }
        ps_end_utt(ps);
        if (rc == CB_RESULT_OK)
                collect(pass);
        pass->samples = cb_pcm16k_samples(pcm);
        if (rc == CB_RESULT_OK)
                cb_debug("offline stt: %s pass over %s, %.1f s", pass->kws ? "keyword" : "text",
                         cb_pcm16k_describe(pcm), (double)pass->samples / CB_PCM16K_RATE);
out:
        cb_pcm16k_close(&pcm);
        return rc;
}

/* The keyword pass: spotted phrases into *spotted, unknown ones into *skipped. A keyword list
 * PocketSphinx refuses only loses the pass (logged); storage errors are returned. */
static enum cb_result keyword_pass(struct offline *off, struct decoder *dec,
                                   const struct cb_stt_audio *audio, const char *const *phrases,
                                   json_t *result, char *err, size_t err_size)
{
        struct cb_buf spec = {.max = (size_t)64 * 1024};
        struct pass pass = {.dec = dec, .kws = true, .items = json_array()};
        json_t *skipped = json_array();
        int64_t t0 = cb_mono_us();
        uint64_t hash = cb_kws_phrases_hash(phrases);
        bool quiet;
        enum cb_result rc = CB_RESULT_OK;

        if (pass.items == NULL || skipped == NULL) {
                cb_err_printf(err, err_size, "out of memory");
                rc = CB_RESULT_FAIL;
                goto out;
        }
        quiet = hash == dec->phrases_hash; /* the same list as last time: warned then */
        dec->phrases_hash = hash;
        if (cb_kws_spec_build(dec->ps, phrases, quiet, &spec, skipped) != 0)
                cb_warn("offline stt: keyword list over 64 KiB; the rest is left out");
        if (spec.len > 0 &&
            cb_kws_search_set(dec->ps, dec->lm_search, &dec->kws_spec, spec.data) == 0 &&
            ps_set_search(dec->ps, CB_KWS_SEARCH) == 0) {
                rc = run_pass(&pass, audio, err, err_size);
                ps_set_search(dec->ps, dec->lm_search);
                atomic_fetch_add(&off->kws_us, (unsigned long long)(cb_mono_us() - t0));
        }
        if (rc == CB_RESULT_OK) {
                json_object_set_new(result, "keywords_spotted", pass.items);
                pass.items = NULL;
                if (json_array_size(skipped) > 0) {
                        json_object_set_new(result, "keywords_skipped", skipped);
                        skipped = NULL;
                }
        }
out:
        json_decref(pass.items);
        json_decref(skipped);
        cb_buf_free(&spec);
        return rc;
}

/* ---- the engine --------------------------------------------------------------------------- */

static bool english(const char *language)
{
        return language == NULL || language[0] == '\0' ||
               (strncmp(language, "en", 2) == 0 &&
                (language[2] == '\0' || language[2] == '-' || language[2] == '_'));
}

/* Build {"text","language","duration_s","segments","engine","model","chunks"} from a finished
 * transcription pass; NULL when memory runs out. Takes pass->items. */
static json_t *result_of(struct pass *pass)
{
        json_t *result =
            json_pack("{s:s, s:s, s:f, s:o, s:s, s:s, s:i}", "text",
                      pass->text.data != NULL ? pass->text.data : "", "language", "en",
                      "duration_s", (double)pass->samples / CB_PCM16K_RATE, "segments", pass->items,
                      "engine", "offline", "model", MODEL_NAME, "chunks", 1);

        pass->items = NULL; /* "o" stole it, even on failure */
        return result;
}

static enum cb_result offline_transcribe(void *self, const struct cb_stt_audio *audio,
                                         const struct cb_stt_request *req, json_t **result,
                                         long *retry_after_s, char *err, size_t err_size)
{
        struct offline *off = self;
        struct decoder *dec = NULL;
        struct pass pass = {.kws = false, .text = {.max = (size_t)16 * 1024 * 1024}};
        int64_t t0 = cb_mono_us();
        enum cb_result rc = CB_RESULT_FAIL;

        *result = NULL;
        *retry_after_s = 0;
        atomic_fetch_add(&off->requests, 1);
        if (!english(req != NULL ? req->language : NULL)) {
                cb_err_printf(err, err_size,
                              "the offline engine has an English model only (not %s)",
                              req->language);
                goto out;
        }
        dec = thread_decoder(off);
        if (dec == NULL) {
                cb_err_printf(err, err_size, "the PocketSphinx decoder could not be loaded");
                rc = CB_RESULT_RETRY; /* memory may come back; the model is checked at start */
                goto out;
        }
        pass.dec = dec;
        pass.items = json_array();
        if (pass.items == NULL) {
                cb_err_printf(err, err_size, "out of memory");
                goto out;
        }
        rc = run_pass(&pass, audio, err, err_size);
        if (rc != CB_RESULT_OK)
                goto out;
        atomic_fetch_add(&off->lm_us, (unsigned long long)(cb_mono_us() - t0));
        atomic_fetch_add(&off->audio_ms, pass.samples * 1000 / CB_PCM16K_RATE);
        *result = result_of(&pass);
        if (*result == NULL) {
                cb_err_printf(err, err_size, "out of memory");
                rc = CB_RESULT_FAIL;
                goto out;
        }
        if (req != NULL && req->phrases != NULL && req->phrases[0] != NULL)
                rc = keyword_pass(off, dec, audio, req->phrases, *result, err, err_size);
        if (rc != CB_RESULT_OK) {
                json_decref(*result);
                *result = NULL;
        }
out:
        if (rc != CB_RESULT_OK)
                atomic_fetch_add(&off->failures, 1);
        json_decref(pass.items);
        cb_buf_free(&pass.text);
        return rc;
}

/* "<dir>/<name>" into a new string, or NULL (logged) when it is not readable. */
static char *model_path(const char *dir, const char *name)
{
        char *path = NULL;

        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return NULL;
        if (access(path, R_OK) != 0) {
                cb_error("offline stt: %s: %s (install pocketsphinx-en-us, or set [stt] "
                         "offline_model_dir to a directory laid out like "
                         "/usr/share/pocketsphinx/model/en-us)",
                         path, strerror(errno));
                free(path);
                return NULL;
        }
        return path;
}

static void offline_destroy(void *self);

static void *offline_create(const struct cb_config *cfg)
{
        struct offline *off = calloc(1, sizeof(*off));
        const char *dir = cfg->stt.offline_model_dir;

        if (off == NULL)
                return NULL;
        if (pthread_key_create(&off->key, decoder_exit) != 0) {
                free(off);
                return NULL;
        }
        pthread_mutex_init(&off->lock, NULL);
        if (!english(cfg->stt.language)) {
                cb_error("offline stt: [stt] language = %s, but the offline engine has an "
                         "English model only",
                         cfg->stt.language);
                goto fail;
        }
        off->hmm = model_path(dir, "en-us");
        off->lm = model_path(dir, "en-us.lm.bin");
        off->dict = model_path(dir, "cmudict-en-us.dict");
        if (off->hmm == NULL || off->lm == NULL || off->dict == NULL)
                goto fail;
        /* Process-wide and idempotent: PocketSphinx errors to our log, its own log file off. */
        err_set_callback(ps_log, NULL);
        err_set_logfp(NULL);
        return off;
fail:
        offline_destroy(off);
        return NULL;
}

/* Frees every thread's decoder. Call it once no thread transcribes any more (the worker pool
 * has stopped); decoders of threads that exit later are not freed twice (the key is gone). */
static void offline_destroy(void *self)
{
        struct offline *off = self;
        struct decoder *dec;

        if (off == NULL)
                return;
        pthread_key_delete(off->key);
        pthread_mutex_lock(&off->lock);
        while ((dec = off->decoders) != NULL) {
                off->decoders = dec->next;
                decoder_free(dec);
        }
        pthread_mutex_unlock(&off->lock);
        pthread_mutex_destroy(&off->lock);
        free(off->hmm);
        free(off->lm);
        free(off->dict);
        free(off);
}

static void offline_metrics(void *self, struct cb_buf *out)
{
        struct offline *off = self;

        cb_buf_printf(out,
                      "# HELP callbridge_stt_offline_requests_total Offline transcriptions.\n"
                      "# TYPE callbridge_stt_offline_requests_total counter\n"
                      "callbridge_stt_offline_requests_total %lu\n"
                      "# HELP callbridge_stt_offline_failures_total Offline transcriptions that "
                      "failed.\n# TYPE callbridge_stt_offline_failures_total counter\n"
                      "callbridge_stt_offline_failures_total %lu\n"
                      "# HELP callbridge_stt_offline_decoders Decoders loaded (one per worker "
                      "thread that transcribed).\n# TYPE callbridge_stt_offline_decoders counter\n"
                      "callbridge_stt_offline_decoders %lu\n"
                      "# HELP callbridge_stt_offline_audio_seconds_total Audio transcribed.\n"
                      "# TYPE callbridge_stt_offline_audio_seconds_total counter\n"
                      "callbridge_stt_offline_audio_seconds_total %.3f\n"
                      "# HELP callbridge_stt_offline_decode_seconds_total Decoding time by pass.\n"
                      "# TYPE callbridge_stt_offline_decode_seconds_total counter\n"
                      "callbridge_stt_offline_decode_seconds_total{pass=\"text\"} %.3f\n"
                      "callbridge_stt_offline_decode_seconds_total{pass=\"keywords\"} %.3f\n",
                      atomic_load(&off->requests), atomic_load(&off->failures),
                      atomic_load(&off->decoders_made), (double)atomic_load(&off->audio_ms) / 1e3,
                      (double)atomic_load(&off->lm_us) / 1e6,
                      (double)atomic_load(&off->kws_us) / 1e6);
}

const struct cb_stt_ops cb_stt_offline = {
    .name = "offline",
    .create = offline_create,
    .destroy = offline_destroy,
    .transcribe = offline_transcribe,
    .metrics = offline_metrics,
};
