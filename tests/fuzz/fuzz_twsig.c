/* Twilio request signatures (src/crypto/twsig.c). Input: the request URL, a '\n', a candidate
 * X-Twilio-Signature, a '\n', then the body (a form, or with a URL carrying bodySHA256 and a
 * first body byte of '{', a JSON body). Properties: the signature the code computes is
 * accepted; a signature that is neither it nor the one of the URL's other spelling is refused;
 * a one-byte change to the URL or the signature is refused, and so is a one-byte change to a
 * JSON body. */
#include "callbridge/twsig.h"
#include "fuzz.h"

static const char token[] = "12345678901234567890123456789012";

/* Flip one byte of `s` (at `at` modulo its length) to another non-NUL value. */
static void flip(char *s, size_t at)
{
        size_t n = strlen(s);

        if (n == 0)
                return;
        at %= n;
        s[at] = s[at] == 'x' ? 'y' : 'x';
}

/* True when `candidate` signs `url` with its port removed or the default port added (found
 * here independently of twsig.c: the authority runs from "://" to the first / ? or #). */
static bool other_spelling_signs(const char *url, const struct cb_form *params,
                                 const char *candidate)
{
        const char *sep = strstr(url, "://");
        const char *a, *e, *h, *colon;
        char sig[CB_TWSIG_LEN + 1];
        char *alt;
        bool ok = false;
        size_t len = strlen(url);

        if (sep == NULL)
                return false;
        a = sep + 3;
        e = a + strcspn(a, "/?#");
        h = a;
        for (const char *p = a; p < e; p++)
                if (*p == '@')
                        h = p + 1;
        colon = NULL;
        for (const char *p = *h == '[' ? h : e; p < e; p++) /* IPv6: the last, after ']' */
                if (*p == ':')
                        colon = p;
        if (*h == '[' && colon != NULL && colon[-1] != ']')
                colon = NULL;
        if (*h != '[') /* a name: its first colon */
                colon = memchr(h, ':', (size_t)(e - h));
        alt = malloc(len + 8);
        FUZZ_CHECK(alt != NULL);
        if (colon != NULL) { /* the port removed */
                memcpy(alt, url, (size_t)(colon - url));
                memcpy(alt + (colon - url), e, len - (size_t)(e - url) + 1);
                ok = cb_twsig_compute(token, alt, params, sig) == 0 && strcmp(sig, candidate) == 0;
        } else { /* a default port added */
                const char *ports[] = {":443", ":80"};
                for (size_t i = 0; i < 2 && !ok; i++) {
                        size_t pl = strlen(ports[i]), cut = (size_t)(e - url);
                        memcpy(alt, url, cut);
                        memcpy(alt + cut, ports[i], pl);
                        memcpy(alt + cut + pl, e, len - cut + 1);
                        ok = cb_twsig_compute(token, alt, params, sig) == 0 &&
                             strcmp(sig, candidate) == 0;
                }
        }
        free(alt);
        return ok;
}

static void check_form(const char *url, const struct cb_form *params, const char *candidate,
                       uint8_t pick)
{
        char sig[CB_TWSIG_LEN + 1], bad[CB_TWSIG_LEN + 1];
        char *u2 = strdup(url);

        FUZZ_CHECK(u2 != NULL);
        FUZZ_CHECK(cb_twsig_compute(token, url, params, sig) == 0);
        FUZZ_CHECK(strlen(sig) == CB_TWSIG_LEN);
        if (url[0] != '\0') {
                FUZZ_CHECK(cb_twsig_valid(token, url, params, NULL, 0, sig));
                memcpy(bad, sig, sizeof(bad));
                flip(bad, pick);
                FUZZ_CHECK(!cb_twsig_valid(token, url, params, NULL, 0, bad));
                flip(u2, pick);
                FUZZ_CHECK(!cb_twsig_valid(token, u2, params, NULL, 0, sig));
        }
        /* The fuzzed candidate passes only if it is the signature of what was sent: the URL as
         * given, or with its port removed, or with the scheme's default port added. */
        if (cb_twsig_valid(token, url, params, NULL, 0, candidate))
                FUZZ_CHECK(strcmp(candidate, sig) == 0 ||
                           other_spelling_signs(url, params, candidate));
        free(u2);
}

static void check_json(const char *url, const char *body, size_t len, uint8_t pick)
{
        char sig[CB_TWSIG_LEN + 1];
        char *b2 = malloc(len + 1);

        FUZZ_CHECK(b2 != NULL);
        FUZZ_CHECK(cb_twsig_compute(token, url, NULL, sig) == 0);
        if (cb_twsig_valid(token, url, NULL, body, len, sig) && len > 0) {
                memcpy(b2, body, len + 1);
                b2[pick % len] ^= 1;
                FUZZ_CHECK(!cb_twsig_valid(token, url, NULL, b2, len, sig));
        }
        free(b2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_in in = {data, size};
        uint8_t pick = size > 0 ? data[size - 1] : 0;
        char *url = fuzz_field(&in, '\n', NULL);
        char *candidate = fuzz_field(&in, '\n', NULL);
        size_t len = in.n;
        struct cb_form params = {0};

        if (len > 0 && in.p[0] == '{') {
                char *body = fuzz_field(&in, '\0', &len);
                check_json(url, body, len, pick);
                FUZZ_CHECK(!cb_twsig_valid(token, url, NULL, body, len, "") &&
                           !cb_twsig_valid("", url, NULL, body, len, candidate));
                free(body);
        } else if (cb_form_parse(&params, (const char *)in.p, in.n) == 0) {
                check_form(url, &params, candidate, pick);
                cb_form_free(&params);
        }
        free(url);
        free(candidate);
        return 0;
}
