/* The rules engine's accuracy on the labelled set (tests/data/nlp_labelled.tsv): the share of
 * sentences whose sentiment label is right and the share whose tag set is exactly right, each
 * at least 90%. Prints both figures (docs/benchmarks.md quotes them) and every miss, so a rule
 * change shows what it fixed and what it broke. Unlike tests/data/nlp_sentences.tsv (every row
 * exact), this set measures: a few misses are expected. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "callbridge/nlp.h"

#define MIN_ACCURACY 0.90
#define MIN_ROWS     200

static char root[PATH_MAX];
static struct cb_nlp_rules *rules;

/* Rules and lexicon from the repository root: $CB_SOURCE_DIR, else two directories above this
 * file's. */
static int setup(void **state)
{
        const char *env = getenv("CB_SOURCE_DIR");
        const char *slash = strrchr(__FILE__, '/');
        char path[PATH_MAX + 64], err[4096];

        (void)state;
        if (env != NULL && env[0] != '\0')
                snprintf(root, sizeof(root), "%s", env);
        else
                snprintf(root, sizeof(root), "%.*s/../..", (int)(slash - __FILE__), __FILE__);
        snprintf(path, sizeof(path), "%s/config/sentiment-lexicon.tsv", root);
        cb_nlp_set_lexicon(path);
        snprintf(path, sizeof(path), "%s/config/nlp-rules.json", root);
        rules = cb_nlp_rules_load(path, err, sizeof(err));
        if (rules == NULL)
                fprintf(stderr, "%s\n", err);
        return rules == NULL ? -1 : 0;
}

static int teardown(void **state)
{
        (void)state;
        cb_nlp_rules_unref(&rules);
        cb_nlp_set_lexicon(NULL);
        return 0;
}

/* Whether the ;-separated `want` ("-" for none) is exactly the set of strings in `got`. */
static bool same_tags(const char *want, const json_t *got)
{
        char buf[512], *save = NULL;
        size_t n = 0;

        if (strcmp(want, "-") == 0)
                return json_array_size(got) == 0;
        snprintf(buf, sizeof(buf), "%s", want);
        for (char *t = strtok_r(buf, ";", &save); t != NULL; t = strtok_r(NULL, ";", &save)) {
                size_t i;
                json_t *v;
                bool found = false;
                json_array_foreach(got, i, v) found = found || strcmp(json_string_value(v), t) == 0;
                if (!found)
                        return false;
                n++;
        }
        return n == json_array_size(got);
}

struct tally {
        size_t rows, sentiment_ok, tags_ok;
};

/* Score one "sentence<TAB>label<TAB>tags" row into `t`, printing a miss. */
static void score_row(char *line, size_t lineno, struct tally *t)
{
        char *f[3], *save = NULL;
        size_t n = 0;

        for (char *p = strtok_r(line, "\t", &save); p != NULL && n < 3;
             p = strtok_r(NULL, "\t", &save))
                f[n++] = p;
        if (n != 3)
                fail_msg("nlp_labelled.tsv:%zu: expected 3 columns", lineno);
        if (strcmp(f[1], "positive") != 0 && strcmp(f[1], "negative") != 0 &&
            strcmp(f[1], "neutral") != 0)
                fail_msg("nlp_labelled.tsv:%zu: label must be positive, negative or neutral",
                         lineno);
        json_t *out = cb_nlp_analyse(rules, f[0], NULL);
        assert_non_null(out);
        json_t *sent = json_object_get(out, "sentiment"), *tags = json_object_get(out, "tags");
        const char *label = json_string_value(json_object_get(sent, "label"));
        t->rows++;
        if (strcmp(label, f[1]) == 0)
                t->sentiment_ok++;
        else
                printf("  %zu: sentiment %s (%.3f), labelled %s: %s\n", lineno, label,
                       json_real_value(json_object_get(sent, "score")), f[1], f[0]);
        if (same_tags(f[2], tags)) {
                t->tags_ok++;
        } else {
                char *got = json_dumps(tags, JSON_COMPACT);
                printf("  %zu: tags %s, labelled %s: %s\n", lineno, got ? got : "?", f[2], f[0]);
                free(got);
        }
        json_decref(out);
}

static void test_accuracy(void **state)
{
        char path[PATH_MAX + 64], line[1024];
        struct tally t = {0};
        size_t lineno = 0;
        FILE *f;

        (void)state;
        snprintf(path, sizeof(path), "%s/tests/data/nlp_labelled.tsv", root);
        f = fopen(path, "r");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f) != NULL) {
                lineno++;
                line[strcspn(line, "\r\n")] = '\0';
                if (line[0] != '#' && line[0] != '\0')
                        score_row(line, lineno, &t);
        }
        fclose(f);
        assert_true(t.rows >= MIN_ROWS);
        double sa = (double)t.sentiment_ok / (double)t.rows;
        double ta = (double)t.tags_ok / (double)t.rows;
        printf("nlp accuracy: %zu sentences, sentiment %zu/%zu = %.1f%%, tags %zu/%zu = %.1f%%\n",
               t.rows, t.sentiment_ok, t.rows, 100 * sa, t.tags_ok, t.rows, 100 * ta);
        assert_true(sa >= MIN_ACCURACY);
        assert_true(ta >= MIN_ACCURACY);
}

static json_t *analyse(const char *text)
{
        json_t *out = cb_nlp_analyse(rules, text, NULL);

        assert_non_null(out);
        return out;
}

static const char *label_of(json_t *out)
{
        return json_string_value(json_object_get(json_object_get(out, "sentiment"), "label"));
}

static bool has_string(const json_t *arr, const char *s)
{
        size_t i;
        json_t *v;

        json_array_foreach(arr, i, v) if (strcmp(json_string_value(v), s) == 0) return true;
        return false;
}

static const struct {
        const char *text, *label, *tag; /* must be applied; "!Tag": must not be */
} shapes[] = {
    /* a negated phrase does not trigger its rule; one starting with a negation does */
    {"We don't need a demo.", "neutral", "!Hot Lead"},
    {"We never had any outages with you.", "positive", "!Customer Issue"},
    {"We are not switching to Aircall, we love you.", "positive", "!Churn Risk"},
    {"The sync is not working.", "negative", "Customer Issue"},
    /* intent valence: news without a sentiment word */
    {"We signed with Dialpad yesterday.", "negative", "Churn Risk"},
    {"We need more seats for the new hires.", "positive", "Hot Lead"},
    {"We don't want more seats this year.", "neutral", "!Hot Lead"},
    /* contrast: the clause after "but" weighs more, churn after praise stays churn */
    {"The product is great, but we have to cancel our subscription.", "negative", "Churn Risk"},
    /* scheduling: cancelling a meeting is not churn; questions do not praise */
    {"Can we cancel the meeting and reschedule for Monday?", "neutral", "!Churn Risk"},
    {"Can you tell me how the dialer works?", "neutral", "!Hot Lead"},
};

/* Each rule behind the figure, on sentences outside the labelled set. */
static void test_shapes(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
                json_t *out = analyse(shapes[i].text);
                const char *tag = shapes[i].tag;
                json_t *tags = json_object_get(out, "tags");
                if (strcmp(label_of(out), shapes[i].label) != 0)
                        fail_msg("\"%s\": %s, expected %s", shapes[i].text, label_of(out),
                                 shapes[i].label);
                if (tag[0] == '!' && has_string(tags, tag + 1))
                        fail_msg("\"%s\": tagged %s", shapes[i].text, tag + 1);
                if (tag[0] != '!' && !has_string(tags, tag))
                        fail_msg("\"%s\": not tagged %s", shapes[i].text, tag);
                json_decref(out);
        }
}

/* `valence` is a number from -4 to 4, on intents only. */
static void test_valence_checks(void **state)
{
        static const struct {
                const char *json, *problem;
        } cases[] = {
            {"{\"version\":1,\"intents\":[{\"name\":\"a\",\"valence\":5,"
             "\"when\":{\"any\":[\"x\"]}}]}",
             "intents[0].valence: expected a number from -4 to 4"},
            {"{\"version\":1,\"intents\":[{\"name\":\"a\",\"valence\":\"bad\","
             "\"when\":{\"any\":[\"x\"]}}]}",
             "intents[0].valence: expected a number from -4 to 4"},
            {"{\"version\":1,\"tags\":[{\"name\":\"a\",\"valence\":1,"
             "\"when\":{\"any\":[\"x\"]}}]}",
             "tags[0].valence: unknown key"},
        };
        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char path[] = "/tmp/cb-nlp-valence-XXXXXX", err[2048];
                int fd = mkstemp(path);
                assert_true(fd >= 0);
                assert_int_equal(write(fd, cases[i].json, strlen(cases[i].json)),
                                 (ssize_t)strlen(cases[i].json));
                close(fd);
                struct cb_nlp_rules *r = cb_nlp_rules_load(path, err, sizeof(err));
                unlink(path);
                assert_null(r);
                if (strstr(err, cases[i].problem) == NULL)
                        fail_msg("case %zu: \"%s\" not in \"%s\"", i, cases[i].problem, err);
        }
        /* A valid one loads and moves the sentence it was found in. */
        const char *ok = "{\"version\":1,\"intents\":[{\"name\":\"gone\",\"valence\":-2,"
                         "\"when\":{\"any\":[\"signed elsewhere\"]}}]}";
        char path[] = "/tmp/cb-nlp-valence-XXXXXX", err[2048];
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, ok, strlen(ok)), (ssize_t)strlen(ok));
        close(fd);
        struct cb_nlp_rules *r = cb_nlp_rules_load(path, err, sizeof(err));
        unlink(path);
        assert_non_null(r);
        json_t *out = cb_nlp_analyse(r, "We signed elsewhere.", NULL);
        assert_string_equal(label_of(out), "negative");
        json_decref(out);
        cb_nlp_rules_unref(&r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_accuracy),
                                           cmocka_unit_test(test_shapes),
                                           cmocka_unit_test(test_valence_checks)};
        return cmocka_run_group_tests(tests, setup, teardown);
}
