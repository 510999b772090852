/* Socket helpers. */
#include "net/sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int sock_listen(const struct sockaddr *addr, socklen_t len, int backlog, bool reuseport)
{
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
        (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) ||
        bind(fd, addr, len) < 0 || listen(fd, backlog) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

int sock_connect(const struct sockaddr *addr, socklen_t len)
{
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    /* Nagle plus delayed ACKs stall small writes by 40 ms; a proxy forwards as it receives. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, addr, len) < 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

int sock_defer_accept(int fd, bool on)
{
    int secs = on ? 1 : 0;
    return setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, sizeof(secs)) < 0 ? -errno : 0;
}

void sock_close(int fd, bool nolinger)
{
    if (nolinger) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    close(fd);
}

int sock_error(int fd)
{
    int err = 0;
    socklen_t l = sizeof(err);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
        return errno;
    return err;
}

char *sock_addr_str_log(const struct sockaddr *addr, char *buf, size_t len)
{
    sock_addr_str(addr, buf, len);
    char *e = buf[0] == '[' ? strrchr(buf, ']') : NULL;
    if (e) {
        memmove(e, e + 1, strlen(e));
        memmove(buf, buf + 1, strlen(buf));
    }
    return buf;
}

char *sock_log_date(const struct timespec *ts, char *buf, size_t len)
{
    struct tm tm;
    localtime_r(&ts->tv_sec, &tm);
    size_t dl = strftime(buf, len, "%d/%b/%Y:%H:%M:%S", &tm);
    snprintf(buf + dl, len - dl, ".%03ld", ts->tv_nsec / 1000000);
    return buf;
}

char *sock_addr_str(const struct sockaddr *addr, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const void *)addr;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
        snprintf(buf, len, "%s:%u", ip, ntohs(a->sin_port));
    } else if (addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const void *)addr;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
        snprintf(buf, len, "[%s]:%u", ip, ntohs(a->sin6_port));
    } else if (addr->sa_family == AF_UNIX) {
        snprintf(buf, len, "unix");
    } else {
        snprintf(buf, len, "-");
    }
    return buf;
}
