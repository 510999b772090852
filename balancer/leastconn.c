/* `balance leastconn`: the server with the fewest live connections relative to its effective
 * weight, i.e. the smallest (cur_conns + 1) / eweight: the +1 makes a heavier server win among
 * idle ones. Ties rotate: the scan starts just after the previous pick and keeps the first
 * minimum, so equally loaded servers take turns. O(servers) per pick with relaxed loads of each
 * server's counter (on its own cache line). */
#include "balancer/lb_internal.h"

struct server *lb__pick_leastconn(struct lb_cursor *c, const struct server *avoid)
{
    struct backend *be = c->be;
    size_t n = be->nservers;
    struct server *best = NULL;
    uint64_t best_load = 0, best_w = 1;
    size_t i = c->next < n ? c->next : 0;
    for (size_t k = 0; k < n; k++, i = (i + 1 == n) ? 0 : i + 1) {
        struct server *s = &be->servers[i];
        if (s == avoid || s->cfg->backup != c->backup || !server_has_slot(s))
            continue;
        int w = atomic_load_explicit(&s->eweight, memory_order_relaxed);
        int conns = atomic_load_explicit(&s->cur_conns, memory_order_relaxed);
        if (w <= 0)
            continue;
        uint64_t load = (uint64_t)(conns < 0 ? 0 : conns) + 1;
        /* load / w < best_load / best_w, without division */
        if (!best || load * best_w < best_load * (uint64_t)w) {
            best = s;
            best_load = load;
            best_w = (uint64_t)w;
        }
    }
    if (best)
        c->next = best->idx + 1;
    return best;
}
