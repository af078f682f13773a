/* Rows as JSON for the query families that hand a list of text columns to their caller. */
#include "rows.h"

enum cb_qs cb_store_exec_rows(struct cb_db *db, struct cb_stmt *stmt, int nparams,
                              const char *const *params, json_t **rows)
{
        enum cb_qs qs;
        PGresult *res = cb_db_exec(db, stmt, nparams, params, &qs);
        int ncols;

        *rows = NULL;
        if (res == NULL)
                return qs;
        ncols = PQnfields(res);
        *rows = json_array();
        for (int i = 0; *rows != NULL && i < PQntuples(res); i++) {
                json_t *row = json_array();
                for (int c = 0; row != NULL && c < ncols; c++)
                        json_array_append_new(row, PQgetisnull(res, i, c)
                                                       ? json_null()
                                                       : json_string(PQgetvalue(res, i, c)));
                if (row == NULL || json_array_append_new(*rows, row) != 0) {
                        json_decref(*rows);
                        *rows = NULL;
                }
        }
        PQclear(res);
        return *rows != NULL ? qs : CB_QS_HARD_ERROR;
}
