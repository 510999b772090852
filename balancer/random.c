/* `balance random`: power of two choices (HAProxy's random(2)). Two servers are drawn at random
 * in proportion to their effective weights and the less loaded one is kept, load being live
 * connections relative to weight (cur_conns / eweight, compared by cross-multiplication); on a
 * tie the first draw wins, so with no connections the choice is exactly weight-proportional.
 *
 * The cumulative weights of the group's usable servers are cached per worker and rebuilt when the
 * backend's generation moves; a draw is a binary search. A draw that lands on a full or avoided
 * server is redrawn a few times before falling back to a scan for the least loaded candidate. */
#include "balancer/lb_internal.h"

#define RANDOM_REDRAWS 4

void lb__random_refresh(struct lb_cursor *c)
{
    struct backend *be = c->be;
    uint32_t total = 0;
    unsigned n = 0;
    for (size_t i = 0; i < be->nservers; i++) {
        const struct server *s = &be->servers[i];
        int w = atomic_load_explicit(&s->eweight, memory_order_relaxed);
        if (s->cfg->backup != c->backup || !lb__usable(s) || w <= 0)
            continue;
        total += (uint32_t)w;
        c->rnd_idx[n] = (uint16_t)i;
        c->rnd_cum[n] = total;
        n++;
    }
    c->rnd_n = n;
    c->rnd_total = total;
}

static struct server *draw(struct lb_cursor *c, const struct server *avoid)
{
    for (int tries = 0; tries < RANDOM_REDRAWS; tries++) {
        uint32_t r = lb__rand_below(c, c->rnd_total);
        unsigned lo = 0, hi = c->rnd_n - 1; /* first k with cum[k] > r */
        while (lo < hi) {
            unsigned mid = lo + (hi - lo) / 2;
            if (c->rnd_cum[mid] > r)
                hi = mid;
            else
                lo = mid + 1;
        }
        struct server *s = &c->be->servers[c->rnd_idx[lo]];
        if (lb__eligible(s, c->backup, avoid))
            return s;
    }
    return NULL;
}

/* a is strictly more loaded than b, relative to weights */
static bool more_loaded(const struct server *a, const struct server *b)
{
    int ca = atomic_load_explicit(&a->cur_conns, memory_order_relaxed);
    int cb = atomic_load_explicit(&b->cur_conns, memory_order_relaxed);
    int wa = atomic_load_explicit(&a->eweight, memory_order_relaxed);
    int wb = atomic_load_explicit(&b->eweight, memory_order_relaxed);
    return (uint64_t)(ca < 0 ? 0 : ca) * (uint64_t)(wb < 0 ? 0 : wb) >
           (uint64_t)(cb < 0 ? 0 : cb) * (uint64_t)(wa < 0 ? 0 : wa);
}

struct server *lb__pick_random(struct lb_cursor *c, const struct server *avoid)
{
    struct server *a = NULL, *b = NULL;
    if (c->rnd_n > 0 && c->rnd_total > 0) {
        a = draw(c, avoid);
        b = draw(c, avoid);
    }
    if (a && b)
        return more_loaded(a, b) ? b : a;
    if (a || b)
        return a ? a : b;
    struct server *best = NULL;
    for (size_t i = 0; i < c->be->nservers; i++) {
        struct server *s = &c->be->servers[i];
        if (lb__eligible(s, c->backup, avoid) && (!best || more_loaded(best, s)))
            best = s;
    }
    return best;
}
