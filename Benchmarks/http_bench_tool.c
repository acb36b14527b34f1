/*
 * http_bench_tool.c: helper for http_proxy_bench.py.
 *
 *   http_bench_tool server BODY_BYTES MAX_SECONDS [ADDR PORT]
 *       A single-threaded, level-triggered epoll HTTP/1.1 server on 127.0.0.1
 *       (ephemeral port), or on ADDR:PORT (IPv4) if given; the port is
 *       printed as "PORT <n>\n" on stdout.  It answers every
 *       request with "200 OK" and a fixed body of BODY_BYTES bytes, keeps the
 *       connection alive unless the request says "Connection: close", and
 *       handles pipelined requests (all the responses to one read go out in
 *       one write).  Request bodies with Content-Length are read and
 *       discarded; chunked request bodies get a 501 and a close.
 *       GET /__stats answers {"requests":..,"connections":..,"bad":..} and is
 *       not itself counted, so the benchmark can ask the upstream directly how
 *       many requests and upstream connections a proxy produced.  The server
 *       exits after MAX_SECONDS (a safety net; SIGALRM).
 *
 *   http_bench_tool keepalive PORT N TIMEOUT_S
 *       One keep-alive connection, N sequential "GET /" requests; every
 *       response must be 200 with a Content-Length body.  Prints one JSON line.
 *
 *   http_bench_tool conns PORT N TIMEOUT_S
 *       N connections one after another; each sends one "GET /", reads the
 *       response and closes (the client closes first).  Prints one JSON line.
 *
 * TIMEOUT_S is a stall limit per socket operation (SO_RCVTIMEO/SO_SNDTIMEO)
 * and a limit on the whole run.  cc -O2, no dependencies beyond libc.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IN_CAP (64 * 1024)
#define OUT_CAP (256 * 1024)
#define MAX_FD 65536

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------------ */
/* server                                                                    */
/* ------------------------------------------------------------------------ */

struct conn {
    int fd;
    size_t in_len;
    size_t out_len, out_off;
    size_t discard;  /* request body bytes still to skip */
    int close_after; /* close once the output is flushed */
    char in[IN_CAP];
    char out[OUT_CAP];
};

static struct conn *conns_by_fd[MAX_FD];
static char *resp_ok;  /* the fixed 200 response, head + body */
static size_t resp_ok_len;
static uint64_t n_requests, n_connections, n_bad;
static int epfd;

static void conn_close(struct conn *c) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    conns_by_fd[c->fd] = NULL;
    free(c);
}

static int out_append(struct conn *c, const char *p, size_t n) {
    if (c->out_len + n > OUT_CAP) return -1;
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    return 0;
}

/* case-insensitive search for a header line "name: value" within the head */
static const char *find_header(const char *head, size_t len, const char *name) {
    size_t nl = strlen(name);
    const char *p = head, *end = head + len;
    while (p < end) {
        const char *eol = memmem(p, end - p, "\r\n", 2);
        if (!eol) eol = end;
        if ((size_t)(eol - p) > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
            const char *v = p + nl + 1;
            while (v < eol && (*v == ' ' || *v == '\t')) v++;
            return v;
        }
        p = eol + 2;
    }
    return NULL;
}

/* Parses and answers the complete requests in c->in (until the output buffer
 * is nearly full).  Returns the bytes consumed, or -1 to close. */
static long serve_requests(struct conn *c) {
    size_t off = 0;
    for (;;) {
        if (c->discard) {
            size_t take = c->in_len - off < c->discard ? c->in_len - off : c->discard;
            off += take;
            c->discard -= take;
            if (c->discard) break;
        }
        if (c->close_after) { off = c->in_len; break; }
        char *start = c->in + off;
        size_t avail = c->in_len - off;
        char *hend = memmem(start, avail, "\r\n\r\n", 4);
        if (!hend) {
            if (avail == IN_CAP) { n_bad++; return -1; } /* head larger than the buffer */
            break;
        }
        size_t head_len = hend + 4 - start;
        const char *v;
        int is_stats = avail >= 13 && memcmp(start, "GET /__stats ", 13) == 0;
        if ((v = find_header(start, head_len, "transfer-encoding")) != NULL) {
            static const char r501[] = "HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            n_bad++;
            out_append(c, r501, sizeof r501 - 1);
            c->close_after = 1;
            off = c->in_len;
            break;
        }
        if ((v = find_header(start, head_len, "content-length")) != NULL) c->discard = strtoull(v, NULL, 10);
        if ((v = find_header(start, head_len, "connection")) != NULL && strncasecmp(v, "close", 5) == 0)
            c->close_after = 1;
        if (is_stats) {
            char body[256], head[128];
            int bl = snprintf(body, sizeof body, "{\"requests\":%llu,\"connections\":%llu,\"bad\":%llu}\n",
                              (unsigned long long)n_requests, (unsigned long long)n_connections,
                              (unsigned long long)n_bad);
            int hl = snprintf(head, sizeof head,
                              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", bl);
            if (out_append(c, head, hl) || out_append(c, body, bl)) return -1;
        } else {
            n_requests++;
            if (out_append(c, resp_ok, resp_ok_len)) return -1;
        }
        off += head_len;
        /* flush early if the output buffer is getting full */
        if (c->out_len + resp_ok_len + 512 > OUT_CAP) break;
    }
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
    return (long)off;
}

/* Writes pending output.  Returns 1 if all written, 0 if EAGAIN, -1 on error. */
static int flush_out(struct conn *c) {
    while (c->out_off < c->out_len) {
        ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
            return -1;
        }
        c->out_off += (size_t)w;
    }
    c->out_off = c->out_len = 0;
    return 1;
}

static void set_events(struct conn *c, uint32_t ev) {
    struct epoll_event e = {.events = ev, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e);
}

/* Serves and flushes until the input holds no complete request or the socket
 * would block (then waits for EPOLLOUT).  Returns -1 if c was closed. */
static int pump(struct conn *c) {
    for (;;) {
        long used = serve_requests(c);
        if (used < 0) { conn_close(c); return -1; }
        if (c->out_len) {
            int w = flush_out(c);
            if (w < 0) { conn_close(c); return -1; }
            if (w == 0) { set_events(c, EPOLLOUT); return 0; }
        }
        if (c->close_after) { conn_close(c); return -1; }
        if (used == 0) return 0;
    }
}

static void on_conn_event(struct conn *c, uint32_t ev) {
    if (ev & EPOLLOUT) {
        int r = flush_out(c);
        if (r < 0) { conn_close(c); return; }
        if (r == 0) return;
        set_events(c, EPOLLIN);
        pump(c); /* requests may be buffered behind the blocked output */
        return;
    }
    if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        ssize_t r = recv(c->fd, c->in + c->in_len, IN_CAP - c->in_len, 0);
        if (r == 0) { conn_close(c); return; }
        if (r < 0) {
            if (errno == EAGAIN || errno == EINTR) return;
            conn_close(c);
            return;
        }
        c->in_len += (size_t)r;
        pump(c);
    }
}

static int server_main(int argc, char **argv) {
    if (argc != 4 && argc != 6) { fprintf(stderr, "usage: server BODY_BYTES MAX_SECONDS [ADDR PORT]\n"); return 2; }
    size_t body = strtoull(argv[2], NULL, 10);
    unsigned max_s = (unsigned)strtoul(argv[3], NULL, 10);
    if (body > 65536) { fprintf(stderr, "body too large\n"); return 2; }
    char head[160];
    int hl = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n", body);
    resp_ok_len = (size_t)hl + body;
    resp_ok = malloc(resp_ok_len);
    memcpy(resp_ok, head, hl);
    for (size_t i = 0; i < body; i++) resp_ok[hl + i] = (i == 0) ? 'o' : (i == 1) ? 'k' : (i + 1 == body ? '\n' : 'a' + (char)(i % 26));

    signal(SIGPIPE, SIG_IGN);
    if (max_s) alarm(max_s);
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (argc == 6) {
        long port = strtol(argv[5], NULL, 10);
        if (inet_pton(AF_INET, argv[4], &a.sin_addr) != 1 || port < 0 || port > 65535) {
            fprintf(stderr, "bad ADDR PORT: %s %s\n", argv[4], argv[5]);
            return 2;
        }
        a.sin_port = htons((uint16_t)port);
    }
    if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 4096)) { perror("bind/listen"); return 1; }
    socklen_t al = sizeof a;
    getsockname(ls, (struct sockaddr *)&a, &al);
    printf("PORT %d\n", ntohs(a.sin_port));
    fflush(stdout);

    epfd = epoll_create1(0);
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(epfd, EPOLL_CTL_ADD, ls, &e);
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(epfd, evs, 256, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c == NULL) {
                for (;;) {
                    int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0) break;
                    if (fd >= MAX_FD) { close(fd); continue; }
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct conn *nc = malloc(sizeof *nc);
                    if (!nc) { close(fd); continue; }
                    nc->fd = fd;
                    nc->in_len = nc->out_len = nc->out_off = nc->discard = 0;
                    nc->close_after = 0;
                    conns_by_fd[fd] = nc;
                    n_connections++;
                    struct epoll_event ce = {.events = EPOLLIN, .data.ptr = nc};
                    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ce);
                }
            } else {
                on_conn_event(c, evs[i].events);
            }
        }
    }
}

/* ------------------------------------------------------------------------ */
/* clients (blocking sockets with timeouts)                                   */
/* ------------------------------------------------------------------------ */

static int connect_to(int port, int timeout_s) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct timeval tv = {.tv_sec = timeout_s, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) { close(fd); return -1; }
    return fd;
}

static char rbuf[IN_CAP];
static size_t rlen;

/* Reads one response from fd.  Returns the status code, or -1 with msg set. */
static int read_response(int fd, const char **msg) {
    for (;;) {
        char *hend = memmem(rbuf, rlen, "\r\n\r\n", 4);
        if (hend) {
            size_t head_len = hend + 4 - rbuf;
            int status = 0;
            if (rlen < 12 || memcmp(rbuf, "HTTP/1.1 ", 9) != 0) { *msg = "bad status line"; return -1; }
            status = atoi(rbuf + 9);
            const char *cl = find_header(rbuf, head_len, "content-length");
            if (!cl) { *msg = "response without Content-Length"; return -1; }
            size_t body = strtoull(cl, NULL, 10);
            while (rlen < head_len + body) {
                if (head_len + body > IN_CAP) { *msg = "response too large"; return -1; }
                ssize_t r = recv(fd, rbuf + rlen, IN_CAP - rlen, 0);
                if (r <= 0) { *msg = r == 0 ? "EOF in body" : "recv failed or timed out in body"; return -1; }
                rlen += (size_t)r;
            }
            size_t used = head_len + body;
            memmove(rbuf, rbuf + used, rlen - used);
            rlen -= used;
            return status;
        }
        if (rlen == IN_CAP) { *msg = "response head too large"; return -1; }
        ssize_t r = recv(fd, rbuf + rlen, IN_CAP - rlen, 0);
        if (r <= 0) { *msg = r == 0 ? "EOF before response" : "recv failed or timed out"; return -1; }
        rlen += (size_t)r;
    }
}

static int send_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static const char REQ[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: http_bench_tool\r\n\r\n";

static int client_main(int argc, char **argv, int keepalive) {
    if (argc < 5) { fprintf(stderr, "usage: %s PORT N TIMEOUT_S\n", argv[1]); return 2; }
    int port = atoi(argv[2]);
    long n = atol(argv[3]);
    int timeout_s = atoi(argv[4]);
    signal(SIGPIPE, SIG_IGN);
    double t0 = now_s();
    long done = 0, non2xx = 0;
    const char *err = NULL;
    int fd = -1;
    for (long i = 0; i < n && !err; i++) {
        if (now_s() - t0 > timeout_s) { err = "run exceeded the time limit"; break; }
        if (fd < 0) {
            fd = connect_to(port, timeout_s);
            rlen = 0;
            if (fd < 0) { err = "connect failed"; break; }
        }
        if (send_all(fd, REQ, sizeof REQ - 1) < 0) { err = "send failed"; break; }
        const char *msg = NULL;
        int st = read_response(fd, &msg);
        if (st < 0) { err = msg; break; }
        if (st < 200 || st > 299) non2xx++;
        done++;
        if (!keepalive) { close(fd); fd = -1; }
    }
    if (fd >= 0) close(fd);
    double secs = now_s() - t0;
    printf("{\"ok\":%s,\"mode\":\"%s\",\"requests\":%ld,\"non2xx\":%ld,\"seconds\":%.6f%s%s%s}\n",
           (err == NULL && non2xx == 0) ? "true" : "false", keepalive ? "keepalive" : "conns", done, non2xx, secs,
           err ? ",\"error\":\"" : "", err ? err : "", err ? "\"" : "");
    return err ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "server") == 0) return server_main(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "keepalive") == 0) return client_main(argc, argv, 1);
    if (argc >= 2 && strcmp(argv[1], "conns") == 0) return client_main(argc, argv, 0);
    fprintf(stderr, "usage: %s server BODY_BYTES MAX_SECONDS [ADDR PORT] | keepalive PORT N TIMEOUT_S | conns PORT N TIMEOUT_S\n",
            argv[0]);
    return 2;
}
