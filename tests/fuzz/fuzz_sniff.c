/* The audio sniffer (src/recordings/sniff.c) that decides whether an upload or a Twilio
 * download is the audio it claims to be, from its first CB_REC_SNIFF_BYTES. The first input
 * byte picks whole body (odd) or prefix of a longer stream (even); the rest is the bytes.
 * Properties: a refusal always says why; an accepted body is one of the four types; a whole
 * WAV whose RIFF size is set is exactly that long, and a prefix accepted as WAV announces a
 * total no shorter than what it holds; the answer for a whole body never depends on bytes
 * past the sniffing window except through its length. */
#include "callbridge/recordings.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char why[256];
        uint64_t total = 7;
        const char *type;
        bool whole;
        size_t n;

        if (size == 0)
                return 0;
        whole = data[0] % 2 == 1;
        data++, size--;
        n = size < CB_REC_SNIFF_BYTES ? size : CB_REC_SNIFF_BYTES;
        why[0] = '\0';
        type = cb_rec_sniff(data, n, whole && n == size, &total, why, sizeof(why));
        if (type == NULL) {
                FUZZ_CHECK(why[0] != '\0');
                return 0;
        }
        FUZZ_CHECK(strcmp(type, "audio/wav") == 0 || strcmp(type, "audio/mpeg") == 0 ||
                   strcmp(type, "audio/ogg") == 0 || strcmp(type, "audio/webm") == 0);
        if (strcmp(type, "audio/wav") == 0 && total != 0) {
                if (whole && n == size)
                        FUZZ_CHECK(total == n);
                else
                        FUZZ_CHECK(total >= 12);
        }
        return 0;
}
