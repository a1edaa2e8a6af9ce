// SPDX-License-Identifier: BSD-3-Clause
// Socket addresses to IpAddress and back (see socket_address.h).
#include "core/socket_address.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace ringfence::core {

std::optional<IpAddress> address_of(const struct sockaddr* sa) {
    if (sa->sa_family == AF_INET) {
        const auto* in = reinterpret_cast<const struct sockaddr_in*>(sa);
        return IpAddress::from_v4(reinterpret_cast<const uint8_t*>(&in->sin_addr));
    }
    if (sa->sa_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const struct sockaddr_in6*>(sa);
        return IpAddress::from_v6(in6->sin6_addr.s6_addr);
    }
    return std::nullopt;
}

std::optional<uint16_t> port_of(const struct sockaddr* sa) {
    if (sa->sa_family == AF_INET) {
        return ntohs(reinterpret_cast<const struct sockaddr_in*>(sa)->sin_port);
    }
    if (sa->sa_family == AF_INET6) {
        return ntohs(reinterpret_cast<const struct sockaddr_in6*>(sa)->sin6_port);
    }
    return std::nullopt;
}

unsigned to_sockaddr(const IpAddress& address, uint16_t port, struct sockaddr_storage* out) {
    *out = sockaddr_storage{};
    IpAddress a = address.unmapped();
    if (a.is_v4()) {
        auto* in = reinterpret_cast<struct sockaddr_in*>(out);
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        std::memcpy(&in->sin_addr, a.bytes(), 4);
        return sizeof(struct sockaddr_in);
    }
    auto* in6 = reinterpret_cast<struct sockaddr_in6*>(out);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    std::memcpy(&in6->sin6_addr, a.bytes(), 16);
    return sizeof(struct sockaddr_in6);
}

}  // namespace ringfence::core
