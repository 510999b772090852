/* Servers and backends at run time: built from the config, state shared through atomics. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "balancer/lb_internal.h"
#include "balancer/maglev.h"
#include "balancer/server.h"
#include "core/clock.h"

/* Zeroed memory aligned for the alignas(64) groups of struct server / struct backend. */
static void *alloc_aligned(size_t n, size_t elem)
{
    if (n == 0)
        return NULL;
    void *p = aligned_alloc(64, n * elem); /* elem is a multiple of 64: sizeof of an aligned type */
    if (p)
        memset(p, 0, n * elem);
    return p;
}

static int backend_init(struct backend *be, const struct cfg_proxy *p)
{
    be->cfg = p;
    be->nservers = p->nservers;
    atomic_init(&be->maglev, NULL);
    atomic_init(&be->gen, 0);
    atomic_init(&be->queued, 0);
    if (p->nservers == 0)
        return 0;
    be->servers = alloc_aligned(p->nservers, sizeof(struct server));
    if (!be->servers)
        return -ENOMEM;
    uint64_t now = clock_mono_ms();
    for (size_t i = 0; i < p->nservers; i++) {
        struct server *s = &be->servers[i];
        s->cfg = &p->servers[i];
        s->be = be;
        s->idx = (unsigned)i;
        atomic_init(&s->state, s->cfg->disabled ? SRV_ST_MAINT : SRV_ST_UP);
        atomic_init(&s->eweight, s->cfg->weight);
        atomic_init(&s->uweight, s->cfg->weight);
        atomic_init(&s->admin, s->cfg->disabled ? SRV_ADMF_CMAINT : 0);
        atomic_init(&s->last_change_ms, now);
        atomic_init(&s->cur_conns, 0);
        atomic_init(&s->total_conns, 0);
    }
    if (backend_uses_maglev(be) && lb__maglev_refresh(be, true) < 0)
        return -ENOMEM;
    return 0;
}

struct balancer *balancer_new(const struct config *cfg)
{
    struct balancer *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < cfg->nproxies; i++)
        if (cfg->proxies[i].caps & CFG_CAP_BE)
            n++;
    if (n > 0) {
        b->backends = alloc_aligned(n, sizeof(struct backend));
        if (!b->backends) {
            free(b);
            return NULL;
        }
    }
    for (size_t i = 0; i < cfg->nproxies; i++) {
        if (!(cfg->proxies[i].caps & CFG_CAP_BE))
            continue;
        /* count before init so that balancer_free releases a half-built backend too */
        struct backend *be = &b->backends[b->nbackends++];
        if (backend_init(be, &cfg->proxies[i]) < 0) {
            balancer_free(b);
            return NULL;
        }
    }
    return b;
}

void balancer_free(struct balancer *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->nbackends; i++) {
        struct backend *be = &b->backends[i];
        /* no reader is left: the current table goes directly; retired ones belong to epoch */
        maglev_free(atomic_load_explicit(&be->maglev, memory_order_relaxed));
        free(be->servers);
    }
    free(b->backends);
    free(b);
}

struct backend *balancer_find(const struct balancer *b, const struct cfg_proxy *p)
{
    for (size_t i = 0; i < b->nbackends; i++)
        if (b->backends[i].cfg == p)
            return &b->backends[i];
    return NULL;
}

/* The state went from old to st: statistics, change time, generation. */
static void state_changed(struct server *s, int old, enum srv_state st)
{
    uint64_t now = clock_mono_ms();
    if (old == SRV_ST_DOWN && st != SRV_ST_DOWN) /* statistics: accumulate the time spent DOWN */
        atomic_fetch_add_explicit(
            &s->down_ms, now - atomic_load_explicit(&s->last_change_ms, memory_order_relaxed),
            memory_order_relaxed);
    if (old == SRV_ST_UP && st == SRV_ST_DOWN)
        atomic_fetch_add_explicit(&s->chk_down, 1, memory_order_relaxed);
    atomic_store_explicit(&s->last_change_ms, now, memory_order_relaxed);
    /* release: a worker that sees the new generation also sees the state above */
    atomic_fetch_add_explicit(&s->be->gen, 1, memory_order_release);
}

void server_set_state(struct server *s, enum srv_state st)
{
    int old = atomic_exchange_explicit(&s->state, (int)st, memory_order_relaxed);
    state_changed(s, old, st);
}

bool server_change_state(struct server *s, enum srv_state from, enum srv_state to)
{
    int expect = (int)from;
    if (!atomic_compare_exchange_strong_explicit(&s->state, &expect, (int)to, memory_order_relaxed,
                                                 memory_order_relaxed))
        return false;
    state_changed(s, (int)from, to);
    return true;
}

void server_set_weight(struct server *s, int eweight)
{
    if (eweight < 0)
        eweight = 0;
    if (atomic_load_explicit(&s->eweight, memory_order_relaxed) == eweight)
        return;
    atomic_store_explicit(&s->eweight, eweight, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->be->gen, 1, memory_order_release);
}

bool server_has_slot(const struct server *s)
{
    if (!server_is_up(s))
        return false;
    int max = s->cfg->maxconn;
    return max == 0 || atomic_load_explicit(&s->cur_conns, memory_order_relaxed) < max;
}

void server_conn_opened(struct server *s)
{
    atomic_fetch_add_explicit(&s->cur_conns, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->total_conns, 1, memory_order_relaxed);
}

bool server_take_slot(struct server *s)
{
    int max = s->cfg->maxconn;
    if (max == 0) {
        server_conn_opened(s);
        return true;
    }
    /* Workers pick concurrently: only a compare-and-swap keeps cur_conns <= maxconn. */
    int cur = atomic_load_explicit(&s->cur_conns, memory_order_relaxed);
    do {
        if (cur >= max)
            return false;
    } while (!atomic_compare_exchange_weak_explicit(&s->cur_conns, &cur, cur + 1,
                                                    memory_order_relaxed, memory_order_relaxed));
    atomic_fetch_add_explicit(&s->total_conns, 1, memory_order_relaxed);
    return true;
}

void server_conn_closed(struct server *s)
{
    atomic_fetch_sub_explicit(&s->cur_conns, 1, memory_order_relaxed);
}

const char *srv_check_name(enum srv_check c)
{
    static const char *const names[] = {"INI",  "L4OK",  "L4CON", "L4TOUT",
                                        "L7OK", "L7STS", "L7RSP", "L7TOUT"};
    return (unsigned)c < sizeof(names) / sizeof(names[0]) ? names[c] : "UNK";
}

uint64_t server_downtime_ms(const struct server *s, uint64_t now_ms)
{
    uint64_t d = atomic_load_explicit(&s->down_ms, memory_order_relaxed);
    if (atomic_load_explicit(&s->state, memory_order_relaxed) == SRV_ST_DOWN) {
        uint64_t since = atomic_load_explicit(&s->last_change_ms, memory_order_relaxed);
        if (now_ms > since)
            d += now_ms - since;
    }
    return d;
}
