/* The runtime API: HAProxy's stats socket commands on unix stream sockets, served by one thread.
 *
 * `stats socket PATH [mode OCTAL] [level user|operator|admin]` lines in [global] each open a unix
 * stream socket. One small thread with its own epoll instance accepts clients and answers them as
 * HAProxy's CLI does, so that `socat stdio unix-connect:PATH` and existing scripts work unchanged:
 * a client sends one line, which may hold several commands separated by `;`; each command's output
 * is followed by an empty line, and the connection is closed after the line unless the client
 * asked for `prompt` (interactive mode: a "> " prompt after each line, until `quit` or EOF).
 *
 * The thread never touches a worker's private data: it reads counters through the stats read
 * API (core/stats.h) and per-worker atomics, and changes servers through their atomics
 * (server_set_state / server_set_weight bump the backend generation, so every worker sees the
 * change on its next pick). Output is built in memory, so a slow client costs memory only. */
#ifndef SLUICE_CORE_CLI_H
#define SLUICE_CORE_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "config/model.h"

struct runtime;

/* Bind every `stats socket` of rt->cfg (each through a temporary name renamed over PATH, so a
 * running process's socket is replaced atomically), apply its mode, and start the thread. Does
 * nothing when no socket is configured. Returns 0, or -errno with a message in err (nothing is
 * left open then). Main thread, after the workers started. */
int cli_start(struct runtime *rt, char *err, size_t errlen);
/* Stop the thread, close every client and listener, and remove the socket files that are still
 * ours. Safe when cli_start did nothing or failed. Main thread, before the workers stop. */
void cli_stop(void);

/* ---- the command interpreter (no sockets: unit-tested directly) ------------------------- */

/* A growing output text. `oom` is set once an append failed (the text is then cut short). */
struct cli_out {
    char *buf; /* owned, NUL-terminated when len > 0 */
    size_t len, cap;
    bool oom;
};

void cli_out_printf(struct cli_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_out_append(struct cli_out *o, const char *data, size_t len);
/* Frees the text; accepts a zeroed struct. */
void cli_out_free(struct cli_out *o);

#define CLI_MAX_ARGS 64 /* words of one command (HAProxy's MAX_CLI_ARGS) */

/* Split a request line in place at each `;` that is not escaped with a backslash. Stores up to
 * max pointers into cmds and returns how many commands there are (possibly more than max). */
size_t cli_split(char *line, char **cmds, size_t max);
/* Split a command in place into words at spaces and tabs; a backslash keeps the next character
 * (`\;`, `\ `, `\\`). Returns the number of words (at most max, extra words are dropped). */
int cli_tokenize(char *cmd, char **argv, int max);

/* One client's view: its socket's level and its mode. */
struct cli_ctx {
    struct runtime *rt; /* borrowed */
    enum cfg_cli_level level;
    bool prompt; /* interactive mode (`prompt` toggles it) */
    bool quit;   /* `quit` was given: close after the output */
};

/* Run one command (a `;`-free part of a line, modified in place) and append its output, without
 * the empty line that ends it, to out. An empty command outputs nothing. Any thread that may read
 * rt (the runtime API thread; tests). */
void cli_execute(struct cli_ctx *x, char *cmd, struct cli_out *out);
/* Run a whole request line as the socket does: each command's output followed by "\n", and in
 * prompt mode a "> " prompt at the end. */
void cli_execute_line(struct cli_ctx *x, char *line, struct cli_out *out);

#endif
