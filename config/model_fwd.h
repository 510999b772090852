/* The forward-proxy part of the configuration model: resolvers, userlists, proxy options. */
#ifndef SLUICE_CONFIG_MODEL_FWD_H
#define SLUICE_CONFIG_MODEL_FWD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define CFG_MAX_NAMESERVERS 8

/* `[resolvers NAME]` (HAProxy): `nameserver ID IP:PORT`, `parse-resolv-conf`, `timeout resolve
 * T` (1s), `timeout retry T` (1s), `resolve_retries N` (3), `hold valid T` (10s: the longest a
 * positive answer is cached, whatever its TTL says; also the floor when its TTL is 0),
 * `hold nx T` (30s, negative answers). */
struct cfg_resolvers {
    char name[64];
    struct sockaddr_storage ns[CFG_MAX_NAMESERVERS];
    socklen_t nslen[CFG_MAX_NAMESERVERS];
    char ns_id[CFG_MAX_NAMESERVERS][64];
    unsigned nns;
    bool parse_resolv_conf;
    uint32_t timeout_resolve; /* ms */
    uint32_t timeout_retry;   /* ms */
    int resolve_retries;
    uint32_t hold_valid; /* ms */
    uint32_t hold_nx;    /* ms */
    int line;
};

/* One `user NAME password HASH` (crypt(3): bcrypt $2b$/$2y$, sha512-crypt $6$, yescrypt $y$,
 * sha256-crypt $5$) or `user NAME insecure-password PW` line, or an htpasswd file entry
 * (`htpasswd FILE`: lines `name:hash`; Apache's $apr1$ MD5 is not crypt(3) and is refused). */
struct cfg_user {
    char name[64];
    char *hash;     /* owned crypt(3) string, or NULL */
    char *password; /* owned plaintext (insecure-password), or NULL */
    int line;
};

/* `[userlist NAME]` */
struct cfg_userlist {
    char name[64];
    struct cfg_user *users; /* owned */
    size_t nusers;
    int line;
};

enum cfg_log_format { CFG_LOGF_DEFAULT = 0, CFG_LOGF_SQUID };

#endif
