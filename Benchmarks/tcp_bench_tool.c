/*
 * tcp_bench_tool: upstream server and load generator for tcp_proxy_bench.py.
 *
 * Compiled at run time by tcp_proxy_bench.py with `cc -O2`; plain C99 +
 * POSIX + Linux epoll, no dependencies.  Loopback only: every address it
 * connects to or binds is 127.0.0.1.
 *
 *   tcp_bench_tool server   MAX_SECONDS VERIFY
 *       Binds 127.0.0.1:0, prints "PORT <n>\n", serves until killed (or
 *       MAX_SECONDS pass, or its parent dies).  Single-threaded epoll.  The
 *       first byte a client sends picks the mode of that connection:
 *         'E'  echo: every byte read (the 'E' included) is written back;
 *              the connection is closed when the peer's FIN arrives.
 *         'S'  sink: a 16-byte header, then payload that is read, checked
 *              against the pattern (if VERIFY) and dropped.  On the peer's
 *              FIN the server writes 16 bytes (uint64 payload bytes received,
 *              uint64 pattern words that did not match) and closes.
 *         'D'  source: a 16-byte header whose bytes 8..15 are a uint64 N;
 *              the server writes N bytes of pattern, shuts down its write
 *              side, and closes once the peer's FIN arrives.
 *
 *   tcp_bench_tool upload   PORT BYTES TIMEOUT_S        (client -> sink)
 *   tcp_bench_tool download PORT BYTES TIMEOUT_S VERIFY (source -> client)
 *   tcp_bench_tool conns    PORT COUNT INFLIGHT PAYLOAD TIMEOUT_S
 *       COUNT connections, INFLIGHT at a time, each: connect, send PAYLOAD
 *       bytes ('E' + pattern), read them back, compare, close.
 *
 * Clients print one JSON object on stdout and exit 0 if everything was
 * transferred intact, 1 otherwise.  Every blocking step is bounded by the
 * deadline TIMEOUT_S from the start, and by a 15 s stall limit.
 *
 * The pattern: the payload is a sequence of little-endian uint64 words,
 * word k = k * 0x9E3779B97F4A7C15 + 0x0123456789ABCDEF, so a lost,
 * duplicated, reordered or corrupted byte shows up as a bad word.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256 * 1024)
#define STALL_SECONDS 15.0

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline uint64_t pattern_word(uint64_t k) {
    return k * 0x9E3779B97F4A7C15ULL + 0x0123456789ABCDEFULL;
}

/* Fills buf (len multiple of 8) with words first_word... */
static void pattern_fill(unsigned char *buf, size_t len, uint64_t first_word) {
    uint64_t *w = (uint64_t *)buf; /* buffers come from malloc: aligned */
    size_t n = len / 8;
    for (size_t i = 0; i < n; i++) w[i] = pattern_word(first_word + i);
}

/* Streaming checker: feed it bytes in any split, it counts bad words. */
typedef struct {
    uint64_t words;   /* whole words checked */
    unsigned char partial[8];
    int plen;
    uint64_t bad;
} verifier_t;

static void verify_feed(verifier_t *v, const unsigned char *p, size_t n) {
    size_t i = 0;
    if (v->plen > 0) {
        while (v->plen < 8 && i < n) v->partial[v->plen++] = p[i++];
        if (v->plen < 8) return;
        uint64_t w;
        memcpy(&w, v->partial, 8);
        if (w != pattern_word(v->words)) v->bad++;
        v->words++;
        v->plen = 0;
    }
    uint64_t k = v->words, bad = 0;
    for (; i + 8 <= n; i += 8, k++) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        bad += (w != pattern_word(k));
    }
    v->words = k;
    v->bad += bad;
    while (i < n) v->partial[v->plen++] = p[i++];
}

/* A trailing partial word must equal the pattern's prefix. */
static void verify_finish(verifier_t *v) {
    if (v->plen == 0) return;
    uint64_t w = pattern_word(v->words);
    if (memcmp(&w, v->partial, (size_t)v->plen) != 0) v->bad++;
}

static void set_nonblock(int fd) {
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void set_nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static struct sockaddr_in loopback(int port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static void raise_nofile(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* ------------------------------------------------------------------ */
/* server                                                              */
/* ------------------------------------------------------------------ */

enum { M_NEW = 0, M_ECHO, M_SINK, M_SOURCE };

typedef struct {
    int active;
    int mode;
    unsigned char hdr[16];
    int hlen;
    verifier_t ver;
    uint64_t received;
    /* outgoing bytes: echo pending, sink result, or source chunk */
    unsigned char *out;
    size_t out_cap, out_pos, out_len;
    uint64_t src_left;      /* source: bytes not yet generated */
    uint64_t src_word;      /* source: next pattern word */
    int wr_shut;            /* our FIN sent */
    int close_after_flush;  /* close once out is written */
    int want_out;           /* registered for EPOLLOUT */
    int reading;            /* registered for EPOLLIN */
} sconn_t;

static sconn_t *conns;
static int conns_cap;
static int epfd;
static int verify_on = 1;
static unsigned char *rbuf;
#define RBUF (1024 * 1024)

static void s_update(int fd) {
    sconn_t *c = &conns[fd];
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.data.fd = fd;
    ev.events = (c->reading ? EPOLLIN : 0) | (c->want_out ? EPOLLOUT : 0);
    epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
}

static void s_close(int fd) {
    sconn_t *c = &conns[fd];
    epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    free(c->out);
    memset(c, 0, sizeof *c);
}

static void s_reserve(sconn_t *c, size_t n) {
    if (c->out_cap < n) {
        c->out = realloc(c->out, n);
        if (!c->out) { perror("realloc"); exit(2); }
        c->out_cap = n;
    }
}

/* Writes what it can. Returns -1 if the connection was closed. */
static int s_flush(int fd) {
    sconn_t *c = &conns[fd];
    for (;;) {
        if (c->out_pos == c->out_len && c->mode == M_SOURCE && c->src_left > 0) {
            size_t n = c->src_left < CHUNK ? (size_t)c->src_left : CHUNK;
            size_t words = (n + 7) / 8;
            s_reserve(c, words * 8);
            pattern_fill(c->out, words * 8, c->src_word);
            c->src_word += words;
            c->src_left -= n;
            c->out_pos = 0;
            c->out_len = n;
        }
        if (c->out_pos == c->out_len) break;
        ssize_t w = send(fd, c->out + c->out_pos, c->out_len - c->out_pos, MSG_NOSIGNAL);
        if (w > 0) { c->out_pos += (size_t)w; continue; }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!c->want_out) { c->want_out = 1; s_update(fd); }
            return 0;
        }
        s_close(fd);
        return -1;
    }
    /* everything queued is written */
    c->out_pos = c->out_len = 0;
    if (c->close_after_flush) { s_close(fd); return -1; }
    if (c->mode == M_SOURCE && c->src_left == 0 && !c->wr_shut) {
        shutdown(fd, SHUT_WR);
        c->wr_shut = 1;
    }
    if (c->want_out) { c->want_out = 0; s_update(fd); }
    if (c->mode == M_ECHO && !c->reading) { c->reading = 1; s_update(fd); }
    return 0;
}

static void s_on_eof(int fd) {
    sconn_t *c = &conns[fd];
    c->reading = 0;
    if (c->mode == M_SINK) {
        verify_finish(&c->ver);
        uint64_t res[2] = {c->received, c->ver.bad};
        s_reserve(c, 16);
        memcpy(c->out, res, 16);
        c->out_pos = 0;
        c->out_len = 16;
        c->close_after_flush = 1;
    } else if (c->mode == M_SOURCE) {
        /* done, or the peer gave up early: either way, close */
        s_close(fd);
        return;
    } else {
        c->close_after_flush = 1;
    }
    s_update(fd);
    s_flush(fd);
}

static void s_consume(int fd, unsigned char *p, size_t n) {
    sconn_t *c = &conns[fd];
    while (n > 0) {
        if (c->mode == M_NEW) {
            if (c->hlen == 0 && p[0] == 'E') { c->mode = M_ECHO; continue; }
            if (c->hlen == 0 && p[0] != 'S' && p[0] != 'D') { s_close(fd); return; }
            size_t take = 16 - (size_t)c->hlen;
            if (take > n) take = n;
            memcpy(c->hdr + c->hlen, p, take);
            c->hlen += (int)take;
            p += take;
            n -= take;
            if (c->hlen < 16) return;
            if (c->hdr[0] == 'S') {
                c->mode = M_SINK;
            } else {
                c->mode = M_SOURCE;
                memcpy(&c->src_left, c->hdr + 8, 8);
                c->src_word = 0;
                s_flush(fd);
                if (!conns[fd].active) return;
            }
            continue;
        }
        if (c->mode == M_SINK) {
            c->received += n;
            if (verify_on) verify_feed(&c->ver, p, n);
            return;
        }
        if (c->mode == M_SOURCE) return; /* ignore anything after the header */
        /* echo */
        s_reserve(c, c->out_len + n);
        memcpy(c->out + c->out_len, p, n);
        c->out_len += n;
        if (s_flush(fd) < 0) return;
        if (c->out_pos < c->out_len && c->reading) {
            c->reading = 0; /* back-pressure: stop reading until drained */
            s_update(fd);
        } else if (c->out_pos == c->out_len) {
            c->out_pos = c->out_len = 0;
        }
        return;
    }
}

static int cmd_server(int argc, char **argv) {
    double max_seconds = argc > 2 ? atof(argv[2]) : 3600;
    verify_on = argc > 3 ? atoi(argv[3]) : 1;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    alarm((unsigned)(max_seconds > 1 ? max_seconds : 1));
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();

    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = loopback(0);
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 4096) < 0) {
        perror("bind/listen");
        return 2;
    }
    socklen_t al = sizeof a;
    getsockname(lfd, (struct sockaddr *)&a, &al);
    set_nonblock(lfd);
    printf("PORT %d\n", ntohs(a.sin_port));
    fflush(stdout);

    conns_cap = 1 << 16;
    conns = calloc((size_t)conns_cap, sizeof *conns);
    rbuf = malloc(RBUF);
    epfd = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
    epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
    struct epoll_event evs[256];

    for (;;) {
        int n = epoll_wait(epfd, evs, 256, 1000);
        if (n < 0 && errno != EINTR) { perror("epoll_wait"); return 2; }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == lfd) {
                for (int k = 0; k < 256; k++) {
                    int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
                    if (cfd < 0) break;
                    if (cfd >= conns_cap) { close(cfd); continue; }
                    set_nodelay(cfd);
                    sconn_t *c = &conns[cfd];
                    memset(c, 0, sizeof *c);
                    c->active = 1;
                    c->reading = 1;
                    struct epoll_event cev = {.events = EPOLLIN, .data.fd = cfd};
                    epoll_ctl(epfd, EPOLL_CTL_ADD, cfd, &cev);
                }
                continue;
            }
            sconn_t *c = &conns[fd];
            if (!c->active) continue;
            if (evs[i].events & EPOLLOUT) {
                if (s_flush(fd) < 0) continue;
            }
            if (!conns[fd].active) continue;
            if ((evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && c->reading) {
                /* bounded: at most 16 reads per wakeup so one bulk stream cannot starve others */
                for (int k = 0; k < 16 && conns[fd].active && conns[fd].reading; k++) {
                    ssize_t r = recv(fd, rbuf, RBUF, 0);
                    if (r > 0) { s_consume(fd, rbuf, (size_t)r); continue; }
                    if (r == 0) { s_on_eof(fd); break; }
                    if (errno == EINTR) continue;
                    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
                    s_close(fd);
                    break;
                }
            } else if ((evs[i].events & (EPOLLHUP | EPOLLERR)) && !c->want_out) {
                s_close(fd);
            }
        }
    }
}

/* ------------------------------------------------------------------ */
/* clients                                                             */
/* ------------------------------------------------------------------ */

static void json_escape_print(const char *s) {
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') putchar('\\');
        if ((unsigned char)*s < 0x20) { putchar(' '); continue; }
        putchar(*s);
    }
}

/* Blocking connect with SO_SNDTIMEO/SO_RCVTIMEO set to the stall limit. */
static int connect_blocking(int port, char *err, size_t errlen) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) { snprintf(err, errlen, "socket: %s", strerror(errno)); return -1; }
    struct timeval tv = {.tv_sec = (time_t)STALL_SECONDS, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = loopback(port);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        snprintf(err, errlen, "connect: %s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const unsigned char *p, size_t n, double deadline, char *err, size_t errlen) {
    while (n > 0) {
        if (now_s() > deadline) { snprintf(err, errlen, "deadline passed while sending"); return -1; }
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) { p += w; n -= (size_t)w; continue; }
        if (w < 0 && errno == EINTR) continue;
        snprintf(err, errlen, "send: %s", w < 0 ? strerror(errno) : "returned 0");
        return -1;
    }
    return 0;
}

static int cmd_upload(int argc, char **argv) {
    if (argc < 5) return 2;
    int port = atoi(argv[2]);
    uint64_t bytes = strtoull(argv[3], NULL, 10);
    double timeout = atof(argv[4]);
    char err[256] = "";
    unsigned char *buf = malloc(CHUNK);
    uint64_t res[2] = {0, 0};
    int ok = 0;
    double t0 = now_s(), deadline = t0 + timeout, t_sent = 0, t1 = 0;
    int fd = connect_blocking(port, err, sizeof err);
    if (fd >= 0) {
        unsigned char hdr[16] = {'S'};
        memcpy(hdr + 8, &bytes, 8);
        if (send_all(fd, hdr, 16, deadline, err, sizeof err) == 0) {
            uint64_t left = bytes, word = 0;
            while (left > 0) {
                size_t n = left < CHUNK ? (size_t)left : CHUNK;
                pattern_fill(buf, CHUNK, word);
                word += CHUNK / 8;
                if (send_all(fd, buf, n, deadline, err, sizeof err) < 0) break;
                left -= n;
            }
            if (left == 0) {
                t_sent = now_s();
                shutdown(fd, SHUT_WR);
                size_t got = 0;
                while (got < 16) {
                    if (now_s() > deadline) { snprintf(err, sizeof err, "deadline passed waiting for the sink's result"); break; }
                    ssize_t r = recv(fd, (unsigned char *)res + got, 16 - got, 0);
                    if (r > 0) { got += (size_t)r; continue; }
                    if (r < 0 && errno == EINTR) continue;
                    snprintf(err, sizeof err, "reading the sink's result: %s",
                             r == 0 ? "EOF before 16 bytes" : strerror(errno));
                    break;
                }
                t1 = now_s();
                if (got == 16) {
                    if (res[0] != bytes)
                        snprintf(err, sizeof err, "sink received %llu bytes, expected %llu",
                                 (unsigned long long)res[0], (unsigned long long)bytes);
                    else if (res[1] != 0)
                        snprintf(err, sizeof err, "sink saw %llu bad pattern words", (unsigned long long)res[1]);
                    else
                        ok = 1;
                }
            }
        }
        close(fd);
    }
    if (t1 == 0) t1 = now_s();
    printf("{\"mode\":\"upload\",\"ok\":%s,\"bytes\":%llu,\"seconds\":%.6f,\"send_seconds\":%.6f,"
           "\"sink_received\":%llu,\"bad_words\":%llu,\"error\":\"",
           ok ? "true" : "false", (unsigned long long)bytes, t1 - t0, t_sent > 0 ? t_sent - t0 : 0.0,
           (unsigned long long)res[0], (unsigned long long)res[1]);
    json_escape_print(err);
    printf("\"}\n");
    return ok ? 0 : 1;
}

static int cmd_download(int argc, char **argv) {
    if (argc < 5) return 2;
    int port = atoi(argv[2]);
    uint64_t bytes = strtoull(argv[3], NULL, 10);
    double timeout = atof(argv[4]);
    int verify = argc > 5 ? atoi(argv[5]) : 1;
    char err[256] = "";
    size_t cap = 1024 * 1024;
    unsigned char *buf = malloc(cap);
    verifier_t ver;
    memset(&ver, 0, sizeof ver);
    uint64_t got = 0;
    int ok = 0;
    double t0 = now_s(), deadline = t0 + timeout;
    int fd = connect_blocking(port, err, sizeof err);
    if (fd >= 0) {
        unsigned char hdr[16] = {'D'};
        memcpy(hdr + 8, &bytes, 8);
        if (send_all(fd, hdr, 16, deadline, err, sizeof err) == 0) {
            for (;;) {
                if (now_s() > deadline) { snprintf(err, sizeof err, "deadline passed while receiving"); break; }
                ssize_t r = recv(fd, buf, cap, 0);
                if (r > 0) {
                    got += (uint64_t)r;
                    if (verify) verify_feed(&ver, buf, (size_t)r);
                    continue;
                }
                if (r < 0 && errno == EINTR) continue;
                if (r == 0) {
                    verify_finish(&ver);
                    if (got != bytes)
                        snprintf(err, sizeof err, "received %llu bytes, expected %llu",
                                 (unsigned long long)got, (unsigned long long)bytes);
                    else if (ver.bad)
                        snprintf(err, sizeof err, "%llu bad pattern words", (unsigned long long)ver.bad);
                    else
                        ok = 1;
                } else {
                    snprintf(err, sizeof err, "recv after %llu bytes: %s", (unsigned long long)got, strerror(errno));
                }
                break;
            }
        }
        close(fd);
    }
    double t1 = now_s();
    printf("{\"mode\":\"download\",\"ok\":%s,\"bytes\":%llu,\"seconds\":%.6f,\"received\":%llu,"
           "\"bad_words\":%llu,\"error\":\"",
           ok ? "true" : "false", (unsigned long long)bytes, t1 - t0, (unsigned long long)got,
           (unsigned long long)ver.bad);
    json_escape_print(err);
    printf("\"}\n");
    return ok ? 0 : 1;
}

/* many short connections */

typedef struct {
    int fd;
    int state; /* 0 idle, 1 connecting, 2 reading */
    uint64_t id;
    size_t got;
    double started;
    double last_progress;
} cconn_t;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmd_conns(int argc, char **argv) {
    if (argc < 7) return 2;
    int port = atoi(argv[2]);
    long count = atol(argv[3]);
    int inflight = atoi(argv[4]);
    size_t payload = (size_t)atol(argv[5]);
    double timeout = atof(argv[6]);
    if (inflight < 1) inflight = 1;
    if (payload < 8) payload = 8;
    if (payload > 65536) payload = 65536;
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();

    cconn_t *cs = calloc((size_t)inflight, sizeof *cs);
    double *lat = calloc((size_t)(count > 0 ? count : 1), sizeof(double));
    unsigned char *out = malloc(payload), *in = malloc(payload), *expect = malloc(payload);
    long started = 0, done_ok = 0, nlat = 0;
    long e_connect = 0, e_reset = 0, e_eof = 0, e_mismatch = 0, e_stall = 0, e_other = 0;
    char first_err[200] = "";
    int ep = epoll_create1(0);
    struct sockaddr_in a = loopback(port);
    double t0 = now_s(), deadline = t0 + timeout;
    int timed_out = 0;

#define ERR(counter, ...)                                                              \
    do {                                                                               \
        counter++;                                                                     \
        if (!first_err[0]) snprintf(first_err, sizeof first_err, __VA_ARGS__);         \
    } while (0)

    for (;;) {
        double t = now_s();
        if (t > deadline) { timed_out = 1; break; }
        /* fill idle slots */
        int active = 0;
        for (int i = 0; i < inflight; i++) {
            cconn_t *c = &cs[i];
            if (c->state == 0 && started < count) {
                int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
                if (fd < 0) { ERR(e_other, "socket: %s", strerror(errno)); started++; continue; }
                set_nodelay(fd);
                c->fd = fd;
                c->id = (uint64_t)started++;
                c->got = 0;
                c->started = c->last_progress = t;
                int r = connect(fd, (struct sockaddr *)&a, sizeof a);
                if (r < 0 && errno != EINPROGRESS) {
                    ERR(e_connect, "connect: %s", strerror(errno));
                    close(fd);
                    continue;
                }
                c->state = 1;
                struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)i};
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
            }
            if (c->state != 0) {
                active++;
                if (t - c->last_progress > STALL_SECONDS) {
                    ERR(e_stall, "connection %llu made no progress for %.0f s (state %d, %zu bytes echoed)",
                        (unsigned long long)c->id, STALL_SECONDS, c->state, c->got);
                    close(c->fd);
                    c->state = 0;
                }
            }
        }
        if (active == 0 && started >= count) break;

        struct epoll_event evs[256];
        int n = epoll_wait(ep, evs, 256, 100);
        if (n < 0 && errno != EINTR) { ERR(e_other, "epoll_wait: %s", strerror(errno)); break; }
        double tn = now_s();
        for (int k = 0; k < n; k++) {
            cconn_t *c = &cs[evs[k].data.u32];
            if (c->state == 1) {
                int soerr = 0;
                socklen_t sl = sizeof soerr;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
                if (soerr) {
                    ERR(e_connect, "connect: %s", strerror(soerr));
                    close(c->fd);
                    c->state = 0;
                    continue;
                }
                /* payload: 'E', 7 bytes of id, then pattern from word id */
                pattern_fill(out, payload & ~(size_t)7, c->id);
                out[0] = 'E';
                memcpy(out + 1, &c->id, 7);
                ssize_t w = send(c->fd, out, payload, MSG_NOSIGNAL);
                if (w != (ssize_t)payload) {
                    ERR(e_other, "send: %s", w < 0 ? strerror(errno) : "short write");
                    close(c->fd);
                    c->state = 0;
                    continue;
                }
                c->state = 2;
                c->last_progress = tn;
                struct epoll_event ev = {.events = EPOLLIN, .data.u32 = evs[k].data.u32};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
            } else if (c->state == 2) {
                ssize_t r = recv(c->fd, in + c->got, payload - c->got, 0);
                if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
                if (r < 0) {
                    ERR(e_reset, "recv: %s after %zu of %zu bytes", strerror(errno), c->got, payload);
                    close(c->fd);
                    c->state = 0;
                    continue;
                }
                if (r == 0) {
                    ERR(e_eof, "EOF after %zu of %zu echoed bytes", c->got, payload);
                    close(c->fd);
                    c->state = 0;
                    continue;
                }
                c->got += (size_t)r;
                c->last_progress = tn;
                if (c->got < payload) continue;
                pattern_fill(expect, payload & ~(size_t)7, c->id);
                expect[0] = 'E';
                memcpy(expect + 1, &c->id, 7);
                if (memcmp(in, expect, payload) != 0) {
                    ERR(e_mismatch, "connection %llu: echoed bytes differ", (unsigned long long)c->id);
                } else {
                    done_ok++;
                    lat[nlat++] = tn - c->started;
                }
                close(c->fd); /* we close first, like a client ending its session */
                c->state = 0;
            }
        }
    }
    double t1 = now_s();
    for (int i = 0; i < inflight; i++)
        if (cs[i].state != 0) close(cs[i].fd);
    qsort(lat, (size_t)nlat, sizeof(double), cmp_double);
    double p50 = nlat ? lat[nlat / 2] : 0, p99 = nlat ? lat[(long)(nlat * 0.99)] : 0;
    double pmax = nlat ? lat[nlat - 1] : 0;
    long errors = e_connect + e_reset + e_eof + e_mismatch + e_stall + e_other;
    int ok = !timed_out && errors == 0 && done_ok == count;
    printf("{\"mode\":\"conns\",\"ok\":%s,\"count\":%ld,\"completed\":%ld,\"seconds\":%.6f,"
           "\"timed_out\":%s,\"errors\":%ld,\"connect_errors\":%ld,\"reset_errors\":%ld,"
           "\"eof_errors\":%ld,\"mismatch_errors\":%ld,\"stalls\":%ld,\"other_errors\":%ld,"
           "\"latency_p50_us\":%.1f,\"latency_p99_us\":%.1f,\"latency_max_us\":%.1f,\"error\":\"",
           ok ? "true" : "false", count, done_ok, t1 - t0, timed_out ? "true" : "false", errors, e_connect,
           e_reset, e_eof, e_mismatch, e_stall, e_other, p50 * 1e6, p99 * 1e6, pmax * 1e6);
    json_escape_print(timed_out && !first_err[0] ? "deadline passed" : first_err);
    printf("\"}\n");
    return ok ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "server")) return cmd_server(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "upload")) return cmd_upload(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "download")) return cmd_download(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "conns")) return cmd_conns(argc, argv);
    fprintf(stderr,
            "usage: %s server MAX_SECONDS VERIFY\n"
            "       %s upload PORT BYTES TIMEOUT_S\n"
            "       %s download PORT BYTES TIMEOUT_S VERIFY\n"
            "       %s conns PORT COUNT INFLIGHT PAYLOAD TIMEOUT_S\n",
            argv[0], argv[0], argv[0], argv[0]);
    return 2;
}
