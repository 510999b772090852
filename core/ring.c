/* SPSC ring allocation; the push/pop fast paths are inline in ring.h. */
#include "core/ring.h"

#include <errno.h>
#include <stdlib.h>

int ring_init(struct ring *r, uint32_t capacity)
{
    uint32_t cap = 2;
    while (cap < capacity && cap < (1u << 30))
        cap <<= 1;
    r->slot = calloc(cap, sizeof(*r->slot));
    if (!r->slot)
        return -ENOMEM;
    r->mask = cap - 1;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    return 0;
}

void ring_destroy(struct ring *r)
{
    if (!r)
        return;
    free(r->slot);
    r->slot = NULL;
}
