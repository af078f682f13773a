/* `callbridge hubspot setup|check` (src/cli/hubspot.c): the HubSpot account's properties. */
#ifndef CB_CLI_HUBSPOT_H
#define CB_CLI_HUBSPOT_H

/* Run `callbridge [-c FILE] hubspot setup|check [-c FILE]` when argv names it: the exit status
 * (0 every property there, 1 some missing or HubSpot unreachable, 2 usage). -1 when argv is
 * not a hubspot command (main goes on). */
int cb_cli_hubspot(int argc, char **argv, const char *default_config);

#endif
