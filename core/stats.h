/* Statistics: per-worker counters and latency histograms for frontends, backends and servers,
 * written without locks by the worker that owns them and summed on read.
 *
 * Each worker has its own slots (one cache-aligned block per worker): a counter is a relaxed
 * atomic that only its worker writes, with a plain load + store (no locked instruction). Readers
 * on any thread (the stats page served by some worker, the runtime API, tests) add up every
 * worker's slot with relaxed loads; a sum may miss increments that race with it, never tears.
 *
 * Latency histograms have fixed log-scaled buckets: bucket 0 holds values up to 0.5 ms, bucket k
 * up to 0.5 ms * 2^k (k = 1..STATS_NBUCKETS-2, the last finite bound is 65.536 s) and the last
 * bucket everything above. The bucket of a value is one clz, so recording costs two stores.
 *
 * On top of the raw sums, stats_snapshot() builds a plain model of everything the stats page,
 * the CSV/JSON/Prometheus writers and the runtime API show (struct stats_snap): one entry per
 * proxy with HAProxy's rows (FRONTEND, each server, BACKEND). Writers format a snapshot and never
 * touch live state, so they are tested on hand-built snapshots. */
#ifndef SLUICE_CORE_STATS_H
#define SLUICE_CORE_STATS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Counters of one frontend, backend or server (the fields HAProxy's CSV names in brackets). */
enum stats_ctr {
    STC_SESS = 0,  /* stot: sessions (frontend: see struct frontend; backend/server: sessions
                      or HTTP requests given to it) */
    STC_BYTES_IN,  /* bin: bytes from clients */
    STC_BYTES_OUT, /* bout: bytes to clients */
    STC_REQ,       /* req_tot: HTTP requests */
    STC_RSP_1XX,   /* hrsp_1xx .. hrsp_5xx, hrsp_other (keep them consecutive) */
    STC_RSP_2XX,
    STC_RSP_3XX,
    STC_RSP_4XX,
    STC_RSP_5XX,
    STC_RSP_OTHER,
    STC_EREQ,        /* ereq: request errors (bad or incomplete request heads) */
    STC_DREQ,        /* dreq: requests denied by a rule */
    STC_ECON,        /* econ: failed connection attempts to a server */
    STC_ERESP,       /* eresp: response errors (bad head, server closed or timed out) */
    STC_RETR,        /* wretr: retries */
    STC_REDISP,      /* wredis: redispatches to another server */
    STC_CLI_ABRT,    /* cli_abrt: transfers aborted by the client */
    STC_SRV_ABRT,    /* srv_abrt: transfers aborted by the server */
    STC_INTERCEPTED, /* intercepted: requests answered by the stats page or an exporter */
    STC_DCON,        /* dcon: connections rejected by tcp-request connection rules */
    STC__N
};

/* The latency histograms of a backend or server. */
enum stats_lat {
    STL_CONNECT = 0, /* Tc: time to establish the server connection */
    STL_RESPONSE,    /* Tr: server response time (connection ready → response head) */
    STL_TOTAL,       /* Ta (HTTP: request start → end) / Tt (TCP: session duration) */
    STL__N
};

#define STATS_NBUCKETS 19 /* 0.5 ms · 2^k for k = 0..17, then +Inf */

struct stats_counters {
    _Atomic uint64_t c[STC__N];
};

struct stats_hist {
    _Atomic uint64_t bucket[STATS_NBUCKETS];
    _Atomic uint64_t sum_us;
};

struct stats_lat_set {
    struct stats_hist h[STL__N];
};

/* One worker's slots. Everything points into one block owned by struct stats. */
struct stats_worker {
    struct stats_counters *fe;  /* nfe */
    struct stats_counters *be;  /* nbe */
    struct stats_counters *srv; /* nsrv: backend b's servers start at srv_base[b] */
    struct stats_lat_set *be_lat;
    struct stats_lat_set *srv_lat;
    const size_t *srv_base; /* borrowed from struct stats */
};

struct stats {
    unsigned nworkers;
    size_t nfe, nbe, nsrv;
    size_t *srv_base;       /* owned, nbe entries */
    struct stats_worker *w; /* owned, nworkers entries */
    void **blocks;          /* owned, one aligned allocation per worker */
    uint64_t start_ms;      /* monotonic ms at creation (uptime) */
    const char *version;    /* borrowed static string, set by main ("" by default) */
};

/* A summed histogram. */
struct stats_hist_snap {
    uint64_t bucket[STATS_NBUCKETS];
    uint64_t count;  /* sum of the buckets */
    uint64_t sum_us; /* sum of the recorded values, microseconds */
};

/* ---- creating -------------------------------------------------------------------------- */

/* Slots for nworkers workers, nfe frontends and nbe backends, backend i having nsrv[i] servers
 * (nsrv may be NULL when nbe is 0). All zero. Returns NULL on ENOMEM. Main thread. */
struct stats *stats_new(unsigned nworkers, size_t nfe, size_t nbe, const size_t *nsrv);
/* Accepts NULL. Only when no worker runs any more. */
void stats_free(struct stats *st);

/* ---- writing: the owning worker only --------------------------------------------------- */

static inline void stats_add(struct stats_counters *o, enum stats_ctr c, uint64_t n)
{
    /* single writer: a relaxed load + store is enough and compiles to a plain add */
    uint64_t v = atomic_load_explicit(&o->c[c], memory_order_relaxed);
    atomic_store_explicit(&o->c[c], v + n, memory_order_relaxed);
}

static inline struct stats_counters *stats_fe(struct stats_worker *w, size_t fe)
{
    return &w->fe[fe];
}

static inline struct stats_counters *stats_be(struct stats_worker *w, size_t be)
{
    return &w->be[be];
}

static inline struct stats_counters *stats_srv(struct stats_worker *w, size_t be, size_t srv)
{
    return &w->srv[w->srv_base[be] + srv];
}

static inline struct stats_lat_set *stats_be_lat(struct stats_worker *w, size_t be)
{
    return &w->be_lat[be];
}

static inline struct stats_lat_set *stats_srv_lat(struct stats_worker *w, size_t be, size_t srv)
{
    return &w->srv_lat[w->srv_base[be] + srv];
}

/* The counter for an HTTP status (STC_RSP_OTHER outside 100..599, e.g. no response). */
static inline enum stats_ctr stats_status_ctr(int status)
{
    if (status < 100 || status > 599)
        return STC_RSP_OTHER;
    return (enum stats_ctr)(STC_RSP_1XX + status / 100 - 1);
}

/* Bucket index of a value in microseconds, and the upper bound of bucket i in microseconds
 * (UINT64_MAX for the last, +Inf). */
unsigned stats_bucket_of(uint64_t us);
uint64_t stats_bucket_bound_us(unsigned i);

/* Record one value (microseconds). Owning worker only. */
void stats_hist_add(struct stats_hist *h, uint64_t us);

/* ---- reading: any thread --------------------------------------------------------------- */

/* Sum one object's counters over every worker into out[STC__N]. */
void stats_sum_fe(const struct stats *st, size_t fe, uint64_t out[STC__N]);
void stats_sum_be(const struct stats *st, size_t be, uint64_t out[STC__N]);
void stats_sum_srv(const struct stats *st, size_t be, size_t srv, uint64_t out[STC__N]);
/* Sum a latency histogram over every worker. */
void stats_sum_be_hist(const struct stats *st, size_t be, enum stats_lat l,
                       struct stats_hist_snap *out);
void stats_sum_srv_hist(const struct stats *st, size_t be, size_t srv, enum stats_lat l,
                        struct stats_hist_snap *out);

/* The q-quantile (0 < q <= 1) in milliseconds, interpolated linearly inside its bucket as
 * Prometheus' histogram_quantile() does; values in the +Inf bucket report the last finite bound.
 * Returns -1 when the histogram is empty. */
double stats_hist_quantile(const struct stats_hist_snap *h, double q);
/* Mean in milliseconds, -1 when empty. */
double stats_hist_mean_ms(const struct stats_hist_snap *h);

/* ---- snapshot: the model the writers format -------------------------------------------- */

/* HAProxy's `type` column values. */
enum stats_row_type { STATS_ROW_FE = 0, STATS_ROW_BE = 1, STATS_ROW_SRV = 2 };

/* One line of the page / CSV: a frontend, a server or a backend. Strings are borrowed from the
 * configuration (or static). Fields that make no sense for the row type are 0 / NULL. */
struct stats_row {
    enum stats_row_type type;
    const char *pxname, *svname;
    unsigned iid, sid; /* proxy id (1-based, config order); server id (1-based), 0 otherwise */
    uint64_t c[STC__N];
    int64_t scur, slim; /* current sessions and limit (0: none) */
    int64_t qcur;       /* queued (backend) */
    uint64_t lbtot;     /* times a server was picked */
    const char *status; /* "OPEN", "UP", "DOWN", "MAINT", "no check"... */
    bool up;            /* server usable / backend has a usable server / frontend open */
    int weight;         /* effective weight (backend: sum of the usable servers') */
    unsigned act, bck;  /* active / backup: 1/0 for a server, counts of usable ones for a backend */
    bool backup;        /* server is a backup */
    bool maint;         /* server in maintenance */
    bool has_check;     /* server is health-checked */
    const char *check_status; /* HAProxy's check_status ("L4OK", "L7STS"...), NULL: none */
    int check_code;           /* HTTP status of the last check, 0: none */
    uint64_t chkfail, chkdown;
    int64_t lastchg_s;  /* seconds since the last state change, -1: unknown */
    int64_t downtime_s; /* seconds spent DOWN, -1: not applicable */
    const char *addr;   /* server address as written */
    const char *mode;   /* "tcp" / "http" */
    const char *algo;   /* backend balance algorithm */
    bool has_hist;      /* backend and server rows */
    struct stats_hist_snap hist[STL__N];
};

struct stats_proxy {
    const char *name;
    const char *mode;
    unsigned iid;
    bool has_fe, has_be;
    struct stats_row *rows; /* owned: FRONTEND, servers in config order, BACKEND */
    size_t nrows;
};

struct stats_snap {
    struct stats_proxy *px; /* owned, in config order */
    size_t npx;
    const char *version; /* static */
    int pid;
    unsigned nworkers;
    uint64_t uptime_s;
    int64_t cur_conns; /* sessions alive, every frontend */
};

struct runtime;

/* Sum every counter of rt into a new snapshot (what the page shows at this instant). Any thread;
 * reads counters and server state with relaxed loads. Returns NULL on ENOMEM. */
struct stats_snap *stats_snapshot(const struct runtime *rt);
/* Accepts NULL. Does not free the borrowed strings. */
void stats_snap_free(struct stats_snap *s);

#endif
