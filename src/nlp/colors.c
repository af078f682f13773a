/* Rule colours: the `"color"` a rules file may give a dictionary, intent, tag or follow-up, and
 * the fixed palette the others take by name. Every palette colour reaches WCAG AA (contrast
 * ratio >= 4.5:1) as the background of WHITE text, so a highlight is readable whichever rule it
 * is; a colour the file names is the file's author's responsibility. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "callbridge/nlp.h"
#include "nlp_int.h"

/* Material 800/900 shades; order fixed: changing it changes every default colour. */
static const char *const palette[] = {
    "#b71c1c", "#1565c0", "#2e7d32", "#6a1b9a", "#ad1457", "#00695c",
    "#4e342e", "#283593", "#bf360c", "#37474f", "#0277bd", "#8e24aa",
};

size_t cb_nlp_palette(const char *const **colors)
{
        *colors = palette;
        return sizeof(palette) / sizeof(palette[0]);
}

bool cb_nlp_color_valid(const char *s)
{
        if (s == NULL || strlen(s) != 7 || s[0] != '#')
                return false;
        for (size_t i = 1; i < 7; i++)
                if (strchr("0123456789abcdefABCDEF", s[i]) == NULL)
                        return false;
        return true;
}

void cb_nlp_default_color(const char *name, char out[CB_NLP_COLOR_SIZE])
{
        uint32_t h = 2166136261u; /* FNV-1a: the same name gets the same colour everywhere */

        for (const unsigned char *p = (const unsigned char *)(name ? name : ""); *p; p++)
                h = (h ^ *p) * 16777619u;
        snprintf(out, CB_NLP_COLOR_SIZE, "%s", palette[h % (sizeof(palette) / sizeof(palette[0]))]);
}

/* WCAG 2 relative luminance of one sRGB channel given as 0-255. */
static double channel(unsigned v)
{
        double c = v / 255.0;

        return c <= 0.03928 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

/* The value of hex digit `c` (valid: cb_nlp_color_valid checked it). */
static unsigned hex_digit(char c)
{
        return c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
}

/* The relative luminance of a valid "#rrggbb". */
static double luminance(const char *hex)
{
        double l = 0;
        static const double weight[3] = {0.2126, 0.7152, 0.0722};

        for (int i = 0; i < 3; i++)
                l +=
                    weight[i] * channel(hex_digit(hex[1 + 2 * i]) * 16 + hex_digit(hex[2 + 2 * i]));
        return l;
}

double cb_nlp_contrast(const char *a, const char *b)
{
        double la, lb;

        if (!cb_nlp_color_valid(a) || !cb_nlp_color_valid(b))
                return 0;
        la = luminance(a);
        lb = luminance(b);
        return la > lb ? (la + 0.05) / (lb + 0.05) : (lb + 0.05) / (la + 0.05);
}

void nlp_color_member(struct nlp_loader *L, json_t *obj, const char *base, const char *name,
                      char out[CB_NLP_COLOR_SIZE])
{
        json_t *v = json_object_get(obj, "color");
        char path[256];

        cb_nlp_default_color(name, out);
        if (v == NULL)
                return;
        snprintf(path, sizeof(path), "%s.color", base);
        if (!json_is_string(v) || !cb_nlp_color_valid(json_string_value(v))) {
                nlp_problem(L, path, "expected a colour \"#rrggbb\" (6 hex digits)");
                return;
        }
        for (size_t i = 0; i < 7; i++) /* lower case: one spelling per colour */
                out[i] = (char)(json_string_value(v)[i] | (i ? 0x20 : 0));
        out[7] = '\0';
}

/* Append {"name","kind","color"} to `arr`; -1 when out of memory. */
static int add(json_t *arr, const char *name, const char *kind, const char *color)
{
        return json_array_append_new(
            arr, json_pack("{s:s,s:s,s:s}", "name", name, "kind", kind, "color", color));
}

json_t *cb_nlp_rules_colors(const struct cb_nlp_rules *r)
{
        json_t *out = json_array();
        int rc = 0;

        for (size_t i = 0; r != NULL && out != NULL && i < r->n_dicts; i++)
                rc |= add(out, r->dicts[i].name, "dictionary", r->dicts[i].color);
        for (size_t i = 0; r != NULL && out != NULL && i < r->n_intents; i++)
                rc |= add(out, r->intents[i].name, "intent", r->intents[i].color);
        for (size_t i = 0; r != NULL && out != NULL && i < r->n_tags; i++)
                rc |= add(out, r->tags[i].name, "tag", r->tags[i].color);
        for (size_t i = 0; r != NULL && out != NULL && i < r->n_follow_ups; i++)
                rc |= add(out, r->follow_ups[i].name, "follow_up", r->follow_ups[i].color);
        if (rc != 0)
                json_decref(out);
        return rc != 0 ? NULL : out;
}
