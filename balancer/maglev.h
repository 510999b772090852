/* Maglev consistent hashing (Eisenbud et al., NSDI 2016): a lookup table of servers. */
#ifndef SLUICE_BALANCER_MAGLEV_H
#define SLUICE_BALANCER_MAGLEV_H

#include <stdint.h>

#include "balancer/server.h"

/* Table size: a prime well above 100 x the server count keeps the spread within ~1%. */
#define MAGLEV_SIZE_DEFAULT 65537u

struct maglev_table {
    uint32_t size;     /* prime */
    uint32_t nservers; /* servers in the table (usable ones); 0: table empty */
    uint32_t ninput;   /* servers passed to maglev_build (usable or not) */
    /* The weight each input server was built with, 0 when it is not in the table; ninput entries
     * inside this allocation. Lets the rebuilder tell whether anything changed. */
    const int *built_weight;
    uint16_t entry[]; /* server index in backend->servers, size entries */
};

/* Build a table over the servers for which usable[i] is true, weighted by weight[i] (servers with
 * weight <= 0 are left out). Slots are filled in proportion to weight; a server's preference list
 * depends only on its name, so removing one of N servers remaps about 1/N of keys and the same
 * input always gives the same table. size must be a prime (0: MAGLEV_SIZE_DEFAULT), nservers
 * below 65536. Returns NULL on ENOMEM or bad arguments. Any thread; touches no shared state. */
struct maglev_table *maglev_build(const struct server *servers, const int *weight,
                                  const bool *usable, uint32_t nservers, uint32_t size);
/* Free a table; accepts NULL. Only once no reader can see it (see core/epoch.h). */
void maglev_free(struct maglev_table *t);

/* Server index for a key hash; table must have nservers > 0. */
static inline uint32_t maglev_lookup(const struct maglev_table *t, uint32_t hash)
{
    return t->entry[hash % t->size];
}

#endif
