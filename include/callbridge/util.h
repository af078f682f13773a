/* Small helpers shared by every module: time, encodings, strings, masking, buffers. Hashing,
 * randomness and UUID generation are in crypto.h (cb_crypto, OpenSSL); cb_util has no OpenSSL. */
#ifndef CALLBRIDGE_UTIL_H
#define CALLBRIDGE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* On a function whose result the caller must look at (an enum cb_qs or cb_result: a result
 * dropped is a failure lost). */
#define CB_MUST_CHECK __attribute__((warn_unused_result))

#define CB_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define CB_UUID_LEN     36

/* Wall clock and monotonic clock in microseconds. */
int64_t cb_now_us(void);
int64_t cb_mono_us(void);
/* RFC 3339 UTC with microseconds, as the API shows times (SQL's cb_ts):
 * "2026-01-02T03:04:05.000006Z". `us` is microseconds since the epoch, not before it. */
#define CB_TS_LEN 27
void cb_ts_format(int64_t us, char out[CB_TS_LEN + 1]);
/* Read a time a client gave: RFC 3339 UTC to the second ("2026-11-21T10:00:00Z") or Unix
 * seconds, into microseconds since the epoch. False when it is neither (or before 1970). */
bool cb_time_parse(const char *s, int64_t *us);

/* True when `s` is a canonical lower- or upper-case UUID (syntax only; cb_uuid_v4 makes one:
 * crypto.h). */
bool cb_uuid_valid(const char *s);

/* Lower-case hex of `len` bytes into `out` (2*len+1 bytes). */
void cb_hex(const unsigned char *in, size_t len, char *out);
/* The value of one hex digit (either case), or -1 when `c` is not one. */
int cb_hex_digit(char c);

/* Base64url without padding. Encode returns the length written (out needs 4*ceil(len/3)+1);
 * decode returns the number of bytes or -1 on bad input or overflow of `outlen`. */
size_t cb_base64url_encode(const unsigned char *in, size_t len, char *out);
long cb_base64url_decode(const char *in, unsigned char *out, size_t outlen);
/* Standard base64 with padding, same contract; decode accepts only the canonical padded form. */
size_t cb_base64_encode(const unsigned char *in, size_t len, char *out);
long cb_base64_decode(const char *in, unsigned char *out, size_t outlen);

/* Format a failure reason into `err` (`size` bytes); a NULL or empty `err` is left alone. */
void cb_err_printf(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Wipe a NUL-terminated secret, then free it. NULL is fine. */
void cb_secret_free(char *secret);

/* Copy `src` into `dst` of `size` bytes, always NUL-terminated; returns false if truncated. */
bool cb_strlcpy(char *dst, const char *src, size_t size);
/* Parse a whole base-10 integer in [min, max]; false on garbage, overflow or range. */
bool cb_parse_long(const char *s, long min, long max, long *out);

/* True when `choices` ("a|b|c") holds `value`; with `prefix`, when `value` starts with one
 * of them and goes on (URL schemes). */
bool cb_choice_match(const char *choices, const char *value, bool prefix);
/* True when `s` is 1..`max` bytes of ASCII letters, digits and the characters in `extra`. */
bool cb_str_charset(const char *s, size_t max, const char *extra);
/* The CLOCK_REALTIME instant `ms` from now, for pthread_cond_timedwait. */
void cb_deadline_after_ms(long ms, struct timespec *out);

/* Mask a phone number for logs: "+14155550123" -> "+1415*****23". Writes into `out`. */
void cb_mask_phone(const char *in, char *out, size_t outlen);
/* Mask every run of 7+ digits in free text (paths, query strings) the same way. */
void cb_mask_digits(const char *in, char *out, size_t outlen);

/* A growable byte buffer with a hard cap. */
struct cb_buf {
        char *data;
        size_t len;
        size_t alloc;
        size_t max;
};
/* Append; returns -1 (buffer unchanged) when `max` would be exceeded or memory runs out. */
int cb_buf_append(struct cb_buf *b, const void *data, size_t len);
/* Append `s` percent-encoded for a URL path segment or query value (RFC 3986 unreserved
 * characters stay as they are). -1 at the cap. */
int cb_buf_url_encode(struct cb_buf *b, const char *s);
/* Append a NUL-terminated string / formatted text; same failure contract. */
int cb_buf_puts(struct cb_buf *b, const char *s);
int cb_buf_printf(struct cb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Free the storage; the struct may be reused. */
void cb_buf_free(struct cb_buf *b);

#endif
