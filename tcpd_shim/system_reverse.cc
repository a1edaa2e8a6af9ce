// getnameinfo on a helper thread with a deadline (see system_reverse.h).
#include "tcpd_shim/system_reverse.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>

namespace ringfence::tcpd {

namespace {

// Shared by the caller and the helper thread; whoever leaves last frees it.
struct Lookup {
    sockaddr_storage sa{};
    socklen_t len = 0;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::optional<std::string> name;
};

void run_lookup(const std::shared_ptr<Lookup>& lk) {
    char host[NI_MAXHOST];
    int rc = getnameinfo(reinterpret_cast<const sockaddr*>(&lk->sa), lk->len, host, sizeof host, nullptr, 0,
                         NI_NAMEREQD);
    std::lock_guard<std::mutex> g(lk->mu);
    if (rc == 0) {
        lk->name = std::string(host);
    }
    lk->done = true;
    lk->cv.notify_all();
}

}  // namespace

std::optional<std::string> SystemReverseNameService::reverse(const core::IpAddress& address) {
    auto lk = std::make_shared<Lookup>();
    core::IpAddress a = address.unmapped();
    if (a.is_v4()) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&lk->sa);
        sin->sin_family = AF_INET;
        std::memcpy(&sin->sin_addr, a.bytes(), 4);
        lk->len = sizeof(sockaddr_in);
    } else {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&lk->sa);
        sin6->sin6_family = AF_INET6;
        std::memcpy(&sin6->sin6_addr, a.bytes(), 16);
        lk->len = sizeof(sockaddr_in6);
    }
    try {
        std::thread(run_lookup, lk).detach();
    } catch (const std::system_error&) {
        return std::nullopt;  // no thread: no name (never block without a bound)
    }
    std::unique_lock<std::mutex> g(lk->mu);
    if (!lk->cv.wait_for(g, timeout_, [&] { return lk->done; })) {
        return std::nullopt;
    }
    return lk->name;
}

}  // namespace ringfence::tcpd
