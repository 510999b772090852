/* Shared between the files of config/: parser state, keyword table, tokenizer, helpers. */
#ifndef SLUICE_CONFIG_INTERNAL_H
#define SLUICE_CONFIG_INTERNAL_H

#include "config/model.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

/* inih (Debian libinih 55, default build): a line fits in 200 bytes with its '\n' and NUL... we
 * hand it lines without '\n', so 199 characters; section and key names hold at most 49. */
#define CFG_LINE_MAX     199
#define CFG_INI_NAME_MAX 49
#define CFG_MAX_WORDS    64

/* Section kinds, as bits so a keyword can list where it is allowed. */
enum cfg_sec {
    CFG_SEC_NONE = 0,
    CFG_SEC_GLOBAL = 1u << 0,
    CFG_SEC_DEFAULTS = 1u << 1,
    CFG_SEC_FRONTEND = 1u << 2,
    CFG_SEC_BACKEND = 1u << 3,
    CFG_SEC_LISTEN = 1u << 4,
    CFG_SEC_RESOLVERS = 1u << 5,   /* [resolvers NAME] */
    CFG_SEC_USERLIST = 1u << 6,    /* [userlist NAME] */
    CFG_SEC_HTTP_ERRORS = 1u << 7, /* [http-errors NAME] */
};
#define CFG_SEC_PROXIES (CFG_SEC_DEFAULTS | CFG_SEC_FRONTEND | CFG_SEC_BACKEND | CFG_SEC_LISTEN)

/* A [defaults], [frontend], [backend] or [listen] section while it is being parsed. */
struct cfg_pproxy {
    struct cfg_proxy px;      /* binds/servers owned until moved into the config */
    struct cfg_server defsrv; /* `default-server` template for the servers that follow */
    enum cfg_sec sec;
    char label[CFG_NAME_MAX + 16]; /* "[backend app]", for messages */
    int expect_line;               /* line of `http-check expect`, 0: none */
    int balance_line;              /* line of `balance` (here or in [defaults]), 0: none */
    int cookie_line;               /* line of `cookie`, 0: none */
    int http_proxy_line;           /* line of `option http_proxy`, 0: none */
    char resolvers[CFG_NAME_MAX];  /* `resolvers NAME` (inherited from [defaults]), "" none */
    int resolvers_line;
    bool stats_auth_own; /* the section gave `stats auth` lines of its own (they replace those
                            inherited from [defaults]) */
};

/* Parser state: the line reader's source and position plus the model being built. */
struct cfg_parser {
    const char *file; /* borrowed: name used in messages */
    /* line source: a FILE or a string */
    FILE *fp;         /* borrowed */
    const char *text; /* borrowed */
    char *buf;        /* owned: current physical line */
    size_t cap;
    int line; /* current physical line number, read by the handler */
    /* errors */
    bool failed;
    char *err; /* borrowed: caller's buffer */
    size_t errlen;
    /* model */
    struct config *cfg;          /* owned until returned */
    enum cfg_sec sec;            /* section kind of the current section */
    struct cfg_pproxy *cur;      /* borrowed: current proxy or defaults, NULL in [global] */
    struct cfg_pproxy **proxies; /* owned, in file order */
    size_t nproxies;
    struct cfg_pproxy **defaults; /* owned, every [defaults] section in file order */
    size_t ndefaults;
    struct cfg_pproxy *last_defaults; /* borrowed: what the next proxy inherits from */
    /* [resolvers] / [userlist] / [http-errors]: index of the current one in cfg->resolvers /
     * cfg->userlists / cfg->http_errors */
    size_t cur_fwd;
    char fwd_label[CFG_NAME_MAX + 16]; /* "[userlist users]", for messages */
};

/* A keyword: `name` is one word ("bind") or a family and its sub-keyword ("timeout connect").
 * `parse` gets the arguments after the keyword's words; returns 0, or -1 after config__error(). */
struct cfg_keyword {
    const char *name;
    unsigned sections; /* CFG_SEC_* bits */
    bool negatable;    /* accepts a leading `no` */
    int (*parse)(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                 bool neg);
    const char *syntax;  /* arguments, e.g. "<time>" */
    const char *def;     /* default, as documented */
    const char *help;    /* one sentence */
    const char *example; /* one INI line */
};

extern const struct cfg_keyword config__keywords[];
extern const size_t config__nkeywords;

/* Format "FILE:LINE: message" into the caller's buffer (first error wins); returns -1. */
int config__error(struct cfg_parser *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int config__error_at(struct cfg_parser *st, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Split a HAProxy statement into words: blanks separate, "..." and '...' quote, backslash escapes
 * (\ \\ \# \" \' \r \n \t \xHH), an unquoted '#' starts a comment. `out` must hold strlen(line)+1
 * bytes (words are stored there, NUL-separated); `argv` CFG_MAX_WORDS+1 entries. Returns the word
 * count, or -1 with a reason in `why`. */
int config__tokenize(const char *line, char *out, char **argv, const char **why);

/* Apply a statement (already tokenized) to the current section. Returns 0 or -1. */
int config__statement(struct cfg_parser *st, int argc, char **argv);

/* Open a section from the text between '[' and ']'. Returns 0 or -1. */
int config__open_section(struct cfg_parser *st, const char *header);

/* Initialise a proxy (or defaults) with the built-in defaults. */
void config__proxy_builtin(struct cfg_pproxy *pp);

/* Check the whole model, resolve references and derived defaults. Returns 0 or -1. */
int config__validate(struct cfg_parser *st);

/* Parse an integer in [min, max] with strtoll and full end check. 0, -EINVAL or -ERANGE. */
int config__parse_int(const char *text, long long min, long long max, long long *out);

/* Levenshtein distance, capped for long strings; for "did you mean" suggestions. */
int config__distance(const char *a, const char *b);

/* A character of an RFC 9110 token (header names, cookie names): letters, digits and
 * !#$%&'*+-.^_`|~. */
bool config__is_tchar(unsigned char c);

/* Copy with truncation check: false when src does not fit (dst is still NUL-terminated). */
bool config__copy(char *dst, size_t size, const char *src);

/* ---- shared argument helpers (keywords.c) ---- */

/* Check argc is within [min, max]; else an error that quotes the keyword's syntax. 0 or -1. */
int config__nargs(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, int min, int max);
/* Parse an integer in [min, max] into *out; `what` names it in messages. 0 or -1. */
int config__get_int(struct cfg_parser *st, const char *what, const char *text, long long min,
                    long long max, int *out);
/* Parse a HAProxy time into *out (nonzero: 0 is refused). 0 or -1. */
int config__get_time(struct cfg_parser *st, const char *what, const char *text, bool nonzero,
                     uint32_t *out);

/* ---- mode http (acl.c, kw_http.c) ---- */

/* Parse "ADDR[/PREFIX]" or "ADDR/MASK" (IPv4 or IPv6) into a network with host bits cleared.
 * 0 or -EINVAL. */
int config__parse_net(const char *text, struct cfg_net *net);

/* Parse `CRITERION [flags] [VALUE...]` (argv[0] is the criterion) into a new entry of h->acls
 * named `name` ("" for an anonymous ACL); its index in *idx. 0 or -1 after an error. */
int config__acl_parse(struct cfg_parser *st, struct cfg_http *h, const char *name, int argc,
                      char **argv, size_t *idx);

/* Parse `if|unless TERM...` (argv[0] is if or unless) into *c. 0 or -1. */
int config__cond_parse(struct cfg_parser *st, struct cfg_http *h, int argc, char **argv,
                       struct cfg_cond *c);

/* Whether `name` is a predefined ACL name (TRUE, METH_GET, ...), supported or not. */
bool config__acl_is_predefined(const char *name);

/* Whether an ACL entry needs HTTP (anything but src, dst_port, always_true/false). */
bool config__acl_is_l7(const struct cfg_acl *a);
/* Whether an ACL tests the response (status, res.hdr): it has a meaning in http-response rules
 * only. */
bool config__acl_is_response(const struct cfg_acl *a);
/* Compile a regex (PCRE2, JIT when available); after an error naming `where` (" in ...") and
 * the PCRE2 message and offset, NULL. For ACL -m reg and the regex rewrites. */
void *config__regex_compile(struct cfg_parser *st, const char *text, size_t len, bool caseless,
                            const char *where);

/* Read a pattern file (ACL -f, map files): fn gets each line that is neither blank nor a '#'
 * comment, without its leading and trailing blanks, and its number; `what` ("ACL", "map") names
 * the file in messages. 0, or -1 after an error (a missing file, a NUL byte, fn's). */
int config__read_lines(struct cfg_parser *st, const char *path, const char *what,
                       int (*fn)(struct cfg_parser *st, void *arg, char *line, int lineno),
                       void *arg);
/* Append `text` to a's values, prepared for a's match method; `where` (" in FILE line N", or "")
 * ends messages. 0 or -1. */
int config__acl_add_value(struct cfg_parser *st, struct cfg_acl *a, const char *text,
                          const char *where);
/* Free what one ACL value owns; accepts NULL. */
void config__acl_value_free(struct cfg_acl_value *v);

/* ---- map files (map.c) ---- */

/* The map `path` loaded for `kind`: the config's copy when a converter already named it, else
 * read now. 0 with *out set (borrowed from st->cfg), or -1 after an error naming the file and
 * line. */
int config__map_get(struct cfg_parser *st, const char *path, enum cfg_map_kind kind,
                    const struct cfg_map **out);
/* Free every map of cfg. */
void config__maps_free(struct config *cfg);

/* After parsing: a term naming an ACL refers to every entry with that name, including lines
 * after the rule (HAProxy extends an ACL in place). Returns 0 or -1 (out of memory). */
int config__cond_relink(struct cfg_http *h, struct cfg_cond *c);

/* Free what a condition, an ACL entry, or a whole cfg_http owns; the structs themselves stay. */
void config__cond_free(struct cfg_cond *c);
/* Free what one http-request/http-response rule owns (not the rule itself); accepts NULL. */
void config__http_rule_free(struct cfg_http_rule *r);

/* ---- log-format header values (fmt.c) ---- */

/* Whether text holds a log-format expression (a '%' that does not start "%%"). */
bool config__fmt_has_samples(const char *text);
/* Parse text (`%[src]`, `%ci`, `%%`, ...) for a header rule of an http-request (response false)
 * or http-response rule; `what` names the value in messages. 0 with *out set, or -1. */
int config__fmt_parse(struct cfg_parser *st, const char *what, const char *text, bool response,
                      struct cfg_fmt **out);
void config__fmt_free(struct cfg_fmt *f);
/* The index of variable `name` (name_len bytes, "txn.x", "sess.x" or "req.x"; HAProxy's names:
 * letters, digits, '_' and '.') in the config's vars[], added on first use; `where` says what
 * names it in messages. 0 with *idx set, or -1 after config__error(). */
int config__var_index(struct cfg_parser *st, const char *name, size_t name_len, const char *where,
                      int *idx);
/* A deep copy (NULL for NULL or when out of memory). */
struct cfg_fmt *config__fmt_copy(const struct cfg_fmt *f);
/* Whether f has a sample s. */
bool config__fmt_uses(const struct cfg_fmt *f, enum fmt_sample s);
void config__acl_free(struct cfg_acl *a);
void config__http_free(struct cfg_http *h);

/* After a shallow copy of an inherited cfg_http: make private copies of what [defaults] owned
 * (error files). 0 or -ENOMEM (then *h owns nothing). */
int config__http_inherit(struct cfg_http *h);

/* Set the built-in values of a cfg_http. */
void config__http_builtin(struct cfg_http *h);

/* ---- error pages (kw_http.c, errorfiles.c) ---- */

#define CONFIG__STATUS_EXPECT                                                                      \
    "200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 431, 500, 501, 502, 503 or 504"
/* Whether HAProxy has an error page for this status (errorfile, errorfiles, deny_status). */
bool config__is_error_code(int code);
/* Read a whole file of at most 64 KiB into *data (owned by the caller, NUL-terminated) and *len;
 * `what` names it in messages. 0 or -1. */
int config__read_small_file(struct cfg_parser *st, const char *what, const char *path, char **data,
                            size_t *len);

/* Read an error page: a whole HTTP response (or an empty file) of at most 64 KiB, for `code`
 * (named in messages). *data is the caller's. 0 or -1. */
int config__read_error_page(struct cfg_parser *st, const char *path, int code, char **data,
                            size_t *len);
/* `http-request return` options `errorfile FILE`, `errorfiles NAME` and `default-errorfiles`
 * (argv[0]): set r->page and what it needs. Returns the number of arguments used after the
 * option, or -1 after an error. */
int config__return_page_opt(struct cfg_parser *st, const char *rule, int argc, char **argv,
                            struct cfg_http_rule *r);
/* Once the rule's other options are read: check that they fit its page. 0 or -1. */
int config__return_page_check(struct cfg_parser *st, const char *rule,
                              const struct cfg_http_rule *r);

/* Open a [http-errors NAME] section. Returns 0 or -1. */
int config__open_http_errors(struct cfg_parser *st, const char *name);
/* Check every `errorfiles` statement (a known section; codes it defines) and import the pages
 * into each proxy's errorfiles, the later statement winning for a status; give each
 * `http-request return ... errorfiles NAME` its page. Called by config__validate; 0 or -1. */
int config__validate_errorfiles(struct cfg_parser *st);
/* Free the [http-errors] sections of a config. */
void config__http_errors_free(struct config *cfg);

/* Keyword parsers of kw_http.c (see the table in keywords.c). */
#define CONFIG__KW(name)                                                                           \
    int config__kw_##name(struct cfg_parser *st, const struct cfg_keyword *kw, int argc,           \
                          char **argv, bool neg)
CONFIG__KW(acl);
CONFIG__KW(use_backend);
CONFIG__KW(http_request);
CONFIG__KW(http_response);
CONFIG__KW(forwardfor);
CONFIG__KW(http_flag);
CONFIG__KW(http_reuse);
CONFIG__KW(http_timeout);
CONFIG__KW(errorfile);
CONFIG__KW(errorfiles);
CONFIG__KW(cookie);
CONFIG__KW(retry_on);
CONFIG__KW(stats);
CONFIG__KW(monitor_uri);
CONFIG__KW(unique_id);
CONFIG__KW(capture);

/* Forward-proxy keywords (kw_fwd.c): [resolvers] and [userlist] sections, proxy options. */
CONFIG__KW(nameserver);
CONFIG__KW(parse_resolv_conf);
CONFIG__KW(resolvers_timeout);
CONFIG__KW(resolve_retries);
CONFIG__KW(hold);
CONFIG__KW(accepted_payload_size);
CONFIG__KW(user);
CONFIG__KW(group);
CONFIG__KW(htpasswd);
CONFIG__KW(http_proxy);
CONFIG__KW(anonymize);
CONFIG__KW(log_format);
CONFIG__KW(resolvers);
CONFIG__KW(stick_table);
/* Turn each section's `stats auth` lines into a userlist of the config. 0 or -1. */
int config__stats_auth_build(struct cfg_parser *st);
CONFIG__KW(tcp_request);

/* ---- stick tables (kw_stick.c) ---- */

/* The arguments of `http-request track-sc<sc>` after the action word: KEY [table NAME]; fills
 * r (fmt: the key, name: the table's section) and stores in *used how many words it took (a
 * condition may follow). 0 or -1. */
int config__track_rule(struct cfg_parser *st, const char *rule, unsigned sc, int argc, char **argv,
                       struct cfg_http_rule *r, int *used);
/* An ACL criterion of the stick tables (sc_http_req_rate(0), sc0_conn_cur, src_conn_rate,
 * src_http_err_cnt(TABLE), ...): 0 with a filled in, 1 when crit is not one, -1 after an error.
 * `base` is crit without its argument. */
int config__stk_criterion(struct cfg_parser *st, const char *crit, const char *base,
                          struct cfg_acl *a);
/* Number the tables, resolve the ones track-sc rules and src_* fetches name, and check that
 * each table stores what is read from it. Called at the end of config__validate; 0 or -1. */
int config__validate_stick(struct cfg_parser *st);

/* Open a [resolvers NAME] or [userlist NAME] section (`type` is "resolvers" or "userlist").
 * Returns 0 or -1. */
int config__open_fwd_section(struct cfg_parser *st, enum cfg_sec sec, const char *type,
                             const char *name);

/* Check the forward-proxy parts of the model: [resolvers] sections that name no server, the
 * resolvers and userlist each proxy uses, `option http_proxy` needing mode http, and the safe
 * defaults bookkeeping (has_client_acl, has_connect_rule). Called by config__validate after a
 * proxy's conditions are relinked; 0 or -1. */
int config__validate_fwd_sections(struct cfg_parser *st);
int config__validate_fwd_proxy(struct cfg_parser *st, struct cfg_proxy *p,
                               const struct cfg_pproxy *pp);

/* Free the [resolvers] and [userlist] sections of a config (passwords are wiped). */
void config__fwd_free(struct config *cfg);

/* Free a proxy under construction and what it owns; accepts NULL. */
void config__pproxy_free(struct cfg_pproxy *pp);

/* The section kind's name for messages: "global", "backend", ... */
const char *config__sec_name(enum cfg_sec sec);

#endif
