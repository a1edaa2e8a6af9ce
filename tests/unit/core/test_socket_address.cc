// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for core/socket_address: IPv4, IPv6 (also v4-mapped) and a
// family that has no IP address.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <string>

#include "core/socket_address.h"
#include "unit_test.h"

using ringfence::core::address_of;
using ringfence::core::port_of;

namespace {

const sockaddr* as_sa(const sockaddr_storage& ss) { return reinterpret_cast<const sockaddr*>(&ss); }

void ipv4(void**) {
    sockaddr_storage ss{};
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    in->sin_family = AF_INET;
    in->sin_port = htons(2222);
    inet_pton(AF_INET, "192.0.2.7", &in->sin_addr);
    auto a = address_of(as_sa(ss));
    CHECK(a.has_value(), "");
    CHECK_STR(a->to_string(), "192.0.2.7", "");
    CHECK_INT(port_of(as_sa(ss)).value_or(0), 2222, "");
}

void ipv6(void**) {
    for (const char* text : {"2001:db8::1", "::ffff:192.0.2.7"}) {
        sockaddr_storage ss{};
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(22);
        inet_pton(AF_INET6, text, &in6->sin6_addr);
        auto a = address_of(as_sa(ss));
        CHECK(a.has_value() && !a->is_v4(), text);
        CHECK_STR(a->to_string(), text, text);
        CHECK_INT(port_of(as_sa(ss)).value_or(0), 22, text);
    }
}

// IpAddress to sockaddr and back; v4-mapped addresses become AF_INET.
void round_trip(void**) {
    struct {
        const char* text;
        int family;
        const char* back;
    } rows[] = {{"192.0.2.7", AF_INET, "192.0.2.7"},
                {"2001:db8::1", AF_INET6, "2001:db8::1"},
                {"::ffff:192.0.2.7", AF_INET, "192.0.2.7"}};
    for (const auto& r : rows) {
        sockaddr_storage ss;
        unsigned len = ringfence::core::to_sockaddr(*ringfence::core::IpAddress::parse(r.text), 443, &ss);
        CHECK_INT(ss.ss_family, r.family, r.text);
        CHECK_INT(static_cast<long>(len), r.family == AF_INET ? static_cast<long>(sizeof(sockaddr_in))
                                                              : static_cast<long>(sizeof(sockaddr_in6)),
                  r.text);
        CHECK_STR(address_of(as_sa(ss))->to_string(), r.back, r.text);
        CHECK_INT(port_of(as_sa(ss)).value_or(0), 443, r.text);
    }
}

void other_family(void**) {
    sockaddr_storage ss{};
    auto* un = reinterpret_cast<sockaddr_un*>(&ss);
    un->sun_family = AF_UNIX;
    std::strcpy(un->sun_path, "/run/x.sock");
    CHECK(!address_of(as_sa(ss)).has_value(), "");
    CHECK(!port_of(as_sa(ss)).has_value(), "");
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipv4),
        cmocka_unit_test(ipv6),
        cmocka_unit_test(other_family),
        cmocka_unit_test(round_trip),
    };
    unit::apply_filters();
    return cmocka_run_group_tests_name("socket_address", tests, nullptr, nullptr);
}
