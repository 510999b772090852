/* Pool of idle server connections, one per worker, a LIFO list per server: the most recently
 * used connection is the least likely to have been closed by the server. No locks: a worker only
 * reuses its own connections. An idle connection stays registered in epoll, so a server that
 * closes it is noticed at once and the connection leaves the pool. */
#include "net/http/pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "net/dns.h"
#include "net/http/acl.h"
#include "net/sock.h"

#define POOL_ORIGIN_BUCKETS  256
#define POOL_ORIGIN_MAX_IDLE 1024 /* per worker */
#define POOL_MAX_RESOLVERS   8

struct pool {
    struct srv_conn **idle; /* per global server index */
    unsigned *count;
    size_t *be_off; /* first global server index of each backend */
    size_t nservers;
    void *match_data; /* owned pcre2 match data for ACL regexes */
    /* forward proxy: idle origin connections, hashed by "host:port" */
    struct srv_conn *origin_idle[POOL_ORIGIN_BUCKETS];
    unsigned origin_count;
    /* forward proxy: one resolver per [resolvers] section in use (NULL key: the system's) */
    struct {
        const struct cfg_resolvers *cfg;
        struct dns_resolver *r;
    } dns[POOL_MAX_RESOLVERS];
    unsigned ndns;
};

static struct pool *pool_of(struct worker *w)
{
    struct pool *p = w->proto;
    if (p)
        return p;
    struct balancer *b = w->rt->bal;
    p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->be_off = calloc(b->nbackends ? b->nbackends : 1, sizeof(*p->be_off));
    for (size_t i = 0; i < b->nbackends; i++) {
        if (p->be_off)
            p->be_off[i] = p->nservers;
        p->nservers += b->backends[i].nservers;
    }
    p->idle = calloc(p->nservers ? p->nservers : 1, sizeof(*p->idle));
    p->count = calloc(p->nservers ? p->nservers : 1, sizeof(*p->count));
    if (!p->be_off || !p->idle || !p->count) {
        free(p->be_off);
        free(p->idle);
        free(p->count);
        free(p);
        return NULL;
    }
    p->match_data = acl_worker_match_data_new();
    w->proto = p;
    return p;
}

struct dns_resolver *pool_resolver(struct worker *w, const struct cfg_resolvers *cfg)
{
    struct pool *p = pool_of(w);
    if (!p)
        return NULL;
    for (unsigned i = 0; i < p->ndns; i++)
        if (p->dns[i].cfg == cfg)
            return p->dns[i].r;
    if (p->ndns == POOL_MAX_RESOLVERS)
        return NULL;
    struct dns_resolver *r = dns_resolver_new(w, cfg);
    if (!r)
        return NULL;
    p->dns[p->ndns].cfg = cfg;
    p->dns[p->ndns].r = r;
    p->ndns++;
    return r;
}

void *pool_match_data(struct worker *w)
{
    struct pool *p = pool_of(w);
    return p ? p->match_data : NULL;
}

static uint32_t origin_hash(const char *k, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a: keys are short and chosen by clients, buckets few */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)k[i]) * 16777619u;
    return h;
}

static size_t server_slot(struct pool *p, struct worker *w, const struct server *sv)
{
    size_t bi = (size_t)(sv->be - w->rt->bal->backends);
    return p->be_off[bi] + sv->idx;
}

static void sc_free(struct deferred *d)
{
    struct srv_conn *sc = (struct srv_conn *)((char *)d - offsetof(struct srv_conn, dfr));
    free(sc->origin);
    free(sc);
}

static void unlink_idle(struct srv_conn *sc)
{
    if (!sc->pprev)
        return;
    struct pool *p = sc->w->proto;
    *sc->pprev = sc->next;
    if (sc->next)
        sc->next->pprev = sc->pprev;
    sc->next = NULL;
    sc->pprev = NULL;
    if (sc->sv)
        p->count[server_slot(p, sc->w, sc->sv)]--;
    else
        p->origin_count--;
    timer_disarm(&sc->w->tw, &sc->tmr);
}

void srv_conn_close(struct srv_conn *sc)
{
    if (!sc)
        return;
    unlink_idle(sc);
    timer_disarm(&sc->w->tw, &sc->tmr);
    relay_side_closing(sc->w, &sc->side);
    if (sc->h.fd >= 0)
        sock_close(sc->h.fd, sc->nolinger);
    sc->h.fd = sc->side.fd = -1;
    sc->owner = NULL;
    worker_defer_free(sc->w, &sc->dfr);
}

static void on_event(struct loop_handler *h, unsigned ev)
{
    struct srv_conn *sc = (struct srv_conn *)((char *)h - offsetof(struct srv_conn, h));
    if (sc->h.fd < 0)
        return; /* closed earlier in this batch */
    if (sc->owner) {
        sc->on_event(sc->owner, sc, ev);
        return;
    }
    if (!srv_conn_idle_event_ok(sc, ev))
        srv_conn_close(sc);
}

bool srv_conn_idle_event_ok(struct srv_conn *sc, unsigned ev)
{
    /* Edge-triggered events can arrive late: the last IN edge of a response read to the end,
     * or an OUT edge, reach us after the connection went idle. Only a close, a reset or
     * unsolicited bytes make it unusable; a peek tells them apart without reading. */
    if (ev & (LOOP_HUP | LOOP_ERR))
        return false;
    char c;
    ssize_t n = recv(sc->h.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EINTR);
}

static void on_idle_timer(struct timer *t)
{
    struct srv_conn *sc = (struct srv_conn *)((char *)t - offsetof(struct srv_conn, tmr));
    srv_conn_close(sc);
}

static struct srv_conn *conn_open(struct worker *w, const struct sockaddr *addr, socklen_t len,
                                  struct server *sv, void *owner, srv_conn_event_fn fn, int *err)
{
    struct srv_conn *sc = calloc(1, sizeof(*sc));
    if (!sc) {
        *err = ENOMEM;
        return NULL;
    }
    int fd = sock_connect(addr, len);
    if (fd < 0) {
        *err = -fd;
        free(sc);
        return NULL;
    }
    sc->h.fd = sc->side.fd = fd;
    sc->h.fn = on_event;
    sc->side.lh = &sc->h; /* batched writes report completion to on_event, then the owner */
    sc->sv = sv;
    sc->nolinger = sv && sv->be->cfg->nolinger;
    sc->w = w;
    sc->owner = owner;
    sc->on_event = fn;
    sc->dfr.free_fn = sc_free;
    timer_init(&sc->tmr, on_idle_timer);
    int rc = loop_add(w->loop, &sc->h);
    if (rc < 0) {
        close(fd);
        free(sc);
        *err = -rc;
        return NULL;
    }
    return sc;
}

struct srv_conn *srv_conn_open(struct worker *w, struct server *sv, void *owner,
                               srv_conn_event_fn fn, int *err)
{
    return conn_open(w, (const struct sockaddr *)&sv->cfg->addr, sv->cfg->addrlen, sv, owner, fn,
                     err);
}

struct srv_conn *srv_conn_open_addr(struct worker *w, const struct sockaddr *addr, socklen_t len,
                                    const char *origin, size_t origin_len, void *owner,
                                    srv_conn_event_fn fn, int *err)
{
    char *key = strndup(origin, origin_len);
    if (!key) {
        *err = ENOMEM;
        return NULL;
    }
    struct srv_conn *sc = conn_open(w, addr, len, NULL, owner, fn, err);
    if (!sc) {
        free(key);
        return NULL;
    }
    sc->origin = key;
    sc->origin_hash = origin_hash(origin, origin_len);
    return sc;
}

struct srv_conn *pool_take_origin(struct worker *w, const char *origin, size_t origin_len,
                                  void *owner, srv_conn_event_fn fn)
{
    struct pool *p = pool_of(w);
    if (!p)
        return NULL;
    uint32_t hv = origin_hash(origin, origin_len);
    for (struct srv_conn *sc = p->origin_idle[hv % POOL_ORIGIN_BUCKETS]; sc; sc = sc->next) {
        if (sc->origin_hash == hv && strlen(sc->origin) == origin_len &&
            memcmp(sc->origin, origin, origin_len) == 0) {
            unlink_idle(sc);
            sc->owner = owner;
            sc->on_event = fn;
            sc->reuses++;
            return sc;
        }
    }
    return NULL;
}

struct srv_conn *pool_take(struct worker *w, struct server *sv, void *owner, srv_conn_event_fn fn)
{
    struct pool *p = pool_of(w);
    if (!p)
        return NULL;
    size_t i = server_slot(p, w, sv);
    struct srv_conn *sc = p->idle[i];
    if (!sc)
        return NULL;
    unlink_idle(sc);
    sc->owner = owner;
    sc->on_event = fn;
    sc->reuses++;
    return sc;
}

/* Whether the server has been silent since the end of the response it just sent. A server that
 * sent more than the response (bytes past its Content-Length, a second response nobody asked
 * for) or closed its side is out of step with us: pooled, its surplus would be read as the next
 * request's response, whichever client sent it, or the next request would go to a closed
 * connection. Events do not tell, because the bytes or the FIN may have come with the
 * response's last bytes, in an edge already consumed. `hup` says a FIN was seen; `readable`
 * is clear only when the last read found the socket empty, after which anything new brings an
 * edge that the idle handler (on_event) sees; otherwise one peek tells. */
bool srv_conn_is_quiet(struct srv_conn *sc)
{
    if (sc->side.hup)
        return false;
    if (!sc->side.readable)
        return true;
    char c;
    ssize_t n = recv(sc->h.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && errno == EAGAIN) {
        sc->side.readable = false;
        return true;
    }
    return false;
}

void pool_put(struct srv_conn *sc)
{
    struct pool *p = pool_of(sc->w);
    if (!p || sc->h.fd < 0 || !srv_conn_is_quiet(sc)) {
        srv_conn_close(sc);
        return;
    }
    struct srv_conn **head;
    if (sc->sv) {
        size_t i = server_slot(p, sc->w, sc->sv);
        if (p->count[i] >= POOL_MAX_IDLE_PER_SERVER) {
            srv_conn_close(sc);
            return;
        }
        head = &p->idle[i];
        p->count[i]++;
    } else {
        if (p->origin_count >= POOL_ORIGIN_MAX_IDLE) {
            srv_conn_close(sc);
            return;
        }
        head = &p->origin_idle[sc->origin_hash % POOL_ORIGIN_BUCKETS];
        p->origin_count++;
    }
    sc->owner = NULL;
    sc->next = *head;
    if (sc->next)
        sc->next->pprev = &sc->next;
    *head = sc;
    sc->pprev = head;
    timer_arm(&sc->w->tw, &sc->tmr, sc->w->now + POOL_IDLE_TIMEOUT_MS);
}

void pool_free_worker(struct worker *w)
{
    struct pool *p = w->proto;
    if (!p)
        return;
    for (size_t i = 0; i < p->nservers; i++) {
        while (p->idle[i]) {
            struct srv_conn *sc = p->idle[i];
            unlink_idle(sc);
            close(sc->h.fd);
            free(sc);
        }
    }
    for (size_t i = 0; i < POOL_ORIGIN_BUCKETS; i++) {
        while (p->origin_idle[i]) {
            struct srv_conn *sc = p->origin_idle[i];
            unlink_idle(sc);
            close(sc->h.fd);
            free(sc->origin);
            free(sc);
        }
    }
    free(p->idle);
    free(p->count);
    free(p->be_off);
    acl_worker_match_data_free(p->match_data);
    for (unsigned i = 0; i < p->ndns; i++)
        dns_resolver_free(p->dns[i].r);
    free(p);
    w->proto = NULL;
}
