/* Parsers of the mode http keywords: acl, use_backend, http-request/http-response rules, HTTP
 * options, http-reuse, HTTP timeouts, cookie, retry-on (errorfile: errorfiles.c). Listed in
 * config/keywords.c. */
#include "config/config_internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define ERRORFILE_MAX (64 * 1024)

static struct cfg_proxy *px(struct cfg_parser *st)
{
    return &st->cur->px;
}

static struct cfg_http *http(struct cfg_parser *st)
{
    return &st->cur->px.http;
}

bool config__is_error_code(int code)
{
    static const int codes[] = {200, 400, 401, 403, 404, 405, 407, 408, 410,
                                413, 425, 429, 431, 500, 501, 502, 503, 504};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (codes[i] == code)
            return true;
    return false;
}

static int check_header_name(struct cfg_parser *st, const char *name)
{
    if (!*name)
        return config__error(st, "empty header name (expected a token like X-Forwarded-Proto)");
    for (const char *c = name; *c; c++)
        if (!config__is_tchar((unsigned char)*c))
            return config__error(st,
                                 "invalid character '%c' in header name '%s' (expected letters, "
                                 "digits and !#$%%&'*+-.^_`|~)",
                                 *c, name);
    if (strlen(name) > 63)
        return config__error(st, "header name '%s' is too long (expected at most 63 characters)",
                             name);
    return 0;
}

/* A literal value: no CR, LF or NUL; "%%" is a '%'; other '%' sequences are HAProxy log-format
 * expressions, which sluice evaluates in header values only (config/fmt.c). Returns a new string
 * or NULL after an error. */
static char *literal_value(struct cfg_parser *st, const char *what, const char *text)
{
    size_t n = strlen(text);
    char *out = malloc(n + 1), *o = out;
    if (!out) {
        config__error(st, "out of memory");
        return NULL;
    }
    for (const char *c = text; *c; c++) {
        if (*c == '\r' || *c == '\n') {
            free(out);
            config__error(st, "%s '%s' contains a CR or LF (expected one line)", what, text);
            return NULL;
        }
        if (((unsigned char)*c < ' ' && *c != '\t') || *c == 0x7f) {
            free(out);
            config__error(st,
                          "%s '%s' contains a control character (expected printable text; a "
                          "field value may hold tabs)",
                          what, text);
            return NULL;
        }
        if (*c == '%') {
            if (c[1] == '%') {
                *o++ = '%';
                c++;
                continue;
            }
            free(out);
            config__error(st,
                          "log-format expressions in %s '%s' are not supported (only header "
                          "values and redirect locations take them; expected a literal value; "
                          "write %%%% for a '%%')",
                          what, text);
            return NULL;
        }
        *o++ = *c;
    }
    *o = '\0';
    return out;
}

static bool is_cond_word(const char *w)
{
    return strcmp(w, "if") == 0 || strcmp(w, "unless") == 0;
}

/* The rest of a rule: nothing, or `if|unless COND`. */
static int rule_cond(struct cfg_parser *st, const char *rule, int argc, char **argv,
                     struct cfg_cond *c)
{
    memset(c, 0, sizeof(*c));
    if (argc == 0)
        return 0;
    if (!is_cond_word(argv[0]))
        return config__error(st,
                             "unexpected '%s' in '%s' (expected 'if COND', 'unless COND' or "
                             "the end of the line)",
                             argv[0], rule);
    return config__cond_parse(st, http(st), argc, argv, c);
}

/* ---- acl, use_backend ---------------------------------------------------------------------- */

int config__kw_acl(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                   bool neg)
{
    (void)neg;
    if (config__nargs(st, kw, argc, 2, CFG_MAX_WORDS))
        return -1;
    const char *name = argv[0];
    if (!*name)
        return config__error(st, "empty ACL name (expected letters, digits, '-', '_', '.', ':')");
    for (const char *c = name; *c; c++)
        if (!(isalnum((unsigned char)*c) || *c == '-' || *c == '_' || *c == '.' || *c == ':'))
            return config__error(st,
                                 "invalid character '%c' in ACL name '%s' (expected letters, "
                                 "digits, '-', '_', '.', ':')",
                                 *c, name);
    if (strlen(name) >= sizeof(((struct cfg_acl *)0)->name))
        return config__error(st, "ACL name '%s' is too long (expected at most 63 characters)",
                             name);
    if (config__acl_is_predefined(name))
        return config__error(st,
                             "ACL name '%s' is reserved for a predefined ACL (expected another "
                             "name; use '%s' directly in conditions)",
                             name, name);
    size_t idx;
    return config__acl_parse(st, http(st), name, argc - 1, argv + 1, &idx);
}

int config__kw_use_backend(struct cfg_parser *st, const struct cfg_keyword *kw, int argc,
                           char **argv, bool neg)
{
    (void)neg;
    if (config__nargs(st, kw, argc, 1, CFG_MAX_WORDS))
        return -1;
    if (is_cond_word(argv[0]))
        return config__error(st,
                             "'use_backend' needs a backend name before '%s' (expected "
                             "'use_backend NAME if COND')",
                             argv[0]);
    struct cfg_use_backend ub = {.line = st->line};
    if (config__fmt_has_samples(argv[0])) {
        /* HAProxy's log-format name, computed per request: `%[req.hdr(host),lower,map(F)]` */
        if (config__fmt_parse(st, "backend name", argv[0], false, &ub.fmt))
            return -1;
        snprintf(ub.name, sizeof(ub.name), "%.*s%s", (int)sizeof(ub.name) - 4, argv[0],
                 strlen(argv[0]) >= sizeof(ub.name) ? "..." : "");
    } else if (!config__copy(ub.name, sizeof(ub.name), argv[0])) {
        return config__error(st, "backend name '%s' is too long (expected at most %zu characters)",
                             argv[0], sizeof(ub.name) - 1);
    }
    if (rule_cond(st, "use_backend", argc - 1, argv + 1, &ub.cond)) {
        config__fmt_free(ub.fmt);
        return -1;
    }
    struct cfg_http *h = http(st);
    struct cfg_use_backend *n = realloc(h->use_backends, (h->nuse_backends + 1) * sizeof(*n));
    if (!n) {
        config__cond_free(&ub.cond);
        config__fmt_free(ub.fmt);
        return config__error(st, "out of memory");
    }
    h->use_backends = n;
    h->use_backends[h->nuse_backends++] = ub;
    return 0;
}

/* ---- http-request / http-response ---------------------------------------------------------- */

/* Whether a rule edits header fields (or the status line) when the message is rebuilt: such
 * edits are collected per message, at most CFG_HTTP_EDITS_MAX of them. */
static bool is_header_edit(enum http_rule_action a)
{
    return a == HTTP_ACT_SET_HEADER || a == HTTP_ACT_ADD_HEADER || a == HTTP_ACT_DEL_HEADER ||
           a == HTTP_ACT_REPLACE_HEADER || a == HTTP_ACT_REPLACE_VALUE || a == HTTP_ACT_SET_STATUS;
}

/* Fields sluice writes itself from how it relays the message: a rule that changed Content-Length
 * or Transfer-Encoding would make the peer frame the body differently from what follows (request
 * smuggling, response splitting); the hop-by-hop ones follow the connection options. Deleting a
 * hop-by-hop field is allowed: sluice never forwards one anyway. */
static const char *const framing_fields[] = {"content-length", "transfer-encoding"};
static const char *const hop_fields[] = {"connection", "keep-alive",       "te",
                                         "trailer",    "proxy-connection", "upgrade"};

/* Whether `name` is a framing field, or with `hop` a hop-by-hop one. */
static bool managed_field(const char *name, bool hop)
{
    for (size_t i = 0; i < sizeof(framing_fields) / sizeof(framing_fields[0]); i++)
        if (strcasecmp(name, framing_fields[i]) == 0)
            return true;
    for (size_t i = 0; hop && i < sizeof(hop_fields) / sizeof(hop_fields[0]); i++)
        if (strcasecmp(name, hop_fields[i]) == 0)
            return true;
    return false;
}

static int check_managed_field(struct cfg_parser *st, const struct cfg_http_rule *r)
{
    if (!r->name)
        return 0;
    if (managed_field(r->name, false))
        return config__error(st,
                             "header rules cannot change %s: sluice writes it from the body "
                             "it relays, and a different value would make the peer read the "
                             "body differently (expected another field)",
                             r->name);
    if (r->action == HTTP_ACT_DEL_HEADER)
        return 0;
    if (managed_field(r->name, true))
        return config__error(st,
                             "header rules cannot set %s: it is a hop-by-hop field that "
                             "sluice writes for each connection (expected another field; "
                             "option httpclose, http-server-close and http-keep-alive "
                             "choose Connection)",
                             r->name);
    return 0;
}

static int push_rule(struct cfg_parser *st, bool response, struct cfg_http_rule *r)
{
    struct cfg_http *h = http(st);
    if (is_header_edit(r->action) && check_managed_field(st, r))
        return -1;
    struct cfg_http_rule **arr = response ? &h->resp_rules : &h->req_rules;
    size_t *n = response ? &h->nresp_rules : &h->nreq_rules;
    if (is_header_edit(r->action)) {
        size_t edits = 1;
        for (size_t i = 0; i < *n; i++)
            edits += is_header_edit((*arr)[i].action);
        if (edits > CFG_HTTP_EDITS_MAX)
            return config__error(st,
                                 "too many header rules in this section (expected at most %d "
                                 "set-header, add-header, del-header, replace-header, "
                                 "replace-value and set-status rules per %s list)",
                                 CFG_HTTP_EDITS_MAX, response ? "http-response" : "http-request");
    }
    struct cfg_http_rule *na = realloc(*arr, (*n + 1) * sizeof(*na));
    if (!na)
        return config__error(st, "out of memory");
    *arr = na;
    na[(*n)++] = *r;
    return 0;
}

int config__read_small_file(struct cfg_parser *st, const char *what, const char *path, char **data,
                            size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return config__error(st, "cannot read %s '%s' (%s) (expected a readable file)", what, path,
                             strerror(errno));
    char *buf = malloc(ERRORFILE_MAX + 1);
    if (!buf) {
        fclose(fp);
        return config__error(st, "out of memory");
    }
    size_t n = fread(buf, 1, ERRORFILE_MAX + 1, fp);
    bool bad = ferror(fp);
    fclose(fp);
    if (bad) {
        free(buf);
        return config__error(st, "cannot read %s '%s' (read error)", what, path);
    }
    if (n > ERRORFILE_MAX) {
        free(buf);
        return config__error(st, "%s '%s' is larger than 64 KiB (expected a smaller file)", what,
                             path);
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

static int header_rule(struct cfg_parser *st, const char *rule, enum http_rule_action act, int argc,
                       char **argv, struct cfg_http_rule *r)
{
    int need = act == HTTP_ACT_DEL_HEADER ? 1 : 2;
    if (argc < need || is_cond_word(argv[0]) || (need == 2 && is_cond_word(argv[1])))
        return config__error(st, "'%s' needs %s (expected '%s %s [if|unless COND]')", rule,
                             need == 1 ? "a header name" : "a header name and a value", rule,
                             need == 1 ? "NAME" : "NAME VALUE");
    if (check_header_name(st, argv[0]))
        return -1;
    if (need == 1 && argc > 1 && strcmp(argv[1], "-m") == 0)
        return config__error(st, "'%s -m' is not supported yet (expected '%s NAME')", rule, rule);
    r->name = strdup(argv[0]);
    if (!r->name)
        return config__error(st, "out of memory");
    if (need == 2 && config__fmt_has_samples(argv[1])) {
        bool response = strncmp(rule, "http-response", 13) == 0;
        if (config__fmt_parse(st, "header value", argv[1], response, &r->fmt))
            return -1;
    } else if (need == 2) {
        r->value = literal_value(st, "header value", argv[1]);
        if (!r->value)
            return -1;
        r->value_len = strlen(r->value);
    }
    return rule_cond(st, rule, argc - need, argv + need, &r->cond);
}

/* ---- regex rewrites: replace-header, replace-value, replace-path, set-path, set-query ------- */

/* A rewrite's MATCH-REGEX, compiled (case-sensitive, as HAProxy) with JIT when available; *groups
 * gets its number of capture groups. */
static int rewrite_regex(struct cfg_parser *st, const char *rule, const char *text, void **re,
                         int *groups)
{
    char where[96];
    snprintf(where, sizeof(where), " in '%s'", rule);
    pcre2_code *c = config__regex_compile(st, text, strlen(text), false, where);
    if (!c)
        return -1;
    uint32_t n = 0;
    pcre2_pattern_info(c, PCRE2_INFO_CAPTURECOUNT, &n);
    *re = c;
    *groups = (int)n;
    return 0;
}

/* A byte that a rewrite may write into a path (`path`) or a header value: a path takes visible
 * ASCII but '?' and '#' (the query is not part of it); a value anything but control characters
 * (HTAB aside), as the parser accepts from a client or server. */
static bool rewrite_byte_ok(unsigned char c, bool path)
{
    if (path)
        return c > ' ' && c < 0x7f && c != '?' && c != '#';
    return c == '\t' || (c >= ' ' && c != 0x7f);
}

static int hexdigit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The REPLACE argument of a regex rewrite: a literal value (see literal_value), in which, as in
 * HAProxy's exp_replace(), \0 to \9 stand for the whole match and its groups, \xHH for a byte
 * and \C for the character C. Checks at load time what HAProxy would find out per request:
 * that every back-reference names a group of the regex (which has `groups`), that no escape is
 * cut short, and that the literal bytes belong in a path or a header value. The checked text is
 * kept as it is: the worker expands it (http_rw_expand). Returns a new string or NULL after an
 * error. */
static char *replace_template(struct cfg_parser *st, const char *rule, const char *text, int groups,
                              bool path)
{
    char *v = literal_value(st, "replacement", text);
    if (!v)
        return NULL;
    const char *what = path ? "in a path: visible ASCII but '?' and '#'"
                            : "in a header value: no control characters";
    for (const char *c = v; *c; c++) {
        unsigned char b = (unsigned char)*c;
        if (*c == '\\') {
            c++;
            if (!*c) {
                config__error(st,
                              "replacement '%s' in '%s' ends with a lone backslash (expected "
                              "\\0 to \\9, \\xHH or \\C after it, \\\\ for a backslash)",
                              text, rule);
                goto bad;
            }
            if (isdigit((unsigned char)*c)) {
                if (*c - '0' > groups) {
                    config__error(st,
                                  "replacement '%s' in '%s' refers to group \\%c but the regex "
                                  "has %d group%s (expected \\0 to \\%d)",
                                  text, rule, *c, groups, groups == 1 ? "" : "s",
                                  groups < 9 ? groups : 9);
                    goto bad;
                }
                continue;
            }
            if (*c == 'x') {
                int hi = hexdigit(c[1]), lo = hi < 0 ? -1 : hexdigit(c[2]);
                if (hi < 0 || lo < 0) {
                    config__error(st,
                                  "invalid \\x escape in replacement '%s' in '%s' (expected "
                                  "\\xHH with two hex digits)",
                                  text, rule);
                    goto bad;
                }
                b = (unsigned char)(hi * 16 + lo);
                c += 2;
            } else {
                b = (unsigned char)*c;
            }
        }
        if (!rewrite_byte_ok(b, path)) {
            config__error(
                st,
                "replacement '%s' in '%s' would write byte 0x%02x (expected only bytes allowed "
                "%s)",
                text, rule, b, what);
            goto bad;
        }
    }
    return v;
bad:
    free(v);
    return NULL;
}

/* `replace-header NAME REGEX REPLACE`, `replace-value NAME REGEX REPLACE`,
 * `replace-path REGEX REPLACE`, then an optional condition. */
static int replace_rule(struct cfg_parser *st, const char *rule, int argc, char **argv,
                        struct cfg_http_rule *r)
{
    bool hdr = r->action != HTTP_ACT_REPLACE_PATH;
    int need = hdr ? 3 : 2;
    for (int i = 0; i < need; i++)
        if (i >= argc || is_cond_word(argv[i]))
            return config__error(st, "'%s' needs %s (expected '%s %s [if|unless COND]')", rule,
                                 hdr ? "a header name, a regex and a replacement"
                                     : "a regex and a replacement",
                                 rule, hdr ? "NAME MATCH-REGEX REPLACE" : "MATCH-REGEX REPLACE");
    if (hdr) {
        if (check_header_name(st, argv[0]))
            return -1;
        r->name = strdup(argv[0]);
        if (!r->name)
            return config__error(st, "out of memory");
    }
    int groups = 0;
    if (rewrite_regex(st, rule, argv[need - 2], &r->re, &groups))
        return -1;
    r->value = replace_template(st, rule, argv[need - 1], groups, !hdr);
    if (!r->value)
        return -1;
    r->value_len = strlen(r->value);
    return rule_cond(st, rule, argc - need, argv + need, &r->cond);
}

/* `set-path PATH` or `set-query QUERY`, then an optional condition. */
static int set_target_rule(struct cfg_parser *st, const char *rule, int argc, char **argv,
                           struct cfg_http_rule *r)
{
    bool path = r->action == HTTP_ACT_SET_PATH;
    if (argc < 1 || is_cond_word(argv[0]))
        return config__error(st, "'%s' needs a value (expected '%s %s [if|unless COND]')", rule,
                             rule, path ? "PATH" : "QUERY");
    r->value = literal_value(st, path ? "path" : "query", argv[0]);
    if (!r->value)
        return -1;
    r->value_len = strlen(r->value);
    if (path && r->value[0] != '/')
        return config__error(st,
                             "path '%s' in '%s' does not start with '/' (expected a path like "
                             "/app/index.html)",
                             argv[0], rule);
    for (const char *c = r->value; *c; c++) {
        unsigned char b = (unsigned char)*c;
        /* a query may hold '?' (RFC 3986 §3.4) */
        if (!rewrite_byte_ok(b, true) && !(!path && b == '?'))
            return config__error(st,
                                 "invalid character 0x%02x in %s '%s' of '%s' (expected visible "
                                 "ASCII without spaces%s)",
                                 b, path ? "path" : "query", argv[0], rule,
                                 path ? ", '?' or '#'; the query string is kept, set-query "
                                        "changes it"
                                      : " or '#'");
    }
    return rule_cond(st, rule, argc - 1, argv + 1, &r->cond);
}

static int status_arg(struct cfg_parser *st, const char *rule, const char *opt, int *i, int argc,
                      char **argv, int min, int max, int *out)
{
    if (*i + 1 >= argc || is_cond_word(argv[*i + 1]))
        return config__error(st, "'%s' in '%s' needs a status code (expected '%s CODE')", opt, rule,
                             opt);
    (*i)++;
    return config__get_int(st, "status code", argv[*i], min, max, out);
}

static int deny_rule(struct cfg_parser *st, const char *rule, int argc, char **argv,
                     struct cfg_http_rule *r)
{
    int i = 0;
    for (; i < argc && !is_cond_word(argv[i]); i++) {
        if (strcmp(argv[i], "deny_status") == 0 || strcmp(argv[i], "status") == 0) {
            if (status_arg(st, rule, argv[i], &i, argc, argv, 200, 599, &r->status))
                return -1;
            if (!config__is_error_code(r->status))
                return config__error(
                    st, "unsupported deny_status %d (expected " CONFIG__STATUS_EXPECT ")",
                    r->status);
        } else {
            return config__error(st,
                                 "'%s' option '%s' is not supported yet (expected "
                                 "'deny_status CODE', 'if COND' or 'unless COND')",
                                 rule, argv[i]);
        }
    }
    return rule_cond(st, rule, argc - i, argv + i, &r->cond);
}

static int redirect_rule(struct cfg_parser *st, const char *rule, int argc, char **argv,
                         struct cfg_http_rule *r)
{
    if (argc < 2 || is_cond_word(argv[1]))
        return config__error(st,
                             "'%s' needs a type and a value (expected '%s location|prefix|scheme "
                             "VALUE [code 301|302|303|307|308]')",
                             rule, rule);
    if (strcmp(argv[0], "location") == 0)
        r->redirect = HTTP_REDIR_LOCATION;
    else if (strcmp(argv[0], "prefix") == 0)
        r->redirect = HTTP_REDIR_PREFIX;
    else if (strcmp(argv[0], "scheme") == 0)
        r->redirect = HTTP_REDIR_SCHEME;
    else
        return config__error(st, "unknown redirect type '%s' (expected location, prefix or scheme)",
                             argv[0]);
    if (r->redirect != HTTP_REDIR_SCHEME && config__fmt_has_samples(argv[1])) {
        /* `location https://%[req.hdr(host)]%[capture.req.uri]`: expanded per request */
        if (config__fmt_parse(st, "redirect target", argv[1], false, &r->fmt))
            return -1;
    } else {
        r->value = literal_value(st, "redirect target", argv[1]);
        if (!r->value)
            return -1;
        r->value_len = strlen(r->value);
        if (r->value_len == 0)
            return config__error(st, "empty redirect target (expected a URL, prefix or scheme)");
    }
    r->status = 302;
    int i = 2;
    for (; i < argc && !is_cond_word(argv[i]); i++) {
        if (strcmp(argv[i], "code") == 0) {
            if (status_arg(st, rule, "code", &i, argc, argv, 100, 999, &r->status))
                return -1;
            if (r->status != 301 && r->status != 302 && r->status != 303 && r->status != 307 &&
                r->status != 308)
                return config__error(st,
                                     "unsupported redirect code %d (expected 301, 302, 303, "
                                     "307 or 308)",
                                     r->status);
        } else {
            return config__error(st,
                                 "redirect option '%s' is not supported yet (expected 'code N', "
                                 "'if COND' or 'unless COND')",
                                 argv[i]);
        }
    }
    return rule_cond(st, rule, argc - i, argv + i, &r->cond);
}

static int two_bodies(struct cfg_parser *st, const char *rule)
{
    return config__error(st,
                         "'%s' has two bodies (expected one of 'string TEXT', 'file PATH', "
                         "'errorfile FILE', 'errorfiles NAME' or 'default-errorfiles')",
                         rule);
}

static int return_rule(struct cfg_parser *st, const char *rule, int argc, char **argv,
                       struct cfg_http_rule *r)
{
    r->status = 200;
    int i = 0, body_line = 0;
    for (; i < argc && !is_cond_word(argv[i]); i++) {
        const char *o = argv[i];
        bool has_arg = i + 1 < argc && !is_cond_word(argv[i + 1]);
        if (strcmp(o, "status") == 0) {
            if (status_arg(st, rule, "status", &i, argc, argv, 200, 599, &r->status))
                return -1;
        } else if (strcmp(o, "content-type") == 0) {
            if (!has_arg)
                return config__error(st, "'content-type' needs a value (expected 'content-type "
                                         "TYPE')");
            free(r->content_type);
            r->content_type = literal_value(st, "content-type", argv[++i]);
            if (!r->content_type)
                return -1;
        } else if (strcmp(o, "string") == 0 || strcmp(o, "file") == 0) {
            if (!has_arg)
                return config__error(st, "'%s' needs a value (expected '%s %s')", o, o,
                                     o[0] == 's' ? "TEXT" : "PATH");
            if (body_line++)
                return two_bodies(st, rule);
            if (o[0] == 's') {
                r->value = literal_value(st, "return string", argv[++i]);
                if (!r->value)
                    return -1;
                r->value_len = strlen(r->value);
            } else if (config__read_small_file(st, "return file", argv[++i], &r->value,
                                               &r->value_len)) {
                return -1;
            }
        } else if (strcmp(o, "errorfile") == 0 || strcmp(o, "errorfiles") == 0 ||
                   strcmp(o, "default-errorfiles") == 0) {
            if (body_line++)
                return two_bodies(st, rule);
            int used = config__return_page_opt(st, rule, has_arg ? 2 : 1, argv + i, r);
            if (used < 0)
                return -1;
            i += used;
        } else if (strcmp(o, "hdr") == 0 || strcmp(o, "lf-string") == 0 ||
                   strcmp(o, "lf-file") == 0) {
            return config__error(st,
                                 "'%s' option '%s' is not supported yet (expected status, "
                                 "content-type, string, file, errorfile, errorfiles or "
                                 "default-errorfiles)",
                                 rule, o);
        } else {
            return config__error(st,
                                 "unknown '%s' option '%s' (expected status CODE, content-type "
                                 "TYPE, string TEXT, file PATH, errorfile FILE, errorfiles NAME "
                                 "or default-errorfiles)",
                                 rule, o);
        }
    }
    if (r->page != HTTP_RET_BODY) {
        if (config__return_page_check(st, rule, r))
            return -1;
    } else if (body_line && !r->content_type) {
        return config__error(st,
                             "'%s' with a body needs a content-type (expected 'content-type "
                             "TYPE' before 'if')",
                             rule);
    }
    if (body_line && (r->status == 204 || r->status == 304))
        return config__error(st, "status %d cannot have a body (expected no string or file)",
                             r->status);
    return rule_cond(st, rule, argc - i, argv + i, &r->cond);
}

/* `auth [realm REALM]`: the realm goes into a quoted WWW-/Proxy-Authenticate parameter. */
static int auth_rule(struct cfg_parser *st, const char *rule, int argc, char **argv,
                     struct cfg_http_rule *r)
{
    int i = 0;
    const char *realm = st->cur->px.name; /* HAProxy's default: the proxy's name */
    if (i < argc && strcmp(argv[i], "realm") == 0) {
        if (i + 1 >= argc || is_cond_word(argv[i + 1]))
            return config__error(st, "'realm' needs a value (expected 'realm REALM')");
        realm = argv[i + 1];
        i += 2;
    }
    if (i < argc && !is_cond_word(argv[i]))
        return config__error(st,
                             "'%s' option '%s' is not supported (expected 'realm REALM', 'if "
                             "COND' or 'unless COND')",
                             rule, argv[i]);
    for (const char *c = realm; *c; c++)
        if ((unsigned char)*c < ' ' || *c == 0x7f || *c == '"' || *c == '\\')
            return config__error(st,
                                 "invalid character in realm '%s' (expected printable text "
                                 "without double quotes or backslashes)",
                                 realm);
    if (!*realm)
        return config__error(st, "empty realm (expected 'realm REALM')");
    r->value = strdup(realm);
    if (!r->value)
        return config__error(st, "out of memory");
    r->value_len = strlen(r->value);
    return rule_cond(st, rule, argc - i, argv + i, &r->cond);
}

/* `set-var(SCOPE.NAME) EXPR` or `unset-var(SCOPE.NAME)`, then an optional condition; argv[0] is
 * the action word with its variable. EXPR is one sample as `%[...]` takes it (converters
 * included), parsed by config/fmt.c. */
static int var_rule(struct cfg_parser *st, const char *rule, int argc, char **argv,
                    struct cfg_http_rule *r)
{
    const char *word = argv[0];
    const char *open = strchr(word, '(');
    size_t wl = strlen(word);
    bool set = r->action == HTTP_ACT_SET_VAR;
    if (!open || wl < 2 || word[wl - 1] != ')')
        return config__error(st, "'%s' needs a variable (expected '%s(SCOPE.NAME)%s')", rule,
                             set ? "set-var" : "unset-var", set ? " EXPR" : "");
    if (config__var_index(st, open + 1, (size_t)(word + wl - 1 - open - 1), rule, &r->var))
        return -1;
    int i = 1;
    if (set) {
        if (argc < 2 || is_cond_word(argv[1]))
            return config__error(st,
                                 "'%s' needs an expression (expected 'set-var(SCOPE.NAME) EXPR', "
                                 "EXPR a sample such as str(TEXT), int(N) or "
                                 "req.hdr(NAME),lower)",
                                 rule);
        size_t el = strlen(argv[1]);
        char *text = malloc(el + 4);
        if (!text)
            return config__error(st, "out of memory");
        snprintf(text, el + 4, "%%[%s]", argv[1]);
        int rc = config__fmt_parse(st, "set-var expression", text, false, &r->fmt);
        free(text);
        if (rc)
            return -1;
        if (r->fmt->nparts != 1 || r->fmt->parts[0].sample == FMT_LIT)
            return config__error(st,
                                 "'%s' takes one sample, not '%s' (expected e.g. str(TEXT), "
                                 "int(N) or req.hdr(NAME),lower)",
                                 rule, argv[1]);
        i = 2;
    }
    return rule_cond(st, rule, argc - i, argv + i, &r->cond);
}

static int http_rule(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                     bool response)
{
    const char *action = strchr(kw->name, ' ') + 1;
    struct cfg_http_rule r = {.line = st->line};
    int rc;
    if (strcmp(action, "allow") == 0) {
        r.action = HTTP_ACT_ALLOW;
        rc = rule_cond(st, kw->name, argc, argv, &r.cond);
    } else if (strcmp(action, "deny") == 0) {
        r.action = HTTP_ACT_DENY;
        r.status = response ? 502 : 403;
        rc = deny_rule(st, kw->name, argc, argv, &r);
    } else if (strcmp(action, "tarpit") == 0) {
        r.action = HTTP_ACT_TARPIT;
        r.status = 500; /* HAProxy's: the client learns nothing from the answer */
        rc = deny_rule(st, kw->name, argc, argv, &r);
    } else if (strcmp(action, "auth") == 0) {
        r.action = HTTP_ACT_AUTH;
        rc = auth_rule(st, kw->name, argc, argv, &r);
    } else if (strcmp(action, "redirect") == 0) {
        r.action = HTTP_ACT_REDIRECT;
        rc = redirect_rule(st, kw->name, argc, argv, &r);
    } else if (strcmp(action, "return") == 0) {
        r.action = HTTP_ACT_RETURN;
        rc = return_rule(st, kw->name, argc, argv, &r);
    } else if (strcmp(action, "set-header") == 0) {
        r.action = HTTP_ACT_SET_HEADER;
        rc = header_rule(st, kw->name, r.action, argc, argv, &r);
    } else if (strcmp(action, "add-header") == 0) {
        r.action = HTTP_ACT_ADD_HEADER;
        rc = header_rule(st, kw->name, r.action, argc, argv, &r);
    } else if (strcmp(action, "del-header") == 0) {
        r.action = HTTP_ACT_DEL_HEADER;
        rc = header_rule(st, kw->name, r.action, argc, argv, &r);
    } else if (strcmp(action, "replace-header") == 0 || strcmp(action, "replace-value") == 0 ||
               strcmp(action, "replace-path") == 0) {
        r.action = action[8] == 'h'   ? HTTP_ACT_REPLACE_HEADER
                   : action[8] == 'v' ? HTTP_ACT_REPLACE_VALUE
                                      : HTTP_ACT_REPLACE_PATH;
        rc = replace_rule(st, kw->name, argc, argv, &r);
    } else if (strcmp(action, "set-path") == 0 || strcmp(action, "set-query") == 0) {
        r.action = action[4] == 'p' ? HTTP_ACT_SET_PATH : HTTP_ACT_SET_QUERY;
        rc = set_target_rule(st, kw->name, argc, argv, &r);
    } else if (strncmp(action, "track-sc", 8) == 0) {
        r.action = HTTP_ACT_TRACK_SC;
        int used = 0;
        rc = config__track_rule(st, kw->name, (unsigned)(action[8] - '0'), argc, argv, &r, &used);
        if (rc == 0)
            rc = rule_cond(st, kw->name, argc - used, argv + used, &r.cond);
    } else if (strcmp(action, "set-var") == 0 || strcmp(action, "unset-var") == 0) {
        r.action = action[0] == 's' ? HTTP_ACT_SET_VAR : HTTP_ACT_UNSET_VAR;
        rc = var_rule(st, kw->name, argc, argv, &r);
    } else if (strcmp(action, "use-service") == 0) {
        r.action = HTTP_ACT_USE_SERVICE;
        if (argc < 1 || is_cond_word(argv[0]))
            rc = config__error(st, "'%s' needs a service name (expected prometheus-exporter)",
                               kw->name);
        else if (strcmp(argv[0], "prometheus-exporter") != 0)
            rc = config__error(st, "unknown service '%s' (expected prometheus-exporter)", argv[0]);
        else if (!(r.value = strdup(argv[0])))
            rc = config__error(st, "out of memory");
        else {
            r.value_len = strlen(r.value);
            http(st)->has_service = true;
            rc = rule_cond(st, kw->name, argc - 1, argv + 1, &r.cond);
        }
    } else { /* set-status */
        r.action = HTTP_ACT_SET_STATUS;
        int i = -1;
        rc = status_arg(st, kw->name, kw->name, &i, argc, argv, 100, 999, &r.status);
        int next = i + 1;
        if (rc == 0 && next < argc && strcmp(argv[next], "reason") == 0) {
            if (next + 1 >= argc || is_cond_word(argv[next + 1]))
                rc = config__error(st, "'reason' needs a text (expected 'reason TEXT')");
            else if (!(r.value = literal_value(st, "reason", argv[next + 1])))
                rc = -1;
            else
                r.value_len = strlen(r.value);
            next += 2;
        }
        if (rc == 0)
            rc = rule_cond(st, kw->name, argc - next, argv + next, &r.cond);
    }
    if (rc == 0)
        rc = push_rule(st, response, &r);
    if (rc != 0)
        config__http_rule_free(&r);
    return rc;
}

int config__kw_http_request(struct cfg_parser *st, const struct cfg_keyword *kw, int argc,
                            char **argv, bool neg)
{
    (void)neg;
    return http_rule(st, kw, argc, argv, false);
}

int config__kw_http_response(struct cfg_parser *st, const struct cfg_keyword *kw, int argc,
                             char **argv, bool neg)
{
    (void)neg;
    return http_rule(st, kw, argc, argv, true);
}

/* ---- options ------------------------------------------------------------------------------- */

int config__kw_forwardfor(struct cfg_parser *st, const struct cfg_keyword *kw, int argc,
                          char **argv, bool neg)
{
    (void)neg;
    (void)kw;
    struct cfg_forwardfor ff = {.enabled = true};
    strcpy(ff.header, "X-Forwarded-For");
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        if (strcmp(o, "if-none") == 0) {
            ff.if_none = true;
            continue;
        }
        if (strcmp(o, "except") != 0 && strcmp(o, "header") != 0)
            return config__error(st,
                                 "unknown 'option forwardfor' argument '%s' (expected except "
                                 "NETWORK, header NAME or if-none)",
                                 o);
        if (i + 1 >= argc)
            return config__error(st, "'%s' needs a value (expected '%s %s')", o, o,
                                 o[0] == 'e' ? "NETWORK" : "NAME");
        const char *v = argv[++i];
        if (o[0] == 'e') {
            if (config__parse_net(v, &ff.except) != 0)
                return config__error(st,
                                     "invalid network '%s' after 'except' (expected an address "
                                     "with an optional /PREFIX, e.g. 10.0.0.0/8)",
                                     v);
            ff.has_except = true;
        } else {
            if (check_header_name(st, v))
                return -1;
            config__copy(ff.header, sizeof(ff.header), v);
        }
    }
    http(st)->forwardfor = ff;
    return 0;
}

int config__kw_http_flag(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                         bool neg)
{
    (void)argv;
    if (config__nargs(st, kw, argc, 0, 0))
        return -1;
    struct cfg_http *h = http(st);
    const char *o = kw->name + strlen("option ");
    if (strcmp(o, "forwarded") == 0) {
        h->forwarded = !neg;
    } else if (strcmp(o, "httplog") == 0) {
        h->httplog = !neg;
        h->log_format = CFG_LOGF_DEFAULT; /* one log format: the last statement wins */
        if (!neg)
            px(st)->tcplog = false;
    } else if (strcmp(o, "http-server-close") == 0) {
        /* HAProxy keeps one HTTP connection mode: setting one clears the other */
        if (!neg)
            h->http_server_close = true, h->httpclose = false;
        else
            h->http_server_close = false;
    } else if (strcmp(o, "httpclose") == 0) {
        if (!neg)
            h->httpclose = true, h->http_server_close = false;
        else
            h->httpclose = false;
    } else { /* http-keep-alive: the default mode; `no` changes nothing, as in HAProxy */
        if (!neg)
            h->httpclose = h->http_server_close = false;
    }
    return 0;
}

int config__kw_http_reuse(struct cfg_parser *st, const struct cfg_keyword *kw, int argc,
                          char **argv, bool neg)
{
    (void)neg;
    if (config__nargs(st, kw, argc, 1, 1))
        return -1;
    static const char *const names[] = {"safe", "never", "aggressive", "always"};
    static const enum http_reuse vals[] = {HTTP_REUSE_SAFE, HTTP_REUSE_NEVER, HTTP_REUSE_AGGRESSIVE,
                                           HTTP_REUSE_ALWAYS};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(argv[0], names[i]) == 0) {
            http(st)->reuse = vals[i];
            return 0;
        }
    }
    return config__error(st,
                         "unknown http-reuse mode '%s' (expected safe, never, aggressive or "
                         "always)",
                         argv[0]);
}

int config__kw_http_timeout(struct cfg_parser *st, const struct cfg_keyword *kw, int argc,
                            char **argv, bool neg)
{
    (void)neg;
    if (config__nargs(st, kw, argc, 1, 1))
        return -1;
    struct cfg_http *h = http(st);
    const char *which = kw->name + strlen("timeout ");
    uint32_t *field = strcmp(which, "http-request") == 0      ? &h->timeout_http_request
                      : strcmp(which, "http-keep-alive") == 0 ? &h->timeout_http_keep_alive
                      : strcmp(which, "tarpit") == 0          ? &h->timeout_tarpit
                                                              : &h->timeout_tunnel;
    return config__get_time(st, kw->name, argv[0], false, field);
}

int config__kw_cookie(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                      bool neg)
{
    (void)neg;
    if (config__nargs(st, kw, argc, 1, CFG_MAX_WORDS))
        return -1;
    struct cfg_cookie ck = {0};
    if (check_header_name(st, argv[0]))
        return -1;
    config__copy(ck.name, sizeof(ck.name), argv[0]);
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (strcmp(o, "insert") == 0)
            ck.insert = true;
        else if (strcmp(o, "indirect") == 0)
            ck.indirect = true;
        else if (strcmp(o, "nocache") == 0)
            ck.nocache = true;
        else if (strcmp(o, "httponly") == 0)
            ck.httponly = true;
        else if (strcmp(o, "secure") == 0)
            ck.secure = true;
        else if (strcmp(o, "domain") == 0) {
            if (i + 1 >= argc)
                return config__error(st, "'domain' needs a value (expected 'domain DOMAIN')");
            if (ck.domain[0])
                return config__error(st, "several cookie domains are not supported yet "
                                         "(expected one 'domain')");
            const char *d = argv[++i];
            for (const char *c = d; *c; c++)
                if (!(isalnum((unsigned char)*c) || *c == '.' || *c == '-'))
                    return config__error(st,
                                         "invalid cookie domain '%s' (expected letters, digits, "
                                         "'.' and '-')",
                                         d);
            if (!config__copy(ck.domain, sizeof(ck.domain), d))
                return config__error(st,
                                     "cookie domain '%s' is too long (expected at most %zu "
                                     "characters)",
                                     d, sizeof(ck.domain) - 1);
        } else if (strcmp(o, "rewrite") == 0 || strcmp(o, "prefix") == 0) {
            return config__error(st, "cookie mode '%s' is not supported yet (expected insert)", o);
        } else if (strcmp(o, "postonly") == 0 || strcmp(o, "preserve") == 0 ||
                   strcmp(o, "maxidle") == 0 || strcmp(o, "maxlife") == 0 ||
                   strcmp(o, "dynamic") == 0 || strcmp(o, "attr") == 0) {
            return config__error(st,
                                 "cookie option '%s' is not supported yet (expected insert, "
                                 "indirect, nocache, httponly, secure, domain D)",
                                 o);
        } else {
            return config__error(st,
                                 "unknown cookie option '%s' (expected insert, indirect, "
                                 "nocache, httponly, secure, domain D)",
                                 o);
        }
    }
    http(st)->cookie = ck;
    st->cur->cookie_line = st->line;
    return 0;
}

int config__kw_retry_on(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                        bool neg)
{
    (void)neg;
    if (config__nargs(st, kw, argc, 1, CFG_MAX_WORDS))
        return -1;
    unsigned bits = 0;
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        if (strcmp(o, "none") == 0) {
            if (argc > 1)
                return config__error(st, "'none' must be alone in 'retry-on' (expected 'retry-on "
                                         "none')");
        } else if (strcmp(o, "conn-failure") == 0) {
            bits |= HTTP_RETRY_CONN_FAILURE;
        } else if (strcmp(o, "empty-response") == 0) {
            bits |= HTTP_RETRY_EMPTY_RESPONSE;
        } else if (strcmp(o, "response-timeout") == 0) {
            bits |= HTTP_RETRY_RESPONSE_TIMEOUT;
        } else if (strcmp(o, "503") == 0) {
            bits |= HTTP_RETRY_503;
        } else if (strcmp(o, "all-retryable-errors") == 0) {
            bits |= HTTP_RETRY_CONN_FAILURE | HTTP_RETRY_EMPTY_RESPONSE |
                    HTTP_RETRY_RESPONSE_TIMEOUT | HTTP_RETRY_503;
        } else if (strcmp(o, "junk-response") == 0 || strcmp(o, "0rtt-rejected") == 0 ||
                   (strlen(o) == 3 && isdigit((unsigned char)o[0]))) {
            return config__error(st,
                                 "retry-on '%s' is not supported yet (expected conn-failure, "
                                 "empty-response, response-timeout, 503, all-retryable-errors "
                                 "or none)",
                                 o);
        } else {
            return config__error(st,
                                 "unknown retry-on keyword '%s' (expected conn-failure, "
                                 "empty-response, response-timeout, 503, all-retryable-errors "
                                 "or none)",
                                 o);
        }
    }
    http(st)->retry_on = bits;
    return 0;
}

/* A URI given to `stats uri` or `monitor-uri`: a path without blanks or control characters. */
static int copy_uri(struct cfg_parser *st, const char *what, const char *example, const char *u,
                    char *dst, size_t size)
{
    if (u[0] != '/')
        return config__error(st, "%s '%s' must begin with '/' (expected e.g. %s)", what, u,
                             example);
    for (const char *c = u; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f)
            return config__error(st,
                                 "invalid character in %s '%s' (expected a path without spaces "
                                 "or control characters)",
                                 what, u);
    if (!config__copy(dst, size, u))
        return config__error(st, "%s '%s' is too long (expected at most %zu characters)", what, u,
                             size - 1);
    return 0;
}

/* `stats enable | uri PREFIX | refresh TIME | hide-version | realm REALM` */
int config__kw_stats(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                     bool neg)
{
    (void)neg;
    struct cfg_stats *s = &http(st)->stats;
    const char *which = kw->name + strlen("stats ");
    bool has_arg = strcmp(which, "enable") != 0 && strcmp(which, "hide-version") != 0;
    if (config__nargs(st, kw, argc, has_arg ? 1 : 0, has_arg ? 1 : 0))
        return -1;
    if (strcmp(which, "auth") == 0) {
        const char *colon = strchr(argv[0], ':');
        size_t ul = colon ? (size_t)(colon - argv[0]) : 0;
        if (!colon || ul == 0 || ul > 63)
            return config__error(st,
                                 "stats auth '%s' needs a user name of 1 to 63 characters and "
                                 "a password (expected 'stats auth USER:PASSWORD')",
                                 argv[0]);
        /* HAProxy: a section's own stats settings replace those of its [defaults], so that
           the users a section names are the only ones it lets in */
        if (st->cur->sec != CFG_SEC_DEFAULTS && !st->cur->stats_auth_own) {
            s->nauth = 0;
            st->cur->stats_auth_own = true;
        }
        if (s->nauth == CFG_STATS_AUTH_MAX)
            return config__error(st,
                                 "too many stats auth lines (expected at most %d per "
                                 "section)",
                                 CFG_STATS_AUTH_MAX);
        if (!config__copy(s->auth[s->nauth], sizeof(s->auth[0]), argv[0]))
            return config__error(st,
                                 "stats auth '%.*s:...' is too long (expected at most %zu "
                                 "characters)",
                                 (int)ul, argv[0], sizeof(s->auth[0]) - 1);
        s->nauth++;
        s->enabled = true; /* as HAProxy: stats auth enables the page */
    } else if (strcmp(which, "enable") == 0) {
        s->enabled = true;
    } else if (strcmp(which, "hide-version") == 0) {
        s->hide_version = true;
    } else if (strcmp(which, "refresh") == 0) {
        return config__get_time(st, kw->name, argv[0], false, &s->refresh_ms);
    } else if (strcmp(which, "realm") == 0) {
        for (const char *c = argv[0]; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '"' || *c == '\\')
                return config__error(st,
                                     "stats realm '%s' holds a quote, a backslash or a "
                                     "control character (expected plain text)",
                                     argv[0]);
        if (!config__copy(s->realm, sizeof(s->realm), argv[0]))
            return config__error(st,
                                 "stats realm '%s' is too long (expected at most %zu "
                                 "characters)",
                                 argv[0], sizeof(s->realm) - 1);
    } else { /* uri */
        if (copy_uri(st, "stats uri", "/stats", argv[0], s->uri, sizeof(s->uri)))
            return -1;
        s->enabled = true; /* as HAProxy: a stats URI enables the page */
    }
    return 0;
}

/* Each section's `stats auth` lines become a userlist of the config (insecure-password
 * users), so that the page's credentials go through the same checks as http_auth(): constant
 * time comparison, failures logged and rate-limited per client. Runs before anything takes a
 * pointer into cfg->userlists, which this grows. */
int config__stats_auth_build(struct cfg_parser *st)
{
    struct config *cfg = st->cfg;
    size_t first = cfg->nuserlists;
    for (size_t i = 0; i < cfg->nproxies; i++) {
        const struct cfg_stats *s = &cfg->proxies[i].http.stats;
        if (!s->nauth)
            continue;
        struct cfg_userlist *n = realloc(cfg->userlists, (cfg->nuserlists + 1) * sizeof(*n));
        if (!n)
            return config__error_at(st, cfg->proxies[i].line, "out of memory");
        cfg->userlists = n;
        struct cfg_userlist *u = &n[cfg->nuserlists++];
        memset(u, 0, sizeof(*u));
        /* a name no [userlist] section can have (they are tokens) */
        snprintf(u->name, sizeof(u->name), "stats auth of %.40s", cfg->proxies[i].name);
        u->line = cfg->proxies[i].line;
        if (!(u->users = calloc(s->nauth, sizeof(*u->users))))
            return config__error_at(st, u->line, "out of memory");
        for (size_t k = 0; k < s->nauth; k++) {
            const char *colon = strchr(s->auth[k], ':');
            struct cfg_user *usr = &u->users[u->nusers++];
            snprintf(usr->name, sizeof(usr->name), "%.*s", (int)(colon - s->auth[k]), s->auth[k]);
            usr->line = u->line;
            if (!(usr->password = strdup(colon + 1)))
                return config__error_at(st, u->line, "out of memory");
        }
    }
    for (size_t i = 0, k = first; i < cfg->nproxies; i++)
        if (cfg->proxies[i].http.stats.nauth)
            cfg->proxies[i].http.stats.auth_list = &cfg->userlists[k++];
    return 0;
}

/* `monitor-uri URI` */
int config__kw_monitor_uri(struct cfg_parser *st, const struct cfg_keyword *kw, int argc,
                           char **argv, bool neg)
{
    (void)neg;
    if (config__nargs(st, kw, argc, 1, 1))
        return -1;
    return copy_uri(st, "monitor-uri", "/healthz", argv[0], http(st)->monitor_uri,
                    sizeof(http(st)->monitor_uri));
}

/* `unique-id-format FORMAT` (samples as in header values, computed once per request) and
 * `unique-id-header NAME` (the field that carries the ID to servers). */
int config__kw_unique_id(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                         bool neg)
{
    (void)neg;
    if (config__nargs(st, kw, argc, 1, 1))
        return -1;
    struct cfg_http *h = http(st);
    if (strcmp(kw->name, "unique-id-header") == 0) {
        if (check_header_name(st, argv[0]))
            return -1;
        /* the ID may come from the client (a sample of its fields): never a field that frames
         * the message, steers the connection or names the host */
        bool managed = strcasecmp(argv[0], "host") == 0 || managed_field(argv[0], true);
        if (managed)
            return config__error(st,
                                 "unique-id-header '%s' is a field sluice writes itself "
                                 "(expected another name, e.g. X-Request-ID)",
                                 argv[0]);
        config__copy(h->unique_id_header, sizeof(h->unique_id_header), argv[0]);
        return 0;
    }
    struct cfg_fmt *f;
    if (config__fmt_parse(st, "unique-id-format", argv[0], false, &f))
        return -1;
    if (config__fmt_uses(f, FMT_UNIQUE_ID) || f->nparts == 0) {
        const char *why = f->nparts ? "refers to the unique ID itself" : "is empty";
        config__fmt_free(f);
        return config__error(st,
                             "unique-id-format '%s' %s (expected text and samples, e.g. "
                             "%%[uuid()])",
                             argv[0], why);
    }
    config__fmt_free(h->unique_id);
    h->unique_id = f;
    return 0;
}

/* `capture request header NAME len N` / `capture response header NAME len N` (HAProxy's words;
 * in the INI file `capture request = header NAME len N`) */
int config__kw_capture(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                       bool neg)
{
    (void)neg;
    if (argc == 4 && strcmp(argv[0], "header") == 0) {
        argc--;
        argv++;
    } else {
        argc = 0; /* HAProxy's `capture cookie` and `declare capture` have no INI form yet */
    }
    if (argc != 3 || strcmp(argv[1], "len") != 0)
        return config__error(st,
                             "'%s' needs a header name and a length (expected '%s header NAME "
                             "len N')",
                             kw->name, kw->name);
    if (check_header_name(st, argv[0]))
        return -1;
    struct cfg_http *h = http(st);
    bool response = strstr(kw->name, "response") != NULL;
    uint8_t *n = response ? &h->nres_cap : &h->nreq_cap;
    if (*n >= CFG_CAPTURES_MAX)
        return config__error(st, "too many '%s' lines in this section (expected at most %d)",
                             kw->name, CFG_CAPTURES_MAX);
    int len;
    if (config__get_int(st, "capture length", argv[2], 1, CFG_CAPTURE_LEN_MAX, &len))
        return -1;
    struct cfg_capture *c = response ? &h->res_cap[*n] : &h->req_cap[*n];
    config__copy(c->name, sizeof(c->name), argv[0]);
    c->len = (uint16_t)len;
    (*n)++;
    return 0;
}
