/* Unit tests of the forward-proxy configuration: [resolvers], [userlist], htpasswd files, the
 * proxy keywords, the destination ACLs, http-request auth, and the safe-defaults bookkeeping. */
#include "config/config_internal.h"
#include "net/http/acl.h"

#include "cfg_load.h"
#include "h2i.h"

#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BCRYPT "$2b$10$rNrfe7EC34uEk5LKhly/l.WNHDMVGR0pNbCaydNsqQ0qjBYfmRKam"
#define SHA512                                                                                     \
    "$6$abcdefgh$Z7KfoKnKTSZrzo5VZ0YubGLQOj9ov6sHo9TmE3zIU/"                                       \
    "LHKhpE30zCnZ0mcIXYf9r9rQ4DYaXoxAFSPFlcW"                                                      \
    "dxjB."

/* A forward proxy on one line per statement; error cases append to it, so they start at line 5. */
#define FWD                                                                                        \
    "[listen p]\n"                                                                                 \
    "mode = http\n"                                                                                \
    "bind = 127.0.0.1:3128\n"                                                                      \
    "option = http_proxy\n"

static uint16_t port_of(const struct sockaddr_storage *ss)
{
    return ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
                                          : ((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* ---- [resolvers] --------------------------------------------------------------------------- */

static void test_resolvers(void)
{
    struct config *cfg = cfg_load_ok("[resolvers dns]\n"
                                     "nameserver = a 127.0.0.1:5353\n"
                                     "nameserver = b [::1]:53\n"
                                     "nameserver = c 10.0.0.2\n"
                                     "nameserver = d udp@192.168.1.1:53\n"
                                     "nameserver = e ::1\n"
                                     "parse-resolv-conf =\n"
                                     "timeout resolve = 2s\n"
                                     "timeout retry = 500ms\n"
                                     "resolve_retries = 5\n"
                                     "hold valid = 1m\n"
                                     "hold nx = 5s\n"
                                     "hold other = 30s\n"
                                     "hold refused = 30s\n"
                                     "hold timeout = 30s\n"
                                     "hold obsolete = 30s\n"
                                     "accepted_payload_size = 8192\n"
                                     "[resolvers plain]\n"
                                     "parse-resolv-conf\n" FWD);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL_FATAL(cfg->nresolvers, 2);
    const struct cfg_resolvers *r = &cfg->resolvers[0];
    CU_ASSERT_STRING_EQUAL(r->name, "dns");
    CU_ASSERT_EQUAL(r->line, 1);
    CU_ASSERT_EQUAL_FATAL(r->nns, 5);
    CU_ASSERT_STRING_EQUAL(r->ns_id[0], "a");
    CU_ASSERT_EQUAL(r->ns[0].ss_family, AF_INET);
    CU_ASSERT_EQUAL(port_of(&r->ns[0]), 5353);
    CU_ASSERT_EQUAL(r->nslen[0], sizeof(struct sockaddr_in));
    CU_ASSERT_EQUAL(r->ns[1].ss_family, AF_INET6);
    CU_ASSERT_EQUAL(r->nslen[1], sizeof(struct sockaddr_in6));
    CU_ASSERT_EQUAL(port_of(&r->ns[1]), 53);
    CU_ASSERT_EQUAL(port_of(&r->ns[2]), 53); /* no port: 53 */
    CU_ASSERT_EQUAL(r->ns[3].ss_family, AF_INET);
    CU_ASSERT_EQUAL(r->ns[4].ss_family, AF_INET6);
    CU_ASSERT_EQUAL(port_of(&r->ns[4]), 53);
    CU_ASSERT_TRUE(r->parse_resolv_conf);
    CU_ASSERT_EQUAL(r->timeout_resolve, 2000);
    CU_ASSERT_EQUAL(r->timeout_retry, 500);
    CU_ASSERT_EQUAL(r->resolve_retries, 5);
    CU_ASSERT_EQUAL(r->hold_valid, 60000);
    CU_ASSERT_EQUAL(r->hold_nx, 5000);
    /* the built-in values */
    r = &cfg->resolvers[1];
    CU_ASSERT_STRING_EQUAL(r->name, "plain");
    CU_ASSERT_EQUAL(r->nns, 0);
    CU_ASSERT_TRUE(r->parse_resolv_conf);
    CU_ASSERT_EQUAL(r->timeout_resolve, 1000);
    CU_ASSERT_EQUAL(r->timeout_retry, 1000);
    CU_ASSERT_EQUAL(r->resolve_retries, 3);
    CU_ASSERT_EQUAL(r->hold_valid, 10000);
    CU_ASSERT_EQUAL(r->hold_nx, 30000);
    /* two sections and no `resolvers` keyword: /etc/resolv.conf */
    CU_ASSERT_PTR_NULL(cfg->proxies[0].http.resolvers);
    config_free(cfg);

    /* a proxy names one; the only section is the default; [defaults] passes the name on */
    cfg = cfg_load_ok(FWD "resolvers = b\n[resolvers a]\nnameserver = x 127.0.0.1:53\n"
                          "[resolvers b]\nnameserver = x 127.0.0.2:53\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_PTR_EQUAL(cfg->proxies[0].http.resolvers, &cfg->resolvers[1]);
    config_free(cfg);
    cfg = cfg_load_ok(FWD "[resolvers only]\nnameserver = x 127.0.0.1:53\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_PTR_EQUAL(cfg->proxies[0].http.resolvers, &cfg->resolvers[0]);
    config_free(cfg);
    cfg = cfg_load_ok("[defaults]\nmode = http\nresolvers = b\n"
                      "[listen p]\nbind = :3128\noption = http_proxy\n"
                      "[resolvers a]\nnameserver = x 127.0.0.1:53\n"
                      "[resolvers b]\nnameserver = x 127.0.0.2:53\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_PTR_EQUAL(cfg->proxies[0].http.resolvers, &cfg->resolvers[1]);
    config_free(cfg);
    /* no [resolvers] at all */
    cfg = cfg_load_ok(FWD);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_PTR_NULL(cfg->proxies[0].http.resolvers);
    CU_ASSERT_EQUAL(cfg->nresolvers, 0);
    config_free(cfg);
}

static void test_resolvers_errors(void)
{
    cfg_load_err(FWD "[resolvers dns]\ntimeout resolve = 1s\n",
                 "t.ini:5: resolvers section 'dns' has no nameserver (expected 'nameserver = NAME "
                 "IP:PORT' or 'parse-resolv-conf')");
    cfg_load_err(FWD "[resolvers dns]\nparse-resolv-conf =\n[resolvers dns]\n",
                 "t.ini:7: duplicate resolvers section 'dns' (first declared at line 5");
    cfg_load_err(FWD "[resolvers]\n",
                 "t.ini:5: [resolvers] needs a name (expected [resolvers NAME])");
    cfg_load_err(FWD "[resolvers a from b]\n", "t.ini:5: [resolvers] sections do not inherit");
    cfg_load_err(FWD "[resolvers dns]\nnameserver = a 127.0.0.1:53\nnameserver = a 127.0.0.2:53\n",
                 "t.ini:7: duplicate nameserver 'a' in [resolvers dns]");
    cfg_load_err(
        FWD "[resolvers dns]\n"
            "nameserver = n1 127.0.0.1\nnameserver = n2 127.0.0.1\nnameserver = n3 127.0.0.1\n"
            "nameserver = n4 127.0.0.1\nnameserver = n5 127.0.0.1\nnameserver = n6 127.0.0.1\n"
            "nameserver = n7 127.0.0.1\nnameserver = n8 127.0.0.1\nnameserver = n9 127.0.0.1\n",
        "t.ini:14: too many nameservers in [resolvers dns] (expected at most 8)");
    cfg_load_err(FWD "[resolvers dns]\nnameserver = a dns.example.com:53\n",
                 "t.ini:6: invalid nameserver address 'dns.example.com:53' (expected IPv4:PORT, "
                 "[IPv6]:PORT or an address alone for port 53)");
    cfg_load_err(FWD "[resolvers dns]\nnameserver = a 0.0.0.0:53\n",
                 "t.ini:6: invalid nameserver address '0.0.0.0:53'");
    cfg_load_err(FWD "[resolvers dns]\nnameserver = a 127.0.0.1:0\n",
                 "t.ini:6: invalid nameserver address '127.0.0.1:0'");
    cfg_load_err(FWD "[resolvers dns]\nnameserver = a tcp@127.0.0.1:53\n",
                 "t.ini:6: DNS over TCP ('tcp@127.0.0.1:53') is not supported yet");
    cfg_load_err(FWD "[resolvers dns]\nnameserver = a\n",
                 "t.ini:6: 'nameserver' needs more arguments");
    cfg_load_err(FWD "[resolvers dns]\nnameserver = a/b 127.0.0.1\n",
                 "t.ini:6: invalid character '/' in nameserver name 'a/b'");
    cfg_load_err(FWD "[resolvers dns]\nparse-resolv-conf = yes\n",
                 "t.ini:6: 'parse-resolv-conf' takes no argument");
    cfg_load_err(FWD "[resolvers dns]\nparse-resolv-conf =\ntimeout resolve = 0\n",
                 "t.ini:7: 'timeout resolve' must be greater than 0");
    cfg_load_err(FWD "[resolvers dns]\nparse-resolv-conf =\ntimeout retry = 1x\n",
                 "t.ini:7: invalid time '1x' for 'timeout retry'");
    cfg_load_err(FWD "[resolvers dns]\nparse-resolv-conf =\nresolve_retries = 0\n",
                 "t.ini:7: invalid resolve_retries '0' (expected an integer from 1 to 100)");
    cfg_load_err(FWD "[resolvers dns]\nparse-resolv-conf =\nhold valid = soon\n",
                 "t.ini:7: invalid time 'soon' for 'hold valid'");
    cfg_load_err(FWD "[resolvers dns]\nparse-resolv-conf =\nhold forever = 1s\n",
                 "t.ini:7: unknown hold 'forever' in section [resolvers dns]");
    cfg_load_err(FWD "[resolvers dns]\nparse-resolv-conf =\naccepted_payload_size = 100\n",
                 "t.ini:7: invalid accepted_payload_size '100' (expected an integer from 512 to "
                 "65535)");
    cfg_load_err(FWD "[resolvers dns]\nbind = :53\n",
                 "t.ini:6: 'bind' is not allowed in a [resolvers] section (allowed in [frontend], "
                 "[listen])");
    cfg_load_err(FWD "[resolvers dns]\ntimeout client = 1s\n",
                 "t.ini:6: 'timeout client' is not allowed in a [resolvers] section");
    cfg_load_err(FWD "[resolvers dns]\nresolvers = x\n",
                 "t.ini:6: 'resolvers' is not allowed in a [resolvers] section");
    cfg_load_err(FWD "[resolvers dns]\nfrobnicate = 1\n",
                 "t.ini:6: unknown keyword 'frobnicate' in section [resolvers dns]");
    cfg_load_err(FWD "nameserver = a 127.0.0.1:53\n",
                 "t.ini:5: 'nameserver' is not allowed in a [listen] section (allowed in "
                 "[resolvers])");
    /* resolvers NAME must name a section, anywhere in the file */
    cfg_load_err(FWD "resolvers = nope\n[resolvers dns]\nparse-resolv-conf =\n",
                 "t.ini:5: unknown resolvers section 'nope' in [listen p] (expected the name of a "
                 "[resolvers NAME] section)");
    cfg_load_err(FWD "resolvers = a b\n", "t.ini:5: too many arguments for 'resolvers'");
}

/* ---- [userlist] ---------------------------------------------------------------------------- */

static void test_userlist(void)
{
    struct config *cfg = cfg_load_ok(
        "[userlist users]\n"
        "user = alice password " BCRYPT "\n"
        "user = bob password " SHA512 " groups staff,ops\n"
        "user = carol insecure-password s3cret\n"
        "user = dave password $2y$12$rNrfe7EC34uEk5LKhly/l.WNHDMVGR0pNbCaydNsqQ0qjBYfmRKam\n"
        "user = erin password $2a$04$rNrfe7EC34uEk5LKhly/l.WNHDMVGR0pNbCaydNsqQ0qjBYfmRKam\n"
        "user = frank password $5$rounds=5000$salt$Ai6IbY3uNqvU9nk0Rz1m0gRhfN5CwW7Hc0LNZr6m"
        "hX0\n"
        "user = gina password $y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC."
        "5i5rd.RhAtQ7\n"
        "user = hal password $7$CU..../....abcdefgh$0123456789abcdefghijklmnopqrstuvwxyzAB"
        "CDEFGHI\n"
        "group = staff users alice,bob\n"
        "group = ops\n"
        "[userlist other]\n"
        "user alice insecure-password x\n" FWD);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL_FATAL(cfg->nuserlists, 2);
    const struct cfg_userlist *ul = &cfg->userlists[0];
    CU_ASSERT_STRING_EQUAL(ul->name, "users");
    CU_ASSERT_EQUAL(ul->line, 1);
    CU_ASSERT_EQUAL_FATAL(ul->nusers, 8);
    CU_ASSERT_STRING_EQUAL(ul->users[0].name, "alice");
    CU_ASSERT_STRING_EQUAL(ul->users[0].hash, BCRYPT);
    CU_ASSERT_PTR_NULL(ul->users[0].password);
    CU_ASSERT_EQUAL(ul->users[0].line, 2);
    CU_ASSERT_STRING_EQUAL(ul->users[1].hash, SHA512);
    CU_ASSERT_STRING_EQUAL(ul->users[2].name, "carol");
    CU_ASSERT_PTR_NULL(ul->users[2].hash);
    CU_ASSERT_STRING_EQUAL(ul->users[2].password, "s3cret");
    CU_ASSERT_STRING_EQUAL(ul->users[7].name, "hal");
    /* the same name in two userlists is fine */
    CU_ASSERT_STRING_EQUAL(cfg->userlists[1].users[0].name, "alice");
    config_free(cfg);
    /* an empty userlist is allowed (nobody gets in) */
    cfg = cfg_load_ok("[userlist none]\n" FWD);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->userlists[0].nusers, 0);
    config_free(cfg);
}

static void test_userlist_errors(void)
{
    cfg_load_err(FWD "[userlist u]\nuser = a password $apr1$abcdefgh$82JubPF2dQkt1tVfvLnXS.\n",
                 "t.ini:6: password of user 'a' is an Apache hash, not a crypt(3) hash; create it "
                 "with htpasswd -B (bcrypt) (expected a crypt(3) hash: bcrypt $2b$, $2y$ or $2a$, "
                 "sha256-crypt $5$, sha512-crypt $6$, yescrypt $y$ or scrypt $7$");
    cfg_load_err(FWD "[userlist u]\nuser = a password {SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=\n",
                 "t.ini:6: password of user 'a' is an Apache hash");
    cfg_load_err(
        FWD "[userlist u]\nuser = a password $1$abcdefgh$0123456789abcdefghijkl\n",
        "t.ini:6: unsupported password hash for user 'a' (expected a crypt(3) hash: bcrypt");
    cfg_load_err(FWD "[userlist u]\nuser = a password abJnggxhB/yWI\n",
                 "t.ini:6: unsupported password hash for user 'a'");
    cfg_load_err(FWD "[userlist u]\nuser = a password secret\n",
                 "t.ini:6: unsupported password hash for user 'a'");
    /* a truncated or malformed bcrypt string */
    cfg_load_err(FWD "[userlist u]\nuser = a password $2b$10$rNrfe7EC34uEk5LKhly/l.WNHDMVGR0pNb\n",
                 "t.ini:6: unsupported password hash for user 'a'");
    cfg_load_err(FWD "[userlist u]\nuser = a password "
                     "$2b$99$rNrfe7EC34uEk5LKhly/l.WNHDMVGR0pNbCaydNsqQ0qjBYfmRKam\n",
                 "t.ini:6: unsupported password hash for user 'a'");
    cfg_load_err(FWD "[userlist u]\nuser = a password $6$\n",
                 "t.ini:6: unsupported password hash for user 'a'");
    cfg_load_err(FWD "[userlist u]\nuser = a password $6$salt$\n",
                 "t.ini:6: unsupported password hash for user 'a'");
    cfg_load_err(FWD "[userlist u]\nuser = a insecure-password x\nuser = a password " BCRYPT "\n",
                 "t.ini:7: duplicate user 'a' in [userlist u] (first declared at line 6; expected "
                 "unique user names)");
    cfg_load_err(FWD "[userlist u]\nuser = a insecure-password \"\"\n",
                 "t.ini:6: empty password for user 'a'");
    cfg_load_err(FWD "[userlist u]\nuser = a:b insecure-password x\n",
                 "t.ini:6: invalid character in user name 'a:b'");
    cfg_load_err(FWD "[userlist u]\nuser = a\n",
                 "t.ini:6: 'user' needs more arguments (expected "
                 "'user <name> password <hash> | insecure-password");
    cfg_load_err(FWD "[userlist u]\nuser = a secret x\n",
                 "t.ini:6: unknown 'user' option 'secret' (expected 'user NAME password HASH' or "
                 "'user NAME insecure-password PASSWORD')");
    cfg_load_err(FWD "[userlist u]\nuser = a insecure-password x group g\n",
                 "t.ini:6: unexpected 'group' after the password of user 'a' (expected 'groups "
                 "G1,G2' or the end of the line)");
    cfg_load_err(FWD "[userlist u]\nuser = a insecure-password x groups g,,h\n",
                 "t.ini:6: empty name in groups list 'g,,h'");
    cfg_load_err(FWD "[userlist u]\ngroup = g members a\n",
                 "t.ini:6: unexpected 'members' after group 'g' (expected 'group NAME users U1,U2' "
                 "or 'group NAME')");
    cfg_load_err(
        FWD "[userlist u]\n[userlist u]\n",
        "t.ini:6: duplicate userlist section 'u' (first declared at line 5; expected unique "
        "names)");
    cfg_load_err(FWD "[userlist u]\nmode = http\n",
                 "t.ini:6: 'mode' is not allowed in a [userlist] section");
    cfg_load_err(FWD "user = a insecure-password x\n",
                 "t.ini:5: 'user' is not allowed in a [listen] section (allowed in [userlist])");
    cfg_load_err(
        FWD "[userlist u]\nhtpasswd = /nonexistent/sluice.htpasswd\n",
        "t.ini:6: cannot read htpasswd file '/nonexistent/sluice.htpasswd' (No such file or "
        "directory) (expected a readable file)");
}

static void test_htpasswd(void)
{
    char path[64], text[1024], want[512];
    cfg_temp_file(path, "# made with htpasswd -B\n"
                        "\n"
                        "alice:" BCRYPT "\r\n"
                        "  bob:" SHA512 "\n"
                        "carol:$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd."
                        "RhAtQ7:Carol, the admin\n");
    snprintf(text, sizeof(text),
             "[userlist u]\nuser = zed insecure-password z\nhtpasswd = %s\n" FWD, path);
    struct config *cfg = cfg_load_ok(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const struct cfg_userlist *ul = &cfg->userlists[0];
    CU_ASSERT_EQUAL_FATAL(ul->nusers, 4);
    CU_ASSERT_STRING_EQUAL(ul->users[1].name, "alice");
    CU_ASSERT_STRING_EQUAL(ul->users[1].hash, BCRYPT);
    CU_ASSERT_EQUAL(ul->users[1].line, 3);
    CU_ASSERT_STRING_EQUAL(ul->users[2].name, "bob");
    CU_ASSERT_STRING_EQUAL(ul->users[2].hash, SHA512);
    CU_ASSERT_STRING_EQUAL(ul->users[3].name, "carol"); /* the :comment field is dropped */
    CU_ASSERT_PTR_NOT_NULL(strstr(ul->users[3].hash, "$y$j9T$"));
    CU_ASSERT_PTR_NULL(strchr(ul->users[3].hash, ':'));
    config_free(cfg);
    unlink(path);

    /* Apache's own schemes: the error names the file's line */
    static const char *const apache[] = {"eve:$apr1$abcdefgh$82JubPF2dQkt1tVfvLnXS.\n",
                                         "eve:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=\n",
                                         "eve:abJnggxhB/yWI\n", "eve:plaintext\n", "eve:\n"};
    for (size_t i = 0; i < sizeof(apache) / sizeof(apache[0]); i++) {
        char body[256];
        snprintf(body, sizeof(body), "# users\nalice:%s\n%s", BCRYPT, apache[i]);
        cfg_temp_file(path, body);
        snprintf(text, sizeof(text), FWD "[userlist u]\nhtpasswd = %s\n", path);
        snprintf(want, sizeof(want),
                 "t.ini:6: user 'eve' in '%s' line 3: not a crypt(3) hash; create it with "
                 "htpasswd -B (bcrypt)",
                 path);
        cfg_load_err(text, want);
        unlink(path);
    }

    cfg_temp_file(path, "alice " BCRYPT "\n");
    snprintf(text, sizeof(text), FWD "[userlist u]\nhtpasswd = %s\n", path);
    snprintf(want, sizeof(want),
             "t.ini:6: no ':' in the entry in '%s' line 1 (expected 'NAME:HASH' lines)", path);
    cfg_load_err(text, want);
    unlink(path);

    cfg_temp_file(path, ":" BCRYPT "\n");
    snprintf(text, sizeof(text), FWD "[userlist u]\nhtpasswd = %s\n", path);
    snprintf(want, sizeof(want), "t.ini:6: empty user name in '%s' line 1", path);
    cfg_load_err(text, want);
    unlink(path);

    /* a user both inline and in the file */
    cfg_temp_file(path, "bob:" BCRYPT "\nalice:" BCRYPT "\n");
    snprintf(text, sizeof(text),
             FWD "[userlist u]\nuser = alice insecure-password x\nhtpasswd = %s\n", path);
    snprintf(want, sizeof(want),
             "t.ini:7: duplicate user 'alice' in '%s' line 2 in [userlist u] (first declared at "
             "line 6",
             path);
    cfg_load_err(text, want);
    unlink(path);
}

/* ---- proxy keywords ------------------------------------------------------------------------ */

static void test_proxy_keywords(void)
{
    /* a listen without servers and a frontend without default_backend load */
    struct config *cfg = cfg_load_ok(FWD "[frontend f]\nmode = http\nbind = :3129\n"
                                         "option = http_proxy\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL_FATAL(cfg->nproxies, 2);
    for (size_t i = 0; i < 2; i++) {
        const struct cfg_proxy *p = &cfg->proxies[i];
        CU_ASSERT_TRUE(p->http.http_proxy);
        CU_ASSERT_FALSE(p->http.anonymize);
        CU_ASSERT_EQUAL(p->http.log_format, CFG_LOGF_DEFAULT);
        CU_ASSERT_PTR_NULL(p->backend); /* each request names its origin */
        CU_ASSERT_EQUAL(p->nservers, 0);
        CU_ASSERT_PTR_NULL(p->http.auth_list);
        CU_ASSERT_FALSE(p->http.has_client_acl);
        CU_ASSERT_FALSE(p->http.has_connect_rule);
    }
    config_free(cfg);

    /* with servers a listen stays its own backend */
    cfg = cfg_load_ok(FWD "server = parent 127.0.0.1:8080\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_PTR_EQUAL(cfg->proxies[0].backend, &cfg->proxies[0]);
    config_free(cfg);

    /* options, log-format, inheritance from [defaults] */
    cfg = cfg_load_ok("[defaults]\nmode = http\noption = anonymize\nlog-format = squid\n"
                      "[listen p]\nbind = :3128\noption http_proxy\n"
                      "[listen q]\nbind = :3129\noption = http_proxy\nno option = anonymize\n"
                      "option = httplog\n"
                      "[listen r]\nbind = :3130\noption = http_proxy\noption = tcplog\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const struct cfg_proxy *p = &cfg->proxies[0];
    CU_ASSERT_TRUE(p->http.anonymize);
    CU_ASSERT_EQUAL(p->http.log_format, CFG_LOGF_SQUID);
    CU_ASSERT_TRUE(p->http.httplog);
    CU_ASSERT_FALSE(p->tcplog);
    p = &cfg->proxies[1];
    CU_ASSERT_FALSE(p->http.anonymize);
    CU_ASSERT_EQUAL(p->http.log_format, CFG_LOGF_DEFAULT); /* option httplog came after */
    CU_ASSERT_TRUE(p->http.httplog);
    p = &cfg->proxies[2];
    CU_ASSERT_EQUAL(p->http.log_format, CFG_LOGF_DEFAULT);
    CU_ASSERT_TRUE(p->tcplog);
    CU_ASSERT_FALSE(p->http.httplog);
    config_free(cfg);

    /* `no option http_proxy` turns it off: then servers are needed again */
    cfg_load_err(FWD "no option = http_proxy\n", "t.ini:1: listen 'p' has no 'server'");
}

static void test_proxy_errors(void)
{
    cfg_load_err(
        "[listen p]\nbind = :3128\noption = http_proxy\n",
        "t.ini:3: option http_proxy in [listen p] needs mode http (expected 'mode http' in "
        "the section or its [defaults])");
    cfg_load_err("[frontend f]\nbind = :3128\noption = http_proxy\nmode = tcp\n",
                 "t.ini:3: option http_proxy in [frontend f] needs mode http");
    cfg_load_err("[backend b]\nmode = http\noption = http_proxy\n",
                 "t.ini:3: 'option http_proxy' is not allowed in a [backend] section (allowed in "
                 "[frontend], [listen])");
    cfg_load_err("[defaults]\noption = http_proxy\n",
                 "t.ini:2: 'option http_proxy' is not allowed in a [defaults] section");
    cfg_load_err(FWD "option = http_proxy now\n", "t.ini:5: 'option http_proxy' takes no argument");
    cfg_load_err(FWD "option = anonymize all\n", "t.ini:5: 'option anonymize' takes no argument");
    cfg_load_err(FWD "log-format = \"%ci [%t] %r\"\n",
                 "t.ini:5: log-format '%ci [%t] %r' is not supported yet (expected 'log-format "
                 "squid', or option httplog)");
    cfg_load_err(FWD "log-format = squid extra\n",
                 "t.ini:5: log-format 'squid ...' is not supported");
    cfg_load_err(FWD "log-format =\n", "t.ini:5: 'log-format' needs an argument");
    cfg_load_err("[backend b]\nlog-format = squid\n",
                 "t.ini:2: 'log-format' is not allowed in a [backend] section");
}

/* ---- ACLs and rules ------------------------------------------------------------------------ */

static const struct cfg_acl *acl_named(const struct cfg_http *h, const char *name)
{
    for (size_t i = 0; i < h->nacls; i++)
        if (strcmp(h->acls[i].name, name) == 0)
            return &h->acls[i];
    return NULL;
}

static void test_acls(void)
{
    char dom[64], nets[64], text[2048];
    cfg_temp_file(dom, "# blocked\n.Ads.Example.NET\ntracker.example.org\n\n");
    cfg_temp_file(nets, "10.0.0.0/8\n# office\n192.168.0.0/16\n2001:db8::/32\n");
    snprintf(text, sizeof(text),
             FWD "acl = d url_dom Example.COM\n"
                 "acl = blocked url_dom -f %s\n"
                 "acl = ports url_port 443 8000:8999\n"
                 "acl = hi url_port gt 1024\n"
                 "acl = ip url_ip 10.0.0.0/8 2001:db8::1\n"
                 "acl = beg url_beg http://intranet/\n"
                 "acl = host req.host WWW.Example.com\n"
                 "acl = hostre req.host -m reg ^www\\.\n"
                 "acl = ok http_auth(users)\n"
                 "acl = ok2 http_auth(users)\n"
                 "acl = office src -f %s\n"
                 "acl = dr url_dom -m end .example.com\n"
                 "http-request deny = if blocked or !ok\n"
                 "[userlist users]\nuser = a insecure-password b\n",
             dom, nets);
    struct config *cfg = cfg_load_ok(text);
    unlink(dom);
    unlink(nets);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const struct cfg_http *h = &cfg->proxies[0].http;
    const struct cfg_acl *a = acl_named(h, "d");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(a->fetch, ACL_F_URL_DOM);
    CU_ASSERT_EQUAL(a->match, ACL_M_DOM);
    CU_ASSERT_TRUE(a->icase); /* always */
    CU_ASSERT_STRING_EQUAL(a->values[0].str, "example.com");
    a = acl_named(h, "blocked");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL_FATAL(a->nvalues, 2);
    CU_ASSERT_STRING_EQUAL(a->values[0].str, "ads.example.net"); /* leading dot dropped */
    CU_ASSERT_STRING_EQUAL(a->values[1].str, "tracker.example.org");
    a = acl_named(h, "ports");
    CU_ASSERT_EQUAL(a->fetch, ACL_F_URL_PORT);
    CU_ASSERT_EQUAL(a->match, ACL_M_INT);
    CU_ASSERT_EQUAL(a->values[1].num, 8000);
    CU_ASSERT_EQUAL(a->values[1].num_max, 8999);
    a = acl_named(h, "hi");
    CU_ASSERT_EQUAL(a->values[0].num, 1025);
    a = acl_named(h, "ip");
    CU_ASSERT_EQUAL(a->fetch, ACL_F_URL_IP);
    CU_ASSERT_EQUAL(a->match, ACL_M_IP);
    CU_ASSERT_EQUAL(a->values[0].net.prefix, 8);
    CU_ASSERT_EQUAL(a->values[1].net.prefix, 128);
    a = acl_named(h, "beg");
    CU_ASSERT_EQUAL(a->fetch, ACL_F_URL);
    CU_ASSERT_EQUAL(a->match, ACL_M_BEG);
    a = acl_named(h, "host");
    CU_ASSERT_EQUAL(a->fetch, ACL_F_REQ_HOST);
    CU_ASSERT_EQUAL(a->match, ACL_M_STR);
    CU_ASSERT_TRUE(a->icase);
    CU_ASSERT_STRING_EQUAL(a->values[0].str, "www.example.com");
    a = acl_named(h, "hostre");
    CU_ASSERT_EQUAL(a->match, ACL_M_REG);
    CU_ASSERT_TRUE(a->icase);
    a = acl_named(h, "ok");
    CU_ASSERT_EQUAL(a->fetch, ACL_F_HTTP_AUTH);
    CU_ASSERT_STRING_EQUAL(a->arg, "users");
    CU_ASSERT_EQUAL(a->nvalues, 0);
    CU_ASSERT_PTR_EQUAL(h->auth_list, &cfg->userlists[0]);
    a = acl_named(h, "office");
    CU_ASSERT_EQUAL(a->nvalues, 3);

    /* what the evaluator makes of them */
    struct sockaddr_in dst = {.sin_family = AF_INET};
    inet_pton(AF_INET, "10.1.2.3", &dst.sin_addr);
    struct acl_ctx ctx = {.dst_host = "WWW.Example.Com", .dst_host_len = 15, .dst_url_port = 443};
    CU_ASSERT_TRUE(acl_entry_match(acl_named(h, "d"), &ctx));
    CU_ASSERT_TRUE(acl_entry_match(acl_named(h, "dr"), &ctx));
    CU_ASSERT_TRUE(acl_entry_match(acl_named(h, "ports"), &ctx));
    CU_ASSERT_FALSE(acl_entry_match(acl_named(h, "hi"), &ctx));
    CU_ASSERT_FALSE(acl_entry_match(acl_named(h, "blocked"), &ctx));
    CU_ASSERT_FALSE(acl_entry_match(acl_named(h, "ok"), &ctx));
    ctx.dst_host = "cdn.ads.example.net";
    ctx.dst_host_len = strlen(ctx.dst_host);
    CU_ASSERT_TRUE(acl_entry_match(acl_named(h, "blocked"), &ctx));
    ctx.dst_host = "notexample.com";
    ctx.dst_host_len = strlen(ctx.dst_host);
    CU_ASSERT_FALSE(acl_entry_match(acl_named(h, "d"), &ctx));
    CU_ASSERT_FALSE(acl_entry_match(acl_named(h, "dr"), &ctx));
    ctx.dst_ip = (const struct sockaddr *)&dst;
    CU_ASSERT_TRUE(acl_entry_match(acl_named(h, "ip"), &ctx));
    ctx.req_host = "www.EXAMPLE.com";
    ctx.req_host_len = strlen(ctx.req_host);
    CU_ASSERT_TRUE(acl_entry_match(acl_named(h, "host"), &ctx));
    CU_ASSERT_TRUE(acl_entry_match(acl_named(h, "hostre"), &ctx));
    ctx.auth_ok = h->auth_list;
    CU_ASSERT_TRUE(acl_entry_match(acl_named(h, "ok"), &ctx));
    struct sockaddr_in src = {.sin_family = AF_INET};
    inet_pton(AF_INET, "192.168.7.7", &src.sin_addr);
    ctx.src = (const struct sockaddr *)&src;
    CU_ASSERT_TRUE(acl_entry_match(acl_named(h, "office"), &ctx));
    inet_pton(AF_INET, "172.16.0.1", &src.sin_addr);
    CU_ASSERT_FALSE(acl_entry_match(acl_named(h, "office"), &ctx));
    config_free(cfg);
}

static void test_acl_errors(void)
{
    cfg_load_err(FWD "acl = ok http_auth(nope)\n",
                 "t.ini:5: unknown userlist 'nope' in 'http_auth(nope)' (expected the name of a "
                 "[userlist NAME] section)");
    cfg_load_err(FWD "acl = a http_auth(u1)\nacl = b http_auth(u2)\n"
                     "[userlist u1]\n[userlist u2]\n",
                 "t.ini:6: http_auth(u2) in [listen p] names a second userlist after http_auth(u1) "
                 "at line 5 (expected one userlist per proxy for now)");
    cfg_load_err(FWD "acl = ok http_auth(u) alice\n[userlist u]\n",
                 "t.ini:5: 'http_auth(u)' takes no value (got 'alice')");
    cfg_load_err(FWD "acl = ok http_auth\n",
                 "t.ini:5: ACL criterion 'http_auth' needs a name (expected 'http_auth(NAME)')");
    cfg_load_err(FWD "acl = ok http_auth(u/v)\n", "t.ini:5: invalid userlist name 'u/v'");
    cfg_load_err(FWD "acl = ok http_auth(u) -m found\n[userlist u]\n",
                 "t.ini:5: match method '-m found' cannot be used with 'http_auth(u)' (expected no "
                 "-m)");
    cfg_load_err(FWD "acl = ok http_auth_group(u) admins\n",
                 "t.ini:5: ACL criterion 'http_auth_group' is not supported yet");
    cfg_load_err(FWD "acl = p url_port -m str 443\n",
                 "t.ini:5: match method '-m str' cannot be used with 'url_port' (expected int or "
                 "found)");
    cfg_load_err(FWD "acl = p url_port https\n", "t.ini:5: invalid integer 'https'");
    cfg_load_err(
        FWD "acl = i url_ip -m beg 10.\n",
        "t.ini:5: match method '-m beg' cannot be used with 'url_ip' (expected ip or found)");
    cfg_load_err(FWD "acl = i url_ip example.com\n", "t.ini:5: invalid address 'example.com'");
    cfg_load_err(FWD "acl = d url_dom\n", "t.ini:5: ACL 'd': 'url_dom' needs at least one value");
    cfg_load_err(FWD "acl = d url_dom -f /nonexistent/domains.txt\n",
                 "t.ini:5: cannot read ACL file '/nonexistent/domains.txt'");
    /* an ACL file of networks with a bad line names it */
    char nets[64], text[512], want[256];
    cfg_temp_file(nets, "10.0.0.0/8\nexample.com\n");
    snprintf(text, sizeof(text), FWD "acl = c src -f %s\n", nets);
    snprintf(want, sizeof(want), "t.ini:5: invalid address 'example.com' in '%s' line 2", nets);
    cfg_load_err(text, want);
    unlink(nets);
}

static void test_auth_rule(void)
{
    struct config *cfg = cfg_load_ok(FWD "acl = ok http_auth(users)\n"
                                         "http-request auth = if !ok\n"
                                         "http-request auth = realm \"Corp proxy\" unless ok\n"
                                         "http-request auth\n"
                                         "[userlist users]\nuser = a insecure-password b\n"
                                         "[backend b]\nmode = http\nhttp-request auth = if TRUE\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const struct cfg_http *h = &cfg->proxies[0].http;
    CU_ASSERT_EQUAL_FATAL(h->nreq_rules, 3);
    CU_ASSERT_EQUAL(h->req_rules[0].action, HTTP_ACT_AUTH);
    CU_ASSERT_STRING_EQUAL(h->req_rules[0].value, "p"); /* the proxy's name, as HAProxy */
    CU_ASSERT_EQUAL(h->req_rules[0].value_len, 1);
    CU_ASSERT_TRUE(h->req_rules[0].cond.present);
    CU_ASSERT_FALSE(h->req_rules[0].cond.unless);
    CU_ASSERT_TRUE(h->req_rules[0].cond.terms[0].neg);
    CU_ASSERT_EQUAL(h->req_rules[0].line, 6);
    CU_ASSERT_STRING_EQUAL(h->req_rules[1].value, "Corp proxy");
    CU_ASSERT_TRUE(h->req_rules[1].cond.unless);
    CU_ASSERT_FALSE(h->req_rules[2].cond.present);
    CU_ASSERT_STRING_EQUAL(cfg->proxies[1].http.req_rules[0].value, "b");
    config_free(cfg);

    cfg_load_err(FWD "http-request auth = realm\n",
                 "t.ini:5: 'realm' needs a value (expected 'realm REALM')");
    cfg_load_err(FWD "http-request auth = realm if TRUE\n", "t.ini:5: 'realm' needs a value");
    cfg_load_err(FWD "http-request auth = realm 'a\"b'\n",
                 "t.ini:5: invalid character in realm 'a\"b' (expected printable text without "
                 "double quotes or backslashes)");
    cfg_load_err(FWD "http-request auth = realm \"\"\n", "t.ini:5: empty realm");
    cfg_load_err(FWD "http-request auth = realm r status 401\n",
                 "t.ini:5: 'http-request auth' option 'status' is not supported (expected 'realm "
                 "REALM', 'if COND' or 'unless COND')");
    cfg_load_err(FWD "http-request auth = if\n", "t.ini:5: 'if' needs a condition");
    cfg_load_err("[listen p]\nbind = :1\nserver = s 127.0.0.1:1\nhttp-request auth =\n",
                 "t.ini:4: 'http-request' rules in [listen p] need mode http");
}

/* ---- safe defaults bookkeeping ------------------------------------------------------------- */

static void test_bookkeeping(void)
{
    static const struct {
        const char *rules;
        bool client, connect;
    } cases[] = {
        {"", false, false},
        {"http-request deny = if { url_dom example.com }\n", false, false},
        {"http-request deny = unless { src 10.0.0.0/8 }\n", true, false},
        {"http-request allow = if LOCALHOST\n", true, false},
        {"acl = office src 192.168.0.0/16\nhttp-request deny = if !office\n", true, false},
        {"acl = office src 192.168.0.0/16\n", false, false}, /* declared, never used */
        {"use_backend = b if { src 10.0.0.1 }\n[backend b]\nmode = http\n", true, false},
        {"http-response del-header = Server if LOCALHOST\n", true, false},
        {"http-request deny = if METH_CONNECT !{ url_port 443 8443 }\n", false, true},
        {"http-request deny = if { url_port 25 }\n", false, true},
        {"http-request deny = if { method -i connect }\n", false, true},
        {"acl = tunnel method CONNECT\nhttp-request allow = if tunnel\n", false, true},
        {"http-request deny = if METH_POST\n", false, false},
        {"use_backend = b if METH_CONNECT\n[backend b]\nmode = http\n", false, false},
        {"http-request deny = if METH_CONNECT !LOCALHOST\n", true, true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[512];
        snprintf(text, sizeof(text), FWD "%s", cases[i].rules);
        struct config *cfg = cfg_load_ok(text);
        CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
        const struct cfg_http *h = &cfg->proxies[0].http;
        if (h->has_client_acl != cases[i].client || h->has_connect_rule != cases[i].connect)
            fprintf(stderr, "\ncase %zu: client %d connect %d\n", i, h->has_client_acl,
                    h->has_connect_rule);
        CU_ASSERT_EQUAL(h->has_client_acl, cases[i].client);
        CU_ASSERT_EQUAL(h->has_connect_rule, cases[i].connect);
        config_free(cfg);
    }
}

/* examples/forward-proxy.ini loads (run from the repository root, like the docs test). */
static void test_example(void)
{
    struct config *cfg = NULL;
    char err[512] = "";
    int rc = config_load("examples/forward-proxy.ini", &cfg, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    const struct cfg_proxy *p = config_find_proxy(cfg, "proxy", CFG_CAP_FE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_TRUE(p->http.http_proxy);
    CU_ASSERT_TRUE(p->http.anonymize);
    CU_ASSERT_PTR_NOT_NULL(p->http.resolvers);
    CU_ASSERT_PTR_NOT_NULL(p->http.auth_list);
    CU_ASSERT_TRUE(p->http.has_client_acl);
    CU_ASSERT_TRUE(p->http.has_connect_rule);
    config_free(cfg);
}

/* scripts/haproxy2ini converts resolvers, userlists and forward-proxy statements. */
static void test_haproxy2ini(void)
{
    struct h2i r;
    int rc = h2i_run(&r, "resolvers dns\n"                                  /* 1 */
                         "    nameserver ns1 10.0.0.53:53\n"                /* 2 */
                         "    nameserver ns2 tcp@10.0.0.54:53\n"            /* 3 */
                         "    hold valid 30s\n"                             /* 4 */
                         "userlist staff\n"                                 /* 5 */
                         "    user alice password " BCRYPT " groups a\n"    /* 6 */
                         "    user bob password $1$abcdefgh$0123456789ab\n" /* 7 */
                         "frontend proxy\n"                                 /* 8 */
                         "    mode http\n"                                  /* 9 */
                         "    bind 127.0.0.1:3128\n"                        /* 10 */
                         "    option http_proxy\n"                          /* 11 */
                         "    acl ok http_auth(staff)\n"                    /* 12 */
                         "    http-request auth realm Proxy unless ok\n"    /* 13 */
                         "    log-format \"%ci %r\"\n");                    /* 14 */
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(r.status, 1);
    struct config *cfg = cfg_load_ok(r.ini);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->nresolvers, 1);
    CU_ASSERT_EQUAL(cfg->resolvers[0].nns, 1);
    CU_ASSERT_EQUAL(cfg->resolvers[0].hold_valid, 30000);
    CU_ASSERT_EQUAL_FATAL(cfg->nuserlists, 1);
    CU_ASSERT_EQUAL(cfg->userlists[0].nusers, 1);
    const struct cfg_proxy *px = &cfg->proxies[0];
    CU_ASSERT_TRUE(px->http.http_proxy);
    CU_ASSERT_PTR_EQUAL(px->http.auth_list, &cfg->userlists[0]);
    CU_ASSERT_EQUAL(px->http.req_rules[0].action, HTTP_ACT_AUTH);
    config_free(cfg);
    static const int lines[] = {3, 7, 14};
    for (size_t i = 0; i < 3; i++)
        CU_ASSERT_TRUE(h2i_left_out(&r, lines[i]));
    CU_ASSERT_FALSE(h2i_mentions(&r, 6));
}

int suite_config_fwd(void)
{
    CU_pSuite s = CU_add_suite("config_fwd", NULL, NULL);
    if (!s)
        return CU_get_error();
    CU_add_test(s, "resolvers", test_resolvers);
    CU_add_test(s, "resolvers_errors", test_resolvers_errors);
    CU_add_test(s, "userlist", test_userlist);
    CU_add_test(s, "userlist_errors", test_userlist_errors);
    CU_add_test(s, "htpasswd", test_htpasswd);
    CU_add_test(s, "proxy_keywords", test_proxy_keywords);
    CU_add_test(s, "proxy_errors", test_proxy_errors);
    CU_add_test(s, "acls", test_acls);
    CU_add_test(s, "acl_errors", test_acl_errors);
    CU_add_test(s, "auth_rule", test_auth_rule);
    CU_add_test(s, "bookkeeping", test_bookkeeping);
    CU_add_test(s, "example", test_example);
    CU_add_test(s, "haproxy2ini", test_haproxy2ini);
    return CU_get_error();
}
