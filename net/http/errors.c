/* Built-in error pages. They are fixed strings built once, so answering an error costs no
 * formatting; like HAProxy's they say what happened and nothing about what is behind the proxy. */
#include "net/http/errors.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct page {
    int status;
    const char *reason;
    const char *text;
    char *data; /* built once */
    size_t len;
};

static struct page pages[] = {
    {200, "OK", "Service ready.", NULL, 0},
    {400, "Bad Request", "Your browser sent an invalid request.", NULL, 0},
    {401, "Unauthorized", "You need a valid user and password to access this content.", NULL, 0},
    {403, "Forbidden", "Request forbidden by administrative rules.", NULL, 0},
    {404, "Not Found", "The resource could not be found.", NULL, 0},
    {405, "Method Not Allowed",
     "A request was made of a resource using a request method not "
     "supported by that resource.",
     NULL, 0},
    {407, "Proxy Authentication Required",
     "You need a valid user and password to use this "
     "proxy.",
     NULL, 0},
    {408, "Request Time-out", "Your browser didn't send a complete request in time.", NULL, 0},
    {410, "Gone", "The resource is no longer available.", NULL, 0},
    {413, "Payload Too Large", "The request entity exceeds the maximum allowed.", NULL, 0},
    {414, "URI Too Long", "The request target is longer than the server accepts.", NULL, 0},
    {425, "Too Early", "Your browser sent early data.", NULL, 0},
    {429, "Too Many Requests", "You have sent too many requests in a given amount of time.", NULL,
     0},
    {431, "Request Header Fields Too Large", "The request header fields are too large.", NULL, 0},
    {500, "Internal Server Error", "An internal server error occurred.", NULL, 0},
    {501, "Not Implemented", "The server does not support the functionality required.", NULL, 0},
    {502, "Bad Gateway", "The server returned an invalid or incomplete response.", NULL, 0},
    {503, "Service Unavailable", "No server is available to handle this request.", NULL, 0},
    {504, "Gateway Time-out", "The server didn't respond in time.", NULL, 0},
    {505, "HTTP Version Not Supported", "The HTTP version is not supported.", NULL, 0},
};

static pthread_once_t built = PTHREAD_ONCE_INIT;
static char storage[sizeof(pages) / sizeof(pages[0])][512];

static void build_pages(void)
{
    for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
        char body[320];
        int bl = snprintf(body, sizeof(body), "<html><body><h1>%d %s</h1>\n%s\n</body></html>\n",
                          pages[i].status, pages[i].reason, pages[i].text);
        int n = snprintf(storage[i], sizeof(storage[i]),
                         "HTTP/1.1 %d %s\r\ncontent-length: %d\r\ncache-control: no-cache\r\n"
                         "content-type: text/html\r\nconnection: close\r\n\r\n%s",
                         pages[i].status, pages[i].reason, bl, body);
        pages[i].data = storage[i];
        pages[i].len = (size_t)n;
    }
}

const char *http_reason(int status)
{
    for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
        if (pages[i].status == status)
            return pages[i].reason;
    switch (status) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    default:
        return "";
    }
}

static const char *configured_page(const struct cfg_proxy *p, int status, size_t *len)
{
    for (size_t i = 0; p && i < p->http.nerrorfiles; i++) {
        if (p->http.errorfiles[i].status == status) {
            *len = p->http.errorfiles[i].len;
            return p->http.errorfiles[i].data;
        }
    }
    return NULL;
}

const char *http_error_page2(const struct cfg_proxy *first, const struct cfg_proxy *then,
                             int status, size_t *len)
{
    const char *page = configured_page(first, status, len);
    return page ? page : http_error_page(then, status, len);
}

const char *http_error_page(const struct cfg_proxy *p, int status, size_t *len)
{
    const char *page = configured_page(p, status, len);
    if (page)
        return page;
    pthread_once(&built, build_pages);
    for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
        if (pages[i].status == status) {
            *len = pages[i].len;
            return pages[i].data;
        }
    }
    return http_error_page(NULL, 500, len);
}
