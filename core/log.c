/* Logging: one target (stdout, stderr, a file, or syslog over a unix or UDP datagram socket).
 *
 * Workers never write to the target themselves: each has a lock-free byte ring of entries
 * ("<tag byte>TEXT\n"; the tag holds the severity and whether it is a message or a traffic line)
 * that a logger thread drains every LOG_FLUSH_MS. The logger copies a ring's span out at once
 * (freeing the ring), splits it at newlines and formats each line for the target: stream targets
 * get one write() per batch, syslog targets one datagram per line sent with sendmmsg() and
 * MSG_DONTWAIT. A full socket buffer costs the logger at most LOG_SEND_BUDGET_MS per flush, then
 * lines are dropped and counted; a slow disk or a full pipe stalls only the logger, and a worker
 * whose ring is full drops and counts. Other threads (main, acceptor, health checker) are off the
 * data path and format and send their messages themselves under a mutex.
 *
 * SIGUSR1 (logrotate) sets an atomic flag; the logger opens the path anew, swaps the descriptor
 * under the mutex (the direct writers use it too) and closes the old one. */
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LOG_RING_SIZE      (256u * 1024u)
#define LOG_FLUSH_MS       20
#define LOG_IDLE_MAX_MS    320            /* longest idle poll when no traffic is logged */
#define LOG_MSG_MAX        1024           /* a formatted log_msg text */
#define LOG_SYSLOG_LEN     1024           /* default `len` of syslog targets (HAProxy's) */
#define LOG_BATCH          64             /* datagrams per sendmmsg() */
#define LOG_OBUF_SIZE      (128u * 1024u) /* stream batch buffer */
#define LOG_HDR_MAX        192            /* the longest syslog header or level prefix */
#define LOG_SEND_BUDGET_MS 10             /* waiting for a full socket buffer, per flush */
#define LOG_TAG_MSG        0x08           /* tag bit: a log_msg line (else a traffic line) */
#define LOG_SEV_INFO       6

struct log_ring {
    alignas(64) _Atomic uint64_t head; /* consumer: logger thread */
    alignas(64) _Atomic uint64_t tail; /* producer: the worker */
    _Atomic uint64_t dropped;
    char *data; /* owned, LOG_RING_SIZE bytes */
};

/* The open target. Written by log_open/log_close before/after the other threads exist, except
 * `fd`, which the logger thread swaps under direct_lock on a reopen. */
struct log_out {
    enum cfg_log_kind kind;
    enum cfg_syslog_format format; /* resolved: never AUTO */
    int facility, level, minlevel;
    size_t len; /* 0: no limit */
    bool stream;
    bool own_fd;
    int fd;
    struct sockaddr_storage addr; /* UDP and unix: where datagrams go */
    socklen_t addrlen;
    char path[CFG_PATH_MAX]; /* file: reopened on SIGUSR1 */
    char host[64];
    int pid;
};

static struct log_out out = {.kind = CFG_LOG_STDERR,
                             .format = CFG_LOGFMT_RAW,
                             .facility = 16,
                             .level = 7,
                             .stream = true,
                             .fd = 2};
static struct log_ring *rings;
static unsigned nrings;
static pthread_t logger;
static bool logger_running;
static _Atomic bool logger_stop;
static _Atomic bool reopen_req;
static int logger_evfd = -1;         /* wakes the logger for a stop or a reopen */
static bool traffic_expected = true; /* log_set_traffic */
static _Atomic uint64_t send_dropped;
static _Atomic int64_t last_reconnect_ms;
static pthread_mutex_t direct_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_clock direct_clk = {.sec = -1}; /* under direct_lock */
static _Thread_local int my_ring = -1;

static const char *const sev_label[8] = {"[ALERT]  ", "[ALERT]  ", "[ALERT]  ", "[ALERT]  ",
                                         "[WARNING]", "[NOTICE] ", "[INFO]   ", "[DEBUG]  "};

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return; /* nothing sensible to do with a failing log target */
        }
        p += w;
        n -= (size_t)w;
    }
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- formatting ---------------------------------------------------------------------------- */

static void clock_update(struct log_clock *c, time_t sec)
{
    if (c->sec == sec)
        return;
    struct tm tm;
    localtime_r(&sec, &tm);
    strftime(c->r3164, sizeof(c->r3164), "%b %e %H:%M:%S", &tm);
    strftime(c->r5424, sizeof(c->r5424), "%Y-%m-%dT%H:%M:%S", &tm);
    long off = tm.tm_gmtoff / 60;
    char sign = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    snprintf(c->tz, sizeof(c->tz), "%c%02ld:%02ld", sign, (off / 60) % 100, off % 60);
    c->sec = sec;
}

size_t log_format_line(enum cfg_syslog_format format, int facility, int sev, int is_msg,
                       const char *host, int pid, const struct timeval *now, struct log_clock *clk,
                       const char *text, size_t n, int stream, size_t len, char *buf, size_t cap)
{
    if (cap < (stream ? 2u : 1u))
        return 0;
    size_t lim = cap - (stream ? 1 : 0);
    if (len && len < lim)
        lim = len;
    char hdr[LOG_HDR_MAX];
    int h = 0;
    int pri = facility * 8 + sev;
    if (format == CFG_LOGFMT_RFC3164) {
        clock_update(clk, now->tv_sec);
        h = snprintf(hdr, sizeof(hdr), "<%d>%s %s sluice[%d]: ", pri, clk->r3164,
                     host && host[0] ? host : "localhost", pid);
    } else if (format == CFG_LOGFMT_RFC5424) {
        clock_update(clk, now->tv_sec);
        h = snprintf(hdr, sizeof(hdr), "<%d>1 %s.%06ld%s %s sluice %d - - ", pri, clk->r5424,
                     (long)now->tv_usec, clk->tz, host && host[0] ? host : "-", pid);
    } else if (is_msg && stream) {
        h = snprintf(hdr, sizeof(hdr), "%s (%d) : ", sev_label[sev & 7], pid);
    }
    size_t o = h < 0 ? 0 : (size_t)h;
    if (o > sizeof(hdr) - 1)
        o = sizeof(hdr) - 1;
    if (o > lim)
        o = lim;
    memcpy(buf, hdr, o);
    size_t m = n < lim - o ? n : lim - o;
    memcpy(buf + o, text, m);
    o += m;
    if (stream)
        buf[o++] = '\n';
    return o;
}

/* ---- datagram sending ---------------------------------------------------------------------- */

/* Connect the unix datagram socket to the syslog socket: poll(POLLOUT) then reflects the
 * receiver's queue (unix(7)), and a restarted syslog daemon is found again by reconnecting. */
static int unix_connect(void)
{
    if (connect(out.fd, (const struct sockaddr *)&out.addr, out.addrlen) < 0)
        return -errno;
    return 0;
}

/* After the syslog daemon went away (ECONNREFUSED, ENOENT, ENOTCONN): try again at most once a
 * second. True when reconnected. */
static bool unix_reconnect(void)
{
    if (out.kind != CFG_LOG_UNIX)
        return false;
    int64_t now = mono_ms();
    int64_t last = atomic_load_explicit(&last_reconnect_ms, memory_order_relaxed);
    if (now - last < 1000 ||
        !atomic_compare_exchange_strong_explicit(&last_reconnect_ms, &last, now,
                                                 memory_order_relaxed, memory_order_relaxed))
        return false;
    return unix_connect() == 0;
}

/* Wait for room in the socket buffer within *budget_ms (decremented). */
static bool wait_writable(int *budget_ms)
{
    if (*budget_ms <= 0)
        return false;
    int64_t t0 = mono_ms();
    struct pollfd p = {.fd = out.fd, .events = POLLOUT};
    int r = poll(&p, 1, *budget_ms);
    *budget_ms -= (int)(mono_ms() - t0) + 1;
    return r > 0 && (p.revents & POLLOUT);
}

static bool is_gone(int e)
{
    return e == ECONNREFUSED || e == ENOENT || e == ENOTCONN || e == EDESTADDRREQ;
}

/* Send n prepared datagrams, never blocking: waits for buffer space within *budget_ms in all,
 * drops (and counts) what cannot go. */
static void dgram_send(struct mmsghdr *mm, unsigned n, int *budget_ms)
{
    unsigned i = 0;
    bool retried = false;
    while (i < n) {
        int r = sendmmsg(out.fd, mm + i, n - i, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (r > 0) {
            i += (unsigned)r;
            continue;
        }
        int e = r < 0 ? errno : EIO;
        if (e == EINTR)
            continue;
        if ((e == EAGAIN || e == ENOBUFS) && wait_writable(budget_ms))
            continue;
        if (is_gone(e) && !retried) {
            retried = true;
            if (unix_reconnect())
                continue;
        }
        if (e == EAGAIN || e == ENOBUFS || is_gone(e)) { /* the rest cannot go now */
            atomic_fetch_add_explicit(&send_dropped, n - i, memory_order_relaxed);
            return;
        }
        atomic_fetch_add_explicit(&send_dropped, 1, memory_order_relaxed); /* e.g. EMSGSIZE */
        i++;
    }
}

static void mmsg_set(struct mmsghdr *m, struct iovec *iov, char *p, size_t n)
{
    iov->iov_base = p;
    iov->iov_len = n;
    memset(m, 0, sizeof(*m));
    m->msg_hdr.msg_iov = iov;
    m->msg_hdr.msg_iovlen = 1;
    if (out.kind == CFG_LOG_UDP) { /* unconnected: no ICMP errors come back to the socket */
        m->msg_hdr.msg_name = &out.addr;
        m->msg_hdr.msg_namelen = out.addrlen;
    }
}

/* ---- the logger thread --------------------------------------------------------------------- */

struct logger_state {
    char *lin;  /* owned, LOG_RING_SIZE: a ring's span, linear */
    char *obuf; /* owned, LOG_OBUF_SIZE: stream batch */
    size_t olen;
    char *dbuf; /* owned, LOG_BATCH * dslot: one datagram per slot */
    size_t dslot;
    struct mmsghdr mm[LOG_BATCH];
    struct iovec iov[LOG_BATCH];
    unsigned nd;
    int budget_ms;
    struct timeval now;
    struct log_clock clk;
};

static void stream_flush(struct logger_state *L)
{
    if (!L->olen)
        return;
    /* Under the lock so that direct writers never interleave with a batch, and a reopen
     * cannot swap the descriptor under it. */
    pthread_mutex_lock(&direct_lock);
    write_all(out.fd, L->obuf, L->olen);
    pthread_mutex_unlock(&direct_lock);
    L->olen = 0;
}

static void dgram_flush(struct logger_state *L)
{
    if (L->nd)
        dgram_send(L->mm, L->nd, &L->budget_ms);
    L->nd = 0;
}

static void emit(struct logger_state *L, unsigned tag, const char *text, size_t n)
{
    int sev = (int)(tag & 7);
    if (sev < out.minlevel)
        sev = out.minlevel;
    bool msg = tag & LOG_TAG_MSG;
    if (out.stream) {
        if (LOG_OBUF_SIZE - L->olen < n + LOG_HDR_MAX + 1)
            stream_flush(L);
        L->olen +=
            log_format_line(out.format, out.facility, sev, msg, out.host, out.pid, &L->now, &L->clk,
                            text, n, 1, out.len, L->obuf + L->olen, LOG_OBUF_SIZE - L->olen);
        return;
    }
    char *slot = L->dbuf + L->nd * L->dslot;
    size_t m = log_format_line(out.format, out.facility, sev, msg, out.host, out.pid, &L->now,
                               &L->clk, text, n, 0, out.len, slot, L->dslot);
    mmsg_set(&L->mm[L->nd], &L->iov[L->nd], slot, m);
    if (++L->nd == LOG_BATCH)
        dgram_flush(L);
}

/* Returns false when the ring was empty. */
static bool ring_drain(struct logger_state *L, struct log_ring *r)
{
    uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (h == t)
        return false;
    size_t n = (size_t)(t - h);
    size_t off = h & (LOG_RING_SIZE - 1);
    size_t first = n < LOG_RING_SIZE - off ? n : LOG_RING_SIZE - off;
    memcpy(L->lin, r->data + off, first);
    memcpy(L->lin + first, r->data, n - first);
    atomic_store_explicit(&r->head, t, memory_order_release);
    /* Producers publish whole entries: the span is "<tag>TEXT\n" repeated. */
    const char *p = L->lin;
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t ln = nl ? (size_t)(nl - p) : n;
        if (ln > 0)
            emit(L, (unsigned char)p[0], p + 1, ln - 1);
        size_t step = nl ? ln + 1 : ln;
        p += step;
        n -= step;
    }
    return true;
}

static void reopen_file(void)
{
    int fd = open(out.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        int e = errno;
        log_msg(LOG_LV_ERR, "cannot reopen log file %s: %s (still writing to the old one)",
                out.path, strerror(e));
        return;
    }
    pthread_mutex_lock(&direct_lock);
    int old = out.fd;
    out.fd = fd;
    pthread_mutex_unlock(&direct_lock);
    close(old);
    log_msg(LOG_LV_NOTICE, "log file %s reopened", out.path);
}

static void *logger_main(void *arg)
{
    struct logger_state *L = arg;
    pthread_setname_np(pthread_self(), "sluice-log");
    int sleep_ms = LOG_FLUSH_MS;
    for (;;) {
        bool stop = atomic_load_explicit(&logger_stop, memory_order_acquire);
        bool reopen = atomic_exchange_explicit(&reopen_req, false, memory_order_acq_rel);
        gettimeofday(&L->now, NULL);
        L->budget_ms = LOG_SEND_BUDGET_MS;
        bool busy = false;
        for (unsigned i = 0; i < nrings; i++)
            busy |= ring_drain(L, &rings[i]);
        stream_flush(L);
        dgram_flush(L);
        /* After the drain: what was queued before the signal ends in the rotated file. */
        if (reopen && out.kind == CFG_LOG_FILE)
            reopen_file();
        if (stop)
            break;
        /* Traffic logs need the short poll (a burst must not overflow a worker's ring). With
         * only messages to carry, an idle logger backs off: an idle sluice should not wake 50
         * times a second; a message then shows up to LOG_IDLE_MAX_MS late. */
        if (busy || traffic_expected)
            sleep_ms = LOG_FLUSH_MS;
        else if (sleep_ms < LOG_IDLE_MAX_MS)
            sleep_ms *= 2;
        struct pollfd pfd = {.fd = logger_evfd, .events = POLLIN};
        uint64_t v;
        if (poll(&pfd, 1, sleep_ms) > 0 && read(logger_evfd, &v, sizeof(v)) < 0)
            sleep_ms = LOG_FLUSH_MS; /* nothing to do about it: poll at the short interval */
    }
    return NULL;
}

static void wake_logger(void)
{
    uint64_t one = 1;
    if (logger_evfd >= 0 && write(logger_evfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        fprintf(stderr, "[WARNING]  logger eventfd write failed: %s\n", strerror(errno));
}

void log_set_traffic(bool on)
{
    traffic_expected = on;
}

static struct logger_state *logger_state_new(void)
{
    struct logger_state *L = calloc(1, sizeof(*L));
    if (!L)
        return NULL;
    L->clk.sec = -1;
    L->dslot = out.len ? out.len : LOG_SYSLOG_LEN;
    L->lin = malloc(LOG_RING_SIZE);
    L->obuf = out.stream ? malloc(LOG_OBUF_SIZE) : NULL;
    L->dbuf = out.stream ? NULL : malloc(LOG_BATCH * L->dslot);
    if (!L->lin || (out.stream ? !L->obuf : !L->dbuf)) {
        free(L->lin);
        free(L->obuf);
        free(L->dbuf);
        free(L);
        return NULL;
    }
    return L;
}

static struct logger_state *logger_st; /* owned; main thread sets it, the logger uses it */
static int pid_override; /* log_set_pid: the master's PID in its children (core/master.c) */

/* ---- opening and closing ------------------------------------------------------------------- */

static int open_target(const char *target, const struct cfg_log *lg)
{
    out.kind = lg->kind;
    out.facility = lg->facility;
    out.level = lg->level;
    out.minlevel = lg->minlevel;
    out.stream = lg->kind != CFG_LOG_UNIX && lg->kind != CFG_LOG_UDP;
    out.format = lg->format != CFG_LOGFMT_AUTO ? lg->format
                 : out.stream                  ? CFG_LOGFMT_RAW
                                               : CFG_LOGFMT_RFC3164;
    out.len = lg->len ? (size_t)lg->len : out.stream ? 0 : LOG_SYSLOG_LEN;
    out.pid = pid_override ? pid_override : (int)getpid();
    if (gethostname(out.host, sizeof(out.host)) < 0)
        out.host[0] = '\0';
    out.host[sizeof(out.host) - 1] = '\0';
    switch (lg->kind) {
    case CFG_LOG_STDOUT:
        out.fd = 1;
        return 0;
    case CFG_LOG_STDERR:
        out.fd = 2;
        return 0;
    case CFG_LOG_FILE: {
        if (strlen(target) >= sizeof(out.path))
            return -ENAMETOOLONG;
        strcpy(out.path, target);
        int fd = open(target, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (fd < 0)
            return -errno;
        out.fd = fd;
        out.own_fd = true;
        return 0;
    }
    case CFG_LOG_UDP: {
        memcpy(&out.addr, &lg->addr, lg->addrlen);
        out.addrlen = lg->addrlen;
        int fd = socket(lg->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return -errno;
        out.fd = fd;
        out.own_fd = true;
        return 0;
    }
    case CFG_LOG_UNIX: {
        struct sockaddr_un *un = (struct sockaddr_un *)&out.addr;
        memset(&out.addr, 0, sizeof(out.addr));
        un->sun_family = AF_UNIX;
        if (strlen(target) >= sizeof(un->sun_path))
            return -ENAMETOOLONG;
        strcpy(un->sun_path, target);
        out.addrlen = (socklen_t)sizeof(*un);
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return -errno;
        out.fd = fd;
        out.own_fd = true;
        int rc = unix_connect();
        if (rc == -EPROTOTYPE)
            return rc; /* a stream socket: sluice speaks datagrams only */
        if (rc < 0)    /* the syslog daemon may come later: lines are dropped until then */
            fprintf(stderr,
                    "[WARNING]  (%d) : syslog socket %s: %s (lines are dropped until it "
                    "accepts them)\n",
                    out.pid, target, strerror(-rc));
        atomic_store(&last_reconnect_ms, mono_ms());
        return 0;
    }
    }
    return -EINVAL;
}

static void reset_target(void)
{
    if (out.own_fd)
        close(out.fd);
    out = (struct log_out){.kind = CFG_LOG_STDERR,
                           .format = CFG_LOGFMT_RAW,
                           .facility = 16,
                           .level = 7,
                           .stream = true,
                           .fd = 2};
}

static void logger_state_free(struct logger_state *L)
{
    if (!L)
        return;
    free(L->lin);
    free(L->obuf);
    free(L->dbuf);
    free(L);
}

static void free_rings(void)
{
    for (unsigned i = 0; i < nrings; i++)
        free(rings[i].data);
    free(rings);
    rings = NULL;
    nrings = 0;
}

int log_open(const char *target, unsigned nworkers)
{
    struct cfg_log lg = {.facility = 16, .level = 7};
    lg.kind = !target[0] || !strcmp(target, "stderr") ? CFG_LOG_STDERR
              : !strcmp(target, "stdout")             ? CFG_LOG_STDOUT
                                                      : CFG_LOG_FILE;
    return log_open_target(target, &lg, nworkers);
}

int log_open_target(const char *target, const struct cfg_log *lg, unsigned nworkers)
{
    int rc = open_target(target, lg);
    if (rc < 0) {
        reset_target();
        return rc;
    }
    rings = calloc(nworkers ? nworkers : 1, sizeof(*rings));
    logger_st = rings ? logger_state_new() : NULL;
    if (!logger_st) {
        free(rings);
        rings = NULL;
        reset_target();
        return -ENOMEM;
    }
    for (unsigned i = 0; i < nworkers; i++) {
        rings[i].data = malloc(LOG_RING_SIZE);
        if (!rings[i].data) {
            nrings = i;
            free_rings();
            logger_state_free(logger_st);
            logger_st = NULL;
            reset_target();
            return -ENOMEM;
        }
    }
    nrings = nworkers;
    atomic_store(&logger_stop, false);
    atomic_store(&reopen_req, false);
    logger_evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    rc = logger_evfd < 0 ? errno : pthread_create(&logger, NULL, logger_main, logger_st);
    if (rc) {
        if (logger_evfd >= 0)
            close(logger_evfd);
        logger_evfd = -1;
        free_rings();
        logger_state_free(logger_st);
        logger_st = NULL;
        reset_target();
        return -rc;
    }
    logger_running = true;
    return 0;
}

/* core/master.c: the master forks, so it keeps no logger thread (its few messages are direct). */
int log_open_direct(const char *target, const struct cfg_log *lg)
{
    int rc = open_target(target, lg);
    if (rc < 0)
        reset_target();
    return rc;
}

void log_set_pid(int pid)
{
    pid_override = pid;
}

void log_close(void)
{
    if (logger_running) {
        atomic_store_explicit(&logger_stop, true, memory_order_release);
        wake_logger();
        pthread_join(logger, NULL);
        logger_running = false;
        close(logger_evfd);
        logger_evfd = -1;
    }
    free_rings();
    logger_state_free(logger_st);
    logger_st = NULL;
    reset_target();
}

void log_reopen(void)
{
    atomic_store_explicit(&reopen_req, true, memory_order_release);
    wake_logger();
}

uint64_t log_dropped(void)
{
    uint64_t n = atomic_load_explicit(&send_dropped, memory_order_relaxed);
    for (unsigned i = 0; i < nrings; i++)
        n += atomic_load_explicit(&rings[i].dropped, memory_order_relaxed);
    return n;
}

void log_set_worker(unsigned id)
{
    my_ring = (int)id;
}

/* ---- producers ----------------------------------------------------------------------------- */

static void ring_copy(struct log_ring *r, uint64_t pos, const char *src, size_t n)
{
    size_t off = pos & (LOG_RING_SIZE - 1);
    size_t first = n < LOG_RING_SIZE - off ? n : LOG_RING_SIZE - off;
    memcpy(r->data + off, src, first);
    memcpy(r->data, src + first, n - first);
}

/* Queue "<tag>TEXT\n" in ring `id`. A newline inside TEXT would split the entry: it becomes a
 * space (the rare slow path). */
static void ring_put(unsigned id, unsigned tag, const char *text, size_t n)
{
    struct log_ring *r = &rings[id];
    if (n && text[n - 1] == '\n')
        n--;
    uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
    if (n + 2 > LOG_RING_SIZE - (t - h)) {
        atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
        return;
    }
    char c = (char)tag;
    ring_copy(r, t, &c, 1);
    if (!memchr(text, '\n', n)) {
        ring_copy(r, t + 1, text, n);
    } else {
        for (size_t i = 0; i < n; i++) {
            c = text[i] == '\n' ? ' ' : text[i];
            ring_copy(r, t + 1 + i, &c, 1);
        }
    }
    c = '\n';
    ring_copy(r, t + 1 + n, &c, 1);
    atomic_store_explicit(&r->tail, t + n + 2, memory_order_release);
}

void log_traffic(unsigned id, const char *line, size_t len)
{
    if (id >= nrings || LOG_SEV_INFO > out.level)
        return;
    ring_put(id, LOG_SEV_INFO, line, len);
}

/* A message from a thread without a ring: format and send it here. */
static void direct_emit(int sev, const char *text, size_t n)
{
    char buf[LOG_MSG_MAX + LOG_HDR_MAX + 2];
    struct timeval now;
    gettimeofday(&now, NULL);
    int s = sev < out.minlevel ? out.minlevel : sev;
    pthread_mutex_lock(&direct_lock);
    size_t m =
        log_format_line(out.format, out.facility, s, 1, out.host, out.pid ? out.pid : (int)getpid(),
                        &now, &direct_clk, text, n, out.stream, out.len, buf, sizeof(buf));
    if (out.stream) {
        write_all(out.fd, buf, m);
    } else {
        /* Off the data path, but the acceptor and health threads must not stall either: wait
         * for a full syslog socket only briefly. */
        int budget = 5;
        struct iovec iov;
        struct mmsghdr mm;
        mmsg_set(&mm, &iov, buf, m);
        dgram_send(&mm, 1, &budget);
    }
    bool copy = sev <= 3 && out.kind != CFG_LOG_STDERR && out.kind != CFG_LOG_STDOUT;
    pthread_mutex_unlock(&direct_lock);
    /* Errors also reach stderr when the log goes elsewhere (an operator starting sluice by hand
     * sees why it failed; a daemon's stderr is /dev/null). */
    if (copy) {
        m = log_format_line(CFG_LOGFMT_RAW, 0, sev, 1, NULL, (int)getpid(), &now, NULL, text, n, 1,
                            0, buf, sizeof(buf));
        write_all(2, buf, m);
    }
}

void log_msg(enum log_level lv, const char *fmt, ...)
{
    int sev = (int)lv + 3; /* err, warning, notice, info, debug */
    if (sev > out.level)
        return;
    char text[LOG_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    size_t len = (size_t)m < sizeof(text) - 1 ? (size_t)m : sizeof(text) - 1;
    if (my_ring >= 0 && (unsigned)my_ring < nrings) {
        ring_put((unsigned)my_ring, (unsigned)sev | LOG_TAG_MSG, text, len);
        return;
    }
    direct_emit(sev, text, len);
}
