/* Acceptor. accept4() in a loop until EAGAIN, push each socket into the least-loaded worker's SPSC
 * inbox, then wake each worker that received sockets once per batch, and only if it is asleep.
 * Limits: at global or frontend `maxconn` the listeners are paused (connections wait in the
 * kernel's backlog, as with HAProxy) until a worker reports a finished session. On EMFILE/ENFILE
 * accepting pauses for ACCEPT_PAUSE_MS with one log line, instead of spinning on a ready socket. */
#include "core/acceptor.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"

#define ACCEPT_PAUSE_MS     100
#define ACCEPT_EVENTS       64
#define ACCEPT_MAX_SLEEP_MS 1000

struct acceptor {
    struct runtime *rt; /* borrowed */
    pthread_t thread;
    int epfd;
    bool started;
    _Atomic bool stop;
    uint64_t *assigned; /* owned: sockets handed to each worker (this thread writes) */
    bool *to_wake;      /* owned: workers that got sockets in this batch */
    bool *fe_paused;    /* owned: per frontend */
    bool all_paused;    /* global maxconn or EMFILE */
    uint64_t resume_at; /* EMFILE pause end, 0 when not paused for EMFILE */
    uint64_t last_emfile_log;
};

static struct acceptor acc;

static void set_listening(size_t fi, bool on)
{
    struct frontend *fe = &acc.rt->fes[fi];
    for (size_t i = 0; i < fe->cfg->nbinds; i++) {
        struct epoll_event e = {.events = on ? EPOLLIN : 0,
                                .data.u64 = HANDOFF_PACK(fi, i, fe->fds[i])};
        epoll_ctl(acc.epfd, EPOLL_CTL_MOD, fe->fds[i], &e);
    }
}

static void apply_pauses(void)
{
    struct runtime *rt = acc.rt;
    for (size_t fi = 0; fi < rt->nfes; fi++) {
        struct frontend *fe = &rt->fes[fi];
        bool want = !acc.all_paused;
        if (want && fe->cfg->maxconn > 0 &&
            atomic_load_explicit(&fe->live, memory_order_acquire) >= fe->cfg->maxconn)
            want = false;
        if (want == !acc.fe_paused[fi])
            continue;
        acc.fe_paused[fi] = !want;
        set_listening(fi, want);
    }
}

static struct worker *pick_worker(unsigned *idx)
{
    struct runtime *rt = acc.rt;
    unsigned best = 0;
    uint64_t best_live = UINT64_MAX;
    for (unsigned i = 0; i < rt->nworkers; i++) {
        uint64_t closed = atomic_load_explicit(&rt->workers[i].closed, memory_order_relaxed);
        uint64_t live = acc.assigned[i] - closed;
        if (live < best_live) {
            best_live = live;
            best = i;
        }
    }
    *idx = best;
    return &rt->workers[best];
}

/* Returns false when accepting must pause (limit reached or out of descriptors). */
static bool accept_batch(uint64_t lkey)
{
    struct runtime *rt = acc.rt;
    size_t fi = HANDOFF_FE(lkey);
    int lfd = HANDOFF_FD(lkey);
    struct frontend *fe = &rt->fes[fi];
    for (;;) {
        if (atomic_load_explicit(&rt->live, memory_order_acquire) >= rt->cfg->maxconn ||
            (fe->cfg->maxconn > 0 &&
             atomic_load_explicit(&fe->live, memory_order_acquire) >= fe->cfg->maxconn))
            return false;
        union peer_addr peer;
        socklen_t plen = sizeof(peer);
        int fd = accept4(lfd, &peer.sa, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
                return true;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                uint64_t now = clock_mono_ms();
                if (now - acc.last_emfile_log > 10000) {
                    log_msg(LOG_LV_ERR,
                            "frontend %s: accept() failed (%s): pausing "
                            "accepts for %d ms (raise ulimit -n or lower maxconn)",
                            fe->cfg->name, strerror(errno), ACCEPT_PAUSE_MS);
                    acc.last_emfile_log = now;
                }
                acc.resume_at = now + ACCEPT_PAUSE_MS;
                return false;
            }
            log_msg(LOG_LV_WARN, "frontend %s: accept() failed: %s", fe->cfg->name,
                    strerror(errno));
            return true;
        }
        unsigned wi;
        struct worker *w = pick_worker(&wi);
        atomic_fetch_add_explicit(&rt->live, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&fe->live, 1, memory_order_relaxed);
        /* The peer address rides in a slot parallel to the ring: written before the push that
         * publishes it, so the worker needs no getpeername(). */
        w->inbox_addr[ring_tail_slot(&w->inbox)] = peer;
        if (!ring_push(&w->inbox, HANDOFF_PACK(fi, HANDOFF_BIND(lkey), fd))) {
            /* The least-loaded worker's inbox is full: it is far behind; shed this one. */
            atomic_fetch_sub_explicit(&rt->live, 1, memory_order_relaxed);
            atomic_fetch_sub_explicit(&fe->live, 1, memory_order_relaxed);
            close(fd);
            continue;
        }
        acc.assigned[wi]++;
        acc.to_wake[wi] = true;
    }
}

static void *acceptor_main(void *arg)
{
    (void)arg;
    struct runtime *rt = acc.rt;
    struct epoll_event ev[ACCEPT_EVENTS];
    pthread_setname_np(pthread_self(), "sluice-accept");
    /* SCHED_BATCH: a new connection does not preempt a running worker to be accepted; the
     * acceptor runs when the worker sleeps or its slice ends, and then takes every waiting
     * connection in one wake-up. On a core shared with the workers this halves the context
     * switches per new connection (S2 in bench/RESULTS.md); an idle core still runs it at
     * once. Best effort: a refusal (seccomp, a container's policy) changes nothing else. */
    struct sched_param sp = {.sched_priority = 0};
    pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
    while (!atomic_load_explicit(&acc.stop, memory_order_acquire)) {
        int timeout = ACCEPT_MAX_SLEEP_MS; /* re-check limits now and then, come what may */
        if (acc.resume_at) {
            uint64_t now = clock_mono_ms();
            timeout = now >= acc.resume_at ? 0 : (int)(acc.resume_at - now);
        }
        int n = epoll_wait(acc.epfd, ev, ACCEPT_EVENTS, timeout);
        if (n < 0 && errno != EINTR) {
            log_msg(LOG_LV_ERR, "acceptor: epoll_wait failed: %s", strerror(errno));
            break;
        }
        if (acc.resume_at && clock_mono_ms() >= acc.resume_at)
            acc.resume_at = 0;
        bool limited = acc.resume_at != 0;
        for (int i = 0; i < n && !limited; i++) {
            uint64_t d = ev[i].data.u64;
            if (d == UINT64_MAX) {
                uint64_t v;
                if (read(rt->acceptor_evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                    log_msg(LOG_LV_WARN, "acceptor: eventfd read: %s", strerror(errno));
                continue;
            }
            if (!accept_batch(d))
                limited = true;
        }
        for (unsigned i = 0; i < rt->nworkers; i++) {
            if (acc.to_wake[i]) {
                acc.to_wake[i] = false;
                worker_wake(&rt->workers[i]);
            }
        }
        /* Under a limit, ask workers to signal the next finished session, then re-check: a
         * session that ended between the check and the flag must not be missed. */
        if (limited || atomic_load_explicit(&rt->live, memory_order_acquire) >= rt->cfg->maxconn)
            atomic_store_explicit(&rt->acceptor_waiting, true, memory_order_seq_cst);
        acc.all_paused = acc.resume_at != 0 ||
                         atomic_load_explicit(&rt->live, memory_order_seq_cst) >= rt->cfg->maxconn;
        apply_pauses();
        bool any_paused = acc.all_paused;
        for (size_t fi = 0; fi < rt->nfes; fi++)
            any_paused |= acc.fe_paused[fi];
        if (any_paused)
            atomic_store_explicit(&rt->acceptor_waiting, true, memory_order_seq_cst);
    }
    return NULL;
}

int acceptor_start(struct runtime *rt, char *err, size_t errlen)
{
    memset(&acc, 0, sizeof(acc));
    acc.rt = rt;
    acc.epfd = epoll_create1(EPOLL_CLOEXEC);
    acc.assigned = calloc(rt->nworkers, sizeof(*acc.assigned));
    acc.to_wake = calloc(rt->nworkers, sizeof(*acc.to_wake));
    acc.fe_paused = calloc(rt->nfes ? rt->nfes : 1, sizeof(*acc.fe_paused));
    if (acc.epfd < 0 || !acc.assigned || !acc.to_wake || !acc.fe_paused) {
        snprintf(err, errlen, "cannot set up the acceptor: %s", strerror(errno ? errno : ENOMEM));
        return -ENOMEM;
    }
    struct epoll_event e = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
    if (epoll_ctl(acc.epfd, EPOLL_CTL_ADD, rt->acceptor_evfd, &e) < 0) {
        snprintf(err, errlen, "cannot watch the acceptor eventfd: %s", strerror(errno));
        return -errno;
    }
    for (size_t fi = 0; fi < rt->nfes; fi++) {
        struct frontend *fe = &rt->fes[fi];
        for (size_t i = 0; i < fe->cfg->nbinds; i++) {
            struct epoll_event le = {.events = EPOLLIN,
                                     .data.u64 = HANDOFF_PACK(fi, i, fe->fds[i])};
            if (epoll_ctl(acc.epfd, EPOLL_CTL_ADD, fe->fds[i], &le) < 0) {
                snprintf(err, errlen, "cannot watch listener %s: %s", fe->cfg->binds[i].text,
                         strerror(errno));
                return -errno;
            }
        }
    }
    int rc = pthread_create(&acc.thread, NULL, acceptor_main, NULL);
    if (rc) {
        snprintf(err, errlen, "cannot start the acceptor thread: %s", strerror(rc));
        return -rc;
    }
    acc.started = true;
    return 0;
}

void acceptor_stop(struct runtime *rt)
{
    if (acc.started) {
        atomic_store_explicit(&acc.stop, true, memory_order_release);
        uint64_t one = 1;
        if (write(rt->acceptor_evfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
            log_msg(LOG_LV_WARN, "acceptor: eventfd write: %s", strerror(errno));
        pthread_join(acc.thread, NULL);
        acc.started = false;
    }
    if (acc.epfd > 0)
        close(acc.epfd);
    acc.epfd = -1;
    free(acc.assigned);
    free(acc.to_wake);
    free(acc.fe_paused);
    acc.assigned = NULL;
    acc.to_wake = NULL;
    acc.fe_paused = NULL;
}
