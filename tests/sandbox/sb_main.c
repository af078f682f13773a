/* callbridge-sandbox: command line, secrets, signals. Exit 0 on SIGTERM/SIGINT after freeing
 * everything, 1 when it cannot start, 2 on a usage error. */
#include <errno.h>
#include <getopt.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sandbox.h"

#define MAX_SECRET_BYTES ((size_t)64 * 1024)
#define MAX_THREADS      64

static const char usage_text[] =
    "Usage: callbridge-sandbox --listen HOST:PORT [options]\n"
    "\n"
    "Emulates callbridge's upstreams (Salesforce, Twilio, OpenAI, Google, S3) on one local\n"
    "HTTP server, with a control API under /__sandbox/ (seed, state, faults, reset).\n"
    "\n"
    "Options:\n"
    "  --listen HOST:PORT              address to serve on (required; port 0 = any)\n"
    "  --twilio-account-sid SID        the Twilio account SID callbridge uses\n"
    "  --twilio-auth-token-file FILE   the Twilio auth token (signs webhooks)\n"
    "  --twilio-api-key-sid SID        an API key (SK...) that may also authenticate REST calls\n"
    "  --twilio-api-key-secret-file FILE  that API key's secret\n"
    "  --sf-client-id ID               the Salesforce connected app's client id\n"
    "  --sf-cert-file FILE             PEM certificate (or public key) for JWT bearer checks\n"
    "  --sf-client-secret-file FILE    the connected app's client secret\n"
    "  --s3-access-key-id ID           the S3 access key id callbridge signs with\n"
    "  --s3-secret-access-key-file FILE  its secret (S3 requests are SigV4-verified)\n"
    "  --s3-bucket NAME                the one emulated bucket (default callbridge)\n"
    "  --s3-region REGION              the region signatures must name (default us-east-1)\n"
    "  --openai-api-key-file FILE      the OpenAI API key callbridge sends (Bearer); without it\n"
    "                                  any key is taken\n"
    "  --google-api-key-file FILE      a Google API key (?key=) speech:recognize takes\n"
    "  --google-sa-cert-file FILE      PEM certificate (or public key) of a Google service\n"
    "                                  account: its JWTs get tokens at /google/oauth2/token\n"
    "  --hs-access-token-file FILE     the HubSpot private app token it accepts\n"
    "  --hs-client-id ID               the HubSpot app's client id (OAuth refresh grant)\n"
    "  --hs-client-secret-file FILE    that app's client secret\n"
    "  --hs-refresh-token-file FILE    the refresh token /oauth/v1/token takes; without\n"
    "                                  this and a private app token any bearer is taken\n"
    "  --public-url URL                base of the links the sandbox hands out (recording\n"
    "                                  URLs); default http://<listen host>:<bound port>\n"
    "  --threads N                     HTTP thread pool size (default 4)\n"
    "  --verbose                       log every request\n"
    "  --help                          show this help\n";

enum {
        OPT_LISTEN = 256,
        OPT_TW_SID,
        OPT_TW_TOKEN,
        OPT_TW_KEY_SID,
        OPT_TW_KEY_SECRET,
        OPT_SF_ID,
        OPT_SF_CERT,
        OPT_SF_SECRET,
        OPT_PUBLIC_URL,
        OPT_S3_KEY_ID,
        OPT_S3_SECRET,
        OPT_S3_BUCKET,
        OPT_S3_REGION,
        OPT_OPENAI_KEY,
        OPT_GOOGLE_KEY,
        OPT_GOOGLE_SA,
        OPT_HS_TOKEN,
        OPT_HS_CLIENT_ID,
        OPT_HS_SECRET,
        OPT_HS_REFRESH,
        OPT_THREADS,
        OPT_VERBOSE,
        OPT_HELP,
};

static const struct option options[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"twilio-account-sid", required_argument, NULL, OPT_TW_SID},
    {"twilio-auth-token-file", required_argument, NULL, OPT_TW_TOKEN},
    {"twilio-api-key-sid", required_argument, NULL, OPT_TW_KEY_SID},
    {"twilio-api-key-secret-file", required_argument, NULL, OPT_TW_KEY_SECRET},
    {"sf-client-id", required_argument, NULL, OPT_SF_ID},
    {"sf-cert-file", required_argument, NULL, OPT_SF_CERT},
    {"sf-client-secret-file", required_argument, NULL, OPT_SF_SECRET},
    {"public-url", required_argument, NULL, OPT_PUBLIC_URL},
    {"s3-access-key-id", required_argument, NULL, OPT_S3_KEY_ID},
    {"s3-secret-access-key-file", required_argument, NULL, OPT_S3_SECRET},
    {"s3-bucket", required_argument, NULL, OPT_S3_BUCKET},
    {"s3-region", required_argument, NULL, OPT_S3_REGION},
    {"openai-api-key-file", required_argument, NULL, OPT_OPENAI_KEY},
    {"google-api-key-file", required_argument, NULL, OPT_GOOGLE_KEY},
    {"google-sa-cert-file", required_argument, NULL, OPT_GOOGLE_SA},
    {"hs-access-token-file", required_argument, NULL, OPT_HS_TOKEN},
    {"hs-client-id", required_argument, NULL, OPT_HS_CLIENT_ID},
    {"hs-client-secret-file", required_argument, NULL, OPT_HS_SECRET},
    {"hs-refresh-token-file", required_argument, NULL, OPT_HS_REFRESH},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

void sb_log(const char *level, const char *fmt, ...)
{
        char msg[1024], ts[96];
        struct timespec now;
        struct tm tm;
        json_t *line;
        char *text;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)(now.tv_nsec / 1000000));
        line = json_pack("{s:s,s:s,s:s,s:s}", "ts", ts, "level", level, "component", "sandbox",
                         "msg", msg);
        text = line ? json_dumps(line, JSON_COMPACT) : NULL;
        if (text)
                fprintf(stderr, "%s\n", text);
        free(text);
        json_decref(line);
}

static void config_free(struct sb_config *cfg)
{
        free(cfg->listen_host);
        free(cfg->listen_port);
        free(cfg->twilio_account_sid);
        if (cfg->twilio_auth_token)
                OPENSSL_cleanse(cfg->twilio_auth_token, strlen(cfg->twilio_auth_token));
        free(cfg->twilio_auth_token);
        free(cfg->twilio_api_key_sid);
        if (cfg->twilio_api_key_secret)
                OPENSSL_cleanse(cfg->twilio_api_key_secret, strlen(cfg->twilio_api_key_secret));
        free(cfg->twilio_api_key_secret);
        free(cfg->sf_client_id);
        EVP_PKEY_free(cfg->sf_public_key);
        if (cfg->sf_client_secret)
                OPENSSL_cleanse(cfg->sf_client_secret, strlen(cfg->sf_client_secret));
        free(cfg->sf_client_secret);
        free(cfg->public_url);
        free(cfg->s3_access_key_id);
        if (cfg->s3_secret)
                OPENSSL_cleanse(cfg->s3_secret, strlen(cfg->s3_secret));
        free(cfg->s3_secret);
        free(cfg->s3_bucket);
        free(cfg->s3_region);
        if (cfg->openai_api_key)
                OPENSSL_cleanse(cfg->openai_api_key, strlen(cfg->openai_api_key));
        free(cfg->openai_api_key);
        if (cfg->google_api_key)
                OPENSSL_cleanse(cfg->google_api_key, strlen(cfg->google_api_key));
        free(cfg->google_api_key);
        EVP_PKEY_free(cfg->google_sa_key);
        char **hs_secrets[] = {&cfg->hs_access_token, &cfg->hs_client_secret,
                               &cfg->hs_refresh_token};
        for (size_t i = 0; i < sizeof(hs_secrets) / sizeof(hs_secrets[0]); i++) {
                if (*hs_secrets[i])
                        OPENSSL_cleanse(*hs_secrets[i], strlen(*hs_secrets[i]));
                free(*hs_secrets[i]);
        }
        free(cfg->hs_client_id);
        memset(cfg, 0, sizeof(*cfg));
}

/* Split HOST:PORT ("[::1]:80" for IPv6) into malloc'd parts. False on a bad value. */
static bool parse_listen(const char *arg, struct sb_config *cfg)
{
        const char *colon = strrchr(arg, ':');
        const char *host = arg;
        size_t host_len;
        char *end = NULL;
        long port;

        if (!colon)
                return false;
        host_len = (size_t)(colon - arg);
        if (host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']') {
                host++;
                host_len -= 2;
        }
        errno = 0;
        port = strtol(colon + 1, &end, 10);
        if (errno != 0 || end == colon + 1 || *end != '\0' || port < 0 || port > 65535)
                return false;
        free(cfg->listen_host);
        free(cfg->listen_port);
        cfg->listen_host = strndup(host, host_len);
        cfg->listen_port = strdup(colon + 1);
        return cfg->listen_host && cfg->listen_port;
}

/* Read a secret file whole, trailing whitespace removed. NULL (after logging why) when the
 * file cannot be read, is empty or larger than MAX_SECRET_BYTES. Caller frees. */
static char *read_secret(const char *path, const char *what)
{
        FILE *f = fopen(path, "rb");
        char *buf = NULL;
        size_t len;

        if (!f) {
                sb_log("error", "cannot open %s file %s: %s", what, path, strerror(errno));
                return NULL;
        }
        buf = malloc(MAX_SECRET_BYTES + 1);
        if (!buf)
                goto out;
        len = fread(buf, 1, MAX_SECRET_BYTES + 1, f);
        if (ferror(f) || len > MAX_SECRET_BYTES) {
                sb_log("error", "cannot read %s file %s (unreadable or over %zu bytes)", what, path,
                       MAX_SECRET_BYTES);
                goto bad;
        }
        while (len && strchr(" \t\r\n", buf[len - 1]))
                len--;
        buf[len] = '\0';
        if (len == 0 || memchr(buf, '\0', len)) {
                sb_log("error", "%s file %s is empty or binary", what, path);
                goto bad;
        }
        goto out;
bad:
        OPENSSL_cleanse(buf, MAX_SECRET_BYTES + 1);
        free(buf);
        buf = NULL;
out:
        fclose(f);
        return buf;
}

/* The public key from a PEM certificate or PEM public key. NULL after logging why. */
static EVP_PKEY *read_public_key(const char *path, const char *option)
{
        FILE *f = fopen(path, "rb");
        X509 *cert;
        EVP_PKEY *key = NULL;

        if (!f) {
                sb_log("error", "cannot open %s %s: %s", option, path, strerror(errno));
                return NULL;
        }
        cert = PEM_read_X509(f, NULL, NULL, NULL);
        if (cert) {
                key = X509_get_pubkey(cert);
                X509_free(cert);
        } else {
                rewind(f);
                key = PEM_read_PUBKEY(f, NULL, NULL, NULL);
        }
        fclose(f);
        if (!key)
                sb_log("error", "%s %s holds no PEM certificate or public key", option, path);
        return key;
}

/* Print the problem and the usage on stderr; returns the usage exit status 2. */
static int usage_error(const char *problem, const char *arg)
{
        fprintf(stderr, "callbridge-sandbox: %s%s%s\n\n%s", problem, arg ? " " : "", arg ? arg : "",
                usage_text);
        return 2;
}

/* The --s3-* options: the value replaces the previous one (the secret file's path goes to
 * `*secret_file`). False when `opt` is not one of them. */
static bool parse_s3_option(int opt, const char *arg, struct sb_config *cfg,
                            const char **secret_file)
{
        char **field = NULL;

        switch (opt) {
        case OPT_S3_KEY_ID:
                field = &cfg->s3_access_key_id;
                break;
        case OPT_S3_BUCKET:
                field = &cfg->s3_bucket;
                break;
        case OPT_S3_REGION:
                field = &cfg->s3_region;
                break;
        case OPT_S3_SECRET:
                *secret_file = arg;
                return true;
        default:
                return false;
        }
        free(*field);
        *field = strdup(arg);
        return true;
}

/* The speech-to-text options: secrets read at once. 0 handled, 1 a secret cannot be read, -1
 * when `opt` is not one of them. */
static int parse_stt_option(int opt, const char *arg, struct sb_config *cfg)
{
        switch (opt) {
        case OPT_OPENAI_KEY:
                free(cfg->openai_api_key);
                cfg->openai_api_key = read_secret(arg, "OpenAI API key");
                return cfg->openai_api_key ? 0 : 1;
        case OPT_GOOGLE_KEY:
                free(cfg->google_api_key);
                cfg->google_api_key = read_secret(arg, "Google API key");
                return cfg->google_api_key ? 0 : 1;
        case OPT_GOOGLE_SA:
                EVP_PKEY_free(cfg->google_sa_key);
                cfg->google_sa_key = read_public_key(arg, "--google-sa-cert-file");
                return cfg->google_sa_key ? 0 : 1;
        default:
                return -1;
        }
}

/* The HubSpot options: secrets read at once. 0 handled, 1 a secret cannot be read, -1 when
 * `opt` is not one of them. */
static int parse_hs_option(int opt, const char *arg, struct sb_config *cfg)
{
        char **field;
        const char *what;

        switch (opt) {
        case OPT_HS_CLIENT_ID:
                free(cfg->hs_client_id);
                cfg->hs_client_id = strdup(arg);
                return cfg->hs_client_id ? 0 : 1;
        case OPT_HS_TOKEN:
                field = &cfg->hs_access_token;
                what = "HubSpot access token";
                break;
        case OPT_HS_SECRET:
                field = &cfg->hs_client_secret;
                what = "HubSpot client secret";
                break;
        case OPT_HS_REFRESH:
                field = &cfg->hs_refresh_token;
                what = "HubSpot refresh token";
                break;
        default:
                return -1;
        }
        free(*field);
        *field = read_secret(arg, what);
        return *field ? 0 : 1;
}

/* Fill `cfg` from argv. Returns -1 to go on, or the exit status (0 after --help, 1 when a
 * secret cannot be read, 2 on a usage error). */
static int parse_args(int argc, char **argv, struct sb_config *cfg)
{
        const char *token_file = NULL, *cert_file = NULL, *secret_file = NULL;
        const char *key_secret_file = NULL, *s3_secret_file = NULL;
        int opt;

        cfg->threads = 4;
        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
                char *end = NULL;
                long n;

                if (parse_s3_option(opt, optarg, cfg, &s3_secret_file))
                        continue;
                switch (parse_stt_option(opt, optarg, cfg)) {
                case 0:
                        continue;
                case 1:
                        return 1;
                default:
                        break;
                }
                switch (parse_hs_option(opt, optarg, cfg)) {
                case 0:
                        continue;
                case 1:
                        return 1;
                default:
                        break;
                }
                switch (opt) {
                case OPT_LISTEN:
                        if (!parse_listen(optarg, cfg))
                                return usage_error("bad --listen value (want HOST:PORT):", optarg);
                        break;
                case OPT_TW_SID:
                        free(cfg->twilio_account_sid);
                        cfg->twilio_account_sid = strdup(optarg);
                        break;
                case OPT_TW_TOKEN:
                        token_file = optarg;
                        break;
                case OPT_TW_KEY_SID:
                        free(cfg->twilio_api_key_sid);
                        cfg->twilio_api_key_sid = strdup(optarg);
                        break;
                case OPT_TW_KEY_SECRET:
                        key_secret_file = optarg;
                        break;
                case OPT_SF_ID:
                        free(cfg->sf_client_id);
                        cfg->sf_client_id = strdup(optarg);
                        break;
                case OPT_SF_CERT:
                        cert_file = optarg;
                        break;
                case OPT_SF_SECRET:
                        secret_file = optarg;
                        break;
                case OPT_PUBLIC_URL:
                        n = (long)strlen(optarg);
                        while (n > 0 && optarg[n - 1] == '/')
                                n--;
                        if (strncmp(optarg, "http://", 7) != 0 &&
                            strncmp(optarg, "https://", 8) != 0)
                                return usage_error("bad --public-url (want http(s)://HOST[:PORT]):",
                                                   optarg);
                        free(cfg->public_url);
                        cfg->public_url = strndup(optarg, (size_t)n);
                        break;
                case OPT_THREADS:
                        errno = 0;
                        n = strtol(optarg, &end, 10);
                        if (errno || end == optarg || *end || n < 1 || n > MAX_THREADS)
                                return usage_error("bad --threads value (want 1-64):", optarg);
                        cfg->threads = (unsigned int)n;
                        break;
                case OPT_VERBOSE:
                        cfg->verbose = true;
                        break;
                case OPT_HELP:
                        fputs(usage_text, stdout);
                        return 0;
                case ':':
                        return usage_error("missing value for", argv[optind - 1]);
                default:
                        return usage_error("unknown option", argv[optind - 1]);
                }
        }
        if (optind < argc)
                return usage_error("unexpected argument", argv[optind]);
        if (!cfg->listen_host)
                return usage_error("--listen HOST:PORT is required", NULL);
        if (token_file && !(cfg->twilio_auth_token = read_secret(token_file, "Twilio auth token")))
                return 1;
        if (key_secret_file &&
            !(cfg->twilio_api_key_secret = read_secret(key_secret_file, "Twilio API key secret")))
                return 1;
        if (secret_file &&
            !(cfg->sf_client_secret = read_secret(secret_file, "Salesforce client secret")))
                return 1;
        if (cert_file && !(cfg->sf_public_key = read_public_key(cert_file, "--sf-cert-file")))
                return 1;
        if (s3_secret_file && !(cfg->s3_secret = read_secret(s3_secret_file, "S3 secret key")))
                return 1;
        if (!cfg->s3_bucket)
                cfg->s3_bucket = strdup("callbridge");
        if (!cfg->s3_region)
                cfg->s3_region = strdup("us-east-1");
        if (!cfg->s3_bucket || !cfg->s3_region)
                return 1;
        return -1;
}

int main(int argc, char **argv)
{
        struct sb_config cfg = {0};
        struct sb_server *srv = NULL;
        sigset_t stop_signals;
        int sig = 0, status;

        status = parse_args(argc, argv, &cfg);
        if (status >= 0)
                goto out;
        status = 1;
        /* Block the stop signals before any thread starts so every thread inherits the mask
         * and only sigwait() below receives them. */
        sigemptyset(&stop_signals);
        sigaddset(&stop_signals, SIGTERM);
        sigaddset(&stop_signals, SIGINT);
        pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
        signal(SIGPIPE, SIG_IGN);
        if (sb_state_init() != 0) {
                sb_log("error", "out of memory");
                goto out;
        }
        srv = sb_server_start(&cfg);
        if (!srv || sb_tw_start(&cfg, sb_server_port(srv)) != 0)
                goto out;
        sb_log("info", "listening on %s%s%s:%u (threads %u)",
               strchr(cfg.listen_host, ':') ? "[" : "", cfg.listen_host,
               strchr(cfg.listen_host, ':') ? "]" : "", sb_server_port(srv), cfg.threads);
        while (sigwait(&stop_signals, &sig) != 0)
                ;
        sb_log("info", "signal %d: stopping", sig);
        status = 0;
out:
        sb_server_stop(&srv);
        sb_tw_stop(); /* after the server: no handler enqueues any more */
        sb_state_destroy();
        config_free(&cfg);
        return status;
}
