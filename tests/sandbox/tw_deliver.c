/* callbridge-sandbox: delivering one webhook as Twilio does. The request is signed
 * (X-Twilio-Signature over the exact URL and the form parameters) and carries an
 * I-Twilio-Idempotency-Token. A callback URL may end in Twilio's connection overrides
 * ("#rc=3&rp=all&ct=..&rt=..&tt=.."): a delivery that fails as the retry policy says (ct: no
 * connection, rt: no answer in time, 4xx, 5xx, all) is sent again up to rc times with the same
 * signature and token, 1 s after the first try and doubling, within tt. Without a fragment
 * there is one attempt. Every attempt is logged in twilio_webhooks. */
#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "callbridge/crypto.h"
#include "callbridge/util.h"
#include "tw_emu.h"
#include "tw_sig.h"

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
        struct cb_buf *answer = arg;

        if (answer)
                (void)cb_buf_append(answer, data, size * nmemb); /* over the cap: dropped */
        return size * nmemb;
}

static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
        return tw_driver_stopping() ? 1 : 0; /* abort the transfer when the sandbox stops */
}

/* Twilio's connection overrides of one callback URL (its "#..." fragment). */
struct overrides {
        long ct, rt, tt; /* connect, read and total timeouts (ms) */
        long rc;         /* retries */
        unsigned rp;     /* RP_* failures retried */
};

enum { RP_4XX = 1, RP_5XX = 2, RP_CT = 4, RP_RT = 8 };

/* The overrides in `fragment` (NULL: none). Without a fragment Twilio makes one attempt;
 * with one, what it leaves out has Twilio's defaults (rc 1, rp ct, ct 5000, rt and tt
 * 15000). Values out of range are clamped, unknown keys ignored. */
static void overrides_read(const char *fragment, struct overrides *o)
{
        struct cb_form f = {0};

        *o = (struct overrides){.ct = 5000, .rt = 15000, .tt = 15000, .rc = 0, .rp = RP_CT};
        if (!fragment)
                return;
        o->rc = 1;
        if (cb_form_parse(&f, fragment, strlen(fragment)) != 0)
                return;
        for (size_t i = 0; i < f.n; i++) {
                const char *k = f.p[i].name, *v = f.p[i].value;
                long n;
                if (strcmp(k, "rp") == 0) {
                        o->rp = 0;
                        o->rp |= strstr(v, "4xx") ? RP_4XX : 0;
                        o->rp |= strstr(v, "5xx") ? RP_5XX : 0;
                        o->rp |= strstr(v, "ct") ? RP_CT : 0;
                        o->rp |= strstr(v, "rt") ? RP_RT : 0;
                        o->rp |= strstr(v, "all") ? RP_4XX | RP_5XX | RP_CT | RP_RT : 0;
                } else if (!cb_parse_long(v, 0, 1000000, &n)) {
                        continue;
                } else if (strcmp(k, "rc") == 0) {
                        o->rc = n > 5 ? 5 : n;
                } else if (strcmp(k, "ct") == 0) {
                        o->ct = n < 100 ? 100 : n > 10000 ? 10000 : n;
                } else if (strcmp(k, "rt") == 0 || strcmp(k, "tt") == 0) {
                        n = n < 100 ? 100 : n > 15000 ? 15000 : n;
                        *(k[0] == 'r' ? &o->rt : &o->tt) = n;
                }
        }
        cb_form_free(&f);
}

/* Does the retry policy cover this outcome (`status` 0: no answer; `connected` tells a
 * connect failure from a read timeout or a dropped connection)? */
static bool retryable(const struct overrides *o, long status, bool connected)
{
        if (status == 0)
                return o->rp & (connected ? RP_RT : RP_CT);
        if (status >= 400 && status < 500)
                return o->rp & RP_4XX;
        return status >= 500 && (o->rp & RP_5XX);
}

/* One HTTP exchange; returns the status, 0 when no answer came (*connected then says whether
 * the TCP connection was made). `answer` may be NULL. The connection is kept for the sender's
 * next request unless hk->close: a sender that pauses (a call talking) holds no idle
 * connection, as hundreds of them would exceed the receiver's per-client limit (callbridge:
 * [server] max_connections_per_ip) where Twilio's webhooks come from many addresses. */
static long http_send(CURL *curl, const struct tw_hook *hk, const char *url, const char *body,
                      const char *sig, const char *token, const struct overrides *o,
                      struct cb_buf *answer, bool *connected)
{
        const char *method = hk->method;
        struct curl_slist *hdrs = NULL, *h;
        char line[160];
        long status = 0;
        double connect_s = 0;

        *connected = false;
        if (!curl)
                return 0;
        curl_easy_reset(curl);
        snprintf(line, sizeof(line), "X-Twilio-Signature: %s", sig);
        hdrs = curl_slist_append(hdrs, line);
        snprintf(line, sizeof(line), "I-Twilio-Idempotency-Token: %s", token);
        h = hdrs ? curl_slist_append(hdrs, line) : NULL;
        h = h ? curl_slist_append(h, "Expect:") : NULL;
        if (h && strcmp(method, "POST") == 0)
                h = curl_slist_append(h, "Content-Type: application/x-www-form-urlencoded");
        if (!h)
                goto out;
        hdrs = h;
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(curl, CURLOPT_USERAGENT, "TwilioProxy/1.1");
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, hk->close ? 1L : 0L);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, o->ct);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, o->ct + o->rt);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, answer);
        curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
        if (strcmp(method, "POST") == 0) {
                curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
                curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        } else {
                curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
        }
        if (curl_easy_perform(curl) == CURLE_OK)
                curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(curl, CURLINFO_CONNECT_TIME, &connect_s);
        *connected = connect_s > 0;
out:
        curl_slist_free_all(hdrs);
        return status;
}

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Log one delivery attempt unless the call was abandoned by a reset; false when it was. */
static bool log_delivery(const struct tw_job *job, const struct tw_hook *hk, const char *url,
                         long status, long attempt)
{
        bool current;

        sb_state_lock();
        current = tw_generation_locked() == job->generation;
        if (current)
                tw_webhook_log_locked(job->sid, hk->kind, hk->status[0] ? hk->status : NULL, url,
                                      status, attempt);
        sb_state_unlock();
        return current;
}

/* Send one signed request, retried as the URL's connection overrides ask: a failure the
 * retry policy covers is tried again up to rc times, 1 s after the first try and doubling,
 * while the total time tt allows. Returns the last status (0: no answer); *current false
 * when the call was abandoned meanwhile. */
static long send_retried(CURL *curl, const struct tw_job *job, const struct tw_hook *hk,
                         const char *url, const char *body, const char *sig, const char *token,
                         const struct overrides *o, struct cb_buf *answer, bool *current)
{
        int64_t t0 = now_ms();
        long status = 0, wait = 1000;
        bool connected;

        for (long attempt = 0;; attempt++) {
                if (answer)
                        cb_buf_free(answer);
                status = http_send(curl, hk, url, body, sig, token, o, answer, &connected);
                *current = log_delivery(job, hk, hk->url, status, attempt);
                if (!*current || (status >= 200 && status < 400) || attempt >= o->rc ||
                    !retryable(o, status, connected) || now_ms() - t0 + wait >= o->tt ||
                    !tw_driver_pause_ms(wait))
                        return status;
                wait *= 2;
        }
}

/* See tw_emu.h. The duplicate fault resends with the same token, as a Twilio retry would. */
bool tw_deliver(CURL *curl, const struct tw_job *job, const struct tw_hook *hk,
                struct cb_buf *answer)
{
        struct cb_buf body = {.max = (size_t)64 * 1024}, target = {.max = (size_t)72 * 1024},
                      signed_url = {.max = (size_t)72 * 1024};
        const char *hash = strchr(hk->url, '#');
        size_t base_len = hash ? (size_t)(hash - hk->url) : strlen(hk->url);
        char sig[TW_SIG_LEN + 1], token[48];
        unsigned char raw[16];
        bool get = strcmp(hk->method, "GET") == 0, ok = false;
        struct overrides o;
        long status;

        overrides_read(hash ? hash + 1 : NULL, &o);
        if (cb_form_encode(&hk->params, &body) != 0 ||
            cb_buf_append(&target, hk->url, base_len) != 0 || cb_buf_puts(&target, "") != 0)
                goto out;
        if (get && (cb_buf_puts(&target, memchr(hk->url, '?', base_len) ? "&" : "?") != 0 ||
                    cb_buf_puts(&target, body.data ? body.data : "") != 0))
                goto out;
        if (cb_buf_puts(&signed_url, target.data) != 0 ||
            (hash && cb_buf_puts(&signed_url, hash) != 0))
                goto out;
        if (tw_sig_compute(tw_driver_auth_token(), signed_url.data, get ? NULL : &hk->params,
                           sig) != 0)
                goto out;
        cb_random(raw, sizeof(raw));
        cb_hex(raw, sizeof(raw), token);
        status = send_retried(curl, job, hk, target.data, body.data ? body.data : "", sig, token,
                              &o, answer, &ok);
        if (answer && (status < 200 || status > 299))
                cb_buf_free(answer);
        if (ok && sb_fault_webhook_duplicate())
                send_retried(curl, job, hk, target.data, body.data ? body.data : "", sig, token, &o,
                             NULL, &ok);
out:
        cb_buf_free(&body);
        cb_buf_free(&target);
        cb_buf_free(&signed_url);
        return ok;
}
