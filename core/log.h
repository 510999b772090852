/* Logging: operator messages and traffic logs, never blocking a worker. */
#ifndef SLUICE_CORE_LOG_H
#define SLUICE_CORE_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "config/model.h"

/* Message levels; their syslog severities are err (3), warning (4), notice (5), info (6) and
 * debug (7). Traffic logs are sent at info. */
enum log_level { LOG_LV_ERR = 0, LOG_LV_WARN, LOG_LV_NOTICE, LOG_LV_INFO, LOG_LV_DEBUG };

/* Open the target described by `lg` (kind, format, facility, levels, len) with `target` the path
 * or address text (see struct cfg_log; "" = stderr) and start the logger thread. A file is
 * appended to; a syslog socket is not connected to anything that must be up: lines sent while
 * the syslog daemon is away are dropped and counted. Returns 0 or -errno. Main thread, before
 * workers start. Before log_open (and after log_close), messages go straight to stderr. */
int log_open_target(const char *target, const struct cfg_log *lg, unsigned nworkers);
/* The same for "stdout", "stderr", "" (stderr) or a file path, in raw format (tests, tools). */
int log_open(const char *target, unsigned nworkers);
/* Open the target for log_msg from this thread only: no rings, no logger thread (the master
 * process, which forks). log_close closes it. Returns 0 or -errno. */
int log_open_direct(const char *target, const struct cfg_log *lg);
/* The PID that message headers carry (0: getpid()), taken at the next log_open*: a worker process
 * logs with its master's PID, the one in the pidfile. */
void log_set_pid(int pid);
/* Whether traffic log lines (tcplog, httplog) are expected: then the logger polls the workers'
 * rings every 20 ms; without them it backs off while idle, up to 320 ms. Before log_open*. */
void log_set_traffic(bool on);
/* Flush what is queued and stop the logger thread; messages go to stderr again. */
void log_close(void);

/* Ask the logger thread to reopen a file target (SIGUSR1, after logrotate renamed the file):
 * it opens the path anew, swaps descriptors and closes the old one within one flush period
 * (LOG_FLUSH_MS). A no-op for other targets. Async-signal-safe (one atomic store); any thread. */
void log_reopen(void);

/* A message line (formatted, level-prefixed on stream targets, newline added). Any thread. Lines
 * from worker threads go through the worker's own lock-free ring; other threads share a locked
 * direct write (never on the data path). */
void log_msg(enum log_level lv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Queue a traffic log line written by worker `id` (already formatted; its newline is optional).
 * Never blocks: when the ring is full the line is dropped and counted. */
void log_traffic(unsigned id, const char *line, size_t len);

/* Bind the calling thread to worker ring `id` so that log_msg uses it. */
void log_set_worker(unsigned id);

/* Lines lost so far: rings that were full plus datagrams the syslog socket refused (a full
 * socket buffer, no syslog daemon). Relaxed reads; any thread (for the stats). */
uint64_t log_dropped(void);

/* Per-thread cache of the formatted second for syslog headers. */
struct log_clock {
    time_t sec;     /* the second below describes; -1: none yet */
    char r3164[16]; /* "Mmm dd hh:mm:ss" */
    char r5424[20]; /* "YYYY-MM-DDThh:mm:ss" */
    char tz[8];     /* "+hh:mm" */
};

/* Format one line for output into `out` (at most `cap` bytes, no NUL): the syslog header of
 * `format` (RFC 3164 or 5424; PRI = facility * 8 + sev) and the text, or for raw on a stream target
 * the level prefix "[NOTICE] (PID) : " when `is_msg`. `stream`: add a newline (files, pipes); a
 * datagram has none. `len` (0: none) caps the result, newline excluded. `now` is the wall time.
 * Returns the length written. Pure apart from the `clk` cache; exported for the unit tests. */
size_t log_format_line(enum cfg_syslog_format format, int facility, int sev, int is_msg,
                       const char *host, int pid, const struct timeval *now, struct log_clock *clk,
                       const char *text, size_t n, int stream, size_t len, char *out, size_t cap);

#endif
