/* The health-checker thread: probes servers, ramps slowstart weights, republishes Maglev tables.
 *
 * One thread with its own epoll instance runs every probe without blocking: a non-blocking
 * connect (`option tcp-check` or the default), then for `option httpchk` a one-shot HTTP/1.0
 * request whose status line decides. Each checked server has one probe at a time, with a deadline
 * (`timeout check`, else `inter`) and a next start time: `inter` while steadily up, `fastinter`
 * while results disagree with the current state, `downinter` while down. `fall` consecutive
 * failures take an up server DOWN, `rise` consecutive successes bring a down one back UP; servers
 * start UP. After coming back, a server with `slowstart` has its effective weight ramped from 1 to
 * its weight over that time.
 *
 * Each loop iteration also looks at every backend's generation: when it moved (this thread's own
 * changes, or main's), a `balance source` backend gets its Maglev table rebuilt if the usable set
 * or weights changed, and the old table is retired through core/epoch.h and reclaimed here later.
 * The loop sleeps until the next deadline, at most HEALTH_MAX_SLEEP_MS. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "balancer/health.h"
#include "balancer/lb_internal.h"
#include "core/clock.h"
#include "core/epoch.h"
#include "core/log.h"
#include "core/stktable.h"

#define HEALTH_MAX_SLEEP_MS 100u
#define HEALTH_RAMP_MIN_MS  100u /* slowstart weight update step: slowstart / 20 within these */
#define HEALTH_RAMP_MAX_MS  250u

enum hc_phase { HC_IDLE = 0, HC_CONNECTING, HC_SENDING, HC_READING };

struct hc {
    struct server *s; /* borrowed */
    int fd;           /* -1 while idle */
    enum hc_phase phase;
    uint64_t next;     /* monotonic ms: start of the next probe (idle) */
    uint64_t deadline; /* monotonic ms: end of the running probe */
    int ok, fail;      /* consecutive results that disagree with the state (rise/fall counts) */
    uint64_t ramp_start, ramp_next; /* slowstart in progress when ramp_start != 0 */
    char req[CFG_PATH_MAX + 64];    /* HTTP request, empty for TCP checks */
    size_t reqlen, sent;
    char rx[128]; /* start of the HTTP response */
    size_t rcvd;
    char reason[96]; /* why the last probe failed */
    int code;        /* HTTP status of the running probe, 0: none yet (statistics) */
    bool timed_out;  /* the running probe hit its deadline (statistics) */
};

static struct {
    pthread_t thread;
    bool running;
    int epfd, evfd;
    struct balancer *b; /* borrowed */
    struct hc *checks;  /* owned, nchecks */
    size_t nchecks;
    uint64_t *seen_gen; /* owned, one per backend */
    _Atomic bool stop;
} H = {.epfd = -1, .evfd = -1};

static uint32_t cfg_inter(const struct cfg_server *c)
{
    return c->inter ? c->inter : 2000;
}

static uint32_t cfg_fastinter(const struct cfg_server *c)
{
    return c->fastinter ? c->fastinter : cfg_inter(c);
}

static uint32_t cfg_downinter(const struct cfg_server *c)
{
    return c->downinter ? c->downinter : cfg_inter(c);
}

static int cfg_rise(const struct cfg_server *c)
{
    return c->rise > 0 ? c->rise : 2;
}

static int cfg_fall(const struct cfg_server *c)
{
    return c->fall > 0 ? c->fall : 3;
}

static uint32_t check_timeout(const struct hc *h)
{
    uint32_t t = h->s->be->cfg->timeout.check;
    return t ? t : cfg_inter(h->s->cfg);
}

/* Interval before the next probe, from the state and the pending counts (HAProxy's choice). */
static uint32_t next_interval(const struct hc *h)
{
    const struct cfg_server *c = h->s->cfg;
    if (server_is_up(h->s))
        return h->fail > 0 ? cfg_fastinter(c) : cfg_inter(c);
    return h->ok > 0 ? cfg_fastinter(c) : cfg_downinter(c);
}

static void set_reason_errno(struct hc *h, int err)
{
    switch (err) {
    case ECONNREFUSED:
        snprintf(h->reason, sizeof(h->reason), "connection refused");
        break;
    case ETIMEDOUT:
        snprintf(h->reason, sizeof(h->reason), "timeout");
        break;
    case ECONNRESET:
        snprintf(h->reason, sizeof(h->reason), "connection reset");
        break;
    default: {
        char buf[64];
        /* GNU strerror_r (_GNU_SOURCE): returns the message, maybe not in buf */
        const char *msg = strerror_r(err, buf, sizeof(buf));
        snprintf(h->reason, sizeof(h->reason), "%s", msg);
        break;
    }
    }
}

/* After a DOWN transition: does the backend still have a server to send traffic to? */
static void log_if_backend_empty(const struct backend *be)
{
    for (size_t i = 0; i < be->nservers; i++)
        if (lb__usable(&be->servers[i]))
            return;
    log_msg(LOG_LV_ERR, "backend %s has no server available!", be->cfg->name);
}

static void ramp_start(struct hc *h, uint64_t now)
{
    const struct cfg_server *c = h->s->cfg;
    if (c->slowstart == 0 || c->weight <= 0)
        return;
    h->ramp_start = now;
    h->ramp_next = now;
}

/* Advance a slowstart ramp: eweight = weight * elapsed / slowstart, at least 1 (HAProxy's). The
 * weight is the operator's (runtime API), 0 while drained; the runtime API writes eweight too, so
 * the last step re-reads the target after its store (both sides are seq_cst) and fixes it up. */
static void ramp_step(struct hc *h, uint64_t now)
{
    const struct cfg_server *c = h->s->cfg;
    uint64_t elapsed = now - h->ramp_start;
    int full = server_target_weight(h->s);
    if (elapsed >= c->slowstart) {
        for (;;) {
            server_set_weight(h->s, full);
            atomic_thread_fence(memory_order_seq_cst);
            int again = server_target_weight(h->s);
            if (again == full)
                break;
            full = again;
        }
        h->ramp_start = 0;
        return;
    }
    uint64_t w = (uint64_t)full * elapsed / c->slowstart;
    server_set_weight(h->s, w < 1 && full > 0 ? 1 : (int)w);
    uint32_t step = c->slowstart / 20;
    step = step < HEALTH_RAMP_MIN_MS ? HEALTH_RAMP_MIN_MS : step;
    step = step > HEALTH_RAMP_MAX_MS ? HEALTH_RAMP_MAX_MS : step;
    h->ramp_next = now + step;
}

/* Publish the probe's result for the statistics (HAProxy's check_status / check_code). */
static void record_check(struct hc *h, bool ok)
{
    struct server *s = h->s;
    enum srv_check c;
    if (h->reqlen && h->phase >= HC_SENDING)
        c = ok             ? SRV_CHK_L7OK
            : h->code      ? SRV_CHK_L7STS
            : h->timed_out ? SRV_CHK_L7TOUT
                           : SRV_CHK_L7RSP;
    else
        c = ok ? SRV_CHK_L4OK : h->timed_out ? SRV_CHK_L4TOUT : SRV_CHK_L4CON;
    atomic_store_explicit(&s->check_status, (int)c, memory_order_relaxed);
    atomic_store_explicit(&s->check_code, h->code, memory_order_relaxed);
    if (!ok)
        atomic_fetch_add_explicit(&s->chk_fail, 1, memory_order_relaxed);
    h->code = 0;
    h->timed_out = false;
}

/* Count one probe result and move the server's state when a threshold is reached. */
static void check_done(struct hc *h, bool ok, uint64_t now)
{
    record_check(h, ok);
    if (h->fd >= 0) {
        close(h->fd); /* also drops it from the epoll set: the fd is not shared */
        h->fd = -1;
    }
    h->phase = HC_IDLE;
    struct server *s = h->s;
    const struct cfg_server *c = s->cfg;
    int st = atomic_load_explicit(&s->state, memory_order_relaxed);
    if (st == SRV_ST_MAINT) {
        h->ok = h->fail = 0; /* results do not count in maintenance */
    } else if (st == SRV_ST_UP) {
        h->ok = 0;
        h->fail = ok ? 0 : h->fail + 1;
        if (h->fail >= cfg_fall(c)) {
            h->fail = 0;
            h->ramp_start = 0;
            /* compare-and-swap: a maintenance set meanwhile by the runtime API wins */
            if (server_change_state(s, SRV_ST_UP, SRV_ST_DOWN))
                log_msg(LOG_LV_WARN, "server %s/%s is DOWN (%s, %d/%d checks failed)",
                        s->be->cfg->name, c->name, h->reason, cfg_fall(c), cfg_fall(c));
            log_if_backend_empty(s->be);
        }
    } else {
        h->fail = 0;
        h->ok = ok ? h->ok + 1 : 0;
        if (h->ok >= cfg_rise(c)) {
            h->ok = 0;
            ramp_start(h, now);
            if (h->ramp_start)
                ramp_step(h, now);
            if (server_change_state(s, SRV_ST_DOWN, SRV_ST_UP))
                log_msg(LOG_LV_NOTICE, "server %s/%s is UP (%d/%d checks passed)", s->be->cfg->name,
                        c->name, cfg_rise(c), cfg_rise(c));
        }
    }
    h->next = now + next_interval(h);
}

static void check_fail_errno(struct hc *h, int err, uint64_t now)
{
    set_reason_errno(h, err);
    check_done(h, false, now);
}

static int watch(struct hc *h, int op, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = h};
    return epoll_ctl(H.epfd, op, h->fd, &ev) < 0 ? -errno : 0;
}

/* The status line is in: judge it. Returns true when the check is decided. */
static bool http_judge(struct hc *h, bool eof, uint64_t now)
{
    char *eol = memchr(h->rx, '\n', h->rcvd);
    if (!eol && !eof && h->rcvd < sizeof(h->rx) - 1)
        return false; /* wait for the rest of the line */
    h->rx[h->rcvd] = '\0';
    int major, minor, status;
    char sp;
    if (sscanf(h->rx, "HTTP/%d.%d %3d%c", &major, &minor, &status, &sp) != 4 || sp != ' ' ||
        status < 100 || status > 599) {
        /* "HTTP/1.0 200\r\n" without a reason phrase is valid too */
        if (sscanf(h->rx, "HTTP/%d.%d %3d", &major, &minor, &status) != 3 || status < 100 ||
            status > 599) {
            snprintf(h->reason, sizeof(h->reason),
                     h->rcvd ? "invalid HTTP response" : "empty response");
            check_done(h, false, now);
            return true;
        }
    }
    h->code = status;
    int expect = h->s->be->cfg->httpchk_expect_status;
    bool ok = expect ? status == expect : (status >= 200 && status < 400);
    snprintf(h->reason, sizeof(h->reason), "HTTP status %d", status);
    check_done(h, ok, now);
    return true;
}

static void http_send(struct hc *h, uint64_t now)
{
    while (h->sent < h->reqlen) {
        ssize_t n = send(h->fd, h->req + h->sent, h->reqlen - h->sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                h->phase = HC_SENDING;
                return; /* EPOLLOUT is still watched */
            }
            check_fail_errno(h, errno, now);
            return;
        }
        h->sent += (size_t)n;
    }
    h->phase = HC_READING;
    int rc = watch(h, EPOLL_CTL_MOD, EPOLLIN | EPOLLRDHUP);
    if (rc < 0)
        check_fail_errno(h, -rc, now);
}

static void http_recv(struct hc *h, uint64_t now)
{
    for (;;) {
        ssize_t n = recv(h->fd, h->rx + h->rcvd, sizeof(h->rx) - 1 - h->rcvd, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EINTR)
                continue;
            check_fail_errno(h, errno, now);
            return;
        }
        h->rcvd += (size_t)n;
        if (http_judge(h, n == 0, now))
            return;
    }
}

static void on_connected(struct hc *h, uint64_t now)
{
    if (h->reqlen == 0) {
        check_done(h, true, now);
        return;
    }
    h->sent = 0;
    h->rcvd = 0;
    http_send(h, now);
}

static void check_start(struct hc *h, uint64_t now)
{
    const struct cfg_server *c = h->s->cfg;
    if (atomic_load_explicit(&h->s->state, memory_order_relaxed) == SRV_ST_MAINT) {
        h->next = now + cfg_inter(c);
        return;
    }
    h->deadline = now + check_timeout(h);
    h->fd = socket(c->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (h->fd < 0) {
        check_fail_errno(h, errno, now);
        return;
    }
    /* close() sends a reset: no TIME_WAIT piles up from probes every `inter` (HAProxy does too) */
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(h->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    if (connect(h->fd, (const struct sockaddr *)&c->addr, c->addrlen) == 0) {
        if (h->reqlen && watch(h, EPOLL_CTL_ADD, EPOLLOUT) < 0) {
            check_fail_errno(h, errno, now);
            return;
        }
        on_connected(h, now);
        return;
    }
    if (errno != EINPROGRESS) {
        check_fail_errno(h, errno, now);
        return;
    }
    h->phase = HC_CONNECTING;
    int rc = watch(h, EPOLL_CTL_ADD, EPOLLOUT);
    if (rc < 0)
        check_fail_errno(h, -rc, now);
}

static void on_event(struct hc *h, uint32_t events, uint64_t now)
{
    if (h->phase == HC_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            err = errno;
        if (err == 0 && (events & (EPOLLERR | EPOLLHUP)))
            err = ECONNREFUSED;
        if (err)
            check_fail_errno(h, err, now);
        else
            on_connected(h, now);
    } else if (h->phase == HC_SENDING) {
        http_send(h, now);
    } else if (h->phase == HC_READING) {
        http_recv(h, now);
    }
}

/* Rebuild the tables of backends whose generation moved. */
static void refresh_tables(void)
{
    for (size_t i = 0; i < H.b->nbackends; i++) {
        struct backend *be = &H.b->backends[i];
        uint64_t gen = atomic_load_explicit(&be->gen, memory_order_acquire);
        if (gen == H.seen_gen[i])
            continue;
        if (backend_uses_maglev(be) && lb__maglev_refresh(be, false) < 0) {
            log_msg(LOG_LV_ERR, "backend %s: out of memory rebuilding its hash table",
                    be->cfg->name);
            continue; /* try again next time */
        }
        H.seen_gen[i] = gen;
    }
}

/* How often the next slice of the stick tables is swept for expired entries (this thread is the
 * one that retires shared memory through the epoch scheme; tables are walked a lock group at a
 * time, a bounded slice per call). */
#define STK_SWEEP_MS 100u

static void *health_main(void *arg)
{
    (void)arg;
    struct epoll_event evs[64];
    uint64_t next_sweep = 0;
    while (!atomic_load_explicit(&H.stop, memory_order_acquire)) {
        uint64_t now = clock_mono_ms();
        if (now >= next_sweep) {
            stktable_sweep((uint32_t)clock_coarse_ms()); /* the workers' clock */
            next_sweep = now + STK_SWEEP_MS;
        }
        uint64_t wake = now + HEALTH_MAX_SLEEP_MS;
        for (size_t i = 0; i < H.nchecks; i++) {
            struct hc *h = &H.checks[i];
            if (h->phase != HC_IDLE && now >= h->deadline) {
                snprintf(h->reason, sizeof(h->reason), "timeout");
                h->timed_out = true;
                check_done(h, false, now);
            }
            if (h->phase == HC_IDLE && now >= h->next)
                check_start(h, now);
            if (h->ramp_start && now >= h->ramp_next)
                ramp_step(h, now);
            uint64_t t = h->phase == HC_IDLE ? h->next : h->deadline;
            wake = t < wake ? t : wake;
            if (h->ramp_start && h->ramp_next < wake)
                wake = h->ramp_next;
        }
        refresh_tables();
        epoch_reclaim();

        int timeout = wake > now ? (int)(wake - now) : 0;
        int n = epoll_wait(H.epfd, evs, 64, timeout);
        if (n < 0 && errno != EINTR) {
            log_msg(LOG_LV_ERR, "health checks: epoll_wait failed (%d: %s)", errno,
                    strerror(errno));
            break;
        }
        now = clock_mono_ms();
        for (int k = 0; k < n; k++) {
            if (evs[k].data.ptr)
                on_event(evs[k].data.ptr, evs[k].events, now);
        }
    }
    return NULL;
}

static void health_cleanup(void)
{
    for (size_t i = 0; i < H.nchecks; i++)
        if (H.checks[i].fd >= 0)
            close(H.checks[i].fd);
    free(H.checks);
    free(H.seen_gen);
    if (H.epfd >= 0)
        close(H.epfd);
    if (H.evfd >= 0)
        close(H.evfd);
    H.checks = NULL;
    H.seen_gen = NULL;
    H.nchecks = 0;
    H.epfd = H.evfd = -1;
}

int health_start(struct balancer *b)
{
    if (H.running)
        return -EALREADY;
    size_t n = 0;
    for (size_t i = 0; i < b->nbackends; i++)
        for (size_t j = 0; j < b->backends[i].nservers; j++)
            n += b->backends[i].servers[j].cfg->check;
    H.b = b;
    H.checks = calloc(n ? n : 1, sizeof(*H.checks));
    H.seen_gen = calloc(b->nbackends ? b->nbackends : 1, sizeof(*H.seen_gen));
    H.epfd = epoll_create1(EPOLL_CLOEXEC);
    H.evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int rc = 0;
    if (!H.checks || !H.seen_gen)
        rc = -ENOMEM;
    else if (H.epfd < 0 || H.evfd < 0)
        rc = -errno;
    if (rc == 0) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
        if (epoll_ctl(H.epfd, EPOLL_CTL_ADD, H.evfd, &ev) < 0)
            rc = -errno;
    }
    if (rc < 0) {
        health_cleanup();
        return rc;
    }

    uint64_t now = clock_mono_ms();
    for (size_t i = 0; i < b->nbackends; i++) {
        struct backend *be = &b->backends[i];
        H.seen_gen[i] = UINT64_MAX; /* look at every backend once */
        for (size_t j = 0; j < be->nservers; j++) {
            struct server *s = &be->servers[j];
            if (!s->cfg->check)
                continue;
            struct hc *h = &H.checks[H.nchecks];
            h->s = s;
            h->fd = -1;
            /* spread the first probes over the interval instead of all at once */
            h->next = now + (uint64_t)cfg_inter(s->cfg) * H.nchecks / n;
            if (be->cfg->check_type == CFG_CHECK_HTTP) {
                const char *m = be->cfg->httpchk_method[0] ? be->cfg->httpchk_method : "OPTIONS";
                const char *u = be->cfg->httpchk_uri[0] ? be->cfg->httpchk_uri : "/";
                int len = snprintf(h->req, sizeof(h->req),
                                   "%s %s HTTP/1.0\r\nConnection: close\r\n\r\n", m, u);
                h->reqlen = len > 0 && (size_t)len < sizeof(h->req) ? (size_t)len : 0;
            }
            H.nchecks++;
        }
    }
    atomic_store_explicit(&H.stop, false, memory_order_relaxed);
    rc = pthread_create(&H.thread, NULL, health_main, NULL);
    if (rc != 0) {
        health_cleanup();
        return -rc;
    }
    H.running = true;
    return 0;
}

void health_stop(void)
{
    if (!H.running)
        return;
    atomic_store_explicit(&H.stop, true, memory_order_release);
    uint64_t one = 1;
    if (write(H.evfd, &one, sizeof(one)) < 0) {
        /* the counter cannot overflow from one write; the thread also wakes within
         * HEALTH_MAX_SLEEP_MS on its own */
    }
    pthread_join(H.thread, NULL);
    H.running = false;
    health_cleanup();
}
