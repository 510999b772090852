/* `balance static-rr`: weighted round-robin over the configured weights, fixed at start.
 *
 * Each cursor precomputes, for each group (actives, backups), the smooth-WRR sequence of one full
 * cycle (sum of weights entries) and walks it: O(1) per pick when the next server is available.
 * A server that is down, full, avoided or has its weight set to 0 is skipped and the walk moves
 * on to the next entry. Each cursor starts at a seed-dependent position so that workers do not
 * all send their first connection to the same server. */
#include <errno.h>
#include <stdlib.h>

#include "balancer/lb_internal.h"

static int build_schedule(struct lb_cursor *c, bool backup)
{
    struct backend *be = c->be;
    uint64_t len = 0;
    for (size_t i = 0; i < be->nservers; i++)
        if (be->servers[i].cfg->backup == backup && be->servers[i].cfg->weight > 0)
            len += (uint64_t)be->servers[i].cfg->weight;
    int ix = backup ? 1 : 0;
    c->sched_len[ix] = (uint32_t)len;
    if (len == 0)
        return 0;
    c->sched[ix] = malloc(len * sizeof(uint16_t));
    int64_t *cw = calloc(be->nservers, sizeof(*cw));
    if (!c->sched[ix] || !cw) {
        free(cw);
        return -ENOMEM;
    }
    for (uint64_t k = 0; k < len; k++) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < be->nservers; i++) {
            const struct cfg_server *s = be->servers[i].cfg;
            if (s->backup != backup || s->weight <= 0)
                continue;
            cw[i] += s->weight;
            if (best == SIZE_MAX || cw[i] > cw[best])
                best = i;
        }
        cw[best] -= (int64_t)len;
        c->sched[ix][k] = (uint16_t)best;
    }
    free(cw);
    c->sched_pos[ix] = lb__rand_below(c, (uint32_t)len);
    return 0;
}

int lb__static_rr_init(struct lb_cursor *c)
{
    if (c->be->cfg->balance != CFG_LB_STATIC_RR)
        return 0;
    if (c->be->nservers >= UINT16_MAX)
        return -EINVAL;
    int rc = build_schedule(c, false);
    return rc < 0 ? rc : build_schedule(c, true);
}

struct server *lb__pick_static_rr(struct lb_cursor *c, const struct server *avoid)
{
    int ix = c->backup ? 1 : 0;
    uint32_t len = c->sched_len[ix], pos = c->sched_pos[ix];
    for (uint32_t k = 0; k < len; k++) {
        struct server *s = &c->be->servers[c->sched[ix][pos]];
        if (++pos == len)
            pos = 0;
        if (lb__eligible(s, c->backup, avoid)) {
            c->sched_pos[ix] = pos;
            return s;
        }
    }
    return NULL;
}
