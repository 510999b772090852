/* The master process: HAProxy's master-worker mode, simplified.
 *
 * `sluice -f FILE` loads the configuration, then this master binds every listener, detaches (-D),
 * writes the pidfile (its own PID, the same for every reload) and forks a worker process that
 * runs the proxy (threads, workers) on the inherited listening sockets. The master does no
 * traffic work: it waits for signals (signalfd) and for its workers.
 *
 * Reload (SIGHUP): load the configuration again (a bad one is logged with its FILE:LINE: error
 * and the running generation keeps serving), reuse the bound socket of every address that stays,
 * bind the new ones, fork the next generation and wait for its ready byte on a pipe (written once
 * its acceptor runs). Then the previous generation gets SIGUSR2: it stops accepting, closes its
 * copies of the listening sockets and drains its live connections up to `timeout drain`. The
 * master and the new generation still hold the same open file descriptions, so a connection that
 * waits in a listen queue is never lost: the new generation accepts it. Sockets of addresses the
 * new configuration dropped are closed in the master (the draining generation closed its own).
 * A SIGHUP during a reload is queued. sd_notify: RELOADING=1, then READY=1 when it is done.
 *
 * SIGTERM/SIGINT: close the master's listening sockets, forward the signal to the serving
 * generation (a draining one gets only a second signal, which stops it at once), wait for every
 * worker, remove the pidfile, exit 0. SIGUSR1: reopen the master's log file, forward. A serving
 * worker that dies unexpectedly makes the master log it, stop the others and exit 1 (HAProxy's
 * default; let the service manager restart it). Every worker gets PR_SET_PDEATHSIG SIGTERM, so a
 * killed master leaves no worker behind. */
#include "core/master.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "core/notify.h"
#include "net/sock.h"

#define LISTEN_BACKLOG 1024
#define MAX_CHILDREN   64

struct listener {
    struct sockaddr_storage addr;
    socklen_t len;
    int fd;
    bool claimed; /* by the configuration being bound */
};

enum child_state { CH_STARTING, CH_ACTIVE, CH_DRAINING };

struct child {
    pid_t pid;
    unsigned gen;
    enum child_state st;
};

static struct {
    const struct master_hooks *hooks;
    const char *file;
    struct listener *ls; /* owned */
    size_t nls, capls;
    struct child ch[MAX_CHILDREN];
    size_t nch;
    struct runtime *cur;  /* the serving generation's runtime */
    struct runtime *next; /* the starting generation's, or NULL */
    int ready_fd;         /* read end of the starting generation's pipe, or -1 */
    int sfd;              /* signalfd */
    unsigned gen;
    bool stopping, reload_queued, started;
    int exit_rc;
} m = {.ready_fd = -1, .sfd = -1};

static struct runtime slots[2]; /* later generations' runtimes (the first is the caller's) */

/* ---- listeners ------------------------------------------------------------------------------ */

static struct listener *find_listener(const struct sockaddr_storage *a, socklen_t len)
{
    for (size_t i = 0; i < m.nls; i++)
        if (m.ls[i].len == len && !memcmp(&m.ls[i].addr, a, len))
            return &m.ls[i];
    return NULL;
}

static void set_defer_accept(const struct runtime *rt, const struct cfg_bind *b, int fd)
{
    int rc = sock_defer_accept(fd, b->defer_accept);
    if (rc < 0 && b->defer_accept)
        log_msg(LOG_LV_WARN, "%s:%d: defer-accept on %s: %s (ignored)", rt->cfg->file, b->line,
                b->text, strerror(-rc));
}

/* bind ... defer-accept on every listener of rt. A socket kept across a reload is shared with
 * the serving generation, so its option changes only once the new generation took over: a reload
 * that fails leaves the running configuration's setting in place. */
static void apply_defer_accept(const struct runtime *rt)
{
    for (size_t fi = 0; fi < rt->nfes; fi++) {
        const struct frontend *fe = &rt->fes[fi];
        for (size_t i = 0; i < fe->cfg->nbinds; i++)
            if (fe->fds[i] >= 0)
                set_defer_accept(rt, &fe->cfg->binds[i], fe->fds[i]);
    }
}

/* Give every bind line of rt a listening socket: the one already bound to its address, or a new
 * one. Fills fe->fds. Returns 0 or -errno with err set. */
static int bind_runtime(struct runtime *rt, char *err, size_t errlen)
{
    for (size_t i = 0; i < m.nls; i++)
        m.ls[i].claimed = false;
    for (size_t fi = 0; fi < rt->nfes; fi++) {
        struct frontend *fe = &rt->fes[fi];
        fe->fds = malloc(sizeof(int) * (fe->cfg->nbinds ? fe->cfg->nbinds : 1));
        if (!fe->fds) {
            snprintf(err, errlen, "out of memory");
            return -ENOMEM;
        }
        for (size_t i = 0; i < fe->cfg->nbinds; i++)
            fe->fds[i] = -1;
        for (size_t i = 0; i < fe->cfg->nbinds; i++) {
            const struct cfg_bind *b = &fe->cfg->binds[i];
            struct listener *l = find_listener(&b->addr, b->addrlen);
            int fd;
            if (l && l->claimed) {
                fd = -EADDRINUSE; /* two bind lines on one address, as bind() would say */
            } else if (l) {
                fd = l->fd;
            } else {
                if (m.nls == m.capls) {
                    size_t cap = m.capls ? m.capls * 2 : 8;
                    struct listener *nl = realloc(m.ls, cap * sizeof(*nl));
                    if (!nl) {
                        snprintf(err, errlen, "out of memory");
                        return -ENOMEM;
                    }
                    m.ls = nl;
                    m.capls = cap;
                }
                fd = sock_listen((const struct sockaddr *)&b->addr, b->addrlen, LISTEN_BACKLOG,
                                 false);
                if (fd >= 0) {
                    set_defer_accept(rt, b, fd); /* a new socket: no generation uses it yet */
                    l = &m.ls[m.nls++];
                    memset(l, 0, sizeof(*l));
                    memcpy(&l->addr, &b->addr, b->addrlen);
                    l->len = b->addrlen;
                    l->fd = fd;
                }
            }
            if (fd < 0) {
                snprintf(err, errlen, "%s:%d: cannot bind frontend '%s' to %s: %s", rt->cfg->file,
                         b->line, fe->cfg->name, b->text, strerror(-fd));
                return fd;
            }
            l->claimed = true;
            fe->fds[i] = fd;
        }
    }
    return 0;
}

static bool rt_uses(const struct runtime *rt, int fd)
{
    for (size_t fi = 0; rt && fi < rt->nfes; fi++)
        for (size_t i = 0; rt->fes[fi].fds && i < rt->fes[fi].cfg->nbinds; i++)
            if (rt->fes[fi].fds[i] == fd)
                return true;
    return false;
}

/* Close the master's sockets that neither rt nor also (may be NULL) uses. */
static void prune_listeners(const struct runtime *rt, const struct runtime *also)
{
    size_t k = 0;
    for (size_t i = 0; i < m.nls; i++) {
        if (rt_uses(rt, m.ls[i].fd) || rt_uses(also, m.ls[i].fd))
            m.ls[k++] = m.ls[i];
        else
            close(m.ls[i].fd);
    }
    m.nls = k;
}

/* ---- process ----------------------------------------------------------------------------- */

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

static int open_log(const struct config *cfg)
{
    log_close();
    return log_open_direct(cfg->log_target, &cfg->log);
}

static const char *status_text(int st, char *buf, size_t len)
{
    if (WIFEXITED(st))
        snprintf(buf, len, "exit status %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    else
        snprintf(buf, len, "status %#x", st);
    return buf;
}

/* Fork generation m.gen serving rt; it becomes the starting child. Returns 0 or -errno. */
static int fork_child(struct runtime *rt)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    if (m.nch == MAX_CHILDREN) {
        close(p[0]);
        close(p[1]);
        return -EAGAIN;
    }
    pid_t master = getpid();
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        return -e;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != master)
            kill(getpid(), SIGTERM); /* the master is already gone: drain and exit */
        close(p[0]);
        close(m.sfd);
        if (m.ready_fd >= 0)
            close(m.ready_fd);
        for (size_t i = 0; i < m.nls; i++)
            if (!rt_uses(rt, m.ls[i].fd))
                close(m.ls[i].fd); /* an address dropped by this generation's configuration */
        unsetenv("NOTIFY_SOCKET"); /* only the master (MAINPID) talks to systemd */
        log_close();
        log_set_pid((int)master);
        exit(m.hooks->serve(rt, p[1], m.gen, master));
    }
    close(p[1]);
    m.ready_fd = p[0];
    m.ch[m.nch++] = (struct child){.pid = pid, .gen = m.gen, .st = CH_STARTING};
    m.next = rt;
    return 0;
}

static void signal_children(int sig, bool draining_too)
{
    for (size_t i = 0; i < m.nch; i++)
        if (draining_too || m.ch[i].st != CH_DRAINING)
            kill(m.ch[i].pid, sig);
}

/* The next generation could not start: forget it, keep the serving one. */
static void abandon_next(void)
{
    if (m.ready_fd >= 0)
        close(m.ready_fd);
    m.ready_fd = -1;
    if (m.next && m.next != m.cur) {
        m.hooks->discard(m.next);
        prune_listeners(m.cur, NULL);
    }
    m.next = NULL;
}

static void reload(void)
{
    if (m.stopping)
        return;
    if (m.next) {
        m.reload_queued = true;
        log_msg(LOG_LV_NOTICE, "received SIGHUP during a reload: reloading again after it");
        return;
    }
    notify_reloading();
    log_msg(LOG_LV_NOTICE, "received SIGHUP: reloading the configuration from %s", m.file);
    struct runtime *rt = m.cur == &slots[0] ? &slots[1] : &slots[0];
    char err[1024] = "";
    int rc = m.hooks->prepare(m.file, rt, err, sizeof(err));
    if (rc == 0 && (rc = bind_runtime(rt, err, sizeof(err))) < 0)
        m.hooks->discard(rt);
    if (rc == 0) {
        m.gen++;
        if ((rc = fork_child(rt)) < 0) {
            m.gen--;
            snprintf(err, sizeof(err), "cannot fork: %s", strerror(-rc));
            m.hooks->discard(rt);
        }
    }
    if (rc < 0) {
        prune_listeners(m.cur, NULL);
        log_msg(LOG_LV_ERR, "reload failed, the running configuration keeps serving: %s",
                err[0] ? err : strerror(-rc));
        notify_ready("serving");
    }
}

/* The starting generation wrote its ready byte: it accepts; the serving one may drain. */
static void switch_over(void)
{
    close(m.ready_fd);
    m.ready_fd = -1;
    size_t ndrain = 0;
    pid_t newpid = 0;
    for (size_t i = 0; i < m.nch; i++) {
        if (m.ch[i].st == CH_ACTIVE) {
            kill(m.ch[i].pid, SIGUSR2);
            m.ch[i].st = CH_DRAINING;
            ndrain++;
        } else if (m.ch[i].st == CH_STARTING) {
            m.ch[i].st = CH_ACTIVE;
            newpid = m.ch[i].pid;
        }
    }
    if (m.next != m.cur) {
        m.hooks->discard(m.cur);
        m.cur = m.next;
        prune_listeners(m.cur, NULL);
        apply_defer_accept(m.cur);
        int rc = open_log(m.cur->cfg); /* the new configuration may name another target */
        if (rc < 0)
            log_msg(LOG_LV_ERR, "cannot open log target '%s': %s", m.cur->cfg->log_target,
                    strerror(-rc));
    }
    m.next = NULL;
    if (m.started)
        log_msg(LOG_LV_NOTICE,
                "reload complete: generation %u (pid %d) serves, %zu older generation(s) draining",
                m.gen, (int)newpid, ndrain);
    m.started = true;
    int rc = notify_ready("serving");
    if (rc < 0)
        log_msg(LOG_LV_WARN, "sd_notify READY=1 to NOTIFY_SOCKET failed: %s", strerror(-rc));
    if (m.reload_queued) {
        m.reload_queued = false;
        reload();
    }
}

static void stop(int sig)
{
    if (m.stopping) {
        signal_children(sig, true); /* a second signal: every worker stops at once */
        return;
    }
    m.stopping = true;
    m.reload_queued = false;
    notify_stopping("draining");
    /* Close the master's copies first: once the serving worker closes its own, new connections
     * are refused. */
    for (size_t i = 0; i < m.nls; i++)
        close(m.ls[i].fd);
    m.nls = 0;
    signal_children(sig, false);
}

static void reap(void)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        size_t i = 0;
        while (i < m.nch && m.ch[i].pid != pid)
            i++;
        if (i == m.nch)
            continue;
        struct child c = m.ch[i];
        m.ch[i] = m.ch[--m.nch];
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
        char how[96];
        status_text(st, how, sizeof(how));
        switch (c.st) {
        case CH_STARTING:
            abandon_next();
            if (!m.started) { /* the first generation: start-up failed (it said why) */
                m.exit_rc = code ? code : 1;
                if (!m.stopping)
                    stop(SIGTERM);
            } else if (!m.stopping) {
                log_msg(LOG_LV_ERR,
                        "reload failed: generation %u (pid %d) %s before it was ready; "
                        "the running configuration keeps serving",
                        c.gen, (int)pid, how);
                notify_ready("serving");
                if (m.reload_queued) {
                    m.reload_queued = false;
                    reload();
                }
            }
            break;
        case CH_ACTIVE:
            if (m.stopping) {
                if (code && !m.exit_rc)
                    m.exit_rc = code;
                break;
            }
            log_msg(LOG_LV_ERR, "worker generation %u (pid %d) %s: stopping", c.gen, (int)pid, how);
            m.exit_rc = 1;
            abandon_next();
            stop(SIGTERM);
            break;
        case CH_DRAINING:
            log_msg(code ? LOG_LV_WARN : LOG_LV_NOTICE, "generation %u (pid %d) %s after draining",
                    c.gen, (int)pid, how);
            break;
        }
    }
}

static void handle_signal(int sig)
{
    switch (sig) {
    case SIGHUP:
        reload();
        break;
    case SIGTERM:
    case SIGINT:
        stop(sig);
        break;
    case SIGUSR1: {
        int rc = open_log(m.cur->cfg); /* logrotate moved the file: write to the new one */
        if (rc < 0)
            log_msg(LOG_LV_ERR, "cannot reopen log target '%s': %s", m.cur->cfg->log_target,
                    strerror(-rc));
        signal_children(SIGUSR1, true);
        break;
    }
    default:
        break;
    }
}

int master_run(const struct master_hooks *hooks, const char *file, struct runtime *rt,
               const char *pidfile, bool daemon_mode)
{
    m.hooks = hooks;
    m.file = file;
    m.cur = rt;
    char err[1024] = "";
    if (bind_runtime(rt, err, sizeof(err)) < 0) {
        fprintf(stderr, "[ALERT]    (%d) : %s\n", (int)getpid(), err);
        hooks->discard(rt);
        prune_listeners(NULL, NULL);
        free(m.ls);
        return 1;
    }
    if (daemon_mode && daemonize() < 0) {
        fprintf(stderr, "[ALERT]    (%d) : cannot daemonize: %s\n", (int)getpid(), strerror(errno));
        return 1;
    }
    int rc;
    if (pidfile && (rc = write_pidfile(pidfile)) < 0) {
        fprintf(stderr, "[ALERT]    (%d) : cannot write pidfile %s: %s\n", (int)getpid(), pidfile,
                strerror(-rc));
        return 1;
    }
    /* Signals are taken through a signalfd; the workers inherit the mask and take theirs
     * synchronously (sigtimedwait). Blocked before any fork or thread. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    sigaddset(&sigs, SIGUSR1);
    sigaddset(&sigs, SIGUSR2);
    sigaddset(&sigs, SIGCHLD);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    m.sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
    if (m.sfd < 0 || (rc = open_log(rt->cfg)) < 0) {
        if (m.sfd < 0)
            fprintf(stderr, "[ALERT]    (%d) : signalfd: %s\n", (int)getpid(), strerror(errno));
        else
            fprintf(stderr, "[ALERT]    (%d) : cannot open log target '%s': %s\n", (int)getpid(),
                    rt->cfg->log_target, strerror(-rc));
        if (pidfile)
            unlink(pidfile);
        return 1;
    }
    m.gen = 1;
    if ((rc = fork_child(rt)) < 0) {
        log_msg(LOG_LV_ERR, "cannot fork the worker process: %s", strerror(-rc));
        if (pidfile)
            unlink(pidfile);
        return 1;
    }
    while (m.nch > 0) {
        struct pollfd pf[2] = {{.fd = m.sfd, .events = POLLIN},
                               {.fd = m.ready_fd, .events = POLLIN}};
        int n = poll(pf, m.ready_fd >= 0 ? 2 : 1, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            log_msg(LOG_LV_ERR, "master: poll failed: %s", strerror(errno));
            break;
        }
        if (m.ready_fd >= 0 && pf[1].revents) {
            char c;
            ssize_t r = read(m.ready_fd, &c, 1);
            if (r == 1 && !m.stopping)
                switch_over();
            else if (r == 1) {
                close(m.ready_fd); /* stopping: it got the signal too */
                m.ready_fd = -1;
            } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                close(m.ready_fd); /* it exits without being ready: reap() tells */
                m.ready_fd = -1;
            }
        }
        struct signalfd_siginfo si;
        while (read(m.sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
            if (si.ssi_signo != SIGCHLD)
                handle_signal((int)si.ssi_signo);
        reap();
    }
    if (m.ready_fd >= 0)
        close(m.ready_fd);
    close(m.sfd);
    prune_listeners(NULL, NULL);
    free(m.ls);
    if (m.next && m.next != m.cur)
        hooks->discard(m.next);
    hooks->discard(m.cur);
    log_close();
    if (pidfile)
        unlink(pidfile);
    return m.exit_rc;
}
