// SPDX-License-Identifier: BSD-3-Clause
// Small string helpers shared by the policy languages. ASCII only and
// locale-independent, as the C-locale behaviour of the tools we replace.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ringfence::core {

inline char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// isspace() in the C locale.
inline bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

inline bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) {
            return false;
        }
    }
    return true;
}

inline bool istarts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

inline bool iends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}

inline std::string_view trim(std::string_view s) {
    while (!s.empty() && is_blank(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && is_blank(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

// The first character of `token` that no real name, tty or host has and a
// reader cannot see: a control character (CR, VT, ESC, ...) or a
// non-breaking space (UTF-8 C2 A0, or the Latin-1 byte A0). Returns its
// offset and sets *what ("the control character \x1b", "a non-breaking
// space"); npos when there is none.
inline size_t find_invisible(std::string_view token, std::string* what) {
    for (size_t i = 0; i < token.size(); ++i) {
        auto c = static_cast<unsigned char>(token[i]);
        bool nbsp = c == 0xa0 || (c == 0xc2 && i + 1 < token.size() && static_cast<unsigned char>(token[i + 1]) == 0xa0);
        if (nbsp) {
            *what = "a non-breaking space";
            return i;
        }
        if (c < 0x20 || c == 0x7f) {
            static const char kHex[] = "0123456789abcdef";
            *what = std::string("the control character \\x") + kHex[c >> 4] + kHex[c & 15];
            return i;
        }
    }
    return std::string_view::npos;
}

// The lines of `text` without their '\n'; a last line without '\n' counts,
// an empty text has none.
inline std::vector<std::string> split_lines(std::string_view text) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start < text.size()) {
        size_t nl = text.find('\n', start);
        if (nl == std::string_view::npos) {
            out.emplace_back(text.substr(start));
            break;
        }
        out.emplace_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    return out;
}

// Words separated by blanks (is_blank).
inline std::vector<std::string> split_words(std::string_view text) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && is_blank(text[i])) {
            ++i;
        }
        size_t start = i;
        while (i < text.size() && !is_blank(text[i])) {
            ++i;
        }
        if (i > start) {
            out.emplace_back(text.substr(start, i - start));
        }
    }
    return out;
}

// A word of a configuration line and where it starts (0-based), for
// diagnostics with a column.
struct Word {
    std::string_view text;
    size_t offset = 0;
};

// The words of one line of a blank-separated configuration language
// (firewall.conf, sync.conf, a bundle's MANIFEST): blanks separate, '#'
// starts a comment anywhere outside a word or at a word's start and ends a
// word it touches. Views into `line`.
inline std::vector<Word> config_words(std::string_view line) {
    std::vector<Word> words;
    size_t i = 0;
    while (i < line.size()) {
        if (is_blank(line[i])) {
            ++i;
            continue;
        }
        if (line[i] == '#') {
            break;
        }
        size_t start = i;
        while (i < line.size() && !is_blank(line[i]) && line[i] != '#') {
            ++i;
        }
        words.push_back(Word{line.substr(start, i - start), start});
    }
    return words;
}

// The same words as strings.
inline std::vector<std::string> config_word_strings(std::string_view line) {
    std::vector<std::string> out;
    for (const Word& w : config_words(line)) {
        out.emplace_back(w.text);
    }
    return out;
}

// Plain decimal (digits only: no sign, no blank, no "0x"), at most
// max_digits digits, value <= max; nullopt otherwise.
inline std::optional<long> parse_decimal(std::string_view s, long max, size_t max_digits = 10) {
    if (s.empty() || s.size() > max_digits) {
        return std::nullopt;
    }
    long v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        v = v * 10 + (c - '0');
        if (v > max) {
            return std::nullopt;
        }
    }
    return v;
}

}  // namespace ringfence::core
