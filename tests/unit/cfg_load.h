/* Loading configurations from strings in the config unit tests: expect success, or a failure
 * whose message contains given text; write temporary files for statements that read one. */
#ifndef SLUICE_TESTS_UNIT_CFG_LOAD_H
#define SLUICE_TESTS_UNIT_CFG_LOAD_H

#include "config/model.h"

/* Load `text` (named t.ini in messages) and assert it loads: the config, or NULL after printing
 * the message. The caller frees it. */
struct config *cfg_load_ok(const char *text);

/* Assert that loading `text` fails with a message containing `expect` (printed when not). */
void cfg_load_err(const char *text, const char *expect);

/* Write `text` to a new temporary file; its name in path (at least 32 bytes). The caller
 * unlinks it. */
void cfg_temp_file(char *path, const char *text);

#endif
