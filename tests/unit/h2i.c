/* See h2i.h. */
#include "h2i.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static size_t read_all(FILE *fp, char *buf, size_t cap)
{
    size_t n = fread(buf, 1, cap - 1, fp);
    buf[n] = '\0';
    return n;
}

int h2i_run(struct h2i *r, const char *haproxy_cfg)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->in, sizeof(r->in), "/tmp/sluice-h2i-XXXXXX");
    int fd = mkstemp(r->in);
    if (fd < 0)
        return -1;
    FILE *fp = fdopen(fd, "w");
    if (!fp) {
        close(fd);
        return -1;
    }
    fputs(haproxy_cfg, fp);
    fclose(fp);
    char cmd[256], errpath[64];
    snprintf(errpath, sizeof(errpath), "%s.err", r->in);
    snprintf(cmd, sizeof(cmd), "scripts/haproxy2ini %s 2>%s", r->in, errpath);
    FILE *p = popen(cmd, "r");
    int rc = -1;
    if (p) {
        read_all(p, r->ini, sizeof(r->ini));
        int st = pclose(p);
        r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        fp = fopen(errpath, "r");
        if (fp) {
            read_all(fp, r->report, sizeof(r->report));
            fclose(fp);
            rc = 0;
        }
    }
    unlink(errpath);
    unlink(r->in);
    return rc;
}

static bool reports(const struct h2i *r, int line, const char *what)
{
    char want[96];
    snprintf(want, sizeof(want), "%s:%d: %s", r->in, line, what);
    return strstr(r->report, want) != NULL;
}

bool h2i_left_out(const struct h2i *r, int line)
{
    return reports(r, line, "unsupported");
}

bool h2i_mentions(const struct h2i *r, int line)
{
    return reports(r, line, "");
}
