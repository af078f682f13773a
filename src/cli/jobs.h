/* `callbridge jobs ...`: the operators' commands for the job queue (src/cli/jobs.c). */
#ifndef CB_CLI_JOBS_H
#define CB_CLI_JOBS_H

/* Run `callbridge [-c FILE] jobs list|retry ...` when argv names it: the exit status (0 ok,
 * 1 failure, 2 usage). -1 when argv is not a jobs command (main goes on). */
int cb_cli_jobs(int argc, char **argv, const char *default_config);

#endif
