#ifndef CREMORA_SHIMS_H
#define CREMORA_SHIMS_H

#include <stdint.h>
#include <stddef.h>
#include <sys/socket.h>
#include <netinet/in.h>

/// Creates a non-blocking, close-on-exec TCP socket bound to `addr` with
/// SO_REUSEADDR and, when `reuse_port` is set, SO_REUSEPORT; IPv6 sockets are
/// made v6-only when `v6only` is set. Returns the fd or -errno.
int remora_bound_tcp_socket(const struct sockaddr *addr, socklen_t len, int reuse_port, int v6only);

/// Creates a non-blocking, close-on-exec UDP socket connected to `addr`
/// (a statsd sink's). Returns the fd or -errno.
int remora_connected_udp_socket(const struct sockaddr *addr, socklen_t len);

/// One datagram on a connected socket, never blocking, EINTR retried.
/// Returns 0, or -errno (-EAGAIN when the socket buffer is full).
int remora_udp_send(int fd, const void *bytes, size_t len);

/// getsockopt(SO_ORIGINAL_DST) (IPv4) or IP6T_SO_ORIGINAL_DST (IPv6) on `fd`.
/// Returns 0 and fills `out`, or -errno.
int remora_original_dst(int fd, struct sockaddr_storage *out, socklen_t *len);

/// Sets SO_LINGER with a zero timeout so that close() sends RST. Returns 0 or -errno.
int remora_set_linger_zero(int fd);

/* SO_KEEPALIVE on, and TCP_KEEPCNT / TCP_KEEPIDLE / TCP_KEEPINTVL where the
   value is above 0 (0: the system default). 0, or -errno. */
int remora_set_keepalive(int fd, unsigned probes, unsigned idle, unsigned interval);

/// Asks the kernel to reclaim the resident pages of this process's
/// file-backed mappings that start-up touched (code, constants and data of the
/// binary and its libraries). Read-only mappings never written to (no private
/// dirty or anonymous pages) go with madvise(MADV_DONTNEED), which drops them
/// from this process even when other processes share them; read-only ones
/// with changed pages (RELRO) with madvise(MADV_PAGEOUT), which never discards
/// a change; private writable ones (.data, Swift metadata) only in their pages
/// that are still the file's (/proc/self/pagemap), with MADV_PAGEOUT. A page
/// still in use faults back in from the page cache; nothing is evicted from
/// the page cache, so no page comes back from disk. Returns the number of
/// mappings advised, or -errno if the kernel lacks MADV_PAGEOUT.
int remora_page_out_file_mappings(void);

/// Returns freed heap memory to the kernel (glibc's malloc_trim(0)).
void remora_trim_heap(void);
/* The kernel's id of the calling thread (gettid). */
long remora_thread_id(void);
/* glibc's mallinfo2: bytes in use, bytes the heap holds from the kernel
   (arenas and mmapped chunks), and free bytes inside the arenas. */
void remora_malloc_stats(uint64_t *allocated, uint64_t *heap_size, uint64_t *free_bytes);

/// Current resident set size in bytes, read from /proc/self/statm; 0 if unknown.
uint64_t remora_resident_bytes(void);

/// Names the calling thread (Linux keeps the first 15 bytes); returns 0 or -errno.
int remora_set_thread_name(const char *name);

#include "remora_block_cache.h"

#endif
