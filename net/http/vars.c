/* A session's variables; see vars.h. */
#include "net/http/vars.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/http/fmt.h"

static void var_free(struct http_var *v)
{
    free(v->p);
    v->p = NULL;
    v->len = 0;
}

int http_vars_rule(struct http_vars *vs, const struct config *cfg, const struct cfg_http_rule *r,
                   const struct fmt_ctx *fc)
{
    if (!vs || r->var < 0 || (size_t)r->var >= cfg->nvars)
        return 0;
    if (r->action == HTTP_ACT_UNSET_VAR) {
        if (vs->v && (uint32_t)r->var < vs->n)
            var_free(&vs->v[r->var]);
        return 0;
    }
    /* one expansion into this thread's buffer (a session stays on its worker), then a copy of
       the value's own size: a long value costs no second expansion and no large allocation */
    static _Thread_local char buf[HTTP_VAR_VALUE_MAX];
    ssize_t n = fmt_expand_sample(r->fmt, fc, buf, sizeof(buf));
    if (n < 0)
        return 0; /* the sample failed: the variable stays as it is */
    if (!vs->v) {
        if (!(vs->v = calloc(cfg->nvars, sizeof(*vs->v))))
            return -ENOMEM;
        vs->n = (uint32_t)cfg->nvars;
        for (size_t i = 0; i < cfg->nvars; i++)
            vs->v[i].scope = (uint8_t)cfg->vars[i].scope;
    }
    if ((uint32_t)r->var >= vs->n)
        return 0; /* a session older than a reload's config: it has no such variable */
    char *p = malloc((size_t)n + 1);
    if (!p)
        return -ENOMEM;
    memcpy(p, buf, (size_t)n);
    p[n] = '\0';
    var_free(&vs->v[r->var]);
    vs->v[r->var].p = p;
    vs->v[r->var].len = (uint32_t)n;
    return 0;
}

void http_vars_end(struct http_vars *vs, bool all)
{
    if (!vs->v)
        return;
    for (uint32_t i = 0; i < vs->n; i++)
        if (all || vs->v[i].scope != CFG_VAR_SESS)
            var_free(&vs->v[i]);
    if (all) {
        free(vs->v);
        vs->v = NULL;
        vs->n = 0;
    }
}
