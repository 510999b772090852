/* See cfg_load.h. */
#include "cfg_load.h"

#include <CUnit/CUnit.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct config *cfg_load_ok(const char *text)
{
    struct config *cfg = NULL;
    char err[512];
    int rc = config_load_string("t.ini", text, &cfg, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "\nunexpected error: %s\n", err);
    CU_ASSERT_EQUAL(rc, 0);
    return cfg;
}

void cfg_load_err(const char *text, const char *expect)
{
    struct config *cfg = (struct config *)1;
    char err[1024] = "";
    int rc = config_load_string("t.ini", text, &cfg, err, sizeof(err));
    bool ok = rc == -1 && cfg == NULL && strstr(err, expect) != NULL;
    if (!ok)
        fprintf(stderr, "\n  got:    %s\n  wanted: %s\n", err, expect);
    CU_ASSERT_TRUE(ok);
    if (rc == 0)
        config_free(cfg);
}

void cfg_temp_file(char *path, const char *text)
{
    strcpy(path, "/tmp/sluice-cfg-XXXXXX");
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    size_t n = strlen(text);
    CU_ASSERT_EQUAL_FATAL(write(fd, text, n), (ssize_t)n);
    close(fd);
}
