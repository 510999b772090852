/* systemd readiness notification (sd_notify) over the plain NOTIFY_SOCKET datagram protocol. */
#ifndef SLUICE_CORE_NOTIFY_H
#define SLUICE_CORE_NOTIFY_H

#include <stdbool.h>

/* True when the service manager asked for notifications (NOTIFY_SOCKET is set). */
bool notify_enabled(void);

/* Send `state` (newline-separated "KEY=VALUE" assignments, e.g. "READY=1\nSTATUS=...") to
 * $NOTIFY_SOCKET: a path, or an abstract socket written "@name". Returns 1 when sent, 0 when
 * NOTIFY_SOCKET is unset (nothing to do), -errno on failure. Blocking for at most one local
 * datagram; main thread (never a worker). */
int notify_send(const char *state);

/* READY=1 with MAINPID (so a daemonised process is tracked) and a STATUS line. */
int notify_ready(const char *status);

/* RELOADING=1 with MONOTONIC_USEC (required by Type=notify-reload units) at the start of a
 * reload; call notify_ready() when the new configuration serves. */
int notify_reloading(void);

/* STOPPING=1 when a stop signal starts the drain. */
int notify_stopping(const char *status);

#endif
