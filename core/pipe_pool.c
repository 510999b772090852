/* Pipe pool: a LIFO of empty pipes, owned by one worker. */
#include "core/pipe_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

/* The counters are written by the owning worker only; they are atomics so that the runtime API
 * can read them (show info) from its own thread. */
struct pipe_pool {
    unsigned max_idle;
    unsigned pipe_size; /* requested */
    _Atomic unsigned nidle;
    _Atomic unsigned live;
    _Atomic unsigned actual; /* what the kernel granted the newest pipe; 0 before the first */
    struct pipe_pair idle[];
};

#define LOAD(x)     atomic_load_explicit(&(x), memory_order_relaxed)
#define STORE(x, v) atomic_store_explicit(&(x), (v), memory_order_relaxed)

struct pipe_pool *pipe_pool_new(unsigned max_idle, unsigned pipe_size)
{
    struct pipe_pool *pp = calloc(1, sizeof(*pp) + max_idle * sizeof(struct pipe_pair));
    if (!pp)
        return NULL;
    pp->max_idle = max_idle;
    pp->pipe_size = pipe_size;
    return pp;
}

void pipe_pool_free(struct pipe_pool *pp)
{
    if (!pp)
        return;
    for (unsigned i = 0; i < LOAD(pp->nidle); i++) {
        close(pp->idle[i].rd);
        close(pp->idle[i].wr);
    }
    free(pp);
}

int pipe_pool_get(struct pipe_pool *pp, struct pipe_pair *out)
{
    unsigned nidle = LOAD(pp->nidle);
    if (nidle > 0) {
        *out = pp->idle[nidle - 1];
        STORE(pp->nidle, nidle - 1);
        STORE(pp->live, LOAD(pp->live) + 1);
        return 0;
    }
    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
        return -errno;
    /* Larger pipes mean fewer splice calls per MiB; the kernel caps the size at
     * /proc/sys/fs/pipe-max-size for unprivileged users, so a failure keeps the default. */
    int sz = pp->pipe_size ? fcntl(fds[1], F_SETPIPE_SZ, (int)pp->pipe_size) : -1;
    if (sz <= 0)
        sz = fcntl(fds[1], F_GETPIPE_SZ);
    if (sz > 0)
        STORE(pp->actual, (unsigned)sz);
    out->rd = fds[0];
    out->wr = fds[1];
    STORE(pp->live, LOAD(pp->live) + 1);
    return 0;
}

void pipe_pool_put(struct pipe_pool *pp, struct pipe_pair *p)
{
    if (p->rd < 0)
        return;
    STORE(pp->live, LOAD(pp->live) - 1);
    unsigned nidle = LOAD(pp->nidle);
    if (nidle < pp->max_idle) {
        pp->idle[nidle] = *p;
        STORE(pp->nidle, nidle + 1);
    } else {
        close(p->rd);
        close(p->wr);
    }
    p->rd = p->wr = -1;
}

void pipe_pool_drop(struct pipe_pool *pp, struct pipe_pair *p)
{
    if (p->rd < 0)
        return;
    STORE(pp->live, LOAD(pp->live) - 1);
    close(p->rd);
    close(p->wr);
    p->rd = p->wr = -1;
}

unsigned pipe_pool_idle(const struct pipe_pool *pp)
{
    return LOAD(pp->nidle);
}

unsigned pipe_pool_live(const struct pipe_pool *pp)
{
    return LOAD(pp->live);
}

unsigned pipe_pool_size(const struct pipe_pool *pp)
{
    return LOAD(pp->actual);
}
