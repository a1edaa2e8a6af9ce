// The system ReverseNameService: getnameinfo(NI_NAMEREQD) bounded in time.
// getnameinfo has no asynchronous form and no timeout of its own, so the
// lookup runs on a helper thread that the caller waits for; on timeout the
// caller goes on with "no name" and the thread finishes by itself, on its
// own copy of the data.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "tcpd_shim/hosts_access.h"

namespace ringfence::tcpd {

class SystemReverseNameService final : public ReverseNameService {
public:
    explicit SystemReverseNameService(std::chrono::milliseconds timeout = std::chrono::milliseconds(2000))
        : timeout_(timeout) {}
    // The PTR name of `address` (v4-mapped addresses are looked up as IPv4);
    // nullopt when there is none, on error and on timeout.
    std::optional<std::string> reverse(const core::IpAddress& address) override;

private:
    std::chrono::milliseconds timeout_;
};

}  // namespace ringfence::tcpd
