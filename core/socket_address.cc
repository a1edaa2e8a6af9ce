// SPDX-License-Identifier: BSD-3-Clause
// Socket addresses to IpAddress (see socket_address.h).
#include "core/socket_address.h"

#include <netinet/in.h>
#include <sys/socket.h>

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

}  // namespace ringfence::core
