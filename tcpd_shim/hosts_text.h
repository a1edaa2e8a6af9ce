// SPDX-License-Identifier: BSD-3-Clause
// Byte-level helpers shared by the hosts_access line splitter, option
// parser, pattern compiler and evaluator (internal to tcpd_shim/): ASCII and
// locale-independent, as libwrap in the C locale.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/ip.h"
#include "core/text.h"
#include "tcpd_shim/hosts_access.h"

namespace ringfence::tcpd::detail {

using core::ascii_lower;
using core::iequals;
using core::istarts_with;
using core::IpAddress;

// isspace() in the C locale (chop_string() in options.c) is core's blank.
using core::is_blank;
inline bool is_space(char c) { return is_blank(c); }

// libwrap's list separators (hosts_access.c `sep`).
inline bool is_list_sep(char c) { return c == ' ' || c == ',' || c == '\t' || c == '\r' || c == '\n'; }

// core::trim(), saying how many bytes it took off the front.
inline std::string_view chop(std::string_view s, size_t* skipped = nullptr) {
    std::string_view t = core::trim(s);
    if (skipped != nullptr) {
        *skipped = t.empty() ? s.size() : static_cast<size_t>(t.data() - s.data());
    }
    return t;
}

// libwrap's split_at() with its INET6 bracket counting: the first `delim`
// outside [...] (a ']' without '[' makes the count negative, and then no
// delimiter counts). npos if none.
inline size_t find_outside_brackets(std::string_view s, char delim) {
    int depth = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '[') {
            ++depth;
        } else if (s[i] == ']') {
            --depth;
        } else if (depth == 0 && s[i] == delim) {
            return i;
        }
    }
    return std::string_view::npos;
}

// NOT_INADDR(): the text has a character other than digits, '.' and '/', so
// it may name a host and is compared with the host name too.
// (Loops, not find_first_not_of: that is a memchr per byte, and the
// compiler asks this of every pattern.)
inline bool not_inaddr(std::string_view s) {
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || c == '.' || c == '/')) {
            return true;
        }
    }
    return false;
}

inline bool all_digits(std::string_view s) {
    for (char c : s) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return !s.empty();
}

// Decimal value of at most 9 digits, optionally signed as sscanf("%d")
// accepts; nullopt otherwise.
inline std::optional<long> parse_int(std::string_view s) {
    bool negative = false;
    if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
        negative = s[0] == '-';
        s.remove_prefix(1);
    }
    if (!all_digits(s) || s.size() > 9) {
        return std::nullopt;
    }
    long v = 0;
    for (char c : s) {
        v = v * 10 + (c - '0');
    }
    return negative ? -v : v;
}

// "::ffff:a.b.c.d" is compared as "a.b.c.d" (string_match()).
inline std::string_view strip_mapped(std::string_view s) {
    if (istarts_with(s, "::ffff:")) {
        auto v4 = IpAddress::parse(s.substr(7));
        if (v4 && v4->is_v4()) {
            return s.substr(7);
        }
    }
    return s;
}

inline std::string_view truncated(std::string_view s) { return s.substr(0, std::min(s.size(), kMaxRequestString)); }

inline bool name_known(std::string_view name) { return !iequals(name, kUnknown) && !iequals(name, kParanoid); }

}  // namespace ringfence::tcpd::detail
