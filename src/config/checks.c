/* The rules that involve more than one key, per provider (run after defaults, the file and
 * the environment): every problem is added to the load's error list, none stops the others. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "callbridge/calls.h"
#include "callbridge/config.h"
#include "callbridge/phone.h"
#include "callbridge/redact.h"
#include "callbridge/util.h"
#include "config_int.h"

static void require(struct load_ctx *ctx, bool cond, const char *section, const char *key,
                    const char *why)
{
        if (!cond)
                cb_config_add_error(ctx->errs, "[%s] %s: %s", section, key, why);
}

/* "UTC", "Europe/Paris"...: a file under /usr/share/zoneinfo, no "..", no absolute path. */
static bool timezone_known(const char *tz)
{
        char path[256];

        if (!cb_str_charset(tz, 64, "/_+-") || tz[0] == '/' || strstr(tz, "..") != NULL)
                return false;
        snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz);
        return access(path, R_OK) == 0;
}

/* Softphone tokens (POST /api/softphone/token) need account_sid, api_key_sid,
 * api_key_secret_file and twiml_app_sid. None of the last three set: tokens are off (the
 * endpoint answers 503). Some but not all: each missing or malformed one is reported. */
static void check_softphone_tokens(struct load_ctx *ctx)
{
        const struct cb_config *c = ctx->cfg;
        const char *sk = c->twilio.api_key_sid, *ap = c->twilio.twiml_app_sid;
        const char *ac = c->twilio.account_sid, *secret = c->twilio.api_key_secret_file;
        const char *why = "required for softphone tokens once api_key_sid, api_key_secret_file "
                          "or twiml_app_sid is set";

        if ((sk == NULL || sk[0] == '\0') && (ap == NULL || ap[0] == '\0') &&
            (secret == NULL || secret[0] == '\0'))
                return;
        require(ctx, ac != NULL && ac[0] != '\0', "twilio", "account_sid", why);
        require(ctx, sk != NULL && sk[0] != '\0', "twilio", "api_key_sid", why);
        require(ctx, secret != NULL && secret[0] != '\0', "twilio", "api_key_secret_file", why);
        require(ctx, ap != NULL && ap[0] != '\0', "twilio", "twiml_app_sid", why);
        require(ctx,
                ac == NULL || ac[0] == '\0' ||
                    (strncmp(ac, "AC", 2) == 0 && cb_str_charset(ac, 64, "")),
                "twilio", "account_sid", "must be an Account SID (AC...)");
        require(ctx,
                sk == NULL || sk[0] == '\0' ||
                    (strncmp(sk, "SK", 2) == 0 && cb_str_charset(sk, 64, "")),
                "twilio", "api_key_sid", "must be an API key SID (SK...)");
        require(ctx,
                ap == NULL || ap[0] == '\0' ||
                    (strncmp(ap, "AP", 2) == 0 && cb_str_charset(ap, 64, "")),
                "twilio", "twiml_app_sid", "must be a TwiML App SID (AP...)");
}

/* The keys each Salesforce OAuth flow needs. */
static void check_salesforce(struct load_ctx *ctx)
{
        const struct cb_config *c = ctx->cfg;
        const char *flow = c->salesforce.auth;

        require(ctx, c->salesforce.client_id != NULL, "salesforce", "client_id",
                "required when enabled (the Connected App consumer key)");
        if (strcmp(flow, "jwt") == 0) {
                require(ctx, c->salesforce.username != NULL, "salesforce", "username",
                        "required by auth = jwt");
                require(ctx, c->salesforce.private_key_file != NULL, "salesforce",
                        "private_key_file", "required by auth = jwt");
        } else {
                require(ctx, c->salesforce.client_secret_file != NULL, "salesforce",
                        "client_secret_file",
                        "required by auth = client_credentials/refresh_token");
        }
        if (strcmp(flow, "refresh_token") == 0)
                require(ctx, c->salesforce.refresh_token_file != NULL, "salesforce",
                        "refresh_token_file", "required by auth = refresh_token");
        require(ctx, cb_str_charset(c->salesforce.call_log_object, 80, "_"), "salesforce",
                "call_log_object", "must be an object API name");
        require(ctx, cb_str_charset(c->salesforce.external_id_field, 80, "_"), "salesforce",
                "external_id_field", "must be a field API name");
        require(ctx, cb_str_charset(c->salesforce.lead_external_id_field, 80, "_"), "salesforce",
                "lead_external_id_field", "must be a field API name");
        require(ctx, c->salesforce.api_version[0] == 'v', "salesforce", "api_version",
                "must look like v60.0");
        require(ctx, timezone_known(c->salesforce.timezone), "salesforce", "timezone",
                "must be an IANA time zone name found in /usr/share/zoneinfo (e.g. "
                "America/New_York)");
}

/* The keys HubSpot's auth flow needs, property names, the time zone; and which CRM runs. */
static void check_hubspot(struct load_ctx *ctx)
{
        const struct cb_config *c = ctx->cfg;
        const char *props[] = {c->hubspot.call_id_property, c->hubspot.task_key_property,
                               c->hubspot.note_key_property};
        const char *keys[] = {"call_id_property", "task_key_property", "note_key_property"};

        if (strcmp(c->hubspot.auth, "private_app") == 0) {
                require(ctx, c->hubspot.access_token_file != NULL, "hubspot", "access_token_file",
                        "required by auth = private_app");
        } else {
                require(ctx, c->hubspot.client_id != NULL, "hubspot", "client_id",
                        "required by auth = oauth");
                require(ctx, c->hubspot.client_secret_file != NULL, "hubspot", "client_secret_file",
                        "required by auth = oauth");
                require(ctx, c->hubspot.refresh_token_file != NULL, "hubspot", "refresh_token_file",
                        "required by auth = oauth");
        }
        for (size_t i = 0; i < CB_ARRAY_LEN(props); i++)
                require(ctx,
                        cb_str_charset(props[i], 100, "_") && islower((unsigned char)props[i][0]),
                        "hubspot", keys[i],
                        "must be a property internal name (lowercase letters, digits, _)");
        require(ctx, timezone_known(c->hubspot.timezone), "hubspot", "timezone",
                "must be an IANA time zone name found in /usr/share/zoneinfo (e.g. "
                "America/New_York)");
}

/* `[crm] provider` names a CRM that is enabled. */
static void check_crm(struct load_ctx *ctx)
{
        const struct cb_config *c = ctx->cfg;
        const char *p = c->crm.provider;

        require(ctx, strcmp(p, "salesforce") != 0 || c->salesforce.enabled, "crm", "provider",
                "salesforce needs [salesforce] enabled = true");
        require(ctx, strcmp(p, "hubspot") != 0 || c->hubspot.enabled, "crm", "provider",
                "hubspot needs [hubspot] enabled = true");
}

/* What placing calls and checking webhooks needs. */
static void check_twilio(struct load_ctx *ctx)
{
        const struct cb_config *c = ctx->cfg;
        const char *region = c->server.default_region;
        char e164[32];

        require(ctx,
                c->twilio.account_sid != NULL && strncmp(c->twilio.account_sid, "AC", 2) == 0 &&
                    cb_str_charset(c->twilio.account_sid, 64, ""),
                "twilio", "account_sid", "required when enabled: the Account SID (AC...)");
        require(ctx, c->twilio.auth_token_file != NULL, "twilio", "auth_token_file",
                "required when enabled: webhooks are checked with the auth token");
        require(ctx,
                c->twilio.caller_id == NULL ||
                    cb_phone_to_e164(c->twilio.caller_id, region, e164, sizeof(e164)) == 0,
                "twilio", "caller_id", "must be a phone number");
        require(ctx,
                c->twilio.fallback_number == NULL ||
                    cb_phone_to_e164(c->twilio.fallback_number, region, e164, sizeof(e164)) == 0,
                "twilio", "fallback_number", "must be a phone number");
        require(ctx,
                c->twilio.fallback_agent == NULL ||
                    cb_str_charset(c->twilio.fallback_agent, 121, "@._-"),
                "twilio", "fallback_agent",
                "a client identity: letters, digits and @ . _ - (at most 121)");
        /* The conference bridge dials the agent, and warm transfers their target, through the
         * Participants API, which needs a From Twilio accepts: our number. */
        require(ctx, !c->twilio.conference || c->twilio.caller_id != NULL, "twilio", "caller_id",
                "required with conference = true: participants are dialled from it");
}

/* [storage] backend = s3 needs an endpoint, a bucket and credentials. */
static void check_s3(struct load_ctx *ctx)
{
        const struct cb_config *c = ctx->cfg;

        require(ctx, c->storage.s3_endpoint != NULL, "storage", "s3_endpoint",
                "required with backend = s3");
        require(ctx,
                c->storage.s3_bucket != NULL && strlen(c->storage.s3_bucket) >= 3 &&
                    cb_str_charset(c->storage.s3_bucket, 63, ".-"),
                "storage", "s3_bucket",
                "required with backend = s3: 3-63 letters, digits, '.' and '-'");
        require(ctx,
                c->storage.s3_access_key_id != NULL &&
                    cb_str_charset(c->storage.s3_access_key_id, 128, "_-"),
                "storage", "s3_access_key_id", "required with backend = s3");
        require(ctx, c->storage.s3_secret_access_key_file != NULL, "storage",
                "s3_secret_access_key_file", "required with backend = s3");
        require(ctx, cb_str_charset(c->storage.s3_region, 64, "-_"), "storage", "s3_region",
                "1-64 letters, digits, '-' and '_'");
}

/* [stt]: the engine must be built in and have what it needs. */
static void check_stt(struct load_ctx *ctx)
{
        const struct cb_config *c = ctx->cfg;
        const char *engine = c->stt.engine != NULL ? c->stt.engine : "none";
        const char *cost = c->stt.cost_per_minute;
        char *end = NULL;
        double d;

#ifndef CB_HAVE_POCKETSPHINX
        /* The offline engine (PocketSphinx) is optional at build time. */
        require(ctx, strcmp(engine, "offline") != 0, "stt", "engine",
                "\"offline\" is not part of this build (built without PocketSphinx; use none, "
                "openai or google)");
#endif
        require(ctx, strcmp(engine, "openai") != 0 || c->stt.api_key_file != NULL, "stt",
                "api_key_file", "required with engine = openai");
        require(ctx,
                strcmp(engine, "google") != 0 || c->stt.api_key_file != NULL ||
                    c->stt.google_credentials_file != NULL,
                "stt", "google_credentials_file",
                "engine = google needs google_credentials_file or api_key_file");
        require(ctx,
                c->stt.source == NULL || strcmp(c->stt.source, "live") != 0 ||
                    (c->twilio.enabled && c->twilio.live_transcription),
                "stt", "source",
                "live needs [twilio] enabled and live_transcription = true (the live transcript "
                "comes from Twilio)");
        if (cost != NULL) {
                d = strtod(cost, &end);
                require(ctx, end != cost && *end == '\0' && d >= 0 && d < 1000, "stt",
                        "cost_per_minute", "a number of USD from 0 to 1000");
        }
}

/* [nlp] redact must name known kinds (src/nlp/redact.c). */
static void check_nlp(struct load_ctx *ctx)
{
        unsigned kinds;
        char why[128];

        if (cb_redact_parse(ctx->cfg->nlp.redact, &kinds, why, sizeof(why)) != 0)
                cb_config_add_error(ctx->errs, "[nlp] redact: %s", why);
}

/* [llm] prices: numbers of USD. */
static void check_llm(struct load_ctx *ctx)
{
        const char *keys[] = {"cost_per_1m_prompt_tokens", "cost_per_1m_completion_tokens"};
        const char *vals[] = {ctx->cfg->llm.cost_per_1m_prompt_tokens,
                              ctx->cfg->llm.cost_per_1m_completion_tokens};
        char *end = NULL;
        double d;

        for (int i = 0; i < 2; i++) {
                if (vals[i] == NULL)
                        continue;
                d = strtod(vals[i], &end);
                require(ctx, end != vals[i] && *end == '\0' && d >= 0 && d < 100000, "llm", keys[i],
                        "a number of USD from 0 to 100000");
        }
}

/* [agents] dispositions must parse (src/calls/disposition.c). */
static void check_agents(struct load_ctx *ctx)
{
        char why[256];

        if (!cb_calls_dispositions_check(ctx->cfg->agents.dispositions, why, sizeof(why)))
                cb_config_add_error(ctx->errs, "[agents] dispositions: %s", why);
}

/* One host source of a CSP source list: [http(s)://][*.]host[:port], host of letters, digits,
 * dots and hyphens (no path, no bare *). */
static bool csp_host_source(const char *t, size_t n)
{
        size_t i = 0, host;

        if (n > 8 && strncmp(t, "https://", 8) == 0)
                i = 8;
        else if (n > 7 && strncmp(t, "http://", 7) == 0)
                i = 7;
        if (n - i > 2 && strncmp(t + i, "*.", 2) == 0)
                i += 2;
        host = i;
        while (i < n && (isalnum((unsigned char)t[i]) || t[i] == '.' || t[i] == '-'))
                i++;
        if (i == host || t[host] == '.' || t[host] == '-' || t[i - 1] == '.')
                return false;
        if (i < n && t[i] == ':') {
                size_t port = ++i;
                while (i < n && t[i] >= '0' && t[i] <= '9')
                        i++;
                if (i == port || i - port > 5)
                        return false;
        }
        return i == n;
}

/* [console] frame_ancestors: a CSP source list ('self', 'none' alone, host sources), since it
 * is written into the console's Content-Security-Policy as it is. */
static void check_console(struct load_ctx *ctx)
{
        const char *s = ctx->cfg->console.frame_ancestors, *why = NULL;
        size_t count = 0;
        bool none = false;

        if (s == NULL || strlen(s) > 1024) {
                why = "at most 1024 characters";
                goto out;
        }
        while (*(s += strspn(s, " ")) != '\0') {
                size_t n = strcspn(s, " ");
                count++;
                if (n == 6 && strncmp(s, "'none'", 6) == 0)
                        none = true;
                else if (!(n == 6 && strncmp(s, "'self'", 6) == 0) && !csp_host_source(s, n))
                        why = "each source is 'self', 'none' or a host source such as "
                              "https://*.my.salesforce.com (space-separated)";
                s += n;
        }
        if (why == NULL && count == 0)
                why = "required ('none' to refuse every frame)";
        if (why == NULL && none && count > 1)
                why = "'none' must be alone";
out:
        if (why != NULL)
                cb_config_add_error(ctx->errs, "[console] frame_ancestors: %s", why);
}

/* Browsers drop a SameSite=None cookie that is not Secure, and it is Secure only over
 * https. */
static void check_sessions(struct load_ctx *ctx)
{
        const struct cb_config *c = ctx->cfg;

        require(ctx,
                strcmp(c->auth.cookie_samesite, "None") != 0 ||
                    strncmp(c->server.public_url, "https://", 8) == 0,
                "auth", "cookie_samesite",
                "None needs [server] public_url to be https (browsers drop a SameSite=None "
                "cookie that is not Secure)");
}

void cb_config_cross_check(struct load_ctx *ctx)
{
        const struct cb_config *c = ctx->cfg;

        require(ctx, c->database.url != NULL && c->database.url[0] != '\0', "database", "url",
                "required");
        check_softphone_tokens(ctx);
        require(ctx, c->workers.backoff_base_ms <= c->workers.backoff_max_ms, "workers",
                "backoff_max_ms", "must not be below backoff_base_ms");
        require(ctx, cb_str_charset(c->redis.key_prefix, 48, ":_-."), "redis", "key_prefix",
                "1-48 letters, digits and : _ - .");
        if (c->salesforce.enabled)
                check_salesforce(ctx);
        if (c->hubspot.enabled)
                check_hubspot(ctx);
        check_crm(ctx);
        if (c->twilio.enabled)
                check_twilio(ctx);
        require(ctx, !c->twilio.conference || c->twilio.enabled, "twilio", "conference",
                "needs enabled = true (conferences are Twilio's)");
        if (c->storage.backend != NULL && strcmp(c->storage.backend, "s3") == 0)
                check_s3(ctx);
        check_stt(ctx);
        check_llm(ctx);
        check_agents(ctx);
        check_nlp(ctx);
        check_console(ctx);
        check_sessions(ctx);
}
