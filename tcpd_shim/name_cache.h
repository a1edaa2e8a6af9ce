// SPDX-License-Identifier: BSD-3-Clause
// Short-lived caches in front of the reverse (PTR) and forward name lookups,
// for the preload shim: a hosts_access rule that needs a client's name then
// costs at most one reverse lookup per client address, and one forward
// lookup (the double-reverse check) per name, per TTL.
//
// - Every wait has a deadline chosen by the caller (the shim's budget for
//   one accept call) and never exceeds `lookup_wait` from the start of the
//   lookup: a caller never waits for a lookup that has already been waited
//   for that long, however many callers come. Past the deadline the answer
//   is "no name" / "no address" for this caller only; the lookup goes on and
//   its answer, when it comes, is cached for the next one.
// - At most one lookup per key in flight: concurrent misses share it.
// - Lookups run on LookupThreads, which caps the threads alive at once;
//   beyond the cap a miss starts nothing and answers "nothing", uncached.
// - Bounded: at most `capacity` entries (expired and abandoned ones are
//   dropped first, then the oldest answers).
// - Negative answers ("no name"; a lookup that failed, including by the
//   resolver's own timeout) are cached for the same TTL, so a dead resolver
//   costs one lookup per address per TTL.
// - Fork-tolerant: no condition variable (answers are polled), and a
//   lookup still unanswered after `abandon` (its thread may not exist in a
//   forked child) is forgotten and made again.
// - Lookups only happen when the engine asks, i.e. when a rule needs a name.
#pragma once

#include <pthread.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/ip.h"
#include "core/name_service.h"
#include "tcpd_shim/hosts_access.h"
#include "tcpd_shim/system_reverse.h"

namespace ringfence::tcpd {

struct NameCacheOptions {
    int64_t ttl_ns = 60LL * 1000000000;          // 60 s
    size_t capacity = 1024;                      // entries per cache
    int64_t lookup_wait_ns = 2LL * 1000000000;   // the longest anyone waits for one lookup
    int64_t abandon_ns = 60LL * 1000000000;      // an unanswered lookup older than this is made again
};

struct NameCacheStats {
    uint64_t hits = 0;     // answered from the cache (including after waiting)
    uint64_t lookups = 0;  // lookups started
    uint64_t refused = 0;  // misses answered empty because no lookup thread was free
    uint64_t expired = 0;  // answered empty because the caller's deadline or the lookup's wait had passed
    size_t size = 0;       // entries held now
};

namespace detail {

// A TTL + size bounded map from a key to the answer of a lookup, with at
// most one lookup per key in flight.
template <typename V>
class TtlCache;

}  // namespace detail

// Reverse lookups through `threads`, cached by the unmapped address.
// `threads` must outlive this object.
class CachingReverseNameService final : public ReverseNameService {
public:
    explicit CachingReverseNameService(LookupThreads& threads, const NameCacheOptions& options = {});
    ~CachingReverseNameService() override;
    CachingReverseNameService(const CachingReverseNameService&) = delete;
    CachingReverseNameService& operator=(const CachingReverseNameService&) = delete;

    // Waits at most until `deadline_ns` (lookup_clock_ns()).
    std::optional<std::string> reverse_until(const core::IpAddress& address, int64_t deadline_ns);
    // Waits at most `lookup_wait`.
    std::optional<std::string> reverse(const core::IpAddress& address) override;
    // The cached answer without any lookup or wait: nullopt when nothing
    // (fresh) is cached for `address`; otherwise the answer (itself nullopt:
    // "no name").
    std::optional<std::optional<std::string>> peek(const core::IpAddress& address);
    NameCacheStats stats() const;

private:
    LookupThreads& threads_;
    detail::TtlCache<std::optional<std::string>>* cache_;
};

// Forward lookups through `threads`, cached by the name, ASCII-lowercased.
// `threads` must outlive this object.
class CachingNameService final : public core::NameService {
public:
    explicit CachingNameService(LookupThreads& threads, const NameCacheOptions& options = {});
    ~CachingNameService() override;
    CachingNameService(const CachingNameService&) = delete;
    CachingNameService& operator=(const CachingNameService&) = delete;

    std::vector<core::IpAddress> resolve_until(const std::string& host, int64_t deadline_ns);
    std::vector<core::IpAddress> resolve(const std::string& host) override;
    std::optional<std::vector<core::IpAddress>> peek(const std::string& host);
    NameCacheStats stats() const;

private:
    LookupThreads& threads_;
    detail::TtlCache<std::vector<core::IpAddress>>* cache_;
};

}  // namespace ringfence::tcpd
