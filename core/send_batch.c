/* Batched sends over io_uring: see send_batch.h. The ring is created by the worker thread that
 * uses it (IORING_SETUP_SINGLE_ISSUER lets the kernel skip locking for one submitter, and
 * DEFER_TASKRUN keeps completion work in our own io_uring_enter call). */
#include "core/send_batch.h"

#include <errno.h>
#include <liburing.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum { ENT_QUEUED, ENT_SUBMITTED, ENT_DROPPED };

struct ent {
    int fd;
    uint32_t len;
    const void *buf;
    void *tag, *tag2;
    int res;
    uint8_t state;
};

struct send_batch {
    struct io_uring ring;
    unsigned max, count;
    struct ent *ents;
    uint64_t sends, calls, blocked;
    bool dead;    /* the ring failed and was torn down */
    uint32_t gen; /* in every SQE's user data: a late completion of an earlier round is ignored */
};

struct send_batch *send_batch_new(unsigned max, char *err, size_t errlen)
{
    struct send_batch *b = calloc(1, sizeof(*b));
    if (!b || !(b->ents = calloc(max, sizeof(*b->ents)))) {
        free(b);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    b->max = max;
    /* Newer flags first; a kernel that lacks one refuses the whole setup with EINVAL. */
    static const unsigned flags[] = {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
                                     IORING_SETUP_COOP_TASKRUN, 0};
    int rc = -EINVAL;
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]) && rc == -EINVAL; i++)
        rc = io_uring_queue_init(max, &b->ring, flags[i]);
    if (rc < 0) {
        snprintf(err, errlen, "io_uring is not available: %s", strerror(-rc));
        free(b->ents);
        free(b);
        return NULL;
    }
    return b;
}

void send_batch_free(struct send_batch *b)
{
    if (!b)
        return;
    if (!b->dead)
        io_uring_queue_exit(&b->ring);
    free(b->ents);
    free(b);
}

int send_batch_add(struct send_batch *b, int fd, const void *buf, uint32_t len, void *tag,
                   void *tag2)
{
    if (b->count == b->max || b->dead)
        return -1;
    b->ents[b->count] = (struct ent){.fd = fd, .len = len, .buf = buf, .tag = tag, .tag2 = tag2};
    return (int)b->count++;
}

unsigned send_batch_count(const struct send_batch *b)
{
    return b->count;
}

void *send_batch_tag(const struct send_batch *b, unsigned slot)
{
    return b->ents[slot].tag;
}

void *send_batch_tag2(const struct send_batch *b, unsigned slot)
{
    return b->ents[slot].tag2;
}

void send_batch_drop(struct send_batch *b, unsigned slot)
{
    b->ents[slot].state = ENT_DROPPED;
    b->ents[slot].tag = NULL;
}

bool send_batch_submitted(const struct send_batch *b, unsigned slot)
{
    return b->ents[slot].state == ENT_SUBMITTED;
}

int send_batch_result(const struct send_batch *b, unsigned slot)
{
    return b->ents[slot].res;
}

int send_batch_submit(struct send_batch *b)
{
    unsigned n = b->count, want = 0;
    b->gen++;
    for (unsigned i = 0; i < n; i++) {
        struct ent *e = &b->ents[i];
        if (e->state != ENT_QUEUED)
            continue;
        if (b->dead) {
            e->state = ENT_SUBMITTED;
            e->res = SEND_BATCH_NOT_SENT;
            continue;
        }
        /* The ring has max entries and the batch holds at most max: an SQE is always free. */
        struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);
        io_uring_prep_send(sqe, e->fd, e->buf, e->len, MSG_NOSIGNAL | MSG_DONTWAIT);
        io_uring_sqe_set_data64(sqe, (uint64_t)b->gen << 32 | i);
        e->state = ENT_SUBMITTED;
        e->res = -EINPROGRESS;
        want++;
    }
    if (!want)
        return (int)n;
    /* MSG_DONTWAIT: no send waits for socket space, so every completion is posted before
     * the call returns and the wait is only a formality. */
    int rc = io_uring_submit_and_wait(&b->ring, want);
    b->calls++;
    b->sends += want;
    unsigned got = 0;
    for (;;) {
        struct io_uring_cqe *cqe;
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&b->ring, head, cqe)
        {
            uint64_t data = io_uring_cqe_get_data64(cqe);
            uint32_t slot = (uint32_t)data;
            if (data >> 32 == b->gen && slot < n && b->ents[slot].res == -EINPROGRESS) {
                b->ents[slot].res = cqe->res;
                b->blocked += cqe->res == -EAGAIN ||
                              (cqe->res >= 0 && (uint32_t)cqe->res < b->ents[slot].len);
                got++;
            }
            seen++;
        }
        io_uring_cq_advance(&b->ring, seen);
        if (got >= want || (rc < 0 && rc != -EINTR))
            break;
        /* Submits what an interrupted call left in the queue, then waits. */
        rc = io_uring_submit_and_wait(&b->ring, want - got);
    }
    if (rc < 0 && got < want) {
        /* The ring failed, not a send: what has no result was not sent (an SQE the kernel
         * did not take is discarded with the ring below); the owners write it directly. */
        for (unsigned i = 0; i < n; i++)
            if (b->ents[i].state == ENT_SUBMITTED && b->ents[i].res == -EINPROGRESS)
                b->ents[i].res = SEND_BATCH_NOT_SENT;
        /* Queued SQEs must never reach the kernel later, when their buffers are gone: retire
         * the ring; from now on every write goes directly. */
        io_uring_queue_exit(&b->ring);
        b->dead = true;
    }
    return (int)n;
}

void send_batch_consume(struct send_batch *b, unsigned n)
{
    if (n > b->count)
        n = b->count;
    memmove(b->ents, b->ents + n, (b->count - n) * sizeof(*b->ents));
    b->count -= n;
}

uint64_t send_batch_sends(const struct send_batch *b)
{
    return b->sends;
}

uint64_t send_batch_calls(const struct send_batch *b)
{
    return b->calls;
}

uint64_t send_batch_blocked(const struct send_batch *b)
{
    return b->blocked;
}
