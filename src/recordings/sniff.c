/* What audio a body holds, from its first bytes, and what a client says it sends. */
#include <string.h>
#include <strings.h>

#include "callbridge/recordings.h"

const char *cb_rec_sniff(const unsigned char *p, size_t n)
{
        if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WAVE", 4) == 0)
                return "audio/wav";
        if (n >= 4 && memcmp(p, "OggS", 4) == 0)
                return "audio/ogg";
        if (n >= 4 && p[0] == 0x1A && p[1] == 0x45 && p[2] == 0xDF && p[3] == 0xA3)
                return "audio/webm";
        if (n >= 3 && memcmp(p, "ID3", 3) == 0)
                return "audio/mpeg";
        /* An MPEG audio frame header: 11 sync bits, a layer that is not "reserved", a bitrate
         * index that is not "bad" and a sample rate that is not "reserved". */
        if (n >= 4 && p[0] == 0xFF && (p[1] & 0xE0) == 0xE0 && (p[1] & 0x06) != 0 &&
            (p[2] & 0xF0) != 0xF0 && (p[2] & 0x0C) != 0x0C)
                return "audio/mpeg";
        return NULL;
}

const char *cb_rec_declared_type(const char *ct)
{
        static const struct {
                const char *name;
                const char *canonical;
        } types[] = {
            {"audio/wav", "audio/wav"},     {"audio/x-wav", "audio/wav"},
            {"audio/wave", "audio/wav"},    {"audio/vnd.wave", "audio/wav"},
            {"audio/mpeg", "audio/mpeg"},   {"audio/mp3", "audio/mpeg"},
            {"audio/x-mpeg", "audio/mpeg"}, {"audio/ogg", "audio/ogg"},
            {"audio/webm", "audio/webm"},
        };
        size_t n;

        if (ct == NULL)
                return NULL;
        n = strcspn(ct, "; \t");
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
                if (strlen(types[i].name) == n && strncasecmp(ct, types[i].name, n) == 0)
                        return types[i].canonical;
        return NULL;
}
