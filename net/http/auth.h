/* Client authentication (HTTP Basic against a [userlist]) without blocking workers. Password
 * hashes (bcrypt, yescrypt: tens of milliseconds by design) are checked by one verifier thread;
 * a worker submits a check and resumes the request when the answer comes back. Verified
 * credentials are cached per worker (a keyed hash of the header value → user, with a TTL) so a
 * slow check runs once per credential, not per request. Failed attempts are logged and counted
 * per client address; an address over the limit is answered "fail" without a check. */
#ifndef SLUICE_NET_HTTP_AUTH_H
#define SLUICE_NET_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "config/model.h"

struct worker;

enum auth_result {
    AUTH_OK = 0,  /* valid credentials: *user is set */
    AUTH_FAIL,    /* wrong user or password, or malformed credentials */
    AUTH_NONE,    /* no credentials in the request */
    AUTH_LIMITED, /* this client failed too often lately: refused without a check */
    AUTH_PENDING, /* queued to the verifier: done() will be called on this worker */
};

typedef void (*auth_done_fn)(void *arg, enum auth_result r, const char *user);

/* Start / stop the verifier thread for a config. Main thread. */
int auth_start(const struct config *cfg, unsigned nworkers);
void auth_stop(void);

/* Check a Basic credential header value (`Basic dXNlcjpwYXNz`, value of Authorization or
 * Proxy-Authorization; NULL/0 when absent) against userlist ul for a client. Returns at once
 * unless AUTH_PENDING, in which case done(arg, result, user) runs later on worker w (from its
 * loop); `user` points to storage that lives as long as the config. Worker w's thread only. */
enum auth_result auth_check(struct worker *w, const struct cfg_userlist *ul, const char *hdr,
                            size_t len, const struct sockaddr *client, auth_done_fn done, void *arg,
                            const char **user);

/* The request went away: its pending answer is dropped. */
void auth_cancel(struct worker *w, void *arg);

#endif
