/* The runtime API thread and its command interpreter (HAProxy's stats socket, see core/cli.h).
 *
 * Commands are a table of word sequences with the level they need; a request line is split at
 * `;`, each command into words, and the longest matching entry runs. Server changes follow
 * HAProxy's admin flags: `maint` sets forced maintenance (state MAINT: no new connection, health
 * checks ignored), `drain` keeps the state but makes the effective weight 0 (existing connections
 * go on, persistence aside nothing new arrives), `ready` clears both and gives the server back to
 * its health checks. The operator's weight (`set server ... weight`, uweight) is what a drained
 * server returns to and what the health thread's slowstart ramps to.
 *
 * The socket side is one epoll loop over the listeners, an eventfd for stop and at most
 * CLI_MAX_CONNS clients, each with a fixed input buffer and a growing output text. A client's
 * input is only read while it has no output pending, so a client that does not read cannot make
 * the thread buffer more than one line's answers. The expected load is an operator or a
 * monitoring script: a few short connections per second. */
#include "core/cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "balancer/server.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/pipe_pool.h"
#include "core/stats.h"
#include "core/stktable.h"
#include "core/worker.h"
/* The CSV writer is a pure formatter of a stats snapshot (no HTTP involved): `show stat` prints
 * exactly what the stats page's ;csv serves. */
#include "net/http/stats_page.h"

#define CLI_MAX_CONNS      64
#define CLI_LINE_MAX       16384 /* a request line (HAProxy's tune.bufsize) */
#define CLI_DEFAULT_TMO_MS 10000u
#define CLI_SESS_WAIT_MS   1000u /* per worker, for show sess */
#define CLI_MAX_SLEEP_MS   1000u
#define CLI_EV_STOP        0xffffffffu
#define CLI_EV_CONN        0x10000u /* data.u32 of a client: CLI_EV_CONN + slot */

/* ---- output text ------------------------------------------------------------------------- */

static bool out_reserve(struct cli_out *o, size_t more)
{
    if (o->oom)
        return false;
    if (o->len + more + 1 <= o->cap)
        return true;
    size_t cap = o->cap ? o->cap : 1024;
    while (cap < o->len + more + 1)
        cap *= 2;
    char *p = realloc(o->buf, cap);
    if (!p) {
        o->oom = true;
        return false;
    }
    o->buf = p;
    o->cap = cap;
    return true;
}

void cli_out_append(struct cli_out *o, const char *data, size_t len)
{
    if (!out_reserve(o, len))
        return;
    memcpy(o->buf + o->len, data, len);
    o->len += len;
    o->buf[o->len] = '\0';
}

void cli_out_printf(struct cli_out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(small)) {
        cli_out_append(o, small, (size_t)n);
        return;
    }
    if (!out_reserve(o, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(o->buf + o->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    o->len += (size_t)n;
}

void cli_out_free(struct cli_out *o)
{
    free(o->buf);
    memset(o, 0, sizeof(*o));
}

/* ---- parsing ----------------------------------------------------------------------------- */

size_t cli_split(char *line, char **cmds, size_t max)
{
    size_t n = 0;
    char *start = line;
    for (char *p = line;; p++) {
        if (*p == '\\' && p[1]) {
            p++; /* keep the escape: cli_tokenize removes it */
            continue;
        }
        if (*p == ';' || *p == '\0') {
            bool end = *p == '\0';
            *p = '\0';
            if (n < max)
                cmds[n] = start;
            n++;
            if (end)
                break;
            start = p + 1;
        }
    }
    return n;
}

int cli_tokenize(char *cmd, char **argv, int max)
{
    int n = 0;
    char *r = cmd, *w = cmd;
    for (;;) {
        while (*r == ' ' || *r == '\t')
            r++;
        if (!*r)
            break;
        char *word = w;
        while (*r && *r != ' ' && *r != '\t') {
            if (*r == '\\' && r[1])
                r++;
            *w++ = *r++;
        }
        bool end = *r == '\0';
        if (!end)
            r++;
        *w++ = '\0';
        if (n < max)
            argv[n++] = word;
        if (end)
            break;
    }
    return n;
}

/* ---- helpers of the commands ------------------------------------------------------------- */

static const char *level_name(enum cfg_cli_level l)
{
    return l == CFG_CLI_ADMIN ? "admin" : l == CFG_CLI_OPERATOR ? "operator" : "user";
}

/* The config index (HAProxy's proxy id - 1) of a backend. */
static unsigned backend_iid(const struct runtime *rt, const struct backend *be)
{
    return (unsigned)(be->cfg - rt->cfg->proxies) + 1;
}

static struct backend *find_backend(const struct runtime *rt, const char *name)
{
    if (!rt->bal)
        return NULL;
    for (size_t i = 0; i < rt->bal->nbackends; i++)
        if (strcmp(rt->bal->backends[i].cfg->name, name) == 0)
            return &rt->bal->backends[i];
    /* HAProxy also takes "#ID" */
    if (name[0] == '#') {
        char *end;
        long id = strtol(name + 1, &end, 10);
        for (size_t i = 0; !*end && i < rt->bal->nbackends; i++)
            if ((long)backend_iid(rt, &rt->bal->backends[i]) == id)
                return &rt->bal->backends[i];
    }
    return NULL;
}

/* "BACKEND/SERVER" → the server, or an error text (HAProxy's) in out and NULL. */
static struct server *find_server(const struct cli_ctx *x, const char *arg, struct cli_out *out)
{
    const char *slash = arg ? strchr(arg, '/') : NULL;
    if (!arg || !*arg || !slash) {
        cli_out_printf(out, "Require 'backend/server'.\n");
        return NULL;
    }
    char bname[CFG_NAME_MAX + 8];
    size_t bl = (size_t)(slash - arg);
    if (bl >= sizeof(bname)) {
        cli_out_printf(out, "No such backend.\n");
        return NULL;
    }
    memcpy(bname, arg, bl);
    bname[bl] = '\0';
    struct backend *be = find_backend(x->rt, bname);
    if (!be) {
        cli_out_printf(out, "No such backend.\n");
        return NULL;
    }
    const char *sname = slash + 1;
    for (size_t i = 0; i < be->nservers; i++)
        if (strcmp(be->servers[i].cfg->name, sname) == 0)
            return &be->servers[i];
    if (sname[0] == '#') {
        char *end;
        long id = strtol(sname + 1, &end, 10);
        if (!*end && id >= 1 && (size_t)id <= be->nservers)
            return &be->servers[id - 1];
    }
    cli_out_printf(out, "No such server.\n");
    return NULL;
}

/* Publish the weight the server should run at (0 while drained). The fence pairs with the one in
 * the health thread's slowstart ramp: whichever stores eweight last, it sees the flags of the
 * other (balancer/health.c). */
static void apply_weight(struct server *s)
{
    atomic_thread_fence(memory_order_seq_cst);
    server_set_weight(s, server_target_weight(s));
}

static void log_admin(const struct server *s, const char *what)
{
    log_msg(LOG_LV_NOTICE, "server %s/%s %s (runtime API)", s->be->cfg->name, s->cfg->name, what);
}

/* HAProxy's srv_adm_set_maint: forced maintenance, drain cleared. */
static void set_maint(struct server *s)
{
    atomic_fetch_and(&s->admin, ~SRV_ADMF_FDRAIN);
    atomic_fetch_or(&s->admin, SRV_ADMF_FMAINT);
    if (atomic_load(&s->state) != SRV_ST_MAINT) {
        server_set_state(s, SRV_ST_MAINT);
        log_admin(s, "is going DOWN for maintenance");
    }
    apply_weight(s);
}

/* Leave maintenance when no maintenance flag is left: back UP, under check control again. */
static void leave_maint(struct server *s)
{
    if (atomic_load(&s->admin) & (SRV_ADMF_FMAINT | SRV_ADMF_CMAINT))
        return;
    if (server_change_state(s, SRV_ST_MAINT, SRV_ST_UP))
        log_admin(s, "is UP (leaving maintenance)");
}

/* HAProxy's srv_adm_set_drain: drain set, forced maintenance cleared. The weight goes to 0
 * before the server may leave maintenance, so no connection slips through. */
static void set_drain(struct server *s)
{
    atomic_fetch_or(&s->admin, SRV_ADMF_FDRAIN);
    atomic_fetch_and(&s->admin, ~SRV_ADMF_FMAINT);
    apply_weight(s);
    leave_maint(s);
    log_admin(s, "enters drain mode");
}

/* HAProxy's srv_adm_set_ready: no maintenance, no drain. */
static void set_ready(struct server *s)
{
    atomic_fetch_and(&s->admin, ~(SRV_ADMF_FMAINT | SRV_ADMF_CMAINT | SRV_ADMF_FDRAIN));
    apply_weight(s);
    leave_maint(s);
}

/* `set weight` / `set server ... weight`: "N" (0..256) or "N%" of the initial weight. */
static void set_weight(struct server *s, const char *arg, struct cli_out *out)
{
    if (!arg || !*arg) {
        cli_out_printf(out, "Require <weight> or <weight%%>.\n");
        return;
    }
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno || end == arg || (*end && strcmp(end, "%") != 0)) {
        cli_out_printf(out, "Require <weight> or <weight%%>.\n");
        return;
    }
    int iweight = s->cfg->weight;
    if (*end == '%') {
        if (v < 0) {
            cli_out_printf(out, "Relative weight must be positive.\n");
            return;
        }
        if (v > 25600) {
            cli_out_printf(out, "Relative weight too large.\n");
            return;
        }
        v = (iweight * v + 50) / 100;
        if (v > 256)
            v = 256;
    } else if (v < 0 || v > 256) {
        cli_out_printf(out, "Absolute weight can only be between 0 and 256 inclusive.\n");
        return;
    }
    /* static-rr's schedule is built once from the configured weights (balancer/static_rr.c) */
    if (s->be->cfg->balance == CFG_LB_STATIC_RR && v != 0 && v != iweight) {
        cli_out_printf(out, "Backend is using a static LB algorithm and only accepts weights '0%%' "
                            "and '100%%'.\n");
        return;
    }
    atomic_store(&s->uweight, (int)v);
    apply_weight(s);
    log_msg(LOG_LV_NOTICE, "server %s/%s weight set to %ld (runtime API)", s->be->cfg->name,
            s->cfg->name, v);
}

/* ---- commands ---------------------------------------------------------------------------- */

struct cli_cmd {
    const char *words[4]; /* NULL-terminated */
    const char *usage;
    const char *help;
    enum cfg_cli_level level;
    void (*fn)(struct cli_ctx *x, int argc, char **argv, struct cli_out *out);
};

static void cmd_help(struct cli_ctx *x, int argc, char **argv, struct cli_out *out);

static void cmd_prompt(struct cli_ctx *x, int argc, char **argv, struct cli_out *out)
{
    (void)argc, (void)argv, (void)out;
    x->prompt = !x->prompt;
}

static void cmd_quit(struct cli_ctx *x, int argc, char **argv, struct cli_out *out)
{
    (void)argc, (void)argv, (void)out;
    x->quit = true;
}

static uint64_t sum_accepted(const struct runtime *rt)
{
    uint64_t n = 0;
    for (unsigned i = 0; rt->workers && i < rt->nworkers; i++)
        n += atomic_load_explicit(&rt->workers[i].accepted, memory_order_relaxed);
    return n;
}

/* tune.send-batching: how many workers batch, and the writes and system calls so far. */
static unsigned sum_batching(const struct runtime *rt, uint64_t *sends, uint64_t *calls,
                             uint64_t *blocked)
{
    unsigned on = 0;
    *sends = *calls = *blocked = 0;
    for (unsigned i = 0; rt->workers && i < rt->nworkers; i++) {
        on += atomic_load_explicit(&rt->workers[i].send_batching, memory_order_relaxed) != 0;
        *sends += atomic_load_explicit(&rt->workers[i].batched_sends, memory_order_relaxed);
        *calls += atomic_load_explicit(&rt->workers[i].batch_calls, memory_order_relaxed);
        *blocked += atomic_load_explicit(&rt->workers[i].batch_blocked, memory_order_relaxed);
    }
    return on;
}

/* Splice pipes over all workers: handed out, idle in the pools, and the size the kernel granted
 * (tune.pipesize, unless an unprivileged process was refused it). */
static void sum_pipes(const struct runtime *rt, unsigned *used, unsigned *idle, unsigned *size)
{
    *used = *idle = *size = 0;
    for (unsigned i = 0; rt->workers && i < rt->nworkers; i++) {
        const struct pipe_pool *pp = rt->workers[i].pipes;
        if (!pp)
            continue;
        *used += pipe_pool_live(pp);
        *idle += pipe_pool_idle(pp);
        if (*size < pipe_pool_size(pp))
            *size = pipe_pool_size(pp);
    }
}

static void cmd_show_info(struct cli_ctx *x, int argc, char **argv, struct cli_out *out)
{
    (void)argc, (void)argv;
    const struct runtime *rt = x->rt;
    uint64_t up_s = rt->stats ? (clock_mono_ms() - rt->stats->start_ms) / 1000 : 0;
    uint64_t req = 0;
    for (size_t f = 0; rt->stats && f < rt->nfes; f++) {
        uint64_t c[STC__N];
        stats_sum_fe(rt->stats, f, c);
        req += c[STC_REQ];
    }
    struct rlimit rl = {0};
    getrlimit(RLIMIT_NOFILE, &rl);
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    const char *version = rt->stats && rt->stats->version ? rt->stats->version : "";
    int state = atomic_load_explicit(&rt->state, memory_order_relaxed);
    cli_out_printf(
        out,
        "Name: sluice\nVersion: %s\nNbthread: %u\nNbproc: 1\nProcess_num: 1\n"
        "Pid: %d\nUptime: %llud %lluh%02llum%02llus\nUptime_sec: %llu\n"
        "Ulimit-n: %llu\nMaxconn: %d\nHard_maxconn: %d\nCurrConns: %d\n"
        "CumConns: %llu\nCumReq: %llu\nStopping: %d\nnode: %s\n",
        version, rt->nworkers, (int)getpid(), (unsigned long long)(up_s / 86400),
        (unsigned long long)(up_s / 3600 % 24), (unsigned long long)(up_s / 60 % 60),
        (unsigned long long)(up_s % 60), (unsigned long long)up_s, (unsigned long long)rl.rlim_cur,
        rt->cfg->maxconn, rt->cfg->maxconn, atomic_load_explicit(&rt->live, memory_order_relaxed),
        (unsigned long long)sum_accepted(rt), (unsigned long long)req, state != RT_RUNNING, host);
    uint64_t sends, calls, blocked;
    unsigned on = sum_batching(rt, &sends, &calls, &blocked);
    cli_out_printf(out,
                   "SendBatchingWorkers: %u\nBatchedSends: %llu\nSendBatchCalls: %llu\n"
                   "BatchedSendsBlocked: %llu\n",
                   on, (unsigned long long)sends, (unsigned long long)calls,
                   (unsigned long long)blocked);
    unsigned used, idle, size;
    sum_pipes(rt, &used, &idle, &size);
    cli_out_printf(out, "PipesUsed: %u\nPipesFree: %u\nPipeSize: %u\n", used, idle, size);
}

static void cmd_show_stat(struct cli_ctx *x, int argc, char **argv, struct cli_out *out)
{
    (void)argc, (void)argv;
    if (!x->rt->stats) {
        cli_out_printf(out, "No statistics.\n");
        return;
    }
    struct stats_snap *s = stats_snapshot(x->rt);
    size_t len = 0;
    char *csv = s ? stats_page_csv(s, &len) : NULL;
    stats_snap_free(s);
    if (!csv) {
        cli_out_printf(out, "Out of memory.\n");
        return;
    }
    cli_out_append(out, csv, len);
    free(csv);
}

/* HAProxy's HCHK_STATUS_* numbers for `show servers state`. */
static int hchk_status(int c)
{
    switch (c) {
    case SRV_CHK_L4OK:
        return 5;
    case SRV_CHK_L4TOUT:
        return 6;
    case SRV_CHK_L4CON:
        return 7;
    case SRV_CHK_L7TOUT:
        return 11;
    case SRV_CHK_L7RSP:
        return 12;
    case SRV_CHK_L7OK:
        return 14;
    case SRV_CHK_L7STS:
        return 16;
    default:
        return 1; /* INI */
    }
}

static void server_state_line(const struct runtime *rt, const struct server *s, uint64_t now,
                              struct cli_out *out)
{
    const struct cfg_server *c = s->cfg;
    char ip[INET6_ADDRSTRLEN] = "-";
    unsigned port = 0;
    if (c->addr.ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&c->addr;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
        port = ntohs(a->sin_port);
    } else if (c->addr.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&c->addr;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
        port = ntohs(a->sin6_port);
    }
    int st = atomic_load(&s->state);
    int chk = atomic_load(&s->check_status);
    int rise = c->rise > 0 ? c->rise : 2, fall = c->fall > 0 ? c->fall : 3;
    /* op_state: 0 stopped, 2 running; check result: 0 unknown, 2 failed, 3 passed */
    int op = st == SRV_ST_UP ? 2 : 0;
    int result = !c->check || chk == SRV_CHK_NONE               ? 0
                 : (chk == SRV_CHK_L4OK || chk == SRV_CHK_L7OK) ? 3
                                                                : 2;
    int health = c->check ? (st == SRV_ST_UP ? rise + fall - 1 : 0) : 0;
    /* check state: CONFIGURED|ENABLED (6), plus PAUSED (8) in maintenance */
    int chk_state = c->check ? (st == SRV_ST_MAINT ? 14 : 6) : 0;
    uint64_t lc = atomic_load(&s->last_change_ms);
    cli_out_printf(out, "%u %s %u %s %s %d %d %d %d %llu %d %d %d %d 0 0 0 - %u - 0 0 - - 0\n",
                   backend_iid(rt, s->be), s->be->cfg->name, s->idx + 1, c->name, ip, op,
                   atomic_load(&s->admin), atomic_load(&s->uweight), c->weight,
                   (unsigned long long)(now > lc ? (now - lc) / 1000 : 0),
                   c->check ? hchk_status(chk) : 0, result, health, chk_state, port);
}

static void cmd_show_servers_state(struct cli_ctx *x, int argc, char **argv, struct cli_out *out)
{
    const struct runtime *rt = x->rt;
    const struct backend *only = NULL;
    if (argc > 3) {
        only = find_backend(rt, argv[3]);
        if (!only) {
            cli_out_printf(out, "Can't find backend.\n");
            return;
        }
    }
    uint64_t now = clock_mono_ms();
    cli_out_printf(out, "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state "
                        "srv_admin_state srv_uweight srv_iweight srv_time_since_last_change "
                        "srv_check_status srv_check_result srv_check_health srv_check_state "
                        "srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port "
                        "srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr "
                        "srv_agent_port\n");
    for (size_t b = 0; rt->bal && b < rt->bal->nbackends; b++) {
        const struct backend *be = &rt->bal->backends[b];
        if (only && be != only)
            continue;
        for (size_t i = 0; i < be->nservers; i++)
            server_state_line(rt, &be->servers[i], now, out);
    }
}

static void cmd_show_sess(struct cli_ctx *x, int argc, char **argv, struct cli_out *out)
{
    (void)argc, (void)argv;
    const struct runtime *rt = x->rt;
    /* Sessions live in each worker's private list: this thread asks each worker to describe
     * its own (worker_dump_sessions) rather than walking lists it does not own. */
    for (unsigned i = 0; rt->workers && i < rt->nworkers; i++) {
        size_t len = 0;
        char *text = worker_dump_sessions(&rt->workers[i], CLI_SESS_WAIT_MS, &len);
        if (!text) {
            uint64_t a = atomic_load_explicit(&rt->workers[i].accepted, memory_order_relaxed);
            uint64_t c = atomic_load_explicit(&rt->workers[i].closed, memory_order_relaxed);
            cli_out_printf(out, "# worker %u did not answer in time (%llu live sessions)\n", i,
                           (unsigned long long)(a > c ? a - c : 0));
            continue;
        }
        if (len)
            cli_out_printf(out, "%.*s", (int)len, text);
        free(text);
    }
}

static void cmd_get_weight(struct cli_ctx *x, int argc, char **argv, struct cli_out *out)
{
    struct server *s = find_server(x, argc > 2 ? argv[2] : NULL, out);
    if (s)
        cli_out_printf(out, "%d (initial %d)\n", atomic_load(&s->uweight), s->cfg->weight);
}

static void cmd_set_weight(struct cli_ctx *x, int argc, char **argv, struct cli_out *out)
{
    struct server *s = find_server(x, argc > 2 ? argv[2] : NULL, out);
    if (s)
        set_weight(s, argc > 3 ? argv[3] : NULL, out);
}

static void cmd_set_server(struct cli_ctx *x, int argc, char **argv, struct cli_out *out)
{
    struct server *s = find_server(x, argc > 2 ? argv[2] : NULL, out);
    if (!s)
        return;
    const char *what = argc > 3 ? argv[3] : "";
    if (strcmp(what, "weight") == 0) {
        set_weight(s, argc > 4 ? argv[4] : NULL, out);
    } else if (strcmp(what, "state") == 0) {
        const char *v = argc > 4 ? argv[4] : "";
        if (strcmp(v, "ready") == 0)
            set_ready(s);
        else if (strcmp(v, "drain") == 0)
            set_drain(s);
        else if (strcmp(v, "maint") == 0)
            set_maint(s);
        else
            cli_out_printf(out, "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n");
    } else {
        cli_out_printf(out, "'set server <srv>' only supports 'state' and 'weight'.\n");
    }
}

static void cmd_disable_server(struct cli_ctx *x, int argc, char **argv, struct cli_out *out)
{
    struct server *s = find_server(x, argc > 2 ? argv[2] : NULL, out);
    if (s)
        set_maint(s);
}

static void cmd_enable_server(struct cli_ctx *x, int argc, char **argv, struct cli_out *out)
{
    struct server *s = find_server(x, argc > 2 ? argv[2] : NULL, out);
    if (s)
        set_ready(s);
}

static void table_line(void *arg, const char *line, size_t len)
{
    cli_out_printf(arg, "%.*s\n", (int)len, line);
}

/* HAProxy's answer names the tables there are. */
static struct stk_table *find_table(const char *name, struct cli_out *out)
{
    struct stk_table *t = stktable_find(name);
    if (!t)
        cli_out_printf(out,
                       "No such table: %s (the tables are the sections with a stick-table; "
                       "'show table' lists them).\n",
                       name);
    return t;
}

static void cmd_show_table(struct cli_ctx *x, int argc, char **argv, struct cli_out *out)
{
    (void)x;
    uint32_t now = (uint32_t)clock_coarse_ms();
    if (argc < 3) {
        for (size_t i = 0; i < stktable_count(); i++)
            stktable_show_header(stktable_get((unsigned)i), table_line, out);
        return;
    }
    struct stk_table *t = find_table(argv[2], out);
    if (!t)
        return;
    stktable_show_header(t, table_line, out);
    stktable_show(t, now, table_line, out);
}

static void cmd_clear_table(struct cli_ctx *x, int argc, char **argv, struct cli_out *out)
{
    (void)x;
    if (argc < 3 || (argc > 3 && (strcmp(argv[3], "key") != 0 || argc != 5))) {
        cli_out_printf(out, "Require 'clear table <table> [key <key>]'.\n");
        return;
    }
    struct stk_table *t = find_table(argv[2], out);
    if (!t)
        return;
    size_t n = stktable_clear(t, argc == 5 ? argv[4] : NULL);
    log_msg(LOG_LV_NOTICE, "table %s: %zu entries cleared (runtime API)", argv[2], n);
}

static const struct cli_cmd cmds[] = {
    {{"help", NULL}, "help", "list the commands valid at this level", CFG_CLI_USER, cmd_help},
    {{"prompt", NULL}, "prompt", "toggle interactive mode with prompt", CFG_CLI_USER, cmd_prompt},
    {{"quit", NULL}, "quit", "disconnect", CFG_CLI_USER, cmd_quit},
    {{"show", "info", NULL},
     "show info",
     "report information about the running process",
     CFG_CLI_USER,
     cmd_show_info},
    {{"show", "stat", NULL},
     "show stat",
     "report counters for each proxy and server (CSV)",
     CFG_CLI_USER,
     cmd_show_stat},
    {{"show", "servers", "state", NULL},
     "show servers state [<backend>]",
     "dump volatile server information (format version 1)",
     CFG_CLI_USER,
     cmd_show_servers_state},
    {{"show", "sess", NULL},
     "show sess",
     "report live sessions per worker",
     CFG_CLI_OPERATOR,
     cmd_show_sess},
    {{"show", "table", NULL},
     "show table [<table>]",
     "report the stick tables, or the entries of one",
     CFG_CLI_OPERATOR,
     cmd_show_table},
    {{"clear", "table", NULL},
     "clear table <table> [key <key>]",
     "remove the untracked entries of a table, or the one of a key",
     CFG_CLI_ADMIN,
     cmd_clear_table},
    {{"get", "weight", NULL},
     "get weight <bk>/<srv>",
     "report a server's current weight",
     CFG_CLI_USER,
     cmd_get_weight},
    {{"set", "weight", NULL},
     "set weight <bk>/<srv> (<w>|<w>%)",
     "change a server's weight (use 'set server' instead)",
     CFG_CLI_ADMIN,
     cmd_set_weight},
    {{"set", "server", NULL},
     "set server <bk>/<srv> [opts]",
     "change a server's state or weight: state ready|drain|maint, weight <w>[%]",
     CFG_CLI_ADMIN,
     cmd_set_server},
    {{"disable", "server", NULL},
     "disable server <bk>/<srv>",
     "disable a server for maintenance (set server <bk>/<srv> state maint)",
     CFG_CLI_ADMIN,
     cmd_disable_server},
    {{"enable", "server", NULL},
     "enable server <bk>/<srv>",
     "enable a disabled server (set server <bk>/<srv> state ready)",
     CFG_CLI_ADMIN,
     cmd_enable_server},
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static void list_commands(const struct cli_ctx *x, struct cli_out *out)
{
    for (size_t i = 0; i < NCMDS; i++)
        if (cmds[i].level <= x->level)
            cli_out_printf(out, "  %-40s: %s\n", cmds[i].usage, cmds[i].help);
}

static void cmd_help(struct cli_ctx *x, int argc, char **argv, struct cli_out *out)
{
    (void)argc, (void)argv;
    cli_out_printf(out, "The following commands are valid at this level:\n");
    list_commands(x, out);
}

static const struct cli_cmd *lookup(int argc, char **argv)
{
    const struct cli_cmd *best = NULL;
    int best_n = 0;
    for (size_t i = 0; i < NCMDS; i++) {
        int n = 0;
        while (cmds[i].words[n] && n < argc && strcmp(cmds[i].words[n], argv[n]) == 0)
            n++;
        if (!cmds[i].words[n] && n > best_n) {
            best = &cmds[i];
            best_n = n;
        }
    }
    return best;
}

void cli_execute(struct cli_ctx *x, char *cmd, struct cli_out *out)
{
    char *argv[CLI_MAX_ARGS];
    int argc = cli_tokenize(cmd, argv, CLI_MAX_ARGS);
    if (argc == 0)
        return;
    const struct cli_cmd *c = lookup(argc, argv);
    if (!c) {
        /* HAProxy's answer: the command as typed (first words), then what is allowed */
        cli_out_printf(out, "Unknown command: '%s", argv[0]);
        for (int i = 1; i < argc && i < 3; i++)
            cli_out_printf(out, " %s", argv[i]);
        cli_out_printf(out, "'. Please enter one of the following commands only:\n");
        list_commands(x, out);
        return;
    }
    if (c->level > x->level) {
        cli_out_printf(out, "Permission denied\n");
        return;
    }
    c->fn(x, argc, argv, out);
}

void cli_execute_line(struct cli_ctx *x, char *line, struct cli_out *out)
{
    char *parts[CLI_MAX_ARGS];
    size_t n = cli_split(line, parts, CLI_MAX_ARGS);
    if (n > CLI_MAX_ARGS)
        n = CLI_MAX_ARGS;
    for (size_t i = 0; i < n && !x->quit; i++) {
        char *p = parts[i];
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            continue;
        cli_execute(x, p, out);
        if (!x->quit)
            cli_out_append(out, "\n", 1);
    }
    if (x->prompt && !x->quit)
        cli_out_append(out, "> ", 2);
}

/* ---- the thread -------------------------------------------------------------------------- */

struct cli_conn {
    int fd;
    unsigned slot;
    struct cli_ctx ctx;
    char in[CLI_LINE_MAX];
    size_t inlen;
    struct cli_out out;
    size_t outoff;
    bool closing; /* close once the output is written */
    bool eof;     /* the client shut down its side */
    uint64_t deadline;
    uint32_t events; /* registered with epoll */
};

struct cli_listener {
    int fd;
    const struct cfg_stats_socket *cfg; /* borrowed */
    dev_t dev;                          /* the socket file we created, to unlink only ours */
    ino_t ino;
    bool created;
};

static struct {
    pthread_t thread;
    bool running;
    int epfd, evfd;
    struct runtime *rt; /* borrowed */
    struct cli_listener l[CFG_STATS_SOCKETS_MAX];
    size_t nl;
    struct cli_conn *conns[CLI_MAX_CONNS]; /* owned */
    uint32_t timeout_ms;
    _Atomic bool stop;
} C = {.epfd = -1, .evfd = -1};

static void conn_free(struct cli_conn *c)
{
    if (!c)
        return;
    C.conns[c->slot] = NULL;
    close(c->fd); /* also drops it from the epoll set: the fd is not shared */
    cli_out_free(&c->out);
    free(c);
}

static void conn_watch(struct cli_conn *c, uint32_t events)
{
    if (c->events == events)
        return;
    struct epoll_event ev = {.events = events, .data.u32 = CLI_EV_CONN + c->slot};
    if (epoll_ctl(C.epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
        c->events = events;
}

/* Run every complete line of the input (only one without prompt mode). */
static void conn_process(struct cli_conn *c)
{
    while (!c->closing && c->out.len == 0) {
        char *nl = memchr(c->in, '\n', c->inlen);
        if (!nl && !c->eof)
            return;
        size_t len = nl ? (size_t)(nl - c->in) : c->inlen;
        if (!nl && len == 0) {
            c->closing = true;
            return;
        }
        c->in[len] = '\0'; /* in has room: CLI_LINE_MAX bytes hold at most a full line */
        if (len > 0 && c->in[len - 1] == '\r')
            c->in[len - 1] = '\0';
        cli_execute_line(&c->ctx, c->in, &c->out);
        size_t used = nl ? len + 1 : len;
        memmove(c->in, c->in + used, c->inlen - used);
        c->inlen -= used;
        if (!c->ctx.prompt || c->ctx.quit || (!nl && c->eof))
            c->closing = true;
    }
}

/* Write what is pending; returns false when the connection is gone. */
static bool conn_flush(struct cli_conn *c, uint64_t now)
{
    while (c->outoff < c->out.len) {
        ssize_t n = send(c->fd, c->out.buf + c->outoff, c->out.len - c->outoff, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            conn_watch(c, EPOLLOUT);
            return true;
        }
        if (n <= 0) {
            conn_free(c);
            return false;
        }
        c->outoff += (size_t)n;
        c->deadline = now + C.timeout_ms;
    }
    c->out.len = c->outoff = 0;
    if (c->out.cap > 65536) /* a large answer (show stat) is not kept for the next one */
        cli_out_free(&c->out);
    if (c->closing) {
        /* shutdown first: the client sees EOF after every byte even if close() would reset */
        shutdown(c->fd, SHUT_WR);
        conn_free(c);
        return false;
    }
    conn_watch(c, EPOLLIN);
    return true;
}

/* Answer what can be answered: run lines while no output is pending, write, repeat. */
static void conn_run(struct cli_conn *c, uint64_t now)
{
    for (;;) {
        conn_process(c);
        if (c->out.len == 0 && !c->closing) {
            if (c->eof) /* EOF with nothing left to answer */
                conn_free(c);
            return;
        }
        if (!conn_flush(c, now) || c->out.len > 0)
            return; /* closed, or waiting for EPOLLOUT */
    }
}

static void conn_readable(struct cli_conn *c, uint64_t now)
{
    while (!c->eof) {
        if (c->inlen >= CLI_LINE_MAX - 1) {
            if (!memchr(c->in, '\n', c->inlen)) {
                cli_out_printf(&c->out, "Command line too long.\n\n");
                c->closing = true;
            }
            break;
        }
        ssize_t n = recv(c->fd, c->in + c->inlen, CLI_LINE_MAX - 1 - c->inlen, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n < 0) {
            conn_free(c);
            return;
        }
        if (n == 0) {
            c->eof = true;
            break;
        }
        c->inlen += (size_t)n;
        c->deadline = now + C.timeout_ms;
        if (memchr(c->in + c->inlen - (size_t)n, '\n', (size_t)n))
            break;
    }
    conn_run(c, now);
}

static void listener_accept(struct cli_listener *l, uint64_t now)
{
    for (;;) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN)
                log_msg(LOG_LV_WARN, "stats socket %s: accept() failed: %s", l->cfg->path,
                        strerror(errno));
            return;
        }
        unsigned slot = 0;
        while (slot < CLI_MAX_CONNS && C.conns[slot])
            slot++;
        struct cli_conn *c = slot < CLI_MAX_CONNS ? calloc(1, sizeof(*c)) : NULL;
        if (!c) {
            close(fd); /* too many clients: HAProxy's stats socket maxconn is 10 */
            continue;
        }
        c->fd = fd;
        c->slot = slot;
        c->ctx.rt = C.rt;
        c->ctx.level = l->cfg->level;
        c->deadline = now + C.timeout_ms;
        c->events = EPOLLIN;
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = CLI_EV_CONN + slot};
        if (epoll_ctl(C.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            close(fd);
            free(c);
            continue;
        }
        C.conns[slot] = c;
    }
}

static void *cli_main(void *arg)
{
    (void)arg;
    while (!atomic_load_explicit(&C.stop, memory_order_acquire)) {
        uint64_t now = clock_mono_ms();
        uint64_t wait = CLI_MAX_SLEEP_MS;
        for (unsigned i = 0; i < CLI_MAX_CONNS; i++) {
            struct cli_conn *c = C.conns[i];
            if (!c)
                continue;
            if (c->deadline <= now) {
                conn_free(c);
                continue;
            }
            if (c->deadline - now < wait)
                wait = c->deadline - now;
        }
        struct epoll_event evs[32];
        int n = epoll_wait(C.epfd, evs, 32, (int)wait);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            log_msg(LOG_LV_ERR, "runtime API: epoll_wait failed: %s", strerror(errno));
            break;
        }
        now = clock_mono_ms();
        for (int i = 0; i < n; i++) {
            uint32_t id = evs[i].data.u32;
            if (id == CLI_EV_STOP)
                continue;
            if (id < C.nl) {
                listener_accept(&C.l[id], now);
                continue;
            }
            struct cli_conn *c = C.conns[id - CLI_EV_CONN];
            if (!c)
                continue; /* closed earlier in this batch */
            if (evs[i].events & EPOLLOUT)
                conn_run(c, now);
            else if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                conn_readable(c, now);
        }
    }
    return NULL;
}

static void cleanup(void)
{
    for (unsigned i = 0; i < CLI_MAX_CONNS; i++)
        conn_free(C.conns[i]);
    for (size_t i = 0; i < C.nl; i++) {
        struct cli_listener *l = &C.l[i];
        if (l->fd >= 0)
            close(l->fd);
        struct stat sb;
        /* a newer process may have renamed its own socket over the path: leave that one */
        if (l->created && stat(l->cfg->path, &sb) == 0 && sb.st_dev == l->dev &&
            sb.st_ino == l->ino)
            unlink(l->cfg->path);
    }
    C.nl = 0;
    if (C.evfd >= 0)
        close(C.evfd);
    if (C.epfd >= 0)
        close(C.epfd);
    C.evfd = C.epfd = -1;
}

/* Bind PATH through PATH.PID.tmp and rename, as HAProxy does, so that clients never see a
 * missing socket while a new process replaces an old one. */
static int listener_open(struct cli_listener *l, char *err, size_t errlen)
{
    const char *path = l->cfg->path;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char tmp[sizeof(sa.sun_path) + 32];
    int tl = snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
    bool direct = tl < 0 || (size_t)tl >= sizeof(sa.sun_path);
    const char *bind_path = direct ? path : tmp;
    struct stat sb;
    if (direct && lstat(path, &sb) == 0 && S_ISSOCK(sb.st_mode))
        unlink(path); /* a stale socket left by a killed process */
    unlink(tmp);
    memcpy(sa.sun_path, bind_path, strlen(bind_path) + 1);
    l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const char *step = "socket()";
    if (l->fd < 0)
        goto fail;
    step = "bind()";
    if (bind(l->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        goto fail;
    step = "chmod()";
    if (l->cfg->mode >= 0 && chmod(bind_path, (mode_t)l->cfg->mode) < 0)
        goto fail_unlink;
    step = "listen()";
    if (listen(l->fd, 16) < 0)
        goto fail_unlink;
    step = "rename()";
    if (!direct && rename(tmp, path) < 0)
        goto fail_unlink;
    if (stat(path, &sb) == 0) {
        l->dev = sb.st_dev;
        l->ino = sb.st_ino;
        l->created = true;
    }
    return 0;
fail_unlink : {
    int e = errno;
    unlink(bind_path);
    errno = e;
}
fail : {
    int e = errno;
    snprintf(err, errlen, "%s:%d: stats socket %s: %s failed: %s", C.rt->cfg->file, l->cfg->line,
             path, step, strerror(e));
    return -e;
}
}

int cli_start(struct runtime *rt, char *err, size_t errlen)
{
    const struct config *cfg = rt->cfg;
    if (cfg->nstats_sockets == 0)
        return 0;
    C.rt = rt;
    C.timeout_ms = cfg->stats_timeout ? cfg->stats_timeout : CLI_DEFAULT_TMO_MS;
    atomic_store(&C.stop, false);
    int rc;
    C.epfd = epoll_create1(EPOLL_CLOEXEC);
    C.evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (C.epfd < 0 || C.evfd < 0) {
        rc = -errno;
        snprintf(err, errlen, "runtime API: %s", strerror(-rc));
        cleanup();
        return rc;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = CLI_EV_STOP};
    epoll_ctl(C.epfd, EPOLL_CTL_ADD, C.evfd, &ev);
    for (size_t i = 0; i < cfg->nstats_sockets; i++) {
        struct cli_listener *l = &C.l[C.nl++];
        memset(l, 0, sizeof(*l));
        l->fd = -1;
        l->cfg = &cfg->stats_sockets[i];
        if ((rc = listener_open(l, err, errlen)) < 0) {
            cleanup();
            return rc;
        }
        struct epoll_event lev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (epoll_ctl(C.epfd, EPOLL_CTL_ADD, l->fd, &lev) < 0) {
            rc = -errno;
            snprintf(err, errlen, "runtime API: epoll_ctl: %s", strerror(-rc));
            cleanup();
            return rc;
        }
    }
    if ((rc = pthread_create(&C.thread, NULL, cli_main, NULL)) != 0) {
        snprintf(err, errlen, "runtime API: cannot start its thread: %s", strerror(rc));
        cleanup();
        return -rc;
    }
    C.running = true;
    for (size_t i = 0; i < C.nl; i++)
        log_msg(LOG_LV_NOTICE, "runtime API listening on %s (level %s)", C.l[i].cfg->path,
                level_name(C.l[i].cfg->level));
    return 0;
}

void cli_stop(void)
{
    if (C.running) {
        atomic_store_explicit(&C.stop, true, memory_order_release);
        uint64_t one = 1;
        ssize_t w = write(C.evfd, &one, sizeof(one));
        (void)w; /* the loop also wakes up within CLI_MAX_SLEEP_MS */
        pthread_join(C.thread, NULL);
        C.running = false;
    }
    cleanup();
}
