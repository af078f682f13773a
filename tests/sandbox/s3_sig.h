/* callbridge-sandbox: AWS Signature Version 4 verification (header form, as S3 checks it).
 * Pure functions over a described request (no libmicrohttpd, no state), so a unit test can run
 * them against the AWS test-suite vectors. S3 rules: the path is URI-encoded once and never
 * normalised; the payload hash is the x-amz-content-sha256 value. */
#ifndef CALLBRIDGE_SANDBOX_S3_SIG_H
#define CALLBRIDGE_SANDBOX_S3_SIG_H

#include <stddef.h>

/* A name and value as received (query arguments decoded; `value` NULL for "?name"). */
struct sb_sigv4_kv {
        const char *name;
        const char *value;
};

/* The request as the server saw it; everything borrowed. */
struct sb_sigv4_request {
        const char *method;
        const char *path; /* decoded, e.g. "/bucket/key" */
        const struct sb_sigv4_kv *query;
        size_t n_query;
        const struct sb_sigv4_kv *headers; /* every header, any case, Authorization included */
        size_t n_headers;
        const char *payload_hash; /* hex SHA-256 of the body, or "UNSIGNED-PAYLOAD" */
};

/* What the signature must name and be made with. */
struct sb_sigv4_keys {
        const char *access_key_id;
        const char *secret;
        const char *region;
        const char *service; /* "s3" */
};

enum sb_sigv4_status {
        SB_SIGV4_OK = 0,
        SB_SIGV4_MISSING,      /* no Authorization header (S3: AccessDenied) */
        SB_SIGV4_MALFORMED,    /* unparsable header or scope (AuthorizationHeaderMalformed) */
        SB_SIGV4_UNKNOWN_KEY,  /* another access key id (InvalidAccessKeyId) */
        SB_SIGV4_WRONG_REGION, /* the scope names another region (AuthorizationHeaderMalformed) */
        SB_SIGV4_MISMATCH,     /* recomputed signature differs (SignatureDoesNotMatch) */
};

/* The canonical request for the `;`-separated lower-case `signed_headers`. malloc'd (caller
 * frees); NULL when out of memory or a signed header is absent from the request. */
char *sb_sigv4_canonical_request(const struct sb_sigv4_request *req, const char *signed_headers);
/* "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256 of creq>", malloc'd; NULL when out of
 * memory. */
char *sb_sigv4_string_to_sign(const char *amz_date, const char *scope, const char *creq);
/* Hex HMAC signature of `sts` with the key derived from secret/date8/region/service. */
void sb_sigv4_signature(const char *secret, const char *date8, const char *region,
                        const char *service, const char *sts, char out[65]);
/* Check the request's Authorization header against `keys`. On failure `why` says what did not
 * match (for S3's <Message>); on SB_SIGV4_MISMATCH it holds the string to sign we computed. */
enum sb_sigv4_status sb_sigv4_verify(const struct sb_sigv4_request *req,
                                     const struct sb_sigv4_keys *keys, char *why, size_t why_size);

#endif
