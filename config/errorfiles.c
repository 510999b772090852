/* Error pages: `errorfile CODE FILE`, `[http-errors NAME]` sections, `errorfiles NAME [CODE...]`
 * and the pages of `http-request return ... errorfile | errorfiles | default-errorfiles`.
 *
 * A page is read and checked when its `errorfile` statement is parsed. An `errorfiles` statement
 * is kept as written, since it may name a section declared below it (as in HAProxy), and is
 * resolved by config__validate_errorfiles once the whole file is read. For a status, the later
 * statement wins, whether `errorfile` or `errorfiles`: HAProxy applies a proxy's statements in
 * order, those it inherits from [defaults] first, and line numbers grow in that same order (a
 * `from` names a [defaults] above), so each page keeps the line that set it. */
#include "config/config_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Put a page for `status` into *arr, unless the one it has was set on a later line. Takes data
 * (freed when not kept). 0 or -ENOMEM. */
static int put_page(struct cfg_errorfile **arr, size_t *n, int status, char *data, size_t len,
                    int line)
{
    struct cfg_errorfile page = {status, data, len, line};
    for (size_t i = 0; i < *n; i++) {
        struct cfg_errorfile *e = &(*arr)[i];
        if (e->status != status)
            continue;
        if (e->line > line) {
            free(data);
        } else {
            free(e->data);
            *e = page;
        }
        return 0;
    }
    struct cfg_errorfile *na = realloc(*arr, (*n + 1) * sizeof(*na));
    if (!na) {
        free(data);
        return -ENOMEM;
    }
    na[(*n)++] = page;
    *arr = na;
    return 0;
}

static const struct cfg_errorfile *find_page(const struct cfg_http_errors *set, int status)
{
    for (size_t i = 0; i < set->nfiles; i++)
        if (set->files[i].status == status)
            return &set->files[i];
    return NULL;
}

/* Parse a status code that has an error page; `kw` names the statement in messages. 0 or -1. */
static int get_error_code(struct cfg_parser *st, const char *kw, const char *text, int *code)
{
    if (config__get_int(st, "status code", text, 100, 599, code))
        return -1;
    if (!config__is_error_code(*code))
        return config__error(
            st, "%sno error page for status %d (expected " CONFIG__STATUS_EXPECT ")", kw, *code);
    return 0;
}

int config__read_error_page(struct cfg_parser *st, const char *path, int code, char **data,
                            size_t *len)
{
    if (config__read_small_file(st, "error file", path, data, len))
        return -1;
    /* HAProxy sends the file as it is: it must be a whole HTTP response (or empty, which closes
     * the connection without a response, e.g. for 408 on idle pre-connections). */
    if (*len > 0 && (*len < 12 || strncmp(*data, "HTTP/1.", 7) != 0)) {
        free(*data);
        *data = NULL;
        return config__error(st,
                             "error file '%s' is not an HTTP response (expected a file starting "
                             "with 'HTTP/1.x %d', headers and a body, or an empty file)",
                             path, code);
    }
    return 0;
}

int config__kw_errorfile(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                         bool neg)
{
    (void)neg;
    if (config__nargs(st, kw, argc, 2, 2))
        return -1;
    int code;
    if (get_error_code(st, "", argv[0], &code))
        return -1;
    char *data;
    size_t len;
    if (config__read_error_page(st, argv[1], code, &data, &len))
        return -1;
    int rc;
    if (st->sec == CFG_SEC_HTTP_ERRORS) {
        struct cfg_http_errors *set = &st->cfg->http_errors[st->cur_fwd];
        rc = put_page(&set->files, &set->nfiles, code, data, len, st->line);
    } else {
        struct cfg_http *h = &st->cur->px.http;
        rc = put_page(&h->errorfiles, &h->nerrorfiles, code, data, len, st->line);
    }
    return rc ? config__error(st, "out of memory") : 0;
}

int config__kw_errorfiles(struct cfg_parser *st, const struct cfg_keyword *kw, int argc,
                          char **argv, bool neg)
{
    (void)neg;
    if (config__nargs(st, kw, argc, 1, CFG_MAX_WORDS))
        return -1;
    struct cfg_errorfiles_ref ref = {.line = st->line};
    if (!config__copy(ref.name, sizeof(ref.name), argv[0]))
        return config__error(st,
                             "errorfiles: section name '%s' is too long (expected at most %zu "
                             "characters)",
                             argv[0], sizeof(ref.name) - 1);
    for (int i = 1; i < argc; i++) {
        int code;
        if (get_error_code(st, "errorfiles: ", argv[i], &code))
            return -1;
        bool seen = false;
        for (size_t k = 0; k < ref.ncodes; k++)
            seen = seen || ref.codes[k] == code;
        /* distinct error codes are fewer than CFG_ERROR_CODES_MAX */
        if (!seen && ref.ncodes < CFG_ERROR_CODES_MAX)
            ref.codes[ref.ncodes++] = code;
    }
    struct cfg_http *h = &st->cur->px.http;
    struct cfg_errorfiles_ref *na =
        realloc(h->errorfiles_refs, (h->nerrorfiles_refs + 1) * sizeof(*na));
    if (!na)
        return config__error(st, "out of memory");
    na[h->nerrorfiles_refs++] = ref;
    h->errorfiles_refs = na;
    return 0;
}

int config__open_http_errors(struct cfg_parser *st, const char *name)
{
    struct config *cfg = st->cfg;
    for (size_t i = 0; i < cfg->nhttp_errors; i++)
        if (strcmp(cfg->http_errors[i].name, name) == 0)
            return config__error(st,
                                 "duplicate http-errors section '%s' (first declared at line %d; "
                                 "expected unique names)",
                                 name, cfg->http_errors[i].line);
    struct cfg_http_errors *n = realloc(cfg->http_errors, (cfg->nhttp_errors + 1) * sizeof(*n));
    if (!n)
        return config__error(st, "out of memory");
    cfg->http_errors = n;
    struct cfg_http_errors *set = &n[cfg->nhttp_errors];
    memset(set, 0, sizeof(*set));
    config__copy(set->name, sizeof(set->name), name);
    set->line = st->line;
    st->cur_fwd = cfg->nhttp_errors++;
    snprintf(st->fwd_label, sizeof(st->fwd_label), "[http-errors %s]", name);
    st->sec = CFG_SEC_HTTP_ERRORS;
    st->cur = NULL;
    return 0;
}

/* The [http-errors] section `name` (into *out) that a statement on `line` names. 0 or -1. */
static int find_set(struct cfg_parser *st, const char *name, int line,
                    const struct cfg_http_errors **out)
{
    const struct config *cfg = st->cfg;
    const char *best = NULL;
    int bd = 3;
    for (size_t i = 0; i < cfg->nhttp_errors; i++) {
        if (strcmp(cfg->http_errors[i].name, name) == 0) {
            *out = &cfg->http_errors[i];
            return 0;
        }
        int d = config__distance(name, cfg->http_errors[i].name);
        if (d < bd)
            bd = d, best = cfg->http_errors[i].name;
    }
    if (best)
        return config__error_at(st, line,
                                "errorfiles: unknown http-errors section '%s' (did you mean "
                                "'%s'? expected the name of an [http-errors NAME] section)",
                                name, best);
    return config__error_at(st, line,
                            "errorfiles: unknown http-errors section '%s' (expected the name of "
                            "an [http-errors NAME] section)",
                            name);
}

/* Find the section an `errorfiles` statement names (into *out) and check that it has each code
 * the statement lists. 0 or -1. HAProxy only warns about a listed code the section lacks and
 * ignores it; sluice refuses it, as it does other statements that would silently do nothing. */
static int check_ref(struct cfg_parser *st, const struct cfg_errorfiles_ref *r,
                     const struct cfg_http_errors **out)
{
    const struct cfg_http_errors *set;
    if (find_set(st, r->name, r->line, &set))
        return -1;
    for (size_t k = 0; k < r->ncodes; k++) {
        if (find_page(set, r->codes[k]))
            continue;
        char has[128] = "";
        for (size_t i = 0; i < set->nfiles; i++)
            snprintf(has + strlen(has), sizeof(has) - strlen(has), "%s%d", i ? ", " : "",
                     set->files[i].status);
        return config__error_at(st, r->line,
                                "errorfiles: http-errors section '%s' (line %d) has no errorfile "
                                "for status %d (expected one of its codes: %s; or no code, to "
                                "import them all)",
                                r->name, set->line, r->codes[k], has[0] ? has : "none");
    }
    *out = set;
    return 0;
}

static char *copy_page(const struct cfg_errorfile *f)
{
    char *data = malloc(f->len + 1);
    if (data)
        memcpy(data, f->data, f->len + 1);
    return data;
}

/* Copy the pages a statement selects into h. 0 or -ENOMEM. */
static int import(struct cfg_http *h, const struct cfg_errorfiles_ref *r,
                  const struct cfg_http_errors *set)
{
    for (size_t i = 0; i < set->nfiles; i++) {
        const struct cfg_errorfile *f = &set->files[i];
        bool wanted = r->ncodes == 0;
        for (size_t k = 0; k < r->ncodes; k++)
            wanted = wanted || r->codes[k] == f->status;
        if (!wanted)
            continue;
        char *data = copy_page(f);
        if (!data)
            return -ENOMEM;
        if (put_page(&h->errorfiles, &h->nerrorfiles, f->status, data, f->len, r->line))
            return -ENOMEM;
    }
    return 0;
}

int config__return_page_opt(struct cfg_parser *st, const char *rule, int argc, char **argv,
                            struct cfg_http_rule *r)
{
    const char *o = argv[0];
    if (strcmp(o, "default-errorfiles") == 0) {
        r->page = HTTP_RET_ERROR_PAGE;
        return 0;
    }
    if (argc < 2)
        return config__error(st, "'%s' in '%s' needs a value (expected '%s %s')", o, rule, o,
                             strcmp(o, "errorfile") == 0 ? "FILE" : "NAME");
    r->page = HTTP_RET_PAGE;
    if (strcmp(o, "errorfiles") == 0) { /* the section may be below: see resolve_return */
        r->name = strdup(argv[1]);
        return r->name ? 1 : config__error(st, "out of memory");
    }
    return config__read_error_page(st, argv[1], r->status, &r->value, &r->value_len) ? -1 : 1;
}

int config__return_page_check(struct cfg_parser *st, const char *rule,
                              const struct cfg_http_rule *r)
{
    /* HAProxy ignores a content-type here with a warning: the page is a whole response */
    if (r->content_type)
        return config__error(st,
                             "'%s' with an error page takes no content-type (expected "
                             "errorfile, errorfiles or default-errorfiles alone: the page is a "
                             "whole response)",
                             rule);
    if (r->value == NULL && !config__is_error_code(r->status))
        return config__error(st,
                             "'%s': no error page for status %d (expected 'status CODE' with "
                             "one of " CONFIG__STATUS_EXPECT ")",
                             rule, r->status);
    return 0;
}

/* Give `http-request return ... errorfiles NAME` the section's page for its status; without one
 * the proxy's error page answers, as in HAProxy. 0 or -1. */
static int resolve_return(struct cfg_parser *st, struct cfg_http_rule *r)
{
    const struct cfg_http_errors *set;
    if (find_set(st, r->name, r->line, &set))
        return -1;
    const struct cfg_errorfile *f = find_page(set, r->status);
    if (!f) {
        r->page = HTTP_RET_ERROR_PAGE;
        return 0;
    }
    r->value = copy_page(f);
    if (!r->value)
        return config__error_at(st, r->line, "out of memory");
    r->value_len = f->len;
    return 0;
}

int config__validate_errorfiles(struct cfg_parser *st)
{
    /* [defaults] too: a mistyped name there is an error even when no section inherits it */
    for (size_t i = 0; i < st->ndefaults; i++) {
        const struct cfg_http *h = &st->defaults[i]->px.http;
        const struct cfg_http_errors *set;
        for (size_t k = 0; k < h->nerrorfiles_refs; k++)
            if (check_ref(st, &h->errorfiles_refs[k], &set))
                return -1;
    }
    for (size_t i = 0; i < st->cfg->nproxies; i++) {
        struct cfg_http *h = &st->cfg->proxies[i].http;
        for (size_t k = 0; k < h->nerrorfiles_refs; k++) {
            const struct cfg_http_errors *set;
            if (check_ref(st, &h->errorfiles_refs[k], &set))
                return -1;
            if (import(h, &h->errorfiles_refs[k], set))
                return config__error_at(st, h->errorfiles_refs[k].line, "out of memory");
        }
        for (size_t k = 0; k < h->nreq_rules; k++) {
            struct cfg_http_rule *r = &h->req_rules[k];
            if (r->action == HTTP_ACT_RETURN && r->page == HTTP_RET_PAGE && r->name &&
                resolve_return(st, r))
                return -1;
        }
    }
    return 0;
}

void config__http_errors_free(struct config *cfg)
{
    for (size_t i = 0; i < cfg->nhttp_errors; i++) {
        for (size_t k = 0; k < cfg->http_errors[i].nfiles; k++)
            free(cfg->http_errors[i].files[k].data);
        free(cfg->http_errors[i].files);
    }
    free(cfg->http_errors);
    cfg->http_errors = NULL;
    cfg->nhttp_errors = 0;
}
