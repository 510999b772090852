/* Logging: syslog line formats, the `log` keyword, datagram targets with drops, reopen, sd_notify.
 */
#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "config/model.h"
#include "core/log.h"
#include "core/notify.h"

#define BASE                                                                                       \
    "[frontend f]\n"                                                                               \
    "bind = :80\n"                                                                                 \
    "default_backend = b\n"                                                                        \
    "[backend b]\n"                                                                                \
    "server = s1 127.0.0.1:1\n"

static size_t fmt(enum cfg_syslog_format f, int fac, int sev, int is_msg, int stream, size_t len,
                  const char *text, char *out, size_t cap)
{
    struct timeval tv = {.tv_sec = 1700000000, .tv_usec = 123};
    struct log_clock clk = {.sec = -1};
    size_t n = log_format_line(f, fac, sev, is_msg, "host1", 42, &tv, &clk, text, strlen(text),
                               stream, len, out, cap - 1);
    out[n] = '\0';
    return n;
}

static void test_rfc3164(void)
{
    char out[256], want[256], ts[32];
    time_t sec = 1700000000;
    struct tm tm;
    localtime_r(&sec, &tm);
    strftime(ts, sizeof(ts), "%b %e %H:%M:%S", &tm);
    /* local0 (16) * 8 + info (6) = 134 */
    fmt(CFG_LOGFMT_RFC3164, 16, 6, 0, 0, 0, "1.2.3.4:5 [x] f b/s", out, sizeof(out));
    snprintf(want, sizeof(want), "<134>%s host1 sluice[42]: 1.2.3.4:5 [x] f b/s", ts);
    CU_ASSERT_STRING_EQUAL(out, want);
    CU_ASSERT_EQUAL(strlen(ts), 15); /* "Mmm dd hh:mm:ss", the day padded with a space */
    /* A message carries no level prefix on syslog: the PRI says it (kern.err = 3). */
    fmt(CFG_LOGFMT_RFC3164, 0, 3, 1, 0, 0, "boom", out, sizeof(out));
    snprintf(want, sizeof(want), "<3>%s host1 sluice[42]: boom", ts);
    CU_ASSERT_STRING_EQUAL(out, want);
    /* On a stream target the line ends with a newline. */
    size_t n = fmt(CFG_LOGFMT_RFC3164, 23, 5, 1, 1, 0, "hi", out, sizeof(out));
    CU_ASSERT_EQUAL(out[n - 1], '\n');
    CU_ASSERT_EQUAL(strncmp(out, "<189>", 5), 0);
}

static void test_rfc5424(void)
{
    char out[256], want[256], ts[32];
    time_t sec = 1700000000;
    struct tm tm;
    localtime_r(&sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    long off = tm.tm_gmtoff / 60;
    fmt(CFG_LOGFMT_RFC5424, 19, 5, 1, 0, 0, "started", out, sizeof(out));
    snprintf(want, sizeof(want), "<157>1 %s.000123%c%02ld:%02ld host1 sluice 42 - - started", ts,
             off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
    CU_ASSERT_STRING_EQUAL(out, want);
}

static void test_raw_and_len(void)
{
    char out[2048];
    /* Raw on a stream: messages keep sluice's level prefix, traffic lines are bare. */
    fmt(CFG_LOGFMT_RAW, 16, 5, 1, 1, 0, "started", out, sizeof(out));
    CU_ASSERT_STRING_EQUAL(out, "[NOTICE]  (42) : started\n");
    fmt(CFG_LOGFMT_RAW, 16, 3, 1, 1, 0, "bad", out, sizeof(out));
    CU_ASSERT_STRING_EQUAL(out, "[ALERT]   (42) : bad\n");
    fmt(CFG_LOGFMT_RAW, 16, 6, 0, 1, 0, "traffic", out, sizeof(out));
    CU_ASSERT_STRING_EQUAL(out, "traffic\n");
    /* Raw datagram: the text alone. */
    fmt(CFG_LOGFMT_RAW, 16, 5, 1, 0, 0, "started", out, sizeof(out));
    CU_ASSERT_STRING_EQUAL(out, "started");
    /* len caps the whole line, header included; a stream line still gets its newline. */
    char longtext[1500];
    memset(longtext, 'x', sizeof(longtext) - 1);
    longtext[sizeof(longtext) - 1] = '\0';
    CU_ASSERT_EQUAL(fmt(CFG_LOGFMT_RFC3164, 16, 6, 0, 0, 80, longtext, out, sizeof(out)), 80);
    CU_ASSERT_EQUAL(strncmp(out, "<134>", 5), 0);
    CU_ASSERT_EQUAL(fmt(CFG_LOGFMT_RAW, 16, 6, 0, 1, 100, longtext, out, sizeof(out)), 101);
    CU_ASSERT_EQUAL(out[100], '\n');
    /* The output buffer bounds it too. */
    CU_ASSERT_EQUAL(fmt(CFG_LOGFMT_RFC5424, 16, 6, 0, 0, 0, longtext, out, 64), 63);
}

static struct config *load(const char *log_line, char *err, size_t errlen)
{
    char text[1024];
    snprintf(text, sizeof(text), "[global]\n%s\n" BASE, log_line);
    struct config *cfg = NULL;
    err[0] = '\0';
    if (config_load_string("t.ini", text, &cfg, err, errlen) < 0)
        return NULL;
    return cfg;
}

static void test_keyword(void)
{
    char err[512];
    struct config *cfg = load("log = stdout format raw local0", err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->log.kind, CFG_LOG_STDOUT);
    CU_ASSERT_EQUAL(cfg->log.format, CFG_LOGFMT_RAW);
    CU_ASSERT_EQUAL(cfg->log.facility, 16);
    CU_ASSERT_EQUAL(cfg->log.level, 7);
    config_free(cfg);

    cfg = load("log = /dev/log local7 notice", err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->log.kind, CFG_LOG_UNIX);
    CU_ASSERT_STRING_EQUAL(cfg->log_target, "/dev/log");
    CU_ASSERT_EQUAL(cfg->log.format, CFG_LOGFMT_AUTO);
    CU_ASSERT_EQUAL(cfg->log.facility, 23);
    CU_ASSERT_EQUAL(cfg->log.level, 5);
    config_free(cfg);

    cfg = load("log = unix@/run/x.sock len 2048 format rfc5424 daemon info err", err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->log.kind, CFG_LOG_UNIX);
    CU_ASSERT_STRING_EQUAL(cfg->log_target, "/run/x.sock");
    CU_ASSERT_EQUAL(cfg->log.len, 2048);
    CU_ASSERT_EQUAL(cfg->log.format, CFG_LOGFMT_RFC5424);
    CU_ASSERT_EQUAL(cfg->log.facility, 3);
    CU_ASSERT_EQUAL(cfg->log.level, 6);
    CU_ASSERT_EQUAL(cfg->log.minlevel, 3);
    config_free(cfg);

    /* UDP: IP:PORT, bare IP (port 514), udp@, [v6]:port. */
    cfg = load("log = 127.0.0.1:1514 local0", err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->log.kind, CFG_LOG_UDP);
    CU_ASSERT_EQUAL(ntohs(((struct sockaddr_in *)&cfg->log.addr)->sin_port), 1514);
    config_free(cfg);
    cfg = load("log = 10.1.2.3 user", err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->log.kind, CFG_LOG_UDP);
    CU_ASSERT_EQUAL(ntohs(((struct sockaddr_in *)&cfg->log.addr)->sin_port), 514);
    CU_ASSERT_EQUAL(cfg->log.facility, 1);
    config_free(cfg);
    cfg = load("log = udp@[::1]:515 local1", err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->log.kind, CFG_LOG_UDP);
    CU_ASSERT_EQUAL(cfg->log.addr.ss_family, AF_INET6);
    config_free(cfg);
    cfg = load("log = udp6@::1 local1", err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(ntohs(((struct sockaddr_in6 *)&cfg->log.addr)->sin6_port), 514);
    config_free(cfg);

    /* A path that is not a socket is a file; facility optional there. */
    cfg = load("log = /tmp/nonexistent-dir/sluice.log", err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->log.kind, CFG_LOG_FILE);
    config_free(cfg);
    /* An existing unix socket path is a syslog target. */
    char sp[] = "/tmp/sluice-logkw-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(sp));
    char sock[64], line[200];
    snprintf(sock, sizeof(sock), "%s/s", sp);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    snprintf(un.sun_path, sizeof(un.sun_path), "%s", sock);
    CU_ASSERT_EQUAL_FATAL(bind(fd, (struct sockaddr *)&un, sizeof(un)), 0);
    snprintf(line, sizeof(line), "log = %s local2", sock);
    cfg = load(line, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->log.kind, CFG_LOG_UNIX);
    config_free(cfg);
    close(fd);
    unlink(sock);
    rmdir(sp);

    static const struct {
        const char *line, *err;
    } bad[] = {
        {"log = /dev/log", "t.ini:2: syslog target '/dev/log' needs a facility (expected 'log "
                           "/dev/log local0')"},
        {"log = /dev/log local9", "t.ini:2: unknown syslog facility 'local9'"},
        {"log = /dev/log local0 verbose", "t.ini:2: unknown log level 'verbose'"},
        {"log = /dev/log local0 info crit debug", "t.ini:2: unexpected 'debug' after the log"},
        {"log = /dev/log local0 err info", "t.ini:2: log minimum level 'info' is less urgent"},
        {"log = /dev/log format json local0", "t.ini:2: unsupported log format 'json'"},
        {"log = /dev/log len 10 local0", "t.ini:2: invalid log len '10' (expected an integer "
                                         "from 80 to 65535)"},
        {"log = 127.0.0.1:99999 local0", "t.ini:2: invalid syslog address '127.0.0.1:99999'"},
        {"log = ring@buf local0", "t.ini:2: log target 'ring@buf' is not supported"},
        {"log = global", "t.ini:2: 'log global' is for proxies"},
        {"log = /dev/log sample 1:2 local0", "t.ini:2: 'log ... sample' is not supported"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cfg = load(bad[i].line, err, sizeof(err));
        CU_ASSERT_PTR_NULL(cfg);
        config_free(cfg);
        if (strncmp(err, bad[i].err, strlen(bad[i].err)) != 0)
            fprintf(stderr, "\n'%s': got '%s', expected '%s'\n", bad[i].line, err, bad[i].err);
        CU_ASSERT_EQUAL(strncmp(err, bad[i].err, strlen(bad[i].err)), 0);
    }
}

/* A unix datagram socket in a temp dir; returns the fd, fills path. */
static int dgram_sink(char *dir, char *path, size_t size)
{
    strcpy(dir, "/tmp/sluice-logsink-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, size, "%s/log.sock", dir);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&un, sizeof(un)) < 0)
        return -1;
    return fd;
}

static int recv_all(int fd, char msgs[][512], int max)
{
    int n = 0;
    while (n < max) {
        ssize_t r = recv(fd, msgs[n], 511, MSG_DONTWAIT);
        if (r < 0)
            break;
        msgs[n][r] = '\0';
        n++;
    }
    return n;
}

static void test_unix_syslog(void)
{
    char dir[64], path[128];
    int fd = dgram_sink(dir, path, sizeof(path));
    CU_ASSERT_FATAL(fd >= 0);
    /* level notice: traffic (info) is filtered out, messages pass. */
    struct cfg_log lg = {.kind = CFG_LOG_UNIX, .facility = 16, .level = 5};
    CU_ASSERT_EQUAL_FATAL(log_open_target(path, &lg, 1), 0);
    log_traffic(0, "filtered\n", 9);
    log_msg(LOG_LV_NOTICE, "hello %d", 7);
    log_msg(LOG_LV_INFO, "filtered too");
    log_close();
    static char msgs[16][512];
    int n = recv_all(fd, msgs, 16);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    char want[64];
    snprintf(want, sizeof(want), "]: hello 7");
    CU_ASSERT_EQUAL(strncmp(msgs[0], "<133>", 5), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(msgs[0], want));
    snprintf(want, sizeof(want), " sluice[%d]: ", (int)getpid());
    CU_ASSERT_PTR_NOT_NULL(strstr(msgs[0], want));

    /* level info, raw: one datagram per line; a newline inside a line does not split it. */
    lg.level = 7;
    lg.format = CFG_LOGFMT_RAW;
    CU_ASSERT_EQUAL_FATAL(log_open_target(path, &lg, 2), 0);
    log_traffic(1, "one\n", 4);
    log_traffic(1, "two\nhalves\n", 11);
    log_traffic(0, "no newline", 10);
    log_close();
    n = recv_all(fd, msgs, 16);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    CU_ASSERT_STRING_EQUAL(msgs[0], "no newline"); /* ring 0 drains first */
    CU_ASSERT_STRING_EQUAL(msgs[1], "one");
    CU_ASSERT_STRING_EQUAL(msgs[2], "two halves");
    close(fd);
    unlink(path);
    rmdir(dir);
}

/* Nobody reads the syslog socket: the logger must drop and count, not block. The kernel queues
 * at most net.unix.max_dgram_qlen datagrams on it (10 by default). */
static void test_full_socket_drops(void)
{
    char dir[64], path[128];
    int fd = dgram_sink(dir, path, sizeof(path));
    CU_ASSERT_FATAL(fd >= 0);
    struct cfg_log lg = {.kind = CFG_LOG_UNIX, .facility = 16, .level = 7};
    uint64_t before = log_dropped();
    CU_ASSERT_EQUAL_FATAL(log_open_target(path, &lg, 1), 0);
    enum { N = 2000 };
    char line[64];
    for (int i = 0; i < N; i++) {
        int m = snprintf(line, sizeof(line), "line %d\n", i);
        log_traffic(0, line, (size_t)m);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    log_close();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    CU_ASSERT(dt < 1.0);
    int got = 0;
    static char msgs[N][512];
    got = recv_all(fd, msgs, N);
    uint64_t dropped = log_dropped() - before;
    CU_ASSERT(got > 0);
    CU_ASSERT(got < N);
    CU_ASSERT_EQUAL((uint64_t)got + dropped, (uint64_t)N);
    close(fd);
    unlink(path);
    rmdir(dir);

    /* No syslog daemon at all: opening works (it may come later), lines are dropped. */
    before = log_dropped();
    CU_ASSERT_EQUAL_FATAL(log_open_target(path, &lg, 1), 0);
    log_traffic(0, "lost\n", 5);
    log_close();
    CU_ASSERT_EQUAL(log_dropped() - before, 1);
}

static char *slurp(const char *path)
{
    static char buf[8192];
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_reopen(void)
{
    char dir[] = "/tmp/sluice-logrot-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char path[128], rotated[140];
    snprintf(path, sizeof(path), "%s/sluice.log", dir);
    snprintf(rotated, sizeof(rotated), "%s.1", path);
    CU_ASSERT_EQUAL_FATAL(log_open(path, 1), 0);
    log_traffic(0, "before\n", 7);
    log_msg(LOG_LV_NOTICE, "direct before");
    CU_ASSERT_EQUAL_FATAL(rename(path, rotated), 0);
    log_reopen();
    const char *s = NULL;
    for (int i = 0; i < 200; i++) { /* the logger reopens within a flush period (20 ms) */
        s = slurp(path);
        if (s && strstr(s, "reopened"))
            break;
        usleep(10000);
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "log file"));
    log_traffic(0, "after\n", 6);
    log_msg(LOG_LV_NOTICE, "direct after");
    log_close();
    s = slurp(rotated);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "before\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "[NOTICE]  ("));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, ") : direct before\n"));
    CU_ASSERT_PTR_NULL(strstr(s, "after"));
    s = slurp(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "after\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "direct after\n"));
    CU_ASSERT_PTR_NULL(strstr(s, "before"));
    unlink(path);
    unlink(rotated);
    rmdir(dir);
}

static void test_notify(void)
{
    char *saved = getenv("NOTIFY_SOCKET") ? strdup(getenv("NOTIFY_SOCKET")) : NULL;
    unsetenv("NOTIFY_SOCKET");
    CU_ASSERT_FALSE(notify_enabled());
    CU_ASSERT_EQUAL(notify_send("READY=1"), 0); /* not under systemd: nothing to do */

    char dir[64], path[128];
    int fd = dgram_sink(dir, path, sizeof(path));
    CU_ASSERT_FATAL(fd >= 0);
    setenv("NOTIFY_SOCKET", path, 1);
    CU_ASSERT_TRUE(notify_enabled());
    CU_ASSERT_EQUAL(notify_ready("serving"), 1);
    CU_ASSERT_EQUAL(notify_reloading(), 1);
    CU_ASSERT_EQUAL(notify_stopping(NULL), 1);
    static char msgs[4][512];
    CU_ASSERT_EQUAL_FATAL(recv_all(fd, msgs, 4), 3);
    char want[64];
    snprintf(want, sizeof(want), "READY=1\nMAINPID=%d\nSTATUS=serving", (int)getpid());
    CU_ASSERT_STRING_EQUAL(msgs[0], want);
    CU_ASSERT_EQUAL(strncmp(msgs[1], "RELOADING=1\nMONOTONIC_USEC=", 27), 0);
    CU_ASSERT_STRING_EQUAL(msgs[2], "STOPPING=1\nSTATUS=stopping");
    close(fd);
    unlink(path);
    rmdir(dir);

    /* Abstract namespace: "@name". */
    char name[64];
    snprintf(name, sizeof(name), "@sluice-unit-notify-%d", (int)getpid());
    fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    memcpy(un.sun_path + 1, name + 1, strlen(name) - 1);
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
    CU_ASSERT_EQUAL_FATAL(bind(fd, (struct sockaddr *)&un, len), 0);
    setenv("NOTIFY_SOCKET", name, 1);
    CU_ASSERT_EQUAL(notify_send("STATUS=x"), 1);
    CU_ASSERT_EQUAL(recv_all(fd, msgs, 4), 1);
    CU_ASSERT_STRING_EQUAL(msgs[0], "STATUS=x");
    close(fd);

    setenv("NOTIFY_SOCKET", "relative/path", 1);
    CU_ASSERT_EQUAL(notify_send("READY=1"), -EINVAL);
    if (saved)
        setenv("NOTIFY_SOCKET", saved, 1);
    else
        unsetenv("NOTIFY_SOCKET");
    free(saved);
}

int suite_log(void)
{
    CU_pSuite s = CU_add_suite("log", NULL, NULL);
    if (!s)
        return CU_get_error();
    CU_add_test(s, "rfc3164", test_rfc3164);
    CU_add_test(s, "rfc5424", test_rfc5424);
    CU_add_test(s, "raw_and_len", test_raw_and_len);
    CU_add_test(s, "keyword", test_keyword);
    CU_add_test(s, "unix_syslog", test_unix_syslog);
    CU_add_test(s, "full_socket_drops", test_full_socket_drops);
    CU_add_test(s, "reopen", test_reopen);
    CU_add_test(s, "notify", test_notify);
    return CU_get_error();
}
