/* Internal to the mode http module: the stream (one client connection) shared by stream.c
 * (reverse proxying) and forward.c (forward proxying). */
#ifndef SLUICE_NET_HTTP_STREAM_INT_H
#define SLUICE_NET_HTTP_STREAM_INT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "core/stktable.h"
#include "core/worker.h"
#include "net/dns.h"
#include "net/http/acl.h"
#include "net/http/parse.h"
#include "net/http/pool.h"
#include "net/relay.h"

enum hs_state {
    HS_REQ_WAIT = 0, /* reading a request head */
    HS_PROXY_WAIT,   /* `accept-proxy`: reading the PROXY protocol header first */
    HS_AUTH_WAIT,    /* credentials being checked by the verifier thread */
    HS_RESOLVING,    /* forward proxy: resolving the origin's name */
    HS_QUEUED,       /* waiting for a server slot */
    HS_CONNECTING,   /* server connection in progress */
    HS_EXCHANGE,     /* request sent or being sent; response being read or relayed */
    HS_TUNNEL,       /* after 101: bytes both ways */
    HS_LINGER,       /* final response sent, write side shut: drain input, then close */
    HS_TARPIT,       /* `http-request tarpit`: holding the request, then an error page */
    HS_CLOSED,
};

#define HS_LOGLINE_MAX 1024 /* request line kept for the log, as HAProxy's default */
#define HS_LINGER_MS   1000

struct hs {
    struct session_link link;
    struct deferred dfr;
    struct queue_link qlink;
    struct timer tmr;
    struct loop_handler cli;
    struct relay_side cs;
    struct srv_conn *sc;   /* owned while attached */
    struct srv_conn *priv; /* owned: between requests, this client's private server connection
                              (see conn_is_private), kept for its next request */
    struct worker *w;      /* borrowed */
    struct frontend *fe;   /* borrowed */
    struct backend *be;    /* borrowed: backend of the current request */
    struct server *sv;     /* borrowed: server of the current request */
    bool slot;             /* holds one of sv's maxconn slots */

    char *rbuf; /* owned pooled buffer: request head, maybe body bytes and pipelined requests */
    uint32_t rlen, rprev;
    char *sbuf; /* owned pooled buffer: response head */
    uint32_t slen, sprev;
    char *obuf; /* owned: the rewritten request head, kept until the response starts (retries) */
    uint32_t olen;

    struct relay_dir c2s, s2c;
    uint8_t state;
    uint8_t req_method, req_body, resp_body, req_ver;
    uint32_t req_head_len; /* the request head stays at rbuf[0..req_head_len) until the
                              exchange ends: http-response rules evaluate it */
    uint32_t req_inbuf;    /* body bytes of this request in rbuf after the head */
    bool req_shifted;      /* the request's bytes were dropped from rbuf (tunnel, next request) */
    const struct http_msg *acl_msg; /* borrowed: the parsed request during rule evaluation */
    struct http_chunk req_chunk, resp_chunk;
    bool req_sent; /* the head went to the server */
    bool req_done; /* the whole request reached the server */
    bool resp_head_done, resp_done;
    bool cli_keep;        /* the client allows another request */
    bool cli_asked_close; /* the request said Connection: close (or was HTTP/1.0) */
    bool srv_keep;        /* the server connection may be reused */
    bool upgrade;         /* the request asks for a protocol switch */
    bool idempotent;
    bool first; /* first request on this client connection */
    bool have_cli_addr;
    bool have_dst_port;
    bool have_dst_addr;
    uint16_t dst_port;
    bool local_reply; /* answered by sluice itself */
    bool cli_reset;   /* close the client connection with a reset: a body it cannot tell
                         from a whole one (delimited by close) was cut short */
    bool st_req;      /* statistics: a request started and is not counted yet */
    bool st_be;       /* statistics: the current request went to h->be (counted at its end) */
    bool logged;      /* the current request's log line was written */
    int status;
    uint16_t tarpit_status; /* the error page a tarpit ends with */
    bool tarpit_be;         /* the tarpit rule is the backend's: its timeout tarpit applies */
    bool err_counted;       /* stick tables: a denial counted the request as an HTTP error */
    int retries_left, retries_done;
    uint32_t hash;       /* balance key of the current request */
    uint32_t cookie_srv; /* 1 + index of the server named by the persistence cookie, 0: none */
    char term[2];
    uint64_t t_accept, t_req, t_req_head, t_queue, t_conn, t_conn_end, t_resp, t_idle_from;
    uint64_t bytes_out;
    struct timespec req_wall;
    char *logline; /* owned: request line for httplog */
    union peer_addr cli_addr;
    union peer_addr dst_addr; /* where the client connected (the PROXY header's destination) */
    char *unique_id;          /* owned: the current request's unique-id-format, NULL when none */
    char *cap_req, *cap_res;  /* owned: captured fields, "{a|b}", for the httplog line */

    /* authentication of the current request */
    uint8_t auth_state;    /* 0: not checked yet, 1: checked (auth_user says the outcome) */
    const char *auth_user; /* borrowed from the config: the verified user, NULL when none */

    /* forward proxy: the origin of the current request */
    struct fwd *fwd; /* owned, NULL in reverse mode or between requests */

    /* stick-table entries tracked by tcp-request connection and http-request track-sc rules */
    struct stk_trackers trk;

    /* set-var values (vars.h): request scope freed by log_request, session scope at close */
    struct http_vars vars;
};

/* Forward-proxy state of one request, allocated only in forward mode. */
struct fwd {
    char host[256]; /* destination host, without brackets */
    size_t host_len;
    uint16_t port;
    bool connect;     /* CONNECT tunnel rather than a forwarded request */
    char origin[264]; /* "host:port": the pool key */
    size_t origin_len;
    struct dns_query *q;     /* pending resolution, NULL when none */
    struct dns_addrs *addrs; /* owned answer while connecting */
    unsigned next_addr;      /* next address to try */
    uint64_t bytes_in;       /* bytes received from the client (request and tunnel) */
};

/* What http-request / http-response rules change in one message. Header edits are collected in
 * order and applied when the head is rebuilt; target rewrites (set-path, replace-path, set-query)
 * apply at once, so that later rules, use_backend and balance uri see the new target. */
#define HDR_EDITS_MAX (2 * CFG_HTTP_EDITS_MAX) /* a frontend's and a backend's: never more */
struct hdr_edits {
    const struct cfg_http_rule *rule[HDR_EDITS_MAX]; /* borrowed from the config */
    unsigned n;
    bool failed;      /* a rule could not apply (more edits than rule[] holds, a rewrite that
                         would be malformed or too long): answer 500 (request) / 502 (response) */
    bool has_replace; /* some edit is replace-header or replace-value */
    bool target_ok;   /* set by the caller: the message is a request whose target has a path
                         (not CONNECT's authority) */
    /* The rewritten request target, NULL while unchanged. Borrowed: thread-local storage that
     * the next rewrite on this thread reuses, so it is valid only until the request is built
     * (http__build_request, in the same call as the rules). */
    const char *target;
    size_t target_len;
    size_t path_off; /* where its path starts (after an absolute-form's scheme and authority) */
    const struct acl_ctx *ctx; /* the message the rules ran on: for values with samples */
};

/* An empty list. rule[] (half a KiB) is left as it is, on every request: only rule[0..n) is
 * ever read. */
static inline void hdr_edits_init(struct hdr_edits *e, bool target_ok)
{
    e->n = 0;
    e->failed = e->has_replace = false;
    e->target_ok = target_ok;
    e->target = NULL;
    e->target_len = e->path_off = 0;
    e->ctx = NULL;
}

/* Shared between stream.c and forward.c (module-internal: http__ prefix). */
void http__close(struct hs *h);
void http__linger(struct hs *h);
void http__progress(struct hs *h);
void http__tunnel(struct hs *h);
void http__on_srv_event(void *owner, struct srv_conn *sc, unsigned ev);
void http__set_term(struct hs *h, char who, char when);
void http__cli_addr(struct hs *h);
void http__release_slot(struct hs *h);
void http__drop_server_conn(struct hs *h);
/* The client's private server connection (struct hs.priv) when it goes to server sv (reverse
 * mode) or to origin "host:port" (forward mode), detached for the caller; else NULL, and a
 * private connection elsewhere is closed. */
struct srv_conn *http__take_private(struct hs *h, const struct server *sv, const char *origin);
void http__arm_timer(struct hs *h);
void http__reply_error(struct hs *h, int status);
void http__send_local(struct hs *h, int status, const char *data, size_t len);
void http__fill_acl_ctx(struct hs *h, const struct http_msg *m, struct acl_ctx *c);
/* Apply rules of a list in order; stops at the first allow/deny/redirect/return/auth/use-service
 * and returns it, else NULL. Header edits are collected in e; target rewrites update e and the
 * ACL context c (so later rules see them). Sets e->failed and returns NULL when a rule cannot
 * apply. */
const struct cfg_http_rule *http__run_rules(const struct cfg_http *hp,
                                            const struct cfg_http_rule *rules, size_t n,
                                            struct acl_ctx *c, struct hdr_edits *e);
/* Run the http-request rules of section hp over the request and act on the outcome: a rule
 * that could not apply answers 500, a terminal rule other than `allow` answers (or holds) the
 * request. True when the request was taken care of so, false when it goes on. */
bool http__request_rules(struct hs *h, const struct cfg_http *hp, const struct http_msg *m,
                         struct acl_ctx *c, struct hdr_edits *e);
/* Answer with terminal rule r (deny, redirect, return, auth, use-service); e (may be NULL) holds
 * the request's rewritten target, which a redirect uses. */
void http__reply_rule(struct hs *h, const struct cfg_http_rule *r, const struct http_msg *m,
                      const struct hdr_edits *e);
void http__send_request(struct hs *h);
int http__build_request(struct hs *h, const struct http_msg *m, const struct hdr_edits *e);
/* Answer with a small HTML page carrying `text` (HTML-escaped) and close. */
void http__reply_text(struct hs *h, int status, const char *text);

/* forward.c */
void http__fwd_request(struct hs *h, const struct http_msg *m, struct acl_ctx *ctx);
void http__fwd_connected(struct hs *h);
bool http__fwd_connect_failed(struct hs *h, int err, bool timeout);
void http__fwd_end(struct hs *h); /* free the request's forward state (cancels DNS) */
/* Whether request field i stays out of a request to the origin (Proxy-*, Host, anonymize). */
bool http__fwd_drop_header(const struct hs *h, const struct http_msg *m, unsigned i);
/* retry-on for a forward request: a new connection to the same origin. */
bool http__fwd_retry(struct hs *h, unsigned why);

#endif
