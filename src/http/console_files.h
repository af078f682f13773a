/* The agent console's files, built into the binary from src/console/ by
 * tools/console/embed.py (generated/console_files.c); served by src/http/handlers/console.c. */
#ifndef CB_HTTP_CONSOLE_FILES_H
#define CB_HTTP_CONSOLE_FILES_H

#include <stddef.h>

struct cb_console_file {
        const char *name;         /* "index.html", "app.js", "twilio.min.js" (flat) */
        const char *content_type; /* with its charset */
        const unsigned char *data;
        size_t len;
        const char *etag; /* strong, quoted: the first 32 hex digits of the SHA-256 */
};

/* Sorted by name as embed.py found them, then twilio.min.js when the build had the SDK. */
extern const struct cb_console_file cb_console_files[];
extern const size_t cb_console_files_count;

#endif
