/* Servers and backends at run time: static config plus state shared lock-free between threads. */
#ifndef SLUICE_BALANCER_SERVER_H
#define SLUICE_BALANCER_SERVER_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/model.h"

enum srv_state {
    SRV_ST_UP = 0, /* takes traffic */
    SRV_ST_DOWN,   /* failed `fall` checks; no new traffic */
    SRV_ST_MAINT,  /* `disabled` (or admin); no new traffic, no checks count */
};

/* Result of the last health check (HAProxy's check_status names: see srv_check_name). */
enum srv_check {
    SRV_CHK_NONE = 0, /* INI: no check ran yet */
    SRV_CHK_L4OK,     /* TCP connect succeeded */
    SRV_CHK_L4CON,    /* TCP connect failed (refused, unreachable...) */
    SRV_CHK_L4TOUT,   /* TCP connect timed out */
    SRV_CHK_L7OK,     /* HTTP check passed */
    SRV_CHK_L7STS,    /* HTTP check: unexpected status */
    SRV_CHK_L7RSP,    /* HTTP check: invalid or empty response */
    SRV_CHK_L7TOUT,   /* HTTP check: no response in time */
};

/* Administrative flags set by the runtime API (HAProxy's srv_admin_state bits). */
#define SRV_ADMF_FMAINT                                                                            \
    0x01 /* forced maintenance (`set server ... state maint`, `disable server`) */
#define SRV_ADMF_CMAINT 0x04 /* maintenance from the configuration (`disabled`) */
#define SRV_ADMF_FDRAIN 0x08 /* forced drain: effective weight 0, state unchanged */

struct maglev_table;

/* Fields are grouped by writer with a cache line between groups so that the health thread's
 * writes and the workers' connection counting do not false-share. */
struct server {
    const struct cfg_server *cfg; /* borrowed from the config */
    struct backend *be;           /* borrowed: the owning backend */
    unsigned idx;                 /* position in be->servers */

    /* written by the health thread (and main at start), read by workers with relaxed loads */
    alignas(64) _Atomic int state;   /* enum srv_state */
    _Atomic int eweight;             /* effective weight 0..256: cfg weight scaled by slowstart */
    _Atomic uint64_t last_change_ms; /* monotonic ms of the last state change */
    /* statistics (core/stats.h): last check result, failed checks, UP→DOWN transitions and the
     * time spent DOWN before the current state (server_set_state accumulates it) */
    _Atomic int check_status; /* enum srv_check */
    _Atomic int check_code;   /* HTTP status of the last check, 0: none */
    _Atomic uint64_t chk_fail, chk_down, down_ms;
    /* written by the runtime API thread (core/cli.c), read by the health thread's slowstart ramp
     * so that it ramps to the operator's weight and leaves a drained server at 0 */
    _Atomic int admin;   /* SRV_ADMF_* */
    _Atomic int uweight; /* the operator's weight 0..256 (cfg weight at start) */

    /* written by workers with relaxed fetch-add */
    alignas(64) _Atomic int cur_conns; /* live connections to this server */
    _Atomic uint64_t total_conns;
};

struct backend {
    const struct cfg_proxy *cfg; /* borrowed */
    struct server *servers;      /* owned, nservers entries, config order */
    size_t nservers;
    /* Published by the health thread with release, read by workers with acquire, retired through
     * core/epoch.h when replaced. Only built for `balance source`. */
    _Atomic(struct maglev_table *) maglev;
    /* Bumped (release) on every state or weight change, so a worker knows to refresh. */
    alignas(64) _Atomic uint64_t gen;
    /* connections waiting for a server slot, summed over workers */
    alignas(64) _Atomic int queued;
};

/* All backends of a config. */
struct balancer {
    struct backend *backends; /* owned */
    size_t nbackends;
};

/* Build the run-time model for every backend-capable proxy of cfg. Servers start UP (MAINT when
 * `disabled`) with their configured weight; Maglev tables are built. Returns NULL on ENOMEM. */
struct balancer *balancer_new(const struct config *cfg);
void balancer_free(struct balancer *b);

/* The run-time backend for a config proxy, or NULL. */
struct backend *balancer_find(const struct balancer *b, const struct cfg_proxy *p);

static inline bool server_is_up(const struct server *s)
{
    return atomic_load_explicit(&s->state, memory_order_relaxed) == SRV_ST_UP;
}

/* Whether the backend balances by a key hash through a Maglev table: `balance source`, and in
 * mode http `uri`, `url_param` and `hdr()`. */
static inline bool backend_uses_maglev(const struct backend *be)
{
    enum cfg_balance b = be->cfg->balance;
    return b == CFG_LB_SOURCE || b == CFG_LB_URI || b == CFG_LB_URL_PARAM || b == CFG_LB_HDR;
}

/* Set state / effective weight and bump the backend's generation. Health thread, main or the
 * runtime API thread. */
void server_set_state(struct server *s, enum srv_state st);
void server_set_weight(struct server *s, int eweight);
/* Move the state from `from` to `to` only if it still is `from` (compare-and-swap), so that a
 * health check result never overrides a maintenance set concurrently by the runtime API.
 * Returns whether the state changed. Any thread. */
bool server_change_state(struct server *s, enum srv_state from, enum srv_state to);

/* The weight the server should run at when fully up: 0 while drained, else the operator's. */
static inline int server_target_weight(const struct server *s)
{
    if (atomic_load(&s->admin) & SRV_ADMF_FDRAIN)
        return 0;
    return atomic_load(&s->uweight);
}

/* HAProxy's name for a check result ("L4OK", "L7STS", "INI"...). */
const char *srv_check_name(enum srv_check c);

/* Time the server spent DOWN up to now_ms (monotonic), including the current period. */
uint64_t server_downtime_ms(const struct server *s, uint64_t now_ms);

/* True when the server may take one more connection (up and under maxconn). */
bool server_has_slot(const struct server *s);

/* Connection accounting, any worker. */
void server_conn_opened(struct server *s);
/* Count one more connection unless that would exceed maxconn; false when full (another worker
 * took the last slot between lb_pick and this call). */
bool server_take_slot(struct server *s);
void server_conn_closed(struct server *s);

#endif
