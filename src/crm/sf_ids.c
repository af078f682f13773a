/* Salesforce ids: the 15-character case-sensitive form and the 18-character form whose
 * suffix restores the case, so ids compare whatever form and case they come in. Pure. */
#include <stdio.h>
#include <string.h>

#include "sf.h"

static const char suffix_map[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

static bool is_upper(char c)
{
        return c >= 'A' && c <= 'Z';
}

static bool is_lower(char c)
{
        return c >= 'a' && c <= 'z';
}

static bool is_alnum(char c)
{
        return is_upper(c) || is_lower(c) || (c >= '0' && c <= '9');
}

/* The value (0-31) of a suffix character, either case; -1 for anything else. */
static int suffix_value(char c)
{
        const char *p;

        if (is_lower(c))
                c = (char)(c - 'a' + 'A');
        p = c != '\0' ? strchr(suffix_map, c) : NULL;
        return p != NULL ? (int)(p - suffix_map) : -1;
}

/* The suffix of a case-sensitive 15-character id: per 5 characters, a bit per capital. */
static void suffix_of(const char id15[15], char out[3])
{
        for (int chunk = 0; chunk < 3; chunk++) {
                int bits = 0;
                for (int i = 0; i < 5; i++)
                        if (is_upper(id15[chunk * 5 + i]))
                                bits |= 1 << i;
                out[chunk] = suffix_map[bits];
        }
}

/* Restore the case of the first 15 characters of an 18-character id from its suffix. */
static bool restore_case(const char *id, char out[SF_ID_LEN + 1])
{
        for (int chunk = 0; chunk < 3; chunk++) {
                int bits = suffix_value(id[15 + chunk]);
                if (bits < 0)
                        return false;
                for (int i = 0; i < 5; i++) {
                        char c = id[chunk * 5 + i];
                        bool capital = (bits >> i & 1) != 0;
                        if (capital && !is_upper(c) && !is_lower(c))
                                return false; /* a digit cannot be a capital */
                        if (capital && is_lower(c))
                                c = (char)(c - 'a' + 'A');
                        else if (!capital && is_upper(c))
                                c = (char)(c - 'A' + 'a');
                        out[chunk * 5 + i] = c;
                }
        }
        return true;
}

bool sf_id_canon(const char *id, char out[SF_ID_LEN + 1])
{
        size_t len = id != NULL ? strlen(id) : 0;

        out[0] = '\0';
        if (len != 15 && len != SF_ID_LEN)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!is_alnum(id[i]))
                        return false;
        if (len == 15)
                memcpy(out, id, 15);
        else if (!restore_case(id, out)) {
                out[0] = '\0';
                return false;
        }
        suffix_of(out, out + 15);
        out[SF_ID_LEN] = '\0';
        return true;
}

bool sf_user_id_canon(const char *id, char *out, size_t out_size)
{
        char canon[SF_ID_LEN + 1];

        if (sf_id_canon(id, canon) && strncmp(canon, "005", 3) == 0 &&
            cb_strlcpy(out, canon, out_size))
                return true;
        if (out_size > 0)
                out[0] = '\0'; /* never a cut id */
        return false;
}
