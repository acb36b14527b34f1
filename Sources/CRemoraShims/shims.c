#include "CRemoraShims.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <linux/netfilter_ipv4.h>
#include <string.h>
#include <malloc.h>
#include <sys/mman.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif

int remora_bound_tcp_socket(const struct sockaddr *addr, socklen_t len, int reuse_port, int v6only) {
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) goto fail;
    if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) goto fail;
    if (addr->sa_family == AF_INET6) {
        int v = v6only ? 1 : 0;
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v)) != 0) goto fail;
    }
    if (bind(fd, addr, len) != 0) goto fail;
    return fd;
fail:;
    int err = errno;
    close(fd);
    return -err;
}

int remora_connected_udp_socket(const struct sockaddr *addr, socklen_t len) {
    int fd = socket(addr->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (connect(fd, addr, len) != 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    return fd;
}

int remora_udp_send(int fd, const void *bytes, size_t len) {
    for (;;) {
        if (send(fd, bytes, len, MSG_DONTWAIT) >= 0) return 0;
        if (errno != EINTR) return -errno;
    }
}

int remora_original_dst(int fd, struct sockaddr_storage *out, socklen_t *len) {
    *len = sizeof(*out);
    struct sockaddr_storage local;
    socklen_t local_len = sizeof(local);
    if (getsockname(fd, (struct sockaddr *)&local, &local_len) != 0) return -errno;
    int rc;
    if (local.ss_family == AF_INET6) {
        rc = getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, out, len);
        /* An IPv4 client on a dual-stack socket (::ffff:a.b.c.d) has an
           IPv4 conntrack entry: ask the IPv4 table. */
        if (rc != 0 && IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&local)->sin6_addr)) {
            *len = sizeof(*out);
            rc = getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, out, len);
        }
    } else {
        rc = getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, out, len);
    }
    return rc == 0 ? 0 : -errno;
}

int remora_set_keepalive(int fd, unsigned probes, unsigned idle, unsigned interval) {
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) != 0) return -errno;
    int v;
    if (probes > 0 && (v = (int)probes, setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &v, sizeof(v))) != 0) return -errno;
    if (idle > 0 && (v = (int)idle, setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v))) != 0) return -errno;
    if (interval > 0 && (v = (int)interval, setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &v, sizeof(v))) != 0) return -errno;
    return 0;
}

int remora_set_linger_zero(int fd) {
    struct linger l = { .l_onoff = 1, .l_linger = 0 };
    return setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)) == 0 ? 0 : -errno;
}

uint64_t remora_resident_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long size = 0, resident = 0;
    int n = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    if (n != 2) return 0;
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

int remora_set_thread_name(const char *name) {
    /* prctl rather than pthread_setname_np: no _GNU_SOURCE needed, and it
       truncates instead of failing with ERANGE. */
    return prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0) == 0 ? 0 : -errno;
}

/* One mapping of /proc/self/smaps, as far as the page-out needs it. */
struct remora_mapping {
    unsigned long start, end, inode;
    char perms[8];
    int file;                 /* backed by a named file */
    unsigned long dirty_kb;   /* Private_Dirty */
    unsigned long anon_kb;    /* Anonymous */
};

/* Pages out the pages of a private writable file mapping that are still the
   file's (present, not copied on write), run by run, as /proc/self/pagemap
   tells (bit 63: present, bit 61: file page). The pages this process wrote
   are anonymous and are left alone: paging them out could only mean swap.
   A page written between the read and the advice is still never lost
   (MADV_PAGEOUT does not discard), only possibly swapped. Returns 1 if some
   range was advised, 0 if none, -errno if the kernel refused. */
static int remora_page_out_file_pages(int pagemap, const struct remora_mapping *m) {
    const unsigned long page = (unsigned long)sysconf(_SC_PAGESIZE);
    uint64_t entries[512];
    unsigned long run = 0;  /* start of the current run of file pages, 0: none */
    int advised = 0;
    for (unsigned long addr = m->start; addr < m->end;) {
        unsigned long count = (m->end - addr) / page;
        if (count > 512) count = 512;
        ssize_t n = pread(pagemap, entries, count * sizeof(uint64_t), (off_t)(addr / page * sizeof(uint64_t)));
        if (n <= 0) break;
        count = (unsigned long)n / sizeof(uint64_t);
        for (unsigned long i = 0; i < count; i++, addr += page) {
            int file_page = (entries[i] >> 63 & 1) && (entries[i] >> 61 & 1);
            if (file_page && !run) run = addr;
            if (!file_page && run) {
                if (madvise((void *)run, addr - run, MADV_PAGEOUT) != 0) return errno == EINVAL ? -EINVAL : advised;
                advised = 1;
                run = 0;
            }
        }
    }
    if (run) {
        if (madvise((void *)run, m->end - run, MADV_PAGEOUT) != 0) return errno == EINVAL ? -EINVAL : advised;
        advised = 1;
    }
    return advised;
}

/* Advises one finished mapping; returns 1 if advised, 0 if skipped, -errno
   if the kernel refused MADV_PAGEOUT itself. */
static int remora_advise(int pagemap, const struct remora_mapping *m) {
    if (!m->file || m->perms[0] != 'r') return 0;
    if (m->perms[1] == 'w') {
        /* Data (.data, Swift metadata): only the pages start-up read and
           nobody wrote. Shared writable mappings stay as they are. */
        if (m->perms[3] != 'p' || pagemap < 0) return 0;
        return remora_page_out_file_pages(pagemap, m);
    }
    /* A read-only file mapping nobody wrote to (no private dirty or
       anonymous pages: no relocations, breakpoints, uprobes or patches) can
       be dropped from this process's page tables without losing anything: a
       page still in use faults back in from the page cache. That holds for
       code and for constant data alike (.rodata, symbol and relocation
       tables, unwind tables), and unlike MADV_PAGEOUT it also works for pages
       other processes map (the Swift runtime, libc, OpenSSL), which the
       page-out leaves in place. */
    if (m->dirty_kb == 0 && m->anon_kb == 0 &&
        madvise((void *)m->start, m->end - m->start, MADV_DONTNEED) == 0) {
        return 1;
    }
    /* One with changed pages (RELRO data after relocation) is only paged
       out, which never discards a change. */
    if (madvise((void *)m->start, m->end - m->start, MADV_PAGEOUT) == 0) return 1;
    return errno == EINVAL ? -EINVAL : 0;
}

int remora_page_out_file_mappings(void) {
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) return -errno;
    int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    char line[1024];
    int advised = 0, refused = 0, have = 0;
    struct remora_mapping m;
    memset(&m, 0, sizeof m);
    while (fgets(line, sizeof line, f)) {
        unsigned long start, end, offset, inode, kb;
        char perms[8], dev[16], path[768];
        path[0] = 0;
        if (sscanf(line, "%lx-%lx %7s %lx %15s %lu %767s", &start, &end, perms, &offset, dev, &inode, path) >= 6) {
            memset(&m, 0, sizeof m);
            m.start = start;
            m.end = end;
            m.inode = inode;
            memcpy(m.perms, perms, sizeof m.perms);
            m.file = inode != 0 && path[0] == '/';
            have = 1;
        } else if (have && sscanf(line, "Private_Dirty: %lu kB", &kb) == 1) {
            m.dirty_kb = kb;
        } else if (have && sscanf(line, "Anonymous: %lu kB", &kb) == 1) {
            m.anon_kb = kb;
        } else if (have && strncmp(line, "VmFlags:", 8) == 0) {
            /* The last field of a mapping's entry. */
            int r = remora_advise(pagemap, &m);
            if (r > 0) advised++;
            else if (r < 0) refused++;
            have = 0;
        }
    }
    fclose(f);
    if (pagemap >= 0) close(pagemap);
    return advised == 0 && refused > 0 ? -EINVAL : advised;
}

long remora_thread_id(void) {
    return syscall(SYS_gettid);
}

void remora_trim_heap(void) {
    malloc_trim(0);
}

void remora_malloc_stats(uint64_t *allocated, uint64_t *heap_size, uint64_t *free_bytes) {
    struct mallinfo2 m = mallinfo2();
    *allocated = (uint64_t)(m.uordblks + m.hblkhd);
    *heap_size = (uint64_t)(m.arena + m.hblkhd);
    *free_bytes = (uint64_t)m.fordblks;
}
