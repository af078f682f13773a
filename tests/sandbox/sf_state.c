/* callbridge-sandbox: the Salesforce emulation's own state (schema, tokens, API usage, ids),
 * guarded by the state mutex of sb_state.c. Reset restores the defaults; ids keep counting so
 * that an id is never reused within one sandbox run. */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sf_emu.h"

static json_t *schema;         /* {"Obj":{describe}} */
static json_t *tokens;         /* {"<access token>": <User record copy>} */
static json_t *refresh_tokens; /* {"<refresh token>": <User record copy>} */
static long api_used, api_max = SF_DEFAULT_API_MAX;
static unsigned long long id_counter;

void sb_sf_state_clear_locked(void)
{
        json_decref(schema);
        json_decref(tokens);
        json_decref(refresh_tokens);
        schema = tokens = refresh_tokens = NULL;
        api_used = 0;
        api_max = SF_DEFAULT_API_MAX;
}

int sb_sf_state_reset_locked(void)
{
        sb_sf_state_clear_locked();
        schema = sf_schema_default();
        tokens = json_object();
        refresh_tokens = json_object();
        if (!schema || !tokens || !refresh_tokens) {
                sb_sf_state_clear_locked();
                return -1;
        }
        return 0;
}

json_t *sf_state_schema_locked(void)
{
        return schema;
}

/* `n` random characters of `alphabet` into `out` (NUL-terminated by the caller). */
static void random_chars(char *out, size_t n, const char *alphabet)
{
        unsigned char raw[256];
        size_t alen = strlen(alphabet);

        if (n > sizeof(raw) || RAND_bytes(raw, (int)n) != 1) {
                /* No CSPRNG: fall back to the fault dice, which is random enough for tokens
                 * that only ever guard a local test server. */
                for (size_t i = 0; i < n && i < sizeof(raw); i++)
                        raw[i] = (unsigned char)(sb_random_unit() * 256.0);
        }
        for (size_t i = 0; i < n; i++)
                out[i] = alphabet[raw[i % sizeof(raw)] % alen];
}

static const char token_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";

/* Store `user` (copied) under a new random key in `map`; the key looks like a Salesforce
 * access token: "<org id 15>!AQ<random>". Returns a new string or NULL when out of memory. */
static char *mint(json_t *map, json_t *user, const char *mark, size_t nrand)
{
        char buf[160];
        size_t head;
        json_t *copy = json_deep_copy(user);

        if (!map || !copy) {
                json_decref(copy);
                return NULL;
        }
        head = (size_t)snprintf(buf, sizeof(buf), "%.15s%s", SF_ORG_ID, mark);
        random_chars(buf + head, nrand, token_alphabet);
        buf[head + nrand] = '\0';
        if (json_object_set_new(map, buf, copy) != 0)
                return NULL;
        return strdup(buf);
}

char *sf_state_token_mint_locked(json_t *user)
{
        return mint(tokens, user, "!AQ", 96);
}

json_t *sf_state_token_user_locked(const char *token)
{
        return token ? json_object_get(tokens, token) : NULL;
}

size_t sf_state_token_expire_locked(const char *token)
{
        size_t n;

        if (!tokens)
                return 0;
        if (token)
                return json_object_del(tokens, token) == 0 ? 1 : 0;
        n = json_object_size(tokens);
        json_object_clear(tokens);
        return n;
}

char *sf_state_refresh_mint_locked(json_t *user)
{
        static const char alnum[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        json_t *copy = json_deep_copy(user);
        char buf[88];

        /* Refresh tokens look like "5Aep861..." rather than like access tokens. */
        memcpy(buf, "5Aep861", 7);
        random_chars(buf + 7, 80, alnum);
        buf[87] = '\0';
        if (!refresh_tokens || !copy || json_object_set_new(refresh_tokens, buf, copy) != 0) {
                if (!refresh_tokens)
                        json_decref(copy);
                return NULL;
        }
        return strdup(buf);
}

json_t *sf_state_refresh_user_locked(const char *refresh_token)
{
        return refresh_token ? json_object_get(refresh_tokens, refresh_token) : NULL;
}

bool sf_state_refresh_revoke_locked(const char *refresh_token)
{
        return refresh_tokens && json_object_del(refresh_tokens, refresh_token) == 0;
}

bool sf_state_usage_count_locked(char *buf, size_t len)
{
        api_used++;
        snprintf(buf, len, "api-usage=%ld/%ld", api_used, api_max);
        return api_used <= api_max;
}

void sf_state_usage_set_locked(long used, long max)
{
        api_used = used;
        api_max = max;
}

/* The 3-character suffix that makes a 15-character id case-insensitively unique. */
static void id_suffix(const char id15[15], char out[3])
{
        static const char map[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

        for (int chunk = 0; chunk < 3; chunk++) {
                int bits = 0;
                for (int i = 0; i < 5; i++) {
                        char c = id15[chunk * 5 + i];
                        if (c >= 'A' && c <= 'Z')
                                bits |= 1 << i;
                }
                out[chunk] = map[bits];
        }
}

void sf_state_new_id_locked(const char *prefix, char out[19])
{
        static const char digits[] =
            "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        unsigned long long n = ++id_counter;

        /* prefix(3) + pod "8d" + "0000" + 6 base-62 digits = 15 characters */
        memcpy(out, prefix, 3);
        memcpy(out + 3, "8d0000", 6);
        for (int i = 14; i >= 9; i--) {
                out[i] = digits[n % 62];
                n /= 62;
        }
        id_suffix(out, out + 15);
        out[18] = '\0';
}

void sf_now_iso(char out[48])
{
        struct timespec now;
        struct tm tm;

        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        snprintf(out, 48, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+0000", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)(now.tv_nsec / 1000000));
}
