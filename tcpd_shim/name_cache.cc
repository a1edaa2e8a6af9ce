// TTL + size bounded caches of name lookups (see name_cache.h).
#include "tcpd_shim/name_cache.h"

#include <time.h>

#include <functional>
#include <iterator>
#include <unordered_map>
#include <utility>

namespace ringfence::tcpd {

namespace detail {

namespace {

int64_t monotonic_now_ns() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// How long a waiter sleeps between two looks at a pending entry.
constexpr long kPollNs = 2000000;  // 2 ms

}  // namespace

template <typename V>
class TtlCache {
public:
    explicit TtlCache(const NameCacheOptions& options) : options_(options) {
        if (options_.now_ns == nullptr) {
            options_.now_ns = monotonic_now_ns;
        }
        if (options_.capacity == 0) {
            options_.capacity = 1;
        }
        pthread_mutex_init(&mu_, nullptr);
    }
    ~TtlCache() { pthread_mutex_destroy(&mu_); }
    TtlCache(const TtlCache&) = delete;
    TtlCache& operator=(const TtlCache&) = delete;

    // The cached value of `key`, or fetch() (called without the lock held,
    // at most once per key at a time) whose result is then cached.
    V get(const std::string& key, const std::function<V()>& fetch) {
        uint64_t token = 0;
        {
            Lock lock(&mu_);
            for (;;) {
                int64_t now = options_.now_ns();
                auto it = map_.find(key);
                if (it != map_.end() && !it->second.pending && it->second.expires_ns > now) {
                    ++stats_.hits;
                    return it->second.value;
                }
                if (it != map_.end() && it->second.pending && now - it->second.started_ns < options_.pending_wait_ns) {
                    // Another thread is looking this key up: wait for it.
                    lock.unlock();
                    struct timespec ts = {0, kPollNs};
                    nanosleep(&ts, nullptr);
                    lock.lock();
                    continue;
                }
                // Absent, expired, or left pending too long (its thread may
                // not exist: a fork): look it up ourselves.
                if (pending_count(now) >= options_.max_pending) {
                    ++stats_.refused;
                    return V{};
                }
                if (it == map_.end()) {
                    make_room(now);
                    it = map_.emplace(key, Entry{}).first;
                }
                Entry& e = it->second;
                e.pending = true;
                e.started_ns = now;
                e.value = V{};
                e.token = token = ++next_token_;
                ++stats_.lookups;
                break;
            }
        }
        V value{};
        try {
            value = fetch();
        } catch (...) {
            value = V{};  // an error is "nothing", as a timeout
        }
        Lock lock(&mu_);
        auto it = map_.find(key);
        if (it != map_.end() && it->second.pending && it->second.token == token) {
            it->second.pending = false;
            it->second.value = value;
            it->second.expires_ns = options_.now_ns() + options_.ttl_ns;
        }
        return value;
    }

    std::optional<V> peek(const std::string& key) {
        Lock lock(&mu_);
        auto it = map_.find(key);
        if (it == map_.end() || it->second.pending || it->second.expires_ns <= options_.now_ns()) {
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
        bool pending = false;
        int64_t started_ns = 0;  // pending: when the lookup began
        int64_t expires_ns = 0;  // !pending
        uint64_t token = 0;      // which lookup may fill the entry
        V value{};
    };

    class Lock {
    public:
        explicit Lock(pthread_mutex_t* mu) : mu_(mu) { lock(); }
        ~Lock() {
            if (held_) {
                pthread_mutex_unlock(mu_);
            }
        }
        void lock() {
            pthread_mutex_lock(mu_);
            held_ = true;
        }
        void unlock() {
            held_ = false;
            pthread_mutex_unlock(mu_);
        }

    private:
        pthread_mutex_t* mu_;
        bool held_ = false;
    };

    bool live_pending(const Entry& e, int64_t now) const {
        return e.pending && now - e.started_ns < options_.pending_wait_ns;
    }

    // O(size), on misses only (at most one per key per TTL).
    size_t pending_count(int64_t now) const {
        size_t n = 0;
        for (const auto& kv : map_) {
            n += live_pending(kv.second, now) ? 1 : 0;
        }
        return n;
    }

    // Makes room for one more entry: drops every expired (or stale pending)
    // entry, then, if still full, the one that expires first. Live pending
    // entries are kept (their lookup would otherwise be repeated).
    void make_room(int64_t now) {
        if (map_.size() < options_.capacity) {
            return;
        }
        for (auto it = map_.begin(); it != map_.end();) {
            const Entry& e = it->second;
            bool dead = e.pending ? !live_pending(e, now) : e.expires_ns <= now;
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
                break;  // only live pending entries (capacity <= max_pending): go over by one
            }
            map_.erase(oldest);
        }
    }

    NameCacheOptions options_;
    pthread_mutex_t mu_;
    std::unordered_map<std::string, Entry> map_;
    uint64_t next_token_ = 0;
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

CachingReverseNameService::CachingReverseNameService(ReverseNameService& inner, const NameCacheOptions& options)
    : inner_(inner), cache_(new detail::TtlCache<std::optional<std::string>>(options)) {}

CachingReverseNameService::~CachingReverseNameService() { delete cache_; }

std::optional<std::string> CachingReverseNameService::reverse(const core::IpAddress& address) {
    core::IpAddress a = address.unmapped();
    return cache_->get(address_key(a), [&] { return inner_.reverse(a); });
}

std::optional<std::optional<std::string>> CachingReverseNameService::peek(const core::IpAddress& address) const {
    return cache_->peek(address_key(address));
}

NameCacheStats CachingReverseNameService::stats() const { return cache_->stats(); }

CachingNameService::CachingNameService(core::NameService& inner, const NameCacheOptions& options)
    : inner_(inner), cache_(new detail::TtlCache<std::vector<core::IpAddress>>(options)) {}

CachingNameService::~CachingNameService() { delete cache_; }

std::vector<core::IpAddress> CachingNameService::resolve(const std::string& host) {
    if (host.empty()) {
        return {};
    }
    return cache_->get(name_key(host), [&] { return inner_.resolve(host); });
}

std::optional<std::vector<core::IpAddress>> CachingNameService::peek(const std::string& host) const {
    return cache_->peek(name_key(host));
}

NameCacheStats CachingNameService::stats() const { return cache_->stats(); }

}  // namespace ringfence::tcpd
