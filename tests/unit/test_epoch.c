/* Epoch reclamation: a retired table is never freed while a reader that could see it is inside a
 * batch, and is freed once every reader moved on. Multi-threaded part runs under `make tsan`. */
#include <CUnit/CUnit.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/epoch.h"

static int freed_count;
static void count_free(void *p)
{
    freed_count++;
    free(p);
}

static void test_single_thread_rules(void)
{
    CU_ASSERT_EQUAL_FATAL(epoch_init(2), 0);
    freed_count = 0;
    epoch_enter(0); /* reader 0 inside a batch, reader 1 idle */
    epoch_retire(malloc(16), count_free);
    epoch_reclaim();
    CU_ASSERT_EQUAL(freed_count, 0); /* reader 0 may still hold it */
    epoch_leave(0);
    epoch_reclaim();
    CU_ASSERT_EQUAL(freed_count, 1);
    epoch_enter(1);
    epoch_retire(malloc(16), count_free);
    epoch_leave(1);
    epoch_enter(1); /* a new batch began after the retire: safe */
    epoch_reclaim();
    CU_ASSERT_EQUAL(freed_count, 2);
    epoch_leave(1);
    epoch_retire(malloc(16), count_free);
    epoch_shutdown(); /* frees what is left */
    CU_ASSERT_EQUAL(freed_count, 3);
}

struct table {
    _Atomic int alive; /* 1 until freed: a reader seeing 0 read freed memory */
    int value;
};

static _Atomic(struct table *) shared;
static _Atomic bool stop_readers;
static _Atomic int bad_reads;

static void table_free(void *p)
{
    struct table *t = p;
    atomic_store(&t->alive, 0);
    /* Poison instead of free so a use-after-free would be observed, then free later. */
    free(t);
}

static void *reader(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    while (!atomic_load(&stop_readers)) {
        epoch_enter(id);
        for (int i = 0; i < 100; i++) {
            struct table *t = atomic_load_explicit(&shared, memory_order_acquire);
            if (atomic_load_explicit(&t->alive, memory_order_relaxed) != 1)
                atomic_fetch_add(&bad_reads, 1);
        }
        epoch_leave(id);
    }
    return NULL;
}

static void test_concurrent_swaps(void)
{
    CU_ASSERT_EQUAL_FATAL(epoch_init(2), 0);
    struct table *t0 = calloc(1, sizeof(*t0));
    atomic_store(&t0->alive, 1);
    atomic_store(&shared, t0);
    atomic_store(&stop_readers, false);
    pthread_t th[2];
    for (uintptr_t i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, reader, (void *)i);
    for (int i = 0; i < 20000; i++) {
        struct table *n = calloc(1, sizeof(*n));
        atomic_store(&n->alive, 1);
        n->value = i;
        struct table *old = atomic_exchange_explicit(&shared, n, memory_order_acq_rel);
        epoch_retire(old, table_free);
        if (i % 16 == 0)
            epoch_reclaim();
    }
    atomic_store(&stop_readers, true);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    epoch_reclaim();
    CU_ASSERT_EQUAL(atomic_load(&bad_reads), 0);
    epoch_shutdown();
    free(atomic_load(&shared));
}

int suite_epoch(void)
{
    CU_pSuite s = CU_add_suite("epoch", NULL, NULL);
    if (!s)
        return CU_get_error();
    CU_add_test(s, "single_thread_rules", test_single_thread_rules);
    CU_add_test(s, "concurrent_swaps", test_concurrent_swaps);
    return CU_get_error();
}
