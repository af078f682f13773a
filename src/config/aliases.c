/* Deprecated spellings of keys that moved (the CRM policies went from [salesforce] to [crm]):
 * still read, with a warning; an error when the old and the new spelling disagree. The table
 * is cb_setting_aliases (settings.c). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/util.h"
#include "config_int.h"

static void keep(char **slot, const char *value)
{
        free(*slot);
        *slot = strdup(value); /* out of memory: the value is lost, as if not given */
}

bool cb_config_alias_note(struct load_ctx *ctx, const char *section, const char *key,
                          const char *value, const char *where)
{
        for (size_t i = 0; i < cb_setting_aliases_count && i < CB_SETTING_ALIASES_MAX; i++) {
                const struct cb_setting_alias *a = &cb_setting_aliases[i];
                struct alias_seen *seen = &ctx->aliases[i];

                if (strcmp(a->section, section) == 0 && strcmp(a->key, key) == 0) {
                        keep(&seen->old_value, value);
                        cb_strlcpy(seen->old_where, where, sizeof(seen->old_where));
                        return true;
                }
                if (strcmp(a->to_section, section) == 0 && strcmp(a->to_key, key) == 0)
                        keep(&seen->new_value, value);
        }
        return false;
}

void cb_config_alias_env(struct load_ctx *ctx)
{
        for (size_t i = 0; i < cb_setting_aliases_count && i < CB_SETTING_ALIASES_MAX; i++) {
                const struct cb_setting_alias *a = &cb_setting_aliases[i];
                char name[128];
                const char *v;
                size_t n =
                    (size_t)snprintf(name, sizeof(name), "CALLBRIDGE_%s_%s", a->section, a->key);

                for (size_t j = 0; j < n && j < sizeof(name); j++)
                        name[j] = (char)toupper((unsigned char)name[j]);
                v = getenv(name);
                if (v != NULL)
                        (void)cb_config_alias_note(ctx, a->section, a->key, v, "environment");
        }
}

/* Apply one deprecated spelling to its key. */
static void resolve_one(struct load_ctx *ctx, const struct cb_setting_alias *a,
                        const struct alias_seen *seen)
{
        const struct cb_setting *s = cb_config_find_setting(a->to_section, a->to_key);
        char why[512];

        if (seen->new_value != NULL && strcmp(seen->new_value, seen->old_value) != 0) {
                cb_config_add_error(ctx->errs,
                                    "%s: [%s] %s = \"%s\" (deprecated) disagrees with [%s] %s = "
                                    "\"%s\": keep [%s] %s only",
                                    seen->old_where, a->section, a->key, seen->old_value,
                                    a->to_section, a->to_key, seen->new_value, a->to_section,
                                    a->to_key);
                return;
        }
        cb_config_add_error(&ctx->cfg->warnings,
                            "%s: [%s] %s is deprecated: write it as [%s] %s (same values)",
                            seen->old_where, a->section, a->key, a->to_section, a->to_key);
        if (seen->new_value != NULL || s == NULL)
                return; /* the same value was given both ways: set already */
        if (!cb_config_set_value(ctx->cfg, s, seen->old_value, why, sizeof(why)))
                cb_config_add_error(ctx->errs, "%s: [%s] %s = \"%s\": %s", seen->old_where,
                                    a->section, a->key, seen->old_value, why);
}

void cb_config_aliases_resolve(struct load_ctx *ctx)
{
        for (size_t i = 0; i < cb_setting_aliases_count && i < CB_SETTING_ALIASES_MAX; i++) {
                struct alias_seen *seen = &ctx->aliases[i];

                if (seen->old_value != NULL)
                        resolve_one(ctx, &cb_setting_aliases[i], seen);
                free(seen->old_value);
                free(seen->new_value);
                seen->old_value = seen->new_value = NULL;
        }
}
