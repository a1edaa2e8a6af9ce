// SPDX-License-Identifier: BSD-3-Clause
// The address and port in a socket address (accept, getsockname,
// getaddrinfo), for the shim, ringfence-tcpd and the name lookups alike.
#pragma once

#include <cstdint>
#include <optional>

#include "core/ip.h"

struct sockaddr;

namespace ringfence::core {

// `sa` must hold as many bytes as its family needs (a sockaddr_storage, or
// an addrinfo's ai_addr). nullopt for families other than AF_INET and
// AF_INET6 (a Unix socket).
std::optional<IpAddress> address_of(const struct sockaddr* sa);
std::optional<uint16_t> port_of(const struct sockaddr* sa);

}  // namespace ringfence::core
