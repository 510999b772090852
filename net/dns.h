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
#define DNS_CACHE_MAX 4096u /* cached names per resolver; the oldest is evicted beyond */

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

/* `a` is non-NULL only when st is DNS_OK (then a->n >= 1) and valid only during the call. */
typedef void (*dns_done_fn)(void *arg, enum dns_status st, const struct dns_addrs *a);

struct dns_resolver;
struct dns_query;

/* A resolver for worker w using `cfg` (NULL: /etc/resolv.conf). /etc/hosts is read once here
 * (not per query: a worker does no file I/O) and consulted before DNS in both cases; "localhost"
 * is the loopback addresses even when /etc/hosts lacks it (RFC 6761). Per try, a server gets
 * cfg->timeout_resolve ms; a name is given up after cfg->resolve_retries rounds over every
 * server (HAProxy: "the number of queries to send"). Zero fields take the defaults of
 * config/model_fwd.h. Created and used on w's thread only. NULL on failure (errno set). */
struct dns_resolver *dns_resolver_new(struct worker *w, const struct cfg_resolvers *cfg);
/* Cancels pending queries (no callback is called), closes the sockets, frees everything. Call
 * it before w's loop is freed, and not from inside one of r's callbacks. Accepts NULL. */
void dns_resolver_free(struct dns_resolver *r);

/* Resolve host[0..len) (a name, an IPv4 literal or an IPv6 literal, brackets optional) for `port`.
 * A name that is not a host name (characters other than letters, digits, '-', '_', '.'; an
 * empty or over-long label) fails at once with DNS_E_FAIL, without a query.
 * Literals, /etc/hosts entries and cached answers complete at once: fn is called before
 * dns_resolve returns and the result is NULL. Otherwise fn is called later from w's loop and
 * the returned handle can cancel it. NULL is also returned (after calling fn) on failure. */
struct dns_query *dns_resolve(struct dns_resolver *r, const char *host, size_t len, uint16_t port,
                              dns_done_fn fn, void *arg);

/* Several dns_resolve calls for one name while it is being looked up share one DNS lookup.
 * The handle is freed when fn returns: never use it after fn was called. fn may call
 * dns_resolve and dns_cancel (of other queries). */

/* Forget a pending query: fn will not be called. The lookup itself goes on and its answer is
 * cached. Accepts NULL. */
void dns_cancel(struct dns_query *q);

/* Counters (tests, stats): cache hits (positive or negative), misses (a lookup was started or
 * joined), lookups sent (one per name: the A and AAAA questions of one round count once),
 * answers cached; misses that joined a lookup in flight, rounds repeated after a timeout; and
 * two gauges: names being looked up, names in the cache. */
struct dns_stats {
    uint64_t hits, misses, sent, cached;
    uint64_t coalesced, retries;
    uint64_t inflight, entries;
};
void dns_get_stats(const struct dns_resolver *r, struct dns_stats *out);

#endif
