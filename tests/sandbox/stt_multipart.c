/* callbridge-sandbox: a strict multipart/form-data reader (RFC 7578) for the OpenAI
 * emulation: the boundary from the Content-Type, CRLF-delimited parts, Content-Disposition
 * name and filename, Content-Type. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "stt_emu.h"

/* The boundary parameter of `ct` into `out`; false when absent or too long. */
static bool boundary_of(const char *ct, char *out, size_t size)
{
        const char *b;
        size_t n;

        if (ct == NULL || strncasecmp(ct, "multipart/form-data", 19) != 0)
                return false;
        b = strcasestr(ct, "boundary=");
        if (b == NULL)
                return false;
        b += 9;
        if (*b == '"') {
                b++;
                n = strcspn(b, "\"");
        } else {
                n = strcspn(b, "; \t");
        }
        if (n == 0 || n + 1 > size || n > 70)
                return false;
        memcpy(out, b, n);
        out[n] = '\0';
        return true;
}

/* A parameter `key="value"` of a Content-Disposition line [p, end). */
static bool disposition_param(const char *p, const char *end, const char *key, const char **v,
                              size_t *vlen)
{
        size_t klen = strlen(key);

        for (; p + klen + 2 < end; p++) {
                if ((p[-1] == ' ' || p[-1] == ';') && strncasecmp(p, key, klen) == 0 &&
                    p[klen] == '=' && p[klen + 1] == '"') {
                        const char *s = p + klen + 2;
                        const char *q = memchr(s, '"', (size_t)(end - s));
                        if (q == NULL)
                                return false;
                        *v = s;
                        *vlen = (size_t)(q - s);
                        return true;
                }
        }
        return false;
}

/* Parse the headers of one part [p, end) into `part`. False when malformed. */
static bool part_headers(const char *p, const char *end, struct sb_part *part)
{
        bool disposition = false;

        while (p < end) {
                const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
                if (eol == NULL)
                        eol = end;
                if (strncasecmp(p, "Content-Disposition:", 20) == 0) {
                        if (!disposition_param(p + 20, eol, "name", &part->name, &part->name_len))
                                return false;
                        disposition_param(p + 20, eol, "filename", &part->filename,
                                          &part->filename_len);
                        disposition = true;
                } else if (strncasecmp(p, "Content-Type:", 13) == 0) {
                        part->content_type = p + 13 + strspn(p + 13, " \t");
                        part->content_type_len = (size_t)(eol - part->content_type);
                }
                p = eol + 2;
        }
        return disposition;
}

int sb_multipart_parse(const char *content_type, const char *body, size_t len,
                       struct sb_part *parts, char *why, size_t why_size)
{
        char boundary[80], delim[88];
        const char *p, *end = body + len;
        size_t dlen;
        int n = 0;

        if (!boundary_of(content_type, boundary, sizeof(boundary))) {
                snprintf(why, why_size, "Content-Type must be multipart/form-data with a boundary");
                return -1;
        }
        dlen = (size_t)snprintf(delim, sizeof(delim), "\r\n--%s", boundary);
        /* The body starts with the delimiter without its CRLF. */
        if (len < dlen - 2 || memcmp(body, delim + 2, dlen - 2) != 0) {
                snprintf(why, why_size, "multipart body does not start with its boundary");
                return -1;
        }
        p = body + dlen - 2;
        for (;;) {
                const char *hdr_end, *next;
                struct sb_part *part;

                if (end - p >= 2 && memcmp(p, "--", 2) == 0)
                        return n; /* the close delimiter */
                if (end - p < 2 || memcmp(p, "\r\n", 2) != 0 || n == SB_MAX_PARTS)
                        break;
                p += 2;
                hdr_end = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
                if (hdr_end == NULL)
                        break;
                part = &parts[n];
                memset(part, 0, sizeof(*part));
                if (!part_headers(p, hdr_end + 2, part))
                        break;
                part->data = (const unsigned char *)hdr_end + 4;
                next = memmem(part->data, (size_t)(end - (const char *)part->data), delim, dlen);
                if (next == NULL)
                        break;
                part->len = (size_t)(next - (const char *)part->data);
                n++;
                p = next + dlen;
        }
        snprintf(why, why_size, "malformed multipart body (part %d)", n + 1);
        return -1;
}
