/* Pool of idle server connections, one per worker, a LIFO list per server: the most recently
 * used connection is the least likely to have been closed by the server. No locks: a worker only
 * reuses its own connections. An idle connection stays registered in epoll, so a server that
 * closes it is noticed at once and the connection leaves the pool. */
#include "net/http/pool.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/log.h"
#include "net/http/acl.h"
#include "net/sock.h"

struct pool {
    struct srv_conn **idle; /* per global server index */
    unsigned *count;
    size_t *be_off; /* first global server index of each backend */
    size_t nservers;
    void *match_data; /* owned pcre2 match data for ACL regexes */
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

void *pool_match_data(struct worker *w)
{
    struct pool *p = pool_of(w);
    return p ? p->match_data : NULL;
}

static size_t server_slot(struct pool *p, struct worker *w, const struct server *sv)
{
    size_t bi = (size_t)(sv->be - w->rt->bal->backends);
    return p->be_off[bi] + sv->idx;
}

static void sc_free(struct deferred *d)
{
    free((char *)d - offsetof(struct srv_conn, dfr));
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
    p->count[server_slot(p, sc->w, sc->sv)]--;
    timer_disarm(&sc->w->tw, &sc->tmr);
}

void srv_conn_close(struct srv_conn *sc)
{
    if (!sc)
        return;
    unlink_idle(sc);
    timer_disarm(&sc->w->tw, &sc->tmr);
    if (sc->h.fd >= 0)
        close(sc->h.fd);
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
    /* Idle: the server closed it, reset it, or sent bytes nobody asked for. */
    srv_conn_close(sc);
}

static void on_idle_timer(struct timer *t)
{
    struct srv_conn *sc = (struct srv_conn *)((char *)t - offsetof(struct srv_conn, tmr));
    srv_conn_close(sc);
}

struct srv_conn *srv_conn_open(struct worker *w, struct server *sv, void *owner,
                               srv_conn_event_fn fn, int *err)
{
    struct srv_conn *sc = calloc(1, sizeof(*sc));
    if (!sc) {
        *err = ENOMEM;
        return NULL;
    }
    int fd = sock_connect((const struct sockaddr *)&sv->cfg->addr, sv->cfg->addrlen);
    if (fd < 0) {
        *err = -fd;
        free(sc);
        return NULL;
    }
    sc->h.fd = sc->side.fd = fd;
    sc->h.fn = on_event;
    sc->sv = sv;
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

void pool_put(struct srv_conn *sc)
{
    struct pool *p = pool_of(sc->w);
    size_t i = p ? server_slot(p, sc->w, sc->sv) : 0;
    if (!p || p->count[i] >= POOL_MAX_IDLE_PER_SERVER || sc->h.fd < 0) {
        srv_conn_close(sc);
        return;
    }
    sc->owner = NULL;
    sc->next = p->idle[i];
    if (sc->next)
        sc->next->pprev = &sc->next;
    p->idle[i] = sc;
    sc->pprev = &p->idle[i];
    p->count[i]++;
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
    free(p->idle);
    free(p->count);
    free(p->be_off);
    acl_worker_match_data_free(p->match_data);
    free(p);
    w->proto = NULL;
}
