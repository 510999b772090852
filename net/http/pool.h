/* Server connections for mode http, and the per-worker pool of idle ones kept for reuse. */
#ifndef SLUICE_NET_HTTP_POOL_H
#define SLUICE_NET_HTTP_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config/model.h"
#include "core/worker.h"
#include "net/relay.h"

#define POOL_MAX_IDLE_PER_SERVER 64   /* per worker: bounds fds held open for reuse */
#define POOL_IDLE_TIMEOUT_MS     5000 /* HAProxy's pool-purge-delay default */

struct srv_conn;
typedef void (*srv_conn_event_fn)(void *owner, struct srv_conn *sc, unsigned ev);

/* A connection to a server. While attached it belongs to one HTTP stream (`owner`), which gets
 * its events; while idle it sits in the worker's pool, where any event (the server closing it
 * or sending unsolicited bytes) closes it. */
struct srv_conn {
    struct loop_handler h;
    struct relay_side side;
    struct server *sv; /* borrowed */
    struct worker *w;  /* borrowed */
    void *owner;       /* borrowed stream; NULL while idle */
    srv_conn_event_fn on_event;
    struct srv_conn *next, **pprev; /* idle list links */
    struct timer tmr;               /* idle expiry */
    struct deferred dfr;
    unsigned reuses; /* requests served before the current one */
    char *origin;    /* owned "host:port" key of a forward-proxy origin, else NULL */
    uint32_t origin_hash;
    bool connected;
    bool nolinger; /* option nolinger of the server's backend, or of the forward proxy */
    bool failed;   /* an error (a reset) was reported: the server takes no more bytes, reads
                      return what it sent before */
    bool priv;     /* bound to one client (connection-based authentication): never pooled */
};

/* Start a non-blocking connect to sv. Returns the connection (not yet connected) or NULL with
 * *err set to an errno value. */
struct srv_conn *srv_conn_open(struct worker *w, struct server *sv, void *owner,
                               srv_conn_event_fn fn, int *err);
/* Same toward an origin of the forward proxy (no struct server): the connection is pooled under
 * `origin` ("host:port", copied). */
struct srv_conn *srv_conn_open_addr(struct worker *w, const struct sockaddr *addr, socklen_t len,
                                    const char *origin, size_t origin_len, void *owner,
                                    srv_conn_event_fn fn, int *err);
/* An idle connection to that origin from this worker's pool, attached to owner; NULL when none. */
struct srv_conn *pool_take_origin(struct worker *w, const char *origin, size_t origin_len,
                                  void *owner, srv_conn_event_fn fn);

/* Close and free (after the batch). Accepts NULL. */
void srv_conn_close(struct srv_conn *sc);

/* Take an idle connection to sv from this worker's pool, attached to owner; NULL when none. */
struct srv_conn *pool_take(struct worker *w, struct server *sv, void *owner, srv_conn_event_fn fn);
/* Whether the server has been silent since the end of its last response: no FIN, no bytes
 * (see pool_put). May peek. */
bool srv_conn_is_quiet(struct srv_conn *sc);
/* Whether an idle connection (pooled, or kept for one client) is still usable after event ev
 * (LOOP_*): false after a close, a reset or unsolicited bytes. May peek. */
bool srv_conn_idle_event_ok(struct srv_conn *sc, unsigned ev);

/* Give a connection back for reuse (it must be connected and between messages). A connection
 * on which the server sent anything after the response, or closed its side, is closed instead. */
void pool_put(struct srv_conn *sc);

/* This worker's resolver for a [resolvers] section (NULL: the system's configuration), created
 * on first use; NULL when it cannot be created. */
struct dns_resolver *pool_resolver(struct worker *w, const struct cfg_resolvers *cfg);

/* This worker's regex match data for ACL evaluation (created with the pool). */
void *pool_match_data(struct worker *w);

/* Close every pooled connection of this worker and free the pool (worker exit). */
void pool_free_worker(struct worker *w);

#endif
