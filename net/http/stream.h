/* HTTP/1.1 reverse proxying (mode http): one client connection, a sequence of requests. */
#ifndef SLUICE_NET_HTTP_STREAM_H
#define SLUICE_NET_HTTP_STREAM_H

#include "core/worker.h"

/* frontend_accept_fn for `mode http` frontends: parses requests, applies rules, routes each one
 * to a backend and server (reusing pooled server connections), relays bodies and responses. */
void http_stream_accept(struct worker *w, struct frontend *fe, unsigned bind, int fd,
                        const union peer_addr *peer);

/* worker_proto_free_hook: closes the worker's pooled server connections. */
void http_worker_free(struct worker *w);

#endif
