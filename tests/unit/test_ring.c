/* SPSC ring: order, capacity, and a two-thread stress run (also under `make tsan`). */
#include <CUnit/CUnit.h>
#include <pthread.h>
#include <sched.h>

#include "core/ring.h"

static void test_fifo_and_capacity(void)
{
    struct ring r;
    CU_ASSERT_EQUAL_FATAL(ring_init(&r, 5), 0); /* rounded up to 8 */
    uint64_t v;
    CU_ASSERT_FALSE(ring_pop(&r, &v));
    int pushed = 0;
    while (ring_push(&r, (uint64_t)pushed))
        pushed++;
    CU_ASSERT_EQUAL(pushed, 8);
    for (int i = 0; i < 8; i++) {
        CU_ASSERT_TRUE(ring_pop(&r, &v));
        CU_ASSERT_EQUAL(v, (uint64_t)i);
    }
    CU_ASSERT_FALSE(ring_pop(&r, &v));
    ring_destroy(&r);
}

#define STRESS_N 2000000u

static void *producer(void *arg)
{
    struct ring *r = arg;
    for (uint64_t i = 1; i <= STRESS_N; i++)
        while (!ring_push(r, i))
            sched_yield();
    return NULL;
}

static void test_two_threads_in_order(void)
{
    struct ring r;
    CU_ASSERT_EQUAL_FATAL(ring_init(&r, 64), 0);
    pthread_t t;
    pthread_create(&t, NULL, producer, &r);
    uint64_t expect = 1, v, sum = 0;
    int out_of_order = 0;
    while (expect <= STRESS_N) {
        if (!ring_pop(&r, &v)) {
            sched_yield();
            continue;
        }
        if (v != expect)
            out_of_order++;
        sum += v;
        expect++;
    }
    pthread_join(t, NULL);
    CU_ASSERT_EQUAL(out_of_order, 0);
    CU_ASSERT_EQUAL(sum, (uint64_t)STRESS_N * (STRESS_N + 1) / 2);
    ring_destroy(&r);
}

int suite_ring(void)
{
    CU_pSuite s = CU_add_suite("ring", NULL, NULL);
    if (!s)
        return CU_get_error();
    CU_add_test(s, "fifo_and_capacity", test_fifo_and_capacity);
    CU_add_test(s, "two_threads_in_order", test_two_threads_in_order);
    return CU_get_error();
}
