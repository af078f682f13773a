/* Conversation intelligence (src/nlp): the labelled sentence set (tests/data/nlp_sentences.tsv,
 * every row asserted), cleanup, sentiment shapes, entity values, rules validation (line for
 * syntax, JSON path for schema, every problem), reload keeping the old rules, due dates. */
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

static char root[PATH_MAX];
static char rules_path[PATH_MAX + 64];
static struct cb_nlp_rules *rules;

/* The repository root: $CB_SOURCE_DIR, else two directories above this file's. */
static void find_root(void)
{
        const char *env = getenv("CB_SOURCE_DIR");
        const char *slash = strrchr(__FILE__, '/');
        char lexicon[PATH_MAX + 64];

        if (env != NULL && env[0] != '\0')
                snprintf(root, sizeof(root), "%s", env);
        else
                snprintf(root, sizeof(root), "%.*s/../..", (int)(slash - __FILE__), __FILE__);
        snprintf(rules_path, sizeof(rules_path), "%s/config/nlp-rules.json", root);
        snprintf(lexicon, sizeof(lexicon), "%s/config/sentiment-lexicon.tsv", root);
        cb_nlp_set_lexicon(lexicon);
}

static int setup(void **state)
{
        char err[4096];

        (void)state;
        find_root();
        rules = cb_nlp_rules_load(rules_path, err, sizeof(err));
        if (rules == NULL)
                fprintf(stderr, "%s\n", err);
        return rules == NULL ? -1 : 0;
}

static int teardown(void **state)
{
        (void)state;
        cb_nlp_rules_unref(&rules);
        return 0;
}

static json_t *analyse(const char *text)
{
        json_t *call = json_pack("{s:s}", "created_at", "2026-03-02T10:00:00Z"); /* a Monday */
        json_t *out = cb_nlp_analyse(rules, text, call);

        json_decref(call);
        assert_non_null(out);
        return out;
}

/* `list` (a ;-separated set or "-") equals the strings of `arr` as a set. */
static bool same_set(const char *list, const json_t *arr)
{
        size_t n = 0, i;
        json_t *v;
        char buf[512];

        if (strcmp(list, "-") != 0) {
                snprintf(buf, sizeof(buf), "%s", list);
                for (char *save = NULL, *t = strtok_r(buf, ";", &save); t != NULL;
                     t = strtok_r(NULL, ";", &save)) {
                        bool found = false;
                        json_array_foreach(arr, i, v) found =
                            found || strcmp(json_string_value(v), t) == 0;
                        if (!found)
                                return false;
                        n++;
                }
        }
        return n == json_array_size(arr);
}

/* Every entity "type:text" of `list` is among the entities. */
static bool has_entities(const char *list, const json_t *ents, char *missing, size_t size)
{
        char buf[512];
        size_t i;
        json_t *e;

        if (strcmp(list, "-") == 0)
                return true;
        snprintf(buf, sizeof(buf), "%s", list);
        for (char *save = NULL, *t = strtok_r(buf, ";", &save); t != NULL;
             t = strtok_r(NULL, ";", &save)) {
                bool found = false;
                json_array_foreach(ents, i, e)
                {
                        char et[256];
                        snprintf(et, sizeof(et), "%s:%s",
                                 json_string_value(json_object_get(e, "type")),
                                 json_string_value(json_object_get(e, "text")));
                        found = found || strcmp(et, t) == 0;
                }
                if (!found) {
                        snprintf(missing, size, "%s", t);
                        return false;
                }
        }
        return true;
}

/* One labelled row; false (printed) on any difference. */
static bool check_row(char *line, size_t lineno)
{
        char *f[5], *save = NULL, missing[256] = "";
        size_t n = 0;
        bool ok = true;

        for (char *t = strtok_r(line, "\t", &save); t != NULL && n < 5;
             t = strtok_r(NULL, "\t", &save))
                f[n++] = t;
        if (n != 5)
                fail_msg("nlp_sentences.tsv:%zu: expected 5 columns", lineno);
        json_t *out = analyse(f[0]);
        const char *label =
            json_string_value(json_object_get(json_object_get(out, "sentiment"), "label"));
        const char *intent = json_string_value(json_object_get(out, "intent"));
        if (strcmp(label, f[1]) != 0) {
                printf("  %zu: \"%s\": label %s (%.3f), expected %s\n", lineno, f[0], label,
                       json_real_value(json_object_get(json_object_get(out, "sentiment"), "score")),
                       f[1]);
                ok = false;
        }
        if (strcmp(intent ? intent : "-", f[2]) != 0) {
                printf("  %zu: \"%s\": intent %s, expected %s\n", lineno, f[0],
                       intent ? intent : "-", f[2]);
                ok = false;
        }
        if (!same_set(f[3], json_object_get(out, "tags"))) {
                char *tags = json_dumps(json_object_get(out, "tags"), 0);
                printf("  %zu: \"%s\": tags %s, expected %s\n", lineno, f[0], tags, f[3]);
                free(tags);
                ok = false;
        }
        if (!has_entities(f[4], json_object_get(out, "entities"), missing, sizeof(missing))) {
                printf("  %zu: \"%s\": entity %s not found\n", lineno, f[0], missing);
                ok = false;
        }
        json_decref(out);
        return ok;
}

/* Every row of the labelled set, exactly. */
static void test_labelled_set(void **state)
{
        char path[PATH_MAX + 64], line[1024];
        size_t lineno = 0, rows = 0, misses = 0;
        FILE *f;

        (void)state;
        snprintf(path, sizeof(path), "%s/tests/data/nlp_sentences.tsv", root);
        f = fopen(path, "r");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f) != NULL) {
                lineno++;
                line[strcspn(line, "\r\n")] = '\0';
                if (line[0] == '#' || line[0] == '\0')
                        continue;
                rows++;
                misses += !check_row(line, lineno);
        }
        fclose(f);
        printf("  labelled set: %zu rows, %zu misses\n", rows, misses);
        assert_true(rows >= 60);
        assert_int_equal(misses, 0);
}

static const struct {
        const char *in, *clean;
        size_t sentences;
} cleanups[] = {
    {"um so uh we er want it", "So we want it.", 1},
    {"Um, I think, you know, it's fine.", "I think, it's fine.", 1},
    {"do you know the price", "Do you know the price.", 1},
    {"i like it", "I like it.", 1},
    {"it's, like, really expensive", "It's, really expensive.", 1},
    {"something like $5,000", "Something like $5,000.", 1},
    {"the the price is is high", "The price is high.", 1},
    {"I, I think we need it", "I think we need it.", 1},
    {"i'm sure. i've seen it? yes! ok", "I'm sure. I've seen it? Yes! Ok.", 4},
    {"  lots   of\tspace\n\nhere  ", "Lots of space here.", 1},
    {"Talk to Mr. Smith about e.g. pricing. then call",
     "Talk to Mr. Smith about e.g. pricing. Then call.", 2},
    {"version 2.5 is out. great", "Version 2.5 is out. Great.", 2},
    {"caf\xc3\xa9 na\xc3\xafve r\xc3\xa9sum\xc3\xa9",
     "Caf\xc3\xa9 na\xc3\xafve r\xc3\xa9sum\xc3\xa9.", 1},
    {"\xc3\xa9t\xc3\xa9 was good", "\xc3\xa9t\xc3\xa9 was good.", 1},
    {"bad \xff\xfe bytes", "Bad \xef\xbf\xbd\xef\xbf\xbd bytes.", 1},
    {"cut \xe2\x82", "Cut \xef\xbf\xbd\xef\xbf\xbd.", 1},
    {"we don\xe2\x80\x99t know", "We don't know.", 1},
    {"", "", 0},
    {"um uh", "", 0},
    {"is it good, um?", "Is it good?", 1},
};

static void test_cleanup(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(cleanups) / sizeof(cleanups[0]); i++) {
                json_t *out = analyse(cleanups[i].in);
                const char *clean = json_string_value(json_object_get(out, "clean_text"));
                if (strcmp(clean, cleanups[i].clean) != 0)
                        fail_msg("cleanup %zu: \"%s\" -> \"%s\", expected \"%s\"", i,
                                 cleanups[i].in, clean, cleanups[i].clean);
                assert_int_equal(json_array_size(json_object_get(out, "sentences")),
                                 cleanups[i].sentences);
                json_decref(out);
        }
}

/* A run of 80 words without punctuation is broken on a conjunction after ~30 words, and the
 * pieces never split a multibyte character. */
static void test_long_run(void **state)
{
        char text[4096] = "";
        size_t i;
        json_t *out, *s;

        (void)state;
        for (i = 0; i < 80; i++) {
                char word[32];
                snprintf(word, sizeof(word), i % 9 == 8 ? "and " : "caf\xc3\xa9%zu ", i);
                strcat(text, word);
        }
        out = analyse(text);
        assert_true(json_array_size(json_object_get(out, "sentences")) >= 2);
        json_array_foreach(json_object_get(out, "sentences"), i, s)
        {
                const char *t = json_string_value(s);
                size_t words = 1;
                for (const char *p = t; *p; p++)
                        words += *p == ' ';
                assert_true(words <= 60);
                assert_true(i == 0 || strncmp(t, "And ", 4) == 0);
        }
        json_decref(out);
}

static double score_of(const char *text)
{
        json_t *out = analyse(text);
        double v = json_real_value(json_object_get(json_object_get(out, "sentiment"), "score"));

        json_decref(out);
        assert_true(v >= -1 && v <= 1);
        return v;
}

/* The shapes the rules promise, relative to each other. */
static void test_sentiment_shapes(void **state)
{
        (void)state;
        assert_true(score_of("It is very good.") > score_of("It is good."));
        assert_true(score_of("It is slightly good.") < score_of("It is good."));
        assert_true(score_of("It is good!") > score_of("It is good."));
        assert_true(score_of("It is not good.") < 0);
        assert_true(-score_of("It is not good.") < score_of("It is good.")); /* damped */
        assert_true(score_of("It is good but slow.") < 0);
        assert_true(score_of("It is slow but good.") > 0);
        assert_true(score_of("It is good, not bad.") > 0); /* a clause break ends negation */
        assert_true(score_of("The meeting is on Tuesday.") == 0);
        assert_true(score_of("Great. Great. Great. Great. Great. Great.") < 1);
        assert_true(score_of("terrible awful horrible useless disaster worst") > -1);
}

/* Entity values, relative dates from the call's day (Monday 2026-03-02). */
static void test_entity_values(void **state)
{
        static const struct {
                const char *text, *type, *surface, *value;
                double amount;
        } cases[] = {
            {"They paid $5,000.50 for it.", "money", "$5,000.50", NULL, 5000.5},
            {"About 5k dollars a year.", "money", "5k dollars", NULL, 5000},
            {"It costs \xe2\x82\xac"
             "200.",
             "money",
             "\xe2\x82\xac"
             "200",
             NULL, 200},
            {"Maybe \xc2\xa3"
             "1.2m in total.",
             "money",
             "\xc2\xa3"
             "1.2m",
             NULL, 1200000},
            {"We spend 3 million dollars.", "money", "3 million dollars", NULL, 3000000},
            {"A 12.5% cut.", "percent", "12.5%", NULL, 12.5},
            {"Call me tomorrow.", "date", "tomorrow", "2026-03-03", 0},
            {"Call me today.", "date", "today", "2026-03-02", 0},
            {"See you next Friday.", "date", "next Friday", "2026-03-06", 0},
            {"See you Monday.", "date", "Monday", "2026-03-09", 0},
            {"Starts next week.", "date", "next week", "2026-03-09", 0},
            {"Starts next month.", "date", "next month", "2026-04-01", 0},
            {"By the end of the month.", "date", "end of the month", "2026-03-31", 0},
            {"On March 3rd.", "date", "March 3rd", "2026-03-03", 0},
            {"On February 1st.", "date", "February 1st", "2027-02-01", 0},
            {"On the 29th of February.", "date", "29th of February", "2028-02-29", 0},
            {"On Dec 24, 2026.", "date", "Dec 24, 2026", "2026-12-24", 0},
            {"Signed 2026-12-01.", "date", "2026-12-01", "2026-12-01", 0},
        };

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                json_t *out = analyse(cases[i].text), *e, *hit = NULL;
                size_t k;
                json_array_foreach(json_object_get(out, "entities"), k, e)
                {
                        if (strcmp(json_string_value(json_object_get(e, "type")), cases[i].type) ==
                            0)
                                hit = e;
                }
                if (hit == NULL)
                        fail_msg("\"%s\": no %s entity", cases[i].text, cases[i].type);
                assert_string_equal(json_string_value(json_object_get(hit, "text")),
                                    cases[i].surface);
                if (cases[i].value != NULL)
                        assert_string_equal(json_string_value(json_object_get(hit, "value")),
                                            cases[i].value);
                else
                        assert_true(json_number_value(json_object_get(hit, "value")) ==
                                    cases[i].amount);
                json_decref(out);
        }
}

/* The analysis counts the clean text's words (issue 15: a nine-word transcript said 0). */
static void test_word_count(void **state)
{
        json_t *out;

        (void)state;
        out = analyse("We want a demo of Callbridge Pro next week.");
        assert_int_equal(json_integer_value(json_object_get(out, "words")), 9);
        json_decref(out);
        out = analyse("Um, uh, so we want a demo.");
        assert_int_equal(json_integer_value(json_object_get(out, "words")),
                         5); /* the fillers are cleaned away first */
        json_decref(out);
}

/* Keywords by frequency, the longest dictionary term wins, summary and follow-ups. */
static void test_keywords_summary_follow_ups(void **state)
{
        json_t *out, *fu;

        (void)state;
        out =
            analyse("Hi, this is Sam from Callbridge. We talked about Callbridge Pro. The weather "
                    "is nice. The price and the price list matter, the price is key. Can you "
                    "call me back tomorrow? We want a demo. Thanks, bye.");
        assert_string_equal(json_string_value(json_array_get(json_object_get(out, "keywords"), 0)),
                            "price");
        /* "Callbridge Pro" is one product, not also "Callbridge". */
        size_t n = 0, i;
        json_t *e;
        json_array_foreach(json_object_get(out, "entities"), i, e)
        {
                n += strcmp(json_string_value(json_object_get(e, "text")), "Callbridge") == 0;
        }
        assert_int_equal(n, 1);
        const char *summary = json_string_value(json_object_get(out, "summary"));
        assert_null(strstr(summary, "weather"));
        assert_non_null(strstr(summary, "price"));
        fu = json_object_get(out, "follow_ups");
        assert_true(json_array_size(fu) >= 2);
        bool callback = false;
        json_array_foreach(fu, i, e)
        {
                if (strcmp(json_string_value(json_object_get(e, "rule")), "callback") == 0) {
                        callback = true;
                        assert_string_equal(json_string_value(json_object_get(e, "due")), "today");
                        assert_string_equal(json_string_value(json_object_get(e, "description")),
                                            "Can you call me back tomorrow?");
                }
        }
        assert_true(callback);
        json_decref(out);
        out = cb_nlp_analyse(rules, NULL, NULL);
        assert_non_null(out);
        assert_true(json_is_null(json_object_get(out, "intent")));
        assert_string_equal(json_string_value(json_object_get(out, "summary")), "");
        json_decref(out);
}

/* ---- rules files -------------------------------------------------------------------------- */

static char tmp_path[64];

static const char *write_tmp(const char *text)
{
        int fd;

        snprintf(tmp_path, sizeof(tmp_path), "/tmp/cb-nlp-XXXXXX");
        fd = mkstemp(tmp_path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
        return tmp_path;
}

/* Load `text`; it must fail and the error must hold every one of `needles` (NULL-ended). */
static void expect_errors(const char *text, const char *const *needles)
{
        char err[4096];
        struct cb_nlp_rules *r = cb_nlp_rules_load(write_tmp(text), err, sizeof(err));

        unlink(tmp_path);
        if (r != NULL)
                fail_msg("loaded: %s", text);
        for (size_t i = 0; needles[i] != NULL; i++)
                if (strstr(err, needles[i]) == NULL)
                        fail_msg("error lacks \"%s\":\n%s", needles[i], err);
}

#define ERRORS(text, ...) expect_errors(text, (const char *const[]){__VA_ARGS__, NULL})

static void test_rules_errors(void **state)
{
        (void)state;
        ERRORS("{\"version\": 1,\n\"intents\": [\n{\"name\": \"x\",,}\n]}", "cb-nlp-", "line 3");
        ERRORS("[]", "(top level): expected an object");
        ERRORS("{}", "version: required");
        ERRORS("{\"version\": 2}", "version: expected 1");
        ERRORS("{\"version\": 1, \"intent\": []}", "intent: unknown key");
        ERRORS("{\"version\": 1, \"intents\": {}}", "intents: expected an array");
        ERRORS(
            "{\"version\": 1, \"intents\": [{\"name\": \"a\", \"when\": {\"any\": [\"x\", 3]}}]}",
            "intents[0].when.any[1]: expected a string");
        ERRORS("{\"version\": 1, \"intents\": [{\"name\": \"\", \"when\": {\"any\": [\"x\"]}}]}",
               "intents[0].name: must not be empty");
        ERRORS("{\"version\": 1, \"intents\": [{\"when\": {\"any\": [\"x\"]}}]}",
               "intents[0].name: required");
        ERRORS("{\"version\": 1, \"intents\": [{\"name\": \"a\", \"when\": {\"anny\": [\"x\"]}}]}",
               "intents[0].when.anny: unknown condition");
        ERRORS("{\"version\": 1, \"intents\": [{\"name\": \"a\", \"when\": {}}]}",
               "intents[0].when: expected an object with at least one condition");
        ERRORS("{\"version\": 1, \"intents\": [{\"name\": \"a\", \"when\": {\"any\": [\"x\"]}},"
               "{\"name\": \"a\", \"when\": {\"any\": [\"y\"]}}]}",
               "intents[1]: duplicate name \"a\" (also intents[0])");
        ERRORS(
            "{\"version\": 1, \"tags\": [{\"name\": \"T\", \"when\": {\"intent\": [\"nope\"]}}]}",
            "tags[0].when.intent[0]: no intent named \"nope\"");
        ERRORS("{\"version\": 1, \"tags\": [{\"name\": \"T\", \"when\": {\"sentiment_min\": 2}}]}",
               "tags[0].when.sentiment_min: expected a number from -1 to 1");
        ERRORS("{\"version\": 1, \"tags\": [{\"name\": \"T\", \"when\": {\"sentiment_min\": 0.5,"
               " \"sentiment_max\": 0.1}}]}",
               "tags[0].when: sentiment_min is above sentiment_max");
        ERRORS("{\"version\": 1, \"tags\": [{\"name\": \"T\", \"when\": {\"tag\": [\"T\"]}}]}",
               "tags[0].when.tag: only follow_ups can test tags");
        ERRORS("{\"version\": 1, \"follow_ups\": [{\"rule\": \"f\", \"when\": {\"any\": [\"x\"]},"
               " \"due\": \"soon\"}]}",
               "follow_ups[0].subject: required", "follow_ups[0].due: expected today");
        ERRORS("{\"version\": 1, \"dictionaries\": {\"product\": [\"ok\", \"...\"]}}",
               "dictionaries.product[1]: expected 1 to 8 words");
        ERRORS("{\"version\": 1, \"intents\": [{\"name\": \"a\", \"when\": {\"entity\": "
               "[\"money\", \"shoe\"], \"call\": {\"direction\": {}}}}]}",
               "intents[0].when.entity[1]: no entity type \"shoe\"",
               "intents[0].when.call.direction: expected a string");
        /* Every problem, not just the first. */
        ERRORS("{\"version\": 3, \"extra\": 1, \"intents\": [{\"name\": 5, \"when\": {\"x\": 1}}]}",
               "version: expected 1", "extra: unknown key", "intents[0].name: expected a string",
               "intents[0].when.x: unknown condition");
}

/* A call condition, and a missing lexicon named in the error. */
static void test_call_condition(void **state)
{
        char err[4096];
        struct cb_nlp_rules *r;
        json_t *call, *out;

        (void)state;
        r = cb_nlp_rules_load(
            write_tmp("{\"version\": 1, \"tags\": [{\"name\": \"Missed\", \"when\": {\"call\": "
                      "{\"direction\": \"inbound\", \"status\": [\"no-answer\", \"busy\"]}}}]}"),
            err, sizeof(err));
        unlink(tmp_path);
        assert_non_null(r);
        call = json_pack("{s:s, s:s}", "direction", "INBOUND", "status", "busy");
        out = cb_nlp_analyse(r, "Hello.", call);
        assert_int_equal(json_array_size(json_object_get(out, "tags")), 1);
        json_decref(out);
        json_object_set_new(call, "status", json_string("completed"));
        out = cb_nlp_analyse(r, "Hello.", call);
        assert_int_equal(json_array_size(json_object_get(out, "tags")), 0);
        json_decref(out);
        out = cb_nlp_analyse(r, "Hello.", NULL);
        assert_int_equal(json_array_size(json_object_get(out, "tags")), 0);
        json_decref(out);
        json_decref(call);
        cb_nlp_rules_unref(&r);
        assert_null(r);

        cb_nlp_set_lexicon("/nonexistent/lexicon.tsv");
        assert_null(cb_nlp_rules_load(rules_path, err, sizeof(err)));
        assert_non_null(strstr(err, "/nonexistent/lexicon.tsv"));
        find_root(); /* the repository lexicon again */
}

/* A bad reload keeps the running rules; a good one replaces them; shutdown clears. */
static void test_reload(void **state)
{
        char err[4096];
        struct cb_nlp_rules *a, *b, *c;

        (void)state;
        assert_null(cb_nlp_current());
        assert_int_equal(cb_nlp_init(rules_path, err, sizeof(err)), 0);
        a = cb_nlp_current();
        assert_non_null(a);
        assert_int_equal(cb_nlp_reload(write_tmp("{\"version\": 1,"), err, sizeof(err)), -1);
        unlink(tmp_path);
        assert_non_null(strstr(err, "line"));
        b = cb_nlp_current();
        assert_ptr_equal(a, b);
        assert_int_equal(cb_nlp_reload(rules_path, err, sizeof(err)), 0);
        c = cb_nlp_current();
        assert_ptr_not_equal(a, c);
        /* `a` is still usable: this test holds a reference. */
        json_t *out = cb_nlp_analyse(a, "We want a demo.", NULL);
        assert_string_equal(json_string_value(json_object_get(out, "intent")), "demo_request");
        json_decref(out);
        cb_nlp_rules_unref(&a);
        cb_nlp_rules_unref(&b);
        cb_nlp_rules_unref(&c);
        cb_nlp_shutdown();
        assert_null(cb_nlp_current());
}

static void test_due_dates(void **state)
{
        static const struct {
                const char *due, *today, *want;
        } cases[] = {
            {"today", "2026-03-02", "2026-03-02"},
            {"next_business_day", "2026-03-02", "2026-03-03"}, /* Mon -> Tue */
            {"next_business_day", "2026-03-06", "2026-03-09"}, /* Fri -> Mon */
            {"next_business_day", "2026-03-07", "2026-03-09"}, /* Sat -> Mon */
            {"next_business_day", "2026-03-08", "2026-03-09"}, /* Sun -> Mon */
            {"next_business_day", "2026-12-31", "2027-01-01"}, /* Thu -> Fri, new year */
            {"next_business_day", "2027-12-31", "2028-01-03"}, /* Fri -> Mon, new year */
            {"+1d", "2026-01-31", "2026-02-01"},
            {"+1d", "2026-02-28", "2026-03-01"},
            {"+1d", "2028-02-28", "2028-02-29"}, /* leap year */
            {"+1d", "2100-02-28", "2100-03-01"}, /* not a leap year */
            {"+0d", "2026-05-05", "2026-05-05"},
            {"+30d", "2026-12-15", "2027-01-14"},
            {"+2bd", "2026-03-05", "2026-03-09"}, /* Thu -> Mon */
            {"+5bd", "2026-04-27", "2026-05-04"}, /* across a month end */
            {"+10bd", "2026-12-24", "2027-01-07"},
        };
        static const char *const bad[] = {"tomorrow", "+d", "+1w", "1d", "+99999d", "+1bdx", ""};
        char out[11];

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                assert_int_equal(cb_nlp_due_date(cases[i].due, cases[i].today, out), 0);
                if (strcmp(out, cases[i].want) != 0)
                        fail_msg("%s from %s: %s, expected %s", cases[i].due, cases[i].today, out,
                                 cases[i].want);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(cb_nlp_due_date(bad[i], "2026-03-02", out), -1);
        assert_int_equal(cb_nlp_due_date("today", "2026-02-30", out), -1);
        assert_int_equal(cb_nlp_due_date("today", "2026-3-2", out), -1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_labelled_set),
            cmocka_unit_test(test_cleanup),
            cmocka_unit_test(test_long_run),
            cmocka_unit_test(test_sentiment_shapes),
            cmocka_unit_test(test_entity_values),
            cmocka_unit_test(test_keywords_summary_follow_ups),
            cmocka_unit_test(test_rules_errors),
            cmocka_unit_test(test_call_condition),
            cmocka_unit_test(test_reload),
            cmocka_unit_test(test_due_dates),
            cmocka_unit_test(test_word_count),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
