// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for core/ip: address parsing, CIDR parsing, containment at the
// boundaries (/0 /1 /31 /32 /127 /128), dotted masks, v4-mapped handling and
// the net/mask mode of hosts_access.
#include <arpa/inet.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/ip.h"
#include "unit_test.h"

using ringfence::core::CidrRange;
using ringfence::core::IpAddress;

namespace {

IpAddress ip(const std::string& text) {
    auto a = IpAddress::parse(text);
    if (!a) {
        print_error("test setup: '%s' does not parse\n", text.c_str());
        fail();
    }
    return *a;
}

CidrRange cidr(const std::string& text) {
    std::string why;
    auto r = CidrRange::parse(text, &why);
    if (!r) {
        print_error("test setup: '%s' does not parse: %s\n", text.c_str(), why.c_str());
        fail();
    }
    return *r;
}

void parse_valid(void**) {
    struct Row {
        const char* text;
        bool v4;
        const char* canonical;
    };
    const Row rows[] = {
        {"0.0.0.0", true, "0.0.0.0"},
        {"255.255.255.255", true, "255.255.255.255"},
        {"192.0.2.1", true, "192.0.2.1"},
        {"10.0.0.1", true, "10.0.0.1"},
        {"::", false, "::"},
        {"::1", false, "::1"},
        {"2001:db8::1", false, "2001:db8::1"},
        {"2001:DB8::A", false, "2001:db8::a"},
        {"2001:0db8:0000:0000:0000:0000:0000:0001", false, "2001:db8::1"},
        {"fe80::1", false, "fe80::1"},
        {"1:2:3:4:5:6:7:8", false, "1:2:3:4:5:6:7:8"},
        {"::ffff:1.2.3.4", false, "::ffff:1.2.3.4"},
        // The longest IPv6 text form, exactly 45 characters.
        {"0000:0000:0000:0000:0000:ffff:255.255.255.255", false, "::ffff:255.255.255.255"},
    };
    for (const Row& r : rows) {
        std::string row = r.text;
        auto a = IpAddress::parse(r.text);
        CHECK(a.has_value(), row);
        CHECK(a->is_v4() == r.v4, row);
        CHECK(a->family() == (r.v4 ? IpAddress::Family::v4 : IpAddress::Family::v6), row);
        CHECK_INT(a->size(), r.v4 ? 4 : 16, row);
        CHECK_INT(a->max_prefix(), r.v4 ? 32 : 128, row);
        CHECK_STR(a->to_string(), r.canonical, row);
        // The canonical form parses back to the same address.
        auto again = IpAddress::parse(a->to_string());
        CHECK(again.has_value() && *again == *a, row);
    }
}

void parse_invalid(void**) {
    const std::string rows[] = {
        "",
        "1.2.3",
        "1.2.3.256",
        "256.1.1.1",
        "1.2.3.4.5",
        "1.2.3.",
        ".1.2.3",
        "1..2.3",
        "01.2.3.4",  // leading zeros are ambiguous (octal in inet_aton)
        "0x1.2.3.4",
        "1.2.3.-4",
        "+1.2.3.4",
        " 1.2.3.4",
        "1.2.3.4 ",
        "1.2.3.4a",
        "localhost",
        "fe80::1%eth0",  // zone ids are not addresses
        "fe80::1%1",
        "[::1]",
        "::1/128",
        "1.2.3.4/32",
        "gggg::1",
        ":::",
        "1::2::3",
        "12345::1",
        "1:2:3:4:5:6:7:8:9",
        "::ffff:1.2.3",
        ":",
        ":0",
        std::string("1.2.3.4\0", 8),  // embedded NUL
        std::string("1.2.3.4\0junk", 12),
        std::string(46, '1'),          // longer than any address text
        "0000:0000:0000:0000:0000:0000:0255.255.255.255",  // 46 characters
        std::string(64, ':'),
        std::string(65, '1'),
        std::string(1000, 'f'),
        std::string(1000, '1'),
    };
    for (const std::string& text : rows) {
        CHECK(!IpAddress::parse(text).has_value(), "'" + text.substr(0, 60) + "' (" + std::to_string(text.size()) +
                                                      " bytes)");
    }
}

void v4_mapped(void**) {
    struct Row {
        const char* text;
        bool mapped;
        const char* unmapped;
    };
    const Row rows[] = {
        {"::ffff:1.2.3.4", true, "1.2.3.4"},
        {"::FFFF:10.0.0.1", true, "10.0.0.1"},
        {"::ffff:0:0", true, "0.0.0.0"},
        {"::1.2.3.4", false, "::1.2.3.4"},       // v4-compatible, not mapped
        {"::fffe:1.2.3.4", false, "::fffe:102:304"},
        {"1:0:0:0:0:ffff:102:304", false, "1::ffff:102:304"},
        {"1.2.3.4", false, "1.2.3.4"},
        {"::1", false, "::1"},
    };
    for (const Row& r : rows) {
        IpAddress a = ip(r.text);
        CHECK(a.is_v4_mapped() == r.mapped, r.text);
        CHECK_STR(a.unmapped().to_string(), r.unmapped, r.text);
        CHECK(a.unmapped().is_v4() == r.mapped || (a.is_v4() && a.unmapped().is_v4()), r.text);
    }
}

void from_bytes(void**) {
    const uint8_t v4[4] = {192, 0, 2, 1};
    CHECK(IpAddress::from_v4(v4) == ip("192.0.2.1"), "from_v4");
    const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    CHECK(IpAddress::from_v6(v6) == ip("2001:db8::1"), "from_v6");
    // Same bytes, different family: not equal.
    const uint8_t zero[16] = {};
    CHECK(IpAddress::from_v4(zero) != IpAddress::from_v6(zero), "0.0.0.0 vs ::");
    CHECK(ip("::ffff:1.2.3.4") != ip("1.2.3.4"), "mapped is a different address until unmapped()");
}

void cidr_parse_valid(void**) {
    struct Row {
        const char* text;
        const char* canonical;
        int prefix;
        bool host_bits;
    };
    const Row rows[] = {
        {"10.0.0.0/8", "10.0.0.0/8", 8, false},
        {"10.1.2.3/8", "10.0.0.0/8", 8, true},
        {"0.0.0.0/0", "0.0.0.0/0", 0, false},
        {"1.2.3.4/0", "0.0.0.0/0", 0, true},
        {"128.0.0.0/1", "128.0.0.0/1", 1, false},
        {"192.0.2.1/1", "128.0.0.0/1", 1, true},
        {"10.0.0.0/31", "10.0.0.0/31", 31, false},
        {"10.0.0.1/31", "10.0.0.0/31", 31, true},
        {"192.168.1.1/32", "192.168.1.1/32", 32, false},
        {"192.168.1.1", "192.168.1.1/32", 32, false},
        {"192.168.1.128/25", "192.168.1.128/25", 25, false},
        {"192.168.1.129/25", "192.168.1.128/25", 25, true},
        {"2001:db8::/32", "2001:db8::/32", 32, false},
        {"2001:db8::1/32", "2001:db8::/32", 32, true},
        {"::/0", "::/0", 0, false},
        {"::1/0", "::/0", 0, true},
        {"8000::/1", "8000::/1", 1, false},
        {"2001:db8::/127", "2001:db8::/127", 127, false},
        {"2001:db8::1/127", "2001:db8::/127", 127, true},
        {"::1/128", "::1/128", 128, false},
        {"::1", "::1/128", 128, false},
        {"2001:db8:0:0:8000::/65", "2001:db8:0:0:8000::/65", 65, false},
        {"10.0.0.0/255.0.0.0", "10.0.0.0/8", 8, false},
        {"10.0.0.0/255.255.255.255", "10.0.0.0/32", 32, false},
        {"10.0.0.0/0.0.0.0", "0.0.0.0/0", 0, true},
        {"192.168.1.0/255.255.255.128", "192.168.1.0/25", 25, false},
        {"192.168.1.7/255.255.255.0", "192.168.1.0/24", 24, true},
        // v4-mapped networks are IPv4 networks: candidates are unmapped first.
        {"::ffff:10.0.0.0/104", "10.0.0.0/8", 8, false},
        {"::ffff:10.1.0.0/104", "10.0.0.0/8", 8, true},
        {"::ffff:1.2.3.4", "1.2.3.4/32", 32, false},
        {"::ffff:0.0.0.0/96", "0.0.0.0/0", 0, false},
    };
    for (const Row& r : rows) {
        std::string why;
        auto range = CidrRange::parse(r.text, &why);
        CHECK(range.has_value(), std::string(r.text) + " error: " + why);
        CHECK_STR(range->to_string(), r.canonical, r.text);
        CHECK_INT(range->prefix_len(), r.prefix, r.text);
        CHECK(range->had_host_bits() == r.host_bits, r.text);
    }
}

void cidr_parse_invalid(void**) {
    struct Row {
        const char* text;
        const char* in_error;  // expected substring of the explanation
    };
    const Row rows[] = {
        {"10.0.0.0/33", "prefix length (0..32)"},
        {"::/129", "prefix length (0..128)"},
        {"10.0.0.0/0x18", "'0x18' is not a prefix length"},  // stock pam_access takes strtol base 0; we do not
        {"2001:db8::/0x20", "'0x20' is not a prefix length"},
        {"10.0.0.0/", "prefix length"},
        {"10.0.0.0/-1", "prefix length"},
        {"10.0.0.0/+8", "prefix length"},
        {"10.0.0.0/ 8", "prefix length"},
        {"10.0.0.0/8/8", "prefix length"},
        {"10.0.0.0/1000", "prefix length"},
        {"10.0.0.0/0008", "prefix length"},
        {"/8", "is not an IPv4 or IPv6 address"},
        {"10.0.0/8", "'10.0.0' is not an IPv4 or IPv6 address"},
        {"10.0.0.256/8", "is not an IPv4 or IPv6 address"},
        {"fe80::1%eth0/64", "is not an IPv4 or IPv6 address"},
        {"host.example.com/24", "is not an IPv4 or IPv6 address"},
        {"", "is not an IPv4 or IPv6 address"},
        {"10.0.0.0/255.0.255.0", "not contiguous"},
        {"10.0.0.0/0.255.255.255", "not contiguous"},
        {"10.0.0.0/255.255.255.253", "not contiguous"},
        {"10.0.0.0/128.0.0.1", "not contiguous"},
        {"10.0.0.0/254.255.255.255", "not contiguous"},
        {"10.0.0.0/255.255.255.256", "prefix length"},
        {"10.0.0.0/255.255.0", "prefix length"},
        {"2001:db8::/ffff:ffff::", "prefix length (0..128)"},  // no IPv6 netmasks
        {"2001:db8::/255.255.0.0", "prefix length (0..128)"},
    };
    for (const Row& r : rows) {
        std::string why;
        auto range = CidrRange::parse(r.text, &why);
        CHECK(!range.has_value(), r.text);
        CHECK(unit::contains(why, r.in_error), std::string(r.text) + " -> \"" + why + "\"");
    }
}

void dotted_masks_contiguous(void**) {
    for (int len = 0; len <= 32; ++len) {
        uint32_t m = len == 0 ? 0 : 0xffffffffu << (32 - len);
        std::string mask = std::to_string(m >> 24) + "." + std::to_string((m >> 16) & 0xff) + "." +
                           std::to_string((m >> 8) & 0xff) + "." + std::to_string(m & 0xff);
        std::string text = "0.0.0.0/" + mask;
        std::string why;
        auto r = CidrRange::parse(text, &why);
        CHECK(r.has_value(), text + " " + why);
        CHECK_INT(r->prefix_len(), len, text);
    }
    // A contiguous mask plus one stray bit (one zero skipped) is refused.
    for (int len = 0; len <= 30; ++len) {
        uint32_t m = (len == 0 ? 0 : 0xffffffffu << (32 - len)) | (1u << (30 - len));
        std::string mask = std::to_string(m >> 24) + "." + std::to_string((m >> 16) & 0xff) + "." +
                           std::to_string((m >> 8) & 0xff) + "." + std::to_string(m & 0xff);
        std::string text = "0.0.0.0/" + mask;
        std::string why;
        CHECK(!CidrRange::parse(text, &why).has_value(), text);
        CHECK(unit::contains(why, "contiguous"), text + " -> " + why);
    }
}

void cidr_contains(void**) {
    struct Row {
        const char* range;
        const char* candidate;
        bool expected;
    };
    const Row rows[] = {
        // /0 matches every address of its family, and only of its family.
        {"0.0.0.0/0", "0.0.0.0", true},
        {"0.0.0.0/0", "1.2.3.4", true},
        {"0.0.0.0/0", "255.255.255.255", true},
        {"0.0.0.0/0", "::ffff:1.2.3.4", true},  // v4-mapped is IPv4
        {"0.0.0.0/0", "::1", false},
        {"0.0.0.0/0", "::", false},
        {"0.0.0.0/0", "2001:db8::1", false},
        {"::/0", "::", true},
        {"::/0", "::1", true},
        {"::/0", "2001:db8::1", true},
        {"::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
        {"::/0", "1.2.3.4", false},
        {"::/0", "::ffff:1.2.3.4", false},  // compared as IPv4
        // /1
        {"128.0.0.0/1", "127.255.255.255", false},
        {"128.0.0.0/1", "128.0.0.0", true},
        {"128.0.0.0/1", "255.255.255.255", true},
        {"0.0.0.0/1", "127.255.255.255", true},
        {"0.0.0.0/1", "128.0.0.0", false},
        {"8000::/1", "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
        {"8000::/1", "8000::", true},
        {"::/1", "7fff::1", true},
        {"::/1", "8000::", false},
        // /7 /25 partial bytes
        {"254.0.0.0/7", "254.0.0.0", true},
        {"254.0.0.0/7", "255.255.255.255", true},
        {"254.0.0.0/7", "253.255.255.255", false},
        {"192.168.1.128/25", "192.168.1.127", false},
        {"192.168.1.128/25", "192.168.1.128", true},
        {"192.168.1.128/25", "192.168.1.255", true},
        {"192.168.1.128/25", "192.168.2.128", false},
        // /31 /32
        {"10.0.0.0/31", "10.0.0.0", true},
        {"10.0.0.0/31", "10.0.0.1", true},
        {"10.0.0.0/31", "10.0.0.2", false},
        {"10.0.0.0/31", "9.255.255.255", false},
        {"10.0.0.1/32", "10.0.0.1", true},
        {"10.0.0.1/32", "10.0.0.0", false},
        {"10.0.0.1/32", "10.0.0.2", false},
        {"10.0.0.1/32", "::ffff:10.0.0.1", true},
        {"10.0.0.1/32", "::10.0.0.1", false},  // v4-compatible is IPv6
        {"10.0.0.1", "10.0.0.1", true},
        // /127 /128
        {"2001:db8::/127", "2001:db8::", true},
        {"2001:db8::/127", "2001:db8::1", true},
        {"2001:db8::/127", "2001:db8::2", false},
        {"2001:db8::/127", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", false},
        {"2001:db8::1/128", "2001:db8::1", true},
        {"2001:db8::1/128", "2001:db8::", false},
        {"2001:db8::1/128", "2001:db8::2", false},
        {"2001:db8::1/128", "2001:0db8:0:0:0:0:0:0001", true},
        {"::1", "::1", true},
        {"::1", "127.0.0.1", false},  // no 127.0.0.1 == ::1 special case
        // other prefixes
        {"2001:db8::/32", "2001:db8:ffff:ffff::1", true},
        {"2001:db8::/32", "2001:db9::", false},
        {"2001:db8::/32", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", false},
        {"2001:db8:0:0:8000::/65", "2001:db8::8000:0:0:0", true},
        {"2001:db8:0:0:8000::/65", "2001:db8::7fff:ffff:ffff:ffff", false},
        {"10.0.0.0/8", "10.255.255.255", true},
        {"10.0.0.0/8", "11.0.0.0", false},
        {"10.0.0.0/8", "::ffff:10.1.2.3", true},
        {"10.0.0.0/8", "::a01:203", false},
        {"10.0.0.0/8", "2001:db8::a01:203", false},
        {"10.1.2.3/8", "10.200.0.1", true},  // host bits are masked off
        {"192.168.1.0/255.255.255.0", "192.168.1.255", true},
        {"192.168.1.0/255.255.255.0", "192.168.2.0", false},
        // ::ffff:10.0.0.0/104 is the IPv4 network 10.0.0.0/8.
        {"::ffff:10.0.0.0/104", "10.1.2.3", true},
        {"::ffff:10.0.0.0/104", "::ffff:10.1.2.3", true},
        {"::ffff:10.0.0.0/104", "11.0.0.0", false},
        {"::ffff:10.0.0.0/104", "9.255.255.255", false},
        {"::ffff:10.0.0.0/104", "::ffff:11.0.0.0", false},
        {"::ffff:1.2.3.4", "1.2.3.4", true},
        {"::ffff:1.2.3.4", "1.2.3.5", false},
    };
    for (const Row& r : rows) {
        std::string row = std::string(r.range) + " contains " + r.candidate;
        CHECK(cidr(r.range).contains(ip(r.candidate)) == r.expected, row);
    }
}

void cidr_host(void**) {
    CidrRange h4 = CidrRange::host(ip("192.0.2.7"));
    CHECK_INT(h4.prefix_len(), 32, "host v4");
    CHECK(h4.contains(ip("192.0.2.7")) && !h4.contains(ip("192.0.2.6")), "host v4");
    CidrRange h6 = CidrRange::host(ip("2001:db8::7"));
    CHECK_INT(h6.prefix_len(), 128, "host v6");
    CHECK(h6.contains(ip("2001:db8::7")) && !h6.contains(ip("2001:db8::6")), "host v6");
    CHECK(!h4.had_host_bits() && !h6.had_host_bits(), "host ranges have no host bits");
}

// libwrap's net/mask mode: any netmask, the net kept as written.
void cidr_v4_netmask(void**) {
    using ringfence::core::v4_mask_is_contiguous;
    using ringfence::core::v4_mask_prefix;
    CHECK_INT(v4_mask_prefix(0), 0, "/0");
    CHECK_INT(v4_mask_prefix(0xff000000u), 8, "/8");
    CHECK_INT(v4_mask_prefix(0xffffffffu), 32, "/32");
    CHECK_INT(v4_mask_prefix(0xff00ff00u), 8, "leading ones of 255.0.255.0");
    CHECK(v4_mask_is_contiguous(0) && v4_mask_is_contiguous(0xfffffffeu) && v4_mask_is_contiguous(0xffffffffu),
          "contiguous masks");
    CHECK(!v4_mask_is_contiguous(0xff00ff00u) && !v4_mask_is_contiguous(0x7fffffffu), "non-contiguous masks");
    CHECK_STR(IpAddress::from_v4_value(0x0a010203u).to_string(), "10.1.2.3", "from_v4_value");
    CHECK_INT(static_cast<long>(ip("10.1.2.3").v4_value()), 0x0a010203L, "v4_value");

    auto odd = CidrRange::v4_netmask(ip("10.0.5.0"), 0xff00ff00u);
    CHECK(odd && odd->is_netmask() && !odd->had_host_bits(), "10.0.5.0/255.0.255.0");
    CHECK(odd->contains(ip("10.9.5.77")) && odd->contains(ip("::ffff:10.200.5.1")), "masked bytes are free");
    CHECK(!odd->contains(ip("10.9.6.77")) && !odd->contains(ip("11.9.5.77")), "kept bytes must agree");
    CHECK(!odd->contains(ip("2001:db8::1")), "IPv6 never");
    CHECK_STR(odd->to_string(), "10.0.5.0/255.0.255.0", "written with its mask");

    auto slash8 = CidrRange::v4_netmask(ip("10.0.0.0"), 0xff000000u);
    CHECK(slash8->contains(ip("10.255.255.255")) && !slash8->contains(ip("11.0.0.0")), "/8 boundaries");
    CHECK_INT(slash8->prefix_len(), 8, "prefix of a contiguous mask");
    auto hostbits = CidrRange::v4_netmask(ip("10.1.2.3"), 0xff000000u);
    CHECK(hostbits->had_host_bits() && !hostbits->contains(ip("10.1.2.3")),
          "host bits: kept as written, so nothing matches (as libwrap)");
    CHECK(!CidrRange::v4_netmask(ip("2001:db8::"), 0xff000000u), "IPv6 net refused");

    CHECK(!CidrRange::of(ip("10.0.0.0"), 33) && !CidrRange::of(ip("10.0.0.0"), -1), "of(): bad prefix");
    auto v6 = CidrRange::of(ip("2001:db8::1"), 32);
    CHECK(v6 && v6->had_host_bits() && v6->contains(ip("2001:db8:ffff::9")), "of(): host bits masked");
}

// IpAddress::parse reads IPv4 without inet_pton: it must accept exactly
// what inet_pton(AF_INET) accepts, with the same bytes.
void v4_parse_is_inet_pton(void**) {
    std::vector<std::string> cases = {"0.0.0.0", "255.255.255.255", "256.1.1.1", "1.2.3", "1.2.3.4.", ".1.2.3",
                                      "01.2.3.4", "1.2.3.04", "0.0.0.00", "1..2.3", "1.2.3.4.5", "1234.1.1.1",
                                      "1.2.3.-4", "+1.2.3.4", "1.2.3.4 ", "999.999.999.999", "10.0.0.1"};
    // Every string of up to 9 characters over "0125.", and random ones.
    const char alphabet[] = "0125.";
    for (int len = 1; len <= 9; ++len) {
        std::vector<int> idx(static_cast<size_t>(len), 0);
        for (;;) {
            std::string t;
            for (int k : idx) {
                t += alphabet[k];
            }
            cases.push_back(t);
            int pos = len - 1;
            while (pos >= 0 && ++idx[static_cast<size_t>(pos)] == 5) {
                idx[static_cast<size_t>(pos--)] = 0;
            }
            if (pos < 0) {
                break;
            }
        }
    }
    unsigned seed = 12345;
    for (int n = 0; n < 200000; ++n) {
        std::string t;
        int len = 7 + static_cast<int>((seed = seed * 1103515245u + 12345u) >> 16) % 9;
        for (int k = 0; k < len; ++k) {
            seed = seed * 1103515245u + 12345u;
            t += "0123456789."[(seed >> 16) % 11];
        }
        cases.push_back(t);
    }
    int disagreements = 0;
    for (const std::string& t : cases) {
        unsigned char want[4];
        bool stock = inet_pton(AF_INET, t.c_str(), want) == 1;
        auto got = IpAddress::parse(t);
        bool ours = got && got->is_v4();
        if (stock != ours || (ours && std::memcmp(got->bytes(), want, 4) != 0)) {
            if (disagreements++ < 5) {
                print_error("'%s': inet_pton %s, IpAddress::parse %s\n", t.c_str(), stock ? "accepts" : "refuses",
                            ours ? "accepts" : "refuses");
            }
        }
    }
    CHECK(disagreements == 0, "IpAddress::parse and inet_pton agree on every IPv4 string");
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_valid),        cmocka_unit_test(parse_invalid),
        cmocka_unit_test(v4_mapped),          cmocka_unit_test(from_bytes),
        cmocka_unit_test(cidr_parse_valid),   cmocka_unit_test(cidr_parse_invalid),
        cmocka_unit_test(dotted_masks_contiguous), cmocka_unit_test(cidr_contains),
        cmocka_unit_test(cidr_host),          cmocka_unit_test(cidr_v4_netmask),
        cmocka_unit_test(v4_parse_is_inet_pton),
    };
    unit::apply_filters();
    return cmocka_run_group_tests_name("ip", tests, nullptr, nullptr);
}
