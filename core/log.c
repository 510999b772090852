/* Logging. Workers never write to the log file themselves: each has a lock-free byte ring that a
 * logger thread drains every LOG_FLUSH_MS with one write() per ring, so a slow disk or a full pipe
 * stalls only the logger. Other threads (main, acceptor, health checker) are off the data path and
 * share a mutex-protected direct write. */
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_RING_SIZE (256u * 1024u)
#define LOG_FLUSH_MS  20

struct log_ring {
    alignas(64) _Atomic uint64_t head; /* consumer: logger thread */
    alignas(64) _Atomic uint64_t tail; /* producer: the worker */
    _Atomic uint64_t dropped;
    char *data; /* owned, LOG_RING_SIZE bytes */
};

static int log_fd = 2;
static bool log_own_fd;
static struct log_ring *rings;
static unsigned nrings;
static pthread_t logger;
static bool logger_running;
static _Atomic bool logger_stop;
static pthread_mutex_t direct_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local int my_ring = -1;

static const char *const level_name[] = {"[ALERT]  ", "[WARNING]", "[NOTICE] ", "[INFO]   ",
                                         "[DEBUG]  "};

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

static void ring_drain(struct log_ring *r)
{
    uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
    while (h != t) {
        size_t off = h & (LOG_RING_SIZE - 1);
        size_t n = t - h;
        if (n > LOG_RING_SIZE - off)
            n = LOG_RING_SIZE - off;
        write_all(log_fd, r->data + off, n);
        h += n;
    }
    atomic_store_explicit(&r->head, h, memory_order_release);
}

static void *logger_main(void *arg)
{
    (void)arg;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = LOG_FLUSH_MS * 1000000L};
    for (;;) {
        bool stop = atomic_load_explicit(&logger_stop, memory_order_acquire);
        for (unsigned i = 0; i < nrings; i++)
            ring_drain(&rings[i]);
        if (stop)
            break;
        nanosleep(&ts, NULL);
    }
    return NULL;
}

int log_open(const char *target, unsigned nworkers)
{
    if (!target[0] || !strcmp(target, "stderr")) {
        log_fd = 2;
    } else if (!strcmp(target, "stdout")) {
        log_fd = 1;
    } else {
        int fd = open(target, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (fd < 0)
            return -errno;
        log_fd = fd;
        log_own_fd = true;
    }
    rings = calloc(nworkers, sizeof(*rings));
    if (!rings)
        return -ENOMEM;
    for (unsigned i = 0; i < nworkers; i++) {
        rings[i].data = malloc(LOG_RING_SIZE);
        if (!rings[i].data)
            return -ENOMEM;
    }
    nrings = nworkers;
    atomic_store(&logger_stop, false);
    int rc = pthread_create(&logger, NULL, logger_main, NULL);
    if (rc)
        return -rc;
    logger_running = true;
    return 0;
}

void log_close(void)
{
    if (logger_running) {
        atomic_store_explicit(&logger_stop, true, memory_order_release);
        pthread_join(logger, NULL);
        logger_running = false;
    }
    for (unsigned i = 0; i < nrings; i++)
        free(rings[i].data);
    free(rings);
    rings = NULL;
    nrings = 0;
    if (log_own_fd)
        close(log_fd);
    log_own_fd = false;
    log_fd = 2;
}

void log_set_worker(unsigned id)
{
    my_ring = (int)id;
}

void log_traffic(unsigned id, const char *line, size_t len)
{
    if (id >= nrings)
        return;
    struct log_ring *r = &rings[id];
    uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
    if (len > LOG_RING_SIZE - (t - h)) {
        atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
        return;
    }
    size_t off = t & (LOG_RING_SIZE - 1);
    size_t first = len < LOG_RING_SIZE - off ? len : LOG_RING_SIZE - off;
    memcpy(r->data + off, line, first);
    memcpy(r->data, line + first, len - first);
    atomic_store_explicit(&r->tail, t + len, memory_order_release);
}

void log_msg(enum log_level lv, const char *fmt, ...)
{
    char line[1024];
    int n = snprintf(line, sizeof(line), "%s (%d) : ", level_name[lv], (int)getpid());
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    if (my_ring >= 0 && (unsigned)my_ring < nrings) {
        log_traffic((unsigned)my_ring, line, len);
        return;
    }
    pthread_mutex_lock(&direct_lock);
    write_all(log_fd, line, len);
    pthread_mutex_unlock(&direct_lock);
}
