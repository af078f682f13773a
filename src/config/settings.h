/* The settings table: every configuration key, its type, default, bounds and help. */
#ifndef CB_CONFIG_SETTINGS_H
#define CB_CONFIG_SETTINGS_H

#include <stddef.h>

enum cb_setting_type {
        CB_SET_STRING,
        CB_SET_INT,
        CB_SET_BOOL,
        CB_SET_ENUM,     /* one of `choices` ("a|b|c") */
        CB_SET_FILE,     /* a path; relative ones resolve against $CREDENTIALS_DIRECTORY */
        CB_SET_HOSTPORT, /* host:port or [v6]:port */
        CB_SET_URL,      /* begins with one of the schemes in `choices` ("http://|https://") */
        CB_SET_REGION,   /* ISO 3166 alpha-2 known to libphonenumber */
};

#define CB_SET_RELOAD 1u /* applied on SIGHUP */

struct cb_setting {
        const char *section;
        const char *key;
        enum cb_setting_type type;
        size_t offset; /* into struct cb_config */
        const char *def;
        long min;
        long max;
        const char *choices;
        unsigned flags;
        const char *help;
};

extern const struct cb_setting cb_settings[];
extern const size_t cb_settings_count;

/* A deprecated spelling of a key that moved: `section`/`key` still set `to_section`/`to_key`
 * (with a warning), unless the new spelling says otherwise (an error). */
struct cb_setting_alias {
        const char *section;
        const char *key;
        const char *to_section;
        const char *to_key;
};

#define CB_SETTING_ALIASES_MAX 8

extern const struct cb_setting_alias cb_setting_aliases[];
extern const size_t cb_setting_aliases_count;

#endif
