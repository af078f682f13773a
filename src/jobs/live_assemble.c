/* A live transcript from its final segments (stt.live_transcript): pure, unit-tested. */
#include <stdlib.h>
#include <string.h>

#include "kinds.h"

struct seg {
        long long seq;
        size_t row;          /* ties: the earlier row first (qsort is not stable) */
        const char *speaker; /* "agent" | "customer" */
        const char *text;
};

static int by_sequence(const void *a, const void *b)
{
        const struct seg *x = a, *y = b;
        if (x->seq != y->seq)
                return (x->seq > y->seq) - (x->seq < y->seq);
        return (x->row > y->row) - (x->row < y->row);
}

/* The well-formed rows as segments, in sequence order, each sequence once. -1 when out of
 * memory. */
static int collect(const json_t *rows, struct seg **out, size_t *n)
{
        const json_t *row;
        size_t i, k = 0;
        struct seg *v = calloc(json_array_size(rows) + 1, sizeof(*v));

        if (v == NULL)
                return -1;
        json_array_foreach(rows, i, row)
        {
                const char *seq = json_string_value(json_array_get(row, 0));
                const char *who = json_string_value(json_array_get(row, 1));
                const char *text = json_string_value(json_array_get(row, 2));
                char *end = NULL;
                long long s = seq ? strtoll(seq, &end, 10) : -1;
                if (seq == NULL || end == seq || *end != '\0' || s < 0 || who == NULL ||
                    text == NULL || (strcmp(who, "agent") != 0 && strcmp(who, "customer") != 0))
                        continue; /* not a segment row: skipped */
                v[k++] = (struct seg){.seq = s, .row = i, .speaker = who, .text = text};
        }
        qsort(v, k, sizeof(*v), by_sequence);
        *n = 0;
        for (i = 0; i < k; i++)
                if (*n == 0 || v[*n - 1].seq != v[i].seq)
                        v[(*n)++] = v[i]; /* the first of a repeated sequence stays */
        *out = v;
        return 0;
}

int cb_live_assemble(const json_t *rows, struct cb_buf *labelled, struct cb_buf *plain,
                     json_t *segments)
{
        struct seg *v = NULL;
        size_t n = 0;
        int rc = collect(rows, &v, &n);

        for (size_t i = 0; rc == 0 && i < n; i++) {
                rc |= cb_buf_printf(labelled, "%s%s: %s", i > 0 ? "\n" : "",
                                    strcmp(v[i].speaker, "agent") == 0 ? "Agent" : "Customer",
                                    v[i].text);
                rc |= cb_buf_printf(plain, "%s%s", i > 0 ? " " : "", v[i].text);
                rc |= json_array_append_new(segments, json_pack("{s:I,s:s,s:s}", "sequence",
                                                                (json_int_t)v[i].seq, "speaker",
                                                                v[i].speaker, "text", v[i].text));
        }
        free(v);
        if (rc == 0 && n == 0) /* nothing: empty texts, not NULL buffers */
                rc = cb_buf_puts(labelled, "") | cb_buf_puts(plain, "");
        return rc != 0 || labelled->data == NULL || plain->data == NULL ? -1 : 0;
}
