/* call-path-ctl.c — a gcov control thread that scripts/call-path links into its instrumented
 * build (never into a product build): when $CB_GCOV_CTL names a directory holding two FIFOs,
 * `cmd` and `ack`, a thread reads lines from `cmd` — "reset" calls __gcov_reset, "dump" calls
 * __gcov_dump — and writes each line back to `ack` once done. It replaces calling those
 * functions through gdb, whose inferior calls fail on some kernels ("Couldn't write extended
 * state status") and leave the process broken. Without $CB_GCOV_CTL nothing starts. The
 * thread blocks every signal, so the daemon's signal handling is unchanged. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern void __gcov_reset(void);
extern void __gcov_dump(void);

/* Serve commands until a FIFO cannot be opened (the directory was removed): then return. */
static void *ctl_loop(void *arg)
{
        const char *dir = arg;
        char cmd[4096], ack[4096], line[64];
        snprintf(cmd, sizeof cmd, "%s/cmd", dir);
        snprintf(ack, sizeof ack, "%s/ack", dir);
        for (;;) {
                FILE *in = fopen(cmd, "r"); /* blocks until the driver opens it to write */
                if (!in)
                        return NULL;
                while (fgets(line, sizeof line, in)) {
                        if (strncmp(line, "reset", 5) == 0)
                                __gcov_reset();
                        else if (strncmp(line, "dump", 4) == 0)
                                __gcov_dump();
                        FILE *out = fopen(ack, "w");
                        if (out) {
                                fputs(line, out);
                                fclose(out);
                        }
                }
                fclose(in);
        }
}

__attribute__((constructor)) static void ctl_start(void)
{
        const char *dir = getenv("CB_GCOV_CTL");
        if (!dir || !*dir)
                return;
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        pthread_t t;
        if (pthread_create(&t, NULL, ctl_loop, (void *)dir) == 0)
                pthread_detach(t);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
}
