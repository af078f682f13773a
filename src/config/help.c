/* callbridge --help-config: the reference of every setting, printed from the settings table
 * (the same rows the loader, the environment overrides and reload read). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "callbridge/config.h"
#include "settings.h"

static const char *type_name(const struct cb_setting *s)
{
        switch (s->type) {
        case CB_SET_INT:
                return "integer";
        case CB_SET_BOOL:
                return "true|false";
        case CB_SET_ENUM:
                return s->choices;
        case CB_SET_FILE:
                return "file (relative: under $CREDENTIALS_DIRECTORY)";
        case CB_SET_HOSTPORT:
                return "host:port";
        case CB_SET_URL:
                return "URL";
        case CB_SET_REGION:
                return "ISO 3166 country code";
        case CB_SET_STRING:
        default:
                return "text";
        }
}

/* CALLBRIDGE_<SECTION>_<KEY>, upper case. */
static void print_env(FILE *out, const struct cb_setting *s)
{
        fputs("CALLBRIDGE_", out);
        for (const char *p = s->section; *p; p++)
                fputc(toupper((unsigned char)*p), out);
        fputc('_', out);
        for (const char *p = s->key; *p; p++)
                fputc(toupper((unsigned char)*p), out);
}

void cb_config_print_help(FILE *out)
{
        const char *section = "";

        for (size_t i = 0; i < cb_settings_count; i++) {
                const struct cb_setting *s = &cb_settings[i];
                if (strcmp(section, s->section) != 0) {
                        section = s->section;
                        fprintf(out, "%s[%s]\n", i ? "\n" : "", section);
                }
                fprintf(out, "%s = %s\n    %s\n    %s", s->key, s->def ? s->def : "(unset)",
                        s->help ? s->help : "", type_name(s));
                if (s->type == CB_SET_INT)
                        fprintf(out, " %ld..%ld", s->min, s->max);
                fputs("; env ", out);
                print_env(out, s);
                fputs(s->flags & CB_SET_RELOAD ? "; reloaded on SIGHUP\n" : "\n", out);
        }
}
