/* backend: a small, fast, non-blocking test server for sluice's benchmark and integration tests.
 *
 * One edge-triggered epoll loop per thread (default 1; `-t N` gives each thread its own listening
 * sockets bound with SO_REUSEPORT). Every socket is registered once with
 * EPOLLIN|EPOLLOUT|EPOLLRDHUP| EPOLLET; "can read"/"can write" are flags in the connection, cleared
 * when a read or write comes back short or with EAGAIN, so a keep-alive request costs one read and
 * one sendmsg. (A short read is trusted to mean "drained" except once EPOLLRDHUP was reported: data
 * and FIN that arrived together raise a single edge, so then we read on until read() returns 0.)
 *
 * Modes:
 *   http    HTTP/1.1 (and 1.0) with keep-alive and pipelining. Routes (any method; HEAD omits
 * body): /            "hello, world\n" (13 bytes) /size/N      N bytes (suffix k, m, g = 2^10,
 * 2^20, 2^30) of the pattern below, streamed from a static buffer, never allocated /name        the
 * server name (-n), no newline /status/NNN  that status, empty body /stats       "accepts=N
 * requests=M\n" /client      the client address "ADDR:PORT" (from the PROXY header with
 * --proxy-proto) /echo        the request body (Content-Length) streamed back Every response has
 * Content-Length and "X-Server: NAME"; with --proxy-proto also "X-Client: ADDR:PORT". Request
 * bodies (Content-Length) are read and discarded. Chunked request bodies are answered with 501 and
 * the connection is closed. echo    every byte is written back; at the client's EOF the pending
 * bytes are written, then shutdown(SHUT_WR) and close (so half-close can be tested end to end).
 *   sink    reads and discards; at EOF writes "bytes=N crc32=XXXXXXXX\n" (zlib's CRC-32) and
 * closes. source  writes --bytes N bytes of the pattern, then shutdown(SHUT_WR), and closes at EOF.
 *
 * The pattern: byte i of a body is PATTERN[i % 64], PATTERN being the base64 alphabet
 * "A-Za-z0-9+/", so a client can check any range of a body.
 *
 * --proxy-proto: each connection must begin with a PROXY protocol v1 or v2 header (else it is
 * closed). Addresses are written "1.2.3.4:5" or "[::1]:5"; for v1 UNKNOWN / v2 LOCAL the real peer.
 * In echo mode the first line written back is "PROXY-SRC ADDR:PORT\n".
 *
 * After listening it prints "ready PORT" (one line per listener, flushed) on stdout, and with
 * --ready-file F writes the ports one per line to F (atomically, by rename). SIGTERM/SIGINT stop
 * it cleanly (every connection and buffer freed).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE      16384 /* read and write buffer size */
#define OUT_RESERVE   1024  /* free output space needed before handling another request */
#define POOL_MAX      256   /* buffers kept per thread */
#define PAT_CHUNK     (256 * 1024)
#define MAX_LISTEN    16
#define MAX_NAME      200
#define LINGER_SEC    5 /* how long a half-closed connection waits for the client's EOF */
#define MAX_EVENTS    256
#define PP_V1_MAX     107
#define PP_V2_MAX_LEN (BUF_SIZE - 16)

enum mode { MODE_HTTP, MODE_ECHO, MODE_SINK, MODE_SOURCE };
enum src_kind { SRC_LISTEN, SRC_CONN, SRC_STOP };

static const char PATTERN64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static char *pattern; /* PAT_CHUNK + 64 bytes of the pattern (owned, shared read-only) */
static enum mode opt_mode = MODE_HTTP;
static const char *opt_name = "backend";
static bool opt_proxy;
static uint64_t opt_bytes;
static int opt_threads = 1;
static _Atomic unsigned long stat_accepts, stat_requests;
static atomic_bool stopping;
static int stop_fd = -1; /* eventfd, level-triggered in every thread's epoll, written at stop */

/* Prebuilt answers to the hot request, GET / (keep-alive 1.1, keep-alive 1.0, close). */
static char hot_ka11[512], hot_ka10[512], hot_close[512];
static size_t hot_ka11_len, hot_ka10_len, hot_close_len;

struct ev_src {
    enum src_kind kind;
    int fd;
};

struct buf {
    struct buf *next; /* pool free list */
    size_t off, len;
    char data[BUF_SIZE];
};

struct worker;

struct conn {
    struct ev_src src;   /* first: epoll data points here */
    struct worker *w;    /* borrowed */
    struct buf *rb, *wb; /* owned, NULL when empty */
    bool can_read, can_write, rd_eof, wr_shut, want_shut, close_after, pp_pending, sink_done;
    bool lingering, rdhup;           /* rdhup: the peer's FIN is queued behind the data */
    uint64_t stream_rem, stream_pos; /* pattern bytes still to send */
    uint64_t pass_rem;               /* input bytes to send back as they are (echo) */
    uint64_t discard_rem;            /* request body bytes still to read and drop */
    uint64_t sink_bytes;
    uint32_t sink_crc;
    time_t linger_deadline;
    char client[64];            /* "ADDR:PORT" from the PROXY header, "" when none */
    struct conn *prev, *next;   /* worker's list of all connections */
    struct conn *lprev, *lnext; /* worker's linger list (FIFO by deadline) */
};

struct listener {
    struct ev_src src;
};

struct worker {
    int ep;
    int nlisten;
    struct listener ls[MAX_LISTEN];
    struct conn *conns;
    struct conn *lhead, *ltail;
    struct buf *pool;
    int npool;
    int reserve_fd; /* closed to accept-and-drop a connection when out of fds */
    pthread_t tid;
};

/* ---- CRC-32 (zlib polynomial), slicing by 8 ---- */

static uint32_t crc_tab[8][256];

static void crc32_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_tab[0][i] = c;
    }
    for (int i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_tab[t][i] = (crc_tab[t - 1][i] >> 8) ^ crc_tab[0][crc_tab[t - 1][i] & 0xff];
}

static uint32_t crc32_update(uint32_t crc, const unsigned char *p, size_t n)
{
    crc = ~crc;
    while (n >= 8) {
        uint32_t a = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                            (uint32_t)p[3] << 24);
        uint32_t b =
            (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
        crc = crc_tab[7][a & 0xff] ^ crc_tab[6][(a >> 8) & 0xff] ^ crc_tab[5][(a >> 16) & 0xff] ^
              crc_tab[4][a >> 24] ^ crc_tab[3][b & 0xff] ^ crc_tab[2][(b >> 8) & 0xff] ^
              crc_tab[1][(b >> 16) & 0xff] ^ crc_tab[0][b >> 24];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = crc_tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* ---- small helpers ---- */

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "backend: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    exit(2);
}

static time_t now_coarse(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return ts.tv_sec;
}

/* Parses "N[k|m|g]" into *out; returns false on junk or overflow. */
static bool parse_size(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0, mul = 1;
    size_t i = 0;
    if (len == 0)
        return false;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        if (v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (i == 0)
        return false;
    if (i < len) {
        switch (s[i] | 0x20) {
        case 'k':
            mul = 1ull << 10;
            break;
        case 'm':
            mul = 1ull << 20;
            break;
        case 'g':
            mul = 1ull << 30;
            break;
        default:
            return false;
        }
        if (++i != len)
            return false;
    }
    if (v > (1ull << 50) / mul)
        return false;
    *out = v * mul;
    return true;
}

static void addr_format(const struct sockaddr *sa, char *out, size_t outsz)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
        port = ntohs(s4->sin_port);
        snprintf(out, outsz, "%s:%u", host, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
        port = ntohs(s6->sin6_port);
        snprintf(out, outsz, "[%s]:%u", host, port);
    } else {
        snprintf(out, outsz, "unknown");
    }
}

static void peer_format(int fd, char *out, size_t outsz)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
        snprintf(out, outsz, "unknown");
    else
        addr_format((struct sockaddr *)&ss, out, outsz);
}

/* ---- buffers (per-thread pool) ---- */

static struct buf *buf_get(struct worker *w)
{
    struct buf *b = w->pool;
    if (b) {
        w->pool = b->next;
        w->npool--;
    } else {
        b = malloc(sizeof(*b));
        if (!b)
            return NULL;
    }
    b->off = b->len = 0;
    return b;
}

static void buf_put(struct worker *w, struct buf *b)
{
    if (!b)
        return;
    if (w->npool >= POOL_MAX) {
        free(b);
        return;
    }
    b->next = w->pool;
    w->pool = b;
    w->npool++;
}

static size_t rb_avail(const struct conn *c)
{
    return c->rb ? c->rb->len - c->rb->off : 0;
}

static void rb_consume(struct conn *c, size_t n)
{
    c->rb->off += n;
    if (c->rb->off == c->rb->len) {
        buf_put(c->w, c->rb);
        c->rb = NULL;
    }
}

/* Appends to the output buffer; the caller has checked there is room (OUT_RESERVE). */
static bool wb_append(struct conn *c, const void *p, size_t n)
{
    if (!c->wb && !(c->wb = buf_get(c->w)))
        return false;
    struct buf *b = c->wb;
    if (b->off && b->len + n > BUF_SIZE) {
        memmove(b->data, b->data + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
    }
    if (b->len + n > BUF_SIZE)
        return false;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return true;
}

static size_t wb_free(const struct conn *c)
{
    return c->wb ? BUF_SIZE - (c->wb->len - c->wb->off) : BUF_SIZE;
}

static bool out_pending(const struct conn *c)
{
    return (c->wb && c->wb->len > c->wb->off) || c->stream_rem || (c->pass_rem && rb_avail(c));
}

/* ---- connection life ---- */

static void linger_unlink(struct worker *w, struct conn *c)
{
    if (!c->lingering)
        return;
    if (c->lprev)
        c->lprev->lnext = c->lnext;
    else
        w->lhead = c->lnext;
    if (c->lnext)
        c->lnext->lprev = c->lprev;
    else
        w->ltail = c->lprev;
    c->lingering = false;
}

static void conn_close(struct conn *c)
{
    struct worker *w = c->w;
    linger_unlink(w, c);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    close(c->src.fd); /* also removes it from the epoll set */
    buf_put(w, c->rb);
    buf_put(w, c->wb);
    free(c);
}

static void linger_add(struct worker *w, struct conn *c)
{
    c->lingering = true;
    c->linger_deadline = now_coarse() + LINGER_SEC;
    c->lnext = NULL;
    c->lprev = w->ltail;
    if (w->ltail)
        w->ltail->lnext = c;
    else
        w->lhead = c;
    w->ltail = c;
}

/* Reads once into the input buffer. Returns 1 on progress (data or EOF), 0 when nothing to do,
 * -1 on a fatal error. A short read means the socket is drained: with EPOLLET the next arrival
 * raises a new event, so no extra read is spent to see EAGAIN. */
static int conn_read(struct conn *c)
{
    char scratch[BUF_SIZE];
    char *dst;
    size_t room;
    if (c->wr_shut) { /* lingering: drop whatever still comes */
        dst = scratch;
        room = sizeof(scratch);
    } else {
        if (!c->rb && !(c->rb = buf_get(c->w)))
            return -1;
        struct buf *b = c->rb;
        if (b->off && BUF_SIZE - b->len < BUF_SIZE / 4) {
            memmove(b->data, b->data + b->off, b->len - b->off);
            b->len -= b->off;
            b->off = 0;
        }
        room = BUF_SIZE - b->len;
        if (room == 0)
            return 0;
        dst = b->data + b->len;
    }
    ssize_t n = read(c->src.fd, dst, room);
    if (n > 0) {
        if (!c->wr_shut)
            c->rb->len += (size_t)n;
        if ((size_t)n < room && !c->rdhup)
            c->can_read = false;
        return 1;
    }
    if (c->rb && c->rb->len == c->rb->off)
        rb_consume(c, 0);
    if (n == 0) {
        c->rd_eof = true;
        return 1;
    }
    if (errno == EAGAIN || errno == EINTR) {
        if (errno == EAGAIN)
            c->can_read = false;
        return 0;
    }
    return -1;
}

/* Writes the output buffer, then the pattern stream or echoed input, in one sendmsg.
 * Returns 1 on progress, 0 when nothing could be written, -1 on a fatal error. */
static int conn_write(struct conn *c)
{
    int progress = 0;
    while (c->can_write) {
        struct iovec iov[2];
        int cnt = 0;
        size_t wlen = 0, total = 0;
        if (c->wb && c->wb->len > c->wb->off) {
            wlen = c->wb->len - c->wb->off;
            iov[cnt].iov_base = c->wb->data + c->wb->off;
            iov[cnt++].iov_len = wlen;
        }
        total = wlen;
        if (c->stream_rem) {
            size_t n = c->stream_rem < PAT_CHUNK ? (size_t)c->stream_rem : PAT_CHUNK;
            iov[cnt].iov_base = pattern + (c->stream_pos & 63);
            iov[cnt++].iov_len = n;
            total += n;
        } else if (c->pass_rem && rb_avail(c)) {
            size_t n = rb_avail(c);
            if (n > c->pass_rem)
                n = (size_t)c->pass_rem;
            iov[cnt].iov_base = c->rb->data + c->rb->off;
            iov[cnt++].iov_len = n;
            total += n;
        }
        if (cnt == 0)
            break;
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)cnt};
        ssize_t n = sendmsg(c->src.fd, &msg, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                c->can_write = false;
                break;
            }
            return -1;
        }
        progress = 1;
        size_t done = (size_t)n;
        if ((size_t)n < total)
            c->can_write = false;
        size_t from_wb = done < wlen ? done : wlen;
        if (wlen) {
            c->wb->off += from_wb;
            if (c->wb->off == c->wb->len) {
                buf_put(c->w, c->wb);
                c->wb = NULL;
            }
        }
        done -= from_wb;
        if (done && c->stream_rem) {
            c->stream_rem -= done;
            c->stream_pos += done;
        } else if (done) {
            c->pass_rem -= done;
            rb_consume(c, done);
        }
    }
    return progress;
}

/* ---- PROXY protocol ---- */

static const unsigned char PP2_SIG[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                          0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

static bool pp_port(const char *s, size_t len, unsigned *port)
{
    unsigned v = 0;
    if (len == 0 || len > 5 || (len > 1 && s[0] == '0'))
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > 65535)
        return false;
    *port = v;
    return true;
}

/* Parses a PROXY v1 or v2 header at p. Returns its length when complete (out gets "ADDR:PORT",
 * or "" for UNKNOWN/LOCAL), 0 when more bytes are needed, -1 when it is malformed. */
static int pp_parse(const unsigned char *p, size_t len, char *out, size_t outsz)
{
    out[0] = '\0';
    if (len == 0)
        return 0;
    if (p[0] == PP2_SIG[0]) {
        if (memcmp(p, PP2_SIG, len < 12 ? len : 12) != 0)
            return -1;
        if (len < 16)
            return 0;
        unsigned ver_cmd = p[12], fam = p[13];
        size_t alen = (size_t)p[14] << 8 | p[15];
        if ((ver_cmd >> 4) != 2 || (ver_cmd & 0xf) > 1 || alen > PP_V2_MAX_LEN)
            return -1;
        if (len < 16 + alen)
            return 0;
        if ((ver_cmd & 0xf) == 0) /* LOCAL: the connection's own addresses */
            return (int)(16 + alen);
        char host[INET6_ADDRSTRLEN];
        if (fam == 0x11) {
            if (alen < 12 || !inet_ntop(AF_INET, p + 16, host, sizeof(host)))
                return -1;
            snprintf(out, outsz, "%s:%u", host, (unsigned)(p[24] << 8 | p[25]));
        } else if (fam == 0x21) {
            if (alen < 36 || !inet_ntop(AF_INET6, p + 16, host, sizeof(host)))
                return -1;
            snprintf(out, outsz, "[%s]:%u", host, (unsigned)(p[48] << 8 | p[49]));
        } else if (fam != 0x00 && fam != 0x31) { /* UNSPEC and UNIX: no usable address */
            return -1;
        }
        return (int)(16 + alen);
    }
    static const char v1[] = "PROXY ";
    if (memcmp(p, v1, len < 6 ? len : 6) != 0)
        return -1;
    const unsigned char *nl = memchr(p, '\n', len < PP_V1_MAX ? len : PP_V1_MAX);
    if (!nl)
        return len >= PP_V1_MAX ? -1 : 0;
    size_t hlen = (size_t)(nl - p) + 1;
    if (hlen < 8 || nl[-1] != '\r')
        return -1;
    char line[PP_V1_MAX + 1];
    memcpy(line, p, hlen - 2);
    line[hlen - 2] = '\0';
    char *f[6];
    int nf = 0;
    char *save = NULL;
    for (char *tok = strtok_r(line, " ", &save); tok && nf < 6; tok = strtok_r(NULL, " ", &save))
        f[nf++] = tok;
    if (nf >= 2 && strcmp(f[1], "UNKNOWN") == 0)
        return (int)hlen;
    if (nf != 6 || strtok_r(NULL, " ", &save))
        return -1;
    int af;
    if (strcmp(f[1], "TCP4") == 0)
        af = AF_INET;
    else if (strcmp(f[1], "TCP6") == 0)
        af = AF_INET6;
    else
        return -1;
    unsigned char a[16];
    unsigned sport, dport;
    if (inet_pton(af, f[2], a) != 1 || inet_pton(af, f[3], a) != 1 ||
        !pp_port(f[4], strlen(f[4]), &sport) || !pp_port(f[5], strlen(f[5]), &dport))
        return -1;
    if (af == AF_INET)
        snprintf(out, outsz, "%s:%u", f[2], sport);
    else
        snprintf(out, outsz, "[%s]:%u", f[2], sport);
    return (int)hlen;
}

/* ---- HTTP ---- */

struct req {
    const char *meth, *path;
    size_t meth_len, path_len;
    bool v11, conn_close, conn_keep, has_te, has_clen;
    uint64_t clen;
};

static bool tok_eq(const char *s, size_t len, const char *lit)
{
    return strlen(lit) == len && strncasecmp(s, lit, len) == 0;
}

static void parse_connection(struct req *r, const char *v, size_t len)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < len && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
            i++;
        if (tok_eq(v + s, i - s, "close"))
            r->conn_close = true;
        else if (tok_eq(v + s, i - s, "keep-alive"))
            r->conn_keep = true;
    }
}

/* Parses one request head. Returns its length, 0 when incomplete, -1 when malformed. */
static int http_parse(const char *buf, size_t len, struct req *r)
{
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end)
        return 0;
    size_t hlen = (size_t)(end - buf) + 4;
    memset(r, 0, sizeof(*r));
    const char *p = buf, *lim = buf + hlen;
    const char *eol = memchr(p, '\r', hlen);
    if (eol[1] != '\n')
        return -1;
    /* request line: METHOD SP TARGET SP HTTP/1.x */
    const char *sp1 = memchr(p, ' ', (size_t)(eol - p));
    if (!sp1 || sp1 == p)
        return -1;
    const char *sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
    if (!sp2 || sp2 == sp1 + 1 || eol - sp2 - 1 != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0)
        return -1;
    if (sp2[8] == '1')
        r->v11 = true;
    else if (sp2[8] != '0')
        return -1;
    r->meth = p;
    r->meth_len = (size_t)(sp1 - p);
    r->path = sp1 + 1;
    r->path_len = (size_t)(sp2 - sp1 - 1);
    if (r->path_len > 7 && strncasecmp(r->path, "http://", 7) == 0) { /* absolute-form */
        const char *slash = memchr(r->path + 7, '/', r->path_len - 7);
        if (!slash)
            return -1;
        r->path_len -= (size_t)(slash - r->path);
        r->path = slash;
    }
    if (r->path[0] != '/' && !(r->path_len == 1 && r->path[0] == '*'))
        return -1;
    for (p = eol + 2; p < lim - 2; p = eol + 2) {
        eol = memchr(p, '\r', (size_t)(lim - p));
        if (eol[1] != '\n')
            return -1;
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (!colon || colon == p)
            return -1;
        size_t nlen = (size_t)(colon - p);
        const char *v = colon + 1, *ve = eol;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        size_t vlen = (size_t)(ve - v);
        if (tok_eq(p, nlen, "content-length")) {
            uint64_t cl = 0;
            if (vlen == 0 || vlen > 15)
                return -1;
            for (size_t i = 0; i < vlen; i++) {
                if (v[i] < '0' || v[i] > '9')
                    return -1;
                cl = cl * 10 + (uint64_t)(v[i] - '0');
            }
            if (r->has_clen && cl != r->clen)
                return -1;
            r->has_clen = true;
            r->clen = cl;
        } else if (tok_eq(p, nlen, "connection")) {
            parse_connection(r, v, vlen);
        } else if (tok_eq(p, nlen, "transfer-encoding")) {
            r->has_te = true;
        }
    }
    return (int)hlen;
}

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Content Too Large";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Status";
    }
}

/* Queues a response head plus a small body. keep: 1 keep-alive (1.1), 2 keep-alive (1.0),
 * 0 close. clen is the body length announced; body (blen bytes) is queued unless head_only. */
static bool http_respond(struct conn *c, int status, int keep, uint64_t clen, const char *body,
                         size_t blen, bool head_only)
{
    char h[512];
    int n;
    bool no_body = status == 204 || status == 304;
    n = snprintf(h, sizeof(h), "HTTP/1.1 %d %s\r\nX-Server: %s\r\n", status, reason(status),
                 opt_name);
    if (!no_body)
        n += snprintf(h + n, sizeof(h) - (size_t)n, "Content-Length: %llu\r\n",
                      (unsigned long long)clen);
    if (opt_proxy)
        n += snprintf(h + n, sizeof(h) - (size_t)n, "X-Client: %s\r\n", c->client);
    n += snprintf(h + n, sizeof(h) - (size_t)n, "%s\r\n",
                  keep == 0   ? "Connection: close\r\n"
                  : keep == 2 ? "Connection: keep-alive\r\n"
                              : "");
    if (!wb_append(c, h, (size_t)n))
        return false;
    if (!head_only && !no_body && blen)
        return wb_append(c, body, blen);
    return true;
}

static bool path_is(const struct req *r, const char *lit, size_t *rest)
{
    size_t l = strlen(lit);
    if (r->path_len < l || memcmp(r->path, lit, l) != 0)
        return false;
    *rest = l;
    return true;
}

/* Handles one parsed request: queues the response and sets the body/stream state. */
static bool http_handle(struct conn *c, const struct req *r)
{
    int keep = r->v11 ? (r->conn_close ? 0 : 1) : (r->conn_keep && !r->conn_close ? 2 : 0);
    bool head = tok_eq(r->meth, r->meth_len, "HEAD");
    size_t plen = r->path_len, rest;
    const char *q = memchr(r->path, '?', plen);
    if (q)
        plen = (size_t)(q - r->path);
    struct req rr = *r;
    rr.path_len = plen;
    atomic_fetch_add_explicit(&stat_requests, 1, memory_order_relaxed);

    if (r->has_te) { /* chunked request bodies are not supported */
        c->close_after = true;
        return http_respond(c, 501, 0, 0, "", 0, head);
    }
    if (keep == 0)
        c->close_after = true;
    c->discard_rem = r->clen;

    if (plen == 1 && r->path[0] == '/' && !opt_proxy && !head) {
        if (keep == 1)
            return wb_append(c, hot_ka11, hot_ka11_len);
        if (keep == 2)
            return wb_append(c, hot_ka10, hot_ka10_len);
        return wb_append(c, hot_close, hot_close_len);
    }
    if (plen == 1 && r->path[0] == '/')
        return http_respond(c, 200, keep, 13, "hello, world\n", 13, head);
    if (path_is(&rr, "/size/", &rest)) {
        uint64_t n;
        if (!parse_size(r->path + rest, plen - rest, &n))
            return http_respond(c, 400, keep, 12, "bad size: N\n", 12, head);
        if (!http_respond(c, 200, keep, n, NULL, 0, true))
            return false;
        if (!head) {
            c->stream_rem = n;
            c->stream_pos = 0;
        }
        return true;
    }
    if (plen >= 5 &&
        memcmp(r->path + plen - 5, "/name", 5) == 0) /* also /api/name: routing demos */
        return http_respond(c, 200, keep, strlen(opt_name), opt_name, strlen(opt_name), head);
    if (path_is(&rr, "/status/", &rest)) {
        uint64_t st;
        if (plen - rest != 3 || !parse_size(r->path + rest, 3, &st) || st < 200 || st > 599)
            return http_respond(c, 400, keep, 11, "bad status\n", 11, head);
        return http_respond(c, (int)st, keep, 0, "", 0, head);
    }
    if (plen == 6 && memcmp(r->path, "/stats", 6) == 0) {
        char b[96];
        int n = snprintf(b, sizeof(b), "accepts=%lu requests=%lu\n",
                         atomic_load_explicit(&stat_accepts, memory_order_relaxed),
                         atomic_load_explicit(&stat_requests, memory_order_relaxed));
        return http_respond(c, 200, keep, (uint64_t)n, b, (size_t)n, head);
    }
    if (plen == 7 && memcmp(r->path, "/client", 7) == 0) {
        char b[64];
        if (c->client[0])
            snprintf(b, sizeof(b), "%s", c->client);
        else
            peer_format(c->src.fd, b, sizeof(b));
        return http_respond(c, 200, keep, strlen(b), b, strlen(b), head);
    }
    if (plen == 5 && memcmp(r->path, "/echo", 5) == 0) {
        if (!http_respond(c, 200, keep, r->clen, NULL, 0, true))
            return false;
        if (!head) {
            c->pass_rem = r->clen;
            c->discard_rem = 0;
        }
        return true;
    }
    return http_respond(c, 404, keep, 10, "not found\n", 10, head);
}

/* Handles as many buffered requests as the output has room for. Returns true on progress. */
static int http_process(struct conn *c)
{
    int progress = 0;
    for (;;) {
        if (c->discard_rem) {
            size_t n = rb_avail(c);
            if (n > c->discard_rem)
                n = (size_t)c->discard_rem;
            if (n == 0)
                return progress;
            c->discard_rem -= n;
            rb_consume(c, n);
            progress = 1;
            continue;
        }
        if (c->pass_rem || c->stream_rem || c->close_after || wb_free(c) < OUT_RESERVE)
            return progress;
        size_t avail = rb_avail(c);
        if (avail == 0)
            return progress;
        struct req r;
        int hl = http_parse(c->rb->data + c->rb->off, avail, &r);
        if (hl == 0) {
            if (avail == BUF_SIZE) { /* head does not fit in the buffer */
                c->close_after = true;
                if (!http_respond(c, 431, 0, 0, "", 0, false))
                    return -1;
                rb_consume(c, avail);
                return 1;
            }
            return progress;
        }
        if (hl < 0) {
            c->close_after = true;
            if (!http_respond(c, 400, 0, 12, "bad request\n", 12, false))
                return -1;
            rb_consume(c, avail);
            return 1;
        }
        rb_consume(c, (size_t)hl);
        if (!http_handle(c, &r))
            return -1;
        progress = 1;
    }
}

/* Runs the mode's protocol on buffered input. Returns 1 on progress, 0 if none, -1 to close. */
static int conn_process(struct conn *c)
{
    int progress = 0;
    if (c->pp_pending) {
        size_t avail = rb_avail(c);
        int n = avail ? pp_parse((unsigned char *)c->rb->data + c->rb->off, avail, c->client,
                                 sizeof(c->client))
                      : 0;
        if (n < 0 || (n == 0 && c->rd_eof))
            return -1;
        if (n == 0)
            return 0;
        rb_consume(c, (size_t)n);
        if (!c->client[0])
            peer_format(c->src.fd, c->client, sizeof(c->client));
        c->pp_pending = false;
        progress = 1;
        if (opt_mode == MODE_ECHO) {
            char line[96];
            int l = snprintf(line, sizeof(line), "PROXY-SRC %s\n", c->client);
            if (!wb_append(c, line, (size_t)l))
                return -1;
            c->pass_rem = UINT64_MAX;
        } else if (opt_mode == MODE_SOURCE) {
            c->stream_rem = opt_bytes;
        }
    }
    switch (opt_mode) {
    case MODE_HTTP: {
        int r = http_process(c);
        if (r < 0)
            return -1;
        progress |= r;
        /* Done when asked to close, or at EOF once every complete request was answered. */
        if (!out_pending(c) && !c->pass_rem && (c->close_after || (c->rd_eof && !r)))
            c->want_shut = true;
        if (c->rd_eof && !out_pending(c) && (c->discard_rem || c->pass_rem))
            return -1; /* the client left in the middle of a body */
        break;
    }
    case MODE_ECHO:
        if (c->rd_eof && !rb_avail(c))
            c->want_shut = true;
        break;
    case MODE_SINK: {
        size_t n = rb_avail(c);
        if (n) {
            c->sink_crc = crc32_update(c->sink_crc, (unsigned char *)c->rb->data + c->rb->off, n);
            c->sink_bytes += n;
            rb_consume(c, n);
            progress = 1;
        }
        if (c->rd_eof && !c->sink_done) {
            char line[96];
            int l = snprintf(line, sizeof(line), "bytes=%llu crc32=%08x\n",
                             (unsigned long long)c->sink_bytes, c->sink_crc);
            if (!wb_append(c, line, (size_t)l))
                return -1;
            c->sink_done = true;
            c->want_shut = true;
            progress = 1;
        }
        break;
    }
    case MODE_SOURCE:
        if (rb_avail(c)) { /* input is read and dropped */
            rb_consume(c, rb_avail(c));
            progress = 1;
        }
        if (!c->pp_pending && !c->stream_rem)
            c->want_shut = true;
        break;
    }
    return progress;
}

/* Drives a connection until it can make no more progress without a new event. */
static void conn_run(struct conn *c)
{
    for (;;) {
        int progress = 0, r;
        if (c->can_read && !c->rd_eof) {
            if ((r = conn_read(c)) < 0)
                goto close;
            progress |= r;
        }
        if (!c->wr_shut) {
            if ((r = conn_process(c)) < 0)
                goto close;
            progress |= r;
            if ((r = conn_write(c)) < 0)
                goto close;
            progress |= r;
            if (c->want_shut && !out_pending(c)) {
                shutdown(c->src.fd, SHUT_WR);
                c->wr_shut = true;
                buf_put(c->w, c->rb);
                c->rb = NULL;
                progress = 1;
            }
        }
        if (c->wr_shut) {
            if (c->rd_eof)
                goto close;
            if (!c->lingering)
                linger_add(c->w, c);
        }
        if (!progress)
            return;
    }
close:
    conn_close(c);
}

/* ---- accept and loop ---- */

static void do_accept(struct worker *w, struct listener *l)
{
    for (;;) {
        int fd = accept4(l->src.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if ((errno == EMFILE || errno == ENFILE) && w->reserve_fd >= 0) {
                /* Out of fds: use the reserve to accept and drop one, so that the edge-triggered
                 * listener does not stay ready forever with nobody taking connections. */
                close(w->reserve_fd);
                fd = accept(l->src.fd, NULL, NULL);
                if (fd >= 0)
                    close(fd);
                w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                fprintf(stderr, "backend: out of file descriptors, connection dropped\n");
                continue;
            }
            return; /* EAGAIN, or an error the next event will retry */
        }
        atomic_fetch_add_explicit(&stat_accepts, 1, memory_order_relaxed);
        struct conn *c = calloc(1, sizeof(*c));
        if (!c) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        c->src.kind = SRC_CONN;
        c->src.fd = fd;
        c->w = w;
        c->can_write = true;
        c->pp_pending = opt_proxy;
        if (opt_mode == MODE_SOURCE && !opt_proxy)
            c->stream_rem = opt_bytes;
        if (opt_mode == MODE_ECHO && !opt_proxy)
            c->pass_rem = UINT64_MAX;
        c->next = w->conns;
        if (w->conns)
            w->conns->prev = c;
        w->conns = c;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                 .data.ptr = &c->src};
        if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            conn_close(c);
            continue;
        }
        if (opt_mode == MODE_SOURCE && !opt_proxy)
            conn_run(c);
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct epoll_event evs[MAX_EVENTS];
    while (!atomic_load(&stopping)) {
        int n = epoll_wait(w->ep, evs, MAX_EVENTS, w->lhead ? 1000 : -1);
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n; i++) {
            struct ev_src *s = evs[i].data.ptr;
            if (s->kind == SRC_LISTEN) {
                do_accept(w, (struct listener *)s);
            } else if (s->kind == SRC_STOP) {
                break;
            } else {
                struct conn *c = (struct conn *)s;
                uint32_t e = evs[i].events;
                if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                    c->can_read = true;
                if (e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                    c->rdhup = true;
                if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))
                    c->can_write = true;
                conn_run(c);
            }
        }
        if (w->lhead) {
            time_t now = now_coarse();
            while (w->lhead && w->lhead->linger_deadline <= now)
                conn_close(w->lhead);
        }
    }
    return NULL;
}

/* ---- start-up ---- */

static int parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *sl)
{
    char host[128];
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof(host))
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || *end || end == colon + 1 || port < 0 || port > 65535)
        return -1;
    memset(ss, 0, sizeof(*ss));
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        host[hl - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
            return -1;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        *sl = sizeof(*s6);
        return 0;
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
    if (hl == 0 || strcmp(host, "*") == 0)
        s4->sin_addr.s_addr = htonl(INADDR_ANY);
    else if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
        return -1;
    *sl = sizeof(*s4);
    return 0;
}

static int open_listener(struct sockaddr_storage *ss, socklen_t sl, bool reuseport)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (reuseport)
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    if (ss->ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)ss, sl) < 0 || listen(fd, 4096) < 0) {
        close(fd);
        return -1;
    }
    /* Learn the port the kernel chose for port 0, so the other threads bind the same one. */
    getsockname(fd, (struct sockaddr *)ss, &sl);
    return fd;
}

static void build_hot(void)
{
    static const char body[] = "hello, world\n";
    hot_ka11_len = (size_t)snprintf(
        hot_ka11, sizeof(hot_ka11),
        "HTTP/1.1 200 OK\r\nX-Server: %s\r\nContent-Length: 13\r\n\r\n%s", opt_name, body);
    hot_ka10_len = (size_t)snprintf(hot_ka10, sizeof(hot_ka10),
                                    "HTTP/1.1 200 OK\r\nX-Server: %s\r\nContent-Length: 13\r\n"
                                    "Connection: keep-alive\r\n\r\n%s",
                                    opt_name, body);
    hot_close_len = (size_t)snprintf(hot_close, sizeof(hot_close),
                                     "HTTP/1.1 200 OK\r\nX-Server: %s\r\nContent-Length: 13\r\n"
                                     "Connection: close\r\n\r\n%s",
                                     opt_name, body);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: backend [-l ADDR:PORT]... [-n NAME] [-t THREADS] [--mode "
               "http|echo|sink|source]\n"
               "               [--bytes N] [--proxy-proto] [--ready-file FILE]\n"
               "  ADDR:PORT: 127.0.0.1:8080, [::1]:0, *:8080 (port 0: the kernel picks; the port\n"
               "  is printed as \"ready PORT\" on stdout). Default 127.0.0.1:8080, http mode.\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"name", required_argument, NULL, 'n'},
        {"threads", required_argument, NULL, 't'},
        {"mode", required_argument, NULL, 'm'},
        {"bytes", required_argument, NULL, 'b'},
        {"proxy-proto", no_argument, NULL, 'p'},
        {"ready-file", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *addrs[MAX_LISTEN];
    int naddrs = 0;
    const char *ready_file = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, "l:n:t:m:b:prh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'l':
            if (naddrs == MAX_LISTEN)
                die("too many -l (at most %s)", "16");
            addrs[naddrs++] = optarg;
            break;
        case 'n':
            if (strlen(optarg) == 0 || strlen(optarg) > MAX_NAME || strpbrk(optarg, "\r\n"))
                die("bad name '%s' (1 to 200 characters, no line breaks)", optarg);
            opt_name = optarg;
            break;
        case 't': {
            char *end;
            long t = strtol(optarg, &end, 10);
            if (*end || t < 1 || t > 64)
                die("bad thread count '%s' (1 to 64)", optarg);
            opt_threads = (int)t;
            break;
        }
        case 'm':
            if (strcmp(optarg, "http") == 0)
                opt_mode = MODE_HTTP;
            else if (strcmp(optarg, "echo") == 0)
                opt_mode = MODE_ECHO;
            else if (strcmp(optarg, "sink") == 0)
                opt_mode = MODE_SINK;
            else if (strcmp(optarg, "source") == 0)
                opt_mode = MODE_SOURCE;
            else
                die("bad mode '%s' (http, echo, sink or source)", optarg);
            break;
        case 'b':
            if (!parse_size(optarg, strlen(optarg), &opt_bytes))
                die("bad byte count '%s' (N with optional k, m or g)", optarg);
            break;
        case 'p':
            opt_proxy = true;
            break;
        case 'r':
            ready_file = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    if (naddrs == 0)
        addrs[naddrs++] = "127.0.0.1:8080";

    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    crc32_init();
    build_hot();
    pattern = malloc(PAT_CHUNK + 64);
    if (!pattern)
        die("%s", "out of memory");
    for (size_t i = 0; i < PAT_CHUNK + 64; i++)
        pattern[i] = PATTERN64[i & 63];
    stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

    struct worker *ws = calloc((size_t)opt_threads, sizeof(*ws));
    struct sockaddr_storage ss[MAX_LISTEN];
    socklen_t sl[MAX_LISTEN];
    if (!ws || stop_fd < 0)
        die("%s", "out of memory");
    for (int i = 0; i < naddrs; i++)
        if (parse_addr(addrs[i], &ss[i], &sl[i]) < 0)
            die("bad listen address '%s' (ADDR:PORT, [V6]:PORT or *:PORT)", addrs[i]);
    for (int t = 0; t < opt_threads; t++) {
        struct worker *w = &ws[t];
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (w->ep < 0)
            die("epoll_create1: %s", strerror(errno));
        for (int i = 0; i < naddrs; i++) {
            int fd = open_listener(&ss[i], sl[i], opt_threads > 1);
            if (fd < 0)
                die("cannot listen on %s", addrs[i]);
            w->ls[i].src.kind = SRC_LISTEN;
            w->ls[i].src.fd = fd;
            struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.ptr = &w->ls[i].src};
            epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev);
        }
        w->nlisten = naddrs;
        static struct ev_src stop_src = {.kind = SRC_STOP};
        stop_src.fd = stop_fd;
        struct epoll_event sev = {.events = EPOLLIN, .data.ptr = &stop_src};
        epoll_ctl(w->ep, EPOLL_CTL_ADD, stop_fd, &sev);
    }

    char ports[MAX_LISTEN * 8] = "";
    size_t plen = 0;
    for (int i = 0; i < naddrs; i++) {
        unsigned port =
            ntohs(ss[i].ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss[i])->sin6_port
                                              : ((struct sockaddr_in *)&ss[i])->sin_port);
        printf("ready %u\n", port);
        plen += (size_t)snprintf(ports + plen, sizeof(ports) - plen, "%u\n", port);
    }
    fflush(stdout);
    if (ready_file) {
        char tmp[4096];
        snprintf(tmp, sizeof(tmp), "%s.tmp.%d", ready_file, (int)getpid());
        FILE *f = fopen(tmp, "w");
        if (!f || fputs(ports, f) < 0 || fclose(f) != 0 || rename(tmp, ready_file) < 0)
            die("cannot write ready file %s", ready_file);
    }

    /* Workers get every signal blocked; the main thread waits for SIGTERM/SIGINT. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    for (int t = 0; t < opt_threads; t++)
        if (pthread_create(&ws[t].tid, NULL, worker_main, &ws[t]) != 0)
            die("%s", "pthread_create failed");
    int sig;
    sigwait(&set, &sig);
    atomic_store(&stopping, true);
    uint64_t one = 1;
    if (write(stop_fd, &one, sizeof(one)) < 0)
        perror("backend: eventfd write");
    for (int t = 0; t < opt_threads; t++) {
        struct worker *w = &ws[t];
        pthread_join(w->tid, NULL);
        while (w->conns)
            conn_close(w->conns);
        while (w->pool) {
            struct buf *b = w->pool;
            w->pool = b->next;
            free(b);
        }
        for (int i = 0; i < w->nlisten; i++)
            close(w->ls[i].src.fd);
        close(w->ep);
        if (w->reserve_fd >= 0)
            close(w->reserve_fd);
    }
    free(ws);
    free(pattern);
    close(stop_fd);
    return 0;
}
