#ifndef CRE2_H
#define CRE2_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// An RE2 regex, compiled once and shared read-only (RE2 matching is thread-safe).
typedef struct remora_re2 remora_re2;

/// Compiles `pattern` (UTF-8, RE2 syntax). On error returns NULL and writes a
/// NUL-terminated message into `error` (at most `error_len` bytes).
remora_re2 *remora_re2_compile(const char *pattern, size_t pattern_len, char *error, size_t error_len);

void remora_re2_free(remora_re2 *re);

/// 1 if the whole of `text` matches, else 0.
int remora_re2_full_match(const remora_re2 *re, const char *text, size_t text_len);

/// 1 if some part of `text` matches, else 0.
int remora_re2_partial_match(const remora_re2 *re, const char *text, size_t text_len);

/// Replaces every match in `text` with `rewrite` (\1-style groups).
/// Returns a malloc'ed buffer (caller frees with remora_re2_free_string)
/// and its length in *out_len; NULL if `rewrite` is invalid for `re`.
char *remora_re2_global_replace(const remora_re2 *re, const char *text, size_t text_len,
                                const char *rewrite, size_t rewrite_len, size_t *out_len);

void remora_re2_free_string(char *s);

/// Program size (RE2's measure of regex cost; Envoy bounds it).
int remora_re2_program_size(const remora_re2 *re);

/// Unanchored search; on a match fills `groups[2*i]`, `groups[2*i+1]` with
/// the byte offsets of capture group i+1 (-1, -1 when it did not take part)
/// for i < group_count, and returns 1; returns 0 when nothing matches.
int remora_re2_partial_match_groups(const remora_re2 *re, const char *text, size_t text_len,
                                    long *groups, int group_count);

#ifdef __cplusplus
}
#endif

#endif
