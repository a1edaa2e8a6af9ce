// SPDX-License-Identifier: BSD-3-Clause
// IPv4/IPv6 addresses and CIDR ranges, shared by the three layers.
// Values are valid by construction: parse functions return nullopt (with a
// reason) instead of a half-filled address.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ringfence::core {

class IpAddress {
public:
    enum class Family : uint8_t { v4, v6 };

    // Accepts dotted-quad IPv4 and RFC 4291 IPv6 text (no zone, no brackets).
    // Length and character set are checked before inet_pton.
    static std::optional<IpAddress> parse(std::string_view text);
    static IpAddress from_v4(const uint8_t bytes[4]);
    static IpAddress from_v6(const uint8_t bytes[16]);
    // An IPv4 address as a 32-bit number in host byte order, and back.
    static IpAddress from_v4_value(uint32_t value);
    uint32_t v4_value() const {  // IPv4 only (the first four bytes otherwise)
        return (uint32_t{bytes_[0]} << 24) | (uint32_t{bytes_[1]} << 16) | (uint32_t{bytes_[2]} << 8) |
               uint32_t{bytes_[3]};
    }

    Family family() const { return family_; }
    bool is_v4() const { return family_ == Family::v4; }
    // Number of significant bytes: 4 or 16.
    int size() const { return is_v4() ? 4 : 16; }
    int max_prefix() const { return is_v4() ? 32 : 128; }
    const uint8_t* bytes() const { return bytes_.data(); }

    // ::ffff:a.b.c.d becomes a.b.c.d; every other address is returned as is.
    IpAddress unmapped() const;
    bool is_v4_mapped() const;

    std::string to_string() const;
    bool operator==(const IpAddress& o) const { return family_ == o.family_ && bytes_ == o.bytes_; }
    bool operator!=(const IpAddress& o) const { return !(*this == o); }

private:
    Family family_ = Family::v4;
    std::array<uint8_t, 16> bytes_{};
};

// A network: base address plus prefix length. /0 matches every address of
// its family (stock pam_access compares /0 exactly; that is a bug we fix).
class CidrRange {
public:
    // "addr/len" (decimal length) or "v4addr/dotted.mask" (contiguous only),
    // or a bare address (= /32 or /128). On failure returns nullopt and sets
    // *error to a sentence that says what was expected.
    static std::optional<CidrRange> parse(std::string_view text, std::string* error);
    static CidrRange host(const IpAddress& a) { return CidrRange(a, a.max_prefix()); }
    // `base` with `prefix` leading bits (host bits are masked off, see
    // had_host_bits()); nullopt when prefix is outside 0..max_prefix().
    static std::optional<CidrRange> of(const IpAddress& base, int prefix);
    // libwrap's net/mask (hosts_access(5) masked_match()): an IPv4 network
    // with any netmask, contiguous or not, matched as (address & mask) ==
    // net. The net is kept as written: with host bits set it matches
    // nothing, as in libwrap (had_host_bits() says so). nullopt when `net`
    // is not IPv4.
    static std::optional<CidrRange> v4_netmask(const IpAddress& net, uint32_t mask);

    const IpAddress& base() const { return base_; }
    // The prefix length; in netmask mode, the number of leading one bits.
    int prefix_len() const { return prefix_; }
    bool is_netmask() const { return netmask_; }
    uint32_t v4_mask() const { return mask_; }  // netmask mode only
    // True if host bits were set in the text ("10.1.2.3/8"); the range is
    // masked anyway, lint may warn.
    bool had_host_bits() const { return had_host_bits_; }

    // v4-mapped IPv6 addresses are compared as IPv4. Inline for the
    // hosts_access evaluator, which tries many networks per connection.
    bool contains(const IpAddress& a) const {
        if (a.is_v4()) {
            if (!base_.is_v4()) {
                return false;
            }
            if (netmask_) {
                return (a.v4_value() & mask_) == net_;
            }
            return prefix_ == 0 || ((a.v4_value() ^ base_.v4_value()) >> (32 - prefix_)) == 0;
        }
        if (base_.is_v4() && !a.is_v4_mapped()) {
            return false;
        }
        return contains_general(a);
    }
    // "10.0.0.0/8"; in netmask mode "10.0.0.0/255.0.255.0".
    std::string to_string() const;

private:
    CidrRange(const IpAddress& base, int prefix);
    bool contains_general(const IpAddress& a) const;
    IpAddress base_;
    int prefix_ = 0;
    bool had_host_bits_ = false;
    bool netmask_ = false;
    uint32_t mask_ = 0;
    uint32_t net_ = 0;  // netmask mode: base_.v4_value()
};

// The number of leading one bits of an IPv4 netmask (host byte order), and
// whether the mask is only those (255.255.0.0, not 255.0.255.0).
int v4_mask_prefix(uint32_t mask);
bool v4_mask_is_contiguous(uint32_t mask);

}  // namespace ringfence::core
