/* The event loop interface: readiness events on file descriptors, edge-triggered.
 * loop_epoll.c implements it with epoll; another poller can sit behind the same calls. */
#ifndef SLUICE_CORE_LOOP_H
#define SLUICE_CORE_LOOP_H

#include <stdint.h>

#define LOOP_IN  0x1u
#define LOOP_OUT 0x2u
#define LOOP_HUP 0x4u /* peer closed its side (RDHUP) or hang-up */
#define LOOP_ERR 0x8u

struct loop_handler;
typedef void (*loop_fn)(struct loop_handler *h, unsigned events);

/* Embed in the object that owns fd; recover it with container_of in fn. */
struct loop_handler {
    int fd;
    loop_fn fn;
};

struct loop;

/* Create a loop able to wait on up to `batch` events per call. NULL with errno on failure. */
struct loop *loop_new(unsigned batch);
void loop_free(struct loop *l);

/* Watch h->fd for every event once, edge-triggered (IN, OUT, HUP): the caller keeps its own
 * want-read/want-write state, so no re-registration is ever needed. Returns 0 or -errno. */
int loop_add(struct loop *l, struct loop_handler *h);
/* Watch h->fd level-triggered for input only (listeners, eventfds). */
int loop_add_level_in(struct loop *l, struct loop_handler *h);
/* Watch h->fd level-triggered for `events` (LOOP_IN and/or LOOP_OUT), for libraries that
 * announce the interest they need (c-ares' socket-state callback): an event keeps firing while
 * the condition holds. loop_mod_level changes the interest of an fd added with loop_add_level.
 * Return 0 or -errno. */
int loop_add_level(struct loop *l, struct loop_handler *h, unsigned events);
int loop_mod_level(struct loop *l, struct loop_handler *h, unsigned events);
/* Stop watching fd (needed only when the fd stays open; close() removes it). */
int loop_del(struct loop *l, int fd);

/* Wait up to timeout_ms (-1: forever) for events. Returns how many are ready or -errno (EINTR is
 * returned as 0). Split from dispatch so the caller can read the clock after a long sleep and
 * before handlers stamp activity with it. */
int loop_wait(struct loop *l, int timeout_ms);
/* Call the handlers of the n events returned by the last loop_wait. */
void loop_dispatch(struct loop *l, int n);

#endif
