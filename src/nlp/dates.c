/* Date mentions: ISO dates, today/tomorrow, weekdays ("Friday", "this Friday", "next
 * Friday": the first such day after today), "next week" (its Monday), "next month" (its 1st),
 * "end of the month", month-day forms ("March 3rd", "Mar 3, 2027", "3rd of March"; without a
 * year, the next such day on or after today). */
#include <stdlib.h>
#include <string.h>

#include "nlp_int.h"

static const char *const weekdays[] = {"sunday",   "monday", "tuesday", "wednesday",
                                       "thursday", "friday", "saturday"};
static const char *const months[] = {"january",   "february", "march",    "april",
                                     "may",       "june",     "july",     "august",
                                     "september", "october",  "november", "december"};
static const char *const months3[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                      "jul", "aug", "sep", "oct", "nov", "dec"};

static int weekday_of(const struct nlp_doc *d, size_t i)
{
        for (int k = 0; k < 7; k++)
                if (nlp_tok_is(d, i, weekdays[k]))
                        return k;
        return -1;
}

static int month_of(const struct nlp_doc *d, size_t i)
{
        for (int k = 0; k < 12; k++)
                if (nlp_tok_is(d, i, months[k]) || nlp_tok_is(d, i, months3[k]) ||
                    (k == 8 && nlp_tok_is(d, i, "sept")))
                        return k + 1;
        return 0;
}

/* A day of the month: "3", "3rd", "21st"; 0 if not one. */
static int day_of(const struct nlp_doc *d, size_t i)
{
        const char *s = nlp_tok_lower(d, i);
        size_t n = d->tokens[i].len, k = 0;
        int v = 0;

        while (k < n && k < 2 && s[k] >= '0' && s[k] <= '9')
                v = v * 10 + (s[k++] - '0');
        if (k == 0 || (k < n && !(n - k == 2 &&
                                  (memcmp(s + k, "st", 2) == 0 || memcmp(s + k, "nd", 2) == 0 ||
                                   memcmp(s + k, "rd", 2) == 0 || memcmp(s + k, "th", 2) == 0))))
                return 0;
        return v >= 1 && v <= 31 ? v : 0;
}

static int year_of(const struct nlp_doc *d, size_t i)
{
        const char *s = nlp_tok_lower(d, i);
        int v = 0;

        if (d->tokens[i].len != 4)
                return 0;
        for (int k = 0; k < 4; k++) {
                if (s[k] < '0' || s[k] > '9')
                        return 0;
                v = v * 10 + (s[k] - '0');
        }
        return v >= 1900 && v <= 2999 ? v : 0;
}

static bool before(const struct nlp_date *a, const struct nlp_date *b)
{
        return a->y != b->y ? a->y < b->y : a->m != b->m ? a->m < b->m : a->d < b->d;
}

static json_t *make(const struct nlp_doc *d, size_t i, size_t n, const struct nlp_date *v,
                    size_t *used)
{
        size_t from = d->tokens[i].off, to = d->tokens[i + n - 1].off + d->tokens[i + n - 1].len;
        json_t *e = json_pack("{s:s, s:s%}", "type", "date", "text", d->clean + from, to - from);
        char buf[11];

        if (e != NULL && v != NULL) {
                nlp_date_format(v, buf);
                json_object_set_new(e, "value", json_string(buf));
        }
        *used = n;
        return e;
}

/* Month and day with an optional year; NULL when the day does not exist. */
static json_t *month_day(const struct nlp_doc *d, size_t i, size_t n, int m, int day, int year,
                         const struct nlp_date *today, size_t *used)
{
        struct nlp_date v = {year ? year : today->y, m, day};

        /* Without a year: the first such day on or after today (29 February may be years on). */
        for (int tries = 0;
             year == 0 && tries < 8 && (day > nlp_days_in_month(v.y, m) || before(&v, today));
             tries++)
                v.y++;
        if (day > nlp_days_in_month(v.y, m))
                return NULL;
        return make(d, i, n, &v, used);
}

static json_t *iso_at(const struct nlp_doc *d, size_t i, size_t end, size_t *used)
{
        const char *s = d->clean + d->tokens[i].off;
        struct nlp_date v;
        char buf[11];

        if (d->tokens[i].len != 4 || i + 2 >= end || strnlen(s, 11) < 10)
                return NULL;
        memcpy(buf, s, 10);
        buf[10] = '\0';
        if (!nlp_date_parse(buf, &v) || (s[10] >= '0' && s[10] <= '9'))
                return NULL;
        return make(d, i, 3, &v, used);
}

/* "next"/"this" + weekday, "next week", "next month", "end of (the) month". */
static json_t *relative_at(const struct nlp_doc *d, size_t i, size_t end,
                           const struct nlp_date *today, size_t *used)
{
        struct nlp_date v = *today;
        int wd;

        if (i + 1 < end && (nlp_tok_is(d, i, "next") || nlp_tok_is(d, i, "this"))) {
                if ((wd = weekday_of(d, i + 1)) >= 0) {
                        int ahead = (wd - nlp_date_weekday(today) + 7) % 7;
                        nlp_date_add_days(&v, ahead ? ahead : 7);
                        return make(d, i, 2, &v, used);
                }
                if (nlp_tok_is(d, i, "next") && nlp_tok_is(d, i + 1, "week")) {
                        int ahead = (1 - nlp_date_weekday(today) + 7) % 7;
                        nlp_date_add_days(&v, ahead ? ahead : 7);
                        return make(d, i, 2, &v, used);
                }
                if (nlp_tok_is(d, i, "next") && nlp_tok_is(d, i + 1, "month")) {
                        v.d = nlp_days_in_month(v.y, v.m);
                        nlp_date_add_days(&v, 1);
                        return make(d, i, 2, &v, used);
                }
        }
        if (nlp_tok_is(d, i, "end") && i + 2 < end && nlp_tok_is(d, i + 1, "of")) {
                size_t k = i + 2 + (nlp_tok_is(d, i + 2, "the") && i + 3 < end);
                if (nlp_tok_is(d, k, "month")) {
                        v.d = nlp_days_in_month(v.y, v.m);
                        return make(d, i, k - i + 1, &v, used);
                }
        }
        return NULL;
}

json_t *nlp_date_at(const struct nlp_doc *d, size_t i, size_t end, const struct nlp_date *today,
                    size_t *used)
{
        struct nlp_date v = *today;
        json_t *e;
        int m, day, wd;

        if ((e = iso_at(d, i, end, used)) != NULL || (e = relative_at(d, i, end, today, used)))
                return e;
        if (nlp_tok_is(d, i, "today"))
                return make(d, i, 1, &v, used);
        if (nlp_tok_is(d, i, "tomorrow")) {
                nlp_date_add_days(&v, 1);
                return make(d, i, 1, &v, used);
        }
        if ((wd = weekday_of(d, i)) >= 0) {
                int ahead = (wd - nlp_date_weekday(today) + 7) % 7;
                nlp_date_add_days(&v, ahead ? ahead : 7);
                return make(d, i, 1, &v, used);
        }
        if ((m = month_of(d, i)) != 0 && i + 1 < end && (day = day_of(d, i + 1)) != 0) {
                int year = i + 2 < end ? year_of(d, i + 2) : 0;
                return month_day(d, i, year ? 3 : 2, m, day, year, today, used);
        }
        if ((day = day_of(d, i)) != 0 && i + 2 < end && nlp_tok_is(d, i + 1, "of") &&
            (m = month_of(d, i + 2)) != 0)
                return month_day(d, i, 3, m, day, 0, today, used);
        return NULL;
}
