/* Random bytes and version 4 UUIDs from the kernel's CSPRNG (OpenSSL's RAND_bytes). */
#include "callbridge/crypto.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

void cb_random(void *buf, size_t len)
{
        if (RAND_bytes(buf, (int)len) != 1)
                abort(); /* no randomness means no safe keys or ids: stop */
}

void cb_uuid_v4(char out[CB_UUID_LEN + 1])
{
        unsigned char b[16];
        char hex[33];

        cb_random(b, sizeof(b));
        b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
        b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
        cb_hex(b, sizeof(b), hex);
        memcpy(out, hex, 8);
        out[8] = '-';
        memcpy(out + 9, hex + 8, 4);
        out[13] = '-';
        memcpy(out + 14, hex + 12, 4);
        out[18] = '-';
        memcpy(out + 19, hex + 16, 4);
        out[23] = '-';
        memcpy(out + 24, hex + 20, 12);
        out[36] = '\0';
}
