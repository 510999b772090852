/* The acceptor thread: accepts on every listener and hands sockets to the least-loaded worker. */
#ifndef SLUICE_CORE_ACCEPTOR_H
#define SLUICE_CORE_ACCEPTOR_H

#include <stddef.h>

#include "core/worker.h"

/* Start the acceptor over every frontend's listening sockets. Returns 0 or -errno with err set.
 * Main thread, after workers_start. */
int acceptor_start(struct runtime *rt, char *err, size_t errlen);

/* Stop accepting and join the thread; the listening sockets stay open (main closes them).
 * Accepts being called when not started. Main thread. */
void acceptor_stop(struct runtime *rt);

#endif
