/* `callbridge apikey list | revoke` (src/cli/apikey.c). */
#ifndef CB_CLI_APIKEY_H
#define CB_CLI_APIKEY_H

#include <stdbool.h>

/* Print every key (of `agent` unless NULL): id, agent, admin, created, last used, revoked;
 * never a secret. Returns the process exit code (0, or 1 after a message on stderr). */
int cb_cli_apikey_list(const char *config_path, const char *agent);
/* Revoke KEYID (the 16 hex characters after "cbk_", or a whole key). Every instance stops
 * accepting it within a second. Returns 0, or 1 (unknown or already revoked key, no
 * database) after a message on stderr. */
int cb_cli_apikey_revoke(const char *config_path, const char *key_id);

struct cb_config;
struct cb_db_pool;
struct cb_db;
/* Load the config at `path` and lease one PostgreSQL connection; false (printed on stderr) on
 * failure. Close with cb_cli_db_close, which takes NULLs. Shared by the CLI families. */
bool cb_cli_db_open(const char *path, struct cb_config **cfg, struct cb_db_pool **pool,
                    struct cb_db **db);
void cb_cli_db_close(struct cb_config **cfg, struct cb_db_pool **pool, struct cb_db **db);

#endif
