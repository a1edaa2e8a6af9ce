// SPDX-License-Identifier: BSD-3-Clause
// Forward DNS with a time bound. A dead DNS server must never hang a login:
// every lookup gives up after its timeout and counts as "no address".
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/ip.h"

namespace ringfence::core {

class NameService {
public:
    virtual ~NameService() = default;
    // Addresses of `host` (AF_UNSPEC). Empty on failure or timeout.
    virtual std::vector<IpAddress> resolve(const std::string& host) = 0;
};

class SystemNameService final : public NameService {
public:
    explicit SystemNameService(std::chrono::milliseconds timeout = std::chrono::milliseconds(2000))
        : timeout_(timeout) {}
    std::vector<IpAddress> resolve(const std::string& host) override;

private:
    std::chrono::milliseconds timeout_;
};

// Never resolves anything (module option nodns, and tests).
class NoNameService final : public NameService {
public:
    std::vector<IpAddress> resolve(const std::string&) override { return {}; }
};

}  // namespace ringfence::core
