/* The keyword-spotting list of the offline engine (offline.c): request phrases normalised,
 * checked against the pronunciation dictionary, given thresholds by length, and handed to
 * PocketSphinx as a keyphrase "file" held in memory. */
#include "offline_kws.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "callbridge/log.h"

#define MAX_PHRASES 256
#define MAX_PHRASE  96 /* bytes of one normalised phrase */

/* Lower-case `in` into `out`, letters, digits and apostrophes kept, anything else one space.
 * False when nothing is left or it does not fit. */
static bool normalise_phrase(const char *in, char *out, size_t size)
{
        size_t n = 0;

        for (const unsigned char *p = (const unsigned char *)in; *p != '\0'; p++) {
                int c = *p;

                if (c >= 'A' && c <= 'Z')
                        c += 'a' - 'A';
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '\''))
                        c = ' ';
                if (c == ' ' && (n == 0 || out[n - 1] == ' '))
                        continue;
                if (n + 1 >= size)
                        return false;
                out[n++] = (char)c;
        }
        while (n > 0 && out[n - 1] == ' ')
                n--;
        out[n] = '\0';
        return n > 0;
}

/* Phones in the pronunciations of every word of `phrase`, or 0 when a word is not in the
 * dictionary (its name copied into `missing`). */
static int phrase_phones(ps_decoder_t *ps, const char *phrase, char *missing, size_t size)
{
        char word[MAX_PHRASE];
        int phones = 0;

        for (const char *p = phrase; *p != '\0';) {
                size_t len = strcspn(p, " ");
                char *pron;

                memcpy(word, p, len);
                word[len] = '\0';
                pron = ps_lookup_word(ps, word); /* allocated by PocketSphinx; we free it */
                if (pron == NULL) {
                        cb_strlcpy(missing, word, size);
                        return 0;
                }
                phones++;
                for (const char *q = pron; *q != '\0'; q++)
                        phones += *q == ' ';
                free(pron);
                p += len;
                p += *p == ' ';
        }
        return phones;
}

/* The detection threshold (1e-N) of a phrase of `phones` phones: a short word needs a high one
 * or every "demo"-like sound fires, a long phrase a low one or it is never reached. 5 per phone
 * less 5 was the best trade on bench/stt_offline.sh's noisy corpus: 5 less per phone halved
 * recall, 5 more (or not subtracting) doubled the false alarms for 2 more hits in 51. */
static int threshold_exponent(int phones)
{
        int e = phones * 5 - 5;

        return e < 5 ? 5 : e > 60 ? 60 : e;
}

/* Build PocketSphinx's keyphrase file text ("phrase /1e-N/\n" lines) from `phrases`,
 * leaving out duplicates and phrases with unknown words (added to `skipped`, logged as
 * warnings unless `quiet`). -1 when the list outgrows its cap. */
int cb_kws_spec_build(ps_decoder_t *ps, const char *const *phrases, bool quiet, struct cb_buf *spec,
                      json_t *skipped)
{
        char norm[MAX_PHRASE], needle[MAX_PHRASE + 4], missing[MAX_PHRASE];
        size_t count = 0, line_len;

        for (size_t i = 0; phrases[i] != NULL && count < MAX_PHRASES; i++) {
                int phones;

                if (!normalise_phrase(phrases[i], norm, sizeof(norm)))
                        continue;
                /* fits: norm is shorter than MAX_PHRASE */
                line_len = (size_t)snprintf(needle, sizeof(needle), "\n%s /", norm) - 1;
                if (spec->len > 0 &&
                    ((spec->len >= line_len && memcmp(spec->data, needle + 1, line_len) == 0) ||
                     strstr(spec->data, needle) != NULL))
                        continue; /* a duplicate */
                phones = phrase_phones(ps, norm, missing, sizeof(missing));
                if (phones == 0) {
                        CB_LOG(quiet ? CB_LOG_DEBUG : CB_LOG_WARN, NULL,
                               "offline stt: keyword \"%s\" skipped: \"%s\" is not in the "
                               "pronunciation dictionary",
                               norm, missing);
                        json_array_append_new(skipped, json_string(norm));
                        continue;
                }
                if (cb_buf_printf(spec, "%s /1e-%d/\n", norm, threshold_exponent(phones)) != 0)
                        return -1;
                count++;
        }
        return 0;
}

/* FNV-1a over the phrases, to notice a list seen before. */
uint64_t cb_kws_phrases_hash(const char *const *phrases)
{
        uint64_t h = 14695981039346656037ULL;

        for (size_t i = 0; phrases[i] != NULL; i++) {
                for (const unsigned char *p = (const unsigned char *)phrases[i]; *p != '\0'; p++)
                        h = (h ^ *p) * 1099511628211ULL;
                h = (h ^ 0xff) * 1099511628211ULL; /* a separator no text byte equals */
        }
        return h;
}

int cb_kws_search_set(ps_decoder_t *ps, const char *lm_search, char **current, const char *spec)
{
        char path[64];
        size_t len = strlen(spec);
        int fd = -1;
        int rc = -1;

        if (*current != NULL && strcmp(*current, spec) == 0)
                return 0;
        free(*current);
        *current = NULL;
        /* The search being replaced must not be the current one (PocketSphinx frees it). */
        if (ps_set_search(ps, lm_search) != 0)
                return -1;
        fd = memfd_create("callbridge-kws", MFD_CLOEXEC);
        if (fd < 0 || write(fd, spec, len) != (ssize_t)len) {
                cb_warn("offline stt: keyword list: %s", strerror(errno));
                goto out;
        }
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        if (ps_set_kws(ps, CB_KWS_SEARCH, path) != 0) {
                cb_warn("offline stt: PocketSphinx refused the keyword list");
                goto out;
        }
        *current = strdup(spec);
        rc = *current != NULL ? 0 : -1;
out:
        if (fd >= 0)
                close(fd);
        return rc;
}
