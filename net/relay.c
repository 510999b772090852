/* Relay engine shared by the L4 proxy, HTTP bodies and HTTP tunnels. Each direction starts by
 * reading into the worker's scratch buffer and writing straight out (no per-connection buffer
 * unless the write blocks). A read that fills the whole scratch buffer marks the direction bulk,
 * and from then on bytes move socket → pipe → socket with splice(), never entering user space.
 * When a bulk direction drains its pipe goes back to the worker's pool, so an idle connection
 * holds no buffer and no pipe. */
#include "net/relay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "core/send_batch.h"

void relay_dir_init(struct relay_dir *d, uint64_t limit)
{
    memset(d, 0, sizeof(*d));
    d->pipe.rd = d->pipe.wr = -1;
    d->limit = limit;
}

static void put_buf(struct worker *w, struct relay_dir *d)
{
    if (d->big)
        free(d->buf);
    else
        worker_buf_put(w, d->buf);
    d->buf = NULL;
    d->big = false;
}

static void unbatch(struct worker *w, struct relay_dir *d, bool write_now);

void relay_dir_release(struct worker *w, struct relay_dir *d)
{
    if (d->batch)
        unbatch(w, d, true);
    put_buf(w, d);
    if (d->pipe.rd >= 0) {
        if (d->pipe_fill)
            pipe_pool_drop(w->pipes, &d->pipe);
        else
            pipe_pool_put(w->pipes, &d->pipe);
    }
    d->pipe_fill = 0;
}

static int keep_tail(struct worker *w, struct relay_dir *d, const char *a, size_t alen,
                     const char *b, size_t blen)
{
    /* A rewritten HTTP head plus the body bytes read with it can exceed one pooled buffer. */
    d->big = alen + blen > w->bufsize;
    d->buf = d->big ? malloc(alen + blen) : worker_buf_get(w);
    if (!d->buf)
        return -1;
    memcpy(d->buf, a, alen);
    if (blen)
        memcpy(d->buf + alen, b, blen);
    d->off = 0;
    d->len = (uint32_t)(alen + blen);
    return 0;
}

/* n bytes of d's pending buffer were written to `to`: true when none are left (the buffer is given
 * back and `to` is no longer blocked). */
static bool consumed(struct worker *w, struct relay_dir *d, struct relay_side *to, ssize_t n)
{
    if (n > 0) {
        to->last = w->now;
        d->off += (uint32_t)n;
        d->len -= (uint32_t)n;
    }
    if (d->len)
        return false;
    put_buf(w, d);
    to->wblocked = false;
    return true;
}

/* Queue the write of a + b in the worker's batch; false when it is not batched (the caller writes
 * directly). The bytes are copied: the caller's buffers (a request or response head being built,
 * the scratch buffer) are reused before the batch is submitted. */
static bool batch_write(struct worker *w, struct relay_dir *d, struct relay_side *to, const char *a,
                        size_t alen, const char *b, size_t blen)
{
    if (!w->sends || !to->lh || to->batch || alen + blen > RELAY_BATCH_MAX || alen + blen == 0)
        return false;
    if (keep_tail(w, d, a, alen, b, blen) < 0)
        return false;
    int slot = send_batch_add(w->sends, to->fd, d->buf, d->len, d, to);
    if (slot < 0) {
        put_buf(w, d);
        return false;
    }
    d->batch = to->batch = (uint16_t)(slot + 1);
    to->wblocked = true;
    return true;
}

/* Take d's write out of the batch. write_now: it was not submitted yet and its socket is about to
 * be closed or written directly, so make it now, as an unbatched write would have been made. */
static void unbatch(struct worker *w, struct relay_dir *d, bool write_now)
{
    unsigned slot = d->batch - 1;
    struct relay_side *to = send_batch_tag2(w->sends, slot);
    bool submitted = send_batch_submitted(w->sends, slot);
    send_batch_drop(w->sends, slot);
    d->batch = to->batch = 0;
    if (submitted || !write_now || !d->buf)
        return;
    consumed(w, d, to, send(to->fd, d->buf + d->off, d->len, MSG_NOSIGNAL | MSG_DONTWAIT));
}

void relay_side_closing(struct worker *w, struct relay_side *side)
{
    if (!side->batch)
        return;
    struct relay_dir *d = send_batch_tag(w->sends, side->batch - 1);
    if (d)
        unbatch(w, d, true);
}

/* Apply the results of the round's first n writes to their directions, then tell each side's
 * handler. Two passes: a handler may close other sessions of the same round, whose results must
 * already be accounted (their bytes are on the wire; closing must not write them again). */
static void batch_round(struct worker *w, unsigned n)
{
    struct send_batch *sb = w->sends;
    unsigned char ev[n ? n : 1];
    for (unsigned i = 0; i < n; i++) {
        struct relay_dir *d = send_batch_tag(sb, i);
        ev[i] = 0;
        if (!d)
            continue;
        struct relay_side *to = send_batch_tag2(sb, i);
        int res = send_batch_result(sb, i);
        if (consumed(w, d, to, res)) {
            ev[i] = LOOP_OUT;
        } else if (res == -EINTR || res == SEND_BATCH_NOT_SENT) {
            to->wblocked = false; /* the handler's flush writes it directly */
            ev[i] = LOOP_OUT;
        } else if (res < 0 && res != -EAGAIN) {
            ev[i] = LOOP_ERR; /* as the handler would hear from the poller */
        }
        /* else short or EAGAIN: still blocked; the socket signals room with a real OUT edge. */
    }
    for (unsigned i = 0; i < n; i++) {
        struct relay_dir *d = send_batch_tag(sb, i);
        if (!d) /* closed by a handler earlier in this pass */
            continue;
        struct relay_side *to = send_batch_tag2(sb, i);
        send_batch_drop(sb, i);
        /* A handler earlier in this pass may have re-initialised d (or moved on with `to`) and
         * queued a new write already: unlink only what still names this entry. */
        if (d->batch == i + 1)
            d->batch = 0;
        if (to->batch == i + 1)
            to->batch = 0;
        if (ev[i])
            to->lh->fn(to->lh, ev[i]);
    }
    send_batch_consume(sb, n);
    /* Writes queued by the handlers moved down by n: renumber their records. */
    for (unsigned i = 0; i < send_batch_count(sb); i++) {
        struct relay_dir *d = send_batch_tag(sb, i);
        if (d)
            d->batch = ((struct relay_side *)send_batch_tag2(sb, i))->batch = (uint16_t)(i + 1);
    }
}

bool relay_batch_flush(struct worker *w)
{
    if (!w->sends)
        return false;
    /* A handler answering a completion usually queues the next write of a pipelined request
     * or a body; a few rounds cover that, then the loop goes round (without sleeping). */
    for (int round = 0; round < 8 && send_batch_count(w->sends); round++)
        batch_round(w, (unsigned)send_batch_submit(w->sends));
    return send_batch_count(w->sends) != 0;
}

int relay_sendv(struct worker *w, struct relay_dir *d, struct relay_side *to, const char *a,
                size_t alen, const char *b, size_t blen)
{
    struct iovec iov[2] = {{(void *)a, alen}, {(void *)b, blen}};
    ssize_t n = 0;
    if (!to->wblocked && batch_write(w, d, to, a, alen, b, blen))
        return 0;
    if (!to->wblocked) {
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = blen ? 2 : 1};
        n = sendmsg(to->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                return -1;
            n = 0;
        } else {
            to->last = w->now;
        }
    }
    size_t total = alen + blen;
    if ((size_t)n == total)
        return 0;
    to->wblocked = true;
    size_t skip = (size_t)n;
    if (skip >= alen)
        return keep_tail(w, d, b + (skip - alen), blen - (skip - alen), NULL, 0);
    return keep_tail(w, d, a + skip, alen - skip, b, blen);
}

int relay_send(struct worker *w, struct relay_dir *d, struct relay_side *to, const char *data,
               size_t len)
{
    return relay_sendv(w, d, to, data, len, NULL, 0);
}

int relay_append(struct worker *w, struct relay_dir *d, struct relay_side *to, const char *data,
                 size_t len)
{
    if (d->batch && relay_flush(w, d, to) < 0) /* its bytes go first, written directly */
        return -1;
    if (!relay_pending(d))
        return relay_send(w, d, to, data, len);
    if (d->pipe_fill)
        return -1; /* bytes waiting in a pipe cannot be followed from a buffer here */
    uint32_t have = d->len;
    char *nb = malloc((size_t)have + len);
    if (!nb)
        return -1;
    memcpy(nb, d->buf + d->off, have);
    memcpy(nb + have, data, len);
    put_buf(w, d);
    d->buf = nb;
    d->big = true;
    d->off = 0;
    d->len = (uint32_t)(have + len);
    return 0;
}

/* Flush pending bytes of d. Returns 1 when all flushed, 0 when `to` blocks, -1 on error. */
int relay_flush(struct worker *w, struct relay_dir *d, struct relay_side *to)
{
    if (d->batch)
        unbatch(w, d, false); /* written directly below, once */
    if (d->buf) {
        ssize_t n = send(to->fd, d->buf + d->off, d->len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                to->wblocked = true;
                return 0;
            }
            return -1;
        }
        if (!consumed(w, d, to, n)) {
            to->wblocked = true;
            return 0;
        }
    }
    while (d->pipe_fill) {
        /* A long flow (a large download, a busy tunnel) is written out in RELAY_LONG_WRITE
         * pieces, however full the pipe: each splice holds the receiving socket's lock for a
         * quarter of the time, so the peer's ACKs are processed in the peer's context (on its
         * core) instead of queueing on the socket's backlog for this thread. Measured here on
         * 64 MiB downloads: 20-30 % less CPU on the proxy's core per download, 1.09-1.16x
         * haproxy's throughput where full-pipe writes were at parity (bench/RESULTS.md). Shorter
         * flows keep one write per pipeful: fewer system calls, which is what they are bound by. */
        size_t len = d->pipe_fill;
        if (d->bytes >= RELAY_LONG_FLOW && len > RELAY_LONG_WRITE)
            len = RELAY_LONG_WRITE;
        ssize_t n = splice(d->pipe.rd, NULL, to->fd, NULL, len, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                to->wblocked = true;
                return 0;
            }
            return -1;
        }
        to->last = w->now;
        d->pipe_fill -= (uint32_t)n;
        if (d->pipe_fill && (size_t)n < len) {
            to->wblocked = true;
            return 0;
        }
    }
    return 1;
}

enum relay_res relay_pump(struct worker *w, struct relay_dir *d, struct relay_side *from,
                          struct relay_side *to, bool skip_shutdown)
{
    for (;;) {
        if (relay_pending(d)) {
            if (to->wblocked)
                return RELAY_IDLE;
            int r = relay_flush(w, d, to);
            if (r < 0)
                return RELAY_ERR_TO;
            if (r == 0)
                return RELAY_IDLE;
        }
        if (d->limit == 0) {
            if (d->pipe.rd >= 0)
                pipe_pool_put(w->pipes, &d->pipe);
            return RELAY_DONE;
        }
        if (d->eof) {
            if (!d->shut) {
                if (!skip_shutdown)
                    shutdown(to->fd, SHUT_WR);
                d->shut = true;
            }
            if (d->pipe.rd >= 0)
                pipe_pool_put(w->pipes, &d->pipe);
            return RELAY_IDLE;
        }
        if (!from->readable)
            return RELAY_IDLE;

        if (d->bulk && !d->no_splice) {
            if (d->pipe.rd < 0 && pipe_pool_get(w->pipes, &d->pipe) < 0) {
                d->no_splice = true;
                continue;
            }
            size_t want = pipe_pool_size(w->pipes);
            if (want > d->limit)
                want = (size_t)d->limit;
            ssize_t n =
                splice(from->fd, NULL, d->pipe.wr, NULL, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            if (n > 0) {
                d->pipe_fill += (uint32_t)n;
                d->bytes += (uint64_t)n;
                if (d->limit != RELAY_UNLIMITED)
                    d->limit -= (uint64_t)n;
                from->last = w->now;
                if ((size_t)n < w->bufsize / 4 && (size_t)n < want)
                    d->bulk = false; /* the flow is small again: copies are cheaper */
                continue;
            }
            if (n == 0) {
                d->eof = true;
                continue;
            }
            if (errno == EAGAIN) {
                if (from->hup) { /* FIN already seen: the next read returns 0 */
                    from->hup = false;
                    d->bulk = false;
                    continue;
                }
                from->readable = false;
                if (!d->pipe_fill)
                    pipe_pool_put(w->pipes, &d->pipe);
                return RELAY_IDLE;
            }
            if (errno == EINTR)
                continue;
            if (errno == EINVAL || errno == ENOSYS) {
                d->no_splice = true;
                continue;
            }
            return RELAY_ERR_FROM;
        }

        size_t want = w->bufsize;
        if (want > d->limit)
            want = (size_t)d->limit;
        char *buf = w->scratch;
        ssize_t n = recv(from->fd, buf, want, MSG_DONTWAIT);
        if (n > 0) {
            d->bytes += (uint64_t)n;
            if (d->limit != RELAY_UNLIMITED)
                d->limit -= (uint64_t)n;
            from->last = w->now;
            if (relay_send(w, d, to, buf, (size_t)n) < 0)
                return RELAY_ERR_TO;
            if ((size_t)n == w->bufsize) {
                d->bulk = true;
                continue;
            }
            if ((size_t)n == want)
                continue; /* stopped by the limit, not by the socket */
            /* A short read drained the socket: the next data brings a new edge. */
            if (!from->hup) {
                from->readable = false;
                if (d->limit == 0)
                    continue;
                return RELAY_IDLE;
            }
            continue;
        }
        if (n == 0) {
            d->eof = true;
            continue;
        }
        if (errno == EAGAIN) {
            from->readable = false;
            return RELAY_IDLE;
        }
        if (errno == EINTR)
            continue;
        return RELAY_ERR_FROM;
    }
}
