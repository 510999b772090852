/* sluice: command line, start-up, signals, graceful drain and exit codes. */
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
#include "core/notify.h"
#include "core/stats.h"
#include "core/worker.h"
#include "net/http/auth.h"
#include "net/http/stream.h"
#include "net/sock.h"
#include "net/tcp_proxy.h"

#define SLUICE_VERSION "0.1.0"
#define LISTEN_BACKLOG 1024

static void usage(FILE *out)
{
    fprintf(out, "Usage: sluice -f FILE [-c] [-D] [-p PIDFILE]\n"
                 "  -f FILE     configuration file (HAProxy-style INI)\n"
                 "  -c          check the configuration and exit (0: valid, 1: invalid)\n"
                 "  -D          run in the background (daemon)\n"
                 "  -p PIDFILE  write the process id to PIDFILE\n"
                 "  -v          print the version and exit\n"
                 "  -h          print this help and exit\n"
                 "Signals: SIGTERM/SIGINT stop accepting and drain live connections for up to\n"
                 "`timeout drain` (default 10s); a second one stops at once.\n");
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

static int bind_frontends(struct runtime *rt, char *err, size_t errlen)
{
    for (size_t fi = 0; fi < rt->nfes; fi++) {
        struct frontend *fe = &rt->fes[fi];
        fe->fds = malloc(sizeof(int) * (fe->cfg->nbinds ? fe->cfg->nbinds : 1));
        if (!fe->fds)
            return -ENOMEM;
        for (size_t i = 0; i < fe->cfg->nbinds; i++)
            fe->fds[i] = -1;
        for (size_t i = 0; i < fe->cfg->nbinds; i++) {
            const struct cfg_bind *b = &fe->cfg->binds[i];
            int fd =
                sock_listen((const struct sockaddr *)&b->addr, b->addrlen, LISTEN_BACKLOG, false);
            if (fd < 0) {
                snprintf(err, errlen, "%s:%d: cannot bind frontend '%s' to %s: %s", rt->cfg->file,
                         b->line, fe->cfg->name, b->text, strerror(-fd));
                return fd;
            }
            fe->fds[i] = fd;
        }
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

static int write_pidfile(const char *path)
{
    char tmp[CFG_PATH_MAX + 8];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -errno;
    fprintf(f, "%d\n", (int)getpid());
    if (fclose(f) != 0 || rename(tmp, path) < 0)
        return -errno;
    return 0;
}

/* Classic double fork; the parent exits 0 once the child runs. Before any thread exists. */
static int daemonize(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        return -errno;
    pid = fork();
    if (pid < 0)
        return -errno;
    if (pid > 0)
        _exit(0);
    /* Detach from the caller's terminal or pipe entirely, as HAProxy does: a daemon that kept the
     * caller's stdout would hold a shell pipeline open. Use a log file to keep messages. */
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
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
    struct config *cfg = NULL;
    if (config_load(file, &cfg, err, sizeof(err)) < 0 ||
        check_supported(cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "[ALERT]    (%d) : %s\n", (int)getpid(), err);
        config_free(cfg);
        return 1;
    }
    if (check_only) {
        printf("Configuration file is valid\n");
        config_free(cfg);
        return 0;
    }
    daemon_mode |= cfg->daemon;
    if (!pidfile && cfg->pidfile[0])
        pidfile = cfg->pidfile;

    signal(SIGPIPE, SIG_IGN); /* splice() to a closed socket raises it even with MSG_NOSIGNAL */
    raise_nofile(cfg->maxconn);

    struct runtime rt;
    memset(&rt, 0, sizeof(rt));
    rt.cfg = cfg;
    rt.nworkers = (unsigned)(cfg->nbthread > 0 ? cfg->nbthread : 1);
    rt.acceptor_evfd = -1;
    rt.bal = balancer_new(cfg);
    int rc = rt.bal ? build_frontends(&rt, err, sizeof(err)) : -ENOMEM;
    if (rc == 0)
        rc = bind_frontends(&rt, err, sizeof(err));
    if (rc == 0 && !(rt.stats = build_stats(&rt)))
        rc = -ENOMEM;
    if (rc < 0) {
        fprintf(stderr, "[ALERT]    (%d) : %s\n", (int)getpid(),
                err[0] ? err : "out of memory at start-up");
        close_listeners(&rt);
        free(rt.fes);
        stats_free(rt.stats);
        balancer_free(rt.bal);
        config_free(cfg);
        return 1;
    }
    if (daemon_mode && daemonize() < 0) {
        fprintf(stderr, "[ALERT]    (%d) : cannot daemonize: %s\n", (int)getpid(), strerror(errno));
        return 1;
    }
    if (pidfile && (rc = write_pidfile(pidfile)) < 0) {
        fprintf(stderr, "[ALERT]    (%d) : cannot write pidfile %s: %s\n", (int)getpid(), pidfile,
                strerror(-rc));
        return 1;
    }

    /* Signals are taken synchronously by this thread only: block them before any thread. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    sigaddset(&sigs, SIGUSR1);
    sigaddset(&sigs, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    if ((rc = log_open_target(cfg->log_target, &cfg->log, rt.nworkers)) < 0) {
        fprintf(stderr, "[ALERT]    (%d) : cannot open log target '%s': %s\n", (int)getpid(),
                cfg->log_target, strerror(-rc));
        return 1;
    }
    worker_proto_free_hook = http_worker_free;
    rt.acceptor_evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (rt.acceptor_evfd < 0 || epoch_init(rt.nworkers) < 0 || auth_start(cfg, rt.nworkers) < 0 ||
        workers_start(&rt, err, sizeof(err)) < 0 || health_start(rt.bal) < 0 ||
        acceptor_start(&rt, err, sizeof(err)) < 0 || cli_start(&rt, err, sizeof(err)) < 0) {
        log_msg(LOG_LV_ERR, "start-up failed: %s", err[0] ? err : strerror(errno));
        atomic_store(&rt.state, RT_STOPPED);
        acceptor_stop(&rt);
        workers_stop(&rt);
        health_stop();
        auth_stop();
        log_close();
        return 1;
    }
    for (size_t fi = 0; fi < rt.nfes; fi++) {
        const struct cfg_proxy *p = rt.fes[fi].cfg;
        for (size_t i = 0; i < p->nbinds; i++)
            log_msg(LOG_LV_NOTICE, "proxy %s listening on %s (mode %s, %s%s)", p->name,
                    p->binds[i].text, p->mode == CFG_MODE_HTTP ? "http" : "tcp",
                    p->http.http_proxy ? "forward proxy" : "backend ",
                    p->http.http_proxy ? ""
                    : rt.fes[fi].be    ? rt.fes[fi].be->cfg->name
                                       : "chosen by use_backend");
        if (p->http.http_proxy && !p->http.has_client_acl)
            log_msg(LOG_LV_WARN,
                    "forward proxy %s has no client ACL (no rule tests src): it "
                    "serves only loopback and private networks",
                    p->name);
    }
    log_msg(LOG_LV_NOTICE, "sluice " SLUICE_VERSION " started with %u worker thread(s)",
            rt.nworkers);
    /* systemd Type=notify: the listeners are bound and the workers accept. */
    if ((rc = notify_ready("serving")) < 0)
        log_msg(LOG_LV_WARN, "sd_notify READY=1 to NOTIFY_SOCKET failed: %s", strerror(-rc));

    int stop_signals = 0;
    for (;;) {
        struct timespec tick = {.tv_sec = 0, .tv_nsec = 100 * 1000000L};
        int sig = sigtimedwait(&sigs, NULL, stop_signals ? &tick : NULL);
        if (sig == SIGTERM || sig == SIGINT) {
            if (++stop_signals == 1) {
                uint32_t d = drain_timeout(cfg);
                log_msg(LOG_LV_NOTICE,
                        "received %s: stopping listeners, draining %d connection(s) "
                        "for up to %u ms",
                        sig == SIGTERM ? "SIGTERM" : "SIGINT", atomic_load(&rt.live), d);
                notify_stopping("draining");
                acceptor_stop(&rt);
                close_listeners(&rt);
                rt.drain_deadline = clock_coarse_ms() + d;
                atomic_store_explicit(&rt.state, RT_DRAINING, memory_order_release);
                workers_wake_all(&rt);
            } else {
                log_msg(LOG_LV_WARN, "second stop signal: closing remaining connections now");
                atomic_store_explicit(&rt.state, RT_STOPPED, memory_order_release);
                workers_wake_all(&rt);
                break;
            }
        } else if (sig == SIGUSR1) {
            /* logrotate: the logger thread reopens a file target (a no-op for the others). */
            log_msg(LOG_LV_NOTICE, "received SIGUSR1: reopening the log");
            log_reopen();
        } else if (sig == SIGHUP || sig == SIGUSR2) {
            log_msg(LOG_LV_NOTICE, "signal %d ignored (reload is not supported by this version)",
                    sig);
        }
        if (stop_signals && (workers_all_idle(&rt) || clock_coarse_ms() >= rt.drain_deadline))
            break;
    }
    cli_stop();
    workers_stop(&rt);
    health_stop();
    auth_stop();
    log_msg(LOG_LV_NOTICE, "stopped");
    log_close();
    if (rt.acceptor_evfd >= 0)
        close(rt.acceptor_evfd);
    epoch_shutdown();
    close_listeners(&rt);
    free(rt.fes);
    stats_free(rt.stats);
    balancer_free(rt.bal);
    if (pidfile)
        unlink(pidfile);
    config_free(cfg);
    return 0;
}
