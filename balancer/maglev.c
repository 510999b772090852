/* Maglev lookup tables: build one over the usable servers of a backend, weighted.
 *
 * Each server walks its own permutation of the table's slots, (offset + j * skip) mod size, with
 * offset and skip derived from two hashes of its name (not its position or address), and servers
 * take turns claiming the next free slot of their permutation until the table is full. A server
 * of weight w takes a turn on the rounds where the ratio w / max weight says so (Envoy's weighted
 * variant), so slot counts are proportional to weights. Removing a server frees only its slots
 * plus a little churn where others' turns shift: about 1/N of keys move.
 *
 * Built by the health thread off to the side; readers only ever see a finished table. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "balancer/lb_internal.h"
#include "balancer/maglev.h"

#define MAGLEV_EMPTY 0xffffu

struct maglev_perm {
    uint32_t idx;    /* server index */
    uint64_t offset; /* first slot */
    uint64_t skip;   /* step, 1..size-1 (coprime with the prime size) */
    uint64_t next;   /* next position in the permutation */
    uint64_t target; /* turn threshold, see file comment */
    uint64_t weight;
};

static bool is_prime(uint32_t n)
{
    if (n < 2)
        return false;
    for (uint32_t d = 2; (uint64_t)d * d <= n; d++)
        if (n % d == 0)
            return false;
    return true;
}

struct maglev_table *maglev_build(const struct server *servers, const int *weight,
                                  const bool *usable, uint32_t nservers, uint32_t size)
{
    if (size == 0)
        size = MAGLEV_SIZE_DEFAULT;
    if (nservers >= MAGLEV_EMPTY || !is_prime(size))
        return NULL;

    size_t entries = sizeof(uint16_t) * size;
    size_t wofs = (sizeof(struct maglev_table) + entries + sizeof(int) - 1) / sizeof(int);
    struct maglev_table *t = malloc(wofs * sizeof(int) + sizeof(int) * nservers);
    struct maglev_perm *p = calloc(nservers ? nservers : 1, sizeof(*p));
    if (!t || !p) {
        free(t);
        free(p);
        return NULL;
    }
    int *built = (int *)t + wofs;
    t->size = size;
    t->ninput = nservers;
    t->built_weight = built;
    memset(t->entry, 0xff, entries);

    uint32_t n = 0;
    uint64_t max_w = 0;
    for (uint32_t i = 0; i < nservers; i++) {
        built[i] = 0;
        if (!usable[i] || weight[i] <= 0)
            continue;
        built[i] = weight[i];
        const char *name = servers[i].cfg->name;
        size_t len = strlen(name);
        p[n].idx = i;
        p[n].offset = lb__hash64(name, len, 0x6d61676c65763031ull) % size;
        p[n].skip = lb__hash64(name, len, 0x6d61676c65763032ull) % (size - 1) + 1;
        p[n].weight = (uint64_t)weight[i];
        if (p[n].weight > max_w)
            max_w = p[n].weight;
        n++;
    }
    t->nservers = n;

    uint32_t filled = 0;
    for (uint64_t round = 1; n > 0 && filled < size; round++) {
        for (uint32_t k = 0; k < n && filled < size; k++) {
            struct maglev_perm *e = &p[k];
            if (round * e->weight < e->target)
                continue;
            e->target += max_w;
            uint64_t pos = (e->offset + e->next * e->skip) % size;
            while (t->entry[pos] != MAGLEV_EMPTY) {
                e->next++;
                pos = (e->offset + e->next * e->skip) % size;
            }
            t->entry[pos] = (uint16_t)e->idx;
            e->next++;
            filled++;
        }
    }
    free(p);
    return t;
}

void maglev_free(struct maglev_table *t)
{
    free(t);
}
