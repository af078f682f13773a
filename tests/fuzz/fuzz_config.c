/* The configuration loader (src/config/): an INI file through our line reader, libinih and the
 * settings table, then the cross-key checks. The input is the file's text, loaded from a
 * memfd by path (/proc/self/fd/N) exactly as a file is. Properties: loading never crashes or
 * leaks; it either gives a config and no error lines, or no config and at least one line;
 * an accepted config loads the same way twice and applies as a reload. */
#include <sys/mman.h>
#include <unistd.h>

#include "callbridge/config.h"
#include "fuzz.h"

static int fd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        static const char *const clear[] = {"CREDENTIALS_DIRECTORY"};

        (void)argc, (void)argv;
        fd = memfd_create("callbridge.conf", 0);
        FUZZ_CHECK(fd >= 0);
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        /* Only the file counts: no CALLBRIDGE_* overrides from the environment. */
        for (size_t i = 0; i < sizeof(clear) / sizeof(clear[0]); i++)
                unsetenv(clear[i]);
        for (char **e = environ; *e != NULL;) {
                if (strncmp(*e, "CALLBRIDGE_", 11) == 0) {
                        char name[256];
                        size_t n = strcspn(*e, "=");
                        snprintf(name, sizeof(name), "%.*s", (int)n, *e);
                        unsetenv(name);
                } else {
                        e++;
                }
        }
        return 0;
}

static struct cb_config *load(int *nerr)
{
        struct cb_config *cfg = NULL;
        struct cb_config_errors errs = {0};
        int rc = cb_config_load(path, &cfg, &errs);

        FUZZ_CHECK(rc == 0 ? cfg != NULL && errs.count == 0 : cfg == NULL && errs.count > 0);
        for (size_t i = 0; i < errs.count; i++)
                FUZZ_CHECK(errs.lines[i] != NULL);
        *nerr = (int)errs.count;
        cb_config_errors_free(&errs);
        return cfg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct cb_config *cfg, *again;
        int n1 = 0, n2 = 0;

        FUZZ_CHECK(ftruncate(fd, 0) == 0);
        FUZZ_CHECK(pwrite(fd, data, size, 0) == (ssize_t)size);
        cfg = load(&n1);
        again = load(&n2);
        FUZZ_CHECK((cfg == NULL) == (again == NULL) && n1 == n2);
        if (cfg != NULL)
                cb_config_apply_reload(cfg, again);
        cb_config_free(&cfg);
        cb_config_free(&again);
        return 0;
}
