// SPDX-License-Identifier: BSD-3-Clause
// Forward DNS bounded in time: getaddrinfo_a + gai_suspend, so a dead
// resolver costs at most the timeout, never the resolver's retry schedule.
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "core/name_service.h"
#include "core/socket_address.h"

namespace ringfence::core {

namespace {

struct Request {
    struct gaicb cb;
    struct addrinfo hints;
    char host[256];
};

}  // namespace

std::vector<IpAddress> SystemNameService::resolve(const std::string& host) {
    std::vector<IpAddress> out;
    if (host.empty() || host.size() >= sizeof(Request::host)) {
        return out;
    }
    // Heap-allocated: if the lookup cannot be cancelled in time, the resolver
    // thread still owns it and it must outlive this call (a bounded leak is
    // better than a hung login).
    auto* req = new (std::nothrow) Request();
    if (req == nullptr) {
        return out;
    }
    std::memcpy(req->host, host.c_str(), host.size() + 1);
    req->hints.ai_family = AF_UNSPEC;
    req->hints.ai_socktype = SOCK_STREAM;
    req->cb.ar_name = req->host;
    req->cb.ar_request = &req->hints;
    struct gaicb* list[1] = {&req->cb};
    if (getaddrinfo_a(GAI_NOWAIT, list, 1, nullptr) != 0) {
        delete req;
        return out;
    }

    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    int64_t deadline_ns = deadline.tv_sec * 1000000000LL + deadline.tv_nsec +
                          static_cast<int64_t>(timeout_.count()) * 1000000LL;
    int rc;
    for (;;) {
        rc = gai_error(&req->cb);
        if (rc != EAI_INPROGRESS) {
            break;
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t left = deadline_ns - (now.tv_sec * 1000000000LL + now.tv_nsec);
        if (left <= 0) {
            break;
        }
        struct timespec wait = {static_cast<time_t>(left / 1000000000LL), static_cast<long>(left % 1000000000LL)};
        const struct gaicb* wl[1] = {&req->cb};
        gai_suspend(wl, 1, &wait);
    }
    if (rc == EAI_INPROGRESS) {
        if (gai_cancel(&req->cb) != EAI_CANCELED) {
            return out;  // still running: leave req to the resolver
        }
        delete req;
        return out;
    }
    if (rc == 0) {
        for (struct addrinfo* ai = req->cb.ar_result; ai != nullptr; ai = ai->ai_next) {
            if (std::optional<IpAddress> a = address_of(ai->ai_addr)) {
                out.push_back(*a);
            }
        }
        freeaddrinfo(req->cb.ar_result);
    }
    delete req;
    return out;
}

}  // namespace ringfence::core
