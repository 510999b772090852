/* Evaluates ACL conditions (use_backend, http-request, http-response) against one request.
 *
 * The evaluator knows nothing of the HTTP parser: the caller describes the request in an
 * acl_ctx (slices of its buffer plus a header iterator). Evaluation reads the immutable config
 * only, takes no lock and allocates nothing: regexes run on the worker's own pcre2 match data
 * (acl_worker_match_data_new(), once per worker). Any worker thread may call it. */
#ifndef SLUICE_NET_HTTP_ACL_H
#define SLUICE_NET_HTTP_ACL_H

#include "config/model.h"

struct stk_trackers;

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Iterate the field values of request header `lname` (lower-case, lname_len bytes): each call
 * stores the next field line's value (without surrounding blanks) in *v and *vlen and returns true,
 * or returns false when there are no more. *iter starts at 0 and belongs to the iterator.
 * The evaluator itself splits each value at commas for hdr() (as HAProxy does), so the
 * iterator returns whole field lines. */
typedef bool (*acl_hdr_next_fn)(void *msg, const char *lname, size_t lname_len, size_t *iter,
                                const char **v, size_t *vlen);

/* A session's variables (http-request set-var): values by the config's variable index
 * (cfg->vars[]), allocated when a rule first sets one; the session frees them (vars.h). */
struct http_var {
    char *p; /* owned: len bytes and a NUL; NULL while unset */
    uint32_t len;
    uint8_t scope; /* enum cfg_var_scope */
};
struct http_vars {
    struct http_var *v; /* owned: n entries, NULL until a rule sets a variable */
    uint32_t n;
};

/* The value of variable idx: false when it is unset (the sample fails). */
static inline bool http_var_get(const struct http_vars *vs, int idx, const char **v, size_t *vl)
{
    if (!vs || !vs->v || idx < 0 || (uint32_t)idx >= vs->n || !vs->v[idx].p)
        return false;
    *v = vs->v[idx].p;
    *vl = vs->v[idx].len;
    return true;
}

struct acl_ctx {
    const char *method; /* borrowed, method_len bytes */
    size_t method_len;
    const char *target; /* borrowed: the raw request target (url, url_beg, ...) */
    size_t target_len;
    const char *path; /* borrowed: the target without the query; for an absolute-form target
                         ("http://h/p?q") the path part "/p"; "*" for OPTIONS * */
    size_t path_len;
    const char *query; /* borrowed: after '?', without it; NULL when the target has no '?' */
    size_t query_len;
    int ver_minor; /* HTTP/1.<ver_minor>: 0 or 1 */
    acl_hdr_next_fn hdr_next;
    void *msg;                  /* borrowed: passed to hdr_next */
    const struct sockaddr *src; /* borrowed: client address (after accept-proxy); may be NULL */
    uint16_t dst_port;          /* port the client connected to (host order) */
    void *match_data;           /* borrowed: this worker's acl_worker_match_data_new() */
    /* forward proxy: where the request goes (absolute-form authority or CONNECT target) */
    const char *dst_host; /* borrowed, without port or IPv6 brackets; NULL when none */
    size_t dst_host_len;
    uint16_t dst_url_port;         /* port of the destination (80 / 443 by default) */
    const struct sockaddr *dst_ip; /* the destination as an address when it is a literal */
    const char *req_host;          /* req.host: dst_host, else the Host field (no port) */
    size_t req_host_len;
    const struct cfg_userlist *auth_ok; /* the userlist the credentials were verified against,
                                           NULL when unauthenticated */
    /* the response, in http-response rules (status 0 and no iterator elsewhere) */
    int status;
    acl_hdr_next_fn res_hdr_next;
    void *res_msg;
    /* stick tables: the session's tracked entries (sc0..sc2), the clock */
    struct stk_trackers *trk; /* borrowed, NULL when the caller tracks nothing */
    uint32_t now_ms;
    struct http_vars *vars; /* borrowed: the session's variables (set-var rules write them),
                               NULL when the caller has none */
};

/* Evaluate condition `c` of a rule of the proxy whose http part is `h`. An absent condition
 * (c->present false, or c NULL) is true. Returns the condition's verdict (`unless` applied). */
bool acl_cond_eval(const struct cfg_http *h, const struct cfg_cond *c, const struct acl_ctx *ctx);

/* Whether one ACL entry matches (any sample against any value); `a` is one entry of h->acls. */
bool acl_entry_match(const struct cfg_acl *a, const struct acl_ctx *ctx);

/* Find the next value of query parameter `name` in a query string (HAProxy's url_param:
 * parameters are separated by '&' or ';', a parameter counts only when written "name=", names
 * are case-sensitive, nothing is decoded). *pos starts at 0. On a match stores the value in
 * *v and *vlen and returns true. For `balance url_param` too. */
bool acl_url_param_next(const char *query, size_t query_len, const char *name, size_t name_len,
                        size_t *pos, const char **v, size_t *vlen);

/* The values of cookie `name` (case-sensitive) in the request's Cookie fields, in order: each
 * call stores the next one in *v and *vlen and returns true, or returns false at the end. `it`
 * starts zeroed and belongs to the iteration. For cook() ACLs and %[req.cook()]. */
struct acl_cookie_iter {
    size_t hdr_iter;
    const char *line; /* the current Cookie field value; NULL before it and between lines */
    size_t len, pos;
};
bool acl_cookie_next(acl_hdr_next_fn next, void *msg, const char *name, size_t name_len,
                     struct acl_cookie_iter *it, const char **v, size_t *vlen);

/* Does address sa fall in network net? IPv4 and IPv4-mapped IPv6 addresses compare equal. */
bool acl_net_match(const struct cfg_net *net, const struct sockaddr *sa);

/* Whether string sample s[0..n) matches value v by string method m (str, beg, end, sub, dir,
 * dom or reg; false for the others); with icase v is lower-case and s compares without case.
 * `scratch`: the worker's regex scratch, or NULL. For ACL entries and map files. */
bool acl_value_match(enum acl_match m, bool icase, const struct cfg_acl_value *v, const char *s,
                     size_t n, void *scratch);

/* Parse s[0..n) as an IPv4 or IPv6 address (no port) into *ss; false when it is none. */
bool acl_str_to_addr(const char *s, size_t n, struct sockaddr_storage *ss);

/* Per-worker regex scratch: a pcre2_match_data that fits every regex of the config (\0 to \9)
 * and a match context with a match limit and a JIT stack, so that one crafted field cannot hold
 * the worker. Returns NULL on allocation failure. Create once per worker at start, free at exit
 * (accepts NULL). Without one (ctx->match_data NULL) a match allocates its own match data and
 * runs with PCRE2's default limits, which is slow. */
void *acl_worker_match_data_new(void);
void acl_worker_match_data_free(void *scratch);

/* Match regex `re` (a pcre2_code) against s[0..n) with a worker's scratch (or NULL). Returns
 * pcre2_match()'s result: >= 0 on a match, PCRE2_ERROR_NOMATCH, or another negative error (a
 * limit reached). With md_out, the match data holding the groups is stored there and must be
 * given back with acl_regex_done(). */
int acl_regex_match(const void *re, const char *s, size_t n, void *scratch, void **md_out);
void acl_regex_done(void *scratch, void *md);

#endif
