/* cb-nlp-bench: cb_nlp_analyse throughput on a synthetic sales transcript, in words/s.
 *
 *   cb-nlp-bench [--rules FILE] [--lexicon FILE] [--words N] [--seconds S]
 *   cb-nlp-bench [--rules FILE] [--lexicon FILE] --text "what to analyse"   (prints the JSON)
 *
 * FILE defaults are the repository's config/ copies. The transcript is N words (10,000 by
 * default) drawn from sales sentences with fillers, repeats, money, dates and products, so
 * every stage does real work. Figures go to docs/benchmarks.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbridge/nlp.h"
#include "callbridge/util.h"

static const char *const pieces[] = {
    "um so we looked at Callbridge Pro last week and honestly the the price is a bit high,",
    "could you send me a quote for fifty seats by next Tuesday?",
    "our current vendor Aircall keeps crashing and we are really frustrated",
    "I like it, like, the transcription is very good but the setup was confusing",
    "we could do $5,000 per month if you give us a 15% discount",
    "can we schedule a demo on March 3rd with our sales director",
    "uh, you know, we're not unhappy with the price but support is slow",
    "if it works we're ready to move forward and sign the contract before 2026-12-01",
    "call me back tomorrow afternoon please, I'm in meetings all morning",
    "honestly it's excellent and the team loves the dialer, extremely easy to use",
};

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* About `words` words of transcript (caller frees); its exact word count in *count. */
static char *transcript(long words, long *count)
{
        struct cb_buf b = {.max = 1u << 30};
        long n = 0;

        for (size_t i = 0; n < words; i = (i + 7) % (sizeof(pieces) / sizeof(pieces[0]))) {
                const char *p = pieces[i];
                for (const char *q = p; *q; q++)
                        n += *q == ' ';
                n++;
                if (cb_buf_puts(&b, p) != 0 || cb_buf_puts(&b, " ") != 0) {
                        cb_buf_free(&b);
                        return NULL;
                }
        }
        *count = n;
        return b.data;
}

int main(int argc, char **argv)
{
        const char *rules_path = CB_SOURCE_DIR "/config/nlp-rules.json";
        const char *lexicon = CB_SOURCE_DIR "/config/sentiment-lexicon.tsv";
        const char *text = NULL;
        long words = 10000, count = 0, runs = 0;
        double seconds = 3, t0, t;
        char err[4096];
        struct cb_nlp_rules *rules;
        char *tx;

        for (int i = 1; i + 1 < argc; i += 2) {
                if (strcmp(argv[i], "--rules") == 0)
                        rules_path = argv[i + 1];
                else if (strcmp(argv[i], "--lexicon") == 0)
                        lexicon = argv[i + 1];
                else if (strcmp(argv[i], "--text") == 0)
                        text = argv[i + 1];
                else if (strcmp(argv[i], "--words") == 0 &&
                         cb_parse_long(argv[i + 1], 1, 10000000, &words))
                        ;
                else if (strcmp(argv[i], "--seconds") == 0)
                        seconds = strtod(argv[i + 1], NULL);
                else
                        return fprintf(stderr, "cb-nlp-bench: bad argument %s\n", argv[i]), 2;
        }
        cb_nlp_set_lexicon(lexicon);
        rules = cb_nlp_rules_load(rules_path, err, sizeof(err));
        if (rules == NULL)
                return fprintf(stderr, "%s\n", err), 1;
        if (text != NULL) {
                json_t *out = cb_nlp_analyse(rules, text, NULL);
                char *s = json_dumps(out, JSON_INDENT(2));
                printf("%s\n", s ? s : "null");
                free(s);
                json_decref(out);
                cb_nlp_rules_unref(&rules);
                return 0;
        }
        if ((tx = transcript(words, &count)) == NULL)
                return 1;
        t0 = now_s();
        do {
                json_t *out = cb_nlp_analyse(rules, tx, NULL);
                if (out == NULL)
                        return fprintf(stderr, "cb-nlp-bench: analysis failed\n"), 1;
                json_decref(out);
                runs++;
        } while ((t = now_s() - t0) < seconds);
        printf("transcript: %ld words, %zu bytes; %ld analyses in %.2f s\n", count, strlen(tx),
               runs, t);
        printf("%.2f ms per analysis, %.2f M words/s\n", 1e3 * t / (double)runs,
               (double)count * (double)runs / t / 1e6);
        free(tx);
        cb_nlp_rules_unref(&rules);
        return 0;
}
