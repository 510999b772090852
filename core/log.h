/* Logging: operator messages and traffic logs, never blocking a worker. */
#ifndef SLUICE_CORE_LOG_H
#define SLUICE_CORE_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOG_LV_ERR = 0, LOG_LV_WARN, LOG_LV_NOTICE, LOG_LV_INFO, LOG_LV_DEBUG };

/* Open the target: "stdout", "stderr", "" (stderr) or a file path (appended). Starts the logger
 * thread. Returns 0 or -errno. Main thread, before workers start. Before log_open, messages go
 * straight to stderr. */
int log_open(const char *target, unsigned nworkers);
/* Flush what is queued and stop the logger thread. */
void log_close(void);

/* A message line (timestamp and level are prefixed, newline added). Any thread. Lines from
 * worker `id` go through its own lock-free ring; other threads share a small locked queue
 * (never on the data path). */
void log_msg(enum log_level lv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Queue a traffic log line written by worker `id` (already formatted, newline included).
 * Never blocks: when the ring is full the line is dropped and counted. */
void log_traffic(unsigned id, const char *line, size_t len);

/* Bind the calling thread to worker ring `id` so that log_msg uses it. */
void log_set_worker(unsigned id);

#endif
