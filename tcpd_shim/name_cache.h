// Short-lived caches in front of the reverse (PTR) and forward name lookups,
// for the preload shim: a hosts_access rule that needs a client's name then
// costs at most one bounded reverse lookup per client address, and one
// bounded forward lookup (the double-reverse check) per name, per TTL.
//
// - Thread-safe: one pthread mutex per cache, never held while looking up.
//   Concurrent misses on the same key wait for the first lookup (bounded by
//   `pending_wait`) instead of starting their own.
// - Bounded: at most `capacity` entries (expired ones are dropped first,
//   then the oldest); at most `max_pending` lookups in flight at a time
//   (beyond that a miss answers "no name" / "no address" at once, uncached).
// - Negative answers ("no name", and a timeout, which the inner services do
//   not tell apart from it) are cached for the same TTL, so a dead resolver
//   costs one timeout per address per TTL, not one per connection.
// - Fork-tolerant: no condition variable (a waiter polls), and a lookup left
//   pending by a thread that does not exist in a forked child is treated as
//   absent once `pending_wait` has passed.
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

namespace ringfence::tcpd {

struct NameCacheOptions {
    int64_t ttl_ns = 60LL * 1000000000;          // 60 s
    size_t capacity = 1024;                      // entries per cache
    int64_t pending_wait_ns = 3LL * 1000000000;  // > the inner services' 2 s bound
    size_t max_pending = 16;                     // lookups in flight per cache
    int64_t (*now_ns)() = nullptr;               // CLOCK_MONOTONIC when null (tests may inject)
};

struct NameCacheStats {
    uint64_t hits = 0;     // answered from the cache (including after waiting)
    uint64_t lookups = 0;  // passed to the inner service
    uint64_t refused = 0;  // misses answered empty because too many were in flight
    size_t size = 0;       // entries held now
};

namespace detail {

// A TTL + size bounded map from a key to V, with at most one lookup per key
// in flight. V must be default-constructible (the "nothing" answer).
template <typename V>
class TtlCache;

}  // namespace detail

// ReverseNameService with a cache in front of `inner` (which must bound its
// own time, as SystemReverseNameService does). Keyed by the unmapped address.
// `inner` must outlive this object.
class CachingReverseNameService final : public ReverseNameService {
public:
    explicit CachingReverseNameService(ReverseNameService& inner, const NameCacheOptions& options = {});
    ~CachingReverseNameService() override;
    CachingReverseNameService(const CachingReverseNameService&) = delete;
    CachingReverseNameService& operator=(const CachingReverseNameService&) = delete;

    std::optional<std::string> reverse(const core::IpAddress& address) override;
    // The cached answer without any lookup: nullopt when nothing (fresh) is
    // cached for `address`; otherwise the answer (itself nullopt: "no name").
    std::optional<std::optional<std::string>> peek(const core::IpAddress& address) const;
    NameCacheStats stats() const;

private:
    ReverseNameService& inner_;
    detail::TtlCache<std::optional<std::string>>* cache_;
};

// core::NameService with a cache in front of `inner`. Keyed by the name,
// ASCII-lowercased. `inner` must outlive this object.
class CachingNameService final : public core::NameService {
public:
    explicit CachingNameService(core::NameService& inner, const NameCacheOptions& options = {});
    ~CachingNameService() override;
    CachingNameService(const CachingNameService&) = delete;
    CachingNameService& operator=(const CachingNameService&) = delete;

    std::vector<core::IpAddress> resolve(const std::string& host) override;
    std::optional<std::vector<core::IpAddress>> peek(const std::string& host) const;
    NameCacheStats stats() const;

private:
    core::NameService& inner_;
    detail::TtlCache<std::vector<core::IpAddress>>* cache_;
};

}  // namespace ringfence::tcpd
