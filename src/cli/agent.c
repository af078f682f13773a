/* `callbridge agent add NAME [--display-name S] [--crm-user-id ID] [--phone E164] [--admin]`,
 * `callbridge agent set NAME [...] [--no-admin] [--clear FIELD]` and `callbridge agent list`:
 * the agents an admin manages (display name, CRM user id, phone, admin rights). The SQL
 * lives in src/store/agents.c, shared with /api/admin/agents; values are checked by
 * cb_agents_normalise as for the API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/agents.h"
#include "callbridge/crm.h"
#include "callbridge/config.h"
#include "callbridge/log.h"
#include "callbridge/store_agents.h"
#include "agent.h"

static const char usage_text[] =
    "usage: callbridge agent add NAME [--display-name S] [--crm-user-id ID] [--phone E164]\n"
    "                            [--admin] [-c FILE]\n"
    "       callbridge agent set NAME [--display-name S] [--crm-user-id ID] [--phone E164]\n"
    "                            [--admin | --no-admin] [--clear display-name|crm-user-id|phone]\n"
    "                            [-c FILE]\n"
    "       callbridge agent list [--json] [-c FILE]\n"
    "NAME is the identity API keys act as (callbridge apikey create --agent NAME makes the agent\n"
    "if missing). --crm-user-id is the agent's user in the CRM (Salesforce: its User id, 005...):\n"
    "it owns the agent's call Tasks and receives inbound calls from the records that user owns.\n";

struct agent_args {
        const char *config;
        const char *verb;
        struct cb_agent_fields f;
        bool json;
        bool admin_given, no_admin;
};

static int usage(const char *what)
{
        fprintf(stderr, "callbridge agent: %s\n%s", what, usage_text);
        return 2;
}

/* The value and "named" flag of the field an option calls `name` ("display-name",
 * "crm-user-id", "phone"); false for any other name. */
static bool field_of(struct cb_agent_fields *f, const char *name, const char ***value, bool **set)
{
        if (name != NULL && strcmp(name, "display-name") == 0) {
                *value = &f->display_name;
                *set = &f->set_display_name;
        } else if (name != NULL && strcmp(name, "crm-user-id") == 0) {
                *value = &f->crm_user_id;
                *set = &f->set_crm_user_id;
        } else if (name != NULL && strcmp(name, "phone") == 0) {
                *value = &f->phone;
                *set = &f->set_phone;
        } else {
                return false;
        }
        return true;
}

/* One option with a value (`*i` moves past it): -c FILE, --display-name S, --crm-user-id ID,
 * --phone N, --clear FIELD. 0, 1 when `s` is no such option, 2 after usage. */
static int value_option(int argc, char **argv, int *i, struct agent_args *a)
{
        const char *s = argv[*i], *val = *i + 1 < argc ? argv[*i + 1] : NULL;
        const char **value = NULL;
        bool *set = NULL;

        /* "--phone -c FILE" forgot the phone: an option is never a value. */
        if (val != NULL && (strncmp(val, "--", 2) == 0 || strcmp(val, "-c") == 0))
                val = NULL;
        if (strcmp(s, "-c") == 0 || strcmp(s, "--config") == 0) {
                a->config = val;
        } else if (strncmp(s, "--", 2) == 0 && field_of(&a->f, s + 2, &value, &set)) {
                *value = val;
                *set = true;
        } else if (strcmp(s, "--clear") == 0) {
                if (!field_of(&a->f, val, &value, &set))
                        return usage("--clear takes display-name, crm-user-id or phone");
                *value = NULL;
                *set = true;
        } else {
                return 1;
        }
        if (val == NULL) {
                char msg[64];
                snprintf(msg, sizeof(msg), "%.32s needs a value", s);
                return usage(msg);
        }
        (*i)++;
        return 0;
}

/* Parse argv after "agent". 0, or 2 after usage. */
static int parse(int argc, char **argv, int first, struct agent_args *a)
{
        for (int i = first; i < argc; i++) {
                const char *s = argv[i];
                int rc = value_option(argc, argv, &i, a);

                if (rc == 2)
                        return rc;
                if (rc == 0)
                        continue;
                if (strcmp(s, "--admin") == 0)
                        a->admin_given = true;
                else if (strcmp(s, "--no-admin") == 0)
                        a->no_admin = true;
                else if (strcmp(s, "--json") == 0)
                        a->json = true;
                else if (s[0] == '-')
                        return usage("unknown option");
                else if (a->verb == NULL)
                        a->verb = s;
                else if (a->f.name == NULL)
                        a->f.name = s;
                else
                        return usage("too many arguments");
        }
        if (a->verb == NULL || (strcmp(a->verb, "add") != 0 && strcmp(a->verb, "set") != 0 &&
                                strcmp(a->verb, "list") != 0))
                return usage("add, set or list?");
        if (strcmp(a->verb, "list") == 0) {
                if (a->f.name != NULL || a->f.set_display_name || a->f.set_crm_user_id ||
                    a->f.set_phone || a->admin_given || a->no_admin)
                        return usage("list takes only --json");
                return 0;
        }
        if (a->f.name == NULL)
                return usage("which agent? (a NAME after add or set)");
        if (a->admin_given && a->no_admin)
                return usage("--admin or --no-admin, not both");
        if (a->json || (strcmp(a->verb, "add") == 0 && a->no_admin))
                return usage(strcmp(a->verb, "add") == 0 ? "add takes no --no-admin or --json"
                                                         : "set takes no --json");
        a->f.set_admin = a->admin_given || a->no_admin;
        a->f.admin = a->admin_given;
        if (strcmp(a->verb, "set") == 0 && !a->f.set_admin && !a->f.set_display_name &&
            !a->f.set_crm_user_id && !a->f.set_phone)
                return usage("set needs something to change");
        return 0;
}

static const char *or_dash(const json_t *row, const char *field)
{
        const char *s = json_string_value(json_object_get(row, field));
        return s != NULL ? s : "-";
}

static int cmd_list(struct cb_db *db, const struct agent_args *a)
{
        json_t *rows = NULL, *row;
        size_t i;

        if (cb_store_agents_list(db, &rows) < 0) {
                fprintf(stderr,
                        "callbridge agent: listing failed (has `callbridge migrate` run?)\n");
                return 1;
        }
        if (!a->json)
                printf("%-24s  %-24s  %-18s  %-16s  %-5s  %s\n", "NAME", "DISPLAY_NAME",
                       "CRM_USER_ID", "PHONE", "ADMIN", "UPDATED");
        json_array_foreach(rows, i, row)
        {
                char *line = a->json ? json_dumps(row, JSON_COMPACT) : NULL;
                if (line != NULL)
                        printf("%s\n", line);
                else if (!a->json)
                        printf("%-24s  %-24.24s  %-18s  %-16s  %-5s  %.19s\n", or_dash(row, "name"),
                               or_dash(row, "display_name"), or_dash(row, "crm_user_id"),
                               or_dash(row, "phone"),
                               json_is_true(json_object_get(row, "admin")) ? "yes" : "no",
                               or_dash(row, "updated_at"));
                free(line);
        }
        json_decref(rows);
        return 0;
}

/* add or set, after the values were checked. */
static int cmd_write(struct cb_db *db, struct agent_args *a)
{
        bool add = strcmp(a->verb, "add") == 0;
        enum cb_agent_refusal why = CB_AGENT_REFUSED_NONE;
        json_t *row = NULL;
        enum cb_qs qs = add ? cb_store_agent_insert(db, &a->f, &row, &why)
                            : cb_store_agent_update(db, &a->f, &row, &why);

        if (qs < 0)
                fprintf(stderr,
                        "callbridge agent: %s failed (database error; has `callbridge "
                        "migrate` run?)\n",
                        a->verb);
        else if (why == CB_AGENT_NAME_TAKEN)
                fprintf(stderr, "callbridge agent: agent %s exists (change it with `agent set`)\n",
                        a->f.name);
        else if (why == CB_AGENT_CRM_ID_TAKEN)
                fprintf(stderr, "callbridge agent: another agent has CRM user id %s\n",
                        a->f.crm_user_id);
        else if (why == CB_AGENT_UNKNOWN)
                fprintf(stderr, "callbridge agent: no agent %s (make it with `agent add`)\n",
                        a->f.name);
        else
                printf("%s %s\n", add ? "added" : "updated", a->f.name);
        json_decref(row);
        return qs == CB_QS_ONE_RESULT ? 0 : 1;
}

/* The index of the command word: argv[1], or after one leading -c FILE. */
static int command_index(int argc, char **argv)
{
        int i = 1;

        if (i + 1 < argc && (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0))
                i += 2;
        return i < argc && strcmp(argv[i], "agent") == 0 ? i : -1;
}

int cb_cli_agent(int argc, char **argv, const char *default_config)
{
        struct agent_args a = {0};
        struct cb_config_errors errs = {0};
        struct cb_config *cfg = NULL;
        struct cb_db_pool *pool = NULL;
        struct cb_db *db = NULL;
        struct cb_agent_values v;
        const char *bad = NULL;
        char msg[256];
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
        if (strcmp(a.verb, "list") != 0 &&
            cb_agents_normalise(&a.f, cfg->server.default_region, cb_crm_ops_of(cfg)->user_id_canon,
                                &v, &bad, msg, sizeof(msg)) != CB_AGENT_VALID) {
                rc = usage(msg);
                goto out;
        }
        pool = cb_db_pool_create(cfg->database.url, 1, (int)cfg->database.connect_timeout_s, 0);
        db = pool ? cb_db_acquire(pool, 1000) : NULL;
        if (db == NULL) {
                fprintf(stderr, "callbridge: cannot connect to PostgreSQL ([database] url)\n");
                goto out;
        }
        rc = strcmp(a.verb, "list") == 0 ? cmd_list(db, &a) : cmd_write(db, &a);
out:
        cb_db_release(&db);
        cb_db_pool_destroy(&pool);
        cb_config_free(&cfg);
        cb_config_errors_free(&errs);
        return rc;
}
