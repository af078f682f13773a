/* `callbridge hubspot setup` creates the custom properties callbridge writes in the HubSpot
 * account of [hubspot] (idempotent: what exists is left alone) and prints what it did;
 * `callbridge hubspot check` prints what is missing without changing anything. */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "callbridge/cache.h"
#include "callbridge/config.h"
#include "callbridge/crm_hubspot.h"
#include "callbridge/log.h"
#include "hubspot.h"

static const char usage_text[] =
    "usage: callbridge hubspot setup [-c FILE]   create the custom properties callbridge\n"
    "                                            writes (calls, tasks, notes, contacts)\n"
    "       callbridge hubspot check [-c FILE]   list what is missing; exit 1 if anything\n";

static int usage(const char *what)
{
        fprintf(stderr, "callbridge hubspot: %s\n%s", what, usage_text);
        return 2;
}

/* The index of the command word: argv[1], or after one leading -c FILE. */
static int command_index(int argc, char **argv)
{
        int i = 1;

        if (i + 1 < argc && (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0))
                i += 2;
        return i < argc && strcmp(argv[i], "hubspot") == 0 ? i : -1;
}

int cb_cli_hubspot(int argc, char **argv, const char *default_config)
{
        struct cb_config_errors errs = {0};
        struct cb_config *cfg = NULL;
        const char *config = NULL, *verb = NULL;
        int at = command_index(argc, argv);
        int rc = 1;

        if (at < 0)
                return -1;
        if (at == 3)
                config = argv[2];
        for (int i = at + 1; i < argc; i++) {
                if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) {
                        if (++i >= argc)
                                return usage("-c needs a file");
                        config = argv[i];
                } else if (verb == NULL && argv[i][0] != '-') {
                        verb = argv[i];
                } else {
                        return usage("unknown argument");
                }
        }
        if (verb == NULL || (strcmp(verb, "setup") != 0 && strcmp(verb, "check") != 0))
                return usage("setup or check?");
        if (cb_config_load(config ? config : default_config, &cfg, &errs) != 0) {
                for (size_t i = 0; i < errs.count; i++)
                        fprintf(stderr, "callbridge: %s\n", errs.lines[i]);
                goto out;
        }
        if (!cfg->hubspot.enabled) {
                fprintf(stderr, "callbridge hubspot: [hubspot] enabled is false\n");
                goto out;
        }
        cb_log_set_level((enum cb_log_level)cb_log_level_parse(cfg->log.level));
        curl_global_init(CURL_GLOBAL_DEFAULT);
        cb_cache_configure(cfg->redis.url, cfg->redis.timeout_ms, cfg->redis.key_prefix);
        rc = cb_hubspot_setup(cfg, strcmp(verb, "setup") == 0, stdout);
        curl_global_cleanup();
out:
        cb_config_free(&cfg);
        cb_config_errors_free(&errs);
        return rc;
}
