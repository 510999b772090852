/* Client authentication (HTTP Basic against a [userlist]) without blocking workers. Password
 * hashes (bcrypt, yescrypt: tens of milliseconds by design) are checked by one verifier thread;
 * a worker submits a check and resumes the request when the answer comes back. Verified
 * credentials are cached per worker (a keyed hash of the header value → user, with a TTL) so a
 * slow check runs once per credential, not per request. Failed attempts are logged and counted
 * per client address; an address over the limit is answered AUTH_LIMITED without a check. */
#ifndef SLUICE_NET_HTTP_AUTH_H
#define SLUICE_NET_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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

/* Limits and lifetimes (per worker). */
#define AUTH_CACHE_TTL_MS    60000u /* a verified credential is trusted this long */
#define AUTH_NEG_TTL_MS      5000u  /* a refused credential is refused again without a check */
#define AUTH_MAX_INFLIGHT    256u   /* checks queued to the verifier per worker */
#define AUTH_RL_MAX_FAILS    10u    /* more failures than this within the window... */
#define AUTH_RL_WINDOW_MS    60000u
#define AUTH_RL_BLOCK_MS     60000u /* ...and the client is answered AUTH_LIMITED this long */
#define AUTH_MAX_CREDENTIALS 512u   /* decoded `user:password` longer than this is malformed */

/* Start the verifier thread for a config and allocate per-worker state (answer rings, caches,
 * rate-limit tables) for workers 0..nworkers-1. Sets worker_poll_hook to auth_poll when the
 * hook is unset (another module owning the hook must call auth_poll from its own). Returns 0 or
 * -errno. Main thread, before workers start. */
int auth_start(const struct config *cfg, unsigned nworkers);
/* Stop and join the verifier and free everything, pending checks included (their done
 * callbacks are never called). Main thread, after workers stopped. Safe without auth_start. */
void auth_stop(void);

/* Deliver the verifier's answers to worker w: calls the done callbacks of its finished checks.
 * Installed as worker_poll_hook by auth_start; worker w's thread only. */
void auth_poll(struct worker *w);

/* Check a Basic credential header value (`Basic dXNlcjpwYXNz`, value of Authorization or
 * Proxy-Authorization; NULL/0 when absent) against userlist ul for a client. Returns at once
 * unless AUTH_PENDING, in which case done(arg, result, user) runs later on worker w (from its
 * loop); `user` points to storage that lives as long as the config. Worker w's thread only.
 * AUTH_LIMITED means refused without a check: the client failed too often lately, or this
 * worker already has AUTH_MAX_INFLIGHT checks queued (overload; logged at most once a second),
 * or no memory. A done callback may call auth_check and auth_cancel. */
enum auth_result auth_check(struct worker *w, const struct cfg_userlist *ul, const char *hdr,
                            size_t len, const struct sockaddr *client, auth_done_fn done, void *arg,
                            const char **user);

/* The request went away: its pending answer is dropped (done is never called for arg after
 * this returns). Worker w's thread only; O(checks in flight on w). */
void auth_cancel(struct worker *w, void *arg);

/* Counters summed over workers (tests, stats). Any thread; relaxed reads. */
struct auth_stats {
    uint64_t verified;   /* crypt(3) runs on the verifier */
    uint64_t submitted;  /* checks queued to the verifier */
    uint64_t coalesced;  /* checks that joined an identical one in flight */
    uint64_t cache_hits; /* positive cache hits */
    uint64_t neg_hits;   /* negative cache hits */
    uint64_t failures;   /* failed attempts counted for rate limiting */
    uint64_t limited;    /* AUTH_LIMITED answers */
};
void auth_get_stats(struct auth_stats *out);

#endif
