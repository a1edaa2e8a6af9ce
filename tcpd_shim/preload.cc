// SPDX-License-Identifier: BSD-3-Clause
// libringfence-preload.so: the hosts_access(5) check for daemons that do not
// use libwrap. Interposes accept() and accept4(), evaluates the cached
// compiled policy for every TCP connection accepted on an AF_INET/AF_INET6
// socket and closes refused ones before the daemon sees them. Started by
// ringfence-wrap, which validates the policy and passes the file names and
// the daemon name in the environment.
//
// Rules for this file (it runs inside somebody else's process):
// - nothing but accept and accept4 is exported (hidden visibility + a version
//   script), and the C++ runtime is linked statically and kept private;
// - no static object with a constructor or destructor: plain pointers,
//   trivially constructible arrays, pthread primitives;
// - no exception crosses the C boundary, errno is preserved on the allow
//   path, the host process is never exited, exec'd or aborted;
// - options that act on a process (spawn, twist, setenv, umask, user, group,
//   nice) are never run here; banners neither (a write could block).
// - the daemon's own syslog state (openlog ident, flags, its /dev/log
//   connection) is left alone: refusals are sent to /dev/log on a socket of
//   our own, as "ringfence-wrap[PID]: ...", without ever waiting (a line the
//   socket cannot take is dropped and counted).
// - no DNS unless a rule needs the client's name: the engine asks the reverse
//   resolver lazily; answers are cached 60 s per address (see name_cache.h).
//   One accept call waits at most kLookupBudgetNs for names in total, however
//   many queued clients need one, and at most kMaxLookupThreads lookups run
//   at once.
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/diagnostic.h"
#include "core/identity.h"
#include "core/ip.h"
#include "core/name_service.h"
#include "core/paths.h"
#include "core/socket_address.h"
#include "tcpd_shim/hosts_access.h"
#include "tcpd_shim/hosts_explain.h"
#include "tcpd_shim/name_cache.h"
#include "tcpd_shim/system_reverse.h"

namespace ringfence::tcpd::preload {

namespace {

using AcceptFn = int (*)(int, struct sockaddr*, socklen_t*);
using Accept4Fn = int (*)(int, struct sockaddr*, socklen_t*, int);

constexpr const char* kIdent = "ringfence-wrap";
constexpr const char* kDefaultAllow = ringfence::core::kHostsAllow;
constexpr const char* kDefaultDeny = ringfence::core::kHostsDeny;
// How often (at most) the files' stamps are compared with the policy's:
// a stat() of every input on every accept would cost throughput.
constexpr int64_t kStaleCheckIntervalNs = 1000000000;  // 1 s
// A non-blocking accept that meets only refused clients drains at most this
// many before it reports EAGAIN, so that a flood cannot pin the event loop.
constexpr int kMaxRefusedPerCall = 256;
// The time one accept call may spend waiting for client names, in total,
// however many queued connections it checks (each single lookup is waited
// for at most 2 s, NameCacheOptions::lookup_wait_ns): enough for one
// reverse and one forward lookup of a slow resolver, and what a client an
// address rule allows waits at most behind clients that need a name.
constexpr int64_t kLookupBudgetNs = 4000000000;  // 4 s
// An accept() that took longer than this had found the queue empty: the
// connection it returns starts a new budget.
constexpr int64_t kBlockedNs = 10000000;  // 10 ms
// Lookup threads alive at once in a process (a lookup that no longer has a
// waiter still counts until the resolver gives up). Beyond: no lookup, the
// name is "unknown".
constexpr size_t kMaxLookupThreads = 8;

// --- the real functions -----------------------------------------------------

pthread_once_t g_real_once = PTHREAD_ONCE_INIT;
AcceptFn g_real_accept = nullptr;
Accept4Fn g_real_accept4 = nullptr;

void bind_real() {
    g_real_accept = reinterpret_cast<AcceptFn>(dlsym(RTLD_NEXT, "accept"));
    g_real_accept4 = reinterpret_cast<Accept4Fn>(dlsym(RTLD_NEXT, "accept4"));
}

// --- configuration read once, at load time ----------------------------------

// Copied out of the environment in the constructor: getenv() later would race
// with a daemon thread calling setenv(), and the variables may be gone.
char g_daemon[128];
char g_allow_path[4096];
char g_deny_path[4096];
std::atomic<bool> g_config_ready{false};

void copy_bounded(char* dst, size_t size, const char* src) {
    size_t n = strnlen(src, size - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void read_config() {
    const char* d = getenv("RINGFENCE_DAEMON");
    copy_bounded(g_daemon, sizeof g_daemon, d != nullptr && *d != '\0' ? d : program_invocation_short_name);
    const char* a = getenv("RINGFENCE_HOSTS_ALLOW");
    copy_bounded(g_allow_path, sizeof g_allow_path, a != nullptr && *a != '\0' ? a : kDefaultAllow);
    const char* n = getenv("RINGFENCE_HOSTS_DENY");
    copy_bounded(g_deny_path, sizeof g_deny_path, n != nullptr && *n != '\0' ? n : kDefaultDeny);
    g_config_ready.store(true, std::memory_order_release);
}

// --- logging ------------------------------------------------------------------

// Lines that could not be sent since the last one that could (a full or
// missing log socket).
std::atomic<uint64_t> g_log_dropped{0};

// One RFC 3164 line to /dev/log on a socket of our own, never waiting: the
// daemon is waiting for accept. False when it could not be sent.
bool send_log_line(int priority, const char* message) {
    static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t now = time(nullptr);
    struct tm tm;
    char stamp[32] = "Jan  1 00:00:00";
    if (localtime_r(&now, &tm) != nullptr) {
        snprintf(stamp, sizeof stamp, "%s %2d %02d:%02d:%02d", kMonths[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec);
    }
    char buf[1024];
    int len = snprintf(buf, sizeof buf, "<%d>%s %s[%ld]: %s", priority, stamp, kIdent, static_cast<long>(getpid()),
                       message);
    if (len <= 0) {
        return false;
    }
    size_t n = static_cast<size_t>(len) < sizeof buf ? static_cast<size_t>(len) : sizeof buf - 1;
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    copy_bounded(sun.sun_path, sizeof sun.sun_path, "/dev/log");
    int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0) {
        return false;
    }
    ssize_t sent = sendto(s, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT, reinterpret_cast<struct sockaddr*>(&sun), sizeof sun);
    close(s);
    return sent == static_cast<ssize_t>(n);
}

// Best effort and never blocking: a line that cannot be sent at once (the
// syslog daemon is behind, stalled or absent) is dropped and counted, and
// the count is sent ahead of the next line that gets through.
void log_line(int priority, const char* message) {
    int saved = errno;
    uint64_t dropped = g_log_dropped.exchange(0, std::memory_order_relaxed);
    bool sent = false;
    if (dropped > 0) {
        char text[96];
        snprintf(text, sizeof text, "%llu log lines dropped (/dev/log was full or missing)",
                 static_cast<unsigned long long>(dropped));
        if (send_log_line(LOG_AUTH | LOG_WARNING, text)) {
            sent = send_log_line(priority, message);
        } else {
            g_log_dropped.fetch_add(dropped, std::memory_order_relaxed);  // and this line after them
        }
    } else {
        sent = send_log_line(priority, message);
    }
    if (!sent) {
        g_log_dropped.fetch_add(1, std::memory_order_relaxed);
    }
    errno = saved;
}

// Each kind of option that the shim does not run is reported once per process.
std::atomic<unsigned> g_ignored_reported{0};

void report_ignored_option(const Option& option, const Rule& rule) {
    unsigned bit = 1u << static_cast<unsigned>(option.kind);
    if ((g_ignored_reported.fetch_or(bit) & bit) != 0) {
        return;
    }
    std::string text = "option \"" + core::escape_for_log(option.keyword, 40) + "\" at " +
                       core::escape_for_log(rule.file, 200) + ":" + std::to_string(option.line) +
                       " is not run by the preload shim (reported once)";
    log_line(LOG_AUTH | LOG_NOTICE, text.c_str());
}

// --- the cached policy ----------------------------------------------------

struct Cache {
    std::shared_ptr<const Policy> policy;
    core::Diagnostics diags;
    int64_t checked_ns = 0;  // CLOCK_MONOTONIC of the last stale check
};

pthread_mutex_t g_cache_lock = PTHREAD_MUTEX_INITIALIZER;
Cache* g_cache = nullptr;  // never freed: the process may accept until its last moment

int64_t monotonic_ns() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void log_invalid(const core::Diagnostics& diags) {
    int shown = 0;
    for (const core::Diagnostic& d : diags) {
        if (d.severity == core::Severity::error && shown < 3) {
            log_line(LOG_AUTH | LOG_ERR, core::escape_for_log(d.one_line(), 500).c_str());
            ++shown;
        }
    }
    log_line(LOG_AUTH | LOG_ERR, "policy is invalid: refusing every connection until it is fixed");
}

// The current policy (loading or reloading it when needed). Null or invalid:
// refuse.
std::shared_ptr<const Policy> current_policy() {
    pthread_mutex_lock(&g_cache_lock);
    struct Unlock {
        ~Unlock() { pthread_mutex_unlock(&g_cache_lock); }
    } unlock;
    int64_t now = monotonic_ns();
    bool reload = g_cache == nullptr || !g_cache->policy;
    if (!reload && now - g_cache->checked_ns >= kStaleCheckIntervalNs) {
        g_cache->checked_ns = now;
        reload = policy_is_stale(*g_cache->policy);
    }
    if (reload) {
        auto fresh = std::make_unique<Cache>();
        fresh->policy = Policy::load(g_allow_path, g_deny_path, &fresh->diags);
        fresh->checked_ns = now;
        if (!fresh->policy || !fresh->policy->valid()) {
            log_invalid(fresh->diags);
        }
        delete g_cache;
        g_cache = fresh.release();
    }
    return g_cache->policy;
}

// --- client names ---------------------------------------------------------------

// The lookup threads and the caches, created on first use and never freed
// (like the policy cache). Each lookup runs on a detached thread of its own
// (system_reverse.h) which may outlive every wait for it; it owns its data
// (shared_ptrs) and touches nothing of ours but that and the code of this
// library. The shim is preloaded, hence never unloaded (and is linked with
// -z nodelete so that even a dlopen()ed copy stays mapped): such a thread
// never runs unmapped code.
struct NameServices {
    LookupThreads threads{kMaxLookupThreads};
    CachingReverseNameService reverse{threads};  // getnameinfo(NI_NAMEREQD)
    CachingNameService forward{threads};         // getaddrinfo, the double-reverse check
};

pthread_mutex_t g_names_lock = PTHREAD_MUTEX_INITIALIZER;
std::atomic<NameServices*> g_names{nullptr};  // never freed (see above)

// Created in the process that accepts (after a pre-forking daemon forked
// its workers): each process has its own cache.
NameServices& name_services() {
    NameServices* names = g_names.load(std::memory_order_acquire);
    if (names != nullptr) {
        return *names;
    }
    pthread_mutex_lock(&g_names_lock);
    struct Unlock {
        ~Unlock() { pthread_mutex_unlock(&g_names_lock); }
    } unlock;
    names = g_names.load(std::memory_order_relaxed);
    if (names == nullptr) {
        names = new NameServices();  // may throw: the caller refuses the connection
        g_names.store(names, std::memory_order_release);
    }
    return *names;
}

// Only what the caches already hold, never a lookup: used to name the
// client in log lines after the engine decided.
class PeekReverse final : public ReverseNameService {
public:
    explicit PeekReverse(CachingReverseNameService& cache) : cache_(cache) {}
    std::optional<std::string> reverse(const core::IpAddress& address) override {
        return cache_.peek(address).value_or(std::nullopt);
    }

private:
    CachingReverseNameService& cache_;
};

class PeekForward final : public core::NameService {
public:
    explicit PeekForward(CachingNameService& cache) : cache_(cache) {}
    std::vector<core::IpAddress> resolve(const std::string& host) override {
        return cache_.peek(host).value_or(std::vector<core::IpAddress>{});
    }

private:
    CachingNameService& cache_;
};

// What the engine sees during one accept call: the caches, with the call's
// deadline on every wait.
class BudgetReverse final : public ReverseNameService {
public:
    BudgetReverse(CachingReverseNameService& cache, int64_t deadline_ns) : cache_(cache), deadline_ns_(deadline_ns) {}
    std::optional<std::string> reverse(const core::IpAddress& address) override {
        return cache_.reverse_until(address, deadline_ns_);
    }

private:
    CachingReverseNameService& cache_;
    int64_t deadline_ns_;
};

class BudgetForward final : public core::NameService {
public:
    BudgetForward(CachingNameService& cache, int64_t deadline_ns) : cache_(cache), deadline_ns_(deadline_ns) {}
    std::vector<core::IpAddress> resolve(const std::string& host) override {
        return cache_.resolve_until(host, deadline_ns_);
    }

private:
    CachingNameService& cache_;
    int64_t deadline_ns_;
};

// "127.0.0.3", or "127.0.0.3 (bad.example.org)" when the engine looked the
// verified name up for this decision (or within the cache's TTL).
std::string client_for_log(const Request& req, NameServices& names) {
    if (!req.client.address) {
        return "unknown";
    }
    std::string text = req.client.address->unmapped().to_string();
    PeekReverse reverse(names.reverse);
    PeekForward forward(names.forward);
    std::string name = verified_host_name(*req.client.address, reverse, forward);
    if (name != kUnknown && name != kParanoid) {
        text += " (" + core::escape_for_log(name, 200) + ")";
    }
    return text;
}

// --- the check --------------------------------------------------------------

bool is_stream(int listen_fd) {
    int type = 0;
    socklen_t len = sizeof type;
    return getsockopt(listen_fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM;
}

// Options that only concern the accepted connection are applied; the
// others are reported (once) and skipped.
void apply_connection_options(int fd, const Decision& d) {
    const std::vector<Option>* options = d.options();
    if (options == nullptr) {
        return;
    }
    for (const Option& o : *options) {
        switch (o.kind) {
            case Option::Kind::allow:
            case Option::Kind::deny:
            case Option::Kind::severity:
                break;  // decided by the engine / used for logging
            case Option::Kind::keepalive: {
                int on = 1;
                setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
                break;
            }
            case Option::Kind::linger: {
                struct linger l;
                l.l_onoff = o.number != 0;  // as libwrap and ringfence-tcpd: 0 turns lingering off
                l.l_linger = o.number;
                setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
                break;
            }
            default:
                report_ignored_option(o, *d.rule);
                break;
        }
    }
}

// The rule's "severity" option, else `fallback` (-1: do not log). A level
// without a facility goes to LOG_AUTH, where refusals are logged too.
int severity_of(const Decision& d, int fallback) {
    const std::vector<Option>* options = d.options();
    int priority = -1;
    if (options != nullptr) {
        for (const Option& o : *options) {
            if (o.kind == Option::Kind::severity) {
                priority = (o.facility >= 0 ? o.facility : LOG_AUTH) | o.level;
            }
        }
    }
    return priority >= 0 ? priority : fallback;
}

enum class Check { allow, deny };

// Decides one accepted connection. Never throws (the caller catches anyway).
// Name lookups wait at most until `deadline_ns` (lookup_clock_ns()).
Check check_connection(int fd, const struct sockaddr_storage& peer, int64_t deadline_ns) {
    Request req;
    req.daemon = g_daemon;
    req.client.address = core::address_of(reinterpret_cast<const struct sockaddr*>(&peer));
    struct sockaddr_storage local;
    socklen_t local_len = sizeof local;
    memset(&local, 0, sizeof local);
    if (getsockname(fd, reinterpret_cast<struct sockaddr*>(&local), &local_len) == 0) {
        req.server.address = core::address_of(reinterpret_cast<const struct sockaddr*>(&local));
        req.server_port = core::port_of(reinterpret_cast<const struct sockaddr*>(&local));
    }

    std::shared_ptr<const Policy> policy = current_policy();
    if (!policy || !policy->valid()) {
        std::string client =
            req.client.address ? req.client.address->unmapped().to_string() : std::string("unknown");
        std::string text = "refused connect from " + client + " to " + core::escape_for_log(req.daemon, 100) +
                           " (policy is invalid)";
        log_line(LOG_AUTH | LOG_WARNING, text.c_str());
        return Check::deny;
    }

    // The engine looks the client's name up only when a rule it reaches
    // needs it (.domain, a host name, KNOWN, UNKNOWN, LOCAL, PARANOID,
    // @netgroup), in first-match order: a rule decided by the address
    // before any name pattern is reached never waits for a name. A lookup
    // that is not answered by the deadline counts as failed, as in libwrap:
    // no reverse name is "unknown", a reverse name that cannot be verified
    // is "paranoid". Netgroups go through NSS.
    NameServices& names = name_services();
    BudgetReverse reverse(names.reverse, deadline_ns);
    BudgetForward forward(names.forward, deadline_ns);
    core::SystemIdentity identity;
    Lookups lookups;
    lookups.reverse = &reverse;
    lookups.forward = &forward;
    lookups.identity = &identity;
    Decision d = policy->evaluate(req, lookups);
    std::string client = client_for_log(req, names);
    if (d.verdict == Verdict::deny) {
        // Why, after the part admins grep for.
        std::string text = "refused connect from " + client + " to " + core::escape_for_log(req.daemon, 100) + " (" +
                           core::escape_for_log(d.location(), 300) + "): " +
                           core::escape_for_log(decision_reason(d, req), 200);
        log_line(severity_of(d, LOG_AUTH | LOG_WARNING), text.c_str());
        if (const std::vector<Option>* options = d.options()) {
            for (const Option& o : *options) {
                if (o.kind != Option::Kind::allow && o.kind != Option::Kind::deny &&
                    o.kind != Option::Kind::severity) {
                    report_ignored_option(o, *d.rule);
                }
            }
        }
        return Check::deny;
    }
    apply_connection_options(fd, d);
    int priority = severity_of(d, -1);
    if (priority >= 0) {
        std::string text = "connect from " + client + " to " + core::escape_for_log(req.daemon, 100) + " (" +
                           core::escape_for_log(d.location(), 300) + ")";
        log_line(priority, text.c_str());
    }
    return Check::allow;
}

void copy_address(const struct sockaddr_storage& peer, socklen_t peer_len, struct sockaddr* addr,
                  socklen_t* addrlen) {
    if (addr == nullptr || addrlen == nullptr) {
        return;
    }
    // As the kernel: copy what fits, report the full length.
    socklen_t n = *addrlen < peer_len ? *addrlen : peer_len;
    memcpy(addr, &peer, n);
    *addrlen = peer_len;
}

bool nonblocking_listener(int listen_fd) {
    int fl = fcntl(listen_fd, F_GETFL);
    return fl >= 0 && (fl & O_NONBLOCK) != 0;
}

// The one implementation behind accept() and accept4().
int checked_accept(int listen_fd, struct sockaddr* addr, socklen_t* addrlen, int flags, bool use_accept4) noexcept {
    pthread_once(&g_real_once, bind_real);
    if ((use_accept4 ? reinterpret_cast<void*>(g_real_accept4) : reinterpret_cast<void*>(g_real_accept)) ==
        nullptr) {
        errno = ENOSYS;
        return -1;
    }
    if (addr != nullptr && addrlen == nullptr) {
        // Let the kernel report EFAULT exactly as it would.
        return use_accept4 ? g_real_accept4(listen_fd, addr, addrlen, flags) : g_real_accept(listen_fd, addr, addrlen);
    }
    int saved_errno = errno;
    int refused = 0;
    // The lookup budget of the connections taken from the queue in one go:
    // set by the first of them, restarted when the queue was found empty
    // (the next connection then had nobody queued before it).
    int64_t deadline_ns = 0;
    for (;;) {
        struct sockaddr_storage peer;
        socklen_t peer_len = sizeof peer;
        memset(&peer, 0, sizeof peer);
        int64_t before_ns = lookup_clock_ns();
        int fd = use_accept4 ? g_real_accept4(listen_fd, reinterpret_cast<struct sockaddr*>(&peer), &peer_len, flags)
                             : g_real_accept(listen_fd, reinterpret_cast<struct sockaddr*>(&peer), &peer_len);
        if (fd < 0) {
            return fd;  // errno as the real call left it
        }
        int64_t after_ns = lookup_clock_ns();
        // (A non-blocking accept never waits: a slow one was merely preempted.)
        if (deadline_ns == 0 || (after_ns - before_ns > kBlockedNs && !nonblocking_listener(listen_fd))) {
            deadline_ns = after_ns + kLookupBudgetNs;
        }
        Check verdict = Check::allow;
        if ((peer.ss_family == AF_INET || peer.ss_family == AF_INET6) && is_stream(listen_fd)) {
            if (!g_config_ready.load(std::memory_order_acquire)) {
                verdict = Check::deny;  // cannot happen after the constructor ran; fail closed
            } else {
                try {
                    verdict = check_connection(fd, peer, deadline_ns);
                } catch (...) {
                    log_line(LOG_AUTH | LOG_ERR, "internal error while checking a connection: refused");
                    verdict = Check::deny;
                }
            }
        }
        if (verdict == Check::allow) {
            copy_address(peer, peer_len, addr, addrlen);
            errno = saved_errno;
            return fd;
        }
        close(fd);
        bool nonblocking = nonblocking_listener(listen_fd);
        // Non-blocking: drain refused connections until an allowed one or the
        // queue is empty, then "try again": an edge-triggered event loop that
        // stops at EAGAIN never misses a pending allowed client.
        if (nonblocking && ++refused >= kMaxRefusedPerCall) {
            errno = EAGAIN;
            return -1;
        }
        // Blocking: wait for the next connection, as if the refused one had
        // never arrived. If none is queued now, it starts a new budget.
        if (!nonblocking) {
            struct pollfd pfd;
            pfd.fd = listen_fd;
            pfd.events = POLLIN;
            pfd.revents = 0;
            if (poll(&pfd, 1, 0) == 0) {
                deadline_ns = 0;
            }
        }
    }
}

// Removes this library from LD_PRELOAD so that the daemon's children do not
// inherit it. Edits the variable's string in place (it lives in the
// environment block; no allocation, and a concurrent getenv() sees either
// the old or a shorter value), and unsets it when nothing is left.
void scrub_ld_preload() {
    const char* inherit = getenv("RINGFENCE_PRELOAD_INHERIT");
    if (inherit != nullptr && strcmp(inherit, "1") == 0) {
        return;
    }
    Dl_info info;
    memset(&info, 0, sizeof info);
    const char* self = nullptr;
    if (dladdr(reinterpret_cast<void*>(&scrub_ld_preload), &info) != 0 && info.dli_fname != nullptr) {
        self = info.dli_fname;
    }
    const char* self_base = self != nullptr && strrchr(self, '/') != nullptr ? strrchr(self, '/') + 1 : self;
    char* value = getenv("LD_PRELOAD");
    if (value == nullptr) {
        return;
    }
    // Entries are separated by spaces or colons (ld.so(8)).
    char* out = value;
    const char* in = value;
    bool any_left = false;
    while (*in != '\0') {
        while (*in == ' ' || *in == ':') {
            ++in;
        }
        const char* start = in;
        while (*in != '\0' && *in != ' ' && *in != ':') {
            ++in;
        }
        size_t len = static_cast<size_t>(in - start);
        if (len == 0) {
            break;
        }
        const char* base = start;
        for (const char* p = start; p < in; ++p) {
            if (*p == '/') {
                base = p + 1;
            }
        }
        size_t base_len = static_cast<size_t>(in - base);
        bool ours = (self != nullptr && strlen(self) == len && strncmp(self, start, len) == 0) ||
                    (base_len == strlen("libringfence-preload.so") &&
                     strncmp(base, "libringfence-preload.so", base_len) == 0) ||
                    (self_base != nullptr && strlen(self_base) == base_len && strncmp(self_base, base, base_len) == 0);
        if (!ours) {
            if (any_left) {
                *out++ = ':';
            }
            memmove(out, start, len);
            out += len;
            any_left = true;
        }
    }
    *out = '\0';
    if (!any_left) {
        unsetenv("LD_PRELOAD");
    }
}

__attribute__((constructor)) void shim_init() noexcept {
    int saved = errno;
    try {
        read_config();
        scrub_ld_preload();
        // Compile now, while the daemon still has its start-up privileges and
        // root directory: workers that later drop them inherit the policy.
        (void)current_policy();
    } catch (...) {
        // The first accept retries; an invalid or missing policy refuses.
    }
    errno = saved;
}

}  // namespace

}  // namespace ringfence::tcpd::preload

extern "C" {

__attribute__((visibility("default"))) int accept(int fd, struct sockaddr* addr, socklen_t* addrlen) {
    return ringfence::tcpd::preload::checked_accept(fd, addr, addrlen, 0, false);
}

__attribute__((visibility("default"))) int accept4(int fd, struct sockaddr* addr, socklen_t* addrlen, int flags) {
    return ringfence::tcpd::preload::checked_accept(fd, addr, addrlen, flags, true);
}

}  // extern "C"
