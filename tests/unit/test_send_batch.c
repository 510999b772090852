/* Batched sends: one submit carries every queued write; results come back per entry; a full
 * socket answers -EAGAIN at once (the worker never waits); dropped entries are never sent; the
 * entries queued while results are handled keep their order after consume. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/send_batch.h"

static struct send_batch *new_batch(unsigned max)
{
    char err[128] = "";
    struct send_batch *b = send_batch_new(max, err, sizeof(err));
    if (!b)
        fprintf(stderr, "\n    send_batch_new: %s\n", err);
    return b;
}

static ssize_t drain(int fd, char *buf, size_t len)
{
    return recv(fd, buf, len, MSG_DONTWAIT);
}

static void test_one_call_many_sockets(void)
{
    struct send_batch *b = new_batch(8);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    int p1[2], p2[2];
    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, p1), 0);
    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, p2), 0);
    int tag1, tag2, tag3;
    CU_ASSERT_EQUAL(send_batch_add(b, p1[0], "hello ", 6, &tag1, NULL), 0);
    CU_ASSERT_EQUAL(send_batch_add(b, p2[0], "other", 5, &tag2, &tag3), 1);
    CU_ASSERT_EQUAL(send_batch_add(b, p1[0], "world", 5, &tag3, NULL), 2);
    CU_ASSERT_EQUAL(send_batch_count(b), 3);
    CU_ASSERT_PTR_EQUAL(send_batch_tag(b, 1), &tag2);
    CU_ASSERT_PTR_EQUAL(send_batch_tag2(b, 1), &tag3);
    CU_ASSERT_FALSE(send_batch_submitted(b, 0));
    CU_ASSERT_EQUAL(send_batch_submit(b), 3);
    CU_ASSERT_TRUE(send_batch_submitted(b, 0));
    CU_ASSERT_EQUAL(send_batch_result(b, 0), 6);
    CU_ASSERT_EQUAL(send_batch_result(b, 1), 5);
    CU_ASSERT_EQUAL(send_batch_result(b, 2), 5);
    CU_ASSERT_EQUAL(send_batch_calls(b), 1);
    CU_ASSERT_EQUAL(send_batch_sends(b), 3);
    char got[64] = "";
    CU_ASSERT_EQUAL(drain(p1[1], got, sizeof(got)), 11);
    CU_ASSERT_NSTRING_EQUAL(got, "hello world", 11); /* in queue order on one socket */
    CU_ASSERT_EQUAL(drain(p2[1], got, sizeof(got)), 5);
    send_batch_consume(b, 3);
    CU_ASSERT_EQUAL(send_batch_count(b), 0);
    for (int i = 0; i < 2; i++) {
        close(p1[i]);
        close(p2[i]);
    }
    send_batch_free(b);
}

static void test_full_socket_and_errors_do_not_wait(void)
{
    struct send_batch *b = new_batch(4);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    int p[2], q[2];
    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, p), 0);
    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, q), 0);
    static char fill[65536];
    while (send(p[0], fill, sizeof(fill), MSG_DONTWAIT) > 0)
        ;
    close(q[1]); /* the peer is gone: EPIPE, without SIGPIPE (MSG_NOSIGNAL) */
    int tag;
    send_batch_add(b, p[0], "x", 1, &tag, NULL);
    send_batch_add(b, q[0], "y", 1, &tag, NULL);
    send_batch_add(b, 12345, "z", 1, &tag, NULL); /* not an open descriptor */
    CU_ASSERT_EQUAL(send_batch_submit(b), 3);
    CU_ASSERT_EQUAL(send_batch_result(b, 0), -EAGAIN);
    CU_ASSERT_EQUAL(send_batch_result(b, 1), -EPIPE);
    CU_ASSERT_EQUAL(send_batch_result(b, 2), -EBADF);
    send_batch_consume(b, 3);
    close(p[0]);
    close(p[1]);
    close(q[0]);
    send_batch_free(b);
}

static void test_drop_full_and_consume(void)
{
    struct send_batch *b = new_batch(2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    int p[2];
    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, p), 0);
    int t1, t2, t3;
    CU_ASSERT_EQUAL(send_batch_add(b, p[0], "dropped", 7, &t1, NULL), 0);
    CU_ASSERT_EQUAL(send_batch_add(b, p[0], "kept", 4, &t2, NULL), 1);
    CU_ASSERT_EQUAL(send_batch_add(b, p[0], "full", 4, &t3, NULL),
                    -1); /* the caller writes itself */
    send_batch_drop(b, 0);
    CU_ASSERT_PTR_NULL(send_batch_tag(b, 0));
    CU_ASSERT_EQUAL(send_batch_submit(b), 2);
    CU_ASSERT_FALSE(send_batch_submitted(b, 0));
    CU_ASSERT_EQUAL(send_batch_result(b, 1), 4);
    char got[16] = "";
    CU_ASSERT_EQUAL(drain(p[1], got, sizeof(got)), 4);
    CU_ASSERT_NSTRING_EQUAL(got, "kept", 4);
    /* Queued while the results are handled: slot 2 of this round, slot 0 of the next. */
    send_batch_consume(b, 1);
    CU_ASSERT_EQUAL(send_batch_count(b), 1);
    send_batch_consume(b, 1);
    CU_ASSERT_EQUAL(send_batch_add(b, p[0], "next", 4, &t3, NULL), 0);
    CU_ASSERT_EQUAL(send_batch_add(b, p[0], "round", 5, &t1, NULL), 1);
    CU_ASSERT_EQUAL(send_batch_submit(b), 2);
    send_batch_consume(b, 1);
    CU_ASSERT_EQUAL(send_batch_count(b), 1);
    CU_ASSERT_PTR_EQUAL(send_batch_tag(b, 0), &t1);
    CU_ASSERT_EQUAL(send_batch_result(b, 0), 5);
    CU_ASSERT_EQUAL(drain(p[1], got, sizeof(got)), 9);
    CU_ASSERT_NSTRING_EQUAL(got, "nextround", 9);
    CU_ASSERT_EQUAL(send_batch_calls(b), 2);
    close(p[0]);
    close(p[1]);
    send_batch_free(b);
}

int suite_send_batch(void)
{
    CU_pSuite s = CU_add_suite("send_batch", NULL, NULL);
    if (!s || !CU_add_test(s, "one_call_many_sockets", test_one_call_many_sockets) ||
        !CU_add_test(s, "full_socket_and_errors_do_not_wait",
                     test_full_socket_and_errors_do_not_wait) ||
        !CU_add_test(s, "drop_full_and_consume", test_drop_full_and_consume))
        return CU_get_error();
    return CUE_SUCCESS;
}
