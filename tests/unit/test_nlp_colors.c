/* Rule colours (src/nlp/colors.c): the palette's contrast, the default colour by name, the
 * "color" members of a rules file (valid, invalid with its JSON path) and what the console
 * gets (cb_nlp_rules_colors). */
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

static char tmp_path[64];

static void use_repo_lexicon(void)
{
        const char *env = getenv("CB_SOURCE_DIR");
        const char *slash = strrchr(__FILE__, '/');
        char lexicon[PATH_MAX + 64];

        if (env != NULL && env[0] != '\0')
                snprintf(lexicon, sizeof(lexicon), "%s/config/sentiment-lexicon.tsv", env);
        else
                snprintf(lexicon, sizeof(lexicon), "%.*s/../../config/sentiment-lexicon.tsv",
                         (int)(slash - __FILE__), __FILE__);
        cb_nlp_set_lexicon(lexicon);
}

/* Load `text` as a rules file; NULL with `err` when it is refused. */
static struct cb_nlp_rules *load(const char *text, char *err, size_t err_size)
{
        struct cb_nlp_rules *r;
        int fd;

        snprintf(tmp_path, sizeof(tmp_path), "/tmp/cb-nlpc-XXXXXX");
        fd = mkstemp(tmp_path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
        use_repo_lexicon();
        r = cb_nlp_rules_load(tmp_path, err, err_size);
        unlink(tmp_path);
        return r;
}

/* Every palette colour is WCAG AA (4.5:1) behind white text, and they are all different. */
static void test_palette_contrast(void **state)
{
        const char *const *colors;
        size_t n = cb_nlp_palette(&colors);

        (void)state;
        assert_true(n >= 8);
        for (size_t i = 0; i < n; i++) {
                assert_true(cb_nlp_color_valid(colors[i]));
                if (cb_nlp_contrast(colors[i], "#ffffff") < 4.5)
                        fail_msg("%s has contrast %.2f with white", colors[i],
                                 cb_nlp_contrast(colors[i], "#ffffff"));
                for (size_t k = 0; k < i; k++)
                        assert_string_not_equal(colors[i], colors[k]);
        }
        /* The formula itself: black on white is 21:1, a colour with itself 1:1. */
        assert_true(cb_nlp_contrast("#000000", "#FFFFFF") > 20.99);
        assert_true(cb_nlp_contrast("#777777", "#777777") < 1.0001);
        assert_true(cb_nlp_contrast("#777777", "red") == 0);
}

static void test_default_color(void **state)
{
        char a[CB_NLP_COLOR_SIZE], b[CB_NLP_COLOR_SIZE];
        const char *const *colors;
        size_t n = cb_nlp_palette(&colors), used = 0;
        bool seen[64] = {false};
        char name[32];

        (void)state;
        cb_nlp_default_color("pricing", a);
        cb_nlp_default_color("pricing", b);
        assert_string_equal(a, b); /* deterministic */
        cb_nlp_default_color(NULL, a);
        cb_nlp_default_color("", b);
        assert_string_equal(a, b);
        /* Names spread over the palette. */
        for (int i = 0; i < 200; i++) {
                snprintf(name, sizeof(name), "rule-%d", i);
                cb_nlp_default_color(name, a);
                for (size_t k = 0; k < n; k++)
                        if (strcmp(colors[k], a) == 0 && !seen[k]) {
                                seen[k] = true;
                                used++;
                        }
        }
        assert_int_equal(used, n);
}

static void test_color_valid(void **state)
{
        static const char *const good[] = {"#000000", "#abcdef", "#ABCDEF", "#1a2B3c"};
        static const char *const bad[] = {"",         "#fff",     "000000",    "#0000000",
                                          "#00000g",  "red",      "#12345",    " #123456",
                                          "#123456 ", "##123456", "rgb(0,0,0)"};

        (void)state;
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                assert_true(cb_nlp_color_valid(good[i]));
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (cb_nlp_color_valid(bad[i]))
                        fail_msg("accepted \"%s\"", bad[i]);
        assert_false(cb_nlp_color_valid(NULL));
}

/* The file's colours (lower-cased), the palette's for the rest, in file order. */
static void test_rules_colors(void **state)
{
        char err[4096], dflt[CB_NLP_COLOR_SIZE];
        struct cb_nlp_rules *r =
            load("{\"version\": 1, \"dictionaries\": {\"pricing\": [\"quote\"],"
                 " \"competitor\": {\"terms\": [\"Aircall\"], \"color\": \"#B71C1C\"}},"
                 " \"intents\": [{\"name\": \"buy\", \"when\": {\"any\": [\"buy\"]}, \"color\": "
                 "\"#2e7d32\"}],"
                 " \"tags\": [{\"name\": \"Hot\", \"when\": {\"intent\": [\"buy\"]}}],"
                 " \"follow_ups\": [{\"rule\": \"cb\", \"when\": {\"any\": [\"call back\"]},"
                 " \"subject\": \"Call back\", \"color\": \"#0277bd\"}]}",
                 err, sizeof(err));
        json_t *c;

        (void)state;
        if (r == NULL)
                fail_msg("%s", err);
        c = cb_nlp_rules_colors(r);
        assert_int_equal(json_array_size(c), 5);
        cb_nlp_default_color("pricing", dflt);
        assert_string_equal(json_string_value(json_object_get(json_array_get(c, 0), "color")),
                            dflt);
        assert_string_equal(json_string_value(json_object_get(json_array_get(c, 0), "kind")),
                            "dictionary");
        assert_string_equal(json_string_value(json_object_get(json_array_get(c, 1), "color")),
                            "#b71c1c");
        assert_string_equal(json_string_value(json_object_get(json_array_get(c, 2), "kind")),
                            "intent");
        assert_string_equal(json_string_value(json_object_get(json_array_get(c, 2), "color")),
                            "#2e7d32");
        assert_string_equal(json_string_value(json_object_get(json_array_get(c, 3), "name")),
                            "Hot");
        assert_string_equal(json_string_value(json_object_get(json_array_get(c, 4), "kind")),
                            "follow_up");
        json_decref(c);
        /* The object form of a dictionary still finds its terms. */
        c = cb_nlp_keyword_hits(r, "Are you cheaper than Aircall?");
        assert_int_equal(json_array_size(c), 1);
        assert_string_equal(json_string_value(json_object_get(json_array_get(c, 0), "rule")),
                            "competitor");
        json_decref(c);
        cb_nlp_rules_unref(&r);
        c = cb_nlp_rules_colors(NULL);
        assert_int_equal(json_array_size(c), 0);
        json_decref(c);
}

/* A colour that is not "#rrggbb" is refused with its JSON path, like every other problem. */
static void test_rules_color_errors(void **state)
{
        static const struct {
                const char *text, *needle;
        } cases[] = {
            {"{\"version\": 1, \"tags\": [{\"name\": \"T\", \"when\": {\"any\": [\"x\"]},"
             " \"color\": \"red\"}]}",
             "tags[0].color: expected a colour \"#rrggbb\""},
            {"{\"version\": 1, \"intents\": [{\"name\": \"i\", \"when\": {\"any\": [\"x\"]},"
             " \"color\": 7}]}",
             "intents[0].color: expected a colour"},
            {"{\"version\": 1, \"follow_ups\": [{\"rule\": \"f\", \"when\": {\"any\": [\"x\"]},"
             " \"subject\": \"s\", \"color\": \"#12345\"}]}",
             "follow_ups[0].color: expected a colour"},
            {"{\"version\": 1, \"dictionaries\": {\"d\": {\"terms\": [\"x\"], \"color\": "
             "\"#gg0000\"}}}",
             "dictionaries.d.color: expected a colour"},
            {"{\"version\": 1, \"dictionaries\": {\"d\": {\"color\": \"#000000\"}}}",
             "dictionaries.d.terms: required"},
            {"{\"version\": 1, \"dictionaries\": {\"d\": {\"terms\": [\"x\"], \"colour\": "
             "\"#000000\"}}}",
             "dictionaries.d.colour: unknown key"},
            {"{\"version\": 1, \"dictionaries\": {\"d\": {\"terms\": []}}}",
             "dictionaries.d: expected a non-empty array of strings"},
        };
        char err[4096];

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct cb_nlp_rules *r = load(cases[i].text, err, sizeof(err));
                if (r != NULL)
                        fail_msg("loaded: %s", cases[i].text);
                if (strstr(err, cases[i].needle) == NULL)
                        fail_msg("error lacks \"%s\":\n%s", cases[i].needle, err);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_palette_contrast),   cmocka_unit_test(test_default_color),
            cmocka_unit_test(test_color_valid),        cmocka_unit_test(test_rules_colors),
            cmocka_unit_test(test_rules_color_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
