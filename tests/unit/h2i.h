/* Runs scripts/haproxy2ini for the unit tests that check what it converts: the INI it printed,
 * what it reported on standard error and its exit status. */
#ifndef SLUICE_TESTS_UNIT_H2I_H
#define SLUICE_TESTS_UNIT_H2I_H

#include <stdbool.h>

struct h2i {
    char in[48];       /* the haproxy.cfg written for the run (removed by h2i_run) */
    char ini[8192];    /* standard output */
    char report[4096]; /* standard error: "IN:LINE: unsupported: ..." lines */
    int status;        /* exit status: 1 when something was left out */
};

/* Convert haproxy_cfg. 0, or -1 when the script could not be run. */
int h2i_run(struct h2i *r, const char *haproxy_cfg);

/* Whether the report says input line `line` was left out. */
bool h2i_left_out(const struct h2i *r, int line);
/* Whether the report says anything about input line `line`. */
bool h2i_mentions(const struct h2i *r, int line);

#endif
