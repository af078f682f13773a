/* `callbridge crm check` asks the configured CRM whether its account has what callbridge writes
 * (custom fields or properties) and prints what is missing; `callbridge crm setup` creates what
 * is missing (idempotent: what exists is left alone). The work is the provider's optional
 * setup op; a provider without one says where its set-up is described. */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "callbridge/cache.h"
#include "callbridge/config.h"
#include "callbridge/crm.h"
#include "callbridge/log.h"
#include "crm.h"

static const char usage_text[] =
    "usage: callbridge crm check [-c FILE]   list what the CRM account lacks; exit 1 if anything\n"
    "       callbridge crm setup [-c FILE]   create it (custom fields/properties callbridge "
    "writes)\n";

static int usage(const char *what)
{
        fprintf(stderr, "callbridge crm: %s\n%s", what, usage_text);
        return 2;
}

/* The index of the command word: argv[1], or after one leading -c FILE. */
static int command_index(int argc, char **argv)
{
        int i = 1;

        if (i + 1 < argc && (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0))
                i += 2;
        return i < argc && strcmp(argv[i], "crm") == 0 ? i : -1;
}

int cb_cli_crm(int argc, char **argv, const char *default_config)
{
        struct cb_config_errors errs = {0};
        struct cb_config *cfg = NULL;
        const struct cb_crm_ops *ops;
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
                return usage("check or setup?");
        if (cb_config_load(config ? config : default_config, &cfg, &errs) != 0) {
                for (size_t i = 0; i < errs.count; i++)
                        fprintf(stderr, "callbridge: %s\n", errs.lines[i]);
                goto out;
        }
        ops = cb_crm_ops_of(cfg);
        if (ops->setup == NULL) {
                if (strcmp(ops->name, "none") == 0)
                        fprintf(stderr, "callbridge crm: no CRM is configured ([crm] provider)\n");
                else
                        fprintf(stderr,
                                "callbridge crm: the %s CRM has no set-up step here: "
                                "see docs/%s\n",
                                ops->name, ops->name);
                goto out;
        }
        cb_log_set_level((enum cb_log_level)cb_log_level_parse(cfg->log.level));
        curl_global_init(CURL_GLOBAL_DEFAULT);
        cb_cache_configure(cfg->redis.url, cfg->redis.timeout_ms, cfg->redis.key_prefix);
        rc = ops->setup(cfg, strcmp(verb, "setup") == 0, stdout);
        curl_global_cleanup();
out:
        cb_config_free(&cfg);
        cb_config_errors_free(&errs);
        return rc;
}
