/* Unit-test runner: registers one CUnit suite per module; `unit SUITE [TEST]` runs a subset. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

/* Each test_<module>.c defines suite_<module>(), which adds its suite and returns a CUnit error
 * code. Declared weak so the runner links while a module's tests are still being written. */
#define SUITES(X)                                                                                  \
    X(config)                                                                                      \
    X(config_fwd)                                                                                  \
    X(config_errors)                                                                               \
    X(balancer)                                                                                    \
    X(maglev)                                                                                      \
    X(timer)                                                                                       \
    X(ring)                                                                                        \
    X(pipe_pool)                                                                                   \
    X(send_batch)                                                                                  \
    X(epoch)                                                                                       \
    X(proxy_proto)                                                                                 \
    X(http_parse) X(acl) X(fmt) X(map) X(rewrite) X(auth) X(dns) X(log) X(stats) X(cli) X(stktable)
#define DECLARE(n) extern int suite_##n(void) __attribute__((weak));
SUITES(DECLARE)

int main(int argc, char **argv)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
#define REGISTER(n)                                                                                \
    if (suite_##n && suite_##n() != CUE_SUCCESS) {                                                 \
        fprintf(stderr, "cannot register suite %s: %s\n", #n, CU_get_error_msg());                 \
        return 2;                                                                                  \
    }
    SUITES(REGISTER)
    CU_basic_set_mode(CU_BRM_VERBOSE);
    if (argc > 1) {
        CU_pSuite s = CU_get_suite(argv[1]);
        if (!s) {
            fprintf(stderr, "unknown suite '%s'\n", argv[1]);
            return 2;
        }
        if (argc > 2) {
            CU_pTest t = CU_get_test(s, argv[2]);
            if (!t) {
                fprintf(stderr, "unknown test '%s' in suite '%s'\n", argv[2], argv[1]);
                return 2;
            }
            CU_basic_run_test(s, t);
        } else {
            CU_basic_run_suite(s);
        }
    } else {
        CU_basic_run_tests();
    }
    /* CU_basic_run_* return success even when assertions fail: judge by the failure count. */
    unsigned failures = CU_get_number_of_failures();
    unsigned tests_failed = CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return (failures > 0 || tests_failed > 0) ? 1 : 0;
}
