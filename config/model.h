/* The configuration model: what the operator asked for, immutable once loaded. */
#ifndef SLUICE_CONFIG_MODEL_H
#define SLUICE_CONFIG_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config/model_fwd.h"
#include "config/model_http.h"
#include "config/model_stick.h"

#define CFG_NAME_MAX 64
#define CFG_PATH_MAX 256

enum cfg_mode { CFG_MODE_TCP = 0, CFG_MODE_HTTP };

enum cfg_poller { CFG_POLLER_EPOLL = 0, CFG_POLLER_URING };

/* Balancing algorithms (HAProxy's `balance` names). */
enum cfg_balance {
    CFG_LB_ROUNDROBIN = 0, /* smooth weighted, dynamic weights */
    CFG_LB_STATIC_RR,      /* weighted, weights fixed at start */
    CFG_LB_LEASTCONN,
    CFG_LB_FIRST,
    CFG_LB_SOURCE,    /* client address hash through a Maglev table */
    CFG_LB_RANDOM,    /* power of two choices (random(2)) */
    CFG_LB_URI,       /* hash of the request target (mode http) */
    CFG_LB_URL_PARAM, /* hash of a query parameter: http.hash_arg (mode http) */
    CFG_LB_HDR,       /* hash of a request header: http.hash_arg, lower-case (mode http) */
};

enum cfg_check_type { CFG_CHECK_TCP = 0, CFG_CHECK_HTTP };

enum cfg_proxy_proto { CFG_PP_NONE = 0, CFG_PP_V1, CFG_PP_V2 };

/* Proxy capabilities: a [frontend] is FE, a [backend] BE, a [listen] both. */
#define CFG_CAP_FE 0x1u
#define CFG_CAP_BE 0x2u

/* Timeouts in milliseconds; 0 means "not set" (infinite), as in HAProxy. */
struct cfg_timeouts {
    uint32_t connect;
    uint32_t client;
    uint32_t server;
    uint32_t queue;
    uint32_t check; /* 0: use `inter` as the connect+response limit of a check */
    /* inactivity of a side once its connection is half-closed (a FIN one way); 0: as client /
     * server (tunnel) */
    uint32_t client_fin, server_fin;
    uint32_t drain; /* sluice extension: how long SIGTERM waits for live connections; 10s */
};

struct cfg_bind {
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char text[CFG_NAME_MAX * 2]; /* as written, for messages */
    bool accept_proxy;
    bool defer_accept; /* TCP_DEFER_ACCEPT: accepted once the client has sent data */
    int line;
};

struct cfg_server {
    char name[CFG_NAME_MAX];
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char addr_text[CFG_NAME_MAX * 2]; /* as written: "127.0.0.1:9001" */
    bool check;
    bool backup;
    bool disabled;
    int weight;         /* 0..256, default 1 */
    int maxconn;        /* 0: unlimited */
    uint32_t inter;     /* ms between checks, default 2000 */
    uint32_t fastinter; /* ms while changing state; default = inter */
    uint32_t downinter; /* ms while down; default = inter */
    int rise;           /* default 2 */
    int fall;           /* default 3 */
    uint32_t slowstart; /* ms to ramp weight after recovery, 0 = off */
    enum cfg_proxy_proto send_proxy;
    char cookie[64]; /* `cookie VALUE` for cookie persistence; "" = none (never picked by it) */
    int line;
};

/* One [frontend], [backend] or [listen] section after [defaults] were applied. */
struct cfg_proxy {
    char name[CFG_NAME_MAX];
    unsigned caps; /* CFG_CAP_FE | CFG_CAP_BE */
    int line;      /* line of the section header */
    enum cfg_mode mode;
    struct cfg_timeouts timeout;
    bool tcplog;
    bool dontlognull;    /* option dontlognull: no log line for a connection that sent nothing */
    bool dontlog_normal; /* option dontlog-normal: log only errors and aborted sessions */

    /* frontend side */
    struct cfg_bind *binds; /* owned, nbinds entries */
    size_t nbinds;
    int maxconn; /* 0: bounded by global maxconn only */
    char default_backend[CFG_NAME_MAX];
    int default_backend_line;
    struct cfg_proxy *backend; /* borrowed: resolved default_backend (self for [listen]) */

    /* backend side */
    enum cfg_balance balance;
    int retries; /* default 3 */
    bool redispatch;
    /* option nolinger: this side's sockets (a frontend's clients, a backend's servers) are closed
     * with a reset (SO_LINGER 0) instead of a FIN */
    bool nolinger;
    enum cfg_check_type check_type;
    char httpchk_method[16];        /* default "OPTIONS" */
    char httpchk_uri[CFG_PATH_MAX]; /* default "/" */
    /* default "HTTP/1.0"; HAProxy configs append headers here: "HTTP/1.1\r\nHost: x" */
    char httpchk_version[CFG_NAME_MAX];
    int httpchk_expect_status;  /* 0: any 2xx or 3xx passes */
    struct cfg_server *servers; /* owned, nservers entries */
    size_t nservers;

    /* mode http: ACLs, rules, options (see config/model_http.h) */
    struct cfg_http http;
    struct cfg_stick_table stick; /* `stick-table`: present when configured */
};

/* Where log lines go: `log <target> [len N] [format F] <facility> [level [minlevel]]`. */
enum cfg_log_kind {
    CFG_LOG_STDERR = 0,
    CFG_LOG_STDOUT,
    CFG_LOG_FILE, /* a path that is not a unix socket: appended, reopened on SIGUSR1 */
    CFG_LOG_UNIX, /* syslog over a unix datagram socket: /dev/log, unix@PATH, any socket path */
    CFG_LOG_UDP,  /* syslog over UDP: IP[:PORT] or udp@IP:PORT (port 514 by default) */
};

enum cfg_syslog_format {
    CFG_LOGFMT_AUTO = 0, /* rfc3164 for syslog targets (as HAProxy), raw for stdout/stderr/file */
    CFG_LOGFMT_RAW,      /* the line alone */
    CFG_LOGFMT_RFC3164,  /* <PRI>Mmm dd hh:mm:ss HOST sluice[PID]: MSG */
    CFG_LOGFMT_RFC5424,  /* <PRI>1 TIMESTAMP HOST sluice PID - - MSG */
};

struct cfg_log {
    enum cfg_log_kind kind;
    enum cfg_syslog_format format;
    int facility; /* 0..23 (local0 = 16); default local0 for stream targets */
    int level;    /* highest severity sent, 0 (emerg) .. 7 (debug); default 7 */
    int minlevel; /* more urgent messages are capped to it; default 0 */
    int len;      /* line limit in bytes, header included; 0: 1024 for syslog, none otherwise */
    struct sockaddr_storage addr; /* CFG_LOG_UDP */
    socklen_t addrlen;
};

/* `stats socket PATH [mode OCTAL] [level admin|operator|user] [expose-fd listeners]`: the
 * runtime API (core/cli.c). */
#define CFG_STATS_SOCKETS_MAX 4
enum cfg_cli_level { CFG_CLI_USER = 0, CFG_CLI_OPERATOR, CFG_CLI_ADMIN };

struct cfg_stats_socket {
    char path[108];           /* sizeof(sun_path) */
    int mode;                 /* permission bits to chmod, -1: leave the umask's */
    enum cfg_cli_level level; /* default operator, as HAProxy */
    bool expose_fd;           /* `expose-fd listeners` (recorded for the hitless reload) */
    int line;
};

/* tune.pipesize default: one splice() moves up to this much; see docs/configuration.md for why
 * it is larger than HAProxy's (the kernel's 64 KiB) and smaller than the kernel allows (1 MiB). */
#define CFG_PIPESIZE_DEFAULT (256 * 1024)
/* tune.bufsize default, HAProxy's: the largest request or response head, and the unit of copies. */
#define CFG_BUFSIZE_DEFAULT 16384
/* tune.http.maxhdr's ceiling: the parse index holds this many fields (net/http/parse.h). */
#define CFG_MAXHDR_MAX 1024

struct config {
    char file[CFG_PATH_MAX];
    /* global */
    int maxconn;  /* default: derived from RLIMIT_NOFILE */
    int nbthread; /* default: online CPUs */
    enum cfg_poller poller;
    bool no_send_batching;         /* tune.send-batching off */
    int pipesize;                  /* tune.pipesize: bytes per splice pipe; 0: 256 KiB */
    int bufsize;                   /* tune.bufsize: bytes per I/O buffer; 0: 16 KiB */
    int maxhdr;                    /* tune.http.maxhdr: header fields per message; 0: 101 */
    char log_target[CFG_PATH_MAX]; /* as written (unix@ stripped); "" = stderr */
    struct cfg_log log;
    char pidfile[CFG_PATH_MAX];
    bool daemon;
    struct cfg_stats_socket stats_sockets[CFG_STATS_SOCKETS_MAX];
    size_t nstats_sockets;
    uint32_t stats_timeout;    /* ms a runtime API connection may stay idle; 0: 10s */
    struct cfg_proxy *proxies; /* owned, nproxies entries, in file order */
    size_t nproxies;
    struct cfg_resolvers *resolvers; /* owned: [resolvers] sections */
    size_t nresolvers;
    struct cfg_userlist *userlists; /* owned: [userlist] sections */
    size_t nuserlists;
    size_t nstick_tables; /* proxies with a stick-table (their stick.idx: 0 .. n - 1) */
    struct cfg_http_errors *http_errors; /* owned: [http-errors] sections */
    size_t nhttp_errors;
    struct cfg_map *maps;              /* owned: map files, each (file, kind) once */
    struct cfg_var vars[CFG_VARS_MAX]; /* the variables the config names, by index */
    size_t nvars;
    const struct cfg_proxy **be_by_name; /* owned array of borrowed backends sorted by name, for
                                            dynamic use_backend (config_find_backend) */
    size_t nbe_by_name;
};

/* Read and validate FILE. On success stores a new config in *out and returns 0. On failure returns
 * -1 and writes "FILE:LINE: what is wrong (what is expected)" into err. Main thread only. */
int config_load(const char *path, struct config **out, char *err, size_t errlen);

/* Same as config_load, from a string (tests); `name` stands for the file name in messages. */
int config_load_string(const char *name, const char *text, struct config **out, char *err,
                       size_t errlen);

/* The backend-capable section named name[0..len) (dynamic use_backend), or NULL: a binary search
 * over the names, no allocation; any thread may call it. */
const struct cfg_proxy *config_find_backend(const struct config *cfg, const char *name, size_t len);

/* Free a config and everything it owns; accepts NULL. */
void config_free(struct config *cfg);

/* Parse a HAProxy time ("100ms", "5s", "2m", "1h", "1d"; bare numbers are ms) into *ms.
 * Returns 0, or -EINVAL for a malformed value and -ERANGE for one over UINT32_MAX ms. */
int config_parse_time(const char *text, uint32_t *ms);

/* Parse "ADDR:PORT", "[V6]:PORT", "*:PORT", ":PORT" into a socket address. Returns 0 or -EINVAL. */
int config_parse_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len);

/* Look up a proxy by name and capability; NULL when absent. */
struct cfg_proxy *config_find_proxy(const struct config *cfg, const char *name, unsigned cap);

#endif
