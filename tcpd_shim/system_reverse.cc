// SPDX-License-Identifier: BSD-3-Clause
// Lookups on helper threads, bounded in number and waited for with a
// deadline (see system_reverse.h).
#include "tcpd_shim/system_reverse.h"

#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <thread>
#include <utility>

#include "core/socket_address.h"

namespace ringfence::tcpd {

int64_t lookup_clock_ns() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

template <typename V>
bool LookupAnswer<V>::wait_until(int64_t deadline_ns) const {
    // Short naps first (a hosts file or a cache answers in microseconds),
    // then 2 ms ones: a waiter never oversleeps its deadline by more.
    long nap_ns = 50000;
    for (;;) {
        if (done.load(std::memory_order_acquire)) {
            return true;
        }
        int64_t left = deadline_ns - lookup_clock_ns();
        if (left <= 0) {
            return false;
        }
        struct timespec ts = {0, left < nap_ns ? static_cast<long>(left) : nap_ns};
        nanosleep(&ts, nullptr);
        if (nap_ns < 2000000) {
            nap_ns *= 2;
        }
    }
}

template struct LookupAnswer<std::optional<std::string>>;
template struct LookupAnswer<std::vector<core::IpAddress>>;

namespace {

// Starts fn on a detached thread with the asynchronous signals blocked, so
// that a daemon's signal handlers never run on a thread of ours (process-
// directed signals go to the daemon's own threads). The caller's mask is
// restored at once. Faults stay unblocked. False when no thread was made.
template <typename F>
bool start_quiet_thread(F&& fn) {
    sigset_t all, old;
    sigfillset(&all);
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT}) {
        sigdelset(&all, sig);
    }
    bool masked = pthread_sigmask(SIG_BLOCK, &all, &old) == 0;
    bool started = false;
    try {
        std::thread(std::forward<F>(fn)).detach();
        started = true;
    } catch (...) {
        started = false;  // no thread: no lookup (never block without a bound)
    }
    if (masked) {
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
    }
    return started;
}

template <typename V>
void finish(LookupAnswer<V>& answer, V value) {
    answer.value = std::move(value);
    answer.finished_ns = lookup_clock_ns();
    answer.done.store(true, std::memory_order_release);
}

}  // namespace

LookupThreads::LookupThreads(size_t max_threads) : state_(std::make_shared<State>()) {
    state_->max = max_threads;
    state_->running.store(static_cast<uint64_t>(static_cast<uint32_t>(getpid())) << 32, std::memory_order_relaxed);
}

size_t LookupThreads::running() const {
    uint64_t v = state_->running.load(std::memory_order_relaxed);
    return static_cast<uint32_t>(v >> 32) == static_cast<uint32_t>(getpid()) ? static_cast<uint32_t>(v) : 0;
}

bool LookupThreads::reserve() {
    uint64_t me = static_cast<uint64_t>(static_cast<uint32_t>(getpid())) << 32;
    uint64_t v = state_->running.load(std::memory_order_relaxed);
    for (;;) {
        uint64_t count = (v & ~uint64_t{0xffffffff}) == me ? (v & 0xffffffff) : 0;  // another pid: a fork
        if (count >= state_->max) {
            return false;
        }
        if (state_->running.compare_exchange_weak(v, me | (count + 1), std::memory_order_relaxed)) {
            return true;
        }
    }
}

// A thread (or a failed start) gives its place back, in the process that
// took it (threads do not cross a fork).
void LookupThreads::release(State& state) { state.running.fetch_sub(1, std::memory_order_relaxed); }

std::shared_ptr<const ReverseAnswer> LookupThreads::start_reverse(const core::IpAddress& address) {
    sockaddr_storage sa{};
    socklen_t len = core::to_sockaddr(address, 0, &sa);
    if (!reserve()) {
        return nullptr;
    }
    std::shared_ptr<ReverseAnswer> answer;
    try {
        answer = std::make_shared<ReverseAnswer>();
    } catch (...) {
        release(*state_);
        return nullptr;
    }
    answer->started_ns = lookup_clock_ns();
    std::shared_ptr<State> state = state_;
    bool started = start_quiet_thread([answer, state, sa, len] {
        char host[NI_MAXHOST];
        int rc = getnameinfo(reinterpret_cast<const sockaddr*>(&sa), len, host, sizeof host, nullptr, 0,
                             NI_NAMEREQD);
        std::optional<std::string> name;
        try {
            if (rc == 0) {
                name = std::string(host);
            }
        } catch (...) {
            name.reset();
        }
        finish(*answer, std::move(name));
        release(*state);
    });
    if (!started) {
        release(*state_);
        return nullptr;
    }
    return answer;
}

std::shared_ptr<const ForwardAnswer> LookupThreads::start_forward(const std::string& host) {
    if (host.empty() || host.size() >= NI_MAXHOST) {
        return nullptr;
    }
    if (!reserve()) {
        return nullptr;
    }
    std::shared_ptr<ForwardAnswer> answer;
    std::string name;
    try {
        answer = std::make_shared<ForwardAnswer>();
        name = host;
    } catch (...) {
        release(*state_);
        return nullptr;
    }
    answer->started_ns = lookup_clock_ns();
    std::shared_ptr<State> state = state_;
    bool started = start_quiet_thread([answer, state, name] {
        struct addrinfo hints;
        std::memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        struct addrinfo* res = nullptr;
        std::vector<core::IpAddress> out;
        if (getaddrinfo(name.c_str(), nullptr, &hints, &res) == 0) {
            try {
                for (struct addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
                    if (std::optional<core::IpAddress> a = core::address_of(ai->ai_addr)) {
                        out.push_back(*a);
                    }
                }
            } catch (...) {
                out.clear();
            }
            freeaddrinfo(res);
        }
        finish(*answer, std::move(out));
        release(*state);
    });
    if (!started) {
        release(*state_);
        return nullptr;
    }
    return answer;
}

std::optional<std::string> SystemReverseNameService::reverse(const core::IpAddress& address) {
    std::shared_ptr<const ReverseAnswer> answer = threads_.start_reverse(address);
    if (!answer || !answer->wait_until(lookup_clock_ns() + static_cast<int64_t>(timeout_.count()) * 1000000)) {
        return std::nullopt;
    }
    return answer->value;
}

}  // namespace ringfence::tcpd
