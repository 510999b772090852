/* sluice: command line and configuration loading, then (core/master.c) the master process; here
 * also what one worker process (a generation) does: start-up, signals, graceful drain, exit code.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "balancer/health.h"
#include "balancer/server.h"
#include "config/model.h"
#include "core/acceptor.h"
#include "core/cli.h"
#include "core/clock.h"
#include "core/epoch.h"
#include "core/log.h"
#include "core/master.h"
#include "core/notify.h"
#include "core/stats.h"
#include "core/stktable.h"
#include "core/worker.h"
#include "net/http/auth.h"
#include "net/http/stream.h"
#include "net/relay.h"
#include "net/sock.h"
#include "net/tcp_proxy.h"

#define SLUICE_VERSION "0.1.0"

static void usage(FILE *out)
{
    fprintf(out, "Usage: sluice -f FILE [-c] [-D] [-p PIDFILE]\n"
                 "  -f FILE     configuration file (HAProxy-style INI)\n"
                 "  -c          check the configuration and exit (0: valid, 1: invalid)\n"
                 "  -D          run in the background (daemon)\n"
                 "  -p PIDFILE  write the process id to PIDFILE\n"
                 "  -v          print the version and exit\n"
                 "  -h          print this help and exit\n"
                 "Signals (to the master, the pidfile's PID): SIGTERM/SIGINT stop accepting and\n"
                 "drain live connections for up to `timeout drain` (default 10s); a second one\n"
                 "stops at once. SIGHUP reloads the configuration without dropping a connection.\n"
                 "SIGUSR1 reopens the log file.\n");
}

/* Give the process enough descriptors for maxconn (two per proxied connection plus pipes). */
static void raise_nofile(int maxconn)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    rlim_t want = (rlim_t)maxconn * 2 + 32;
    if (rl.rlim_cur >= want)
        return;
    rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < want)
        log_msg(LOG_LV_WARN,
                "maxconn %d needs %lu file descriptors but only %lu are allowed "
                "(raise the hard limit with ulimit -n)",
                maxconn, (unsigned long)want, (unsigned long)rl.rlim_cur);
}

/* Does any proxy write a line per connection or request? */
static bool logs_traffic(const struct config *cfg)
{
    for (size_t i = 0; i < cfg->nproxies; i++) {
        const struct cfg_proxy *p = &cfg->proxies[i];
        if (p->tcplog || p->http.httplog || p->http.log_format == CFG_LOGF_SQUID)
            return true;
    }
    return false;
}

static int check_supported(const struct config *cfg, char *err, size_t errlen)
{
    if (cfg->poller == CFG_POLLER_URING) {
        snprintf(err, errlen,
                 "%s: 'poller io_uring' is not available in this version yet "
                 "(use poller epoll)",
                 cfg->file);
        return -1;
    }
    return 0;
}

static void close_listeners(struct runtime *rt)
{
    for (size_t fi = 0; fi < rt->nfes; fi++) {
        struct frontend *fe = &rt->fes[fi];
        if (!fe->fds)
            continue;
        for (size_t i = 0; i < fe->cfg->nbinds; i++)
            if (fe->fds[i] >= 0)
                close(fe->fds[i]);
        free(fe->fds);
        fe->fds = NULL;
    }
}

static int build_frontends(struct runtime *rt, char *err, size_t errlen)
{
    const struct config *cfg = rt->cfg;
    size_t n = 0;
    for (size_t i = 0; i < cfg->nproxies; i++)
        if (cfg->proxies[i].caps & CFG_CAP_FE)
            n++;
    rt->fes = calloc(n ? n : 1, sizeof(*rt->fes));
    if (!rt->fes)
        return -ENOMEM;
    for (size_t i = 0; i < cfg->nproxies; i++) {
        const struct cfg_proxy *p = &cfg->proxies[i];
        if (!(p->caps & CFG_CAP_FE))
            continue;
        struct frontend *fe = &rt->fes[rt->nfes];
        fe->cfg = p;
        fe->idx = (unsigned)rt->nfes;
        fe->be = p->backend ? balancer_find(rt->bal, p->backend) : NULL;
        /* Without a default backend, use_backend rules choose; unmatched requests get 503. */
        if (!fe->be && p->http.nuse_backends == 0 && !p->http.http_proxy &&
            !p->http.stats.enabled && !p->http.has_service) {
            snprintf(err, errlen, "%s:%d: frontend '%s' has no backend", cfg->file, p->line,
                     p->name);
            return -EINVAL;
        }
        fe->on_accept = p->mode == CFG_MODE_HTTP ? http_stream_accept : tcp_proxy_accept;
        rt->nfes++;
    }
    if (rt->nfes == 0) {
        snprintf(err, errlen, "%s: no frontend or listen section: nothing to do", cfg->file);
        return -EINVAL;
    }
    return 0;
}

static uint32_t drain_timeout(const struct config *cfg)
{
    uint32_t d = 0;
    for (size_t i = 0; i < cfg->nproxies; i++)
        if (cfg->proxies[i].timeout.drain > d)
            d = cfg->proxies[i].timeout.drain;
    return d ? d : 10000;
}

/* Per-worker statistics slots for every frontend, backend and server (core/stats.h). */
static struct stats *build_stats(const struct runtime *rt)
{
    size_t nb = rt->bal->nbackends;
    size_t *nsrv = calloc(nb ? nb : 1, sizeof(*nsrv));
    if (!nsrv)
        return NULL;
    for (size_t i = 0; i < nb; i++)
        nsrv[i] = rt->bal->backends[i].nservers;
    struct stats *st = stats_new(rt->nworkers, rt->nfes, nb, nsrv);
    free(nsrv);
    if (st)
        st->version = SLUICE_VERSION;
    return st;
}

static bool workers_all_idle(struct runtime *rt)
{
    return atomic_load_explicit(&rt->live, memory_order_acquire) == 0;
}

/* master_hooks.prepare: load and check FILE into *rt (no socket bound). */
static int prepare(const char *file, struct runtime *rt, char *err, size_t errlen)
{
    memset(rt, 0, sizeof(*rt));
    rt->acceptor_evfd = -1;
    struct config *cfg = NULL;
    if (config_load(file, &cfg, err, errlen) < 0 || check_supported(cfg, err, errlen) < 0) {
        config_free(cfg);
        return -EINVAL;
    }
    raise_nofile(cfg->maxconn);
    rt->cfg = cfg;
    rt->nworkers = (unsigned)(cfg->nbthread > 0 ? cfg->nbthread : 1);
    rt->bal = balancer_new(cfg);
    int rc = rt->bal ? build_frontends(rt, err, errlen) : -ENOMEM;
    if (rc < 0) {
        if (!err[0])
            snprintf(err, errlen, "out of memory at start-up");
        free(rt->fes);
        balancer_free(rt->bal);
        config_free(cfg);
        memset(rt, 0, sizeof(*rt));
        rt->acceptor_evfd = -1;
    }
    return rc;
}

/* master_hooks.discard: free what prepare built; the listening sockets stay open. */
static void discard(struct runtime *rt)
{
    for (size_t fi = 0; fi < rt->nfes; fi++)
        free(rt->fes[fi].fds);
    free(rt->fes);
    stats_free(rt->stats);
    balancer_free(rt->bal);
    config_free((struct config *)rt->cfg);
    memset(rt, 0, sizeof(*rt));
    rt->acceptor_evfd = -1;
}

/* master_hooks.serve: one generation's worker process, on the listening sockets the master
 * bound. Returns the exit status. */
static int serve(struct runtime *rt, int ready_fd, unsigned generation, pid_t master)
{
    const struct config *cfg = rt->cfg;
    int rc;
    if (!(rt->stats = build_stats(rt))) {
        fprintf(stderr, "[ALERT]    (%d) : out of memory at start-up\n", (int)getpid());
        return 1;
    }
    /* Signals are taken synchronously by this thread only: the master blocked them before the
     * fork, so every thread started here inherits the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    sigaddset(&sigs, SIGUSR1);
    sigaddset(&sigs, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    log_set_traffic(logs_traffic(cfg));
    if ((rc = log_open_target(cfg->log_target, &cfg->log, rt->nworkers)) < 0) {
        fprintf(stderr, "[ALERT]    (%d) : cannot open log target '%s': %s\n", (int)getpid(),
                cfg->log_target, strerror(-rc));
        return 1;
    }
    char err[1024] = "";
    worker_proto_free_hook = http_worker_free;
    worker_flush_hook = relay_batch_flush;
    rt->acceptor_evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (rt->acceptor_evfd < 0 || epoch_init(rt->nworkers) < 0 || stktable_init(cfg) < 0 ||
        auth_start(cfg, rt->nworkers) < 0 || workers_start(rt, err, sizeof(err)) < 0 ||
        health_start(rt->bal) < 0 || acceptor_start(rt, err, sizeof(err)) < 0 ||
        cli_start(rt, err, sizeof(err)) < 0) {
        log_msg(LOG_LV_ERR, "start-up failed: %s", err[0] ? err : strerror(errno));
        atomic_store(&rt->state, RT_STOPPED);
        acceptor_stop(rt);
        workers_stop(rt);
        health_stop();
        auth_stop();
        stktable_shutdown();
        log_close();
        return 1;
    }
    for (size_t fi = 0; fi < rt->nfes; fi++) {
        const struct cfg_proxy *p = rt->fes[fi].cfg;
        for (size_t i = 0; i < p->nbinds; i++)
            log_msg(LOG_LV_NOTICE, "proxy %s listening on %s (mode %s, %s%s)", p->name,
                    p->binds[i].text, p->mode == CFG_MODE_HTTP ? "http" : "tcp",
                    p->http.http_proxy ? "forward proxy" : "backend ",
                    p->http.http_proxy ? ""
                    : rt->fes[fi].be   ? rt->fes[fi].be->cfg->name
                                       : "chosen by use_backend");
        if (p->http.http_proxy && !p->http.has_client_acl)
            log_msg(LOG_LV_WARN,
                    "forward proxy %s has no client ACL (no rule tests src): it "
                    "serves only loopback and private networks",
                    p->name);
    }
    log_msg(LOG_LV_NOTICE,
            "sluice " SLUICE_VERSION " started with %u worker thread(s) (generation %u, pid %d)",
            rt->nworkers, generation, (int)getpid());
    /* The master now lets the previous generation drain (and tells systemd READY=1). */
    if (write(ready_fd, "R", 1) != 1)
        log_msg(LOG_LV_WARN, "cannot tell the master that this generation is ready: %s",
                strerror(errno));
    close(ready_fd);

    int stop_signals = 0, stops_master = 0, stops_other = 0;
    bool replaced = false; /* SIGUSR2 from the master: the next generation accepts */
    for (;;) {
        struct timespec tick = {.tv_sec = 0, .tv_nsec = 100 * 1000000L};
        siginfo_t si;
        int sig = sigtimedwait(&sigs, &si, stop_signals ? &tick : NULL);
        /* Ctrl-C in a terminal or `systemctl kill` reach this process both directly and through
         * the master: count the two sources apart so that one such stop is not taken for two. */
        bool stop = false;
        if (sig == SIGTERM || sig == SIGINT) {
            int n = si.si_code == SI_USER && si.si_pid == master ? ++stops_master : ++stops_other;
            stop = n > stop_signals;
        } else if (sig == SIGUSR2 && !stop_signals) {
            stops_master = 1;
            stop = true;
        }
        if (stop) {
            if (++stop_signals == 1) {
                uint32_t d = drain_timeout(cfg);
                replaced = sig == SIGUSR2;
                if (replaced)
                    log_msg(LOG_LV_NOTICE,
                            "generation %u replaced: stopping listeners, draining %d "
                            "connection(s) for up to %u ms",
                            generation, atomic_load(&rt->live), d);
                else
                    log_msg(LOG_LV_NOTICE,
                            "received %s: stopping listeners, draining %d connection(s) "
                            "for up to %u ms",
                            sig == SIGTERM ? "SIGTERM" : "SIGINT", atomic_load(&rt->live), d);
                /* Closing this process's copies does not close the sockets while the master or
                 * the next generation holds them: no queued connection is lost. */
                acceptor_stop(rt);
                close_listeners(rt);
                rt->drain_deadline = clock_coarse_ms() + d;
                atomic_store_explicit(&rt->state, RT_DRAINING, memory_order_release);
                workers_wake_all(rt);
            } else {
                log_msg(LOG_LV_WARN, "second stop signal: closing remaining connections now");
                atomic_store_explicit(&rt->state, RT_STOPPED, memory_order_release);
                workers_wake_all(rt);
                break;
            }
        } else if (sig == SIGUSR1) {
            /* logrotate: the logger thread reopens a file target (a no-op for the others). */
            log_msg(LOG_LV_NOTICE, "received SIGUSR1: reopening the log");
            log_reopen();
        } else if (sig == SIGHUP) {
            log_msg(LOG_LV_NOTICE,
                    "SIGHUP ignored by a worker process: send it to the master "
                    "(pid %d) to reload",
                    (int)master);
        }
        if (stop_signals && (workers_all_idle(rt) || clock_coarse_ms() >= rt->drain_deadline))
            break;
    }
    cli_stop();
    workers_stop(rt);
    health_stop();
    auth_stop();
    if (replaced)
        log_msg(LOG_LV_NOTICE, "generation %u stopped", generation);
    else
        log_msg(LOG_LV_NOTICE, "stopped");
    log_close();
    if (rt->acceptor_evfd >= 0)
        close(rt->acceptor_evfd);
    epoch_shutdown();
    stktable_shutdown(); /* after the retired entries went */
    close_listeners(rt);
    discard(rt);
    return 0;
}

int main(int argc, char **argv)
{
    const char *file = NULL, *pidfile = NULL;
    bool check_only = false, daemon_mode = false;
    int opt;
    while ((opt = getopt(argc, argv, "f:cDp:vh")) != -1) {
        switch (opt) {
        case 'f':
            file = optarg;
            break;
        case 'c':
            check_only = true;
            break;
        case 'D':
            daemon_mode = true;
            break;
        case 'p':
            pidfile = optarg;
            break;
        case 'v':
            printf("sluice version " SLUICE_VERSION "\n");
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 1;
        }
    }
    if (!file || optind != argc) {
        fprintf(stderr, "sluice: %s\n",
                file ? "unexpected argument" : "no configuration file (-f FILE)");
        usage(stderr);
        return 1;
    }

    char err[1024] = "";
    if (check_only) {
        struct config *cfg = NULL;
        if (config_load(file, &cfg, err, sizeof(err)) < 0 ||
            check_supported(cfg, err, sizeof(err)) < 0) {
            fprintf(stderr, "[ALERT]    (%d) : %s\n", (int)getpid(), err);
            config_free(cfg);
            return 1;
        }
        printf("Configuration file is valid\n");
        config_free(cfg);
        return 0;
    }
    signal(SIGPIPE, SIG_IGN); /* splice() to a closed socket raises it even with MSG_NOSIGNAL */
    static struct runtime rt; /* the first generation's; later ones are the master's */
    if (prepare(file, &rt, err, sizeof(err)) < 0) {
        fprintf(stderr, "[ALERT]    (%d) : %s\n", (int)getpid(), err);
        return 1;
    }
    daemon_mode |= rt.cfg->daemon;
    if (!pidfile && rt.cfg->pidfile[0])
        pidfile = rt.cfg->pidfile;
    static const struct master_hooks hooks = {
        .prepare = prepare, .discard = discard, .serve = serve};
    return master_run(&hooks, file, &rt, pidfile, daemon_mode);
}
