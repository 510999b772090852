/* L4 proxying: one client connection relayed to one server connection. */
#ifndef SLUICE_NET_TCP_PROXY_H
#define SLUICE_NET_TCP_PROXY_H

#include "core/worker.h"

/* frontend_accept_fn for `mode tcp` frontends: reads an optional PROXY header, picks a server,
 * connects (with retries/redispatch, queueing under maxconn) and relays both ways. */
void tcp_proxy_accept(struct worker *w, struct frontend *fe, unsigned bind, int fd,
                      const union peer_addr *peer);

/* worker_dequeue_fn: retry a queued session. Returns false when it must keep waiting. */
bool tcp_proxy_dequeue(struct worker *w, struct queue_link *l);

#endif
