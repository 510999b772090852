/* Socket helpers: listeners, non-blocking connects, address formatting. */
#ifndef SLUICE_NET_SOCK_H
#define SLUICE_NET_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

/* A non-blocking listening TCP socket with SO_REUSEADDR and TCP_NODELAY (inherited by accepted
 * sockets on Linux, which saves a setsockopt per connection); SO_REUSEPORT when reuseport.
 * Returns the fd or -errno. */
int sock_listen(const struct sockaddr *addr, socklen_t len, int backlog, bool reuseport);

/* Start a non-blocking connect with TCP_NODELAY. Returns the fd (connection in progress or
 * established) or -errno when it failed at once (ECONNREFUSED, ENETUNREACH, EMFILE...). */
int sock_connect(const struct sockaddr *addr, socklen_t len);

/* TCP_DEFER_ACCEPT on a listening socket (bind option defer-accept): a connection is accepted
 * once data has arrived on it, or after one SYN-ACK retransmission. Off clears it (a listener kept
 * across a reload). Returns 0 or -errno. */
int sock_defer_accept(int fd, bool on);

/* Close fd. nolinger (HAProxy's option nolinger): with SO_LINGER {on, 0} first, so the kernel
 * drops unsent data and sends a reset instead of a FIN, and keeps no FIN_WAIT or TIME_WAIT state.
 */
void sock_close(int fd, bool nolinger);

/* The pending error of a socket (SO_ERROR), 0 when none. */
int sock_error(int fd);

/* "1.2.3.4:80" or "[::1]:80" into buf (at least 64 bytes); returns buf. */
char *sock_addr_str(const struct sockaddr *addr, char *buf, size_t len);

/* The client fields of HAProxy's log formats: "1.2.3.4:80" or "::1:80" (IPv6 without brackets,
 * as HAProxy prints it and halog expects it); returns buf. */
char *sock_addr_str_log(const struct sockaddr *addr, char *buf, size_t len);

/* HAProxy's log date "27/Nov/2026:09:54:53.887" (local time) into buf; returns buf. */
char *sock_log_date(const struct timespec *ts, char *buf, size_t len);

#endif
