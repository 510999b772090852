/* sd_notify without libsystemd.
 *
 * The protocol is one datagram: a unix SOCK_DGRAM socket sends "READY=1\n..." to the address in
 * $NOTIFY_SOCKET (a path, or "@name" for an abstract socket), see sd_notify(3). Linking
 * libsystemd for that would add a shared-library dependency (and its transitive ones) to every
 * build, including non-systemd hosts and containers, for ~40 lines of code; systemd documents the
 * protocol as stable for exactly this reason. No credentials or file descriptors are passed, so
 * the plain sendto() is the whole implementation. */
#include "core/notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

bool notify_enabled(void)
{
    const char *p = getenv("NOTIFY_SOCKET");
    return p && p[0];
}

int notify_send(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !path[0])
        return 0;
    struct sockaddr_un un;
    memset(&un, 0, sizeof(un));
    un.sun_family = AF_UNIX;
    size_t n = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || n >= sizeof(un.sun_path))
        return -EINVAL; /* vsock: and other transports are not supported */
    memcpy(un.sun_path, path, n);
    if (path[0] == '@')
        un.sun_path[0] = '\0'; /* abstract namespace: the length delimits the name */
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/'));
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    ssize_t w;
    do
        w = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&un, len);
    while (w < 0 && errno == EINTR);
    int rc = w < 0 ? -errno : 1;
    close(fd);
    return rc;
}

int notify_ready(const char *status)
{
    char msg[512];
    snprintf(msg, sizeof(msg), "READY=1\nMAINPID=%d\nSTATUS=%s", (int)getpid(),
             status ? status : "ready");
    return notify_send(msg);
}

int notify_reloading(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    char msg[128];
    snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading",
             (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000);
    return notify_send(msg);
}

int notify_stopping(const char *status)
{
    char msg[512];
    snprintf(msg, sizeof(msg), "STOPPING=1\nSTATUS=%s", status ? status : "stopping");
    return notify_send(msg);
}
