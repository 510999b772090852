/* The health-checker thread: probes servers and publishes their state and weights. */
#ifndef SLUICE_BALANCER_HEALTH_H
#define SLUICE_BALANCER_HEALTH_H

#include "balancer/server.h"

/* Start the checker thread over every server with `check`, and slowstart ramps. It also rebuilds
 * and republishes Maglev tables when states change and reclaims retired ones (core/epoch.h).
 * Returns 0 or -errno. Main thread. */
int health_start(struct balancer *b);

/* Stop and join the thread; accepts being called when not started. Main thread. */
void health_stop(void);

#endif
