/* PII redaction (src/nlp/redact.c) over any text: a region code, a '\n', then the text.
 * Properties: never NULL (ASan: no read or write out of bounds); with no kinds the text comes
 * back unchanged; with every kind it changes only by counted replacements, each growing it by
 * at most a token's length; a partial's redaction never fails either. */
#include "callbridge/redact.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_in in = {data, size};
        char *region = fuzz_field(&in, '\n', NULL);
        char *text = fuzz_field(&in, '\0', NULL);
        unsigned counts[CB_REDACT_NKINDS] = {0}, n = 0;
        char *none = cb_redact_text(text, 0, region, NULL);
        char *all = cb_redact_text(text, CB_REDACT_ALL, region, counts);
        char *partial = cb_redact_text(text, CB_REDACT_ALL | CB_REDACT_PARTIAL, region, NULL);

        FUZZ_CHECK(none != NULL && all != NULL && partial != NULL);
        FUZZ_CHECK(strcmp(none, text) == 0);
        for (int k = 0; k < CB_REDACT_NKINDS; k++)
                n += counts[k];
        /* Each replacement is a token of at most 7 bytes: the growth is bounded by them. */
        FUZZ_CHECK(strlen(all) <= strlen(text) + 7 * (size_t)n);
        if (n == 0)
                FUZZ_CHECK(strcmp(all, text) == 0);
        free(none);
        free(all);
        free(partial);
        free(region);
        free(text);
        return 0;
}
