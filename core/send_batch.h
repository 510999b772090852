/* Writes a worker makes while it handles one batch of events, submitted together at the end of
 * the batch with a single io_uring_enter instead of one sendmsg each. Readiness still comes from
 * the poller (epoll); io_uring only carries the writes. Every send is issued with MSG_DONTWAIT,
 * so each one completes (in full, short, -EAGAIN or an error) during the submitting call and the
 * worker never waits on the ring.
 *
 * This module knows nothing of what is sent: the caller keeps the bytes alive until the results
 * are read and decides what a short send means (net/relay.c). Worker only, one per worker. */
#ifndef SLUICE_CORE_SEND_BATCH_H
#define SLUICE_CORE_SEND_BATCH_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct send_batch;

/* A batch of up to `max` queued sends. NULL when io_uring cannot be used here (old kernel,
 * kernel.io_uring_disabled, a seccomp filter): err then says why. */
struct send_batch *send_batch_new(unsigned max, char *err, size_t errlen);
void send_batch_free(struct send_batch *b);

/* Queue a send of len bytes at buf to fd, tagged with two pointers of the caller's (its records
 * of the write). Returns the entry's slot, or -1 when the batch is full (the caller then writes
 * directly). */
int send_batch_add(struct send_batch *b, int fd, const void *buf, uint32_t len, void *tag,
                   void *tag2);

/* Entries queued and not yet taken by send_batch_consume. */
unsigned send_batch_count(const struct send_batch *b);
void *send_batch_tag(const struct send_batch *b, unsigned slot); /* NULL once dropped */
void *send_batch_tag2(const struct send_batch *b, unsigned slot);
/* Forget an entry (its fd is about to be closed or written directly): it is not submitted, or,
 * already submitted, its result is ignored. */
void send_batch_drop(struct send_batch *b, unsigned slot);
/* True once the entry has been handed to the kernel (its bytes may be on the wire). */
bool send_batch_submitted(const struct send_batch *b, unsigned slot);

/* Submit the first n = send_batch_count() entries (those not dropped) and collect every result.
 * Returns n; send_batch_result(slot) then gives the bytes sent or -errno, or SEND_BATCH_NOT_SENT
 * when the ring itself failed before making that send (it is then torn down, and every later
 * add returns -1: the caller writes directly). Entries added after this call (while the caller
 * acts on the results) get slots n and up. */
#define SEND_BATCH_NOT_SENT (-ECANCELED)
int send_batch_submit(struct send_batch *b);
int send_batch_result(const struct send_batch *b, unsigned slot);

/* Remove the first n entries; the later ones move down by n (their slot numbers change: the
 * caller renumbers its records with send_batch_tag). */
void send_batch_consume(struct send_batch *b, unsigned n);

/* Sends submitted and system calls made since the start, for the statistics. */
uint64_t send_batch_sends(const struct send_batch *b);
uint64_t send_batch_calls(const struct send_batch *b);
/* Sends the socket did not take whole (short or EAGAIN): they finish as blocked writes. */
uint64_t send_batch_blocked(const struct send_batch *b);

#endif
