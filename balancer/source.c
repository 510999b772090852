/* `balance source`: the client-address hash looked up in the backend's Maglev table.
 *
 * The table covers the usable servers of the group in use (actives while any is up, else
 * backups), weighted by effective weight, and is rebuilt by the health thread when that set or
 * a weight changes. Between a state change and the rebuild, or when the looked-up server is full
 * or avoided, the pick falls back deterministically: it probes the next table entries (which are
 * spread over the other servers in proportion to their weights) and, failing that, scans the
 * servers from a hash-derived position. The same key and state always give the same server. */
#include <errno.h>
#include <stdlib.h>

#include "balancer/lb_internal.h"
#include "balancer/maglev.h"
#include "core/epoch.h"

/* table entries tried after the looked-up one before scanning the servers */
#define SOURCE_PROBES 32u

struct server *lb__pick_source(struct lb_cursor *c, uint32_t hash, const struct server *avoid)
{
    struct backend *be = c->be;
    const struct maglev_table *t = atomic_load_explicit(&be->maglev, memory_order_acquire);
    if (t && t->nservers > 0) {
        uint32_t slot = hash % t->size;
        for (uint32_t k = 0; k <= SOURCE_PROBES; k++) {
            uint32_t idx = t->entry[slot];
            if (idx < be->nservers && lb__eligible(&be->servers[idx], c->backup, avoid))
                return &be->servers[idx];
            if (++slot == t->size)
                slot = 0;
        }
    }
    size_t n = be->nservers;
    if (n == 0)
        return NULL;
    for (size_t k = 0, i = hash % n; k < n; k++, i = (i + 1 == n) ? 0 : i + 1)
        if (lb__eligible(&be->servers[i], c->backup, avoid))
            return &be->servers[i];
    return NULL;
}

static void maglev_free_any(void *p)
{
    maglev_free(p);
}

int lb__maglev_refresh(struct backend *be, bool force)
{
    size_t n = be->nservers;
    bool backup = true;
    for (size_t i = 0; i < n; i++)
        if (!be->servers[i].cfg->backup && lb__usable(&be->servers[i]))
            backup = false;

    bool *usable = calloc(n ? n : 1, sizeof(*usable));
    int *weight = calloc(n ? n : 1, sizeof(*weight));
    if (!usable || !weight) {
        free(usable);
        free(weight);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const struct server *s = &be->servers[i];
        weight[i] = atomic_load_explicit(&s->eweight, memory_order_relaxed);
        usable[i] = s->cfg->backup == backup && lb__usable(s) && weight[i] > 0;
    }

    /* the only writer of be->maglev is this thread: a relaxed load sees its own last store */
    struct maglev_table *old = atomic_load_explicit(&be->maglev, memory_order_relaxed);
    bool same = !force && old && old->ninput == n;
    for (size_t i = 0; same && i < n; i++)
        same = old->built_weight[i] == (usable[i] ? weight[i] : 0);
    int rc = 0;
    if (!same) {
        struct maglev_table *t =
            maglev_build(be->servers, weight, usable, (uint32_t)n, MAGLEV_SIZE_DEFAULT);
        if (!t) {
            rc = -ENOMEM;
        } else {
            atomic_store_explicit(&be->maglev, t, memory_order_release);
            if (old)
                epoch_retire(old, maglev_free_any);
            rc = 1;
        }
    }
    free(usable);
    free(weight);
    return rc;
}
