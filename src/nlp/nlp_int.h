/* Internals of src/nlp: the token stream, the lexicon, the compiled rules and the scanners
 * that share them. Nothing here is used outside src/nlp. */
#ifndef CB_NLP_INT_H
#define CB_NLP_INT_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callbridge/nlp.h"

#define NLP_MAX_TEXT  (4u << 20) /* transcripts longer than this are cut (at a character) */
#define NLP_MAX_WORDS 8          /* words in one phrase or lexicon term */

struct nlp_date {
        int y, m, d;
};

/* ---- cleanup and tokens (clean.c, tokens.c) ------------------------------------------------ */

struct nlp_sentence {
        size_t off, len; /* into the clean text */
        size_t tok_begin, tok_end;
};

/* A word of the clean text: [off, off + len) in both `clean` and its lower-case twin. */
struct nlp_token {
        size_t off;
        uint32_t len;
        uint32_t sentence;
        uint64_t hash;     /* nlp_hash of the lower-case form */
        bool clause_break; /* a , ; : or dash stands between this word and the one before */
};

struct nlp_doc {
        char *clean; /* NUL-terminated */
        char *lower; /* same length; ASCII letters folded */
        size_t clean_len;
        struct nlp_sentence *sentences;
        size_t n_sentences;
        struct nlp_token *tokens;
        size_t n_tokens;
};

/* Clean `text` into `doc` (sentences, tokens). 0, or -1 when out of memory (doc freed). */
int nlp_doc_build(struct nlp_doc *doc, const char *text);
void nlp_doc_free(struct nlp_doc *doc);

/* Clean `text` (clean.c): the clean text (caller frees) with its sentences in *sentences
 * (caller frees), words and sentences only — tokens come from nlp_doc_build. NULL when out of
 * memory. */
char *nlp_clean(const char *text, size_t *len, struct nlp_sentence **sentences, size_t *n);

uint64_t nlp_hash(const char *s, size_t len);
uint64_t nlp_hash_more(uint64_t h, const char *s, size_t len);
static inline const char *nlp_tok_lower(const struct nlp_doc *d, size_t i)
{
        return d->lower + d->tokens[i].off;
}
bool nlp_tok_is(const struct nlp_doc *d, size_t i, const char *word);
/* Split a phrase into lower-case words: the number of words (0 if none or > NLP_MAX_WORDS). */
size_t nlp_phrase_words(const char *phrase, char words[][64], size_t max);

/* ---- sentiment lexicon (lexicon.c) --------------------------------------------------------- */

enum nlp_lex_kind { LEX_NONE = 0, LEX_VALENCE, LEX_BOOSTER, LEX_NEGATION, LEX_CONTRAST };

struct nlp_lex_entry {
        uint64_t hash; /* 0: empty slot */
        char *term;    /* lower case, words separated by one space */
        float value;
        uint8_t kind;
        uint8_t longest; /* words in the longest term that starts with this one */
};

struct nlp_lexicon {
        struct nlp_lex_entry *slots;
        size_t mask;
        size_t count;
};

/* Load a TSV lexicon. NULL with the problems in `err` (one per line, "file:line: ..."). */
struct nlp_lexicon *nlp_lexicon_load(const char *path, char *err, size_t err_size);
void nlp_lexicon_free(struct nlp_lexicon **lex);
/* The entry for the term starting at token `i` (longest match), or NULL; *words its length. */
const struct nlp_lex_entry *nlp_lexicon_match(const struct nlp_lexicon *lex,
                                              const struct nlp_doc *d, size_t i, size_t end,
                                              size_t *words);

/* ---- sentiment (sentiment.c) --------------------------------------------------------------- */

#define NLP_NORM_ALPHA 15.0 /* a sentence's sum x scores x / sqrt(x^2 + NLP_NORM_ALPHA) */

/* Per-sentence compound scores in [-1, 1] into `out`, their sums before normalisation into
 * `raw` and whether the sentence holds a valence word into `has` (each n_sentences long); the
 * document score is the mean over sentences that carry sentiment. */
double nlp_sentiment(const struct nlp_lexicon *lex, const struct nlp_doc *d, double *out,
                     double *raw, bool *has);
/* Whether token `i` is a negation ("not", "never", any "...n't"). */
bool nlp_is_negation(const struct nlp_lexicon *lex, const struct nlp_doc *d, size_t i);
/* Whether a negation stands within the 3 words before token `i` (not before `begin`, nor
 * across a clause break or a contrast word): "don't" in "we don't need a demo". */
bool nlp_negated_before(const struct nlp_lexicon *lex, const struct nlp_doc *d, size_t begin,
                        size_t i);
const char *nlp_sentiment_label(double score);

/* ---- compiled rules (rules.c, match.c) ----------------------------------------------------- */

/* One phrase to find, shared by every rule that names it. */
struct nlp_phrase {
        char *text; /* as written in the rules (the keyword and entity value) */
        uint64_t hashes[NLP_MAX_WORDS];
        char *words[NLP_MAX_WORDS];
        size_t n_words;
        int weight;  /* for the summary: 3 intent phrase, 2 dictionary term, 1 other */
        bool term;   /* in a dictionary */
        size_t next; /* next phrase with the same first word, or SIZE_MAX */
};

struct nlp_list {
        size_t *ids;
        size_t n;
};

/* A rule's `when`: every condition present must hold. */
struct nlp_cond {
        struct nlp_list any, all, none; /* phrase ids */
        struct nlp_list dictionaries;   /* dictionary indexes: a term of any one was found */
        struct nlp_list intents;        /* intent indexes: any one matched */
        struct nlp_list tags;           /* tag indexes: any one applied (follow-ups only) */
        char **entities;                /* entity types: any one found */
        size_t n_entities;
        json_t *call; /* borrowed from the rules JSON: {"field": "value" | ["v", ...]} */
        bool has_min, has_max;
        double sentiment_min, sentiment_max;
};

struct nlp_dictionary {
        char *name;
        struct nlp_list terms;         /* phrase ids */
        char color[CB_NLP_COLOR_SIZE]; /* "#rrggbb": the file's, else the palette's */
};

struct nlp_rule {
        char *name; /* intent name, tag name or follow-up rule */
        struct nlp_cond when;
        char *subject, *description, *due, *priority; /* follow-ups */
        char color[CB_NLP_COLOR_SIZE]; /* "#rrggbb": the file's, else the palette's */
        double valence; /* intents: added to the sentences of its phrases (0: none) */
};

struct cb_nlp_rules {
        atomic_int refs;
        json_t *json; /* the file, kept for the borrowed `call` conditions */
        struct nlp_lexicon *lexicon;
        struct nlp_phrase *phrases;
        size_t n_phrases;
        size_t *heads; /* open-addressed by first-word hash: phrase id + 1, 0 empty */
        size_t heads_mask;
        struct nlp_dictionary *dicts;
        size_t n_dicts;
        struct nlp_rule *intents, *tags, *follow_ups;
        size_t n_intents, n_tags, n_follow_ups;
        const char **hints; /* dictionary terms, NULL-terminated (cb_nlp_rules_hints) */
};

/* What one transcript matched: per phrase the count and first token, per sentence the
 * weighted hits (for the summary). */
struct nlp_hits {
        uint32_t *count;
        uint32_t *first_tok;
        uint32_t *term_count; /* dictionary terms: longest match, no overlaps */
        uint32_t *term_first;
        double *sentence_weight;
};

/* Find every phrase in `d`. 0, or -1 when out of memory (h freed). */
int nlp_match(const struct cb_nlp_rules *r, const struct nlp_doc *d, struct nlp_hits *h);
void nlp_hits_free(struct nlp_hits *h);

/* ---- loading (rules.c, cond.c) ------------------------------------------------------------- */

enum nlp_section { SEC_INTENTS, SEC_TAGS, SEC_FOLLOW_UPS };

struct nlp_loader {
        struct cb_nlp_rules *r;
        size_t max_phrases;
        const char *file; /* base name, for messages */
        char *err;
        size_t err_size, used;
        int problems;
};

/* Record one problem: "file: path: message". */
void nlp_problem(struct nlp_loader *L, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The id of `text` as a phrase (shared when already known), or -1 after a problem at `path`. */
/* The optional "color" member of `obj` (at JSON path `base`) into `out`, lower case; absent:
 * the palette's colour for `name`; not "#rrggbb": a problem recorded (src/nlp/colors.c). */
void nlp_color_member(struct nlp_loader *L, json_t *obj, const char *base, const char *name,
                      char out[CB_NLP_COLOR_SIZE]);
long nlp_phrase_add(struct nlp_loader *L, const char *text, int weight, const char *path);
/* Parse a `when` object; problems recorded. */
void nlp_cond_parse(struct nlp_loader *L, json_t *when, const char *path, enum nlp_section sec,
                    struct nlp_cond *out);
void nlp_cond_free(struct nlp_cond *c);

/* What a condition is tested against. */
struct nlp_facts {
        const struct cb_nlp_rules *r;
        const struct nlp_hits *hits;
        const bool *intents, *tags; /* matched so far */
        const json_t *entities;     /* [{"type",...}] */
        double sentiment;
        const json_t *call; /* may be NULL */
};

/* Whether `c` holds; *score the phrase and dictionary hits that made it. */
bool nlp_cond_eval(const struct nlp_cond *c, const struct nlp_facts *f, unsigned *score);

/* ---- entities (entities.c) ----------------------------------------------------------------- */

/* An entity and where it starts in the clean text (for ordering). */
struct nlp_entity {
        size_t off;
        json_t *obj; /* owned */
};

struct nlp_entities {
        struct nlp_entity *v;
        size_t n, cap;
};

/* Take `obj` (NULL means out of memory) into the list; -1 when out of memory. */
int nlp_entities_push(struct nlp_entities *e, size_t off, json_t *obj);
void nlp_entities_free(struct nlp_entities *e);

/* Append money, percent and date entities found in `d`; per-sentence counts added to
 * `sentence_weight`. `today` (YYYY-MM-DD) resolves relative dates. -1 when out of memory. */
int nlp_entities_scan(const struct nlp_doc *d, const struct nlp_date *today,
                      struct nlp_entities *out, double *sentence_weight);

/* A date entity at token i (dates.c): {"type":"date","text",...,"value"?:"YYYY-MM-DD"} with
 * the tokens it spans in *used, or NULL. */
json_t *nlp_date_at(const struct nlp_doc *d, size_t i, size_t end, const struct nlp_date *today,
                    size_t *used);

/* ---- dates (due.c) -------------------------------------------------------------------------- */

bool nlp_date_parse(const char *s, struct nlp_date *out);
void nlp_date_format(const struct nlp_date *d, char out[11]);
void nlp_date_add_days(struct nlp_date *d, int days);
int nlp_date_weekday(const struct nlp_date *d); /* 0 Sunday .. 6 Saturday */
int nlp_days_in_month(int y, int m);

#endif
