/* stt_offline_probe (cb-stt-offline-probe): run the offline speech engine on audio files, for
 * the integration test and bench/stt_offline.sh.
 *
 *   cb-stt-offline-probe [-m MODEL_DIR] [-k PHRASE]... [-K FILE] [-n] [-j THREADS] AUDIO...
 *
 * -k adds a keyword phrase, -K reads phrases one per line, -n skips the keyword pass even with
 * phrases. The engine is made once and every file goes through it, in turn or, with -j, on
 * THREADS threads (file i on thread i % THREADS, each thread with its own decoder, freed when
 * the thread exits, as the job workers do); each prints one JSON line,
 * {"file","decode_s","result"} or {"file","outcome","error"}, in the order they finish. Exit 0 when
 * every file transcribed, 1 otherwise, 2 on usage errors, 77 when this build has no PocketSphinx.
 */
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "callbridge/config.h"
#include "callbridge/log.h"
#include "callbridge/stt.h"
#include "callbridge/util.h"

#define MAX_PHRASES 512
#define MAX_THREADS 16

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

/* What one thread transcribes: files[first], files[first + step], ... */
struct worker {
        pthread_t thread;
        struct cb_stt *stt;
        const struct cb_stt_request *req;
        char **files;
        int count, first, step;
        int rc;
};

static int usage(void)
{
        fprintf(stderr, "usage: cb-stt-offline-probe [-m MODEL_DIR] [-k PHRASE]... [-K FILE] "
                        "[-n] [-j THREADS] AUDIO...\n");
        return 2;
}

static int file_read_at(void *ctx, uint64_t off, void *buf, size_t len)
{
        int fd = *(int *)ctx;
        size_t done = 0;

        while (done < len) {
                ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));

                if (n <= 0)
                        return -1;
                done += (size_t)n;
        }
        return 0;
}

static const char *content_type(const char *path)
{
        const char *dot = strrchr(path, '.');

        if (dot != NULL && strcmp(dot, ".mp3") == 0)
                return "audio/mpeg";
        if (dot != NULL && (strcmp(dot, ".ogg") == 0 || strcmp(dot, ".opus") == 0))
                return "audio/ogg";
        if (dot != NULL && strcmp(dot, ".webm") == 0)
                return "audio/webm";
        return "audio/wav";
}

/* Transcribe one file and print its line; 0 when it transcribed. */
static int probe(struct cb_stt *stt, const char *path, const struct cb_stt_request *req)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct cb_stt_audio audio = {.read_at = file_read_at, .ctx = &fd};
        json_t *result = NULL, *line;
        char err[512] = "";
        long retry_after = 0;
        int64_t t0;
        enum cb_result rc;
        off_t size;

        if (fd < 0 || (size = lseek(fd, 0, SEEK_END)) < 0) {
                fprintf(stderr, "cb-stt-offline-probe: cannot open %s\n", path);
                if (fd >= 0)
                        close(fd);
                return 1;
        }
        audio.size = (uint64_t)size;
        audio.content_type = content_type(path);
        t0 = cb_mono_us();
        rc = stt->ops->transcribe(stt->self, &audio, req, &result, &retry_after, err, sizeof(err));
        if (rc == CB_RESULT_OK)
                line = json_pack("{s:s, s:f, s:o}", "file", path, "decode_s",
                                 (double)(cb_mono_us() - t0) / 1e6, "result", result);
        else
                line = json_pack("{s:s, s:s, s:s}", "file", path, "outcome",
                                 rc == CB_RESULT_RETRY ? "retry" : "fail", "error", err);
        pthread_mutex_lock(&out_lock);
        if (line != NULL) {
                json_dumpf(line, stdout, JSON_COMPACT);
                fputc('\n', stdout);
                fflush(stdout);
        }
        pthread_mutex_unlock(&out_lock);
        json_decref(line);
        close(fd);
        return rc == CB_RESULT_OK ? 0 : 1;
}

static void *work(void *arg)
{
        struct worker *w = arg;

        for (int i = w->first; i < w->count; i += w->step)
                w->rc |= probe(w->stt, w->files[i], w->req);
        return NULL;
}

/* Transcribe `files` on `threads` threads; 0 when every file transcribed. */
static int run_threads(struct cb_stt *stt, const struct cb_stt_request *req, char **files,
                       int count, int threads)
{
        struct worker w[MAX_THREADS];
        int started = 0, rc = 0;

        for (int t = 0; t < threads; t++) {
                w[t] = (struct worker){.stt = stt,
                                       .req = req,
                                       .files = files,
                                       .count = count,
                                       .first = t,
                                       .step = threads};
                if (pthread_create(&w[t].thread, NULL, work, &w[t]) != 0) {
                        rc = 1;
                        break;
                }
                started++;
        }
        for (int t = 0; t < started; t++) {
                pthread_join(w[t].thread, NULL);
                rc |= w[t].rc;
        }
        return rc;
}

/* Phrases of FILE, one a line, appended to `phrases` (strdup'd; the caller frees). */
static int read_phrases(const char *path, char **phrases, size_t *n)
{
        char line[256];
        FILE *f = fopen(path, "r");

        if (f == NULL)
                return -1;
        while (fgets(line, sizeof(line), f) != NULL && *n < MAX_PHRASES) {
                line[strcspn(line, "\r\n")] = '\0';
                if (line[0] != '\0' && line[0] != '#')
                        phrases[(*n)++] = strdup(line);
        }
        fclose(f);
        return 0;
}

int main(int argc, char **argv)
{
        char *phrases[MAX_PHRASES + 1] = {0};
        size_t nphrases = 0;
        bool keywords = true;
        long threads = 0;
        struct cb_config *cfg = NULL;
        struct cb_config_errors errs = {0};
        struct cb_stt *stt = NULL;
        int opt, rc = 0;

#ifndef CB_HAVE_POCKETSPHINX
        fprintf(stderr, "cb-stt-offline-probe: this build has no PocketSphinx (offline engine "
                        "not compiled; apt install libpocketsphinx-dev pocketsphinx-en-us)\n");
        return 77;
#endif
        while ((opt = getopt(argc, argv, "m:k:K:nj:")) != -1) {
                switch (opt) {
                case 'm':
                        setenv("CALLBRIDGE_STT_OFFLINE_MODEL_DIR", optarg, 1);
                        break;
                case 'k':
                        if (nphrases < MAX_PHRASES)
                                phrases[nphrases++] = strdup(optarg);
                        break;
                case 'K':
                        if (read_phrases(optarg, phrases, &nphrases) != 0)
                                return usage();
                        break;
                case 'n':
                        keywords = false;
                        break;
                case 'j':
                        if (!cb_parse_long(optarg, 1, MAX_THREADS, &threads))
                                return usage();
                        break;
                default:
                        return usage();
                }
        }
        if (optind >= argc)
                return usage();
        setenv("CALLBRIDGE_STT_ENGINE", "offline", 1);
        if (cb_config_load("/dev/null", &cfg, &errs) != 0) {
                for (size_t i = 0; i < errs.count; i++)
                        fprintf(stderr, "cb-stt-offline-probe: %s\n", errs.lines[i]);
                cb_config_errors_free(&errs);
                return 1;
        }
        stt = cb_stt_create(cfg);
        if (stt == NULL) {
                rc = 1;
                goto out;
        }
        {
                struct cb_stt_request req = {
                    .phrases = keywords && nphrases > 0 ? (const char *const *)phrases : NULL};

                if (threads > 0)
                        rc = run_threads(stt, &req, argv + optind, argc - optind, (int)threads);
                for (int i = optind; threads == 0 && i < argc; i++)
                        rc |= probe(stt, argv[i], &req);
        }
out:
        cb_stt_destroy(&stt);
        cb_config_free(&cfg);
        for (size_t i = 0; i < nphrases; i++)
                free(phrases[i]);
        return rc;
}
