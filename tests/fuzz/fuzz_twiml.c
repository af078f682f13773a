/* TwiML answers (src/telephony/twilio_webhook.c): caller ids, identities, numbers and messages
 * placed into XML sent to Twilio. Input: a generator byte, then up to two values separated by '\n'.
 * Properties: the document is well-formed XML 1.0 (only legal characters, valid UTF-8, every
 * '<' and '&' part of markup or a predefined entity, tags nested and matched); its element
 * structure is the generator's, whatever the values (nothing breaks out of text or an
 * attribute); and a value made only of legal XML characters reads back unchanged (tab, line
 * feed and carriage return as character references, so attribute values keep them too). */
#include "fuzz.h"
#include "twilio_int.h"

struct doc {
        const char *p, *end;
        char tags[512]; /* the element structure seen: "<Response><Say></Say>..." */
        size_t tlen;
        char *text; /* text and attribute values read back, '\x1f'-separated */
        size_t xlen, xcap;
};

/* Length of the legal XML character (UTF-8) at p, or 0. */
static size_t xml_char(const unsigned char *p, const unsigned char *end)
{
        unsigned char c = p[0];
        size_t k = c < 0x80                 ? 1
                   : c >= 0xc2 && c <= 0xdf ? 2
                   : c >= 0xe0 && c <= 0xef ? 3
                   : c >= 0xf0 && c <= 0xf4 ? 4
                                            : 0;
        uint32_t cp = k == 1 ? c : k == 2 ? c & 0x1f : k == 3 ? c & 0x0f : c & 0x07;

        if (k == 0 || (size_t)(end - p) < k)
                return 0;
        for (size_t j = 1; j < k; j++) {
                if ((p[j] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (p[j] & 0x3f);
        }
        if ((k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) || cp > 0x10ffff)
                return 0;
        if (cp < 0x20 && cp != 0x9 && cp != 0xa && cp != 0xd)
                return 0;
        if ((cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
                return 0;
        return k;
}

static void put_text(struct doc *d, const char *s, size_t n)
{
        FUZZ_CHECK(d->xlen + n < d->xcap);
        memcpy(d->text + d->xlen, s, n);
        d->xlen += n;
}

/* Character data up to `stop` ('<' for text, '"' for an attribute value). */
static void chars(struct doc *d, char stop)
{
        static const char *const ent[][2] = {
            {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}};

        while (d->p < d->end && *d->p != stop) {
                size_t k;
                if (*d->p == '&' && d->p + 1 < d->end && d->p[1] == '#') { /* &#N; */
                        char *e = NULL;
                        long cp = strtol(d->p + 2, &e, 10);
                        unsigned char u = (unsigned char)cp;
                        FUZZ_CHECK(e > d->p + 2 && e < d->end && *e == ';');
                        /* Only the three the escaper writes: all it needs. */
                        FUZZ_CHECK(cp == 9 || cp == 10 || cp == 13);
                        put_text(d, (const char *)&u, 1);
                        d->p = e + 1;
                        continue;
                }
                if (*d->p == '&') {
                        size_t i;
                        for (i = 0; i < 5; i++)
                                if (strncmp(d->p, ent[i][0], strlen(ent[i][0])) == 0)
                                        break;
                        FUZZ_CHECK(i < 5);
                        put_text(d, ent[i][1], 1);
                        d->p += strlen(ent[i][0]);
                        continue;
                }
                FUZZ_CHECK(*d->p != '<');
                k = xml_char((const unsigned char *)d->p, (const unsigned char *)d->end);
                FUZZ_CHECK(k > 0);
                put_text(d, d->p, k);
                d->p += k;
        }
        put_text(d, "\x1f", 1);
}

static void name(struct doc *d)
{
        const char *s = d->p;

        while (d->p < d->end && ((*d->p >= 'a' && *d->p <= 'z') || (*d->p >= 'A' && *d->p <= 'Z') ||
                                 (*d->p >= '0' && *d->p <= '9' && d->p > s) || *d->p == '_'))
                d->p++;
        FUZZ_CHECK(d->p > s);
        FUZZ_CHECK(d->tlen + (size_t)(d->p - s) + 3 < sizeof(d->tags));
        memcpy(d->tags + d->tlen, s, (size_t)(d->p - s));
        d->tlen += (size_t)(d->p - s);
}

static void tag(struct doc *d, const char *s)
{
        FUZZ_CHECK(d->tlen + strlen(s) < sizeof(d->tags));
        memcpy(d->tags + d->tlen, s, strlen(s));
        d->tlen += strlen(s);
}

/* One element at d->p ('<'), its attributes, content and end tag. */
static void element(struct doc *d, int depth)
{
        const char *start;
        size_t nlen;

        FUZZ_CHECK(depth < 16 && d->p < d->end && *d->p == '<');
        d->p++;
        tag(d, "<");
        start = d->p;
        name(d);
        nlen = (size_t)(d->p - start);
        while (d->p < d->end && *d->p == ' ') { /* attribute: name="value" */
                d->p++;
                tag(d, " ");
                name(d);
                FUZZ_CHECK(d->end - d->p >= 2 && d->p[0] == '=' && d->p[1] == '"');
                d->p += 2;
                chars(d, '"');
                FUZZ_CHECK(d->p < d->end);
                d->p++;
        }
        FUZZ_CHECK(d->p < d->end);
        if (*d->p == '/') {
                FUZZ_CHECK(d->end - d->p >= 2 && d->p[1] == '>');
                d->p += 2;
                tag(d, "/>");
                return;
        }
        FUZZ_CHECK(*d->p == '>');
        d->p++;
        tag(d, ">");
        for (;;) {
                if (d->p < d->end && *d->p != '<')
                        chars(d, '<');
                FUZZ_CHECK(d->p < d->end);
                if (d->p + 1 < d->end && d->p[1] == '/')
                        break;
                element(d, depth + 1);
        }
        d->p += 2;
        FUZZ_CHECK((size_t)(d->end - d->p) > nlen && memcmp(d->p, start, nlen) == 0 &&
                   d->p[nlen] == '>');
        d->p += nlen + 1;
        tag(d, "</");
        FUZZ_CHECK(d->tlen + nlen + 1 < sizeof(d->tags));
        memcpy(d->tags + d->tlen, start, nlen);
        d->tlen += nlen;
        tag(d, ">");
}

static void check_doc(const struct cb_buf *out, const char *structure, const char *a, const char *b)
{
        static const char decl[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
        struct doc *d = calloc(1, sizeof(*d));

        FUZZ_CHECK(d != NULL);
        d->xcap = out->len + 16; /* read back, the text is never longer than the document */
        d->text = malloc(d->xcap);
        FUZZ_CHECK(d->text != NULL);
        FUZZ_CHECK(out->len > sizeof(decl) && memcmp(out->data, decl, sizeof(decl) - 1) == 0);
        d->p = out->data + sizeof(decl) - 1;
        d->end = out->data + out->len;
        element(d, 0);
        FUZZ_CHECK(d->p == d->end);
        d->tags[d->tlen] = '\0';
        if (strcmp(d->tags, structure) != 0)
                fprintf(stderr, "structure %s, expected %s\n", d->tags, structure);
        FUZZ_CHECK(strcmp(d->tags, structure) == 0);
        /* Values of legal characters only read back unchanged (they appear in order). */
        d->text[d->xlen] = '\0';
        for (const char *v = a; v != NULL; v = v == a ? b : NULL) {
                bool legal = true;
                for (const char *p = v; *p != '\0';) {
                        size_t k = xml_char((const unsigned char *)p,
                                            (const unsigned char *)p + strlen(p));
                        if (k == 0) {
                                legal = false;
                                break;
                        }
                        p += k;
                }
                if (legal && v[0] != '\0')
                        FUZZ_CHECK(strstr(d->text, v) != NULL);
        }
        free(d->text);
        free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_in in = {data, size};
        int which = fuzz_byte(&in) % 5;
        char *a = fuzz_field(&in, '\n', NULL);
        char *b = fuzz_field(&in, '\0', NULL);
        struct cb_buf out = {.max = 1 << 20};

        switch (which) {
        case 0:
                FUZZ_CHECK(cb_twiml_say_hangup(&out, a) == 0);
                check_doc(&out, "<Response><Say></Say><Hangup/></Response>", a, NULL);
                break;
        case 1:
                FUZZ_CHECK(cb_twiml_dial_number(&out, a, b, 30) == 0);
                check_doc(&out,
                          "<Response><Dial answerOnBridge timeout callerId><Number></Number>"
                          "</Dial></Response>",
                          a, b);
                break;
        case 2:
                FUZZ_CHECK(cb_twiml_dial_number(&out, a, NULL, 30) == 0);
                check_doc(&out,
                          "<Response><Dial answerOnBridge timeout><Number></Number></Dial>"
                          "</Response>",
                          a, NULL);
                break;
        case 3:
                FUZZ_CHECK(cb_twiml_dial_client(&out, a, b, 20) == 0);
                check_doc(&out,
                          "<Response><Dial answerOnBridge timeout><Client><Identity></Identity>"
                          "<Parameter name value/></Client></Dial></Response>",
                          a, b);
                break;
        default:
                FUZZ_CHECK(cb_twiml_dial_client(&out, a, NULL, 20) == 0);
                check_doc(&out,
                          "<Response><Dial answerOnBridge timeout><Client><Identity></Identity>"
                          "</Client></Dial></Response>",
                          a, NULL);
        }
        cb_buf_free(&out);
        free(a);
        free(b);
        return 0;
}
