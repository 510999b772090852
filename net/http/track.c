/* track-sc rules at run time; see track.h. */
#include "net/http/track.h"

#include "core/stktable.h"
#include "net/http/fmt.h"

void http_track_rule(struct acl_ctx *c, const struct cfg_http_rule *r, bool request)
{
    if (!c->trk || c->trk->e[r->sc])
        return;
    struct stk_table *t = stktable_get((unsigned)r->table);
    if (!t)
        return;
    unsigned char key[STK_KEY_MAX];
    size_t kl;
    if (r->fmt->parts[0].sample == FMT_SRC) {
        kl = stktable_key_addr(t, c->src, key);
    } else {
        /* a sample (a header, a cookie, ...): its first STK_KEY_MAX bytes, cut further to the
           table's key length, so that a long value cannot dodge its counters */
        char text[STK_KEY_MAX];
        struct fmt_ctx fc = {.req = c, .vars = c->vars};
        size_t n = fmt_expand_cut(r->fmt, &fc, text, sizeof(text));
        kl = n ? stktable_key_text(t, text, n, key) : 0;
    }
    if (kl == 0)
        return; /* no key (HAProxy does not track an empty sample either) */
    struct stk_entry *e = stktable_track(t, key, kl, c->now_ms);
    if (!e)
        return;
    c->trk->e[r->sc] = e;
    if (request) {
        stktable_event(e, STK_EV_HTTP_REQ, c->now_ms);
        c->trk->req |= (uint8_t)(1u << r->sc);
    }
}

void http_track_begin(struct stk_trackers *trk, uint32_t now)
{
    stktable_event_all(trk, STK_EV_HTTP_REQ, now);
}

void http_track_error(struct stk_trackers *trk, uint32_t now)
{
    stktable_event_all(trk, STK_EV_HTTP_ERR, now);
}

void http_track_end(struct stk_trackers *trk, int status, bool err_counted, uint32_t now)
{
    if (!err_counted && status >= 400 && status <= 499)
        stktable_event_all(trk, STK_EV_HTTP_ERR, now);
    stktable_untrack_some(trk, trk->req, now);
}
