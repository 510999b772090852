/* Moving bytes from one socket to another: copy through the worker's scratch buffer for small
 * flows, splice() through a pooled pipe for bulk ones, with back-pressure and an optional limit. */
#ifndef SLUICE_NET_RELAY_H
#define SLUICE_NET_RELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/pipe_pool.h"
#include "core/worker.h"

#define RELAY_UNLIMITED UINT64_MAX

/* A direction that has read RELAY_LONG_FLOW bytes (one HTTP body, or a whole tcp or tunnel
 * stream) writes its pipe out in pieces of at most RELAY_LONG_WRITE bytes (see relay_flush). */
#define RELAY_LONG_FLOW  (4u << 20)
#define RELAY_LONG_WRITE (64u << 10)

/* Readiness of one socket, maintained from edge-triggered events: `readable` is set by an IN or
 * HUP edge and cleared by EAGAIN or a short read (new data brings a new edge); `wblocked` is set
 * by a short write and cleared by an OUT edge. */
struct relay_side {
    int fd;
    uint16_t batch; /* 1 + slot of the batched write to this side, 0 when none is queued */
    /* Bit-fields: an idle keep-alive connection's session stays in a smaller allocation. */
    bool readable : 1;
    bool hup : 1; /* FIN seen: keep reading until read() returns 0 */
    bool wblocked : 1;
    /* Called with LOOP_OUT (or LOOP_ERR) when a batched write to this side completes; NULL
     * keeps every write to this side direct (see relay_batch_flush). */
    struct loop_handler *lh;
    uint64_t last; /* last activity, coarse ms (idle timeouts) */
};

/* One direction. Idle directions hold no buffer and no pipe. */
struct relay_dir {
    char *buf;             /* owned pending bytes when a write blocked, else NULL */
    uint32_t off, len;     /* pending range in buf */
    struct pipe_pair pipe; /* owned when in use (rd >= 0) */
    uint32_t pipe_fill;    /* bytes in the pipe: they stay there while `to` blocks */
    uint16_t batch;        /* 1 + slot of this direction's batched write, 0 when none */
    bool big;              /* buf was malloc'ed (larger than a pooled buffer) */
    bool bulk;             /* reads fill the buffer: use splice */
    bool no_splice;        /* splice refused for this pair: stay with copies */
    bool eof;              /* `from` sent FIN */
    bool shut;             /* FIN forwarded to `to` */
    uint64_t limit;        /* bytes still to read from `from`, RELAY_UNLIMITED for a stream */
    uint64_t bytes;        /* bytes read so far */
};

enum relay_res {
    RELAY_IDLE = 0, /* nothing more to do until the next event */
    RELAY_DONE,     /* the limit was reached and every byte was written */
    RELAY_ERR_FROM, /* reading failed (reset) */
    RELAY_ERR_TO,   /* writing failed */
};

void relay_dir_init(struct relay_dir *d, uint64_t limit);
/* Give back the buffer and the pipe (a pipe holding data is closed). Worker only. */
void relay_dir_release(struct worker *w, struct relay_dir *d);

/* True while bytes wait to be written. */
static inline bool relay_pending(const struct relay_dir *d)
{
    return d->buf != NULL || d->pipe_fill != 0;
}

/* Whether a side is half-closed in HAProxy's sense for its `timeout client-fin` / `server-fin`:
 * the other side's FIN was passed to it (`to` shut), or it sent its own FIN (`from` at EOF)
 * while bytes still wait for it. `to` is the direction towards the side, `from` the one from it. */
static inline bool relay_side_half_closed(const struct relay_dir *to, const struct relay_dir *from)
{
    return to->shut || (from->eof && relay_pending(to));
}

/* Writes of up to RELAY_BATCH_MAX bytes to a side with a handler (`lh`) are not made at once
 * when the worker batches sends (tune.send-batching): the bytes become pending bytes of d, `to`
 * counts as blocked, and relay_batch_flush, at the end of the worker's batch of events, sends all
 * of them with one system call and then reports LOOP_OUT to each side's handler, as if the socket
 * had signalled room: the callers' blocked-write paths carry on from there. */
#define RELAY_BATCH_MAX 4096

/* Write data to `to` now (or batched, above), keeping what the socket does not take as pending
 * bytes of d (which must have none). Returns 0 or -1 (write error or no memory). */
int relay_send(struct worker *w, struct relay_dir *d, struct relay_side *to, const char *data,
               size_t len);
/* Write data after d's pending bytes, if any (a local reply after an interim response the client
 * has not read yet), else as relay_send. Returns 0 or -1. */
int relay_append(struct worker *w, struct relay_dir *d, struct relay_side *to, const char *data,
                 size_t len);
/* Same with two pieces in one writev (a rewritten head plus body bytes already read). */
int relay_sendv(struct worker *w, struct relay_dir *d, struct relay_side *to, const char *a,
                size_t alen, const char *b, size_t blen);

/* Write pending bytes of d to `to`. Returns 1 when none are left, 0 when `to` blocks, -1 on a
 * write error. */
int relay_flush(struct worker *w, struct relay_dir *d, struct relay_side *to);

/* Move bytes from `from` to `to` until `from` would block, `to` blocks, EOF or the limit. On EOF,
 * once pending bytes are flushed, `to` is shut for writing unless skip_shutdown (the caller is
 * about to close it anyway). Worker only. */
enum relay_res relay_pump(struct worker *w, struct relay_dir *d, struct relay_side *from,
                          struct relay_side *to, bool skip_shutdown);

/* Submit the worker's batched writes and report their completions; call after every batch of
 * events, before the worker sleeps. Completions may queue more writes: they are flushed too, for a
 * bounded number of rounds. Returns true when writes are still queued (the worker must not
 * sleep). Worker only. */
bool relay_batch_flush(struct worker *w);

/* `side`'s socket is about to be closed: its batched write, if any, is made now (as an unbatched
 * write would have been) and forgotten. */
void relay_side_closing(struct worker *w, struct relay_side *side);

#endif
