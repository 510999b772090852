/* Server selection: the lb_pick entry point, group (active/backup) choice, cursors and hashing.
 *
 * lb_pick works in two steps. First the group: the active servers while any is usable (up with a
 * non-zero effective weight), else the backups. Backups then share the load by the backend's
 * algorithm (HAProxy's `option allbackups` behaviour; with one backup it is HAProxy's default).
 * The group is cached in the cursor and recomputed only when the backend's generation moves.
 * Then the algorithm picks among the group's servers that have a slot, never `avoid`; when it
 * finds none, `avoid` is taken if it is the only choice, else the result is LB_FULL when a
 * usable server is merely full and LB_NONE when none is usable. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "balancer/lb.h"
#include "balancer/lb_internal.h"

uint64_t lb__hash64(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ull ^ (seed * 0x9e3779b97f4a7c15ull);
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    h ^= (uint64_t)len;
    /* murmur3 fmix64: every input bit affects every output bit */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

uint32_t lb_hash_bytes(const void *data, size_t len)
{
    uint64_t h = lb__hash64(data, len, 0);
    return (uint32_t)(h ^ (h >> 32));
}

struct lb_cursor *lb_cursor_new(struct backend *be, uint64_t seed)
{
    struct lb_cursor *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    size_t n = be->nservers ? be->nservers : 1;
    c->be = be;
    c->gen = UINT64_MAX;
    c->rng = seed;
    c->next = (unsigned)(lb__rand(c) % n);
    c->cw = calloc(n, sizeof(*c->cw));
    c->rnd_idx = calloc(n, sizeof(*c->rnd_idx));
    c->rnd_cum = calloc(n, sizeof(*c->rnd_cum));
    if (!c->cw || !c->rnd_idx || !c->rnd_cum || lb__static_rr_init(c) < 0) {
        lb_cursor_free(c);
        return NULL;
    }
    return c;
}

void lb_cursor_free(struct lb_cursor *c)
{
    if (!c)
        return;
    free(c->cw);
    free(c->sched[0]);
    free(c->sched[1]);
    free(c->rnd_idx);
    free(c->rnd_cum);
    free(c);
}

/* Recompute the group and the weight-derived caches after a generation change. */
static void cursor_refresh(struct lb_cursor *c, uint64_t gen)
{
    const struct backend *be = c->be;
    unsigned active = 0, backup = 0;
    for (size_t i = 0; i < be->nservers; i++) {
        const struct server *s = &be->servers[i];
        if (lb__usable(s)) {
            if (s->cfg->backup)
                backup++;
            else
                active++;
        }
    }
    c->backup = active == 0 && backup > 0;
    c->nusable = c->backup ? backup : active;
    c->gen = gen;
    if (be->cfg->balance == CFG_LB_RANDOM)
        lb__random_refresh(c);
}

enum lb_result lb_pick(struct backend *be, struct lb_cursor *c, uint32_t hash,
                       const struct server *avoid, struct server **out)
{
    uint64_t gen = atomic_load_explicit(&be->gen, memory_order_acquire);
    if (gen != c->gen)
        cursor_refresh(c, gen);
    if (c->nusable == 0)
        return LB_NONE;

    struct server *s;
    switch (be->cfg->balance) {
    case CFG_LB_STATIC_RR:
        s = lb__pick_static_rr(c, avoid);
        break;
    case CFG_LB_LEASTCONN:
        s = lb__pick_leastconn(c, avoid);
        break;
    case CFG_LB_FIRST:
        s = lb__pick_first(c, avoid);
        break;
    case CFG_LB_SOURCE:
    case CFG_LB_URI:
    case CFG_LB_URL_PARAM:
    case CFG_LB_HDR:
        s = lb__pick_source(c, hash, avoid);
        break;
    case CFG_LB_RANDOM:
        s = lb__pick_random(c, avoid);
        break;
    case CFG_LB_ROUNDROBIN:
    default:
        s = lb__pick_roundrobin(c, avoid);
        break;
    }
    if (s) {
        *out = s;
        return LB_OK;
    }
    if (avoid && avoid->be == be && lb__eligible(avoid, c->backup, NULL)) {
        *out = (struct server *)avoid;
        return LB_OK;
    }
    /* Nothing with a slot. States may have moved since the cache: look again at the group. */
    for (size_t i = 0; i < be->nservers; i++) {
        const struct server *t = &be->servers[i];
        if (t->cfg->backup == c->backup && lb__usable(t))
            return LB_FULL;
    }
    return LB_NONE;
}
