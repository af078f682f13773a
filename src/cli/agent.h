/* `callbridge agent add|set|list` (src/cli/agent.c): agents as records. */
#ifndef CB_CLI_AGENT_H
#define CB_CLI_AGENT_H

/* Run `callbridge [-c FILE] agent ...` when argv names it: the exit status (0 ok, 1 failure
 * after a message on stderr: no database, unknown agent, name or CRM user id taken; 2 usage).
 * -1 when argv is not an agent command (main goes on). */
int cb_cli_agent(int argc, char **argv, const char *default_config);

#endif
