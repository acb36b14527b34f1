/* The kernel's floor under a proxy at one request per wake-up: CPU per
 * round trip of a bare ping-pong over loopback TCP, the echo side on one
 * CPU and the measured side on another, each round trip one write, one
 * epoll_wait that sleeps and one read — what a proxy does twice per
 * request (client side and upstream side), with no parsing or routing.
 *
 *   cc -O2 -o /tmp/wakeup_floor Benchmarks/wakeup_floor.c
 *   /tmp/wakeup_floor 30000 [measured-cpu echo-cpu]   (default CPUs 1 and 0)
 *
 * Prints the measured side's utime+stime per round trip (getrusage) and the
 * wall time per round trip. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) perror("sched_setaffinity");
}

static int watch(int fd) {
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    return ep;
}

static double us(struct timeval t) { return t.tv_sec * 1e6 + t.tv_usec; }

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 30000;
    int measured = argc > 2 ? atoi(argv[2]) : 1, echo = argc > 3 ? atoi(argv[3]) : 0;
    int one = 1, l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (bind(l, (void *)&a, sizeof a) != 0 || listen(l, 1) != 0 || getsockname(l, (void *)&a, &len) != 0) {
        perror("listen");
        return 1;
    }
    char buf[256] = {0};
    if (fork() == 0) {
        pin(echo);
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(c, (void *)&a, sizeof a) != 0) _exit(1);
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int ep = watch(c);
        for (;;) {
            struct epoll_event e;
            epoll_wait(ep, &e, 1, -1);
            ssize_t got = read(c, buf, sizeof buf);
            if (got <= 0 || write(c, buf, got) != got) _exit(0);
        }
    }
    pin(measured);
    int s = accept(l, 0, 0);
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int ep = watch(s);
    struct rusage r0, r1;
    struct timespec t0, t1;
    getrusage(RUSAGE_SELF, &r0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) {
        struct epoll_event e;
        if (write(s, buf, 150) != 150) return 1;
        epoll_wait(ep, &e, 1, -1);
        if (read(s, buf, sizeof buf) <= 0) return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    getrusage(RUSAGE_SELF, &r1);
    double user = us(r1.ru_utime) - us(r0.ru_utime), sys = us(r1.ru_stime) - us(r0.ru_stime);
    printf("CPU per round trip %.2f us (user %.2f, sys %.2f); wall %.2f us\n", (user + sys) / n, user / n, sys / n,
           ((t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3) / n);
    close(s);
    wait(NULL);
    return 0;
}
