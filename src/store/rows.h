/* Rows as JSON (rows.c), for the query families that hand a list of text columns to their
 * caller. Internal to src/store/. */
#ifndef CB_STORE_ROWS_H
#define CB_STORE_ROWS_H

#include <jansson.h>

#include "callbridge/db.h"
#include "callbridge/util.h"

/* Run `stmt` and give its rows as a JSON array of arrays of column text (SQL NULL: null);
 * *rows (caller decrefs) is NULL on failure, which returns HARD/SOFT (also out of memory). */
CB_MUST_CHECK enum cb_qs cb_store_exec_rows(struct cb_db *db, struct cb_stmt *stmt, int nparams,
                                            const char *const *params, json_t **rows);

#endif
