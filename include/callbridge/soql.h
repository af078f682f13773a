/* Escaping of values placed into Salesforce SOQL string literals and SOSL FIND terms
 * (SPEC §6: every value placed into SOQL/SOSL is escaped). Pure functions, no I/O. */
#ifndef CALLBRIDGE_SOQL_H
#define CALLBRIDGE_SOQL_H

#include <stdbool.h>

#include "callbridge/util.h"

/* Append `in` to `out` escaped for a SOQL string literal (the caller writes the quotes):
 * \' \" \\ \n \r \t \b \f; with `like` also \_ and \% (LIKE patterns).
 * Returns 0, or -1 when `out`'s cap is reached or `in` is not valid UTF-8 (out unchanged). */
int cb_soql_escape(struct cb_buf *out, const char *in, bool like);
/* Append `in` escaped for a SOSL FIND {...} term: a backslash before each reserved character
 * ? & | ! { } [ ] ( ) ^ ~ * : \ " ' + - ; same failure contract. */
int cb_sosl_escape(struct cb_buf *out, const char *in);

#endif
