/* Server selection: one entry point over the algorithms, with per-worker cursors. */
#ifndef SLUICE_BALANCER_LB_H
#define SLUICE_BALANCER_LB_H

#include <stdbool.h>
#include <stdint.h>

#include "balancer/server.h"

/* Per-worker, per-backend selection state (smooth-RR current weights, RNG, rotating index).
 * Owned and used by exactly one worker thread: no atomics, no locks. */
struct lb_cursor;

struct lb_cursor *lb_cursor_new(struct backend *be, uint64_t seed);
void lb_cursor_free(struct lb_cursor *c);

enum lb_result {
    LB_OK = 0, /* *out is a server with a free slot */
    LB_FULL,   /* servers are up but all are at maxconn: queue the connection */
    LB_NONE,   /* no usable server (all down or in maintenance) */
};

/* Pick a server for a new connection in be. `hash` is the client-address hash (used by source);
 * `avoid` is a server not to pick again unless it is the only choice (redispatch), may be NULL.
 * Active servers are used while any is up; backups only when none is, and then they share the
 * load by the same algorithm (HAProxy's `option allbackups`; with one backup, its default).
 * The chosen server's connection count is not changed: call server_conn_opened() when
 * connecting. Worker thread only. */
enum lb_result lb_pick(struct backend *be, struct lb_cursor *c, uint32_t hash,
                       const struct server *avoid, struct server **out);

/* Hash a client address for `balance source` (stable across processes and threads). */
uint32_t lb_hash_bytes(const void *data, size_t len);

#endif
