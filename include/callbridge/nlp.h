/* Conversation intelligence, in process and without the network (src/nlp/): transcript
 * cleanup, sentiment from a lexicon with negation and intensifiers, keywords and entities from
 * the rules file's dictionaries, intent and tags by rule, follow-up tasks by rule.
 *
 * The rules file ([nlp] rules_file, JSON; config/nlp-rules.json is the default) is validated at
 * start and reloaded on SIGHUP; a bad reload keeps the old rules. Rules are immutable once
 * loaded and reference-counted, so analyses in flight keep the set they started with. */
#ifndef CALLBRIDGE_NLP_H
#define CALLBRIDGE_NLP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct cb_nlp_rules;

/* Load and validate `path`. NULL with every problem in `err` (one per line, each naming the
 * line for JSON syntax errors or the JSON path of the field, e.g.
 * "nlp-rules.json: intents[2].when.any[0]: expected a string"). */
struct cb_nlp_rules *cb_nlp_rules_load(const char *path, char *err, size_t err_size);
void cb_nlp_rules_ref(struct cb_nlp_rules *r);
/* The dictionary terms (products, competitors, pricing...), NULL-terminated, borrowed from the
 * rules: keyword hints for the speech engines. NULL for NULL rules. */
const char *const *cb_nlp_rules_hints(const struct cb_nlp_rules *r);
void cb_nlp_rules_unref(struct cb_nlp_rules **r);

/* The sentiment lexicon ([nlp] lexicon_file, a TSV file; config/sentiment-lexicon.tsv) that
 * every later cb_nlp_rules_load reads along with the rules, so a reload picks up both. NULL or
 * "" restores the default, /usr/share/callbridge/sentiment-lexicon.tsv. The path is copied. */
void cb_nlp_set_lexicon(const char *path);

/* The current rules (a reference: unref it). NULL before cb_nlp_init. */
struct cb_nlp_rules *cb_nlp_current(void);
/* Load the rules at start (0, or -1 with `err`), or replace them on SIGHUP (-1 keeps the old
 * ones, `err` says why). */
int cb_nlp_init(const char *path, char *err, size_t err_size);
int cb_nlp_reload(const char *path, char *err, size_t err_size);
void cb_nlp_shutdown(void);

/* Analyse a transcript. `call` is the call in the API's shape (cb_calls_to_json: direction,
 * status, duration_s...) for rules that look at it; may be NULL. Returns (caller decrefs):
 * {"clean_text": "...",
 *  "sentences": ["...", ...],
 *  "sentiment": {"score": -1..1, "label": "positive|neutral|negative"},
 *  "keywords": ["pricing", ...],                      (dictionary terms found, by frequency)
 *  "entities": [{"type": "product|competitor|pricing|date|money|...", "text": "...",
 *                "value"?: ...}, ...],
 *  "intent": "pricing_inquiry" | null, "intents": [...all that matched...],
 *  "tags": ["Hot Lead", "Follow-Up Required", ...],
 *  "summary": "the 1-3 most informative sentences",
 *  "follow_ups": [{"rule": "demo", "subject": "Schedule demo", "description": "...",
 *                  "due": "next_business_day" | "+2d" | ...}]}
 * NULL only when out of memory. */
json_t *cb_nlp_analyse(const struct cb_nlp_rules *rules, const char *transcript,
                       const json_t *call);

/* The dictionary terms of `rules` found in `text` (one live transcript segment), as they
 * appear in the cleaned text: [{"keyword": "quote", "rule": "pricing"}, ...] in text order,
 * each once (caller decrefs). [] for NULL rules; NULL only when out of memory. */
json_t *cb_nlp_keyword_hits(const struct cb_nlp_rules *rules, const char *text);

/* ---- rule colours (src/nlp/colors.c): what the console highlights a rule's words with ---- */

#define CB_NLP_COLOR_SIZE 8 /* "#rrggbb" and its NUL */

/* True when `s` is "#rrggbb" (6 hex digits, either case). */
bool cb_nlp_color_valid(const char *s);
/* The palette's colour for a rule named `name` (NULL as ""): the same name, the same colour.
 * Every palette colour has a WCAG contrast >= 4.5:1 behind white text. */
void cb_nlp_default_color(const char *name, char out[CB_NLP_COLOR_SIZE]);
/* The fixed palette (borrowed, static) and its length. */
size_t cb_nlp_palette(const char *const **colors);
/* The WCAG 2 contrast ratio of two "#rrggbb" colours (1 to 21); 0 when one is not valid. */
double cb_nlp_contrast(const char *a, const char *b);
/* Every dictionary, intent, tag and follow-up of `r` with its colour, in file order:
 * [{"name","kind":"dictionary"|"intent"|"tag"|"follow_up","color":"#rrggbb"}] (caller decrefs;
 * [] for NULL rules; NULL only when out of memory). Keyword hits name dictionaries. */
json_t *cb_nlp_rules_colors(const struct cb_nlp_rules *r);

/* Resolve a follow-up's "due" against `today` (YYYY-MM-DD, the org's time zone) into
 * YYYY-MM-DD; business days skip Saturday and Sunday. 0, or -1 for an unknown form. */
int cb_nlp_due_date(const char *due, const char *today, char out[11]);

#endif
