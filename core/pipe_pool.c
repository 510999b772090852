/* Pipe pool: a LIFO of empty pipes, owned by one worker. */
#include "core/pipe_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

struct pipe_pool {
    unsigned max_idle;
    unsigned nidle;
    unsigned live;
    unsigned pipe_size; /* requested */
    unsigned actual;    /* what the kernel granted the last time */
    struct pipe_pair idle[];
};

struct pipe_pool *pipe_pool_new(unsigned max_idle, unsigned pipe_size)
{
    struct pipe_pool *pp = calloc(1, sizeof(*pp) + max_idle * sizeof(struct pipe_pair));
    if (!pp)
        return NULL;
    pp->max_idle = max_idle;
    pp->pipe_size = pipe_size;
    pp->actual = 65536;
    return pp;
}

void pipe_pool_free(struct pipe_pool *pp)
{
    if (!pp)
        return;
    for (unsigned i = 0; i < pp->nidle; i++) {
        close(pp->idle[i].rd);
        close(pp->idle[i].wr);
    }
    free(pp);
}

int pipe_pool_get(struct pipe_pool *pp, struct pipe_pair *out)
{
    if (pp->nidle > 0) {
        *out = pp->idle[--pp->nidle];
        pp->live++;
        return 0;
    }
    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
        return -errno;
    /* Larger pipes mean fewer splice calls per MiB; the kernel caps the size at
     * /proc/sys/fs/pipe-max-size for unprivileged users, so a failure keeps the default. */
    int sz = fcntl(fds[1], F_SETPIPE_SZ, (int)pp->pipe_size);
    if (sz > 0)
        pp->actual = (unsigned)sz;
    out->rd = fds[0];
    out->wr = fds[1];
    pp->live++;
    return 0;
}

void pipe_pool_put(struct pipe_pool *pp, struct pipe_pair *p)
{
    if (p->rd < 0)
        return;
    pp->live--;
    if (pp->nidle < pp->max_idle) {
        pp->idle[pp->nidle++] = *p;
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
    pp->live--;
    close(p->rd);
    close(p->wr);
    p->rd = p->wr = -1;
}

unsigned pipe_pool_idle(const struct pipe_pool *pp)
{
    return pp->nidle;
}

unsigned pipe_pool_live(const struct pipe_pool *pp)
{
    return pp->live;
}

unsigned pipe_pool_size(const struct pipe_pool *pp)
{
    return pp->actual;
}
