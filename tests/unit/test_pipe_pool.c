/* Pipe pool: reuse, bounds, and that a pooled pipe really moves data with splice. */
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/pipe_pool.h"

static void test_reuse_and_bound(void)
{
    struct pipe_pool *pp = pipe_pool_new(2, 256 * 1024);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pp);
    struct pipe_pair a, b, c;
    CU_ASSERT_EQUAL(pipe_pool_get(pp, &a), 0);
    CU_ASSERT_EQUAL(pipe_pool_get(pp, &b), 0);
    CU_ASSERT_EQUAL(pipe_pool_get(pp, &c), 0);
    CU_ASSERT_EQUAL(pipe_pool_live(pp), 3);
    int a_rd = a.rd;
    pipe_pool_put(pp, &a);
    CU_ASSERT_EQUAL(a.rd, -1);
    pipe_pool_put(pp, &b);
    pipe_pool_put(pp, &c); /* pool full: closed */
    CU_ASSERT_EQUAL(pipe_pool_idle(pp), 2);
    CU_ASSERT_EQUAL(pipe_pool_live(pp), 0);
    struct pipe_pair d, e;
    CU_ASSERT_EQUAL(pipe_pool_get(pp, &d), 0);
    CU_ASSERT_EQUAL(pipe_pool_get(pp, &e), 0);
    CU_ASSERT(d.rd == a_rd || e.rd == a_rd); /* reused, not created */
    pipe_pool_drop(pp, &d);
    pipe_pool_put(pp, &e);
    CU_ASSERT_EQUAL(pipe_pool_idle(pp), 1);
    CU_ASSERT(pipe_pool_size(pp) >= 65536);
    pipe_pool_free(pp);
}

static void test_splice_through_pooled_pipe(void)
{
    struct pipe_pool *pp = pipe_pool_new(4, 256 * 1024);
    int in[2], out[2];
    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, in), 0);
    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, out), 0);
    struct pipe_pair p;
    CU_ASSERT_EQUAL_FATAL(pipe_pool_get(pp, &p), 0);
    const char msg[] = "spliced bytes";
    CU_ASSERT_EQUAL(write(in[0], msg, sizeof(msg)), (ssize_t)sizeof(msg));
    ssize_t n = splice(in[1], NULL, p.wr, NULL, 65536, SPLICE_F_NONBLOCK);
    CU_ASSERT_EQUAL(n, (ssize_t)sizeof(msg));
    CU_ASSERT_EQUAL(splice(p.rd, NULL, out[0], NULL, (size_t)n, SPLICE_F_NONBLOCK), n);
    char got[64] = "";
    CU_ASSERT_EQUAL(read(out[1], got, sizeof(got)), (ssize_t)sizeof(msg));
    CU_ASSERT_STRING_EQUAL(got, msg);
    pipe_pool_put(pp, &p);
    close(in[0]);
    close(in[1]);
    close(out[0]);
    close(out[1]);
    pipe_pool_free(pp);
}

static long pipe_max_size(void)
{
    FILE *f = fopen("/proc/sys/fs/pipe-max-size", "r");
    long v = 1048576;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = 1048576;
        fclose(f);
    }
    return v;
}

/* tune.pipesize reaches the kernel: new pipes have the requested size (an unprivileged process is
 * capped at pipe-max-size and keeps the default past it), and 0 leaves the kernel's default. */
static void test_requested_size(void)
{
    long want = 1024 * 1024;
    if (geteuid() != 0 && want > pipe_max_size())
        want = 65536;
    struct pipe_pool *pp = pipe_pool_new(2, (unsigned)want);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pp);
    struct pipe_pair p;
    CU_ASSERT_EQUAL_FATAL(pipe_pool_get(pp, &p), 0);
    CU_ASSERT_EQUAL(fcntl(p.wr, F_GETPIPE_SZ), want);
    CU_ASSERT_EQUAL(pipe_pool_size(pp), (unsigned)want);
    pipe_pool_put(pp, &p);
    pipe_pool_free(pp);

    pp = pipe_pool_new(2, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pp);
    CU_ASSERT_EQUAL_FATAL(pipe_pool_get(pp, &p), 0);
    CU_ASSERT_EQUAL(fcntl(p.wr, F_GETPIPE_SZ), 65536);
    pipe_pool_put(pp, &p);
    pipe_pool_free(pp);
}

int suite_pipe_pool(void)
{
    CU_pSuite s = CU_add_suite("pipe_pool", NULL, NULL);
    if (!s)
        return CU_get_error();
    CU_add_test(s, "reuse_and_bound", test_reuse_and_bound);
    CU_add_test(s, "splice_through_pooled_pipe", test_splice_through_pooled_pipe);
    CU_add_test(s, "requested_size", test_requested_size);
    return CU_get_error();
}
