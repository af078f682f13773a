/* Private to src/stt/offline*.c: the keyword-spotting list (offline_kws.c). */
#ifndef CALLBRIDGE_STT_OFFLINE_KWS_H
#define CALLBRIDGE_STT_OFFLINE_KWS_H

#include <jansson.h>
#include <pocketsphinx.h>
#include <stdbool.h>
#include <stdint.h>

#include "callbridge/util.h"

#define CB_KWS_SEARCH "kws" /* the decoder's keyword-spotting search */

/* Append PocketSphinx keyphrase lines ("phrase /1e-N/\n") for `phrases` (NULL-terminated) to
 * `spec`: lower-cased, punctuation dropped, duplicates left out, at most 256. A phrase with a
 * word the decoder's dictionary lacks is left out, its text appended to `skipped` and logged
 * (a warning, or debug when `quiet`). -1 when `spec` reaches its cap (what fits is kept). */
int cb_kws_spec_build(ps_decoder_t *ps, const char *const *phrases, bool quiet, struct cb_buf *spec,
                      json_t *skipped);

/* A hash of the phrase list, to tell a list from the one before. */
uint64_t cb_kws_phrases_hash(const char *const *phrases);

/* Make `spec` the decoder's CB_KWS_SEARCH, switching to `lm_search` first. `*current` is the
 * spec set last (owned, replaced; NULL after a failure): the same spec again costs nothing.
 * -1 (logged) when PocketSphinx refuses the list or memory runs out. */
int cb_kws_search_set(ps_decoder_t *ps, const char *lm_search, char **current, const char *spec);

#endif
