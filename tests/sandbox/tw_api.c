/* callbridge-sandbox: what every Twilio REST route shares: HTTP Basic auth against the
 * account SID and auth token, Twilio's error body, fault replies, sids, RFC 2822 dates. */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbridge/crypto.h"
#include "callbridge/util.h"
#include "tw_emu.h"

#define MAX_AUTH_HEADER 1024

void tw_error(struct sb_reply *reply, unsigned int status, int code, const char *fmt, ...)
{
        char msg[512], more[96];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        snprintf(more, sizeof(more), "https://www.twilio.com/docs/errors/%d", code);
        sb_reply_json_take(reply, status,
                           json_pack("{s:i,s:s,s:s,s:i}", "code", code, "message", msg, "more_info",
                                     more, "status", (int)status));
}

static void fault_reply(enum sb_fault fault, const struct sb_request *req, struct sb_reply *reply)
{
        if (fault == SB_FAULT_RATE_LIMIT)
                tw_error(reply, 429, 20429, "Too Many Requests");
        else
                tw_error(reply, 500, 20500, "An internal server error has occurred");
}

const struct sb_upstream sb_tw_upstream = {.name = "twilio", .fault_reply = fault_reply};

void sb_tw_unrouted(const struct sb_request *req, struct sb_reply *reply)
{
        tw_error(reply, 404, 20404, "The requested resource %s was not found", req->path);
}

/* Decode "Basic base64(user:pass)" into `buf` and split it at the first ':'. False when the
 * header is missing or malformed. */
static bool basic_credentials(const char *header, char *buf, size_t len, const char **user,
                              const char **pass)
{
        size_t in_len;
        int n;
        char *colon;

        if (!header || strncasecmp(header, "Basic ", 6) != 0)
                return false;
        header += 6;
        while (*header == ' ')
                header++;
        in_len = strlen(header);
        if (in_len == 0 || in_len % 4 != 0 || in_len / 4 * 3 + 1 > len)
                return false;
        n = EVP_DecodeBlock((unsigned char *)buf, (const unsigned char *)header, (int)in_len);
        if (n < 0)
                return false;
        /* EVP_DecodeBlock counts the padding as zero bytes */
        for (size_t i = in_len; i > 0 && header[i - 1] == '=' && n > 0; i--)
                n--;
        buf[n] = '\0';
        if (memchr(buf, '\0', (size_t)n))
                return false;
        colon = strchr(buf, ':');
        if (!colon)
                return false;
        *colon = '\0';
        *user = buf;
        *pass = colon + 1;
        return true;
}

static bool equal_secret(const char *a, const char *b)
{
        size_t n = strlen(a);

        return n == strlen(b) && cb_ct_equal(a, b, n);
}

bool tw_auth(const struct sb_request *req, struct sb_reply *reply, char account[TW_SID_LEN + 1])
{
        const char *path_ac = req->path + strlen(TW_PREFIX);
        size_t ac_len = strcspn(path_ac, "/");
        char buf[MAX_AUTH_HEADER];
        const char *user = NULL, *pass = NULL;
        const struct sb_config *cfg = req->cfg;
        bool ok;

        /* Like Twilio: the account SID with its auth token, or an API key SID with its secret. */
        ok = cfg->twilio_account_sid && cfg->twilio_auth_token &&
             basic_credentials(sb_request_header(req, "Authorization"), buf, sizeof(buf), &user,
                               &pass) &&
             ((strcmp(user, cfg->twilio_account_sid) == 0 &&
               equal_secret(pass, cfg->twilio_auth_token)) ||
              (cfg->twilio_api_key_sid && cfg->twilio_api_key_secret &&
               strcmp(user, cfg->twilio_api_key_sid) == 0 &&
               equal_secret(pass, cfg->twilio_api_key_secret))) &&
             ac_len == strlen(cfg->twilio_account_sid) &&
             strncmp(path_ac, cfg->twilio_account_sid, ac_len) == 0;
        OPENSSL_cleanse(buf, sizeof(buf));
        if (!ok) {
                tw_error(reply, 401, 20003, "Authenticate");
                sb_reply_header(reply, "WWW-Authenticate", "Basic realm=\"Twilio API\"");
                return false;
        }
        snprintf(account, TW_SID_LEN + 1, "%s", cfg->twilio_account_sid);
        return true;
}

static bool is_lower_hex(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
                      (s[i] >= 'A' && s[i] <= 'F')))
                        return false;
        }
        return true;
}

bool tw_path_sid(const char *path, const char *prefix, char out[TW_SID_LEN + 1], char ext[8])
{
        const char *last = strrchr(path, '/');
        const char *dot;
        size_t n;

        if (!last)
                return false;
        last++;
        dot = strchr(last, '.');
        n = dot ? (size_t)(dot - last) : strlen(last);
        if (n != TW_SID_LEN || strncmp(last, prefix, 2) != 0 || !is_lower_hex(last + 2, 32))
                return false;
        if (dot && strlen(dot + 1) >= 8)
                return false;
        memcpy(out, last, n);
        out[n] = '\0';
        snprintf(ext, 8, "%s", dot ? dot + 1 : "");
        return true;
}

void tw_new_sid(const char *prefix, char out[TW_SID_LEN + 1])
{
        unsigned char raw[16];

        if (RAND_bytes(raw, sizeof(raw)) != 1) {
                /* Only a local test server's ids: the fault dice will do. */
                for (size_t i = 0; i < sizeof(raw); i++)
                        raw[i] = (unsigned char)(sb_random_unit() * 256.0);
        }
        out[0] = prefix[0];
        out[1] = prefix[1];
        cb_hex(raw, sizeof(raw), out + 2);
}

void tw_date(time_t t, char out[TW_DATE_LEN])
{
        static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
        static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        char buf[96];
        struct tm tm;

        gmtime_r(&t, &tm);
        snprintf(buf, sizeof(buf), "%.3s, %02d %.3s %04d %02d:%02d:%02d +0000",
                 days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900,
                 tm.tm_hour, tm.tm_min, tm.tm_sec);
        cb_strlcpy(out, buf, TW_DATE_LEN);
}

bool tw_url_ok(const char *url)
{
        const char *host;
        size_t host_len;

        if (strncmp(url, "http://", 7) == 0)
                host = url + 7;
        else if (strncmp(url, "https://", 8) == 0)
                host = url + 8;
        else
                return false;
        host_len = strcspn(host, "/?#");
        if (host_len == 0 || host[0] == ':' || strlen(url) > 4000)
                return false;
        for (const char *p = url; *p; p++) {
                if ((unsigned char)*p <= ' ' || *p == 0x7f)
                        return false;
        }
        return true;
}
