/* A hashed timer wheel: O(1) arm/disarm, one pass per tick, no syscall per timer. */
#ifndef SLUICE_CORE_TIMER_H
#define SLUICE_CORE_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TW_SHIFT 3u    /* one tick = 8 ms: coarser than the coarse clock is pointless */
#define TW_SLOTS 4096u /* one revolution = 32.8 s; later timers wait for their round */

struct timer;
typedef void (*timer_fn)(struct timer *t);

/* Embed in the owning object; recover it with container_of in the callback. */
struct timer {
    struct timer *next;   /* borrowed links within a slot list */
    struct timer **pprev; /* NULL when not armed */
    uint64_t expire;      /* monotonic ms */
    int slot;             /* slot index, -1 while being run */
    timer_fn fn;
};

struct timer_wheel {
    struct timer *slot[TW_SLOTS];
    uint64_t bitmap[TW_SLOTS / 64]; /* bit set when the slot list is non-empty */
    uint64_t cur_tick;              /* last tick processed */
    size_t count;                   /* armed timers */
};

void tw_init(struct timer_wheel *w, uint64_t now_ms);

static inline void timer_init(struct timer *t, timer_fn fn)
{
    t->next = NULL;
    t->pprev = NULL;
    t->expire = 0;
    t->slot = -1;
    t->fn = fn;
}

static inline bool timer_is_armed(const struct timer *t)
{
    return t->pprev != NULL;
}

/* Arm (or re-arm) t to fire at expire_ms. A time in the past fires at the next tw_run. */
void timer_arm(struct timer_wheel *w, struct timer *t, uint64_t expire_ms);
/* Disarm t; harmless when it is not armed. */
void timer_disarm(struct timer_wheel *w, struct timer *t);

/* Fire every timer due at now_ms. A callback may arm or disarm any timer, itself included.
 * Returns the number fired. */
size_t tw_run(struct timer_wheel *w, uint64_t now_ms);

/* Milliseconds until the next non-empty slot's tick (an upper bound on the wait), or -1 when no
 * timer is armed. */
int tw_next_wait(const struct timer_wheel *w, uint64_t now_ms);

#endif
