// SPDX-License-Identifier: BSD-3-Clause
// Name lookups of the system resolver bounded in time. getnameinfo and
// getaddrinfo have no timeout of their own (a dead DNS server costs the
// resolver's whole retry schedule, 10 s and more), so each lookup runs on a
// helper thread of its own that the caller waits for as long as it wants;
// a caller that stops waiting goes on without the answer and the thread
// finishes by itself, on its own copy of the data.
//
// LookupThreads starts those threads and bounds how many are alive at once:
// a thread counts until its libc call has returned, not until its caller
// stopped waiting, so a resolver that never answers cannot make a process
// pile up threads. Beyond the bound a lookup is not started at all.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/ip.h"
#include "tcpd_shim/hosts_access.h"

namespace ringfence::tcpd {

// CLOCK_MONOTONIC in nanoseconds: the clock of every deadline below.
int64_t lookup_clock_ns();

// The answer of one lookup, shared by the helper thread and whoever waits.
// Written once by the thread, then `done` is set (release); read `value`
// only after seeing `done` (acquire). No lock and no condition variable:
// a fork() in the middle of a lookup leaves nothing locked in the child.
template <typename V>
struct LookupAnswer {
    std::atomic<bool> done{false};
    int64_t started_ns = 0;   // lookup_clock_ns() when the lookup began
    int64_t finished_ns = 0;  // set before done
    V value{};                // set before done; V{} is "nothing" (no name, no address)

    // Waits until the answer is there or `deadline_ns` has passed (polling:
    // see above). True when it is there.
    bool wait_until(int64_t deadline_ns) const;
};

using ReverseAnswer = LookupAnswer<std::optional<std::string>>;
using ForwardAnswer = LookupAnswer<std::vector<core::IpAddress>>;

class LookupThreads {
public:
    explicit LookupThreads(size_t max_threads);

    // getnameinfo(NI_NAMEREQD) of `address` (v4-mapped: as IPv4) on a new
    // thread. Null, at once, when `max_threads` lookups are running or no
    // thread can be made.
    std::shared_ptr<const ReverseAnswer> start_reverse(const core::IpAddress& address);
    // getaddrinfo(AF_UNSPEC) of `host`, likewise. Null also for an empty
    // or over-long name.
    std::shared_ptr<const ForwardAnswer> start_forward(const std::string& host);

    // Lookup threads of this process alive now.
    size_t running() const;
    size_t max_threads() const { return state_->max; }

private:
    // Shared with the threads, so that it outlives this object if need be.
    // `running` holds the process ID (high 32 bits) with the count of
    // threads (low 32 bits): a forked child, which has none of its parent's
    // threads, starts again from 0 instead of waiting for them forever.
    struct State {
        std::atomic<uint64_t> running{0};
        size_t max = 0;
    };
    bool reserve();
    static void release(State& state);
    std::shared_ptr<State> state_;
};

// The system ReverseNameService for one-shot programs: one lookup at a time,
// waited for at most `timeout`.
class SystemReverseNameService final : public ReverseNameService {
public:
    explicit SystemReverseNameService(std::chrono::milliseconds timeout = std::chrono::milliseconds(2000))
        : timeout_(timeout), threads_(4) {}
    // The PTR name of `address` (v4-mapped addresses are looked up as IPv4);
    // nullopt when there is none, on error and on timeout.
    std::optional<std::string> reverse(const core::IpAddress& address) override;

private:
    std::chrono::milliseconds timeout_;
    LookupThreads threads_;
};

}  // namespace ringfence::tcpd
