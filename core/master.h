/* The master process (HAProxy's master-worker mode, simplified): binds the listeners, forks one
 * worker process per configuration generation and replaces it on SIGHUP without dropping a
 * connection. See core/master.c and docs/operations.md ("Reload"). */
#ifndef SLUICE_CORE_MASTER_H
#define SLUICE_CORE_MASTER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/worker.h"

/* What the master needs from the program (core/main.c). Function pointers so that this file links
 * into the unit tests without main.c. */
struct master_hooks {
    /* Load and check `file` into *rt (config, balancer, frontends; no socket bound). 0, or -errno
     * with err set ("FILE:LINE: ..."); on error *rt holds nothing. */
    int (*prepare)(const char *file, struct runtime *rt, char *err, size_t errlen);
    /* Free what prepare built and fe->fds arrays (the descriptors are not closed). */
    void (*discard)(struct runtime *rt);
    /* In the worker process: serve traffic on rt's inherited listening sockets. Once accepting,
     * write one byte to ready_fd and close it. SIGUSR2 means stop accepting and drain (the next
     * generation accepts); SIGTERM/SIGINT as before. Returns the process's exit status. */
    int (*serve)(struct runtime *rt, int ready_fd, unsigned generation, pid_t master);
};

/* Run the master with the first generation already prepared in *rt (not bound): bind, detach
 * when daemon_mode, write pidfile (may be NULL), fork generation 1, then supervise. Returns the
 * exit status: 0 after a SIGTERM/SIGINT stop, 1 when start-up failed or a worker died. */
int master_run(const struct master_hooks *hooks, const char *file, struct runtime *rt,
               const char *pidfile, bool daemon_mode);

#endif
