/* `callbridge jobs list [--state S] [--kind K] [--limit N] [--json]` and
 * `callbridge jobs retry ID | --dead [--kind K]`: dead letters without psql. The SQL lives in
 * src/store/job_admin.c, shared with GET /api/admin/jobs and POST .../retry. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/config.h"
#include "callbridge/log.h"
#include "callbridge/store_jobs.h"
#include "jobs.h"

#define LIMIT_MAX 10000

static const char usage_text[] =
    "usage: callbridge jobs list [--state queued|running|done|dead] [--kind K] [--limit N]\n"
    "                            [--json] [-c FILE]\n"
    "       callbridge jobs retry ID | --dead [--kind K] [-c FILE]\n"
    "list prints the newest jobs first (default 50); retry sends dead jobs back to the queue\n"
    "now with their attempts reset and prints how many.\n";

struct jobs_args {
        const char *config;
        const char *verb;
        const char *id;
        struct cb_job_filter filter;
        bool dead;
        bool json;
};

static int usage(const char *what)
{
        fprintf(stderr, "callbridge jobs: %s\n%s", what, usage_text);
        return 2;
}

/* The value after option argv[*i], or NULL (usage printed by the caller). */
static const char *value_of(int argc, char **argv, int *i)
{
        return ++*i < argc ? argv[*i] : NULL;
}

/* Parse argv after "jobs" (and -c anywhere). 0, or 2 after usage. */
static int parse(int argc, char **argv, int first, struct jobs_args *a)
{
        long v;

        a->filter.limit = 50;
        for (int i = first; i < argc; i++) {
                const char *s = argv[i], *val = NULL;
                if (strcmp(s, "-c") == 0 || strcmp(s, "--config") == 0) {
                        if ((a->config = value_of(argc, argv, &i)) == NULL)
                                return usage("-c needs a file");
                } else if (strcmp(s, "--state") == 0) {
                        val = a->filter.state = value_of(argc, argv, &i);
                        if (!cb_store_job_state_valid(val))
                                return usage("--state must be queued, running, done or dead");
                } else if (strcmp(s, "--kind") == 0) {
                        val = a->filter.kind = value_of(argc, argv, &i);
                        if (!cb_store_job_kind_valid(val))
                                return usage("--kind needs a job kind such as crm.log_call");
                } else if (strcmp(s, "--limit") == 0) {
                        val = value_of(argc, argv, &i);
                        if (val == NULL || !cb_parse_long(val, 1, LIMIT_MAX, &v))
                                return usage("--limit must be an integer from 1 to 10000");
                        a->filter.limit = (int)v;
                } else if (strcmp(s, "--dead") == 0) {
                        a->dead = true;
                } else if (strcmp(s, "--json") == 0) {
                        a->json = true;
                } else if (s[0] == '-') {
                        return usage("unknown option");
                } else if (a->verb == NULL) {
                        a->verb = s;
                } else if (a->id == NULL) {
                        a->id = s;
                } else {
                        return usage("too many arguments");
                }
        }
        if (a->verb == NULL || (strcmp(a->verb, "list") != 0 && strcmp(a->verb, "retry") != 0))
                return usage("list or retry?");
        if (strcmp(a->verb, "list") == 0 && (a->id != NULL || a->dead))
                return usage("list takes only --state, --kind, --limit and --json");
        if (strcmp(a->verb, "retry") == 0 &&
            ((a->id == NULL) == !a->dead || a->filter.state != NULL || a->json ||
             (a->id != NULL && a->filter.kind != NULL)))
                return usage("retry takes a job id, or --dead [--kind K]");
        return 0;
}

/* One job as a table row; the error cut to fit a terminal. */
static void print_row(const json_t *j)
{
        const char *err = json_string_value(json_object_get(j, "last_error"));
        const char *call = json_string_value(json_object_get(j, "call_id"));

        printf("%-8" JSON_INTEGER_FORMAT " %-26s %-36s %-7s %8" JSON_INTEGER_FORMAT
               " %-24s %.70s\n",
               json_integer_value(json_object_get(j, "id")),
               json_string_value(json_object_get(j, "kind")), call ? call : "-",
               json_string_value(json_object_get(j, "state")),
               json_integer_value(json_object_get(j, "attempts")),
               json_string_value(json_object_get(j, "available_at")), err ? err : "");
}

static int cmd_list(struct cb_db *db, const struct jobs_args *a)
{
        json_t *jobs = NULL, *j;
        size_t i;

        if (cb_store_jobs_list(db, &a->filter, &jobs) < 0) {
                fprintf(stderr,
                        "callbridge jobs: listing failed (has `callbridge migrate` run?)\n");
                return 1;
        }
        if (!a->json)
                printf("%-8s %-26s %-36s %-7s %8s %-24s %s\n", "ID", "KIND", "CALL", "STATE",
                       "ATTEMPTS", "AVAILABLE_AT", "LAST_ERROR");
        json_array_foreach(jobs, i, j)
        {
                char *line = a->json ? json_dumps(j, JSON_COMPACT) : NULL;
                if (line != NULL)
                        printf("%s\n", line);
                else if (!a->json)
                        print_row(j);
                free(line);
        }
        json_decref(jobs);
        return 0;
}

static int cmd_retry(struct cb_db *db, const struct jobs_args *a)
{
        char state[16];
        long id, n = 0;
        enum cb_qs qs;

        if (a->dead) {
                if (cb_store_jobs_requeue_dead(db, a->filter.kind, &n) < 0) {
                        fprintf(stderr, "callbridge jobs: retry failed\n");
                        return 1;
                }
                printf("%ld dead job%s queued again\n", n, n == 1 ? "" : "s");
                return 0;
        }
        if (!cb_parse_long(a->id, 1, LONG_MAX, &id))
                return usage("the job id must be a positive integer");
        qs = cb_store_job_requeue_dead(db, id, state);
        if (qs < 0) {
                fprintf(stderr, "callbridge jobs: retry failed\n");
                return 1;
        }
        if (qs == CB_QS_NO_RESULTS && state[0] == '\0') {
                fprintf(stderr, "callbridge jobs: no job %ld\n", id);
                return 1;
        }
        if (qs == CB_QS_NO_RESULTS) {
                fprintf(stderr, "callbridge jobs: job %ld is %s; only dead jobs are retried\n", id,
                        state);
                return 1;
        }
        printf("1 dead job queued again\n");
        return 0;
}

/* The index of the command word: argv[1], or after one leading -c FILE. */
static int command_index(int argc, char **argv)
{
        int i = 1;

        if (i + 1 < argc && (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0))
                i += 2;
        return i < argc && strcmp(argv[i], "jobs") == 0 ? i : -1;
}

int cb_cli_jobs(int argc, char **argv, const char *default_config)
{
        struct jobs_args a = {0};
        struct cb_config_errors errs = {0};
        struct cb_config *cfg = NULL;
        struct cb_db_pool *pool = NULL;
        struct cb_db *db = NULL;
        int at = command_index(argc, argv);
        int rc;

        if (at < 0)
                return -1;
        if (at == 3)
                a.config = argv[2];
        if ((rc = parse(argc, argv, at + 1, &a)) != 0)
                return rc;
        rc = 1;
        if (cb_config_load(a.config ? a.config : default_config, &cfg, &errs) != 0) {
                for (size_t i = 0; i < errs.count; i++)
                        fprintf(stderr, "callbridge: %s\n", errs.lines[i]);
                goto out;
        }
        cb_log_set_level((enum cb_log_level)cb_log_level_parse(cfg->log.level));
        pool = cb_db_pool_create(cfg->database.url, 1, (int)cfg->database.connect_timeout_s, 0);
        db = pool ? cb_db_acquire(pool, 1000) : NULL;
        if (db == NULL) {
                fprintf(stderr, "callbridge: cannot connect to PostgreSQL ([database] url)\n");
                goto out;
        }
        rc = strcmp(a.verb, "list") == 0 ? cmd_list(db, &a) : cmd_retry(db, &a);
out:
        cb_db_release(&db);
        cb_db_pool_destroy(&pool);
        cb_config_free(&cfg);
        cb_config_errors_free(&errs);
        return rc;
}
