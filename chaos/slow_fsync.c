/* Makes every fsync and fdatasync of the process that preloads it take CHAOS_FSYNC_DELAY_MS
   longer (default 50): a slow disk under the journal, for the chaos campaign's slow-fsync trial.
   Built by chaos/slow_fsync.py with the system's C compiler. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

static void wait_a_while(void) {
    const char *text = getenv("CHAOS_FSYNC_DELAY_MS");
    long ms = text ? atol(text) : 50;
    struct timespec pause = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&pause, &pause) != 0) {
    }
}

int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    wait_a_while();
    return real(fd);
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    wait_a_while();
    return real(fd);
}
