// SPDX-License-Identifier: BSD-3-Clause
// ringfence-tcpd: a drop-in for tcpd(8) under inetd, xinetd or systemd
// socket units with Accept=yes. The connection is on fd 0; the daemon name
// is basename(argv[0]); the real daemon is argv[0] when it is absolute, else
// REAL_DAEMON_DIR/argv[0]. The hosts_access rules decide; the decision is
// logged to syslog in tcpd's format (plus the deciding file:line on a
// refusal); the rule's options run; then the real daemon is exec'd with the
// socket still on fds 0-2, or the connection is closed.
//
// Options run in tcpd mode: severity, banners, setenv, umask, nice, user,
// group, keepalive, linger, spawn, twist (allow and deny decide). rfc931 is
// accepted and ignored (no ident lookups). An option that fails refuses the
// connection: never run the daemon half-configured.
//
// spawn and twist are the only places a shell runs (/bin/sh -c, as libwrap).
// Their %-expansions are limited to %a %A %c %d %h %H %n %N %p %r %R %s %u
// %% and every byte of an expanded value outside [A-Za-z0-9.:_@-] becomes
// '_', so a client-controlled name (reverse DNS) cannot inject shell syntax.
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/diagnostic.h"
#include "core/exit_status.h"
#include "core/paths.h"
#include "core/program.h"
#include "core/identity.h"
#include "core/name_service.h"
#include "core/socket_address.h"
#include "tcpd_shim/hosts_access.h"
#include "tcpd_shim/hosts_explain.h"
#include "tcpd_shim/system_reverse.h"

#ifndef RINGFENCE_REAL_DAEMON_DIR
#define RINGFENCE_REAL_DAEMON_DIR "/usr/sbin"
#endif
#ifndef RINGFENCE_TCPD_FACILITY
#define RINGFENCE_TCPD_FACILITY LOG_DAEMON
#endif

namespace {

namespace tcpd = ringfence::tcpd;
using ringfence::core::IpAddress;
using ringfence::core::escape_for_log;

constexpr const char* kHostsAllow = ringfence::core::kHostsAllow;
constexpr const char* kHostsDeny = ringfence::core::kHostsDeny;
constexpr size_t kMaxBanner = 64 * 1024;

// Each name is looked up at most once per connection, whoever asks
// (the rules, the log line, the %-expansions).
class CachingReverse final : public tcpd::ReverseNameService {
public:
    explicit CachingReverse(tcpd::ReverseNameService& inner) : inner_(inner) {}
    std::optional<std::string> reverse(const IpAddress& a) override {
        std::string key = a.to_string();
        auto it = cache_.find(key);
        if (it == cache_.end()) {
            it = cache_.emplace(key, inner_.reverse(a)).first;
        }
        return it->second;
    }
    bool asked(const IpAddress& a) const { return cache_.count(a.to_string()) != 0; }

private:
    tcpd::ReverseNameService& inner_;
    std::map<std::string, std::optional<std::string>> cache_;
};

class CachingForward final : public ringfence::core::NameService {
public:
    explicit CachingForward(ringfence::core::NameService& inner) : inner_(inner) {}
    std::vector<IpAddress> resolve(const std::string& host) override {
        auto it = cache_.find(host);
        if (it == cache_.end()) {
            it = cache_.emplace(host, inner_.resolve(host)).first;
        }
        return it->second;
    }

private:
    ringfence::core::NameService& inner_;
    std::map<std::string, std::vector<IpAddress>> cache_;
};

struct Side {
    std::optional<IpAddress> address;
    std::optional<uint16_t> port;
};

Side side_of(const sockaddr_storage& ss) {
    const auto* sa = reinterpret_cast<const sockaddr*>(&ss);
    return Side{ringfence::core::address_of(sa), ringfence::core::port_of(sa)};
}

struct Connection {
    std::string daemon;  // basename(argv[0])
    Side client, server;
    bool udp = false;
    tcpd::Decision decision;
    tcpd::Request request;
    CachingReverse* reverse = nullptr;
    CachingForward* forward = nullptr;

    std::string addr(const Side& s) const { return s.address ? s.address->unmapped().to_string() : "unknown"; }
    // libwrap's eval_hostname(): the verified name, "unknown" or "paranoid".
    std::string name(const Side& s) const {
        if (!s.address) {
            return std::string(tcpd::kUnknown);
        }
        return tcpd::verified_host_name(*s.address, *reverse, *forward);
    }
    // libwrap's eval_hostinfo(): the name if it is known, else the address.
    std::string info(const Side& s, bool lookup) const {
        if (s.address && (lookup || reverse->asked(*s.address))) {
            std::string n = name(s);
            if (n != tcpd::kUnknown && n != tcpd::kParanoid) {
                return n;
            }
        }
        return addr(s);
    }
};

// %-expansion for banners, setenv, spawn and twist (see the file comment).
std::string expand(const std::string& text, const Connection& c) {
    auto safe = [](std::string v) {
        for (char& ch : v) {
            bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                      ch == '.' || ch == ':' || ch == '_' || ch == '@' || ch == '-';
            if (!ok) {
                ch = '_';
            }
        }
        return v;
    };
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%' || i + 1 == text.size()) {
            out.push_back(text[i]);
            continue;
        }
        char k = text[++i];
        std::string v;
        switch (k) {
            case 'a': v = c.addr(c.client); break;
            case 'A': v = c.addr(c.server); break;
            case 'c': v = c.info(c.client, true); break;  // no ident: the user is never known
            case 'd': v = c.daemon; break;
            case 'h': v = c.info(c.client, true); break;
            case 'H': v = c.info(c.server, true); break;
            case 'n': v = c.name(c.client); break;
            case 'N': v = c.name(c.server); break;
            case 'p': v = std::to_string(getpid()); break;
            case 'r': v = c.client.port ? std::to_string(*c.client.port) : "unknown"; break;
            case 'R': v = c.server.port ? std::to_string(*c.server.port) : "unknown"; break;
            case 's': v = c.daemon + "@" + c.info(c.server, false); break;
            case 'u': v = std::string(tcpd::kUnknown); break;
            case '%': out.push_back('%'); continue;
            default: continue;  // unknown: expands to nothing (tcpdchk warns)
        }
        out += safe(v);
    }
    return out;
}

int run_shell(const std::string& command, bool on_socket) {
    pid_t pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        if (!on_socket) {
            int null = open("/dev/null", O_RDWR);
            if (null < 0) {
                _exit(127);
            }
            dup2(null, 0);
            dup2(null, 1);
            dup2(null, 2);
            if (null > 2) {
                close(null);
            }
        }
        execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    return 0;
}

void show_banner(const std::string& dir, const Connection& c) {
    std::string path = dir + "/" + c.daemon;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        return;  // as libwrap: no banner file, no banner
    }
    std::string text;
    char buf[4096];
    ssize_t n;
    while (text.size() < kMaxBanner && (n = read(fd, buf, sizeof buf)) > 0) {
        text.append(buf, static_cast<size_t>(n));
    }
    close(fd);
    std::string out;
    size_t start = 0;
    while (start < text.size()) {
        size_t nl = text.find('\n', start);
        std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
        out += expand(line, c);
        if (nl == std::string::npos) {
            break;
        }
        out += "\r\n";
        start = nl + 1;
    }
    const char* p = out.data();
    size_t left = out.size();
    while (left > 0) {
        ssize_t w = write(0, p, left);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            break;  // the client went away: nothing more to say
        }
        p += w;
        left -= static_cast<size_t>(w);
    }
}

// Runs one option; returns "" or why it failed.
std::string run_option(const tcpd::Option& o, const Connection& c) {
    switch (o.kind) {
        case tcpd::Option::Kind::allow:
        case tcpd::Option::Kind::deny:
        case tcpd::Option::Kind::severity:  // read before logging
        case tcpd::Option::Kind::rfc931:    // no ident lookups: the user stays unknown
        case tcpd::Option::Kind::twist:     // run by the caller, last
            return "";
        case tcpd::Option::Kind::banners:
            show_banner(o.value, c);
            return "";
        case tcpd::Option::Kind::setenv:
            if (o.name.empty() || setenv(o.name.c_str(), expand(o.argument, c).c_str(), 1) != 0) {
                return std::string("setenv: ") + std::strerror(errno);
            }
            return "";
        case tcpd::Option::Kind::umask:
            umask(static_cast<mode_t>(o.number));
            return "";
        case tcpd::Option::Kind::nice:
            errno = 0;
            if (nice(o.number) == -1 && errno != 0) {
                return std::string("nice: ") + std::strerror(errno);
            }
            return "";
        case tcpd::Option::Kind::keepalive: {
            int on = 1;
            if (setsockopt(0, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) != 0) {
                return std::string("keepalive: ") + std::strerror(errno);
            }
            return "";
        }
        case tcpd::Option::Kind::linger: {
            struct linger l {};
            l.l_onoff = o.number != 0;
            l.l_linger = o.number;
            if (setsockopt(0, SOL_SOCKET, SO_LINGER, &l, sizeof l) != 0) {
                return std::string("linger: ") + std::strerror(errno);
            }
            return "";
        }
        case tcpd::Option::Kind::group: {
            struct group* gr = getgrnam(o.name.c_str());
            if (gr == nullptr) {
                return "unknown group '" + escape_for_log(o.name, 40) + "'";
            }
            if (setgid(gr->gr_gid) != 0) {
                return std::string("setgid: ") + std::strerror(errno);
            }
            return "";
        }
        case tcpd::Option::Kind::user: {
            struct passwd* pw = getpwnam(o.name.c_str());
            if (pw == nullptr) {
                return "unknown user '" + escape_for_log(o.name, 40) + "'";
            }
            uid_t uid = pw->pw_uid;
            gid_t gid = pw->pw_gid;
            std::string user = pw->pw_name;
            if (!o.argument.empty()) {
                struct group* gr = getgrnam(o.argument.c_str());
                if (gr == nullptr) {
                    return "unknown group '" + escape_for_log(o.argument, 40) + "'";
                }
                gid = gr->gr_gid;
            }
            if (setgid(gid) != 0) {
                return std::string("setgid: ") + std::strerror(errno);
            }
            if (initgroups(user.c_str(), gid) != 0) {
                return std::string("initgroups: ") + std::strerror(errno);
            }
            if (setuid(uid) != 0) {
                return std::string("setuid: ") + std::strerror(errno);
            }
            return "";
        }
        case tcpd::Option::Kind::spawn:
            if (run_shell(expand(o.value, c), false) != 0) {
                return std::string("spawn: ") + std::strerror(errno);
            }
            return "";
    }
    return "unsupported option";
}

[[noreturn]] void finish_refusal(const Connection& c) {
    if (c.udp) {
        char buf[1];
        (void)recv(0, buf, sizeof buf, MSG_DONTWAIT);  // eat the datagram, or inetd calls us again
    }
    _exit(ringfence::core::kExitOk);  // a refusal is not an error, as in tcpd
}

void log_at(int severity, const std::string& msg) { syslog(severity, "%s", msg.c_str()); }

}  // namespace

int main(int argc, char** argv) {
    std::string arg0 = argc >= 1 && argv[0] != nullptr ? argv[0] : "";
    std::string base = arg0.substr(arg0.rfind('/') == std::string::npos ? 0 : arg0.rfind('/') + 1);
    std::string path = !arg0.empty() && arg0[0] == '/' ? arg0 : std::string(RINGFENCE_REAL_DAEMON_DIR) + "/" + arg0;
    if (base.empty() || base == "ringfence-tcpd" || base == "tcpd") {
        // Run by hand, not by inetd: the arguments are ours, not a daemon's.
        static const char kUsage[] =
            "usage: (from inetd or xinetd) ringfence-tcpd with argv[0] set to the real daemon, as tcpd:\n"
            "  xinetd: flags = NAMEINARGS, server = /usr/sbin/ringfence-tcpd,\n"
            "          server_args = /usr/sbin/DAEMON ARGS\n"
            "Checks the client on fd 0 against /etc/hosts.allow and /etc/hosts.deny, logs, and\n"
            "runs DAEMON when it is allowed. See ringfence-tcpd(8).\n";
        if (argc == 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
            std::fputs(kUsage, stdout);
            return ringfence::core::kExitOk;
        }
        if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
            ringfence::core::print_version("ringfence-tcpd");
            return ringfence::core::kExitOk;
        }
        return ringfence::core::usage_error("ringfence-tcpd",
                                            "run me with argv[0] set to the real daemon (xinetd: flags = "
                                            "NAMEINARGS, server_args = /usr/sbin/DAEMON ARGS)");
    }
    openlog(base.c_str(), LOG_PID, RINGFENCE_TCPD_FACILITY);

    Connection c;
    c.daemon = base;
    int type = 0;
    socklen_t tlen = sizeof type;
    if (getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0) {
        syslog(LOG_WARNING, "warning: cannot find the client: fd 0: %m");
    } else {
        sockaddr_storage peer{};
        socklen_t plen = sizeof peer;
        int rc;
        if (type == SOCK_DGRAM) {
            c.udp = true;
            char buf[1];
            rc = static_cast<int>(recvfrom(0, buf, sizeof buf, MSG_PEEK, reinterpret_cast<sockaddr*>(&peer), &plen));
        } else {
            rc = getpeername(0, reinterpret_cast<sockaddr*>(&peer), &plen);
        }
        if (rc < 0) {
            syslog(LOG_WARNING, "warning: cannot find the client address: %m");
        } else {
            c.client = side_of(peer);
        }
        sockaddr_storage local{};
        socklen_t llen = sizeof local;
        if (getsockname(0, reinterpret_cast<sockaddr*>(&local), &llen) == 0) {
            c.server = side_of(local);
        }
    }

    tcpd::SystemReverseNameService system_reverse;
    ringfence::core::SystemNameService system_forward;
    ringfence::core::SystemIdentity identity;
    CachingReverse reverse(system_reverse);
    CachingForward forward(system_forward);
    c.reverse = &reverse;
    c.forward = &forward;

    c.request.daemon = c.daemon;
    c.request.server_port = c.server.port;
    c.request.server.address = c.server.address;
    c.request.client.address = c.client.address;
    tcpd::Lookups lookups{&reverse, &forward, &identity};
    // One connection, one decision: compiled and decided in one pass (every
    // line is still checked; the errors are logged as before).
    ringfence::core::Diagnostics diags;
    auto policy = tcpd::Policy::load_and_decide(kHostsAllow, kHostsDeny, &diags, c.request, lookups, &c.decision);
    int shown = 0;
    for (const auto& diag : diags) {
        if (diag.severity == ringfence::core::Severity::error && shown++ < 3) {
            log_at(LOG_ERR, escape_for_log(diag.one_line(), 300));
        }
    }
    const tcpd::Decision& d = c.decision;
    bool grant = d.verdict == tcpd::Verdict::allow;

    std::vector<tcpd::Option> options;
    if (d.options() != nullptr) {
        options = *d.options();
    }
    int allow_severity = LOG_INFO;
    int deny_severity = LOG_WARNING;
    for (const tcpd::Option& o : options) {
        if (o.kind == tcpd::Option::Kind::severity) {
            allow_severity = deny_severity = (o.facility >= 0 ? o.facility : 0) | o.level;
        }
    }

    // Options run in order before the verdict is logged, as libwrap runs them.
    const tcpd::Option* twist = nullptr;
    for (const tcpd::Option& o : options) {
        if (o.kind == tcpd::Option::Kind::twist) {
            twist = &o;
            continue;
        }
        std::string err = run_option(o, c);
        if (!err.empty()) {
            log_at(LOG_WARNING, "refused connect from " + escape_for_log(c.info(c.client, false), 200) + " (" +
                                    c.addr(c.client) + ") by " + d.location() + ": option '" +
                                    tcpd::option_name(o.kind) + "' failed: " + err);
            finish_refusal(c);
        }
    }

    std::string who = escape_for_log(c.info(c.client, false), 200) + " (" + c.addr(c.client) + ")";
    if (!grant) {
        std::string why = d.location();
        if (d.reason == tcpd::Decision::Reason::broken_rule && d.rule != nullptr) {
            why += " (error: " + escape_for_log(d.rule->error, 200) + ")";
        } else {
            // Why, after the part admins grep for.
            why += ": " + escape_for_log(tcpd::decision_reason(d, c.request), 200);
        }
        log_at(deny_severity, "refused connect from " + who + " by " + why);
    } else {
        log_at(allow_severity, "connect from " + who);
    }

    if (twist != nullptr) {
        std::string cmd = expand(twist->value, c);
        log_at(grant ? allow_severity : deny_severity,
               "twist " + who + " to " + escape_for_log(cmd, 200));
        dup2(0, 1);
        dup2(0, 2);
        execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
        syslog(LOG_ERR, "error: twist: cannot execute /bin/sh: %m");
        finish_refusal(c);
    }
    if (!grant) {
        finish_refusal(c);
    }

    std::vector<char*> args(argv, argv + argc);
    args[0] = const_cast<char*>(base.c_str());
    args.push_back(nullptr);
    closelog();
    execv(path.c_str(), args.data());
    openlog(base.c_str(), LOG_PID, RINGFENCE_TCPD_FACILITY);
    syslog(LOG_ERR, "error: cannot execute %s: %m", escape_for_log(path, 200).c_str());
    return ringfence::core::kExitInvalid;  // 1, as tcpd: the real daemon could not be executed
}
