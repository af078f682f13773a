/* `callbridge crm check|setup` (src/cli/crm.c): what the CRM account needs for callbridge. */
#ifndef CB_CLI_CRM_H
#define CB_CLI_CRM_H

/* Run `callbridge [-c FILE] crm check|setup [-c FILE]` when argv names it: the exit status
 * (0 ready, 1 something missing or the CRM unreachable, 2 usage); -1 when argv is not a crm
 * command (main goes on). */
int cb_cli_crm(int argc, char **argv, const char *default_config);

#endif
