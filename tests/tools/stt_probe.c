/* stt_probe: run the speech-to-text engine a config names on one audio file and print the
 * outcome as one JSON line, so integration tests exercise the real engines against the
 * sandbox.
 *
 *   stt_probe -c FILE [-t CONTENT_TYPE] [-l LANG] [-p PHRASE]... [-n REPEAT] [-m] AUDIO
 *
 * Prints {"result":"ok","transcript":{...}} or {"result":"retry"|"wait"|"fail","error":"...",
 * "retry_after_s":N} per run (-n), then the engine's metrics with -m. Exit 0 when the last
 * run was OK, 1 on FAIL, 3 on RETRY, 2 on usage or setup errors. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "callbridge/config.h"
#include "callbridge/log.h"
#include "callbridge/stt.h"
#include "callbridge/util.h"

#define MAX_PHRASES 32

static int read_fd(void *ctx, uint64_t off, void *buf, size_t len)
{
        int fd = *(int *)ctx;
        char *p = buf;

        while (len > 0) {
                ssize_t n = pread(fd, p, len, (off_t)off);
                if (n <= 0) {
                        if (n < 0 && errno == EINTR)
                                continue;
                        return -1;
                }
                p += n, off += (uint64_t)n, len -= (size_t)n;
        }
        return 0;
}

static int usage(void)
{
        fprintf(stderr, "usage: stt_probe -c FILE [-t TYPE] [-l LANG] [-p PHRASE]... [-n N] "
                        "[-m] AUDIO\n");
        return 2;
}

/* One transcription, printed; returns its result. */
static enum cb_result run_once(struct cb_stt *stt, const struct cb_stt_audio *audio,
                               const struct cb_stt_request *req)
{
        static const char *const names[] = {"ok", "retry", "fail", "wait"};
        json_t *result = NULL, *line;
        long retry_after = 0;
        char err[1024] = "";
        enum cb_result rc =
            stt->ops->transcribe(stt->self, audio, req, &result, &retry_after, err, sizeof(err));
        char *text;

        line = json_pack("{s:s}", "result", names[rc]);
        if (rc == CB_RESULT_OK)
                json_object_set_new(line, "transcript", result);
        else
                json_object_set_new(line, "error", json_string(err));
        json_object_set_new(line, "retry_after_s", json_integer(retry_after));
        text = json_dumps(line, JSON_COMPACT | JSON_REAL_PRECISION(10));
        printf("%s\n", text ? text : "{}");
        fflush(stdout);
        free(text);
        json_decref(line);
        return rc;
}

int main(int argc, char **argv)
{
        const char *conf = NULL, *type = "audio/wav", *lang = NULL, *phrases[MAX_PHRASES + 1];
        size_t n_phrases = 0;
        long repeat = 1;
        bool metrics = false;
        struct cb_config *cfg = NULL;
        struct cb_config_errors errs = {0};
        struct cb_stt *stt = NULL;
        struct stat st;
        int fd = -1, opt, status = 2;
        enum cb_result rc = CB_RESULT_FAIL;

        while ((opt = getopt(argc, argv, "c:t:l:p:n:m")) != -1) {
                if (opt == 'c')
                        conf = optarg;
                else if (opt == 't')
                        type = optarg;
                else if (opt == 'l')
                        lang = optarg;
                else if (opt == 'p' && n_phrases < MAX_PHRASES)
                        phrases[n_phrases++] = optarg;
                else if (opt == 'n' && cb_parse_long(optarg, 1, 100, &repeat))
                        ;
                else if (opt == 'm')
                        metrics = true;
                else
                        return usage();
        }
        phrases[n_phrases] = NULL;
        if (conf == NULL || optind + 1 != argc)
                return usage();
        if (cb_config_load(conf, &cfg, &errs) != 0) {
                for (size_t i = 0; i < errs.count; i++)
                        fprintf(stderr, "stt_probe: %s\n", errs.lines[i]);
                cb_config_errors_free(&errs);
                return 2;
        }
        cb_log_set_level((enum cb_log_level)cb_log_level_parse(cfg->log.level));
        curl_global_init(CURL_GLOBAL_DEFAULT);
        fd = open(argv[optind], O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) != 0) {
                fprintf(stderr, "stt_probe: cannot open %s: %s\n", argv[optind], strerror(errno));
                goto out;
        }
        stt = cb_stt_create(cfg);
        if (stt == NULL) {
                fprintf(stderr, "stt_probe: the engine cannot be created (see the log)\n");
                goto out;
        }
        {
                struct cb_stt_audio audio = {.content_type = type,
                                             .size = (uint64_t)st.st_size,
                                             .read_at = read_fd,
                                             .ctx = &fd};
                struct cb_stt_request req = {.language = lang,
                                             .phrases = n_phrases ? phrases : NULL};

                for (long i = 0; i < repeat; i++)
                        rc = run_once(stt, &audio, &req);
        }
        if (metrics && stt->ops->metrics != NULL) {
                struct cb_buf m = {.max = 1 << 20};
                stt->ops->metrics(stt->self, &m);
                fwrite(m.data ? m.data : "", 1, m.len, stdout);
                cb_buf_free(&m);
        }
        status = rc == CB_RESULT_OK ? 0 : rc == CB_RESULT_FAIL ? 1 : 3;
out:
        cb_stt_destroy(&stt);
        if (fd >= 0)
                close(fd);
        cb_config_free(&cfg);
        curl_global_cleanup();
        return status;
}
