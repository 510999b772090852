/* The HTTP (mode http) part of the configuration model: ACLs, conditions, rules, cookies. */
#ifndef SLUICE_CONFIG_MODEL_HTTP_H
#define SLUICE_CONFIG_MODEL_HTTP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

/* What an ACL looks at (HAProxy's "fetch"). */
enum acl_fetch {
    ACL_F_PATH = 0,  /* path part of the target, without the query string */
    ACL_F_URL,       /* the whole request target */
    ACL_F_QUERY,     /* query string without '?' */
    ACL_F_URL_PARAM, /* value of a query parameter: arg */
    ACL_F_HDR,       /* value(s) of a request header: arg (each comma-separated value) */
    ACL_F_METHOD,
    ACL_F_SRC,      /* client address (after accept-proxy) */
    ACL_F_DST_PORT, /* frontend port the client connected to */
    ACL_F_REQ_VER,  /* "1.0" / "1.1" */
    ACL_F_ALWAYS_TRUE,
    ACL_F_ALWAYS_FALSE,
    /* forward proxy: the destination of an absolute-form or CONNECT request */
    ACL_F_URL_DOM,   /* destination host: `url_dom` matches it or any parent domain (-m dom) */
    ACL_F_URL_PORT,  /* destination port (80 / 443 when absent) */
    ACL_F_URL_IP,    /* destination when it is an IP literal (-m ip) */
    ACL_F_REQ_HOST,  /* req.host: the destination host, else the Host field, without port */
    ACL_F_HTTP_AUTH, /* http_auth(USERLIST): the request carries valid credentials (arg) */
    ACL_F_COOKIE,    /* cook(NAME), req.cook(NAME): value(s) of a request cookie (arg) */
    /* the response: http-response rules only */
    ACL_F_STATUS,  /* status: the response's status code (-m int) */
    ACL_F_RES_HDR, /* res.hdr(NAME), shdr(NAME): value(s) of a response header (arg) */
    /* stick tables (-m int): stk_data of the entry tracked by track-sc<sc>, or of the client's
       address in table stk_table (src_*) */
    ACL_F_SC,
    ACL_F_SRC_STK,
    ACL_F_VAR, /* var(SCOPE.NAME): a variable's value (var); unset: no match */
};

/* How the fetched sample is compared with the ACL's values (HAProxy's "-m" methods). */
enum acl_match {
    ACL_M_STR = 0, /* exact */
    ACL_M_BEG,
    ACL_M_END,
    ACL_M_SUB,
    ACL_M_DIR,   /* a '/'-delimited component */
    ACL_M_DOM,   /* a '.'-delimited component (hdr_dom) */
    ACL_M_REG,   /* PCRE2 regex */
    ACL_M_FOUND, /* the sample exists (no values) */
    ACL_M_IP,    /* CIDR networks (src) */
    ACL_M_INT,   /* integers (dst_port) */
    ACL_M_LEN,
};

struct cfg_net {
    struct sockaddr_storage addr; /* AF_INET or AF_INET6; host bits cleared */
    uint8_t prefix;               /* prefix length in bits */
};

struct cfg_acl_value {
    char *str; /* owned; for STR/BEG/END/SUB/DIR/DOM (lower-cased when icase) */
    size_t len;
    void *re;           /* owned pcre2_code * for ACL_M_REG, else NULL */
    struct cfg_net net; /* ACL_M_IP */
    int64_t num;        /* ACL_M_INT / LEN: lower bound, included */
    int64_t num_max;    /* ACL_M_INT / LEN: upper bound, included ("N" gives num == num_max;
                           "A:B", "A:", ":B" and "eq|ge|gt|le|lt N" give ranges) */
};

/* One `acl NAME = CRITERION [flags] VALUES...` line. Several lines with the same name are ORed,
 * as in HAProxy. Predefined ACLs (TRUE, METH_GET, HTTP_1.1, ...) are entries of this kind too. */
struct cfg_acl {
    char name[64];
    enum acl_fetch fetch;
    char arg[64]; /* header or parameter name for HDR / URL_PARAM (lower-cased header) */
    enum acl_match match;
    bool icase;       /* -i */
    bool cur_msg;     /* hdr(): the rule's own message, the response in http-response
                         rules (HAProxy's); req.hdr() is always the request's */
    uint8_t stk_data; /* ACL_F_SC / SRC_STK: enum stk_data */
    uint8_t sc;       /* ACL_F_SC: the tracker, 0..2 */
    int var;          /* ACL_F_VAR: index into the config's vars[] */
    int stk_table;    /* ACL_F_SRC_STK: runtime table index, resolved after parsing from arg (a
                         section name, "" for the ACL's own section) */
    struct cfg_acl_value *values; /* owned */
    size_t nvalues;
    int line;
};

/* A condition `if|unless TERM [TERM|or TERM]...`: terms are ANDed, `or` (or `||`) starts a new
 * group, groups are ORed. A term names ACLs by name (all entries with that name, ORed), or is an
 * anonymous ACL written in braces. */
struct cfg_cond_term {
    bool neg;       /* ! */
    bool or_before; /* an `or` precedes this term: it starts a new AND group */
    size_t *acls;   /* owned: indexes into the owning proxy's acls[] (entries ORed) */
    size_t nacls;
};

struct cfg_cond {
    bool present; /* false: unconditional */
    bool unless;
    struct cfg_cond_term *terms; /* owned */
    size_t nterms;
};

struct cfg_fmt;

/* `use_backend NAME` names a backend, resolved after parsing; `use_backend %[...]` (fmt set)
 * computes the name for each request, looked up with config_find_backend(). */
struct cfg_use_backend {
    char name[64];             /* as written: the name, or the format's text for messages */
    struct cfg_proxy *backend; /* borrowed, resolved after parsing; NULL when fmt is set */
    struct cfg_fmt *fmt;       /* owned: the dynamic name, NULL for a static one */
    struct cfg_cond cond;
    int line;
};

/* HAProxy's map converters: how a map's keys are compared with the sample. */
enum cfg_map_kind {
    CFG_MAP_STR = 0, /* map, map_str: exact */
    CFG_MAP_BEG,     /* map_beg: the key is a prefix of the sample (the longest wins) */
    CFG_MAP_END,     /* map_end: a suffix (the first in the file wins, as for the ones below) */
    CFG_MAP_SUB,     /* map_sub: a substring */
    CFG_MAP_DIR,     /* map_dir: '/'-delimited words, as the ACL's -m dir */
    CFG_MAP_DOM,     /* map_dom: '.'/'/'-delimited words, as the ACL's -m dom */
    CFG_MAP_REG,     /* map_reg: a PCRE2 regex */
    CFG_MAP_IP,      /* map_ip: a network holding the address (the longest prefix wins) */
};

/* One line of a map file: the key prepared as an ACL value (str and len, a compiled regex for
 * map_reg, a network for map_ip) and the value. */
struct cfg_map_entry {
    struct cfg_acl_value key; /* owned */
    char *value;              /* owned, value_len bytes and a NUL */
    size_t value_len;
    int line; /* in the map file */
};

/* A run of entries that one binary search covers: map_beg's keys of one length, map_ip's
 * networks of one family and prefix length; map_str has one run of all. */
struct cfg_map_run {
    size_t start, n;
};

/* A map file loaded for one kind, shared by every converter that names the same (file, kind).
 *
 * Lookups allocate nothing: map_str finds the key by binary search over entries sorted with
 * cfg_map_keycmp; map_beg searches the runs of each key length, longest first, for the
 * sample's prefix of that length; map_ip searches the runs of each prefix length, longest
 * first, for the masked address. Of keys written twice only the first line is kept (HAProxy:
 * "the first of the finest match"). map_end, map_sub, map_dir, map_dom and map_reg keep file order
 * and the first match wins. */
struct cfg_map {
    char *path; /* owned: as written in the converter */
    enum cfg_map_kind kind;
    struct cfg_map_entry *entries; /* owned */
    size_t nentries;
    struct cfg_map_run *runs; /* owned: STR, BEG, IP only */
    size_t nruns;
    size_t value_max;     /* bytes of the longest value */
    struct cfg_map *next; /* owned: the config's next map */
};

/* The address bytes of a network (4 or 16, in *len). */
static inline const uint8_t *cfg_net_bytes(const struct cfg_net *n, size_t *len)
{
    if (n->addr.ss_family == AF_INET) {
        *len = 4;
        return (const uint8_t *)&((const struct sockaddr_in *)&n->addr)->sin_addr;
    }
    *len = 16;
    return (const uint8_t *)&((const struct sockaddr_in6 *)&n->addr)->sin6_addr;
}

/* The order of map_str's and map_beg's sorted keys: bytes, then length. */
static inline int cfg_map_keycmp(const char *a, size_t al, const char *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    return c ? c : (al > bl) - (al < bl);
}

/* A header value written in HAProxy's log-format: literal text and samples (`%[src]`,
 * `%[req.hdr(host),lower]`, `%ci`, ...), expanded for each message by net/http/fmt.c. */
enum fmt_sample {
    FMT_LIT = 0,  /* text */
    FMT_SRC,      /* %[src], %ci: client address */
    FMT_SRC_PORT, /* %[src_port], %cp */
    FMT_DST,      /* %[dst], %fi: address the client connected to */
    FMT_DST_PORT, /* %[dst_port], %fp */
    FMT_REQ_HDR,  /* %[req.hdr(NAME[,OCC])]: one comma-separated value (arg, occ) */
    FMT_REQ_FHDR, /* %[req.fhdr(NAME[,OCC])]: one whole field line */
    FMT_RES_HDR,  /* %[res.hdr(NAME[,OCC])] (http-response only) */
    FMT_RES_FHDR,
    FMT_METHOD,    /* %[method], %HM */
    FMT_URL,       /* %[url]: the request target (after set-path and friends) */
    FMT_PATH,      /* %[path] */
    FMT_QUERY,     /* %[query]: without '?' */
    FMT_URL_ORIG,  /* %HU, %[capture.req.uri]: the target as the client sent it */
    FMT_PATH_ORIG, /* %HP: that target without its query */
    FMT_QUERY_Q,   /* %HQ: '?' and the query of that target, or nothing */
    FMT_REQ_VER,   /* %[req.ver]: "1.1" */
    FMT_HTTP_VER,  /* %HV: "HTTP/1.1" */
    FMT_URL_PARAM, /* %[url_param(NAME)], %[urlp(NAME)] */
    FMT_COOKIE,    /* %[req.cook(NAME)], %[cook(NAME)]: the last cookie of that name */
    FMT_STATUS,    /* %[status], %ST (http-response only) */
    FMT_FE_NAME,   /* %[fe_name], %f */
    FMT_BE_NAME,   /* %[be_name], %b */
    FMT_SRV_NAME,  /* %[srv_name], %s (http-response only) */
    FMT_DATE,      /* %[date]: now, Unix seconds */
    FMT_UUID,      /* %[uuid]: a random (version 4) UUID per expansion */
    FMT_UNIQUE_ID, /* %[unique-id], %ID: the request's unique-id-format, once per request */
    FMT_TS,        /* %Ts: the request's start, Unix seconds */
    FMT_MS,        /* %ms: its milliseconds, 3 digits */
    FMT_VAR,       /* %[var(SCOPE.NAME)]: a variable (var); unset: the sample fails */
    FMT_STR,       /* %[str(TEXT)], %[int(N)]: a literal (text) that converters may change */
};

enum fmt_conv { FMT_CONV_NONE = 0, FMT_CONV_LOWER, FMT_CONV_UPPER, FMT_CONV_MAP };

/* A converter: `,lower`, `,upper`, or `,map_KIND(FILE[,DEFAULT])`. */
struct cfg_fmt_conv {
    enum fmt_conv kind;
    const struct cfg_map *map; /* borrowed from the config's maps: FMT_CONV_MAP */
    char *def;                 /* owned: the default value, NULL when none (no match: the
                                  sample fails and expands to nothing) */
    size_t def_len;
};

#define CFG_FMT_CONV_MAX 3

struct cfg_fmt_part {
    enum fmt_sample sample;
    char *text; /* owned: FMT_LIT's text, a header's lower-cased name, a parameter's name */
    size_t len; /* bytes in text */
    int occ;    /* req.hdr()/fhdr() occurrence: 1 = first, -1 = last (default), ... */
    int var;    /* FMT_VAR: index into the config's vars[] */
    struct cfg_fmt_conv conv[CFG_FMT_CONV_MAX]; /* applied in order */
    uint8_t nconv;
};

struct cfg_fmt {
    struct cfg_fmt_part *parts; /* owned */
    size_t nparts;
    bool uses_dst; /* a dst/dst_port sample: the expander needs the local address */
};

enum http_rule_action {
    HTTP_ACT_ALLOW = 0,
    HTTP_ACT_DENY,       /* status (default 403) */
    HTTP_ACT_TARPIT,     /* hold the request for timeout tarpit, then deny (status, 500) */
    HTTP_ACT_REDIRECT,   /* redirect location|prefix|scheme VALUE [code N] */
    HTTP_ACT_RETURN,     /* return status N content-type T string S | file F */
    HTTP_ACT_SET_HEADER, /* name value */
    HTTP_ACT_ADD_HEADER,
    HTTP_ACT_DEL_HEADER,  /* name */
    HTTP_ACT_SET_STATUS,  /* http-response only */
    HTTP_ACT_AUTH,        /* auth [realm R]: 407 in forward mode, 401 otherwise (value: realm) */
    HTTP_ACT_USE_SERVICE, /* use-service NAME (value): only prometheus-exporter exists */
    /* regex rewrites (HAProxy's): `re` matches, `value` is the replacement, in which \0 to \9
       stand for the match and its groups, \xHH for a byte and \C for a character C */
    HTTP_ACT_REPLACE_HEADER, /* name re value: a field line whose value re matches (a
                                search, not anchored) is replaced whole */
    HTTP_ACT_REPLACE_VALUE,  /* name re value: the same per comma-separated element */
    HTTP_ACT_SET_PATH,       /* value: the path of the request target (query kept); request */
    HTTP_ACT_REPLACE_PATH,   /* re value: the path, when re matches it; request */
    HTTP_ACT_SET_QUERY,      /* value: the query string (without '?'); request */
    HTTP_ACT_TRACK_SC,       /* track-sc<sc> KEY [table NAME]: fmt is the key, name the table's
                                section (NULL: the rule's own), table its runtime index */
    HTTP_ACT_SET_VAR,        /* set-var(SCOPE.NAME) EXPR: var is the variable, fmt the one
                                sample of EXPR */
    HTTP_ACT_UNSET_VAR,      /* unset-var(SCOPE.NAME): var */
};

/* The most header edits (set/add/del/replace-header/replace-value, set-status) one section's
 * http-request or http-response rules may hold: a message collects those of its frontend and
 * its backend (more would answer 500 / 502 rather than forward a message without an edit the
 * operator asked for, so a section may not hold more). */
#define CFG_HTTP_EDITS_MAX 32
/* Back-references a rewrite's replacement may use: \0 (the whole match) to \9. */
#define CFG_HTTP_REGEX_GROUPS 10

enum http_redirect_type { HTTP_REDIR_LOCATION = 0, HTTP_REDIR_PREFIX, HTTP_REDIR_SCHEME };

/* What `http-request return` answers with. */
enum http_return_page {
    HTTP_RET_BODY = 0,   /* status, content-type and value as the body (string, file or none) */
    HTTP_RET_PAGE,       /* value is a whole response sent as it is: `errorfile FILE`, or the
                            page `errorfiles NAME` has for the status */
    HTTP_RET_ERROR_PAGE, /* the proxy's error page for the status: `default-errorfiles`, or
                            `errorfiles NAME` when that section has none for it (HAProxy's) */
};

struct cfg_http_rule {
    enum http_rule_action action;
    char *name;          /* owned: header name (set/add/del); return: `errorfiles` section */
    char *value;         /* owned: header value, redirect target, return body, set-status
                            reason; NUL-terminated, NULL when absent */
    size_t value_len;    /* bytes in value (a return body read from a file may hold NULs) */
    struct cfg_fmt *fmt; /* owned: set-header/add-header value with samples (value NULL), or
                            NULL when the value is literal */
    char *content_type;  /* owned: return content-type */
    int status;          /* deny_status, redirect code (302), return status, set-status */
    enum http_redirect_type redirect;
    enum http_return_page page;
    void *re;   /* owned pcre2_code * of replace-header, replace-value, replace-path, else NULL */
    uint8_t sc; /* track-sc<sc> */
    int table;  /* track-sc: runtime table index, resolved after parsing */
    int var;    /* set-var / unset-var: index into the config's vars[] */
    struct cfg_cond cond;
    int line;
};

/* HAProxy's variables (`http-request set-var(txn.name)`, `%[var(txn.name)]`): each distinct
 * SCOPE.NAME of the config gets an index at load time; a session keeps their values. */
enum cfg_var_scope {
    CFG_VAR_SESS = 0, /* the client connection: cleared when it closes */
    CFG_VAR_TXN,      /* the current request and its response: cleared when it ends */
    CFG_VAR_REQ,      /* the same in sluice (HAProxy: request processing only) */
};
#define CFG_VARS_MAX     64 /* distinct variables per config */
#define CFG_VAR_NAME_MAX 64 /* bytes of "scope.name" with its NUL */
struct cfg_var {
    char name[CFG_VAR_NAME_MAX]; /* "txn.name", as written */
    enum cfg_var_scope scope;
};

enum http_reuse { HTTP_REUSE_SAFE = 0, HTTP_REUSE_NEVER, HTTP_REUSE_AGGRESSIVE, HTTP_REUSE_ALWAYS };

/* `cookie NAME insert|rewrite|prefix [indirect] [nocache] [httponly] [secure] [domain D]
 * [maxidle T] [maxlife T]` (only insert is required by sluice for now) */
struct cfg_cookie {
    char name[64]; /* "" when no cookie persistence */
    bool insert, indirect, nocache, httponly, secure;
    char domain[128];
};

/* `option forwardfor [except NET] [header NAME] [if-none]` */
struct cfg_forwardfor {
    bool enabled;
    char header[64]; /* default "X-Forwarded-For" */
    bool has_except;
    struct cfg_net except;
    bool if_none;
};

/* `errorfile CODE PATH`: the file is read at load time (a complete HTTP response, as HAProxy). */
struct cfg_errorfile {
    int status;
    char *data; /* owned; a NUL follows the len bytes */
    size_t len;
    int line; /* the errorfile or errorfiles statement that set it: for a status, the later
                 statement wins (HAProxy's order, [defaults] first) */
};

/* `[http-errors NAME]` (HAProxy 2.2+): a named set of `errorfile` pages that proxies import with
 * `errorfiles NAME [CODE...]`. */
struct cfg_http_errors {
    char name[64];
    struct cfg_errorfile *files; /* owned */
    size_t nfiles;
    int line;
};

/* `errorfiles NAME [CODE...]` in a proxy: kept as written while the file is read (the section may
 * be declared below), then resolved into the proxy's errorfiles by config__validate. */
#define CFG_ERROR_CODES_MAX 24 /* more than the codes errorfile takes (no duplicates are kept) */
struct cfg_errorfiles_ref {
    char name[64];
    int codes[CFG_ERROR_CODES_MAX]; /* the codes to import; none (ncodes 0): every one it has */
    size_t ncodes;
    int line;
};

/* `stats enable`, `stats uri PATH`, `stats refresh TIME`, `stats hide-version`, `stats realm R`:
 * the statistics page of a mode http frontend or listen section (docs/operations.md). */
#define CFG_STATS_URI_DEFAULT "/haproxy?stats"
#define CFG_STATS_AUTH_MAX    8   /* `stats auth` lines per section */
#define CFG_STATS_AUTH_LEN    192 /* "user:password" (user at most 63 bytes) */
struct cfg_userlist;
struct cfg_stats {
    bool enabled;        /* `stats enable`, or implied by `stats uri` */
    char uri[256];       /* request URI prefix; "" = CFG_STATS_URI_DEFAULT */
    uint32_t refresh_ms; /* auto-refresh period of the HTML page, 0: off */
    bool hide_version;   /* `stats hide-version` */
    char realm[64];      /* `stats realm`: the Basic realm of `stats auth` ("" = HAProxy's) */
    /* `stats auth USER:PASSWORD` lines, as written (inherited from [defaults] by value) */
    char auth[CFG_STATS_AUTH_MAX][CFG_STATS_AUTH_LEN];
    uint8_t nauth;
    const struct cfg_userlist *auth_list; /* borrowed: the users of auth[], built after parsing
                                             as a userlist of the config; NULL when none */
};

/* `capture request|response header NAME len N`: the last occurrence of a field, cut at N bytes,
 * logged between braces in the httplog line (HAProxy's %hr / %hs). */
#define CFG_CAPTURES_MAX    16
#define CFG_CAPTURE_LEN_MAX 4096
struct cfg_capture {
    char name[64];
    uint16_t len;
};

/* Everything mode http adds to a proxy section. Inherited from [defaults] where HAProxy does
 * (timeouts, options, errorfiles, http-reuse, forwardfor, httplog, retry-on); ACLs and rules are
 * per section. */
struct cfg_http {
    struct cfg_acl *acls; /* owned: user ACLs then predefined ones */
    size_t nacls;
    struct cfg_use_backend *use_backends; /* owned, in order */
    size_t nuse_backends;
    struct cfg_http_rule *req_rules; /* owned: http-request rules in order */
    size_t nreq_rules;
    struct cfg_http_rule *resp_rules; /* owned: http-response rules in order */
    size_t nresp_rules;
    /* owned: `tcp-request connection` rules in order (mode tcp too): ALLOW is accept, DENY
     * reject, TRACK_SC track-scN src; their conditions test the connection only */
    struct cfg_http_rule *conn_rules;
    size_t nconn_rules;
    struct cfg_forwardfor forwardfor;
    bool forwarded;         /* option forwarded (RFC 7239) */
    bool httplog;           /* option httplog */
    bool http_server_close; /* option http-server-close: no server-side keep-alive */
    bool httpclose;         /* option httpclose: close both sides after each response */
    enum http_reuse reuse;
    uint32_t timeout_http_request;    /* ms; 0: use timeout client */
    uint32_t timeout_http_keep_alive; /* ms; 0: use timeout http-request */
    uint32_t timeout_tunnel;          /* ms; 0: use timeout client/server */
    uint32_t timeout_tarpit;          /* ms; 0: use timeout connect */
    struct cfg_errorfile *errorfiles; /* owned */
    size_t nerrorfiles;
    struct cfg_errorfiles_ref *errorfiles_refs; /* owned: `errorfiles` statements, in order */
    size_t nerrorfiles_refs;
    struct cfg_cookie cookie;
    /* balance uri | url_param NAME | hdr(NAME): see cfg_proxy.balance and hash_arg */
    char hash_arg[64];
    /* retry-on: bit set of HTTP_RETRY_* */
    unsigned retry_on;
    /* statistics page (inherited from [defaults], as HAProxy) */
    struct cfg_stats stats;
    struct cfg_fmt *unique_id; /* owned: `unique-id-format`, NULL when none */
    struct cfg_capture req_cap[CFG_CAPTURES_MAX], res_cap[CFG_CAPTURES_MAX];
    uint8_t nreq_cap, nres_cap;
    char unique_id_header[64]; /* `unique-id-header`: sent to servers with the ID; "" = none */
    char monitor_uri[256]; /* `monitor-uri`: answered 200 by sluice, neither forwarded nor logged;
                              "" when none */
    bool has_service;      /* some http-request use-service rule: the proxy answers by itself */

    /* forward proxy (`option http_proxy`, frontend/listen; see docs/forward-proxy.md) */
    bool http_proxy;
    bool anonymize;                       /* option anonymize */
    enum cfg_log_format log_format;       /* log-format squid */
    struct cfg_resolvers *resolvers;      /* borrowed: `resolvers NAME`, else the only [resolvers]
                                             section, else NULL (/etc/resolv.conf + /etc/hosts) */
    const struct cfg_userlist *auth_list; /* borrowed: the userlist that http_auth() ACLs of this
                                             proxy name (one per proxy), NULL when none */
    bool has_client_acl;                  /* some rule tests src: no implicit private-only limit */
    bool has_connect_rule;                /* some rule mentions METH_CONNECT or url_port: no
                                             implicit "CONNECT only to 443" */
};

#define HTTP_RETRY_CONN_FAILURE     0x1u
#define HTTP_RETRY_EMPTY_RESPONSE   0x2u
#define HTTP_RETRY_RESPONSE_TIMEOUT 0x4u
#define HTTP_RETRY_503              0x8u
#define HTTP_RETRY_DEFAULT          (HTTP_RETRY_CONN_FAILURE | HTTP_RETRY_EMPTY_RESPONSE)

#endif
