/* A bounded single-producer single-consumer ring of 64-bit items (fd hand-offs), lock-free. */
#ifndef SLUICE_CORE_RING_H
#define SLUICE_CORE_RING_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* Head and tail live on their own cache lines: the producer writes only `tail`, the consumer only
 * `head`, so neither bounces the other's line except to read it. */
struct ring {
    alignas(64) _Atomic uint32_t head; /* next slot to read; written by the consumer */
    alignas(64) _Atomic uint32_t tail; /* next slot to write; written by the producer */
    alignas(64) uint32_t mask;         /* capacity - 1 */
    uint64_t *slot;                    /* owned, capacity entries */
};

/* Capacity is rounded up to a power of two. Returns 0 or -ENOMEM. */
int ring_init(struct ring *r, uint32_t capacity);
void ring_destroy(struct ring *r);

/* Producer only. Returns false when the ring is full. */
static inline bool ring_push(struct ring *r, uint64_t v)
{
    uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);
    if (t - h > r->mask)
        return false;
    r->slot[t & r->mask] = v;
    atomic_store_explicit(&r->tail, t + 1, memory_order_release);
    return true;
}

/* Index of the slot the next push fills (producer) / the next pop reads (consumer), so that a
 * caller can keep side data in a parallel array: written before the push, read before the pop. */
static inline uint32_t ring_tail_slot(struct ring *r)
{
    return atomic_load_explicit(&r->tail, memory_order_relaxed) & r->mask;
}

static inline uint32_t ring_head_slot(struct ring *r)
{
    return atomic_load_explicit(&r->head, memory_order_relaxed) & r->mask;
}

/* Consumer only: whether nothing is waiting (acquire: a false answer publishes the slot and
 * any side data written before its push). */
static inline bool ring_is_empty(struct ring *r)
{
    uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    return atomic_load_explicit(&r->tail, memory_order_acquire) == h;
}

/* Consumer only. Returns false when the ring is empty. */
static inline bool ring_pop(struct ring *r, uint64_t *v)
{
    uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint32_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (h == t)
        return false;
    *v = r->slot[h & r->mask];
    atomic_store_explicit(&r->head, h + 1, memory_order_release);
    return true;
}

#endif
