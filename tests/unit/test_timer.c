/* Timer wheel: firing order and times against a plain reference (sorted deadlines). */
#include <CUnit/CUnit.h>
#include <stdlib.h>

#include "core/timer.h"
#include "core/worker.h" /* container_of */

struct tobj {
    struct timer t;
    uint64_t fired_at; /* 0: not fired */
    uint64_t *clock;
    struct timer_wheel *w;
    int rearm; /* re-arm this many more times, +100 ms each */
};

static void on_fire(struct timer *t)
{
    struct tobj *o = container_of(t, struct tobj, t);
    o->fired_at = *o->clock;
    if (o->rearm > 0) {
        o->rearm--;
        timer_arm(o->w, &o->t, *o->clock + 100);
    }
}

static void test_fires_once_at_or_after_expiry(void)
{
    struct timer_wheel w;
    uint64_t now = 1000000;
    tw_init(&w, now);
    enum { N = 2000 };
    struct tobj *o = calloc(N, sizeof(*o));
    srand(42);
    for (int i = 0; i < N; i++) {
        timer_init(&o[i].t, on_fire);
        o[i].clock = &now;
        o[i].w = &w;
        /* spread over more than one wheel revolution to exercise rounds */
        timer_arm(&w, &o[i].t, now + 1 + (uint64_t)(rand() % 100000));
    }
    CU_ASSERT_EQUAL(w.count, N);
    while (w.count > 0) {
        int wait = tw_next_wait(&w, now);
        CU_ASSERT_FATAL(wait >= 0 && wait <= (1 << TW_SHIFT) * (int)TW_SLOTS);
        now += wait > 0 ? (uint64_t)wait : 1;
        tw_run(&w, now);
    }
    for (int i = 0; i < N; i++) {
        CU_ASSERT(o[i].fired_at >= o[i].t.expire);
        /* fired within one tick of its deadline */
        CU_ASSERT(o[i].fired_at - o[i].t.expire < (2u << TW_SHIFT));
    }
    free(o);
}

static void test_disarm_and_rearm(void)
{
    struct timer_wheel w;
    uint64_t now = 5000;
    tw_init(&w, now);
    struct tobj a = {.clock = &now, .w = &w}, b = {.clock = &now, .w = &w};
    timer_init(&a.t, on_fire);
    timer_init(&b.t, on_fire);
    timer_arm(&w, &a.t, now + 50);
    timer_arm(&w, &b.t, now + 50);
    timer_disarm(&w, &a.t);
    timer_disarm(&w, &a.t); /* harmless twice */
    CU_ASSERT_FALSE(timer_is_armed(&a.t));
    timer_arm(&w, &b.t, now + 500); /* re-arm later */
    now += 100;
    tw_run(&w, now);
    CU_ASSERT_EQUAL(a.fired_at, 0);
    CU_ASSERT_EQUAL(b.fired_at, 0);
    now += 500;
    tw_run(&w, now);
    CU_ASSERT_EQUAL(b.fired_at, now);
    CU_ASSERT_EQUAL(w.count, 0);
    CU_ASSERT_EQUAL(tw_next_wait(&w, now), -1);
}

static void test_rearm_from_callback(void)
{
    struct timer_wheel w;
    uint64_t now = 0;
    tw_init(&w, now);
    struct tobj a = {.clock = &now, .w = &w, .rearm = 3};
    timer_init(&a.t, on_fire);
    timer_arm(&w, &a.t, 100);
    int fires = 0;
    for (now = 8; now < 2000; now += 8)
        fires += (int)tw_run(&w, now);
    CU_ASSERT_EQUAL(fires, 4);
    CU_ASSERT_FALSE(timer_is_armed(&a.t));
}

static void test_past_deadline_and_long_stall(void)
{
    struct timer_wheel w;
    uint64_t now = 100000;
    tw_init(&w, now);
    struct tobj a = {.clock = &now, .w = &w}, b = {.clock = &now, .w = &w};
    timer_init(&a.t, on_fire);
    timer_init(&b.t, on_fire);
    timer_arm(&w, &a.t, now - 10); /* already due: fires on the next run */
    timer_arm(&w, &b.t, now + 40000);
    CU_ASSERT_TRUE(tw_next_wait(&w, now) <= (1 << TW_SHIFT));
    now += 10;
    CU_ASSERT_EQUAL(tw_run(&w, now), 1);
    now += 100000; /* a stall longer than a revolution */
    CU_ASSERT_EQUAL(tw_run(&w, now), 1);
    CU_ASSERT_EQUAL(b.fired_at, now);
}

int suite_timer(void)
{
    CU_pSuite s = CU_add_suite("timer", NULL, NULL);
    if (!s)
        return CU_get_error();
    CU_add_test(s, "fires_once_at_or_after_expiry", test_fires_once_at_or_after_expiry);
    CU_add_test(s, "disarm_and_rearm", test_disarm_and_rearm);
    CU_add_test(s, "rearm_from_callback", test_rearm_from_callback);
    CU_add_test(s, "past_deadline_and_long_stall", test_past_deadline_and_long_stall);
    return CU_get_error();
}
