/* The access log: one JSON line per request, as cb_log_write would write it, but built by hand
 * and buffered. A request thread copies its line into a shared buffer (a mutex, a memcpy) and
 * never writes itself; a writer thread sends what piled up to stderr every FLUSH_MS in one
 * write(2) — under load one system call for hundreds of lines instead of one each.
 *
 * Never blocking a request on a slow stderr and never losing a line cannot both hold when stderr
 * stays slower than the requests: then the buffer (BUF_CAP bytes) fills, further lines are
 * dropped and counted (callbridge_access_log_dropped_total, and one warning once writing catches
 * up). Lines are written at cb_access_log_stop, at exit() (atexit) and, on an abort or a crash
 * that no one else handles, from the signal handler before the process dies; a kill -9 loses
 * the last FLUSH_MS of lines. Without the writer (not started, or stopped) lines are written
 * directly, one write each. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "access_log.h"
#include "callbridge/log.h"

#define BUF_CAP  (1 << 20)
#define FLUSH_MS 5
#define LINE_MAX 2048

static struct {
        pthread_mutex_t lock;
        pthread_cond_t wake;
        pthread_t thread;
        char *bufs[2];
        size_t len[2];
        int active;   /* the buffer lines are appended to */
        bool running; /* the writer thread is up */
        bool stop;
        unsigned long dropped_unreported;
} w = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};
static atomic_ulong dropped;
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

/* All of it, retrying short writes and interruptions; gives up on other errors. */
static void write_all(const char *p, size_t n)
{
        while (n > 0) {
                ssize_t k = write(STDERR_FILENO, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return;
                p += k;
                n -= (size_t)k;
        }
}

static void *writer_main(void *arg)
{
        struct timespec pause = {.tv_sec = 0, .tv_nsec = FLUSH_MS * 1000000L};
        unsigned long lost;
        int b;

        (void)arg;
        pthread_mutex_lock(&w.lock);
        for (;;) {
                while (w.len[w.active] == 0 && !w.stop)
                        pthread_cond_wait(&w.wake, &w.lock);
                if (w.len[w.active] == 0)
                        break; /* stopping, nothing left */
                if (!w.stop) { /* let a burst pile up: one write for all of it */
                        pthread_mutex_unlock(&w.lock);
                        nanosleep(&pause, NULL);
                        pthread_mutex_lock(&w.lock);
                }
                b = w.active;
                w.active = 1 - b;
                lost = w.dropped_unreported;
                w.dropped_unreported = 0;
                pthread_mutex_unlock(&w.lock);
                write_all(w.bufs[b], w.len[b]);
                if (lost > 0)
                        cb_warn("access log: %lu lines dropped (stderr was slower than the "
                                "requests)",
                                lost);
                pthread_mutex_lock(&w.lock);
                w.len[b] = 0;
        }
        pthread_mutex_unlock(&w.lock);
        return NULL;
}

/* What is buffered, written now: at exit, or from a fatal signal's handler (the buffer may be
 * in the middle of an append then; write(2) is async-signal-safe). */
static void flush_now(void)
{
        int a = w.active;

        if (w.bufs[a] != NULL && w.len[a] > 0) {
                write_all(w.bufs[a], w.len[a]);
                w.len[a] = 0;
        }
}

static void on_fatal(int sig)
{
        flush_now();
        raise(sig); /* SA_RESETHAND: the default action now */
}

/* At exit and on abort/crash signals nobody else handles (a sanitizer's own handler stays). */
static void install_hooks(void)
{
        static const int sigs[] = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
        struct sigaction sa = {.sa_handler = on_fatal, .sa_flags = (int)SA_RESETHAND};

        atexit(cb_access_log_stop);
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
                struct sigaction old;
                if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL &&
                    !(old.sa_flags & SA_SIGINFO))
                        sigaction(sigs[i], &sa, NULL);
        }
}

int cb_access_log_start(void)
{
        int rc = -1;

        pthread_mutex_lock(&w.lock);
        if (w.running) {
                rc = 0;
                goto out;
        }
        for (int i = 0; i < 2; i++) {
                if (w.bufs[i] == NULL)
                        w.bufs[i] = malloc(BUF_CAP);
                if (w.bufs[i] == NULL)
                        goto out;
        }
        w.stop = false;
        if (pthread_create(&w.thread, NULL, writer_main, NULL) != 0)
                goto out;
        w.running = true;
        rc = 0;
out:
        pthread_mutex_unlock(&w.lock);
        if (rc == 0)
                pthread_once(&hooks_once, install_hooks);
        else
                cb_warn("access log: no writer thread; lines are written one at a time");
        return rc;
}

void cb_access_log_stop(void)
{
        bool join;

        pthread_mutex_lock(&w.lock);
        join = w.running;
        w.stop = true;
        pthread_cond_signal(&w.wake);
        pthread_mutex_unlock(&w.lock);
        if (join)
                pthread_join(w.thread, NULL);
        pthread_mutex_lock(&w.lock);
        w.running = false;
        flush_now(); /* lines a request finished after the writer's last round */
        pthread_mutex_unlock(&w.lock);
}

/* A line being built: full once something did not fit (the line is then not written). */
struct line {
        char *p;
        size_t o, cap;
        bool full;
};

static void put(struct line *b, const char *s)
{
        size_t n = strlen(s);

        if (b->o + n >= b->cap) {
                b->full = true;
                return;
        }
        memcpy(b->p + b->o, s, n);
        b->o += n;
}

/* `s` as a JSON string body (no quotes), cut before b->p[limit]: '"', '\\' and control bytes
 * escaped, bytes outside ASCII as '?' so the line stays UTF-8. */
static void put_str(struct line *b, const char *s, size_t limit)
{
        static const char hex[] = "0123456789abcdef";

        if (limit > b->cap)
                limit = b->cap;
        for (; *s != '\0' && b->o + 7 < limit; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '"' || c == '\\') {
                        b->p[b->o++] = '\\';
                        b->p[b->o++] = (char)c;
                } else if (c < 0x20) {
                        memcpy(b->p + b->o, "\\u00", 4);
                        b->p[b->o + 4] = hex[c >> 4];
                        b->p[b->o + 5] = hex[c & 15];
                        b->o += 6;
                } else {
                        b->p[b->o++] = c < 0x7f ? (char)c : '?';
                }
        }
}

/* "2026-12-07T21:30:00.123Z" for now; the date part is kept per thread for the current second. */
static void timestamp(char *out, size_t size)
{
        static __thread time_t sec = -1;
        static __thread char date[64];
        struct timespec now;

        clock_gettime(CLOCK_REALTIME, &now);
        if (now.tv_sec != sec) {
                struct tm tm;
                gmtime_r(&now.tv_sec, &tm);
                snprintf(date, sizeof(date), "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
                sec = now.tv_sec;
        }
        snprintf(out, size, "%s.%03dZ", date, (int)(now.tv_nsec / 1000000) % 1000);
}

/* A double as jansson writes it with JSON_REAL_PRECISION(6): %.6g, ".0" added when it looks
 * like an integer, the exponent without '+' or leading zeros ("1.5e6"). */
static void real6(double v, char *out, size_t size)
{
        char tmp[40];
        int n = snprintf(tmp, sizeof(tmp), "%.6g", v);
        char *e = strchr(tmp, 'e');
        size_t o = 0;

        if (n <= 0 || (size_t)n >= sizeof(tmp) || size < sizeof(tmp)) {
                snprintf(out, size, "0.0");
                return;
        }
        if (e == NULL) {
                snprintf(out, size, strchr(tmp, '.') ? "%s" : "%s.0", tmp);
                return;
        }
        for (const char *p = tmp; p <= e; p++)
                out[o++] = *p;
        if (e[1] == '-')
                out[o++] = '-';
        e += e[1] == '-' || e[1] == '+' ? 2 : 1;
        while (*e == '0' && e[1] != '\0')
                e++;
        snprintf(out + o, size - o, "%s", e);
}

size_t cb_access_log_format(char *out, size_t cap, const struct cb_access_line *l)
{
        struct line b = {.p = out, .cap = cap};
        char ts[96], num[64];
        size_t room;

        timestamp(ts, sizeof(ts));
        put(&b, "{\"ts\":\"");
        put(&b, ts);
        put(&b, "\",\"level\":\"info\",\"msg\":\"request\",\"method\":\"");
        put_str(&b, l->method, b.o + 32);
        put(&b, "\",\"target\":\"");
        /* The target may be cut; what follows it is short (ids, names) and must fit. */
        room = b.cap > b.o ? b.cap - b.o : 0;
        put_str(&b, l->target, b.o + (room > 1024 ? room - 512 : room / 2));
        snprintf(num, sizeof(num), "\",\"status\":%d,\"ms\":", l->status);
        put(&b, num);
        real6(l->ms, num, sizeof(num));
        put(&b, num);
        put(&b, ",\"request_id\":\"");
        put_str(&b, l->request_id, b.o + 200);
        put(&b, "\",\"route\":\"");
        put_str(&b, l->route, b.o + 200);
        if (l->agent != NULL && l->agent[0] != '\0') {
                put(&b, "\",\"agent\":\"");
                put_str(&b, l->agent, b.o + 400);
        }
        put(&b, "\"}\n");
        return b.full ? 0 : b.o;
}

void cb_access_log_write(const struct cb_access_line *l)
{
        char line[LINE_MAX];
        size_t n;

        if (!cb_log_enabled(CB_LOG_INFO))
                return; /* nothing is built for a line that would be dropped */
        n = cb_access_log_format(line, sizeof(line), l);
        if (n == 0)
                return;
        pthread_mutex_lock(&w.lock);
        if (!w.running) {
                pthread_mutex_unlock(&w.lock);
                write_all(line, n);
                return;
        }
        if (w.len[w.active] + n > BUF_CAP) {
                w.dropped_unreported++;
                atomic_fetch_add(&dropped, 1);
        } else {
                memcpy(w.bufs[w.active] + w.len[w.active], line, n);
                if (w.len[w.active] == 0)
                        pthread_cond_signal(&w.wake);
                w.len[w.active] += n;
        }
        pthread_mutex_unlock(&w.lock);
}

void cb_access_log_metrics_write(struct cb_buf *out)
{
        cb_buf_printf(out,
                      "# HELP callbridge_access_log_dropped_total Access log lines dropped "
                      "because stderr was slower than the requests (its buffer was full).\n"
                      "# TYPE callbridge_access_log_dropped_total counter\n"
                      "callbridge_access_log_dropped_total %lu\n",
                      atomic_load(&dropped));
}
