/* Shared between the files of balancer/: the cursor layout and the per-algorithm pick functions. */
#ifndef SLUICE_BALANCER_LB_INTERNAL_H
#define SLUICE_BALANCER_LB_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "balancer/lb.h"
#include "balancer/server.h"

/* One worker's selection state for one backend. Single writer (that worker): plain fields.
 *
 * The "group" is the set of servers a pick chooses from: the active servers while any of them is
 * usable (up with an effective weight), else the backup servers. It and the caches derived from
 * weights are recomputed when the backend's generation moves (every state or weight change bumps
 * it with release; lb_pick loads it with acquire once per pick). */
struct lb_cursor {
    struct backend *be; /* borrowed */
    uint64_t gen;       /* generation the caches were computed for; UINT64_MAX: never */
    bool backup;        /* group in use: backups (true) or actives */
    unsigned nusable;   /* usable servers in that group at `gen` */
    uint64_t rng;       /* splitmix64 state */

    int64_t *cw;   /* roundrobin: smooth-WRR current weight per server (owned, nservers) */
    unsigned next; /* leastconn: where the tie-breaking scan starts */

    /* static-rr: a smooth-WRR schedule over configured weights for each group (owned) */
    uint16_t *sched[2];
    uint32_t sched_len[2];
    uint32_t sched_pos[2];

    /* random: cumulative effective weights of the usable servers of the group at `gen` */
    uint16_t *rnd_idx; /* owned, nservers */
    uint32_t *rnd_cum; /* owned, nservers; rnd_cum[k] = sum of weights of rnd_idx[0..k] */
    unsigned rnd_n;
    uint32_t rnd_total;
};

/* Up with a non-zero effective weight: may take traffic when it has a slot. */
static inline bool lb__usable(const struct server *s)
{
    return atomic_load_explicit(&s->state, memory_order_relaxed) == SRV_ST_UP &&
           atomic_load_explicit(&s->eweight, memory_order_relaxed) > 0;
}

/* A candidate for this pick: in the group, usable, with a free slot, and not `avoid`. */
static inline bool lb__eligible(const struct server *s, bool backup, const struct server *avoid)
{
    return s != avoid && s->cfg->backup == backup && lb__usable(s) && server_has_slot(s);
}

static inline uint64_t lb__rand(struct lb_cursor *c)
{
    uint64_t z = (c->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) (Lemire's multiply-shift; bias below 2^-32 for n < 2^32). */
static inline uint32_t lb__rand_below(struct lb_cursor *c, uint32_t n)
{
    return (uint32_t)(((lb__rand(c) >> 32) * (uint64_t)n) >> 32);
}

/* The algorithms. Each returns an eligible server of group c->backup, or NULL when none is
 * (lb_pick then decides between `avoid`, LB_FULL and LB_NONE). Worker thread only. */
struct server *lb__pick_roundrobin(struct lb_cursor *c, const struct server *avoid);
struct server *lb__pick_static_rr(struct lb_cursor *c, const struct server *avoid);
struct server *lb__pick_leastconn(struct lb_cursor *c, const struct server *avoid);
struct server *lb__pick_first(struct lb_cursor *c, const struct server *avoid);
struct server *lb__pick_source(struct lb_cursor *c, uint32_t hash, const struct server *avoid);
struct server *lb__pick_random(struct lb_cursor *c, const struct server *avoid);

/* Set-up of the algorithm caches, called by lb_cursor_new (0 or -ENOMEM) and when the generation
 * moves (random's cumulative weights). */
int lb__static_rr_init(struct lb_cursor *c);
void lb__random_refresh(struct lb_cursor *c);

/* A 64-bit seeded hash of bytes (FNV-1a folded through the murmur3 finalizer). */
uint64_t lb__hash64(const void *data, size_t len, uint64_t seed);

/* Rebuild be's Maglev table when the usable set or weights differ from the last table's, and
 * publish it (release); the old one goes to epoch_retire(). Returns 1 if a table was published,
 * 0 if nothing changed, -ENOMEM. `force` rebuilds even when nothing changed. Health thread, or
 * main while no health thread runs. */
int lb__maglev_refresh(struct backend *be, bool force);

#endif
