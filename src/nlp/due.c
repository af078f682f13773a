/* Calendar dates (proleptic Gregorian) and follow-up due dates: "today",
 * "next_business_day", "+Nd" (calendar days) and "+Nbd" (business days: Saturday and Sunday
 * skipped), N from 0 to 3650. */
#include <stdio.h>
#include <string.h>

#include "callbridge/nlp.h"
#include "nlp_int.h"

static bool leap(int y)
{
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int nlp_days_in_month(int y, int m)
{
        static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        return m == 2 && leap(y) ? 29 : days[m - 1];
}

static int digits(const char *s, int n)
{
        int v = 0;
        for (int i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                v = v * 10 + (s[i] - '0');
        }
        return v;
}

bool nlp_date_parse(const char *s, struct nlp_date *out)
{
        if (s == NULL || strlen(s) < 10 || s[4] != '-' || s[7] != '-')
                return false;
        out->y = digits(s, 4);
        out->m = digits(s + 5, 2);
        out->d = digits(s + 8, 2);
        return out->y >= 1 && out->m >= 1 && out->m <= 12 && out->d >= 1 &&
               out->d <= nlp_days_in_month(out->y, out->m);
}

void nlp_date_format(const struct nlp_date *d, char out[11])
{
        unsigned y = (unsigned)d->y % 10000, m = (unsigned)d->m % 100, day = (unsigned)d->d % 100;

        snprintf(out, 11, "%04u-%02u-%02u", y, m, day);
}

void nlp_date_add_days(struct nlp_date *d, int days)
{
        for (; days > 0; days--) {
                if (++d->d > nlp_days_in_month(d->y, d->m)) {
                        d->d = 1;
                        if (++d->m > 12)
                                d->m = 1, d->y++;
                }
        }
}

/* Sakamoto's method. */
int nlp_date_weekday(const struct nlp_date *d)
{
        static const int t[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
        int y = d->m < 3 ? d->y - 1 : d->y;
        return (y + y / 4 - y / 100 + y / 400 + t[d->m - 1] + d->d) % 7;
}

static void add_business_days(struct nlp_date *d, int n)
{
        while (n > 0) {
                nlp_date_add_days(d, 1);
                int wd = nlp_date_weekday(d);
                if (wd != 0 && wd != 6)
                        n--;
        }
}

int cb_nlp_due_date(const char *due, const char *today, char out[11])
{
        struct nlp_date d;
        size_t n;
        int v;

        if (due == NULL || !nlp_date_parse(today, &d) || strlen(today) != 10)
                return -1;
        if (strcmp(due, "today") == 0) {
                /* as is */
        } else if (strcmp(due, "next_business_day") == 0) {
                add_business_days(&d, 1);
        } else if (due[0] == '+' && (n = strspn(due + 1, "0123456789")) >= 1 && n <= 4 &&
                   (v = digits(due + 1, (int)n)) <= 3650) {
                if (strcmp(due + 1 + n, "d") == 0)
                        nlp_date_add_days(&d, v);
                else if (strcmp(due + 1 + n, "bd") == 0)
                        add_business_days(&d, v);
                else
                        return -1;
        } else {
                return -1;
        }
        nlp_date_format(&d, out);
        return 0;
}
