#ifndef REMORA_BLOCK_CACHE_H
#define REMORA_BLOCK_CACHE_H

#include <stddef.h>

/* A per-thread cache of small heap blocks, for a C library that allocates
   and frees the same few sizes many times per request (nghttp2's streams,
   outbound items and header copies: about a dozen per request). Blocks up to
   1 KiB come in 32-byte size classes and go back to the calling thread's
   free list (bounded: 1 MiB per thread); larger ones go to malloc. glibc's
   own per-thread cache holds 7 blocks per size, which a burst of a few
   hundred concurrent streams exhausts; then every allocation takes malloc's
   slow path. Blocks are malloc's: any thread may free one (it joins that
   thread's list). The signatures are nghttp2_mem's. */
void *remora_block_malloc(size_t size, void *user_data);
void remora_block_free(void *ptr, void *user_data);
void *remora_block_calloc(size_t count, size_t size, void *user_data);
void *remora_block_realloc(void *ptr, size_t size, void *user_data);

/* Bytes held in the calling thread's free lists (for tests). */
size_t remora_block_cache_bytes(void);

#endif
