// SPDX-License-Identifier: BSD-3-Clause
// The address and port in a socket address (accept, getsockname,
// getaddrinfo), for the shim, ringfence-tcpd and the name lookups alike,
// and a socket address made from them.
#pragma once

#include <cstdint>
#include <optional>

#include "core/ip.h"

struct sockaddr;
struct sockaddr_storage;

namespace ringfence::core {

// `sa` must hold as many bytes as its family needs (a sockaddr_storage, or
// an addrinfo's ai_addr). nullopt for families other than AF_INET and
// AF_INET6 (a Unix socket).
std::optional<IpAddress> address_of(const struct sockaddr* sa);
std::optional<uint16_t> port_of(const struct sockaddr* sa);

// The other way (getnameinfo, connect): fills *out with an AF_INET or
// AF_INET6 address and port (v4-mapped addresses become AF_INET) and
// returns the length to pass with it.
unsigned to_sockaddr(const IpAddress& address, uint16_t port, struct sockaddr_storage* out);

}  // namespace ringfence::core
