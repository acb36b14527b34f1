#include "CRE2.h"

#include <re2/re2.h>

#include <cstdlib>
#include <cstring>
#include <string>

struct remora_re2 {
    RE2 re;
    explicit remora_re2(const re2::StringPiece &p, const RE2::Options &o) : re(p, o) {}
};

extern "C" remora_re2 *remora_re2_compile(const char *pattern, size_t pattern_len, char *error, size_t error_len) {
    RE2::Options options;
    options.set_log_errors(false);
    auto *re = new remora_re2(re2::StringPiece(pattern, pattern_len), options);
    if (!re->re.ok()) {
        if (error && error_len > 0) {
            const std::string &msg = re->re.error();
            size_t n = msg.size() < error_len - 1 ? msg.size() : error_len - 1;
            std::memcpy(error, msg.data(), n);
            error[n] = 0;
        }
        delete re;
        return nullptr;
    }
    return re;
}

extern "C" void remora_re2_free(remora_re2 *re) { delete re; }

extern "C" int remora_re2_full_match(const remora_re2 *re, const char *text, size_t text_len) {
    return RE2::FullMatch(re2::StringPiece(text, text_len), re->re) ? 1 : 0;
}

extern "C" int remora_re2_partial_match(const remora_re2 *re, const char *text, size_t text_len) {
    return RE2::PartialMatch(re2::StringPiece(text, text_len), re->re) ? 1 : 0;
}

extern "C" char *remora_re2_global_replace(const remora_re2 *re, const char *text, size_t text_len,
                                           const char *rewrite, size_t rewrite_len, size_t *out_len) {
    re2::StringPiece rw(rewrite, rewrite_len);
    std::string error;
    if (!re->re.CheckRewriteString(rw, &error)) return nullptr;
    std::string s(text, text_len);
    RE2::GlobalReplace(&s, re->re, rw);
    char *out = static_cast<char *>(std::malloc(s.size() + 1));
    if (!out) return nullptr;
    std::memcpy(out, s.data(), s.size());
    out[s.size()] = 0;
    *out_len = s.size();
    return out;
}

extern "C" void remora_re2_free_string(char *s) { std::free(s); }

extern "C" int remora_re2_program_size(const remora_re2 *re) { return re->re.ProgramSize(); }

extern "C" int remora_re2_partial_match_groups(const remora_re2 *re, const char *text, size_t text_len,
                                               long *groups, int group_count) {
    const int n = 1 + group_count;
    re2::StringPiece sub[8];
    if (n > 8) return 0;
    re2::StringPiece subject(text, text_len);
    if (!re->re.Match(subject, 0, text_len, RE2::UNANCHORED, sub, n)) return 0;
    for (int i = 0; i < group_count; i++) {
        const re2::StringPiece &g = sub[i + 1];
        if (g.data() == nullptr) {
            groups[2 * i] = -1;
            groups[2 * i + 1] = -1;
        } else {
            groups[2 * i] = static_cast<long>(g.data() - text);
            groups[2 * i + 1] = static_cast<long>(g.data() - text + g.size());
        }
    }
    return 1;
}
