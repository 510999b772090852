/* HAProxy's statement tokenizer: blank-separated words with quotes, escapes and '#' comments. */
#include "config/config_internal.h"

#include <ctype.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int config__tokenize(const char *line, char *out, char **argv, const char **why)
{
    const char *p = line;
    char *o = out;
    int argc = 0;
    bool in_word = false;
    char quote = 0; /* '"' or '\'' while inside quotes */

    for (;;) {
        char c = *p;
        if (c == '\0') {
            if (quote) {
                *why = quote == '"' ? "unmatched double quote (expected a closing \")"
                                    : "unmatched single quote (expected a closing ')";
                return -1;
            }
            break;
        }
        if (quote == '\'') { /* single quotes: everything literal */
            if (c == '\'')
                quote = 0;
            else
                *o++ = c;
            p++;
            continue;
        }
        if (!quote && (c == ' ' || c == '\t')) {
            if (in_word) {
                *o++ = '\0';
                in_word = false;
            }
            p++;
            continue;
        }
        if (!quote && c == '#')
            break; /* comment up to the end of the line */
        if (!in_word) {
            if (argc == CFG_MAX_WORDS) {
                *why = "too many words on one line (expected at most 64)";
                return -1;
            }
            argv[argc++] = o;
            in_word = true;
        }
        if (c == '"') { /* double quotes: blanks and '#' literal, escapes still apply */
            quote = quote ? 0 : '"';
            p++;
            continue;
        }
        if (c == '\'' && !quote) {
            quote = '\'';
            p++;
            continue;
        }
        if (c == '\\') {
            char n = p[1];
            switch (n) {
            case ' ':
            case '\\':
            case '#':
            case '"':
            case '\'':
            case '$':
                *o++ = n;
                p += 2;
                break;
            case 'r':
                *o++ = '\r';
                p += 2;
                break;
            case 'n':
                *o++ = '\n';
                p += 2;
                break;
            case 't':
                *o++ = '\t';
                p += 2;
                break;
            case 'x': {
                int hi = hexval(p[2]), lo = hi < 0 ? -1 : hexval(p[3]);
                if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                    *why = "invalid \\x escape (expected \\xHH with two hex digits, not 00)";
                    return -1;
                }
                *o++ = (char)(hi * 16 + lo);
                p += 4;
                break;
            }
            case '\0':
                *why = "backslash at the end of the line (expected a character after it)";
                return -1;
            default: /* unknown escape: keep it as written (regexes use them) */
                *o++ = c;
                *o++ = n;
                p += 2;
                break;
            }
            continue;
        }
        *o++ = c;
        p++;
    }
    if (in_word)
        *o++ = '\0';
    argv[argc] = NULL;
    return argc;
}
