/* Hashed timer wheel. A slot holds every timer whose tick maps to it; timers of later rounds stay
 * in the slot until their round comes. Expected load: one idle-timeout timer per connection,
 * re-armed lazily (only when it fires early), so arm/disarm are rare on the data path. */
#include "core/timer.h"

#include <string.h>

static inline uint64_t tick_of(uint64_t ms)
{
    return ms >> TW_SHIFT;
}

static void slot_link(struct timer_wheel *w, struct timer *t, unsigned s)
{
    t->slot = (int)s;
    t->next = w->slot[s];
    if (t->next)
        t->next->pprev = &t->next;
    w->slot[s] = t;
    t->pprev = &w->slot[s];
    w->bitmap[s / 64] |= 1ull << (s % 64);
}

static void unlink_timer(struct timer_wheel *w, struct timer *t)
{
    *t->pprev = t->next;
    if (t->next)
        t->next->pprev = t->pprev;
    if (t->slot >= 0 && !w->slot[t->slot])
        w->bitmap[t->slot / 64] &= ~(1ull << (t->slot % 64));
    t->next = NULL;
    t->pprev = NULL;
    t->slot = -1;
}

void tw_init(struct timer_wheel *w, uint64_t now_ms)
{
    memset(w, 0, sizeof(*w));
    w->cur_tick = tick_of(now_ms);
}

void timer_arm(struct timer_wheel *w, struct timer *t, uint64_t expire_ms)
{
    if (t->pprev)
        unlink_timer(w, t);
    else
        w->count++;
    t->expire = expire_ms;
    uint64_t tk = tick_of(expire_ms);
    if (tk <= w->cur_tick)
        tk = w->cur_tick + 1; /* the current tick was processed already */
    slot_link(w, t, (unsigned)(tk & (TW_SLOTS - 1)));
}

void timer_disarm(struct timer_wheel *w, struct timer *t)
{
    if (!t->pprev)
        return;
    unlink_timer(w, t);
    w->count--;
}

size_t tw_run(struct timer_wheel *w, uint64_t now_ms)
{
    uint64_t now_tick = tick_of(now_ms);
    size_t fired = 0;
    if (now_tick <= w->cur_tick)
        return 0;
    /* After a long stall one revolution visits every slot once. */
    uint64_t first = w->cur_tick + 1;
    if (now_tick - first >= TW_SLOTS)
        first = now_tick - TW_SLOTS + 1;
    w->cur_tick = now_tick;
    for (uint64_t tk = first; tk <= now_tick; tk++) {
        unsigned s = (unsigned)(tk & (TW_SLOTS - 1));
        if (!w->slot[s])
            continue;
        /* Detach the slot into a local list so callbacks can arm timers into this very slot. */
        struct timer *local = w->slot[s];
        w->slot[s] = NULL;
        w->bitmap[s / 64] &= ~(1ull << (s % 64));
        local->pprev = &local;
        for (struct timer *t = local; t; t = local) {
            t->slot = -1;
            local = t->next;
            if (local)
                local->pprev = &local;
            t->next = NULL;
            t->pprev = NULL;
            if (t->expire <= now_ms) {
                w->count--;
                fired++;
                t->fn(t);
            } else {
                uint64_t tt = tick_of(t->expire);
                if (tt <= now_tick)
                    tt = now_tick + 1;
                slot_link(w, t, (unsigned)(tt & (TW_SLOTS - 1)));
            }
        }
    }
    return fired;
}

int tw_next_wait(const struct timer_wheel *w, uint64_t now_ms)
{
    if (w->count == 0)
        return -1;
    uint64_t base = w->cur_tick + 1;
    for (unsigned d = 0; d < TW_SLOTS; d++) {
        unsigned s = (unsigned)((base + d) & (TW_SLOTS - 1));
        uint64_t word = w->bitmap[s / 64] >> (s % 64);
        if (!word) {
            d += 63 - (s % 64); /* skip the rest of this empty word */
            continue;
        }
        if (word & 1) {
            uint64_t at = (base + d) << TW_SHIFT;
            return at <= now_ms ? 0 : (int)(at - now_ms);
        }
        d += (unsigned)__builtin_ctzll(word) - 1;
    }
    return 1 << TW_SHIFT;
}
