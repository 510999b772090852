/* `balance first`: the first server in configuration order with a free slot (HAProxy's), which
 * fills server 1 up to its maxconn before using server 2, so spare servers can be powered off. */
#include "balancer/lb_internal.h"

struct server *lb__pick_first(struct lb_cursor *c, const struct server *avoid)
{
    struct backend *be = c->be;
    for (size_t i = 0; i < be->nservers; i++)
        if (lb__eligible(&be->servers[i], c->backup, avoid))
            return &be->servers[i];
    return NULL;
}
