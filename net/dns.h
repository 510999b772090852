/* Asynchronous name resolution for workers (c-ares), with a per-worker answer cache. A worker
 * never blocks on DNS: c-ares sockets sit in the worker's own poller and its timeouts in the
 * worker's timer wheel. */
#ifndef SLUICE_NET_DNS_H
#define SLUICE_NET_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config/model.h"

struct worker;

#define DNS_MAX_ADDRS 8

enum dns_status {
    DNS_OK = 0,
    DNS_E_NXDOMAIN, /* the name does not exist (or has no A/AAAA) */
    DNS_E_TIMEOUT,  /* no server answered within timeout resolve x retries */
    DNS_E_FAIL,     /* SERVFAIL, refused, malformed answer, no memory */
};

/* Addresses of a name, IPv4 first then IPv6 (connect tries them in order), port filled in. */
struct dns_addrs {
    unsigned n;
    struct sockaddr_storage addr[DNS_MAX_ADDRS];
    socklen_t len[DNS_MAX_ADDRS];
};

typedef void (*dns_done_fn)(void *arg, enum dns_status st, const struct dns_addrs *a);

struct dns_resolver;
struct dns_query;

/* A resolver for worker w using `cfg` (NULL: /etc/resolv.conf and /etc/hosts). Created and used
 * on w's thread only. NULL on failure (errno set). */
struct dns_resolver *dns_resolver_new(struct worker *w, const struct cfg_resolvers *cfg);
void dns_resolver_free(struct dns_resolver *r); /* cancels pending queries; accepts NULL */

/* Resolve host[0..len) (a name, an IPv4 literal or a bracket-less IPv6 literal) for `port`.
 * Literals, /etc/hosts entries and cached answers complete at once: fn is called before
 * dns_resolve returns and the result is NULL. Otherwise fn is called later from w's loop and
 * the returned handle can cancel it. NULL is also returned (after calling fn) on failure. */
struct dns_query *dns_resolve(struct dns_resolver *r, const char *host, size_t len, uint16_t port,
                              dns_done_fn fn, void *arg);

/* Forget a pending query: fn will not be called. */
void dns_cancel(struct dns_query *q);

/* Counters (tests, stats): cache hits, queries sent, answers cached. */
struct dns_stats {
    uint64_t hits, misses, sent, cached;
};
void dns_get_stats(const struct dns_resolver *r, struct dns_stats *out);

#endif
