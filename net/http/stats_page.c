/* Statistics over HTTP: the writers (HTML page, HAProxy CSV, JSON, Prometheus text format) format a
 * struct stats_snap into one malloc'ed text; the hooks count each request of a mode http stream in
 * the worker's own slots and answer `stats uri` / `use-service prometheus-exporter`. A page is
 * built whole by the worker that got the request (it sums every worker's slots with relaxed
 * loads, core/stats.h) and sent with relay_send, which keeps whatever the socket does not take. */
#include "net/http/stats_page.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/http/auth.h"
#include "net/http/errors.h"
#include "net/http/stream_int.h"

/* ---- a growing string ----------------------------------------------------------------------- */

struct sb {
    char *p;
    size_t len, cap;
    bool oom;
};

static bool sb_reserve(struct sb *b, size_t more)
{
    if (b->oom)
        return false;
    if (b->len + more + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

static void sb_put(struct sb *b, const char *s, size_t n)
{
    if (!sb_reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(struct sb *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static void sb_printf(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sb *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(tmp)) {
        sb_put(b, tmp, (size_t)n);
        return;
    }
    if (!sb_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static char *sb_finish(struct sb *b, size_t *len)
{
    if (!b->p && !b->oom)
        sb_reserve(b, 0);
    if (b->oom) {
        free(b->p);
        return NULL;
    }
    *len = b->len;
    return b->p;
}

/* Text for an HTML body or attribute. */
static void sb_html(struct sb *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            sb_str(b, "&lt;");
            break;
        case '>':
            sb_str(b, "&gt;");
            break;
        case '&':
            sb_str(b, "&amp;");
            break;
        case '"':
            sb_str(b, "&quot;");
            break;
        default:
            sb_put(b, s, 1);
        }
    }
}

/* A JSON string with its quotes. */
static void sb_json_str(struct sb *b, const char *s)
{
    sb_put(b, "\"", 1);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            sb_put(b, e, 2);
        } else if (c < 0x20) {
            sb_printf(b, "\\u%04x", c);
        } else {
            sb_put(b, s, 1);
        }
    }
    sb_put(b, "\"", 1);
}

/* A Prometheus label value (escapes \, " and newline). */
static void sb_label(struct sb *b, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '\\' || *s == '"')
            sb_put(b, "\\", 1), sb_put(b, s, 1);
        else if (*s == '\n')
            sb_str(b, "\\n");
        else
            sb_put(b, s, 1);
    }
}

/* A CSV field: HAProxy's names hold no comma; anything else is quoted. */
static void sb_csv(struct sb *b, const char *s)
{
    if (!s || !strpbrk(s, ",\"\n")) {
        sb_str(b, s ? s : "");
        return;
    }
    sb_put(b, "\"", 1);
    for (; *s; s++) {
        if (*s == '"')
            sb_put(b, "\"", 1);
        sb_put(b, s, 1);
    }
    sb_put(b, "\"", 1);
}

static bool is_http(const struct stats_row *r)
{
    return r->mode && strcmp(r->mode, "http") == 0;
}

/* ---- CSV ------------------------------------------------------------------------------------ */

/* HAProxy's `show stat` columns, in its order, up to `dcon` (field 81). */
static const char *const csv_cols[] = {
    "pxname",
    "svname",
    "qcur",
    "qmax",
    "scur",
    "smax",
    "slim",
    "stot",
    "bin",
    "bout",
    "dreq",
    "dresp",
    "ereq",
    "econ",
    "eresp",
    "wretr",
    "wredis",
    "status",
    "weight",
    "act",
    "bck",
    "chkfail",
    "chkdown",
    "lastchg",
    "downtime",
    "qlimit",
    "pid",
    "iid",
    "sid",
    "throttle",
    "lbtot",
    "tracked",
    "type",
    "rate",
    "rate_lim",
    "rate_max",
    "check_status",
    "check_code",
    "check_duration",
    "hrsp_1xx",
    "hrsp_2xx",
    "hrsp_3xx",
    "hrsp_4xx",
    "hrsp_5xx",
    "hrsp_other",
    "hanafail",
    "req_rate",
    "req_rate_max",
    "req_tot",
    "cli_abrt",
    "srv_abrt",
    "comp_in",
    "comp_out",
    "comp_byp",
    "comp_rsp",
    "lastsess",
    "last_chk",
    "last_agt",
    "qtime",
    "ctime",
    "rtime",
    "ttime",
    "agent_status",
    "agent_code",
    "agent_duration",
    "check_desc",
    "agent_desc",
    "check_rise",
    "check_fall",
    "check_health",
    "agent_rise",
    "agent_fall",
    "agent_health",
    "addr",
    "cookie",
    "mode",
    "algo",
    "conn_rate",
    "conn_rate_max",
    "conn_tot",
    "intercepted",
    "dcon",
};
#define CSV_NCOLS (sizeof(csv_cols) / sizeof(csv_cols[0]))

static int csv_col(const char *name)
{
    for (size_t i = 0; i < CSV_NCOLS; i++)
        if (strcmp(csv_cols[i], name) == 0)
            return (int)i;
    return -1;
}

static void set_u(char f[][32], const char *col, uint64_t v)
{
    snprintf(f[csv_col(col)], 32, "%llu", (unsigned long long)v);
}

static void set_i(char f[][32], const char *col, int64_t v)
{
    snprintf(f[csv_col(col)], 32, "%lld", (long long)v);
}

static void set_s(char f[][32], const char *col, const char *v)
{
    snprintf(f[csv_col(col)], 32, "%s", v ? v : "");
}

static void csv_row(struct sb *b, const struct stats_row *r)
{
    char f[CSV_NCOLS][32];
    memset(f, 0, sizeof(f));
    bool fe = r->type == STATS_ROW_FE, be = r->type == STATS_ROW_BE, sv = r->type == STATS_ROW_SRV;
    if (be)
        set_i(f, "qcur", r->qcur);
    set_i(f, "scur", r->scur);
    if (r->slim > 0 && !be)
        set_i(f, "slim", r->slim);
    set_u(f, "stot", r->c[STC_SESS]);
    set_u(f, "bin", r->c[STC_BYTES_IN]);
    set_u(f, "bout", r->c[STC_BYTES_OUT]);
    if (fe) {
        set_u(f, "dreq", r->c[STC_DREQ]);
        set_u(f, "ereq", r->c[STC_EREQ]);
        set_u(f, "conn_tot", r->c[STC_SESS]);
        if (is_http(r))
            set_u(f, "intercepted", r->c[STC_INTERCEPTED]);
        set_u(f, "dcon", r->c[STC_DCON]);
    } else {
        set_u(f, "econ", r->c[STC_ECON]);
        set_u(f, "eresp", r->c[STC_ERESP]);
        set_u(f, "wretr", r->c[STC_RETR]);
        set_u(f, "wredis", r->c[STC_REDISP]);
        set_i(f, "weight", r->weight);
        set_u(f, "act", r->act);
        set_u(f, "bck", r->bck);
        set_u(f, "lbtot", r->lbtot);
        set_u(f, "cli_abrt", r->c[STC_CLI_ABRT]);
        set_u(f, "srv_abrt", r->c[STC_SRV_ABRT]);
        if (r->lastchg_s >= 0)
            set_i(f, "lastchg", r->lastchg_s);
        const char *tc[] = {"ctime", "rtime", "ttime"};
        for (unsigned l = 0; l < STL__N; l++) {
            double m = stats_hist_mean_ms(&r->hist[l]);
            set_u(f, tc[l], m < 0 ? 0 : (uint64_t)(m + 0.5));
        }
    }
    set_s(f, "status", r->status);
    if (sv && r->has_check) {
        set_u(f, "chkfail", r->chkfail);
        set_u(f, "chkdown", r->chkdown);
        set_i(f, "downtime", r->downtime_s);
        set_s(f, "check_status", r->check_status);
        if (r->check_code)
            set_i(f, "check_code", r->check_code);
    }
    if (be)
        set_u(f, "chkdown", r->chkdown);
    set_u(f, "pid", 1);
    set_u(f, "iid", r->iid);
    set_u(f, "sid", r->sid);
    set_u(f, "type", (uint64_t)r->type);
    if (is_http(r)) {
        const char *h[] = {"hrsp_1xx", "hrsp_2xx", "hrsp_3xx",
                           "hrsp_4xx", "hrsp_5xx", "hrsp_other"};
        for (unsigned i = 0; i < 6; i++)
            set_u(f, h[i], r->c[STC_RSP_1XX + i]);
        set_u(f, "req_tot", r->c[STC_REQ]);
    }
    if (sv)
        set_s(f, "addr", r->addr);
    set_s(f, "mode", r->mode);
    if (be)
        set_s(f, "algo", r->algo);
    sb_csv(b, r->pxname);
    sb_put(b, ",", 1);
    sb_csv(b, r->svname);
    sb_put(b, ",", 1);
    for (size_t i = 2; i < CSV_NCOLS; i++) {
        sb_str(b, f[i]);
        sb_put(b, ",", 1);
    }
    sb_put(b, "\n", 1);
}

char *stats_page_csv(const struct stats_snap *s, size_t *len)
{
    struct sb b = {0};
    sb_str(&b, "# ");
    for (size_t i = 0; i < CSV_NCOLS; i++) {
        sb_str(&b, csv_cols[i]);
        sb_put(&b, ",", 1);
    }
    sb_put(&b, "\n", 1);
    for (size_t i = 0; i < s->npx; i++)
        for (size_t r = 0; r < s->px[i].nrows; r++)
            csv_row(&b, &s->px[i].rows[r]);
    return sb_finish(&b, len);
}

/* ---- JSON ----------------------------------------------------------------------------------- */

static void json_num_or_null(struct sb *b, double v)
{
    if (v < 0)
        sb_str(b, "null");
    else
        sb_printf(b, "%.3f", v);
}

static void json_hist(struct sb *b, const struct stats_hist_snap *h)
{
    sb_printf(b, "{\"count\":%llu,\"sum_ms\":%.3f,\"mean_ms\":", (unsigned long long)h->count,
              (double)h->sum_us / 1000.0);
    json_num_or_null(b, stats_hist_mean_ms(h));
    static const double qs[] = {0.5, 0.9, 0.99};
    static const char *const qn[] = {"p50_ms", "p90_ms", "p99_ms"};
    for (unsigned i = 0; i < 3; i++) {
        sb_printf(b, ",\"%s\":", qn[i]);
        json_num_or_null(b, stats_hist_quantile(h, qs[i]));
    }
    sb_str(b, ",\"buckets\":[");
    for (unsigned i = 0; i < STATS_NBUCKETS; i++)
        sb_printf(b, "%s%llu", i ? "," : "", (unsigned long long)h->bucket[i]);
    sb_str(b, "]}");
}

static void json_row(struct sb *b, const struct stats_row *r)
{
    static const char *const cn[STC__N] = {
        "stot",     "bin",      "bout",       "req_tot",  "hrsp_1xx",    "hrsp_2xx", "hrsp_3xx",
        "hrsp_4xx", "hrsp_5xx", "hrsp_other", "ereq",     "dreq",        "econ",     "eresp",
        "wretr",    "wredis",   "cli_abrt",   "srv_abrt", "intercepted", "dcon"};
    sb_str(b, "{\"svname\":");
    sb_json_str(b, r->svname);
    sb_str(b, ",\"status\":");
    sb_json_str(b, r->status);
    sb_printf(b, ",\"scur\":%lld,\"slim\":%lld", (long long)r->scur, (long long)r->slim);
    for (unsigned c = 0; c < STC__N; c++)
        sb_printf(b, ",\"%s\":%llu", cn[c], (unsigned long long)r->c[c]);
    if (r->type != STATS_ROW_FE) {
        sb_printf(b,
                  ",\"qcur\":%lld,\"weight\":%d,\"act\":%u,\"bck\":%u,\"lbtot\":%llu,"
                  "\"chkdown\":%llu,\"lastchg\":%lld",
                  (long long)r->qcur, r->weight, r->act, r->bck, (unsigned long long)r->lbtot,
                  (unsigned long long)r->chkdown, (long long)r->lastchg_s);
    }
    if (r->type == STATS_ROW_SRV) {
        sb_str(b, ",\"addr\":");
        sb_json_str(b, r->addr);
        sb_printf(b, ",\"backup\":%s,\"check\":%s", r->backup ? "true" : "false",
                  r->has_check ? "true" : "false");
        if (r->has_check) {
            sb_printf(b, ",\"chkfail\":%llu,\"downtime\":%lld,\"check_code\":%d,\"check_status\":",
                      (unsigned long long)r->chkfail, (long long)r->downtime_s, r->check_code);
            sb_json_str(b, r->check_status);
        }
    }
    if (r->type == STATS_ROW_BE) {
        sb_str(b, ",\"algo\":");
        sb_json_str(b, r->algo);
    }
    if (r->has_hist) {
        static const char *const ln[STL__N] = {"connect", "response", "total"};
        sb_str(b, ",\"latency\":{");
        for (unsigned l = 0; l < STL__N; l++) {
            sb_printf(b, "%s\"%s\":", l ? "," : "", ln[l]);
            json_hist(b, &r->hist[l]);
        }
        sb_str(b, "}");
    }
    sb_str(b, "}");
}

char *stats_page_json(const struct stats_snap *s, size_t *len)
{
    struct sb b = {0};
    sb_str(&b, "{\"sluice\":{\"version\":");
    sb_json_str(&b, s->version);
    sb_printf(&b, ",\"pid\":%d,\"uptime_s\":%llu,\"workers\":%u,\"current_conns\":%lld", s->pid,
              (unsigned long long)s->uptime_s, s->nworkers, (long long)s->cur_conns);
    sb_str(&b, ",\"bucket_bounds_ms\":[");
    for (unsigned i = 0; i + 1 < STATS_NBUCKETS; i++)
        sb_printf(&b, "%s%g", i ? "," : "", (double)stats_bucket_bound_us(i) / 1000.0);
    sb_str(&b, ",null]},\"proxies\":[");
    for (size_t i = 0; i < s->npx; i++) {
        const struct stats_proxy *p = &s->px[i];
        sb_str(&b, i ? ",{\"name\":" : "{\"name\":");
        sb_json_str(&b, p->name);
        sb_str(&b, ",\"mode\":");
        sb_json_str(&b, p->mode);
        sb_printf(&b, ",\"iid\":%u", p->iid);
        bool any_srv = false;
        for (size_t r = 0; r < p->nrows; r++) {
            const struct stats_row *row = &p->rows[r];
            if (row->type == STATS_ROW_FE) {
                sb_str(&b, ",\"frontend\":");
                json_row(&b, row);
            }
        }
        if (p->has_be) {
            sb_str(&b, ",\"servers\":[");
            for (size_t r = 0; r < p->nrows; r++) {
                if (p->rows[r].type != STATS_ROW_SRV)
                    continue;
                if (any_srv)
                    sb_put(&b, ",", 1);
                any_srv = true;
                json_row(&b, &p->rows[r]);
            }
            sb_str(&b, "]");
            for (size_t r = 0; r < p->nrows; r++) {
                if (p->rows[r].type == STATS_ROW_BE) {
                    sb_str(&b, ",\"backend\":");
                    json_row(&b, &p->rows[r]);
                }
            }
        }
        sb_str(&b, "}");
    }
    sb_str(&b, "]}\n");
    return sb_finish(&b, len);
}

/* ---- Prometheus ----------------------------------------------------------------------------- */

enum prom_val {
    PV_CTR = 0, /* r->c[ctr] */
    PV_STATUS,  /* frontend/backend: 1 when up; server: one sample per state */
    PV_SCUR,
    PV_SLIM,
    PV_QCUR,
    PV_WEIGHT,
    PV_ACT,
    PV_BCK,
    PV_LBTOT,
    PV_CHKFAIL,
    PV_CHKDOWN,
    PV_DOWNTIME,
    PV_LASTCHG,
    PV_CHECK_CODE,
    PV_RSP, /* http_responses_total{code=...} */
};

#define PS_FE   0x1u
#define PS_BE   0x2u
#define PS_SRV  0x4u
#define PS_HTTP 0x8u  /* mode http proxies only */
#define PS_CHK  0x10u /* checked servers only */

struct prom_family {
    unsigned scope;   /* PS_FE, PS_BE or PS_SRV, plus PS_HTTP / PS_CHK */
    const char *name; /* after "sluice_<scope>_" */
    const char *type;
    enum prom_val val;
    enum stats_ctr ctr;
    const char *help;
};

static const struct prom_family prom_families[] = {
    {PS_FE, "status", "gauge", PV_STATUS, 0, "Current status of the frontend (1: open)."},
    {PS_FE, "current_sessions", "gauge", PV_SCUR, 0, "Current number of active sessions."},
    {PS_FE, "limit_sessions", "gauge", PV_SLIM, 0, "Configured session limit (0: none)."},
    {PS_FE, "sessions_total", "counter", PV_CTR, STC_SESS, "Total number of sessions."},
    {PS_FE, "bytes_in_total", "counter", PV_CTR, STC_BYTES_IN, "Current total of incoming bytes."},
    {PS_FE, "bytes_out_total", "counter", PV_CTR, STC_BYTES_OUT,
     "Current total of outgoing bytes."},
    {PS_FE, "requests_denied_total", "counter", PV_CTR, STC_DREQ,
     "Total number of denied requests."},
    {PS_FE, "request_errors_total", "counter", PV_CTR, STC_EREQ, "Total number of request errors."},
    {PS_FE, "denied_connections_total", "counter", PV_CTR, STC_DCON,
     "Total number of requests denied by \"tcp-request connection\" rules."},
    {PS_FE | PS_HTTP, "http_requests_total", "counter", PV_CTR, STC_REQ,
     "Total number of HTTP requests received."},
    {PS_FE | PS_HTTP, "http_responses_total", "counter", PV_RSP, 0,
     "Total number of HTTP responses, by status class."},
    {PS_FE | PS_HTTP, "intercepted_requests_total", "counter", PV_CTR, STC_INTERCEPTED,
     "Total number of requests answered by the stats page or an exporter."},

    {PS_BE, "status", "gauge", PV_STATUS, 0, "Current status of the backend (1: a server is up)."},
    {PS_BE, "current_queue", "gauge", PV_QCUR, 0, "Current number of queued requests."},
    {PS_BE, "current_sessions", "gauge", PV_SCUR, 0, "Current number of active sessions."},
    {PS_BE, "sessions_total", "counter", PV_CTR, STC_SESS,
     "Total number of sessions (mode http: requests)."},
    {PS_BE, "bytes_in_total", "counter", PV_CTR, STC_BYTES_IN, "Current total of incoming bytes."},
    {PS_BE, "bytes_out_total", "counter", PV_CTR, STC_BYTES_OUT,
     "Current total of outgoing bytes."},
    {PS_BE, "connection_errors_total", "counter", PV_CTR, STC_ECON,
     "Total number of connection errors."},
    {PS_BE, "response_errors_total", "counter", PV_CTR, STC_ERESP,
     "Total number of response errors."},
    {PS_BE, "retry_warnings_total", "counter", PV_CTR, STC_RETR, "Total number of retry warnings."},
    {PS_BE, "redispatch_warnings_total", "counter", PV_CTR, STC_REDISP,
     "Total number of redispatch warnings."},
    {PS_BE, "client_aborts_total", "counter", PV_CTR, STC_CLI_ABRT,
     "Total number of data transfers aborted by the client."},
    {PS_BE, "server_aborts_total", "counter", PV_CTR, STC_SRV_ABRT,
     "Total number of data transfers aborted by the server."},
    {PS_BE, "weight", "gauge", PV_WEIGHT, 0, "Sum of the effective weights of usable servers."},
    {PS_BE, "active_servers", "gauge", PV_ACT, 0, "Current number of usable active servers."},
    {PS_BE, "backup_servers", "gauge", PV_BCK, 0, "Current number of usable backup servers."},
    {PS_BE, "loadbalanced_total", "counter", PV_LBTOT, 0,
     "Total number of times a server was selected."},
    {PS_BE, "check_up_down_total", "counter", PV_CHKDOWN, 0,
     "Total number of UP->DOWN transitions of its servers."},
    {PS_BE | PS_HTTP, "http_requests_total", "counter", PV_CTR, STC_REQ,
     "Total number of HTTP requests received."},
    {PS_BE | PS_HTTP, "http_responses_total", "counter", PV_RSP, 0,
     "Total number of HTTP responses, by status class."},

    {PS_SRV, "status", "gauge", PV_STATUS, 0,
     "Current status of the server (one sample per state)."},
    {PS_SRV, "current_sessions", "gauge", PV_SCUR, 0, "Current number of active sessions."},
    {PS_SRV, "limit_sessions", "gauge", PV_SLIM, 0, "Configured maxconn (0: none)."},
    {PS_SRV, "sessions_total", "counter", PV_CTR, STC_SESS,
     "Total number of sessions (mode http: requests)."},
    {PS_SRV, "bytes_in_total", "counter", PV_CTR, STC_BYTES_IN, "Current total of incoming bytes."},
    {PS_SRV, "bytes_out_total", "counter", PV_CTR, STC_BYTES_OUT,
     "Current total of outgoing bytes."},
    {PS_SRV, "connection_errors_total", "counter", PV_CTR, STC_ECON,
     "Total number of connection errors."},
    {PS_SRV, "response_errors_total", "counter", PV_CTR, STC_ERESP,
     "Total number of response errors."},
    {PS_SRV, "retry_warnings_total", "counter", PV_CTR, STC_RETR,
     "Total number of retry warnings."},
    {PS_SRV, "redispatch_warnings_total", "counter", PV_CTR, STC_REDISP,
     "Total number of redispatch warnings."},
    {PS_SRV, "client_aborts_total", "counter", PV_CTR, STC_CLI_ABRT,
     "Total number of data transfers aborted by the client."},
    {PS_SRV, "server_aborts_total", "counter", PV_CTR, STC_SRV_ABRT,
     "Total number of data transfers aborted by the server."},
    {PS_SRV, "weight", "gauge", PV_WEIGHT, 0, "Effective weight of the server."},
    {PS_SRV, "loadbalanced_total", "counter", PV_LBTOT, 0,
     "Total number of times the server was selected."},
    {PS_SRV, "check_last_change_seconds", "gauge", PV_LASTCHG, 0,
     "Number of seconds since the last UP<->DOWN transition."},
    {PS_SRV | PS_CHK, "check_failures_total", "counter", PV_CHKFAIL, 0,
     "Total number of failed health checks."},
    {PS_SRV | PS_CHK, "check_up_down_total", "counter", PV_CHKDOWN, 0,
     "Total number of UP->DOWN transitions."},
    {PS_SRV | PS_CHK, "downtime_seconds_total", "counter", PV_DOWNTIME, 0,
     "Total downtime (in seconds) of the server."},
    {PS_SRV | PS_CHK, "check_code", "gauge", PV_CHECK_CODE, 0,
     "HTTP status of the last health check (0: none)."},
    {PS_SRV | PS_HTTP, "http_responses_total", "counter", PV_RSP, 0,
     "Total number of HTTP responses, by status class."},
};

static bool prom_scope_has(unsigned scope, const struct stats_row *r)
{
    unsigned want = r->type == STATS_ROW_FE ? PS_FE : r->type == STATS_ROW_BE ? PS_BE : PS_SRV;
    if (!(scope & want))
        return false;
    if ((scope & PS_HTTP) && !is_http(r))
        return false;
    if ((scope & PS_CHK) && !r->has_check)
        return false;
    return true;
}

static const char *scope_name(unsigned scope)
{
    return scope & PS_FE ? "frontend" : scope & PS_BE ? "backend" : "server";
}

static void prom_labels(struct sb *b, const struct stats_row *r)
{
    sb_str(b, "proxy=\"");
    sb_label(b, r->pxname);
    sb_put(b, "\"", 1);
    if (r->type == STATS_ROW_SRV) {
        sb_str(b, ",server=\"");
        sb_label(b, r->svname);
        sb_put(b, "\"", 1);
    }
}

static void prom_sample(struct sb *b, const char *metric, const struct stats_row *r,
                        const char *extra, uint64_t v)
{
    sb_str(b, metric);
    sb_put(b, "{", 1);
    prom_labels(b, r);
    if (extra)
        sb_str(b, extra);
    sb_printf(b, "} %llu\n", (unsigned long long)v);
}

static void prom_family(struct sb *b, const struct stats_snap *s, const struct prom_family *f)
{
    char metric[96];
    snprintf(metric, sizeof(metric), "sluice_%s_%s", scope_name(f->scope), f->name);
    bool head = false;
    for (size_t i = 0; i < s->npx; i++) {
        for (size_t k = 0; k < s->px[i].nrows; k++) {
            const struct stats_row *r = &s->px[i].rows[k];
            if (!prom_scope_has(f->scope, r))
                continue;
            if (!head) {
                sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", metric, f->help, metric, f->type);
                head = true;
            }
            switch (f->val) {
            case PV_CTR:
                prom_sample(b, metric, r, NULL, r->c[f->ctr]);
                break;
            case PV_STATUS:
                if (r->type == STATS_ROW_SRV) {
                    static const char *const st[] = {"UP", "DOWN", "MAINT"};
                    bool down = !r->up && !r->maint;
                    bool cur[] = {r->up, down, r->maint};
                    for (unsigned j = 0; j < 3; j++) {
                        char extra[32];
                        snprintf(extra, sizeof(extra), ",state=\"%s\"", st[j]);
                        prom_sample(b, metric, r, extra, cur[j] ? 1 : 0);
                    }
                } else {
                    prom_sample(b, metric, r, NULL, r->up ? 1 : 0);
                }
                break;
            case PV_SCUR:
                prom_sample(b, metric, r, NULL, r->scur > 0 ? (uint64_t)r->scur : 0);
                break;
            case PV_SLIM:
                prom_sample(b, metric, r, NULL, r->slim > 0 ? (uint64_t)r->slim : 0);
                break;
            case PV_QCUR:
                prom_sample(b, metric, r, NULL, r->qcur > 0 ? (uint64_t)r->qcur : 0);
                break;
            case PV_WEIGHT:
                prom_sample(b, metric, r, NULL, r->weight > 0 ? (uint64_t)r->weight : 0);
                break;
            case PV_ACT:
                prom_sample(b, metric, r, NULL, r->act);
                break;
            case PV_BCK:
                prom_sample(b, metric, r, NULL, r->bck);
                break;
            case PV_LBTOT:
                prom_sample(b, metric, r, NULL, r->lbtot);
                break;
            case PV_CHKFAIL:
                prom_sample(b, metric, r, NULL, r->chkfail);
                break;
            case PV_CHKDOWN:
                prom_sample(b, metric, r, NULL, r->chkdown);
                break;
            case PV_DOWNTIME:
                prom_sample(b, metric, r, NULL, r->downtime_s > 0 ? (uint64_t)r->downtime_s : 0);
                break;
            case PV_LASTCHG:
                prom_sample(b, metric, r, NULL, r->lastchg_s > 0 ? (uint64_t)r->lastchg_s : 0);
                break;
            case PV_CHECK_CODE:
                prom_sample(b, metric, r, NULL, r->check_code > 0 ? (uint64_t)r->check_code : 0);
                break;
            case PV_RSP: {
                static const char *const cl[] = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};
                for (unsigned j = 0; j < 6; j++) {
                    char extra[32];
                    snprintf(extra, sizeof(extra), ",code=\"%s\"", cl[j]);
                    prom_sample(b, metric, r, extra, r->c[STC_RSP_1XX + j]);
                }
                break;
            }
            }
        }
    }
}

static void prom_histograms(struct sb *b, const struct stats_snap *s, enum stats_row_type type,
                            enum stats_lat l)
{
    static const char *const ln[STL__N] = {"connect", "response", "total"};
    static const char *const help[STL__N] = {
        "Time to establish the server connection.",
        "Server response time: from the connection being ready to the response head.",
        "Total time: HTTP request start to end, or the whole TCP session."};
    char metric[96];
    snprintf(metric, sizeof(metric), "sluice_%s_%s_time_seconds",
             type == STATS_ROW_BE ? "backend" : "server", ln[l]);
    bool head = false;
    for (size_t i = 0; i < s->npx; i++) {
        for (size_t k = 0; k < s->px[i].nrows; k++) {
            const struct stats_row *r = &s->px[i].rows[k];
            if (r->type != type || !r->has_hist)
                continue;
            if (!head) {
                sb_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", metric, help[l], metric);
                head = true;
            }
            const struct stats_hist_snap *h = &r->hist[l];
            uint64_t cum = 0;
            for (unsigned j = 0; j < STATS_NBUCKETS; j++) {
                cum += h->bucket[j];
                char le[48];
                if (j == STATS_NBUCKETS - 1)
                    snprintf(le, sizeof(le), ",le=\"+Inf\"");
                else
                    snprintf(le, sizeof(le), ",le=\"%g\"", (double)stats_bucket_bound_us(j) / 1e6);
                char name[112];
                snprintf(name, sizeof(name), "%s_bucket", metric);
                prom_sample(b, name, r, le, cum);
            }
            sb_printf(b, "%s_sum{", metric);
            prom_labels(b, r);
            sb_printf(b, "} %.6f\n", (double)h->sum_us / 1e6);
            sb_printf(b, "%s_count{", metric);
            prom_labels(b, r);
            sb_printf(b, "} %llu\n", (unsigned long long)h->count);
        }
    }
}

char *stats_page_prometheus(const struct stats_snap *s, size_t *len)
{
    struct sb b = {0};
    sb_str(&b, "# HELP sluice_process_build_info Build information.\n"
               "# TYPE sluice_process_build_info gauge\n");
    sb_str(&b, "sluice_process_build_info{version=\"");
    sb_label(&b, s->version);
    sb_str(&b, "\"} 1\n");
    sb_printf(&b,
              "# HELP sluice_process_uptime_seconds How long the process has been running.\n"
              "# TYPE sluice_process_uptime_seconds gauge\n"
              "sluice_process_uptime_seconds %llu\n"
              "# HELP sluice_process_nbthread Number of worker threads.\n"
              "# TYPE sluice_process_nbthread gauge\n"
              "sluice_process_nbthread %u\n"
              "# HELP sluice_process_current_connections Number of active sessions.\n"
              "# TYPE sluice_process_current_connections gauge\n"
              "sluice_process_current_connections %lld\n",
              (unsigned long long)s->uptime_s, s->nworkers,
              (long long)(s->cur_conns > 0 ? s->cur_conns : 0));
    for (size_t i = 0; i < sizeof(prom_families) / sizeof(prom_families[0]); i++)
        prom_family(&b, s, &prom_families[i]);
    for (unsigned l = 0; l < STL__N; l++)
        prom_histograms(&b, s, STATS_ROW_BE, l);
    for (unsigned l = 0; l < STL__N; l++)
        prom_histograms(&b, s, STATS_ROW_SRV, l);
    return sb_finish(&b, len);
}

/* ---- HTML ----------------------------------------------------------------------------------- */

static const char html_style[] =
    "body{font-family:Arial,Helvetica,sans-serif;font-size:12px;margin:10px;color:#000;"
    "background:#fff}"
    "h1{font-size:18px;margin:0 0 8px;padding:6px 10px;color:#fff;background:#20406a}"
    ".info{display:flex;gap:24px;flex-wrap:wrap;align-items:flex-start;margin-bottom:8px}"
    ".info p{margin:2px 0}"
    ".legend span{display:inline-block;padding:2px 8px;margin:2px;border:1px solid #999}"
    "table.px{border-collapse:collapse;margin:6px 0 18px;font-size:11px;white-space:nowrap}"
    "table.px caption{text-align:left;font-weight:bold;font-size:13px;padding:4px 8px;"
    "color:#fff;background:#b00040}"
    "table.px th{background:#dde3ee;border:1px solid #9aa7bd;padding:2px 4px;font-weight:normal}"
    "table.px th.g{font-weight:bold}"
    "table.px td{border:1px solid #b8c0cc;padding:2px 4px;text-align:right}"
    "table.px td.n{text-align:left;font-weight:bold}"
    "table.px td.s{text-align:center}"
    "tr.fe td,tr.be td{background:#f0ecd0;font-weight:bold}"
    "tr.up td{background:#c0ffc0}"
    "tr.down td{background:#ff9090}"
    "tr.maint td{background:#c0a0ff}"
    "tr.nochk td{background:#e0e0e0}"
    "tr.bup td{background:#b0d0ff}"
    "tr.bdown td{background:#ff9090}"
    "tr.fe.stop td,tr.be.down td{background:#ff9090}"
    ".legend .up{background:#c0ffc0}.legend .down{background:#ff9090}"
    ".legend .maint{background:#c0a0ff}.legend .nochk{background:#e0e0e0}"
    ".legend .bup{background:#b0d0ff}"
    "a{color:#20406a}";

static void fmt_dur(char *out, size_t n, int64_t s)
{
    if (s < 0)
        snprintf(out, n, "-");
    else if (s < 60)
        snprintf(out, n, "%llds", (long long)s);
    else if (s < 3600)
        snprintf(out, n, "%lldm%llds", (long long)(s / 60), (long long)(s % 60));
    else if (s < 86400)
        snprintf(out, n, "%lldh%lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
    else
        snprintf(out, n, "%lldd%lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
}

static void td_u(struct sb *b, uint64_t v)
{
    sb_printf(b, "<td>%llu</td>", (unsigned long long)v);
}

static void td_empty(struct sb *b, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        sb_str(b, "<td></td>");
}

static void td_ms(struct sb *b, const struct stats_hist_snap *h, double q)
{
    double v = stats_hist_quantile(h, q);
    if (v < 0)
        sb_str(b, "<td></td>");
    else
        sb_printf(b, "<td>%.1f</td>", v);
}

static const char *row_class(const struct stats_row *r)
{
    if (r->type == STATS_ROW_FE)
        return r->up ? "fe" : "fe stop";
    if (r->type == STATS_ROW_BE)
        return r->up ? "be" : "be down";
    if (r->maint)
        return "maint";
    if (!r->up)
        return r->backup ? "bdown" : "down";
    if (r->backup)
        return "bup";
    return r->has_check ? "up" : "nochk";
}

static void html_row(struct sb *b, const struct stats_row *r)
{
    bool fe = r->type == STATS_ROW_FE, sv = r->type == STATS_ROW_SRV;
    sb_printf(b, "<tr class=\"%s\"><td class=\"n\">", row_class(r));
    sb_html(b, r->svname);
    sb_str(b, "</td>");
    /* Queue */
    if (r->type == STATS_ROW_BE)
        sb_printf(b, "<td>%lld</td>", (long long)r->qcur);
    else
        td_empty(b, 1);
    /* Sessions: Cur Limit Total LbTot */
    sb_printf(b, "<td>%lld</td>", (long long)r->scur);
    if (r->slim > 0)
        sb_printf(b, "<td>%lld</td>", (long long)r->slim);
    else
        td_empty(b, 1);
    td_u(b, r->c[STC_SESS]);
    if (fe)
        td_empty(b, 1);
    else
        td_u(b, r->lbtot);
    /* Bytes */
    td_u(b, r->c[STC_BYTES_IN]);
    td_u(b, r->c[STC_BYTES_OUT]);
    /* Denied, Errors (Req Conn Resp), Warnings (Retr Redis) */
    if (fe) {
        td_u(b, r->c[STC_DREQ]);
        td_u(b, r->c[STC_EREQ]);
        td_empty(b, 4);
    } else {
        td_empty(b, 2);
        td_u(b, r->c[STC_ECON]);
        td_u(b, r->c[STC_ERESP]);
        td_u(b, r->c[STC_RETR]);
        td_u(b, r->c[STC_REDISP]);
    }
    /* HTTP responses */
    if (is_http(r))
        for (unsigned i = 0; i < 6; i++)
            td_u(b, r->c[STC_RSP_1XX + i]);
    else
        td_empty(b, 6);
    /* Latency (ms) */
    if (r->has_hist) {
        td_ms(b, &r->hist[STL_CONNECT], 0.5);
        td_ms(b, &r->hist[STL_CONNECT], 0.99);
        td_ms(b, &r->hist[STL_RESPONSE], 0.5);
        td_ms(b, &r->hist[STL_RESPONSE], 0.9);
        td_ms(b, &r->hist[STL_RESPONSE], 0.99);
        td_ms(b, &r->hist[STL_TOTAL], 0.5);
        td_ms(b, &r->hist[STL_TOTAL], 0.9);
        td_ms(b, &r->hist[STL_TOTAL], 0.99);
    } else {
        td_empty(b, 8);
    }
    /* Server: Status LastChk Wght Act Bck Chk Dwn Dwntme */
    char d[32];
    if (r->lastchg_s >= 0 && !fe) {
        fmt_dur(d, sizeof(d), r->lastchg_s);
        sb_printf(b, "<td class=\"s\">%s ", d);
    } else {
        sb_str(b, "<td class=\"s\">");
    }
    sb_html(b, r->status);
    sb_str(b, "</td>");
    if (sv && r->has_check) {
        sb_str(b, "<td class=\"s\">");
        sb_html(b, r->check_status);
        if (r->check_code)
            sb_printf(b, "/%d", r->check_code);
        sb_str(b, "</td>");
    } else {
        td_empty(b, 1);
    }
    if (fe) {
        td_empty(b, 6);
    } else {
        sb_printf(b, "<td>%d</td>", r->weight);
        if (sv) {
            sb_printf(b, "<td class=\"s\">%s</td><td class=\"s\">%s</td>", r->backup ? "-" : "Y",
                      r->backup ? "Y" : "-");
        } else {
            sb_printf(b, "<td>%u</td><td>%u</td>", r->act, r->bck);
        }
        if (sv && r->has_check) {
            td_u(b, r->chkfail);
            td_u(b, r->chkdown);
            fmt_dur(d, sizeof(d), r->downtime_s);
            sb_printf(b, "<td>%s</td>", d);
        } else if (!sv) {
            td_empty(b, 1);
            td_u(b, r->chkdown);
            td_empty(b, 1);
        } else {
            td_empty(b, 3);
        }
    }
    sb_str(b, "</tr>\n");
}

static void html_table(struct sb *b, const struct stats_proxy *p)
{
    sb_str(b, "<table class=\"px\" id=\"px-");
    sb_html(b, p->name);
    sb_str(b, "\"><caption>");
    sb_html(b, p->name);
    sb_printf(b, " <small>(mode %s)</small></caption>\n", p->mode);
    sb_str(b, "<thead><tr><th rowspan=\"2\"></th><th class=\"g\">Queue</th>"
              "<th class=\"g\" colspan=\"4\">Sessions</th><th class=\"g\" colspan=\"2\">Bytes</th>"
              "<th class=\"g\">Denied</th><th class=\"g\" colspan=\"3\">Errors</th>"
              "<th class=\"g\" colspan=\"2\">Warnings</th>"
              "<th class=\"g\" colspan=\"6\">HTTP responses</th>"
              "<th class=\"g\" colspan=\"2\">Connect (ms)</th>"
              "<th class=\"g\" colspan=\"3\">Response (ms)</th>"
              "<th class=\"g\" colspan=\"3\">Total (ms)</th>"
              "<th class=\"g\" colspan=\"8\">Server</th></tr>\n"
              "<tr><th>Cur</th><th>Cur</th><th>Limit</th><th>Total</th><th>LbTot</th>"
              "<th>In</th><th>Out</th><th>Req</th><th>Req</th><th>Conn</th><th>Resp</th>"
              "<th>Retr</th><th>Redis</th><th>1xx</th><th>2xx</th><th>3xx</th><th>4xx</th>"
              "<th>5xx</th><th>other</th><th>p50</th><th>p99</th><th>p50</th><th>p90</th>"
              "<th>p99</th><th>p50</th><th>p90</th><th>p99</th><th>Status</th><th>LastChk</th>"
              "<th>Wght</th><th>Act</th><th>Bck</th><th>Chk</th><th>Dwn</th><th>Dwntme</th>"
              "</tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < p->nrows; i++)
        html_row(b, &p->rows[i]);
    sb_str(b, "</tbody></table>\n");
}

char *stats_page_html(const struct stats_snap *s, const struct stats_page_opts *o, size_t *len)
{
    struct sb b = {0};
    sb_str(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    if (o->refresh_s)
        sb_printf(&b, "<meta http-equiv=\"refresh\" content=\"%u\">\n", o->refresh_s);
    sb_str(&b, "<title>Statistics Report for sluice</title>\n<style>");
    sb_str(&b, html_style);
    sb_str(&b, "</style>\n</head>\n<body>\n<h1>sluice statistics");
    if (!o->hide_version) {
        sb_str(&b, " &mdash; version ");
        sb_html(&b, s->version);
    }
    sb_str(&b, "</h1>\n<div class=\"info\"><div>");
    char up[32];
    fmt_dur(up, sizeof(up), (int64_t)s->uptime_s);
    sb_printf(&b,
              "<p><b>pid</b> %d &middot; <b>uptime</b> %s &middot; <b>workers</b> %u</p>"
              "<p><b>current sessions</b> %lld</p>",
              s->pid, up, s->nworkers, (long long)s->cur_conns);
    if (o->uri && o->uri[0]) {
        sb_str(&b, "<p><a href=\"");
        sb_html(&b, o->uri);
        sb_str(&b, ";csv\">CSV export</a> &middot; <a href=\"");
        sb_html(&b, o->uri);
        sb_str(&b, ";json\">JSON export</a>");
        if (o->refresh_s) {
            sb_str(&b, " &middot; <a href=\"");
            sb_html(&b, o->uri);
            sb_str(&b, ";norefresh\">Disable refresh</a>");
        }
        sb_str(&b, "</p>");
    }
    sb_str(&b, "</div><div class=\"legend\">"
               "<span class=\"up\">active UP</span><span class=\"bup\">backup UP</span>"
               "<span class=\"down\">DOWN</span><span class=\"maint\">MAINT</span>"
               "<span class=\"nochk\">not checked</span></div></div>\n");
    for (size_t i = 0; i < s->npx; i++)
        html_table(&b, &s->px[i]);
    sb_str(&b, "<p><small>Latency percentiles are interpolated in log-scaled histogram buckets "
               "(0.5&nbsp;ms&nbsp;&times;&nbsp;2<sup>k</sup>).</small></p>\n</body>\n</html>\n");
    return sb_finish(&b, len);
}

/* ---- mode http hooks ------------------------------------------------------------------------ */

static size_t be_idx(const struct hs *h)
{
    return (size_t)(h->be - h->w->rt->bal->backends);
}

void http__stats_fe_add(struct hs *h, enum stats_ctr c)
{
    if (h->w->st)
        stats_add(stats_fe(h->w->st, h->fe->idx), c, 1);
}

void http__stats_be_add(struct hs *h, const struct server *sv, enum stats_ctr c)
{
    struct stats_worker *sw = h->w->st;
    if (!sw || !h->be)
        return;
    stats_add(stats_be(sw, be_idx(h)), c, 1);
    if (sv)
        stats_add(stats_srv(sw, be_idx(h), sv->idx), c, 1);
}

void http__stats_request_end(struct hs *h)
{
    struct stats_worker *sw = h->w->st;
    if (!sw || !h->st_req)
        return; /* no request started (an idle keep-alive connection ending), or counted */
    h->st_req = false;
    uint64_t start = h->t_req ? h->t_req : h->t_req_head; /* pipelined: no t_req */
    bool parsed = h->t_req_head != 0;
    uint64_t in = parsed ? (uint64_t)h->req_head_len + h->req_inbuf + h->c2s.bytes : h->rlen;
    uint64_t out = h->bytes_out;
    enum stats_ctr cls = stats_status_ctr(h->status);
    struct stats_counters *fe = stats_fe(sw, h->fe->idx);
    stats_add(fe, STC_BYTES_IN, in);
    stats_add(fe, STC_BYTES_OUT, out);
    if (!parsed)
        stats_add(fe, STC_EREQ, 1);
    if (parsed || h->status > 0) {
        stats_add(fe, STC_REQ, 1);
        stats_add(fe, cls, 1);
    }
    if (!h->st_be || !h->be)
        return;
    h->st_be = false;
    size_t bi = be_idx(h);
    uint64_t now = h->w->now;
    bool answered = !h->local_reply && h->t_resp && h->t_conn_end; /* by the server */
    bool eresp = (h->term[0] == 'S' || h->term[0] == 'P' || h->term[0] == 's') && h->term[1] == 'H';
    enum stats_ctr abrt = h->term[1] != 'D'   ? STC__N
                          : h->term[0] == 'C' ? STC_CLI_ABRT
                          : h->term[0] == 'S' ? STC_SRV_ABRT
                                              : STC__N;
    struct stats_counters *cs[2] = {stats_be(sw, bi), h->sv ? stats_srv(sw, bi, h->sv->idx) : NULL};
    struct stats_lat_set *ls[2] = {stats_be_lat(sw, bi),
                                   h->sv ? stats_srv_lat(sw, bi, h->sv->idx) : NULL};
    for (unsigned i = 0; i < 2; i++) {
        if (!cs[i])
            continue;
        stats_add(cs[i], STC_SESS, 1);
        stats_add(cs[i], STC_REQ, 1);
        stats_add(cs[i], STC_BYTES_IN, in);
        stats_add(cs[i], STC_BYTES_OUT, out);
        if (i == 0 || answered)
            stats_add(cs[i], cls, 1);
        if (eresp)
            stats_add(cs[i], STC_ERESP, 1);
        if (abrt != STC__N)
            stats_add(cs[i], abrt, 1);
        if (h->t_conn_end && h->t_conn && h->t_conn_end >= h->t_conn)
            stats_hist_add(&ls[i]->h[STL_CONNECT], (h->t_conn_end - h->t_conn) * 1000);
        if (answered && h->t_resp >= h->t_conn_end)
            stats_hist_add(&ls[i]->h[STL_RESPONSE], (h->t_resp - h->t_conn_end) * 1000);
        stats_hist_add(&ls[i]->h[STL_TOTAL], (now > start ? now - start : 0) * 1000);
    }
}

enum stats_kind { SK_HTML = 0, SK_CSV, SK_JSON, SK_PROM };

static void serve(struct hs *h, const struct http_msg *m, enum stats_kind kind,
                  const struct stats_page_opts *o)
{
    struct runtime *rt = h->w->rt;
    struct stats_snap *s = rt->stats ? stats_snapshot(rt) : NULL;
    char *body = NULL;
    size_t bl = 0;
    static const char *const ctype[] = {"text/html; charset=utf-8", "text/plain; charset=utf-8",
                                        "application/json",
                                        "text/plain; version=0.0.4; charset=utf-8"};
    if (s) {
        switch (kind) {
        case SK_HTML:
            body = stats_page_html(s, o, &bl);
            break;
        case SK_CSV:
            body = stats_page_csv(s, &bl);
            break;
        case SK_JSON:
            body = stats_page_json(s, &bl);
            break;
        case SK_PROM:
            body = stats_page_prometheus(s, &bl);
            break;
        }
    }
    stats_snap_free(s);
    http__set_term(h, 'L', 'R');
    if (!body) {
        http__reply_error(h, 500);
        return;
    }
    char head[256];
    int hl = snprintf(head, sizeof(head),
                      "HTTP/1.1 200 OK\r\ncontent-type: %s\r\ncontent-length: %zu\r\n"
                      "cache-control: no-cache\r\nconnection: close\r\n\r\n",
                      ctype[kind], bl);
    bool head_only = m->method == HTTP_M_HEAD;
    size_t total = (size_t)hl + (head_only ? 0 : bl);
    char *msg = malloc(total);
    if (!msg) {
        free(body);
        http__reply_error(h, 500);
        return;
    }
    memcpy(msg, head, (size_t)hl);
    if (!head_only)
        memcpy(msg + hl, body, bl);
    free(body);
    http__stats_fe_add(h, STC_INTERCEPTED);
    http__drop_server_conn(h);
    http__release_slot(h);
    h->state = HS_EXCHANGE;
    /* relay_send keeps what the socket does not take at once in a buffer of its own */
    http__send_local(h, 200, msg, total);
    free(msg);
}

/* `stats auth`: the request's Basic credentials against the section's users (plain passwords:
 * the answer comes at once); else a 401 challenge with the section's realm. */
static bool stats_authorized(struct hs *h, const struct http_msg *m, const struct cfg_stats *cs)
{
    int i = http_hdr_find(h->rbuf, m, "authorization", 13, 0);
    const char *user = NULL;
    http__cli_addr(h);
    enum auth_result r =
        auth_check(h->w, cs->auth_list, i >= 0 ? h->rbuf + m->hdr[i].value_off : NULL,
                   i >= 0 ? m->hdr[i].value_len : 0, &h->cli_addr.sa, NULL, NULL, &user);
    if (r == AUTH_OK)
        return true;
    const char *realm = cs->realm[0] ? cs->realm : "Statistics";
    size_t bl;
    /* the body of the proxy's own 401 page when it has one (errorfile 401), as auth rules do */
    const char *page = http_error_page2(h->be ? h->be->cfg : NULL, h->fe->cfg, 401, &bl);
    const char *body = strstr(page, "\r\n\r\n");
    body = body ? body + 4 : "";
    bl = strlen(body);
    char *out = h->w->scratch;
    int n = snprintf(out, h->w->bufsize,
                     "HTTP/1.1 401 Unauthorized\r\ncontent-length: %zu\r\n"
                     "www-authenticate: Basic realm=\"%s\"\r\ncontent-type: text/html\r\n"
                     "cache-control: no-cache\r\nconnection: close\r\n\r\n%s",
                     bl, realm, body);
    http__set_term(h, 'L', 'R');
    if (n < 0 || (size_t)n >= h->w->bufsize) { /* a tune.bufsize too small for the page */
        http__reply_error(h, 401);
        return false;
    }
    http__drop_server_conn(h);
    http__release_slot(h);
    h->state = HS_EXCHANGE;
    http__send_local(h, 401, out, (size_t)n);
    return false;
}

bool http__stats_intercept(struct hs *h, const struct http_msg *m, const struct cfg_proxy *px)
{
    const struct cfg_stats *cs = &px->http.stats;
    if (!cs->enabled)
        return false;
    const char *uri = cs->uri[0] ? cs->uri : CFG_STATS_URI_DEFAULT;
    size_t ul = strlen(uri);
    const char *t = h->rbuf + m->path.off;
    size_t tl = m->path.len;
    if (tl < ul || memcmp(t, uri, ul) != 0) /* HAProxy: the request URI begins with it */
        return false;
    enum stats_kind kind = SK_HTML;
    bool norefresh = false;
    for (size_t i = ul; i < tl; i++) {
        if (t[i] != ';')
            continue;
        const char *a = t + i + 1;
        size_t al = tl - i - 1;
        if (al >= 3 && memcmp(a, "csv", 3) == 0)
            kind = SK_CSV;
        else if (al >= 4 && memcmp(a, "json", 4) == 0)
            kind = SK_JSON;
        else if (al >= 9 && memcmp(a, "norefresh", 9) == 0)
            norefresh = true;
    }
    if (cs->auth_list && !stats_authorized(h, m, cs))
        return true;
    struct stats_page_opts o = {.uri = uri,
                                .refresh_s = norefresh ? 0 : (cs->refresh_ms + 999) / 1000,
                                .hide_version = cs->hide_version};
    serve(h, m, kind, &o);
    return true;
}

void http__stats_service(struct hs *h, const struct http_msg *m, const struct cfg_http_rule *r)
{
    (void)r; /* the configuration accepts only prometheus-exporter */
    struct stats_page_opts o = {.uri = ""};
    serve(h, m, SK_PROM, &o);
}
