/* Workers: one thread per core, each with its own loop, timers, pools and connections. Also the
 * process-wide run-time model (frontends, workers) that main, the acceptor and workers share. */
#ifndef SLUICE_CORE_WORKER_H
#define SLUICE_CORE_WORKER_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "balancer/lb.h"
#include "balancer/server.h"
#include "config/model.h"
#include "core/loop.h"
#include "core/ring.h"
#include "core/stats.h"
#include "core/timer.h"

struct worker;
struct frontend;
struct send_batch;

/* The client's address as accept4() returned it (AF_UNSPEC when unknown). */
union peer_addr {
    struct sockaddr sa;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
};

/* Called on the worker that received a new client socket from the frontend's bind line `bind`.
 * Takes ownership of fd; `peer` is only valid during the call. */
typedef void (*frontend_accept_fn)(struct worker *w, struct frontend *fe, unsigned bind, int fd,
                                   const union peer_addr *peer);

/* Inbox items pack the frontend index, the bind line index (< 256) and the fd. */
#define HANDOFF_PACK(fi, bi, fd) (((uint64_t)(fi) << 40) | ((uint64_t)(bi) << 32) | (uint32_t)(fd))
#define HANDOFF_FE(v)            ((size_t)((v) >> 40))
#define HANDOFF_BIND(v)          ((unsigned)(((v) >> 32) & 0xff))
#define HANDOFF_FD(v)            ((int)(uint32_t)(v))

struct frontend {
    const struct cfg_proxy *cfg; /* borrowed */
    struct backend *be;          /* borrowed: default backend at run time */
    unsigned idx;
    int *fds; /* owned listening sockets, cfg->nbinds entries */
    frontend_accept_fn on_accept;
    alignas(64) _Atomic int live; /* sessions of this frontend, all workers */
    _Atomic uint64_t total;
};

/* A session waiting for a server slot (maxconn): intrusive FIFO per worker and backend.
 * `retry` is called when a slot may be free; it returns false when the session must keep
 * waiting (it then stays first in line). */
struct queue_link {
    struct queue_link *next, **pprev;
    bool (*retry)(struct worker *w, struct queue_link *l);
};

struct queue_head {
    struct queue_link *first;
    struct queue_link **last;
    unsigned len;
};

/* Every live session is on its worker's list so that a drain deadline can abort what is left. */
struct session_link {
    struct session_link *next, **pprev;
    void (*abort)(struct session_link *l); /* close now, counting it as killed */
    /* One `show sess` line (no newline) into buf; returns its length. Worker thread only. */
    int (*describe)(struct session_link *l, char *buf, size_t len);
};

/* Something whose memory is freed after the current event batch (deferred close). */
struct deferred {
    struct deferred *next;
    void (*free_fn)(struct deferred *d);
};

struct pipe_pool;

struct worker {
    unsigned id;
    pthread_t thread;
    struct runtime *rt; /* borrowed */
    struct loop *loop;  /* owned */
    struct timer_wheel tw;
    uint64_t now; /* coarse monotonic ms, read once per iteration */

    /* hand-off from the acceptor: HANDOFF_PACK items */
    struct ring inbox;
    union peer_addr *inbox_addr; /* owned: the peer of each inbox slot (saves a getpeername) */
    int evfd;                    /* eventfd written by other threads to wake this one */
    struct loop_handler ev_h;
    alignas(64) _Atomic bool sleeping; /* set around epoll_wait; wakers skip the eventfd if clear */
    _Atomic bool wake_dequeue;         /* a server slot was freed somewhere: retry queues */

    alignas(64) _Atomic uint64_t closed; /* sessions finished here (this worker writes) */
    _Atomic uint64_t accepted;           /* sessions started here (this worker writes) */
    _Atomic uint64_t batched_sends;      /* writes submitted through w->sends (this worker) */
    _Atomic uint64_t batch_calls;        /* system calls that submitted them (this worker) */
    _Atomic uint64_t batch_blocked;      /* of the writes, those the socket did not take whole */
    _Atomic int send_batching;           /* 1 when w->sends exists (show info) */
    unsigned live;                       /* sessions alive on this worker */
    unsigned queued;                     /* of which waiting in a queue */

    struct session_link *sessions; /* every live session (borrowed links) */
    struct deferred *to_free;      /* freed after the batch */
    struct lb_cursor **cursors;    /* owned, one per backend */
    struct queue_head *queues;     /* owned, one per backend */
    struct pipe_pool *pipes;       /* owned */
    uint32_t bufsize;              /* tune.bufsize: bytes of every buffer below */
    void *buf_free;                /* free list of bufsize buffers */
    unsigned buf_free_count;
    char *scratch;            /* owned bufsize bytes for read-then-write */
    struct send_batch *sends; /* owned writes batched until the end of an event batch, or NULL */
    uint64_t seed;            /* xorshift state for per-worker randomness */
    void *proto;              /* owned by the protocol module (see worker_proto_free_hook) */

    /* `show sess`: sessions live in this worker's private list, so the runtime API asks the
     * worker to describe them (dump_req) and waits for the text (dump_done, release). */
    _Atomic int dump_req;
    _Atomic int dump_done;
    char *dump_buf; /* malloc'ed by the worker, freed by the reader */
    size_t dump_len;
    struct stats_worker *st; /* borrowed: this worker's counter slots in rt->stats (or NULL) */
};

enum rt_state { RT_RUNNING = 0, RT_DRAINING, RT_STOPPED };

struct runtime {
    const struct config *cfg; /* borrowed */
    struct balancer *bal;     /* borrowed */
    struct frontend *fes;     /* owned */
    size_t nfes;
    struct worker *workers; /* owned */
    unsigned nworkers;
    struct stats *stats; /* owned by main: per-worker counters (core/stats.h), NULL in tests */
    alignas(64) _Atomic int live; /* sessions, all frontends */
    _Atomic int state;            /* enum rt_state */
    uint64_t drain_deadline;      /* coarse ms; valid once DRAINING */
    int acceptor_evfd;            /* wakes the acceptor when a slot frees under maxconn */
    _Atomic bool acceptor_waiting;
};

/* Create and start every worker thread (pinned to CPU id % online CPUs). Returns 0 or -errno
 * with a message in err. Main thread. */
int workers_start(struct runtime *rt, char *err, size_t errlen);
/* Ask workers to stop (drain first when `drain`), then join them and free their state. */
void workers_stop(struct runtime *rt);
/* Wake every worker (drain/stop state changed). Any thread. */
void workers_wake_all(struct runtime *rt);
/* Ask worker w to describe its live sessions and wait up to timeout_ms for the text; returns a
 * malloc'ed string (the caller frees it) or NULL when the worker did not answer in time. Not on
 * a worker thread (the runtime API's thread). */
char *worker_dump_sessions(struct worker *w, unsigned timeout_ms, size_t *len);

/* Wake worker w if it is asleep in its poller. Any thread. */
void worker_wake(struct worker *w);

/* Queue of deferred frees: d->free_fn(d) runs after the current event batch. Worker only. */
static inline void worker_defer_free(struct worker *w, struct deferred *d)
{
    d->next = w->to_free;
    w->to_free = d;
}

/* Buffers of w->bufsize bytes from the worker's free list. NULL on ENOMEM. Worker only. */
char *worker_buf_get(struct worker *w);
void worker_buf_put(struct worker *w, char *buf);

/* A session started / ended on w: list membership and counters; the end also wakes the acceptor
 * if it waits for a slot under maxconn. Worker only. */
void worker_session_begin(struct worker *w, struct session_link *l);
void worker_session_done(struct worker *w, struct frontend *fe, struct session_link *l);
/* A connection the acceptor handed over gets no session (refused by a rule, out of memory):
 * close fd and keep the counters the acceptor started right. Worker only. */
void worker_session_refused(struct worker *w, struct frontend *fe, int fd);

/* Queue helpers (FIFO). Worker only. */
void queue_push(struct queue_head *q, struct queue_link *l);
void queue_remove(struct queue_head *q, struct queue_link *l);
struct queue_link *queue_pop(struct queue_head *q);

/* After a server slot was freed in backend `be`: retry this worker's queue and let the others know.
 * Worker only. */
void worker_slot_freed(struct worker *w, struct backend *be);

/* Called by every worker once per loop iteration, before it sleeps (e.g. to take answers from
 * a helper thread's ring; the helper then wakes the worker with worker_wake). NULL when unused.
 * Set by main before workers start. */
extern void (*worker_poll_hook)(struct worker *w);

/* Called by every worker after each batch of events and before it sleeps, when w->sends exists:
 * submits the writes queued in it; returns true when some are still queued (the worker then
 * polls without sleeping). Set by main before workers start (net/relay.c's relay_batch_flush). */
extern bool (*worker_flush_hook)(struct worker *w);

/* Protocol modules keep per-worker state in w->proto (created lazily on the worker) and free
 * it through this hook when the worker is destroyed. */
extern void (*worker_proto_free_hook)(struct worker *w);

static inline uint64_t worker_rand(struct worker *w)
{
    uint64_t x = w->seed;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return w->seed = x;
}

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#endif
