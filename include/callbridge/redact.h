/* PII redaction of transcripts (src/nlp/redact.c): payment card numbers, US social security
 * numbers, e-mail addresses and phone numbers become "[card]", "[ssn]", "[email]", "[phone]",
 * written or spoken ("four one one one ...", "john at example dot com", "oh" for zero).
 *
 * Applied to the speech engine's text before anything stores, analyses or sends it
 * (stt.transcribe, the live segments), so the analysis engines, the CRM, the API and the
 * softphones only ever see the tokens. Pure functions over text; thread-safe. */
#ifndef CALLBRIDGE_REDACT_H
#define CALLBRIDGE_REDACT_H

#include <jansson.h>
#include <stddef.h>

struct cb_buf;

enum cb_redact_kind {
        CB_REDACT_CARD,  /* "cards": 13-19 digits passing the Luhn check */
        CB_REDACT_SSN,   /* "ssn": US SSN, written 123-45-6789 or nine spoken digits */
        CB_REDACT_EMAIL, /* "email": a@b.tld, or spoken "a at b dot com" */
        CB_REDACT_PHONE, /* "phone": 10-15 digits (or + and 8-15) libphonenumber accepts */
        CB_REDACT_NKINDS
};

#define CB_REDACT_ALL ((1u << CB_REDACT_NKINDS) - 1)
/* Not a kind: `text` is a partial result that may end mid-number. A run of 4 or more digits
 * at its very end that is no complete match becomes "[number]" (not counted). */
#define CB_REDACT_PARTIAL (1u << 8)

/* The config name of a kind ("cards", "ssn", "email", "phone"); NULL when out of range. */
const char *cb_redact_kind_name(int kind);

/* Parse an [nlp] redact list ("cards, ssn, email, phone"; "all"; "none" or "" for nothing)
 * into a set of 1 << kind bits. 0, or -1 with the unknown item in `err`. */
int cb_redact_parse(const char *list, unsigned *kinds, char *err, size_t err_size);

/* `text` with every match of `kinds` replaced by its token (caller frees). `region` (ISO
 * alpha-2, NULL for "US") reads national phone numbers. counts[kind] is incremented per
 * replacement when `counts` is not NULL. NULL only when out of memory. */
char *cb_redact_text(const char *text, unsigned kinds, const char *region,
                     unsigned counts[CB_REDACT_NKINDS]);

/* Redact a speech result in place: its "text" and every segment's "text" (stt.h's shape).
 * Returns the number of replacements, or -1 when out of memory (the result may then be
 * partly redacted: the caller must not keep it). */
int cb_redact_result(json_t *result, unsigned kinds, const char *region,
                     unsigned counts[CB_REDACT_NKINDS]);

/* Add `counts` to the process's redactions-by-kind counters, and write them (Prometheus
 * text, callbridge_redactions_total{kind}). */
void cb_redact_count(const unsigned counts[CB_REDACT_NKINDS]);
void cb_redact_metrics_write(struct cb_buf *out);

#endif
