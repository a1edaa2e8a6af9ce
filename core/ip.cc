// SPDX-License-Identifier: BSD-3-Clause
// IPv4/IPv6 addresses and CIDR ranges.
#include "core/ip.h"

#include "core/text.h"

#include <arpa/inet.h>

#include <cstring>

namespace ringfence::core {

namespace {

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_hex_or_colon(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

// Dotted-quad IPv4 exactly as glibc's inet_pton(AF_INET) reads it: four
// decimal parts of 0..255, no leading zero, nothing else. The compilers
// parse an address or two per rule, and this is a tenth of inet_pton's
// cost on long policies (tests/unit/core/test_ip.cc compares the two).
bool parse_dotted_quad(std::string_view s, uint8_t out[4]) {
    int parts = 0;
    size_t i = 0;
    while (parts < 4) {
        if (i >= s.size() || !is_digit(s[i])) {
            return false;
        }
        unsigned v = static_cast<unsigned>(s[i++] - '0');
        if (v == 0 && i < s.size() && is_digit(s[i])) {
            return false;  // leading zero
        }
        while (i < s.size() && is_digit(s[i])) {
            v = v * 10 + static_cast<unsigned>(s[i++] - '0');
            if (v > 255) {
                return false;
            }
        }
        out[parts++] = static_cast<uint8_t>(v);
        if (parts < 4) {
            if (i >= s.size() || s[i] != '.') {
                return false;
            }
            ++i;
        }
    }
    return i == s.size();
}

// Strict decimal: 1..3 digits, value 0..max, no sign, no leading "0x", no
// leading zero ("010" is octal to strtol: refuse rather than guess).
std::optional<int> parse_small_decimal(std::string_view s, int max) {
    if (s.size() > 1 && s[0] == '0') {
        return std::nullopt;
    }
    std::optional<long> v = parse_decimal(s, max, 3);
    return v ? std::optional<int>(static_cast<int>(*v)) : std::nullopt;
}

// Prefix length of a contiguous IPv4 netmask; nullopt if not contiguous.
std::optional<int> mask_to_prefix(const IpAddress& mask) {
    uint32_t m = mask.v4_value();
    if (!v4_mask_is_contiguous(m)) {
        return std::nullopt;
    }
    return v4_mask_prefix(m);
}

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    // Longest IPv6 text form is 45 characters ("ffff:...:255.255.255.255").
    if (text.empty() || text.size() > 45) {
        return std::nullopt;
    }
    IpAddress a;
    bool v4_chars = true;
    bool v6_chars = true;
    bool colon = false;
    for (char c : text) {
        v4_chars = v4_chars && (is_digit(c) || c == '.');
        v6_chars = v6_chars && is_hex_or_colon(c);
        colon = colon || c == ':';
    }
    if (v4_chars) {
        if (!parse_dotted_quad(text, a.bytes_.data())) {
            return std::nullopt;
        }
        a.family_ = Family::v4;
        return a;
    }
    if (v6_chars && colon) {
        char buf[64];
        std::memcpy(buf, text.data(), text.size());
        buf[text.size()] = '\0';
        if (inet_pton(AF_INET6, buf, a.bytes_.data()) != 1) {
            return std::nullopt;
        }
        a.family_ = Family::v6;
        return a;
    }
    return std::nullopt;
}

IpAddress IpAddress::from_v4(const uint8_t bytes[4]) {
    IpAddress a;
    a.family_ = Family::v4;
    std::memcpy(a.bytes_.data(), bytes, 4);
    return a;
}

IpAddress IpAddress::from_v6(const uint8_t bytes[16]) {
    IpAddress a;
    a.family_ = Family::v6;
    std::memcpy(a.bytes_.data(), bytes, 16);
    return a;
}

IpAddress IpAddress::from_v4_value(uint32_t v) {
    const uint8_t b[4] = {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16), static_cast<uint8_t>(v >> 8),
                          static_cast<uint8_t>(v)};
    return from_v4(b);
}

int v4_mask_prefix(uint32_t mask) {
    int n = 0;
    while (n < 32 && (mask & (0x80000000u >> n)) != 0) {
        ++n;
    }
    return n;
}

bool v4_mask_is_contiguous(uint32_t mask) {
    int n = v4_mask_prefix(mask);
    return mask == (n == 0 ? 0 : (0xffffffffu << (32 - n)));
}

bool IpAddress::is_v4_mapped() const {
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return family_ == Family::v6 && std::memcmp(bytes_.data(), prefix, 12) == 0;
}

IpAddress IpAddress::unmapped() const {
    if (!is_v4_mapped()) {
        return *this;
    }
    return from_v4(bytes_.data() + 12);
}

std::string IpAddress::to_string() const {
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof buf);
    return buf;
}

CidrRange::CidrRange(const IpAddress& base_in, int prefix_in) : base_(base_in), prefix_(prefix_in) {
    // ::ffff:10.0.0.0/104 is the IPv4 network 10.0.0.0/8: candidates are
    // unmapped before comparison, so the range must be too.
    IpAddress base = base_in;
    int prefix = prefix_in;
    if (base.is_v4_mapped() && prefix >= 96) {
        base = base.unmapped();
        prefix -= 96;
        prefix_ = prefix;
    }
    uint8_t masked[16];
    std::memcpy(masked, base.bytes(), base.size());
    for (int i = 0; i < base.size(); ++i) {
        int bits = prefix - i * 8;
        uint8_t m = bits >= 8 ? 0xff : bits <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - bits));
        if ((masked[i] & ~m) != 0) {
            had_host_bits_ = true;
        }
        masked[i] &= m;
    }
    base_ = base.is_v4() ? IpAddress::from_v4(masked) : IpAddress::from_v6(masked);
}

std::optional<CidrRange> CidrRange::of(const IpAddress& base, int prefix) {
    if (prefix < 0 || prefix > base.max_prefix()) {
        return std::nullopt;
    }
    return CidrRange(base, prefix);
}

std::optional<CidrRange> CidrRange::v4_netmask(const IpAddress& net, uint32_t mask) {
    if (!net.is_v4()) {
        return std::nullopt;
    }
    CidrRange r(net, 32);
    r.netmask_ = true;
    r.mask_ = mask;
    r.net_ = net.v4_value();
    r.prefix_ = v4_mask_prefix(mask);
    r.had_host_bits_ = (net.v4_value() & ~mask) != 0;
    return r;
}

std::optional<CidrRange> CidrRange::parse(std::string_view text, std::string* error) {
    size_t slash = text.find('/');
    std::string_view addr_text = text.substr(0, slash);
    auto addr = IpAddress::parse(addr_text);
    if (!addr) {
        *error = "'" + std::string(addr_text) + "' is not an IPv4 or IPv6 address";
        return std::nullopt;
    }
    if (slash == std::string_view::npos) {
        return CidrRange::host(*addr);
    }
    std::string_view len_text = text.substr(slash + 1);
    if (auto len = parse_small_decimal(len_text, addr->max_prefix())) {
        return CidrRange(*addr, *len);
    }
    if (addr->is_v4() && len_text.find('.') != std::string_view::npos) {
        auto mask = IpAddress::parse(len_text);
        if (mask && mask->is_v4()) {
            if (auto len = mask_to_prefix(*mask)) {
                return CidrRange(*addr, *len);
            }
            *error = "netmask '" + std::string(len_text) + "' is not contiguous";
            return std::nullopt;
        }
    }
    *error = "'" + std::string(len_text) + "' is not a prefix length (0.." + std::to_string(addr->max_prefix()) +
             (addr->is_v4() ? ") or a dotted netmask" : ")");
    return std::nullopt;
}

bool CidrRange::contains_general(const IpAddress& candidate) const {
    IpAddress a = candidate.unmapped();
    if (a.family() != base_.family()) {
        return false;
    }
    if (netmask_) {
        return (a.v4_value() & mask_) == net_;
    }
    int full = prefix_ / 8;
    if (std::memcmp(a.bytes(), base_.bytes(), full) != 0) {
        return false;
    }
    int rest = prefix_ % 8;
    if (rest == 0) {
        return true;
    }
    uint8_t m = static_cast<uint8_t>(0xff << (8 - rest));
    return (a.bytes()[full] & m) == base_.bytes()[full];
}

std::string CidrRange::to_string() const {
    if (netmask_) {
        return base_.to_string() + "/" + IpAddress::from_v4_value(mask_).to_string();
    }
    return base_.to_string() + "/" + std::to_string(prefix_);
}

}  // namespace ringfence::core
