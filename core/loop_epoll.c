/* epoll implementation of core/loop.h. */
#include "core/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

struct loop {
    int epfd;
    unsigned batch;
    struct epoll_event ev[];
};

struct loop *loop_new(unsigned batch)
{
    struct loop *l = malloc(sizeof(*l) + batch * sizeof(struct epoll_event));
    if (!l)
        return NULL;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        int e = errno;
        free(l);
        errno = e;
        return NULL;
    }
    l->batch = batch;
    return l;
}

void loop_free(struct loop *l)
{
    if (!l)
        return;
    close(l->epfd);
    free(l);
}

static int ctl_add(struct loop *l, struct loop_handler *h, uint32_t events)
{
    struct epoll_event e = {.events = events, .data.ptr = h};
    return epoll_ctl(l->epfd, EPOLL_CTL_ADD, h->fd, &e) < 0 ? -errno : 0;
}

int loop_add(struct loop *l, struct loop_handler *h)
{
    return ctl_add(l, h, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
}

int loop_add_level_in(struct loop *l, struct loop_handler *h)
{
    return ctl_add(l, h, EPOLLIN);
}

static uint32_t level_events(unsigned events)
{
    return ((events & LOOP_IN) ? EPOLLIN : 0u) | ((events & LOOP_OUT) ? EPOLLOUT : 0u);
}

int loop_add_level(struct loop *l, struct loop_handler *h, unsigned events)
{
    return ctl_add(l, h, level_events(events));
}

int loop_mod_level(struct loop *l, struct loop_handler *h, unsigned events)
{
    struct epoll_event e = {.events = level_events(events), .data.ptr = h};
    return epoll_ctl(l->epfd, EPOLL_CTL_MOD, h->fd, &e) < 0 ? -errno : 0;
}

int loop_del(struct loop *l, int fd)
{
    return epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL) < 0 ? -errno : 0;
}

int loop_wait(struct loop *l, int timeout_ms)
{
    int n = epoll_wait(l->epfd, l->ev, (int)l->batch, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    return n;
}

void loop_dispatch(struct loop *l, int n)
{
    for (int i = 0; i < n; i++) {
        uint32_t e = l->ev[i].events;
        unsigned ev = 0;
        if (e & EPOLLIN)
            ev |= LOOP_IN;
        if (e & EPOLLOUT)
            ev |= LOOP_OUT;
        if (e & (EPOLLRDHUP | EPOLLHUP))
            ev |= LOOP_HUP;
        if (e & EPOLLERR)
            ev |= LOOP_ERR;
        struct loop_handler *h = l->ev[i].data.ptr;
        h->fn(h, ev);
    }
}
