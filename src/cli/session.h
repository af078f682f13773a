/* `callbridge session list | revoke` (src/cli/session.c). */
#ifndef CB_CLI_SESSION_H
#define CB_CLI_SESSION_H

/* Print the browser sessions (of `agent` unless NULL), newest first: id, agent, how, created,
 * last seen, expires, revoked; never a token. Returns the exit code (0, or 1 after a message). */
int cb_cli_session_list(const char *config_path, const char *agent);
/* Revoke session `id` (a uuid as `session list` shows), or every live session of `agent` when
 * id is NULL. Every instance stops accepting them within a second. Returns 0, 1 (none live, no
 * database) or 2 (bad arguments), after a message on stderr. */
int cb_cli_session_revoke(const char *config_path, const char *id, const char *agent);

#endif
