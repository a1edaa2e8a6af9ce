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
//   our own, as "ringfence-wrap[PID]: ...".
// - no DNS unless a rule needs the client's name: the engine asks the reverse
//   resolver lazily; answers are cached 60 s per address (see name_cache.h),
//   so a name rule costs at most one bounded (2 s) reverse and one bounded
//   forward lookup per client address and name per minute.
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/diagnostic.h"
#include "core/identity.h"
#include "core/ip.h"
#include "core/name_service.h"
#include "tcpd_shim/hosts_access.h"
#include "tcpd_shim/name_cache.h"
#include "tcpd_shim/system_reverse.h"

namespace ringfence::tcpd::preload {

namespace {

using AcceptFn = int (*)(int, struct sockaddr*, socklen_t*);
using Accept4Fn = int (*)(int, struct sockaddr*, socklen_t*, int);

constexpr const char* kIdent = "ringfence-wrap";
constexpr const char* kDefaultAllow = "/etc/hosts.allow";
constexpr const char* kDefaultDeny = "/etc/hosts.deny";
// How often (at most) the files' stamps are compared with the policy's:
// a stat() of every input on every accept would cost throughput.
constexpr int64_t kStaleCheckIntervalNs = 1000000000;  // 1 s
// A non-blocking accept that meets only refused clients drains at most this
// many before it reports EAGAIN, so that a flood cannot pin the event loop.
constexpr int kMaxRefusedPerCall = 256;

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

// One RFC 3164 line to /dev/log on a socket of our own. Best effort: a
// missing log socket never fails an accept, a full one delays it by at most
// 200 ms and the line is lost.
void log_line(int priority, const char* message) {
    static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int saved = errno;
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
    if (len > 0) {
        size_t n = static_cast<size_t>(len) < sizeof buf ? static_cast<size_t>(len) : sizeof buf - 1;
        struct sockaddr_un sun;
        memset(&sun, 0, sizeof sun);
        sun.sun_family = AF_UNIX;
        copy_bounded(sun.sun_path, sizeof sun.sun_path, "/dev/log");
        int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s >= 0) {
            // Wait a little for a busy syslog daemon (its queue holds only a
            // few datagrams), never long: the daemon is waiting for accept.
            struct timeval tv;
            tv.tv_sec = 0;
            tv.tv_usec = 200000;
            setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
            sendto(s, buf, n, MSG_NOSIGNAL, reinterpret_cast<struct sockaddr*>(&sun), sizeof sun);
            close(s);
        }
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

// Runs the inner reverse lookup with the asynchronous signals blocked, so that
// the helper thread SystemReverseNameService starts inherits a mask that
// blocks them: a daemon's signal handlers never run on a thread of ours
// (process-directed signals go to the daemon's own threads). The calling
// thread gets them when the lookup returns, at most its 2 s bound later.
// Synchronous signals (faults) stay unblocked.
class SignalQuietReverse final : public ReverseNameService {
public:
    explicit SignalQuietReverse(ReverseNameService& inner) : inner_(inner) {}
    std::optional<std::string> reverse(const core::IpAddress& address) override {
        sigset_t all, old;
        sigfillset(&all);
        for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT}) {
            sigdelset(&all, sig);
        }
        bool masked = pthread_sigmask(SIG_BLOCK, &all, &old) == 0;
        struct Restore {
            bool masked;
            sigset_t* old;
            ~Restore() {
                if (masked) {
                    pthread_sigmask(SIG_SETMASK, old, nullptr);
                }
            }
        } restore{masked, &old};
        return inner_.reverse(address);
    }

private:
    ReverseNameService& inner_;
};

#if defined(__SANITIZE_THREAD__)
// TSan builds only: getaddrinfo_a's helper threads are started inside glibc,
// unseen by TSan's interceptors, and crash in its malloc. This does the same
// bounded forward lookup with getaddrinfo on a detached std::thread (the
// pattern of SystemReverseNameService), which TSan sees.
class ThreadedForward final : public core::NameService {
public:
    std::vector<core::IpAddress> resolve(const std::string& host) override {
        struct Job {
            std::string host;
            pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
            bool done = false;
            std::vector<core::IpAddress> out;
        };
        auto job = std::make_shared<Job>();
        job->host = host;
        try {
            std::thread([job] {
                struct addrinfo hints;
                memset(&hints, 0, sizeof hints);
                hints.ai_family = AF_UNSPEC;
                hints.ai_socktype = SOCK_STREAM;
                struct addrinfo* res = nullptr;
                std::vector<core::IpAddress> out;
                if (getaddrinfo(job->host.c_str(), nullptr, &hints, &res) == 0) {
                    for (struct addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
                        if (ai->ai_family == AF_INET) {
                            out.push_back(core::IpAddress::from_v4(reinterpret_cast<const uint8_t*>(
                                &reinterpret_cast<const struct sockaddr_in*>(ai->ai_addr)->sin_addr)));
                        } else if (ai->ai_family == AF_INET6) {
                            out.push_back(core::IpAddress::from_v6(
                                reinterpret_cast<const struct sockaddr_in6*>(ai->ai_addr)->sin6_addr.s6_addr));
                        }
                    }
                    freeaddrinfo(res);
                }
                pthread_mutex_lock(&job->mu);
                job->out = std::move(out);
                job->done = true;
                pthread_mutex_unlock(&job->mu);
            }).detach();
        } catch (...) {
            return {};
        }
        for (int i = 0; i < 1000; ++i) {  // 2 s in 2 ms steps
            pthread_mutex_lock(&job->mu);
            bool done = job->done;
            std::vector<core::IpAddress> out = done ? job->out : std::vector<core::IpAddress>{};
            pthread_mutex_unlock(&job->mu);
            if (done) {
                return out;
            }
            struct timespec ts = {0, 2000000};
            nanosleep(&ts, nullptr);
        }
        return {};
    }
};
using ForwardService = ThreadedForward;
#else
using ForwardService = core::SystemNameService;  // getaddrinfo_a, 2 s bound
#endif

// The lookup services, created on first use and never freed (like the policy
// cache). Lifetime of the lookup threads: SystemReverseNameService detaches
// a thread per reverse lookup which may outlive the 2 s wait; it owns its
// data (a shared_ptr), touches nothing of ours but that and the code of this
// library. The shim is preloaded, hence never unloaded (and is linked with
// -z nodelete so that even a dlopen()ed copy stays mapped): the thread never
// runs unmapped code. getaddrinfo_a's helper threads (forward lookups) are
// glibc's own and likewise own their request (see core/system_name_service.cc).
struct NameServices {
    SystemReverseNameService system_reverse;  // getnameinfo(NI_NAMEREQD), 2 s bound
    SignalQuietReverse quiet_reverse{system_reverse};
    ForwardService system_forward;
    CachingReverseNameService reverse{quiet_reverse};
    CachingNameService forward{system_forward};
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
    explicit PeekReverse(const CachingReverseNameService& cache) : cache_(cache) {}
    std::optional<std::string> reverse(const core::IpAddress& address) override {
        return cache_.peek(address).value_or(std::nullopt);
    }

private:
    const CachingReverseNameService& cache_;
};

class PeekForward final : public core::NameService {
public:
    explicit PeekForward(const CachingNameService& cache) : cache_(cache) {}
    std::vector<core::IpAddress> resolve(const std::string& host) override {
        return cache_.peek(host).value_or(std::vector<core::IpAddress>{});
    }

private:
    const CachingNameService& cache_;
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

std::optional<core::IpAddress> to_ip(const struct sockaddr_storage& ss) {
    if (ss.ss_family == AF_INET) {
        const auto* in = reinterpret_cast<const struct sockaddr_in*>(&ss);
        return core::IpAddress::from_v4(reinterpret_cast<const uint8_t*>(&in->sin_addr));
    }
    if (ss.ss_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const struct sockaddr_in6*>(&ss);
        return core::IpAddress::from_v6(in6->sin6_addr.s6_addr);
    }
    return std::nullopt;
}

std::optional<uint16_t> port_of(const struct sockaddr_storage& ss) {
    if (ss.ss_family == AF_INET) {
        return ntohs(reinterpret_cast<const struct sockaddr_in*>(&ss)->sin_port);
    }
    if (ss.ss_family == AF_INET6) {
        return ntohs(reinterpret_cast<const struct sockaddr_in6*>(&ss)->sin6_port);
    }
    return std::nullopt;
}

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
Check check_connection(int fd, const struct sockaddr_storage& peer) {
    Request req;
    req.daemon = g_daemon;
    req.client.address = to_ip(peer);
    struct sockaddr_storage local;
    socklen_t local_len = sizeof local;
    memset(&local, 0, sizeof local);
    if (getsockname(fd, reinterpret_cast<struct sockaddr*>(&local), &local_len) == 0) {
        req.server.address = to_ip(local);
        req.server_port = port_of(local);
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
    // @netgroup): then a cache miss blocks this accept for at most the two
    // 2 s bounds (reverse, then forward for the double-reverse check); a
    // name that is missing, or does not map back, is "unknown" / "paranoid".
    // Netgroups go through NSS.
    NameServices& names = name_services();
    core::SystemIdentity identity;
    Lookups lookups;
    lookups.reverse = &names.reverse;
    lookups.forward = &names.forward;
    lookups.identity = &identity;
    Decision d = policy->evaluate(req, lookups);
    std::string client = client_for_log(req, names);
    if (d.verdict == Verdict::deny) {
        std::string text = "refused connect from " + client + " to " + core::escape_for_log(req.daemon, 100) + " (" +
                           core::escape_for_log(d.location(), 300) + ")";
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
    for (;;) {
        struct sockaddr_storage peer;
        socklen_t peer_len = sizeof peer;
        memset(&peer, 0, sizeof peer);
        int fd = use_accept4 ? g_real_accept4(listen_fd, reinterpret_cast<struct sockaddr*>(&peer), &peer_len, flags)
                             : g_real_accept(listen_fd, reinterpret_cast<struct sockaddr*>(&peer), &peer_len);
        if (fd < 0) {
            return fd;  // errno as the real call left it
        }
        Check verdict = Check::allow;
        if ((peer.ss_family == AF_INET || peer.ss_family == AF_INET6) && is_stream(listen_fd)) {
            if (!g_config_ready.load(std::memory_order_acquire)) {
                verdict = Check::deny;  // cannot happen after the constructor ran; fail closed
            } else {
                try {
                    verdict = check_connection(fd, peer);
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
        int fl = fcntl(listen_fd, F_GETFL);
        bool nonblocking = fl >= 0 && (fl & O_NONBLOCK) != 0;
        // Non-blocking: drain refused connections until an allowed one or the
        // queue is empty, then "try again": an edge-triggered event loop that
        // stops at EAGAIN never misses a pending allowed client.
        if (nonblocking && ++refused >= kMaxRefusedPerCall) {
            errno = EAGAIN;
            return -1;
        }
        // Blocking: wait for the next connection, as if the refused one had
        // never arrived.
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
