/* Tests of the runtime API's interpreter: line splitting, words, commands and their answers,
 * levels, and the server changes (state, admin flags, weights) they make. */
#include <CUnit/CUnit.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "balancer/server.h"
#include "config/model.h"
#include "core/cli.h"
#include "core/stats.h"
#include "core/worker.h"

static void test_split(void)
{
    char line[] = "show info;show stat ; set server a/b state\\;x;;";
    char *c[8];
    size_t n = cli_split(line, c, 8);
    CU_ASSERT_EQUAL(n, 5);
    CU_ASSERT_STRING_EQUAL(c[0], "show info");
    CU_ASSERT_STRING_EQUAL(c[1], "show stat ");
    CU_ASSERT_STRING_EQUAL(c[2], " set server a/b state\\;x");
    CU_ASSERT_STRING_EQUAL(c[3], "");
    CU_ASSERT_STRING_EQUAL(c[4], "");

    char one[] = "help";
    CU_ASSERT_EQUAL(cli_split(one, c, 8), 1);
    CU_ASSERT_STRING_EQUAL(c[0], "help");

    char many[] = "a;b;c;d";
    CU_ASSERT_EQUAL(cli_split(many, c, 2), 4); /* counts all, stores max */
    CU_ASSERT_STRING_EQUAL(c[1], "b");
}

static void test_tokenize(void)
{
    char cmd[] = "  set\tserver  app/s1 state\\;x a\\ b \\\\ ";
    char *v[8];
    int n = cli_tokenize(cmd, v, 8);
    CU_ASSERT_EQUAL(n, 6);
    CU_ASSERT_STRING_EQUAL(v[0], "set");
    CU_ASSERT_STRING_EQUAL(v[1], "server");
    CU_ASSERT_STRING_EQUAL(v[2], "app/s1");
    CU_ASSERT_STRING_EQUAL(v[3], "state;x");
    CU_ASSERT_STRING_EQUAL(v[4], "a b");
    CU_ASSERT_STRING_EQUAL(v[5], "\\");

    char empty[] = " \t ";
    CU_ASSERT_EQUAL(cli_tokenize(empty, v, 8), 0);
    char lots[] = "a b c d e";
    CU_ASSERT_EQUAL(cli_tokenize(lots, v, 3), 3);
    CU_ASSERT_STRING_EQUAL(v[2], "c");
}

static void test_out(void)
{
    struct cli_out o = {0};
    for (int i = 0; i < 1000; i++)
        cli_out_printf(&o, "%04d,", i);
    CU_ASSERT_EQUAL(o.len, 5000);
    CU_ASSERT_FALSE(o.oom);
    CU_ASSERT(strncmp(o.buf + 4995, "0999,", 5) == 0);
    char big[600];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    cli_out_printf(&o, "[%s]", big); /* longer than the formatter's stack buffer */
    CU_ASSERT_EQUAL(o.len, 5000 + 601);
    CU_ASSERT_EQUAL(o.buf[o.len - 1], ']');
    cli_out_free(&o);
    cli_out_free(&o);
}

/* A runtime without threads: a config, its balancer and statistics slots. */
struct fixture {
    struct config *cfg;
    struct runtime rt;
    struct frontend fe;
};

static void fixture_init(struct fixture *f, const char *balance)
{
    char text[1024];
    snprintf(text, sizeof(text),
             "[global]\nnbthread = 2\nmaxconn = 500\n"
             "stats socket = /tmp/x.sock mode 660 level admin expose-fd listeners\n"
             "stats socket = /tmp/y.sock\nstats timeout = 30s\n"
             "[listen app]\nbind = 127.0.0.1:1\nbalance = %s\n"
             "server = s1 127.0.0.1:9001 weight 10 check\nserver = s2 [::1]:9002\n"
             "server = s3 127.0.0.1:9003 disabled\n",
             balance);
    char err[256] = "";
    memset(f, 0, sizeof(*f));
    int rc = config_load_string("t.ini", text, &f->cfg, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    f->rt.cfg = f->cfg;
    f->rt.nworkers = 2;
    f->rt.bal = balancer_new(f->cfg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->rt.bal);
    f->fe.cfg = &f->cfg->proxies[0];
    f->rt.fes = &f->fe;
    f->rt.nfes = 1;
    size_t nsrv[1] = {3};
    f->rt.stats = stats_new(2, 1, 1, nsrv);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->rt.stats);
    f->rt.stats->version = "9.9";
}

static void fixture_free(struct fixture *f)
{
    stats_free(f->rt.stats);
    balancer_free(f->rt.bal);
    config_free(f->cfg);
}

/* Run one line at a level; returns the malloc'ed answer. */
static char *run(struct fixture *f, enum cfg_cli_level lv, const char *line)
{
    struct cli_ctx x = {.rt = &f->rt, .level = lv};
    struct cli_out o = {0};
    char *copy = strdup(line);
    cli_execute_line(&x, copy, &o);
    free(copy);
    char *s = strdup(o.buf ? o.buf : "");
    cli_out_free(&o);
    return s;
}

static bool answer_is(struct fixture *f, enum cfg_cli_level lv, const char *line, const char *want)
{
    char *got = run(f, lv, line);
    bool ok = strcmp(got, want) == 0;
    if (!ok)
        fprintf(stderr, "\n'%s' answered '%s', expected '%s'\n", line, got, want);
    free(got);
    return ok;
}

static void test_config(void)
{
    struct fixture f;
    fixture_init(&f, "roundrobin");
    CU_ASSERT_EQUAL(f.cfg->nstats_sockets, 2);
    const struct cfg_stats_socket *a = &f.cfg->stats_sockets[0], *b = &f.cfg->stats_sockets[1];
    CU_ASSERT_STRING_EQUAL(a->path, "/tmp/x.sock");
    CU_ASSERT_EQUAL(a->mode, 0660);
    CU_ASSERT_EQUAL(a->level, CFG_CLI_ADMIN);
    CU_ASSERT(a->expose_fd);
    CU_ASSERT_EQUAL(b->mode, -1);
    CU_ASSERT_EQUAL(b->level, CFG_CLI_OPERATOR);
    CU_ASSERT_FALSE(b->expose_fd);
    CU_ASSERT_EQUAL(f.cfg->stats_timeout, 30000);
    fixture_free(&f);

    static const char *const bad[] = {
        "stats socket = /a mode 9\n",      "stats socket = /a level root\n",
        "stats socket = /a mode\n",        "stats socket = /a expose-fd all\n",
        "stats socket = 127.0.0.1:9999\n", "stats socket = /a\nstats socket = /a\n",
        "stats socket = /a owner x\n",     "stats timeout = 0\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[256], err[256] = "";
        snprintf(text, sizeof(text), "[global]\n%s", bad[i]);
        struct config *c = NULL;
        CU_ASSERT_NOT_EQUAL(config_load_string("t.ini", text, &c, err, sizeof(err)), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "t.ini:"));
        config_free(c);
    }
    /* not in a proxy section */
    struct config *c = NULL;
    char err[256] = "";
    CU_ASSERT_NOT_EQUAL(
        config_load_string("t.ini", "[listen x]\nstats socket = /a\n", &c, err, sizeof(err)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "[global]"));
    config_free(c);
}

static void test_help_and_unknown(void)
{
    struct fixture f;
    fixture_init(&f, "roundrobin");
    char *h = run(&f, CFG_CLI_USER, "help");
    CU_ASSERT(strncmp(h, "The following commands are valid at this level:\n", 48) == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "show servers state"));
    CU_ASSERT_PTR_NULL(strstr(h, "set server")); /* not at level user */
    CU_ASSERT(h[strlen(h) - 1] == '\n' && h[strlen(h) - 2] == '\n');
    free(h);
    h = run(&f, CFG_CLI_ADMIN, "help");
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "set server"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "show sess"));
    free(h);
    h = run(&f, CFG_CLI_ADMIN, "show foo bar baz");
    CU_ASSERT(strncmp(h,
                      "Unknown command: 'show foo bar'. Please enter one of the following "
                      "commands only:\n",
                      82) == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "  help "));
    free(h);
    /* `show` alone and `set` alone are not commands */
    h = run(&f, CFG_CLI_ADMIN, "set");
    CU_ASSERT(strncmp(h, "Unknown command: 'set'", 22) == 0);
    free(h);
    CU_ASSERT(answer_is(&f, CFG_CLI_ADMIN, "", ""));
    CU_ASSERT(answer_is(&f, CFG_CLI_ADMIN, " ; ;", ""));
    fixture_free(&f);
}

static void test_prompt_and_quit(void)
{
    struct fixture f;
    fixture_init(&f, "roundrobin");
    struct cli_ctx x = {.rt = &f.rt, .level = CFG_CLI_ADMIN};
    struct cli_out o = {0};
    char l1[] = "prompt";
    cli_execute_line(&x, l1, &o);
    CU_ASSERT(x.prompt);
    CU_ASSERT_STRING_EQUAL(o.buf, "\n> ");
    o.len = 0;
    char l2[] = "get weight app/s1";
    cli_execute_line(&x, l2, &o);
    CU_ASSERT_STRING_EQUAL(o.buf, "10 (initial 10)\n\n> ");
    o.len = 0;
    char l3[] = "get weight app/s2; quit; get weight app/s1";
    cli_execute_line(&x, l3, &o);
    CU_ASSERT(x.quit);
    CU_ASSERT_STRING_EQUAL(o.buf, "1 (initial 1)\n\n"); /* nothing after quit, no prompt */
    cli_out_free(&o);
    fixture_free(&f);
}

static void test_levels(void)
{
    struct fixture f;
    fixture_init(&f, "roundrobin");
    const char *admin_only[] = {"set server app/s1 state maint", "set server app/s1 weight 3",
                                "disable server app/s1", "enable server app/s1",
                                "set weight app/s1 3"};
    for (size_t i = 0; i < 5; i++) {
        CU_ASSERT(answer_is(&f, CFG_CLI_USER, admin_only[i], "Permission denied\n\n"));
        CU_ASSERT(answer_is(&f, CFG_CLI_OPERATOR, admin_only[i], "Permission denied\n\n"));
    }
    struct server *s1 = &f.rt.bal->backends[0].servers[0];
    CU_ASSERT_EQUAL(atomic_load(&s1->state), SRV_ST_UP);
    CU_ASSERT_EQUAL(atomic_load(&s1->eweight), 10);
    CU_ASSERT(answer_is(&f, CFG_CLI_USER, "show sess", "Permission denied\n\n"));
    char *h = run(&f, CFG_CLI_OPERATOR, "show sess"); /* no worker threads here: no lines */
    CU_ASSERT(strncmp(h, "Permission denied", 17) != 0);
    free(h);
    fixture_free(&f);
}

static void test_server_errors(void)
{
    struct fixture f;
    fixture_init(&f, "roundrobin");
    const enum cfg_cli_level A = CFG_CLI_ADMIN;
    CU_ASSERT(answer_is(&f, A, "set server", "Require 'backend/server'.\n\n"));
    CU_ASSERT(answer_is(&f, A, "set server app", "Require 'backend/server'.\n\n"));
    CU_ASSERT(answer_is(&f, A, "set server nope/s1 weight 1", "No such backend.\n\n"));
    CU_ASSERT(answer_is(&f, A, "set server app/nope weight 1", "No such server.\n\n"));
    CU_ASSERT(answer_is(&f, A, "disable server app/nope", "No such server.\n\n"));
    CU_ASSERT(answer_is(&f, A, "get weight x/y", "No such backend.\n\n"));
    CU_ASSERT(answer_is(&f, A, "set server app/s1 state up",
                        "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n"));
    CU_ASSERT(answer_is(&f, A, "set server app/s1 addr 1.2.3.4",
                        "'set server <srv>' only supports 'state' and 'weight'.\n\n"));
    CU_ASSERT(answer_is(&f, A, "set server app/s1 weight", "Require <weight> or <weight%>.\n\n"));
    CU_ASSERT(answer_is(&f, A, "set server app/s1 weight x", "Require <weight> or <weight%>.\n\n"));
    CU_ASSERT(
        answer_is(&f, A, "set server app/s1 weight 5x", "Require <weight> or <weight%>.\n\n"));
    CU_ASSERT(answer_is(&f, A, "set server app/s1 weight 257",
                        "Absolute weight can only be between 0 and 256 inclusive.\n\n"));
    CU_ASSERT(answer_is(&f, A, "set server app/s1 weight -1",
                        "Absolute weight can only be between 0 and 256 inclusive.\n\n"));
    CU_ASSERT(
        answer_is(&f, A, "set server app/s1 weight -5%", "Relative weight must be positive.\n\n"));
    CU_ASSERT(answer_is(&f, A, "show servers state nope", "Can't find backend.\n\n"));
    fixture_free(&f);
}

static void test_weights(void)
{
    struct fixture f;
    fixture_init(&f, "roundrobin");
    struct backend *be = &f.rt.bal->backends[0];
    struct server *s1 = &be->servers[0];
    const enum cfg_cli_level A = CFG_CLI_ADMIN;
    uint64_t gen = atomic_load(&be->gen);
    CU_ASSERT(answer_is(&f, A, "set server app/s1 weight 0", "\n"));
    CU_ASSERT_EQUAL(atomic_load(&s1->eweight), 0);
    CU_ASSERT_EQUAL(atomic_load(&s1->uweight), 0);
    CU_ASSERT(atomic_load(&be->gen) > gen); /* workers see the change */
    CU_ASSERT(answer_is(&f, A, "set server app/s1 weight 256", "\n"));
    CU_ASSERT_EQUAL(atomic_load(&s1->eweight), 256);
    CU_ASSERT(answer_is(&f, A, "set weight app/s1 50%", "\n")); /* of the initial 10 */
    CU_ASSERT_EQUAL(atomic_load(&s1->eweight), 5);
    CU_ASSERT(answer_is(&f, A, "get weight app/s1", "5 (initial 10)\n\n"));
    CU_ASSERT(answer_is(&f, A, "set server app/s1 weight 10000%", "\n")); /* capped at 256 */
    CU_ASSERT_EQUAL(atomic_load(&s1->eweight), 256);
    CU_ASSERT(answer_is(&f, A, "set server #1/#1 weight 7", "\n")); /* HAProxy's #ID forms */
    CU_ASSERT_EQUAL(atomic_load(&s1->eweight), 7);
    fixture_free(&f);

    /* static-rr builds its schedule once: only 0% and 100% */
    fixture_init(&f, "static-rr");
    s1 = &f.rt.bal->backends[0].servers[0];
    CU_ASSERT(answer_is(&f, A, "set server app/s1 weight 3",
                        "Backend is using a static LB algorithm and only accepts weights '0%' "
                        "and '100%'.\n\n"));
    CU_ASSERT(answer_is(&f, A, "set server app/s1 weight 0", "\n"));
    CU_ASSERT_EQUAL(atomic_load(&s1->eweight), 0);
    CU_ASSERT(answer_is(&f, A, "set server app/s1 weight 100%", "\n"));
    CU_ASSERT_EQUAL(atomic_load(&s1->eweight), 10);
    fixture_free(&f);
}

static void test_states(void)
{
    struct fixture f;
    fixture_init(&f, "roundrobin");
    struct server *s1 = &f.rt.bal->backends[0].servers[0];
    struct server *s3 = &f.rt.bal->backends[0].servers[2];
    const enum cfg_cli_level A = CFG_CLI_ADMIN;
    CU_ASSERT_EQUAL(atomic_load(&s3->state), SRV_ST_MAINT);
    CU_ASSERT_EQUAL(atomic_load(&s3->admin), SRV_ADMF_CMAINT);

    /* drain: weight 0, still UP; ready: weight back */
    CU_ASSERT(answer_is(&f, A, "set server app/s1 state drain", "\n"));
    CU_ASSERT_EQUAL(atomic_load(&s1->state), SRV_ST_UP);
    CU_ASSERT_EQUAL(atomic_load(&s1->eweight), 0);
    CU_ASSERT_EQUAL(atomic_load(&s1->admin), SRV_ADMF_FDRAIN);
    /* a weight set while drained is kept for later */
    CU_ASSERT(answer_is(&f, A, "set server app/s1 weight 4", "\n"));
    CU_ASSERT_EQUAL(atomic_load(&s1->eweight), 0);
    CU_ASSERT(answer_is(&f, A, "set server app/s1 state ready", "\n"));
    CU_ASSERT_EQUAL(atomic_load(&s1->eweight), 4);
    CU_ASSERT_EQUAL(atomic_load(&s1->admin), 0);

    /* maint: MAINT with the weight kept; a health result cannot bring it back */
    CU_ASSERT(answer_is(&f, A, "disable server app/s1", "\n"));
    CU_ASSERT_EQUAL(atomic_load(&s1->state), SRV_ST_MAINT);
    CU_ASSERT_EQUAL(atomic_load(&s1->admin), SRV_ADMF_FMAINT);
    CU_ASSERT_FALSE(server_change_state(s1, SRV_ST_DOWN, SRV_ST_UP));
    CU_ASSERT_FALSE(server_change_state(s1, SRV_ST_UP, SRV_ST_DOWN));
    CU_ASSERT_EQUAL(atomic_load(&s1->state), SRV_ST_MAINT);
    /* maint → drain leaves maintenance at weight 0 */
    CU_ASSERT(answer_is(&f, A, "set server app/s1 state drain", "\n"));
    CU_ASSERT_EQUAL(atomic_load(&s1->state), SRV_ST_UP);
    CU_ASSERT_EQUAL(atomic_load(&s1->eweight), 0);
    CU_ASSERT(answer_is(&f, A, "set server app/s1 state maint", "\n"));
    CU_ASSERT_EQUAL(atomic_load(&s1->admin), SRV_ADMF_FMAINT);
    CU_ASSERT(answer_is(&f, A, "enable server app/s1", "\n"));
    CU_ASSERT_EQUAL(atomic_load(&s1->state), SRV_ST_UP);
    CU_ASSERT_EQUAL(atomic_load(&s1->eweight), 4);

    /* ready on a DOWN server leaves it to its checks */
    server_set_state(s1, SRV_ST_DOWN);
    CU_ASSERT(answer_is(&f, A, "set server app/s1 state ready", "\n"));
    CU_ASSERT_EQUAL(atomic_load(&s1->state), SRV_ST_DOWN);

    /* a server disabled in the config comes back with enable */
    CU_ASSERT(answer_is(&f, A, "enable server app/s3", "\n"));
    CU_ASSERT_EQUAL(atomic_load(&s3->state), SRV_ST_UP);
    CU_ASSERT_EQUAL(atomic_load(&s3->admin), 0);
    fixture_free(&f);
}

static void test_show(void)
{
    struct fixture f;
    fixture_init(&f, "roundrobin");
    const enum cfg_cli_level U = CFG_CLI_USER;
    char *h = run(&f, U, "show servers state");
    const char *head = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state "
                       "srv_uweight srv_iweight srv_time_since_last_change srv_check_status "
                       "srv_check_result srv_check_health srv_check_state srv_agent_state "
                       "bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl "
                       "srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n";
    CU_ASSERT(strncmp(h, head, strlen(head)) == 0);
    const char *l = h + strlen(head);
    /* s1: checked, UP (health rise+fall-1 = 4), INI; s2 IPv6; s3 config maintenance */
    const char *want1 = "1 app 1 s1 127.0.0.1 2 0 10 10 0 1 0 4 6 0 0 0 - 9001 - 0 0 - - 0\n";
    CU_ASSERT(strncmp(l, want1, strlen(want1)) == 0);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(h, "\n1 app 2 s2 ::1 2 0 1 1 0 0 0 0 0 0 0 0 - 9002 - 0 0 - - 0\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "\n1 app 3 s3 127.0.0.1 0 4 1 1 "));
    CU_ASSERT(strcmp(h + strlen(h) - 2, "\n\n") == 0);
    free(h);
    h = run(&f, U, "show servers state app");
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "1 app 3 s3"));
    free(h);

    /* show stat: the stats page's CSV with the summed counters */
    for (unsigned w = 0; w < 2; w++)
        stats_add(stats_srv(&f.rt.stats->w[w], 0, 1), STC_SESS, 21);
    h = run(&f, U, "show stat");
    CU_ASSERT(strncmp(h, "# pxname,svname,", 16) == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "\napp,s2,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "\napp,BACKEND,"));
    const char *s2 = strstr(h, "\napp,s2,");
    int commas = 0;
    const char *p = s2 + 1;
    while (commas < 7 && *p) /* stot is the 8th column */
        commas += *p++ == ',';
    CU_ASSERT(strncmp(p, "42,", 3) == 0);
    free(h);

    atomic_store(&f.rt.live, 3);
    h = run(&f, U, "show info");
    CU_ASSERT(strncmp(h, "Name: sluice\nVersion: 9.9\nNbthread: 2\n", 38) == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "\nMaxconn: 500\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "\nCurrConns: 3\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "\nUptime_sec: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "\nPid: "));
    free(h);
    fixture_free(&f);
}

int suite_cli(void)
{
    CU_pSuite s = CU_add_suite("cli", NULL, NULL);
    if (!s)
        return CU_get_error();
    if (!CU_add_test(s, "split", test_split) || !CU_add_test(s, "tokenize", test_tokenize) ||
        !CU_add_test(s, "out", test_out) || !CU_add_test(s, "config", test_config) ||
        !CU_add_test(s, "help_and_unknown", test_help_and_unknown) ||
        !CU_add_test(s, "prompt_and_quit", test_prompt_and_quit) ||
        !CU_add_test(s, "levels", test_levels) ||
        !CU_add_test(s, "server_errors", test_server_errors) ||
        !CU_add_test(s, "weights", test_weights) || !CU_add_test(s, "states", test_states) ||
        !CU_add_test(s, "show", test_show))
        return CU_get_error();
    return CUE_SUCCESS;
}
