/* `balance roundrobin`: smooth weighted round-robin (nginx's), over effective weights read at
 * every pick, so slowstart ramps and weight changes take effect immediately.
 *
 * Every pick adds each candidate's weight to its current weight, takes the candidate with the
 * largest current weight (the first one on a tie) and subtracts the total from it: weights 5,1,1
 * give a a b a c a a. Candidates that are down, full or avoided are skipped without changing
 * their current weight. The current weights are per worker (in the cursor), so workers do not
 * share a cache line; each worker's sequence is smooth and their union is weight-proportional. */
#include "balancer/lb_internal.h"

struct server *lb__pick_roundrobin(struct lb_cursor *c, const struct server *avoid)
{
    struct backend *be = c->be;
    struct server *best = NULL;
    int64_t total = 0;
    for (size_t i = 0; i < be->nservers; i++) {
        struct server *s = &be->servers[i];
        if (s == avoid || s->cfg->backup != c->backup || !server_has_slot(s))
            continue;
        int w = atomic_load_explicit(&s->eweight, memory_order_relaxed);
        if (w <= 0)
            continue;
        c->cw[i] += w;
        total += w;
        if (!best || c->cw[i] > c->cw[best->idx])
            best = s;
    }
    if (best)
        c->cw[best->idx] -= total;
    return best;
}
