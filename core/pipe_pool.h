/* Per-worker pool of kernel pipes for splice(): creating a pipe costs two syscalls (pipe2 +
 * F_SETPIPE_SZ), so empty pipes are kept for the next bulk transfer. */
#ifndef SLUICE_CORE_PIPE_POOL_H
#define SLUICE_CORE_PIPE_POOL_H

#include <stddef.h>

struct pipe_pair {
    int rd; /* read end, -1 when none */
    int wr; /* write end */
};

struct pipe_pool;

/* Keep at most max_idle empty pipes; new pipes are sized pipe_size bytes (best effort; 0 keeps the
 * kernel default). */
struct pipe_pool *pipe_pool_new(unsigned max_idle, unsigned pipe_size);
/* Close every idle pipe and free the pool; accepts NULL. */
void pipe_pool_free(struct pipe_pool *pp);

/* Take an empty pipe (from the pool, or a new one). Returns 0 or -errno. */
int pipe_pool_get(struct pipe_pool *pp, struct pipe_pair *out);
/* Return an EMPTY pipe to the pool (closed when the pool is full). */
void pipe_pool_put(struct pipe_pool *pp, struct pipe_pair *p);
/* Close a pipe that may still hold data (connection aborted). */
void pipe_pool_drop(struct pipe_pool *pp, struct pipe_pair *p);

/* Counters for tests and show info; safe to read from another thread (relaxed). */
unsigned pipe_pool_idle(const struct pipe_pool *pp);
unsigned pipe_pool_live(const struct pipe_pool *pp); /* pipes handed out and not returned */
unsigned pipe_pool_size(const struct pipe_pool *pp); /* capacity of the newest pipe, bytes; 0 before
                                                      * the first */

#endif
