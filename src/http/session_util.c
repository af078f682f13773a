/* The pure parts of browser sessions: the Cookie header, the local paths a sign-in may go back
 * to, PKCE challenges and the Set-Cookie value. No I/O; unit tested (tests/unit/test_session). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbridge/crypto.h"
#include "session.h"

bool cb_cookie_get(const char *header, const char *name, char *out, size_t out_size)
{
        size_t nlen = strlen(name);
        const char *p = header;

        if (header == NULL || out_size == 0)
                return false;
        while (*p != '\0') {
                const char *end;
                size_t vlen;
                while (*p == ' ' || *p == '\t' || *p == ';')
                        p++;
                end = p + strcspn(p, ";");
                if ((size_t)(end - p) > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
                        const char *v = p + nlen + 1;
                        vlen = (size_t)(end - v);
                        while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
                                vlen--;
                        if (vlen == 0 || vlen >= out_size)
                                return false;
                        memcpy(out, v, vlen);
                        out[vlen] = '\0';
                        return true;
                }
                p = end;
        }
        return false;
}

static bool b64url_char(char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_';
}

bool cb_session_token_shape(const char *token)
{
        size_t i;

        if (token == NULL)
                return false;
        for (i = 0; token[i] != '\0' && i <= CB_SESSION_TOKEN_LEN; i++)
                if (!b64url_char(token[i]))
                        return false;
        return i == CB_SESSION_TOKEN_LEN;
}

bool cb_return_to_valid(const char *path)
{
        size_t n;

        if (path == NULL || path[0] != '/' || path[1] == '/' || path[1] == '\\')
                return false;
        n = strlen(path);
        if (n >= CB_RETURN_TO_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)path[i];
                if (c <= 0x20 || c >= 0x7f || c == '\\')
                        return false;
        }
        return true;
}

const char *cb_return_to_or_default(const char *path)
{
        return cb_return_to_valid(path) ? path : "/console/";
}

void cb_pkce_challenge(const char *verifier, char out[CB_PKCE_CHALLENGE_LEN + 1])
{
        unsigned char digest[32];
        char b64[48];

        cb_sha256(verifier, strlen(verifier), digest);
        cb_base64url_encode(digest, sizeof(digest), b64);
        memcpy(out, b64, CB_PKCE_CHALLENGE_LEN);
        out[CB_PKCE_CHALLENGE_LEN] = '\0';
}

bool cb_pkce_verifier_valid(const char *verifier)
{
        size_t n = verifier != NULL ? strlen(verifier) : 0;

        if (n < 43 || n > 128)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!b64url_char(verifier[i]) && verifier[i] != '.' && verifier[i] != '~')
                        return false;
        return true;
}

char *cb_session_cookie(const struct cb_config *cfg, const char *token, long max_age_s)
{
        bool secure = strncmp(cfg->server.public_url, "https://", 8) == 0;
        char buf[256];
        int n =
            snprintf(buf, sizeof(buf), "%s=%s; Path=/; Max-Age=%ld; HttpOnly; SameSite=%s%s",
                     CB_SESSION_COOKIE, token != NULL ? token : "", token != NULL ? max_age_s : 0L,
                     cfg->auth.cookie_samesite, secure ? "; Secure" : "");

        if (n < 0 || (size_t)n >= sizeof(buf))
                return NULL;
        return strdup(buf);
}

void cb_iso_utc(int64_t t, char out[32])
{
        time_t tt = (time_t)t;
        struct tm tm;

        gmtime_r(&tt, &tm);
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
