/* Quiescent-state based reclamation. Each reader (worker) has a counter that is odd while it is
 * inside an event batch. A retired pointer records every reader's counter at retire time; it can
 * be freed once each reader was either outside a batch then (even) or has moved on since. Readers
 * pay one atomic increment per batch, never per request. */
#include "core/epoch.h"

#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct reader {
    alignas(64) _Atomic uint64_t ctr;
};

struct retired {
    void *p;
    epoch_free_fn fn;
    struct retired *next;
    uint64_t snap[]; /* one counter per reader */
};

static struct reader *readers;
static unsigned nreaders;
static struct retired *retired_list;
static pthread_mutex_t retired_lock = PTHREAD_MUTEX_INITIALIZER; /* writers only, never workers */

int epoch_init(unsigned n)
{
    readers = aligned_alloc(64, sizeof(*readers) * (n ? n : 1));
    if (!readers)
        return -ENOMEM;
    for (unsigned i = 0; i < n; i++)
        atomic_init(&readers[i].ctr, 0);
    nreaders = n;
    return 0;
}

void epoch_enter(unsigned id)
{
    /* seq_cst: the counter store must be visible before this reader loads any shared pointer. */
    atomic_fetch_add_explicit(&readers[id].ctr, 1, memory_order_seq_cst);
}

void epoch_leave(unsigned id)
{
    atomic_fetch_add_explicit(&readers[id].ctr, 1, memory_order_release);
}

void epoch_retire(void *p, epoch_free_fn fn)
{
    if (!p)
        return;
    struct retired *r = malloc(sizeof(*r) + nreaders * sizeof(uint64_t));
    /* Pairs with the readers' seq_cst increment: whoever swapped the pointer out did so before
     * this fence, so a reader whose counter we see even cannot hold the old pointer. */
    atomic_thread_fence(memory_order_seq_cst);
    if (!r) {
        /* Out of memory: leaking the table is safer than freeing it under a reader. */
        return;
    }
    r->p = p;
    r->fn = fn;
    for (unsigned i = 0; i < nreaders; i++)
        r->snap[i] = atomic_load_explicit(&readers[i].ctr, memory_order_acquire);
    pthread_mutex_lock(&retired_lock);
    r->next = retired_list;
    retired_list = r;
    pthread_mutex_unlock(&retired_lock);
}

static int is_safe(const struct retired *r)
{
    for (unsigned i = 0; i < nreaders; i++) {
        if ((r->snap[i] & 1) == 0)
            continue;
        if (atomic_load_explicit(&readers[i].ctr, memory_order_acquire) == r->snap[i])
            return 0;
    }
    return 1;
}

void epoch_reclaim(void)
{
    pthread_mutex_lock(&retired_lock);
    struct retired **pp = &retired_list;
    while (*pp) {
        struct retired *r = *pp;
        if (is_safe(r)) {
            *pp = r->next;
            r->fn(r->p);
            free(r);
        } else {
            pp = &r->next;
        }
    }
    pthread_mutex_unlock(&retired_lock);
}

void epoch_shutdown(void)
{
    pthread_mutex_lock(&retired_lock);
    while (retired_list) {
        struct retired *r = retired_list;
        retired_list = r->next;
        r->fn(r->p);
        free(r);
    }
    pthread_mutex_unlock(&retired_lock);
    free(readers);
    readers = NULL;
    nreaders = 0;
}
