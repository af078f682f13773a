/* Phone numbers: a thin C shim over libphonenumber. */
#ifndef CALLBRIDGE_PHONE_H
#define CALLBRIDGE_PHONE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Parse `input` (any human format; a leading + or 00 means international, otherwise the
 * number is read as national to `default_region`, an ISO 3166 alpha-2 code) and write its
 * E.164 form into `out`. Returns 0, or -1 when the number cannot be parsed or is not a
 * possible number for its region; `out` is then an empty string. Thread-safe. */
int cb_phone_to_e164(const char *input, const char *default_region, char *out, size_t out_size);

/* The national significant number of an E.164 number ("+14155550123" -> "4155550123"),
 * the digits a CRM is most likely to have stored whatever its format. Returns 0, or -1
 * (`out` emptied) when `e164` is not E.164 or `out` is too small. Thread-safe. */
int cb_phone_national_digits(const char *e164, char *out, size_t out_size);

/* An E.164 number as people read it, in libphonenumber's INTERNATIONAL format
 * ("+14155550123" -> "+1 415-555-0123"). Returns 0, or -1 (`out` emptied) when `e164` is not
 * E.164 or `out` is too small. Thread-safe. */
int cb_phone_format_international(const char *e164, char *out, size_t out_size);
/* True when `region` is a region code libphonenumber knows ("US", "GB", ...). */
int cb_phone_region_valid(const char *region);

#ifdef __cplusplus
}
#endif

#endif
