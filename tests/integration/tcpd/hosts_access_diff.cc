// SPDX-License-Identifier: BSD-3-Clause
// Differential test of the hosts_access engine against the real libwrap
// (Debian's libwrap0): generated hosts.allow / hosts.deny pairs (plus /path
// pattern files), thousands of (daemon, client address, client name, user,
// server) requests, asked of both. No DNS: every name is given, as
// libwrap's RQ_CLIENT_NAME, and netgroups are left out (innetgr may ask NIS).
//
// On files our compiler accepts (no error diagnostics), every decision must
// be libwrap's. On files it rejects, libwrap's own behaviour is partly a bug
// (it skips a rule without ':' and ignores a bad net/mask even in
// hosts.deny): there we require only that we are never more permissive.
//
// libwrap is not thread-safe (globals, strtok, setjmp): this test calls it
// from one thread only. dry_run is set before every call so that `spawn`
// and `twist` are not executed.
//
// Usage: hosts_access_diff [--pairs N] [--requests N] [--seed N] [--dir DIR] [-v]
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

extern "C" {
#include <tcpd.h>
extern int dry_run;
extern int hosts_access_verbose;
}

#include "tcpd_shim/hosts_access.h"

namespace tcpd = ringfence::tcpd;
using ringfence::core::IpAddress;

namespace {

std::mt19937_64 rng;

size_t pick(size_t n) { return static_cast<size_t>(rng() % n); }
bool chance(int percent) { return static_cast<int>(pick(100)) < percent; }
template <typename T>
const T& one_of(const std::vector<T>& v) {
    return v[pick(v.size())];
}

std::string random_case(const std::string& s) {
    if (!chance(15)) {
        return s;
    }
    std::string out = s;
    for (char& c : out) {
        if (chance(50)) {
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
    }
    return out;
}

const std::vector<std::string> kDaemons = {"sshd", "vsftpd", "in.telnetd", "vmware-authd", "vmware-hostd", "portmap"};
const std::vector<std::string> kAddrs = {"10.0.0.1",     "10.0.0.2",      "10.0.1.5",        "10.1.2.3",
                                         "192.168.1.10", "192.168.1.200", "172.16.5.4",      "127.0.0.1",
                                         "::1",          "2001:db8::1",   "2001:db8:1::5",   "fe80::1",
                                         "::ffff:10.0.0.1", "::ffff:192.168.1.10", "2001:db8::10", "8.8.8.8",
                                         ""};  // "" = address unknown
const std::vector<std::string> kNames = {"",      "unknown",           "paranoid",         "host1.example.com",
                                         "HOST2.Example.COM", "ws1.lab.example.org", "localhost", "gw",
                                         "10.0.0.5.evil.org", "printer",   "host1.example.com.evil.org", "a.b",
                                         ".example.com", "::ffff:10.0.0.2", "::FFFF:192.168.1.10", "2001:db8::1",
                                         // longer than libwrap's 127-byte buffer: compared truncated
                                         std::string(120, 'x') + ".example.com", std::string(127, 'y') + "z"};
const std::vector<std::string> kUsers = {"", "root", "alice", "Bob", "unknown"};
const std::vector<std::string> kServerAddrs = {"", "10.0.0.254", "192.168.1.1", "::1"};
const std::vector<std::string> kServerNames = {"", "vmhost", "vmhost.example.com"};

const std::vector<std::string> kDaemonPatterns = {
    "sshd", "vsftpd", "in.telnetd", "vmware-authd", "vmware-hostd", "portmap", "ALL", "all", "vmware-*",
    "*d",   "ss?d",   ".telnetd",   "in.",          "KNOWN",        "22",      "sshd@10.0.0.254", "sshd@vmhost",
    "ALL@192.168.1.0/24", "vmware-authd@.example.com", "ALL@LOCAL", "ALL@[::1]", "nosuchd", "SSHD", "vmware-?ostd"};

const std::vector<std::string> kHostPatterns = {
    "10.0.0.1", "10.0.0.2", "192.168.1.10", "127.0.0.1", "8.8.8.8", "10.", "10.0.", "192.168.1.", "172.",
    "10.0.0.0/8", "10.0.0.0/255.0.0.0", "192.168.1.0/24", "192.168.1.128/25", "10.0.0.0/255.255.255.0",
    "10.0.1.5/32", "0.0.0.0/0.0.0.0", "172.16.0.0/12", "[2001:db8::]/32", "[::1]", "[2001:db8::1]", "[::]/0",
    "[2001:db8:1::]/48", "[fe80::]/10", "[::1]/128", ".example.com", ".10", ".1", ".lab.example.org", ".com",
    "host1.example.com", "localhost", "gw", "printer", "host1.", "host1.example.com.", "*.example.com",
    "10.0.0.?", "192.168.*", "h*t?.example.*", "*", "*.*", "ALL", "LOCAL", "KNOWN",
    "UNKNOWN", "PARANOID", "all", "Local", "unknown", "paranoid", "known", "*.org", "?w", "a.b", ".b", "a.",
    "10.0.0.1.", "*1", "HOST?.example.com", "ws1.lab.example.org"};

const std::vector<std::string> kUserPatterns = {"root", "alice", "bob", "ALL", "KNOWN", "b*", "?oot", "unknown"};

// Deliberately malformed tokens and lines: our compiler must reject them.
const std::vector<std::string> kBadHostPatterns = {"192.168.1.5/24", "10.0.0.0/0",    "10.0.0.0/33",
                                                   "10.0.0.0/255.255.255.255", "[::1", "10.0.0.0/abc",
                                                   "#", "@",       "[2001:db8::]/129", "foo/bar",
                                                   "::ffff:10.0.0.1", "2001:db8::*", "*:*", "[::1]*"};
// Patterns that only make sense against the unusual names above.
const std::vector<std::string> kOddPatterns = {"*.example.com", ".example.com", "10.0.0.2", "192.168.1.10",
                                               "y*", "*yz", "*yy", "[2001:db8::1]", "x*m", "*x.example.com"};

struct PatternFile {
    std::string path;
    std::string text;
};

class Generator {
public:
    explicit Generator(std::string dir) : dir_(std::move(dir)) {}

    std::string host_pattern(int depth) {
        if (depth < 2 && chance(3)) {
            return pattern_file(depth);
        }
        return random_case(chance(10) ? one_of(kOddPatterns) : one_of(kHostPatterns));
    }

    std::string pattern_file(int depth) {
        std::string path = dir_ + "/pf" + std::to_string(next_file_++);
        if (chance(10)) {
            return path + ".missing";
        }
        std::string text;
        size_t n = 1 + pick(4);
        for (size_t i = 0; i < n; ++i) {
            text += host_pattern(depth + 1);
            text += chance(50) ? "\n" : " ";
        }
        files_.push_back(PatternFile{path, text});
        return path;
    }

    std::string client_pattern() {
        if (chance(8)) {
            return random_case(one_of(kUserPatterns)) + "@" + host_pattern(0);
        }
        return host_pattern(0);
    }

    template <typename F>
    std::string list(F item, int max_items) {
        std::string out;
        int parts = chance(30) ? 2 + static_cast<int>(pick(2)) : 1;
        for (int p = 0; p < parts; ++p) {
            if (p > 0) {
                out += chance(85) ? " EXCEPT " : " except ";
            }
            int n = 1 + static_cast<int>(pick(static_cast<size_t>(max_items)));
            for (int i = 0; i < n; ++i) {
                if (i > 0) {
                    out += one_of(std::vector<std::string>{" ", ", ", ",", "\t", " ,  "});
                }
                out += item();
            }
        }
        return out;
    }

    std::string options() {
        std::vector<std::string> opts;
        size_t n = 1 + pick(3);
        for (size_t i = 0; i < n; ++i) {
            opts.push_back(one_of(std::vector<std::string>{
                "severity auth.info", "severity=warning", "severity local0.notice", "keepalive", "linger 5",
                "nice", "nice 5", "umask 022", "umask=027", "setenv FOO bar%d", "rfc931", "rfc931 3",
                "spawn /bin/echo %a %h", "banners /nonexistent/banners", "SEVERITY Info"}));
        }
        int end = static_cast<int>(pick(4));
        if (end == 0) {
            opts.push_back(chance(50) ? "allow" : "ALLOW");
        } else if (end == 1) {
            opts.push_back(chance(50) ? "deny" : "Deny");
        } else if (end == 2) {
            opts.push_back("twist /bin/echo refused %a");
        }
        std::string out;
        for (size_t i = 0; i < opts.size(); ++i) {
            out += (i == 0 ? "" : chance(50) ? " : " : ":") + opts[i];
        }
        return out;
    }

    std::string bad_line() {
        switch (pick(12)) {
            case 0:
                return "sshd 10.0.0.1";  // no ':'
            case 1:
                return one_of(kDaemonPatterns) + ": " + one_of(kBadHostPatterns);
            case 2:
                return "sshd: ::1";  // unbracketed IPv6
            case 3:
                return one_of(kDaemonPatterns) + ": " + client_pattern() + " # a comment";
            case 4:
                return one_of(kDaemonPatterns) + ": " + client_pattern() + ":";
            case 5:
                return one_of(kDaemonPatterns) + ": " + client_pattern() + ": allow # ok";
            case 6:
                return one_of(kDaemonPatterns) + ": " + client_pattern() + ": severity bogus";
            case 7:
                return one_of(kDaemonPatterns) + ": " + client_pattern() + ": umask 999";
            case 8:
                return one_of(kDaemonPatterns) + ": " + client_pattern() + ": frobnicate";
            case 9:
                return one_of(kDaemonPatterns) + ": ";
            case 10:
                return one_of(kDaemonPatterns) + ": " + client_pattern() + " EXCEPT";
            default:
                return one_of(kDaemonPatterns) + ": " + client_pattern() + ": allow : spawn x";
        }
    }

    // One hosts file; `bad` allows malformed lines.
    std::string hosts_file(bool bad) {
        std::string out;
        size_t n = pick(7);
        std::string eol = chance(10) ? "\r\n" : "\n";
        for (size_t i = 0; i < n; ++i) {
            if (chance(8)) {
                out += "# comment " + std::to_string(i) + eol;
            }
            if (chance(5)) {
                out += "   " + eol;
            }
            std::string line;
            if (bad && chance(25)) {
                line = bad_line();
            } else {
                line = list([&] { return random_case(one_of(kDaemonPatterns)); }, 2) + (chance(50) ? ": " : " : ") +
                       list([&] { return client_pattern(); }, 3);
                if (chance(25)) {
                    line += (chance(50) ? ": " : " : ") + options();
                }
            }
            if (chance(3)) {
                // Around libwrap's 2048-byte line buffer: 2046 bytes + '\n' is the longest rule.
                size_t target = 2030 + pick(30);
                line = one_of(kDaemonPatterns) + ": " + client_pattern();
                while (line.size() < target) {
                    line += line.size() + 9 < target ? " 10.9.9.9" : " 9";
                }
                if (chance(30)) {
                    line = line.substr(0, 1000) + "\\" + eol + line.substr(1000);
                }
            } else if (chance(8)) {
                size_t sp = line.find(' ');
                if (sp != std::string::npos) {
                    line = line.substr(0, sp) + " \\" + eol + "   " + line.substr(sp + 1);
                }
            }
            out += line + eol;
        }
        if (bad && chance(15) && !out.empty()) {
            out.pop_back();  // missing final newline
            if (!out.empty() && out.back() == '\r') {
                out.pop_back();
            }
        }
        return out;
    }

    std::vector<PatternFile> take_files() {
        std::vector<PatternFile> f;
        f.swap(files_);
        return f;
    }

private:
    std::string dir_;
    std::vector<PatternFile> files_;
    int next_file_ = 0;
};

void write_file(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << text;
}

struct Req {
    std::string daemon, addr, name, user, server_addr, server_name;
};

Req random_request() {
    Req r;
    r.daemon = chance(5) ? "SSHD" : one_of(kDaemons);
    r.addr = one_of(kAddrs);
    r.name = one_of(kNames);
    r.user = one_of(kUsers);
    r.server_addr = one_of(kServerAddrs);
    r.server_name = one_of(kServerNames);
    return r;
}

bool libwrap_decide(const Req& q) {
    struct request_info ri;
    request_init(&ri, RQ_DAEMON, q.daemon.c_str(), RQ_CLIENT_ADDR, q.addr.c_str(), RQ_CLIENT_NAME, q.name.c_str(),
                 RQ_USER, q.user.c_str(), RQ_SERVER_ADDR, q.server_addr.c_str(), RQ_SERVER_NAME,
                 q.server_name.c_str(), 0);
    dry_run = 1;
    return hosts_access(&ri) != 0;
}

// Decisions where Policy::evaluate() (the fast index) and
// Policy::evaluate_reference() differ in verdict, reason or deciding rule.
long g_index_disagreements = 0;
// Decisions where Policy::load_and_decide() (one pass over the files, as
// ringfence-tcpd and ringfence-tcpdmatch decide) differs from the reference
// evaluator on the whole policy, or reports other diagnostics.
long g_once_disagreements = 0;
// Of those, decisions made again on checked stamps (the second
// load_and_decide() of the same files, which the first one stamped).
long g_stamped_decisions = 0;

std::string joined(const ringfence::core::Diagnostics& diags) {
    std::string out;
    for (const auto& d : diags) {
        out += d.one_line() + "\n";
    }
    return out;
}

struct Files {
    std::string allow, deny;
    std::string diags;  // what Policy::load() reported
};

tcpd::Decision ours_decide(const tcpd::Policy& policy, const Files& files, const Req& q) {
    tcpd::Request r;
    r.daemon = q.daemon;
    r.client.address = IpAddress::parse(q.addr);
    r.client.name = q.name;
    r.user = q.user;
    if (!q.server_addr.empty()) {
        r.server.address = IpAddress::parse(q.server_addr);
    }
    r.server.name = q.server_name;
    tcpd::Lookups none;
    tcpd::Decision fast = policy.evaluate(r, none);
    tcpd::Decision reference = policy.evaluate_reference(r, none);
    if (!(fast == reference)) {
        ++g_index_disagreements;
        std::printf("INDEX DISAGREES: the fast index says '%s', the reference evaluator '%s'\n",
                    fast.explanation().c_str(), reference.explanation().c_str());
    }
    ringfence::core::Diagnostics diags;
    tcpd::Decision once;
    auto one_pass = tcpd::Policy::load_and_decide(files.allow, files.deny, &diags, r, none, &once);
    if (!once.same_as(reference) || one_pass->valid() != policy.valid() || joined(diags) != files.diags) {
        ++g_once_disagreements;
        std::printf("ONE PASS DISAGREES: load_and_decide() says '%s' (valid %d), the reference evaluator '%s' "
                    "(valid %d)\n%s---\n%s",
                    once.explanation().c_str(), one_pass->valid(), reference.explanation().c_str(), policy.valid(),
                    joined(diags).c_str(), files.diags.c_str());
    }
    // Again: the first call stamped the files it found clean (when root), so
    // this one may decide on the stamps, compiling only what can decide.
    ringfence::core::Diagnostics again_diags;
    tcpd::Decision again;
    auto second = tcpd::Policy::load_and_decide(files.allow, files.deny, &again_diags, r, none, &again);
    g_stamped_decisions += second->decided_on_stamps();
    if (!again.same_as(reference) || second->valid() != policy.valid() ||
        (!second->decided_on_stamps() && joined(again_diags) != files.diags)) {
        ++g_once_disagreements;
        std::printf("SECOND PASS DISAGREES (on stamps: %d): load_and_decide() says '%s', the reference evaluator "
                    "'%s'\n",
                    second->decided_on_stamps(), again.explanation().c_str(), reference.explanation().c_str());
    }
    return fast;
}

std::string show(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '\n') {
            out += "\\n\n        ";
        } else if (c == '\r') {
            out += "\\r";
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    int pairs = 1000;
    int requests = 40;
    unsigned long long seed = 20261101;
    std::string dir;
    bool verbose = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--pairs" && i + 1 < argc) {
            pairs = std::atoi(argv[++i]);
        } else if (a == "--requests" && i + 1 < argc) {
            requests = std::atoi(argv[++i]);
        } else if (a == "--seed" && i + 1 < argc) {
            seed = std::strtoull(argv[++i], nullptr, 10);
        } else if (a == "--dir" && i + 1 < argc) {
            dir = argv[++i];
        } else if (a == "-v") {
            verbose = true;
        } else {
            std::fprintf(stderr, "usage: %s [--pairs N] [--requests N] [--seed N] [--dir DIR] [-v]\n", argv[0]);
            return 2;
        }
    }
    if (const char* env = std::getenv("RINGFENCE_DIFF_SEED")) {
        seed = std::strcmp(env, "random") == 0 ? std::random_device()() : std::strtoull(env, nullptr, 10);
    }
    rng.seed(seed);
    umask(022);
    if (dir.empty()) {
        char tmpl[] = "/tmp/rf-hosts-diff.XXXXXX";
        if (mkdtemp(tmpl) == nullptr) {
            std::perror("mkdtemp");
            return 2;
        }
        dir = tmpl;
    }
    // Checked stamps of this run's files, never the host's.
    std::string stamps = dir + "/checked";
    ::mkdir(stamps.c_str(), 0755);
    ::setenv("RINGFENCE_CHECKED_DIR", stamps.c_str(), 1);
    std::string allow_path = dir + "/hosts.allow";
    std::string deny_path = dir + "/hosts.deny";
    hosts_allow_table = const_cast<char*>(allow_path.c_str());
    hosts_deny_table = const_cast<char*>(deny_path.c_str());
    hosts_access_verbose = 0;

    Generator gen(dir);
    long files = 0, decisions = 0, valid_decisions = 0, invalid_pairs = 0, disagreements = 0, shown = 0;
    long granted = 0;
    for (int p = 0; p < pairs; ++p) {
        bool bad = p % 4 == 3;  // every fourth pair may hold malformed lines
        std::string allow_text = gen.hosts_file(bad);
        std::string deny_text = chance(70) ? gen.hosts_file(bad) : "ALL: ALL\n";
        std::vector<PatternFile> pfs = gen.take_files();
        ::unlink(allow_path.c_str());
        ::unlink(deny_path.c_str());
        if (!chance(3)) {
            write_file(allow_path, allow_text);
            ++files;
        }
        if (!chance(3)) {
            write_file(deny_path, deny_text);
            ++files;
        }
        for (const PatternFile& pf : pfs) {
            write_file(pf.path, pf.text);
            ++files;
        }
        ringfence::core::Diagnostics diags;
        auto policy = tcpd::Policy::load(allow_path, deny_path, &diags);
        if (!policy->valid()) {
            ++invalid_pairs;
            if (verbose) {
                for (const auto& dg : diags) {
                    if (dg.severity == ringfence::core::Severity::error) {
                        std::printf("%s pair %d: %s\n", bad ? "bad " : "GOOD", p, dg.one_line().c_str());
                    }
                }
            }
        }
        for (int i = 0; i < requests; ++i) {
            Req q = random_request();
            bool theirs = libwrap_decide(q);
            tcpd::Decision d = ours_decide(*policy, Files{allow_path, deny_path, joined(diags)}, q);
            bool ours = d.verdict == tcpd::Verdict::allow;
            ++decisions;
            granted += theirs;
            bool ok = policy->valid() ? ours == theirs : (!ours || theirs);
            if (policy->valid()) {
                ++valid_decisions;
            }
            if (!ok) {
                ++disagreements;
                if (shown++ < 5 || verbose) {
                    std::printf("DISAGREE (pair %d, seed %llu): libwrap %s, ringfence %s: %s\n", p, seed,
                                theirs ? "grants" : "refuses", ours ? "grants" : "refuses", d.explanation().c_str());
                    std::printf("  request: daemon=%s addr=%s name=%s user=%s server=%s/%s\n", q.daemon.c_str(),
                                q.addr.c_str(), q.name.c_str(), q.user.c_str(), q.server_addr.c_str(),
                                q.server_name.c_str());
                    std::printf("  hosts.allow:\n        %s\n  hosts.deny:\n        %s\n", show(allow_text).c_str(),
                                show(deny_text).c_str());
                    for (const PatternFile& pf : pfs) {
                        std::printf("  %s:\n        %s\n", pf.path.c_str(), show(pf.text).c_str());
                    }
                    for (const auto& dg : diags) {
                        std::printf("  diag: %s\n", dg.one_line().c_str());
                    }
                }
            }
        }
        for (const PatternFile& pf : pfs) {
            ::unlink(pf.path.c_str());
        }
    }
    ::unlink(allow_path.c_str());
    ::unlink(deny_path.c_str());
    if (DIR* d = ::opendir(stamps.c_str())) {
        while (dirent* e = ::readdir(d)) {
            if (e->d_name[0] != '.') {
                ::unlinkat(::dirfd(d), e->d_name, 0);
            }
        }
        ::closedir(d);
    }
    ::rmdir(stamps.c_str());
    ::rmdir(dir.c_str());
    std::printf("%ld decisions made again on checked stamps\n", g_stamped_decisions);
    if (::geteuid() == 0 && g_stamped_decisions == 0) {
        std::printf("no decision was made on checked stamps: the stamped path went untested\n");
        return 1;
    }
    if (g_index_disagreements != 0) {
        std::printf("%ld decisions where the fast index and the reference evaluator DISAGREE (seed %llu)\n",
                    g_index_disagreements, seed);
        return 1;
    }
    if (g_once_disagreements != 0) {
        std::printf("%ld decisions where the one-pass decision and the reference evaluator DISAGREE (seed %llu)\n",
                    g_once_disagreements, seed);
        return 1;
    }
    if (disagreements != 0) {
        std::printf("%ld files, %ld decisions, %ld DISAGREE (seed %llu)\n", files, decisions, disagreements, seed);
        return 1;
    }
    std::printf("%ld files, %ld decisions, all agree (%d hosts.allow/hosts.deny pairs, %ld pairs rejected by our "
                "compiler where we were never more permissive, %ld decisions on accepted pairs identical, "
                "%ld granted by libwrap; fast index and reference evaluator identical on every decision; seed %llu)\n",
                files, decisions, pairs, invalid_pairs, valid_decisions, granted, seed);
    return 0;
}
