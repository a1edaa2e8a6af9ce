// SPDX-License-Identifier: BSD-3-Clause
// TTL + size bounded caches of name lookups with deadlines (see name_cache.h).
#include "tcpd_shim/name_cache.h"

#include <functional>
#include <iterator>
#include <memory>
#include <unordered_map>
#include <utility>

namespace ringfence::tcpd {

namespace detail {

template <typename V>
class TtlCache {
public:
    using Answer = LookupAnswer<V>;
    using Start = std::function<std::shared_ptr<const Answer>()>;

    explicit TtlCache(const NameCacheOptions& options) : options_(options) {
        if (options_.capacity == 0) {
            options_.capacity = 1;
        }
        pthread_mutex_init(&mu_, nullptr);
    }
    ~TtlCache() { pthread_mutex_destroy(&mu_); }
    TtlCache(const TtlCache&) = delete;
    TtlCache& operator=(const TtlCache&) = delete;

    // The cached value of `key`; else the answer of the lookup in flight
    // for it, or of a new one from start(), waited for until `deadline_ns`
    // and at most lookup_wait after that lookup began; else V{}.
    V get(const std::string& key, int64_t deadline_ns, const Start& start) {
        std::shared_ptr<const Answer> answer;
        {
            Lock lock(&mu_);
            int64_t now = lookup_clock_ns();
            auto it = map_.find(key);
            if (it != map_.end()) {
                Entry& e = it->second;
                settle(e);
                if (!e.pending && e.expires_ns > now) {
                    ++stats_.hits;
                    return e.value;
                }
                if (e.pending && now - e.pending->started_ns < options_.abandon_ns) {
                    answer = e.pending;  // in flight: share it
                }
            }
            if (!answer) {
                // Absent, expired, or abandoned (its thread may not exist:
                // a fork). Started even when the caller cannot wait: the
                // answer is then there for the next connection.
                answer = start();
                if (!answer) {
                    ++stats_.refused;
                    return V{};
                }
                ++stats_.lookups;
                if (it == map_.end()) {
                    make_room(now);
                    it = map_.emplace(key, Entry{}).first;
                }
                it->second.pending = answer;
            }
        }
        int64_t wait_end = answer->started_ns + options_.lookup_wait_ns;
        if (deadline_ns < wait_end) {
            wait_end = deadline_ns;
        }
        if (!answer->wait_until(wait_end)) {
            Lock lock(&mu_);
            ++stats_.expired;
            return V{};
        }
        Lock lock(&mu_);
        auto it = map_.find(key);
        if (it != map_.end() && it->second.pending == answer) {
            settle(it->second);
        }
        return answer->value;
    }

    std::optional<V> peek(const std::string& key) {
        Lock lock(&mu_);
        auto it = map_.find(key);
        if (it == map_.end()) {
            return std::nullopt;
        }
        settle(it->second);
        if (it->second.pending || it->second.expires_ns <= lookup_clock_ns()) {
            return std::nullopt;
        }
        return it->second.value;
    }

    NameCacheStats stats() {
        Lock lock(&mu_);
        NameCacheStats s = stats_;
        s.size = map_.size();
        return s;
    }

private:
    struct Entry {
        std::shared_ptr<const Answer> pending;  // set: a lookup in flight (or unsettled)
        int64_t expires_ns = 0;                 // !pending
        V value{};                              // !pending
    };

    class Lock {
    public:
        explicit Lock(pthread_mutex_t* mu) : mu_(mu) { pthread_mutex_lock(mu_); }
        ~Lock() { pthread_mutex_unlock(mu_); }
        Lock(const Lock&) = delete;
        Lock& operator=(const Lock&) = delete;

    private:
        pthread_mutex_t* mu_;
    };

    // A finished lookup becomes the cached answer, for a TTL from when it
    // finished (a late answer too: the lookup's waiters are gone, but the
    // next connection from the address uses it).
    void settle(Entry& e) const {
        if (e.pending && e.pending->done.load(std::memory_order_acquire)) {
            e.value = e.pending->value;
            e.expires_ns = e.pending->finished_ns + options_.ttl_ns;
            e.pending.reset();
        }
    }

    // Makes room for one more entry: drops every expired answer and every
    // abandoned lookup, then, if still full, the answer that expires first.
    // Lookups in flight are kept (there are at most as many as threads).
    void make_room(int64_t now) {
        if (map_.size() < options_.capacity) {
            return;
        }
        for (auto it = map_.begin(); it != map_.end();) {
            Entry& e = it->second;
            settle(e);
            bool dead = e.pending ? now - e.pending->started_ns >= options_.abandon_ns : e.expires_ns <= now;
            it = dead ? map_.erase(it) : std::next(it);
        }
        while (map_.size() >= options_.capacity) {
            auto oldest = map_.end();
            for (auto it = map_.begin(); it != map_.end(); ++it) {
                if (!it->second.pending && (oldest == map_.end() || it->second.expires_ns < oldest->second.expires_ns)) {
                    oldest = it;
                }
            }
            if (oldest == map_.end()) {
                break;  // only lookups in flight: go over by one
            }
            map_.erase(oldest);
        }
    }

    NameCacheOptions options_;
    pthread_mutex_t mu_;
    std::unordered_map<std::string, Entry> map_;
    NameCacheStats stats_;
};

}  // namespace detail

namespace {

std::string address_key(const core::IpAddress& address) { return address.unmapped().to_string(); }

std::string name_key(const std::string& host) {
    std::string k = host;
    for (char& c : k) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return k;
}

}  // namespace

CachingReverseNameService::CachingReverseNameService(LookupThreads& threads, const NameCacheOptions& options)
    : threads_(threads), cache_(new detail::TtlCache<std::optional<std::string>>(options)) {}

CachingReverseNameService::~CachingReverseNameService() { delete cache_; }

std::optional<std::string> CachingReverseNameService::reverse_until(const core::IpAddress& address,
                                                                    int64_t deadline_ns) {
    core::IpAddress a = address.unmapped();
    return cache_->get(address_key(a), deadline_ns, [&] { return threads_.start_reverse(a); });
}

std::optional<std::string> CachingReverseNameService::reverse(const core::IpAddress& address) {
    // The lookup's own bound (lookup_wait) applies in any case.
    return reverse_until(address, INT64_MAX);
}

std::optional<std::optional<std::string>> CachingReverseNameService::peek(const core::IpAddress& address) {
    return cache_->peek(address_key(address));
}

NameCacheStats CachingReverseNameService::stats() const { return cache_->stats(); }

CachingNameService::CachingNameService(LookupThreads& threads, const NameCacheOptions& options)
    : threads_(threads), cache_(new detail::TtlCache<std::vector<core::IpAddress>>(options)) {}

CachingNameService::~CachingNameService() { delete cache_; }

std::vector<core::IpAddress> CachingNameService::resolve_until(const std::string& host, int64_t deadline_ns) {
    if (host.empty()) {
        return {};
    }
    return cache_->get(name_key(host), deadline_ns, [&] { return threads_.start_forward(host); });
}

std::vector<core::IpAddress> CachingNameService::resolve(const std::string& host) {
    return resolve_until(host, INT64_MAX);
}

std::optional<std::vector<core::IpAddress>> CachingNameService::peek(const std::string& host) {
    return cache_->peek(name_key(host));
}

NameCacheStats CachingNameService::stats() const { return cache_->stats(); }

}  // namespace ringfence::tcpd
