// SPDX-License-Identifier: BSD-3-Clause
// Unit tests of the hosts_access engine (tcpd_shim/hosts_access.h), with fake
// resolvers, a fake identity and in-memory pattern files: the linear
// wildcard matcher against a recursive oracle, a decision table over the
// pattern language's corners, malformed rules (diagnostics and fail-closed
// decisions), option parsing, and when names are looked up.
#include <syslog.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "../unit_test.h"
#include "fakes/fake_identity.h"
#include "core/identity.h"
#include "core/name_service.h"
#include "tcpd_shim/hosts_access.h"
#include "tcpd_shim/hosts_explain.h"
#include "tcpd_shim/hosts_lint.h"

namespace tcpd = ringfence::tcpd;
using ringfence::core::Diagnostics;
using ringfence::core::IpAddress;
using tcpd::Decision;
using tcpd::Verdict;

namespace {

constexpr Verdict A = Verdict::allow;
constexpr Verdict D = Verdict::deny;

// ---------------------------------------------------------------------------
// Fakes

class FakeReverse final : public tcpd::ReverseNameService {
public:
    std::map<std::string, std::string> ptr;  // address text -> name
    int calls = 0;
    std::optional<std::string> reverse(const IpAddress& a) override {
        ++calls;
        auto it = ptr.find(a.to_string());
        if (it == ptr.end()) {
            return std::nullopt;
        }
        return it->second;
    }
};

using fakes::FakeIdentity;
using FakeForward = fakes::FakeNameService;

std::map<std::string, std::string> g_pattern_files;

tcpd::CompileOptions fake_files() {
    tcpd::CompileOptions o;
    o.read_pattern_file = [](const std::string& path) {
        ringfence::core::ReadResult r;
        auto it = g_pattern_files.find(path);
        if (it == g_pattern_files.end()) {
            r.status = ringfence::core::ReadStatus::missing;
            return r;
        }
        if (it->second == "<unreadable>") {
            r.status = ringfence::core::ReadStatus::error;
            r.error.file = path;
            r.error.message = "cannot open: Permission denied";
            return r;
        }
        r.status = ringfence::core::ReadStatus::ok;
        r.text.path = path;
        r.text.lines = unit::split_lines(it->second);
        return r;
    };
    return o;
}

std::string join(const Diagnostics& diags);

// What each policy of these tests was compiled from, so that every decision
// can be made again by Policy::compile_and_decide() (one pass over the same
// text) and compared.
struct Sources {
    tcpd::HostsFile allow, deny;
    std::string diags;  // what compile() reported
};
std::map<const tcpd::Policy*, Sources> g_sources;

std::shared_ptr<const tcpd::Policy> compile_files(const tcpd::HostsFile& allow, const tcpd::HostsFile& deny,
                                                  Diagnostics* diags) {
    size_t before = diags->size();
    auto p = tcpd::Policy::compile(allow, deny, fake_files(), diags);
    g_sources[p.get()] = Sources{allow, deny, join(Diagnostics(diags->begin() + static_cast<long>(before), diags->end()))};
    return p;
}

std::shared_ptr<const tcpd::Policy> compile(const std::string& allow, const std::string& deny, Diagnostics* diags) {
    return compile_files(tcpd::hosts_file_from_text("hosts.allow", allow), tcpd::hosts_file_from_text("hosts.deny", deny),
                         diags);
}

std::string join(const Diagnostics& diags) {
    std::string out;
    for (const auto& d : diags) {
        out += d.one_line() + "; ";
    }
    return out;
}

// "addr|name|user" with "-" = not given; the name is given as is.
tcpd::Request request(const std::string& daemon, const std::string& addr, const std::string& name,
                      const std::string& user = "-") {
    tcpd::Request r;
    r.daemon = daemon;
    if (addr != "-") {
        r.client.address = IpAddress::parse(addr);
        if (!r.client.address) {
            print_error("bad test address %s\n", addr.c_str());
            fail();
        }
    }
    if (name != "-") {
        r.client.name = name;
    }
    if (user != "-") {
        r.user = user;
    }
    return r;
}

// ---------------------------------------------------------------------------
// Both evaluators

// Answers each question once and replays it, so that the two evaluations of
// one request see the same answers and the fakes count the lookups of one.
class MemoReverse final : public tcpd::ReverseNameService {
public:
    explicit MemoReverse(tcpd::ReverseNameService* real) : real_(real) {}
    std::optional<std::string> reverse(const IpAddress& a) override {
        auto it = memo_.find(a.to_string());
        if (it == memo_.end()) {
            it = memo_.emplace(a.to_string(), real_->reverse(a)).first;
        }
        return it->second;
    }

private:
    tcpd::ReverseNameService* real_;
    std::map<std::string, std::optional<std::string>> memo_;
};

class MemoForward final : public ringfence::core::NameService {
public:
    explicit MemoForward(ringfence::core::NameService* real) : real_(real) {}
    std::vector<IpAddress> resolve(const std::string& host) override {
        auto it = memo_.find(host);
        if (it == memo_.end()) {
            it = memo_.emplace(host, real_->resolve(host)).first;
        }
        return it->second;
    }

private:
    ringfence::core::NameService* real_;
    std::map<std::string, std::vector<IpAddress>> memo_;
};

// Every decision of these tests goes through both Policy::evaluate() (the
// fast index) and Policy::evaluate_reference(), which must agree on the
// verdict, the reason, the deciding rule and patterns; so must explain().
Decision evaluate(const tcpd::Policy& p, const tcpd::Request& r, const tcpd::Lookups& lk) {
    std::optional<MemoReverse> rev;
    std::optional<MemoForward> fwd;
    tcpd::Lookups memo = lk;
    if (lk.reverse != nullptr) {
        memo.reverse = &rev.emplace(lk.reverse);
    }
    if (lk.forward != nullptr) {
        memo.forward = &fwd.emplace(lk.forward);
    }
    Decision fast = p.evaluate(r, memo);
    Decision reference = p.evaluate_reference(r, memo);
    CHECK(fast == reference,
          "the fast index says '" + fast.explanation() + "', the reference evaluator '" +
              reference.explanation() + "'");
    Decision explained = tcpd::explain(p, r, memo).decision;
    CHECK(explained == reference,
          "explain() says '" + explained.explanation() + "', the reference evaluator '" +
              reference.explanation() + "'");
    auto src = g_sources.find(&p);
    CHECK(src != g_sources.end(), "every policy of these tests is made by compile_files()");
    if (src != g_sources.end()) {
        Diagnostics diags;
        Decision once;
        auto q = tcpd::Policy::compile_and_decide(src->second.allow, src->second.deny, fake_files(), &diags, r, memo,
                                                  &once);
        CHECK(once.same_as(reference), "compile_and_decide() says '" + once.explanation() +
                                           "', the reference evaluator '" + reference.explanation() + "'");
        CHECK(q->valid() == p.valid() && join(diags) == src->second.diags,
              "compile_and_decide() reports " + join(diags) + " where compile() reports " + src->second.diags);
        if (p.valid()) {
            // As on checked stamps: only the lines that can decide are compiled.
            Diagnostics checked_diags;
            Decision checked;
            auto kept = tcpd::Policy::compile_and_decide(src->second.allow, src->second.deny, fake_files(), &checked_diags, r,
                                             memo, &checked, true);
            CHECK(checked.same_as(reference), "compile_and_decide(checked) says '" + checked.explanation() +
                                                  "', the reference evaluator '" + reference.explanation() + "'");
        }
    }
    return fast;
}

// ---------------------------------------------------------------------------
// Wildcards

// The recursive matcher libwrap uses (match_pattern_ylo), as the oracle.
bool oracle(const char* s, const char* p) {
    for (;;) {
        if (*p == 0) {
            return *s == 0;
        }
        if (*p == '*') {
            ++p;
            if (*p == 0) {
                return true;
            }
            for (; *s; ++s) {
                if (oracle(s, p)) {
                    return true;
                }
            }
            return false;
        }
        if (*s == 0) {
            return false;
        }
        if (*p != '?' && std::toupper(static_cast<unsigned char>(*p)) != std::toupper(static_cast<unsigned char>(*s))) {
            return false;
        }
        ++s;
        ++p;
    }
}

void all_strings(const std::string& alphabet, size_t max_len, std::vector<std::string>* out) {
    std::vector<std::string> layer{""};
    out->push_back("");
    for (size_t len = 1; len <= max_len; ++len) {
        std::vector<std::string> next;
        for (const std::string& s : layer) {
            for (char c : alphabet) {
                next.push_back(s + c);
            }
        }
        out->insert(out->end(), next.begin(), next.end());
        layer.swap(next);
    }
}

void test_wildcard_against_oracle(void**) {
    std::vector<std::string> patterns, texts;
    all_strings("ab*?", 5, &patterns);
    all_strings("abA", 5, &texts);
    long checked = 0;
    for (const std::string& p : patterns) {
        for (const std::string& t : texts) {
            CHECK(tcpd::wildcard_match(p, t) == oracle(t.c_str(), p.c_str()), "pattern '" + p + "' text '" + t + "'");
            ++checked;
        }
    }
    CHECK(checked > 490000, "coverage");
    // Many stars against a long text stay fast (the recursive matcher is exponential here).
    std::string text(127, 'a');
    CHECK(!tcpd::wildcard_match("*a*a*a*a*a*a*a*a*a*a*a*a*a*b", text), "pathological");
}

// ---------------------------------------------------------------------------
// Decision table

struct Row {
    const char* allow;
    const char* deny;
    const char* daemon;
    const char* addr;  // "-" = unknown
    const char* name;  // "-" = not given (and no resolver: "unknown")
    const char* user;  // "-" = not given
    Verdict verdict;
    const char* where;  // Decision::location()
};

const Row kRows[] = {
    // Order: allow file first, first match, default allow.
    {"", "", "sshd", "10.0.0.1", "-", "-", A, "default allow"},
    {"", "ALL: ALL\n", "sshd", "10.0.0.1", "-", "-", D, "hosts.deny:1"},
    {"sshd: 10.0.0.1\n", "ALL: ALL\n", "sshd", "10.0.0.1", "-", "-", A, "hosts.allow:1"},
    {"sshd: 10.0.0.1\n", "ALL: ALL\n", "sshd", "10.0.0.2", "-", "-", D, "hosts.deny:1"},
    {"sshd: 10.0.0.2\nsshd: 10.0.0.1\n", "", "sshd", "10.0.0.1", "-", "-", A, "hosts.allow:2"},
    {"vsftpd: ALL\n", "ALL: ALL\n", "sshd", "10.0.0.1", "-", "-", D, "hosts.deny:1"},
    // Daemon lists, case, wildcards, prefix and suffix on daemon names.
    {"vsftpd, sshd: ALL\n", "ALL: ALL\n", "sshd", "10.0.0.1", "-", "-", A, "hosts.allow:1"},
    {"SSHD: ALL\n", "ALL: ALL\n", "sshd", "10.0.0.1", "-", "-", A, "hosts.allow:1"},
    {"vmware-*: ALL\n", "ALL: ALL\n", "vmware-hostd", "10.0.0.1", "-", "-", A, "hosts.allow:1"},
    {"vmware-?ostd: ALL\n", "ALL: ALL\n", "vmware-authd", "10.0.0.1", "-", "-", D, "hosts.deny:1"},
    {"in.: ALL\n", "ALL: ALL\n", "in.telnetd", "10.0.0.1", "-", "-", A, "hosts.allow:1"},
    {".telnetd: ALL\n", "ALL: ALL\n", "in.telnetd", "10.0.0.1", "-", "-", A, "hosts.allow:1"},
    {"all: ALL\n", "ALL: ALL\n", "x", "10.0.0.1", "-", "-", A, "hosts.allow:1"},
    {"ALL EXCEPT sshd: ALL\n", "ALL: ALL\n", "sshd", "10.0.0.1", "-", "-", D, "hosts.deny:1"},
    {"ALL except sshd: ALL\n", "ALL: ALL\n", "vsftpd", "10.0.0.1", "-", "-", A, "hosts.allow:1"},
    // A port number only matches a server port (none here).
    {"22: ALL\n", "ALL: ALL\n", "sshd", "10.0.0.1", "-", "-", D, "hosts.deny:1"},
    // Addresses: exact, prefix, suffix on addresses, net/mask, CIDR.
    {"sshd: 10.0.\n", "ALL: ALL\n", "sshd", "10.0.7.1", "-", "-", A, "hosts.allow:1"},
    {"sshd: .10\n", "ALL: ALL\n", "sshd", "192.168.1.10", "-", "-", A, "hosts.allow:1"},
    {"sshd: 10.0.0.0/255.0.0.0\n", "ALL: ALL\n", "sshd", "10.9.9.9", "-", "-", A, "hosts.allow:1"},
    {"sshd: 10.0.0.0/8\n", "ALL: ALL\n", "sshd", "11.0.0.1", "-", "-", D, "hosts.deny:1"},
    {"sshd: 192.168.1.128/25\n", "ALL: ALL\n", "sshd", "192.168.1.200", "-", "-", A, "hosts.allow:1"},
    {"sshd: 192.168.1.128/25\n", "ALL: ALL\n", "sshd", "192.168.1.127", "-", "-", D, "hosts.deny:1"},
    {"sshd: 10.1.2.3/32\n", "ALL: ALL\n", "sshd", "10.1.2.3", "-", "-", A, "hosts.allow:1"},
    {"sshd: 0.0.0.0/0.0.0.0\n", "ALL: ALL\n", "sshd", "8.8.8.8", "-", "-", A, "hosts.allow:1"},
    {"sshd: 0.0.0.0/0.0.0.0\n", "ALL: ALL\n", "sshd", "::1", "-", "-", D, "hosts.deny:1"},
    // v4-mapped clients are IPv4 everywhere.
    {"sshd: 10.0.0.0/8\n", "ALL: ALL\n", "sshd", "::ffff:10.1.1.1", "-", "-", A, "hosts.allow:1"},
    {"sshd: 10.1.1.1\n", "ALL: ALL\n", "sshd", "::ffff:10.1.1.1", "-", "-", A, "hosts.allow:1"},
    {"sshd: 10.1.\n", "ALL: ALL\n", "sshd", "::ffff:10.1.1.1", "-", "-", A, "hosts.allow:1"},
    {"sshd: [::]/0\n", "ALL: ALL\n", "sshd", "::ffff:10.1.1.1", "-", "-", D, "hosts.deny:1"},
    // IPv6: [addr], [net]/len (both sides masked), /0 and /128.
    {"sshd: [::1]\n", "ALL: ALL\n", "sshd", "::1", "-", "-", A, "hosts.allow:1"},
    {"sshd: [2001:DB8::1]\n", "ALL: ALL\n", "sshd", "2001:db8:0::1", "-", "-", A, "hosts.allow:1"},
    {"sshd: [2001:db8::]/32\n", "ALL: ALL\n", "sshd", "2001:db8:ffff::1", "-", "-", A, "hosts.allow:1"},
    {"sshd: [2001:db8::1]/32\n", "ALL: ALL\n", "sshd", "2001:db8:ffff::1", "-", "-", A, "hosts.allow:1"},
    {"sshd: [2001:db8::]/32\n", "ALL: ALL\n", "sshd", "2001:db9::1", "-", "-", D, "hosts.deny:1"},
    {"sshd: [::]/0\n", "ALL: ALL\n", "sshd", "fe80::1", "-", "-", A, "hosts.allow:1"},
    {"sshd: [::1]/128\n", "ALL: ALL\n", "sshd", "::2", "-", "-", D, "hosts.deny:1"},
    {"sshd: [2001:db8::]/33\n", "ALL: ALL\n", "sshd", "2001:db8:8000::1", "-", "-", D, "hosts.deny:1"},
    {"sshd@[::1]: ALL\n", "ALL: ALL\n", "sshd", "::1", "-", "-", D, "hosts.deny:1"},  // server address unknown
    // Names: exact (case-insensitive), .domain (strictly longer), host. prefix.
    {"sshd: host1.example.com\n", "ALL: ALL\n", "sshd", "10.0.0.1", "HOST1.example.COM", "-", A, "hosts.allow:1"},
    {"sshd: .example.com\n", "ALL: ALL\n", "sshd", "10.0.0.1", "a.example.com", "-", A, "hosts.allow:1"},
    {"sshd: .example.com\n", "ALL: ALL\n", "sshd", "10.0.0.1", "example.com", "-", D, "hosts.deny:1"},
    {"sshd: .example.com\n", "ALL: ALL\n", "sshd", "10.0.0.1", ".example.com", "-", D, "hosts.deny:1"},
    {"sshd: host1.example.com.\n", "ALL: ALL\n", "sshd", "10.0.0.1", "host1.example.com.evil.org", "-", A,
     "hosts.allow:1"},
    {"sshd: *.example.com\n", "ALL: ALL\n", "sshd", "10.0.0.1", "a.b.example.com", "-", A, "hosts.allow:1"},
    {"sshd: 10.0.0.?\n", "ALL: ALL\n", "sshd", "10.0.0.7", "-", "-", A, "hosts.allow:1"},
    {"sshd: 10.0.0.?\n", "ALL: ALL\n", "sshd", "10.0.0.17", "-", "-", D, "hosts.deny:1"},
    // LOCAL, KNOWN, UNKNOWN, PARANOID (plain names, case-insensitive).
    {"sshd: LOCAL\n", "ALL: ALL\n", "sshd", "10.0.0.1", "gw", "-", A, "hosts.allow:1"},
    {"sshd: LOCAL\n", "ALL: ALL\n", "sshd", "10.0.0.1", "gw.example.com", "-", D, "hosts.deny:1"},
    {"sshd: LOCAL\n", "ALL: ALL\n", "sshd", "10.0.0.1", "-", "-", D, "hosts.deny:1"},
    {"sshd: local\n", "ALL: ALL\n", "sshd", "10.0.0.1", "gw", "-", A, "hosts.allow:1"},
    {"sshd: KNOWN\n", "ALL: ALL\n", "sshd", "10.0.0.1", "gw", "-", A, "hosts.allow:1"},
    {"sshd: KNOWN\n", "ALL: ALL\n", "sshd", "10.0.0.1", "paranoid", "-", D, "hosts.deny:1"},
    {"sshd: KNOWN\n", "ALL: ALL\n", "sshd", "-", "gw", "-", D, "hosts.deny:1"},
    {"", "ALL: UNKNOWN\n", "sshd", "10.0.0.1", "", "-", D, "hosts.deny:1"},
    {"", "ALL: UNKNOWN\n", "sshd", "10.0.0.1", "gw", "-", A, "default allow"},
    {"", "ALL: unknown\n", "sshd", "-", "gw", "-", D, "hosts.deny:1"},
    {"", "ALL: PARANOID\n", "sshd", "10.0.0.1", "paranoid", "-", D, "hosts.deny:1"},
    {"", "ALL: PARANOID\n", "sshd", "10.0.0.1", "gw", "-", A, "default allow"},
    // EXCEPT, nested: a EXCEPT (b EXCEPT c).
    {"sshd: 10.0.0.0/8 EXCEPT 10.1.0.0/16\n", "ALL: ALL\n", "sshd", "10.1.2.3", "-", "-", D, "hosts.deny:1"},
    {"sshd: 10.0.0.0/8 EXCEPT 10.1.0.0/16 EXCEPT 10.1.2.3\n", "ALL: ALL\n", "sshd", "10.1.2.3", "-", "-", A,
     "hosts.allow:1"},
    {"sshd: 10.0.0.0/8 EXCEPT 10.1.0.0/16 EXCEPT 10.1.2.3\n", "ALL: ALL\n", "sshd", "10.1.2.4", "-", "-", D,
     "hosts.deny:1"},
    {"sshd: 10.0.0.0/8 except 10.1.0.0/16, 10.2.0.0/16\n", "ALL: ALL\n", "sshd", "10.2.0.1", "-", "-", D,
     "hosts.deny:1"},
    // user@host.
    {"sshd: root@10.0.0.0/8\n", "ALL: ALL\n", "sshd", "10.0.0.1", "-", "ROOT", A, "hosts.allow:1"},
    {"sshd: root@10.0.0.0/8\n", "ALL: ALL\n", "sshd", "10.0.0.1", "-", "-", D, "hosts.deny:1"},
    {"sshd: KNOWN@ALL\n", "ALL: ALL\n", "sshd", "10.0.0.1", "-", "alice", A, "hosts.allow:1"},
    {"sshd: KNOWN@ALL\n", "ALL: ALL\n", "sshd", "10.0.0.1", "-", "-", D, "hosts.deny:1"},
    {"sshd: a*@ALL\n", "ALL: ALL\n", "sshd", "10.0.0.1", "-", "alice", A, "hosts.allow:1"},
    // Pattern files, nested, missing = matches nothing.
    {"sshd: /etc/admins\n", "ALL: ALL\n", "sshd", "10.3.0.7", "-", "-", A, "hosts.allow:1"},
    {"sshd: /etc/admins\n", "ALL: ALL\n", "sshd", "192.168.7.1", "-", "-", A, "hosts.allow:1"},
    {"sshd: /etc/admins\n", "ALL: ALL\n", "sshd", "10.4.0.7", "-", "-", D, "hosts.deny:1"},
    {"sshd: /etc/missing\n", "ALL: ALL\n", "sshd", "10.3.0.7", "-", "-", D, "hosts.deny:1"},
    // Options: allow / deny override the file; others keep the file's verdict.
    {"", "sshd: 10.0.0.1: allow\n", "sshd", "10.0.0.1", "-", "-", A, "hosts.deny:1"},
    {"sshd: 10.0.0.1: severity auth.info: deny\n", "", "sshd", "10.0.0.1", "-", "-", D, "hosts.allow:1"},
    {"sshd: 10.0.0.1: spawn echo %a\n", "ALL: ALL\n", "sshd", "10.0.0.1", "-", "-", A, "hosts.allow:1"},
    {"sshd: 10.0.0.1: twist echo no\n", "", "sshd", "10.0.0.1", "-", "-", A, "hosts.allow:1"},
    // Lines: comments only in column 1, continuation, CRLF, blank lines.
    {"# c\n\n  \t\nsshd: \\\n 10.0.0.1\n", "ALL: ALL\n", "sshd", "10.0.0.1", "-", "-", A, "hosts.allow:4"},
    {"# comment \\\nsshd: 10.0.0.1\n", "ALL: ALL\n", "sshd", "10.0.0.1", "-", "-", D, "hosts.deny:1"},
    {"sshd: 10.0.0.1\r\n", "ALL: ALL\r\n", "sshd", "10.0.0.1", "-", "-", A, "hosts.allow:1"},
    // libwrap compares the first 127 bytes of a name.
    {"sshd: .example.com\n", "ALL: ALL\n", "sshd", "10.0.0.1",
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxx.example.com",
     "-", D, "hosts.deny:1"},
};

void test_decision_table(void**) {
    g_pattern_files = {{"/etc/admins", "10.3.0.0/16\n/etc/more  192.168.7.\n"}, {"/etc/more", "gw\n"}};
    for (const Row& r : kRows) {
        std::string row = std::string("allow=[") + r.allow + "] deny=[" + r.deny + "] daemon=" + r.daemon +
                          " addr=" + r.addr + " name=" + r.name + " user=" + r.user;
        Diagnostics diags;
        auto p = compile(r.allow, r.deny, &diags);
        CHECK(p->valid(), row + " diags: " + join(diags));
        tcpd::Lookups none;
        Decision d = evaluate(*p, request(r.daemon, r.addr, r.name, r.user), none);
        CHECK_INT(static_cast<int>(d.verdict), static_cast<int>(r.verdict), row + " -> " + d.explanation());
        CHECK_STR(d.location(), r.where, row);
    }
}

void test_netgroup_and_server(void**) {
    FakeIdentity id;
    id.add_triple("admins", {"gw.example.com", "", ""});
    id.this_host = "vmhost";
    id.nis_domain_name = "nisdom";
    tcpd::Lookups lk;
    lk.identity = &id;
    Diagnostics diags;
    auto p = compile("sshd: @admins\nvsftpd@vmhost.example.com: ALL\nportmap@192.168.1.0/24: ALL\n22: ALL\n",
                     "ALL: ALL\n", &diags);
    CHECK(p->valid(), join(diags));
    CHECK(evaluate(*p, request("sshd", "10.0.0.1", "gw.example.com"), lk).verdict == A, "netgroup member");
    CHECK(!id.netgroup_calls.empty(), "innetgr asked");
    CHECK_STR(id.netgroup_calls.back().domain.value_or("(null)"), "nisdom", "NIS domain passed");
    CHECK(evaluate(*p, request("sshd", "10.0.0.1", "GW.example.com"), lk).verdict == D, "innetgr is case-sensitive");
    CHECK(evaluate(*p, request("sshd", "10.0.0.1", "gw.example.com"), tcpd::Lookups()).verdict == D,
          "no identity: netgroups never match");
    tcpd::Request r = request("vsftpd", "10.0.0.1", "-");
    r.server.name = "VMHOST.example.com";
    CHECK(evaluate(*p, r, lk).verdict == A, "daemon@host on the server name");
    r = request("portmap", "10.0.0.1", "-");
    r.server.address = IpAddress::parse("192.168.1.1");
    CHECK(evaluate(*p, r, lk).verdict == A, "daemon@net/mask on the server address");
    r = request("telnetd", "10.0.0.1", "-");
    r.server_port = 22;
    CHECK(evaluate(*p, r, lk).verdict == A, "port pattern");
    r.server_port = 23;
    CHECK(evaluate(*p, r, lk).verdict == D, "other port");
}

// ---------------------------------------------------------------------------
// Malformed rules: a diagnostic with file:line:col, the policy invalid, and
// the broken rule denies.

struct BadRow {
    const char* allow;
    const char* message;  // substring of the first error
    const char* where;    // "hosts.allow:L:C"
    const char* daemon;   // request that reaches the rule
    const char* addr;
};

const BadRow kBadRows[] = {
    {"sshd 10.0.0.1\n", "missing ':' separator", "hosts.allow:1:1", "vsftpd", "10.9.9.9"},
    {"sshd: 10.0.0.1", "missing newline", "hosts.allow:1:15", "vsftpd", "10.9.9.9"},
    {"sshd: 192.168.1.5/24\n", "host bits set", "hosts.allow:1:7", "sshd", "10.9.9.9"},
    {"sshd: 10.0.0.0/0\n", "prefix length", "hosts.allow:1:16", "sshd", "10.9.9.9"},
    {"sshd: 10.0.0.0/255.255.255.255\n", "never matches", "hosts.allow:1:16", "sshd", "10.9.9.9"},
    {"sshd: [2001:db8::]/129\n", "prefix length", "hosts.allow:1:20", "sshd", "10.9.9.9"},
    {"sshd: [::ffff:10.0.0.1]\n", "IPv4-mapped", "hosts.allow:1:7", "sshd", "10.9.9.9"},
    {"sshd: ::1\n", "client list is empty", "hosts.allow:1:6", "sshd", "10.9.9.9"},
    {"sshd: 10.0.0.1 # office\n", "'#' inside a rule", "hosts.allow:1:16", "sshd", "10.9.9.9"},
    {"sshd: 10.0.0.1: allow # ok\n", "takes no value", "hosts.allow:1:23", "sshd", "10.0.0.1"},
    {"sshd: 10.0.0.1:\n", "empty option", "hosts.allow:1:16", "sshd", "10.0.0.1"},
    {"sshd: 10.0.0.1: allow:\n", "must be the last", "hosts.allow:1:17", "sshd", "10.0.0.1"},
    {"sshd: 10.0.0.1: frob\n", "bad option name", "hosts.allow:1:17", "sshd", "10.0.0.1"},
    {"sshd: 10.0.0.1: allow: spawn x\n", "must be the last", "hosts.allow:1:17", "sshd", "10.0.0.1"},
    {"sshd: 10.0.0.1: severity authpriv.info\n", "facility", "hosts.allow:1:26", "sshd", "10.0.0.1"},
    {"sshd: 10.0.0.1: umask 999\n", "umask", "hosts.allow:1:23", "sshd", "10.0.0.1"},
    {"sshd: 10.0.0.1: linger -1\n", "linger", "hosts.allow:1:24", "sshd", "10.0.0.1"},
    {"sshd: 10.0.0.1: spawn\n", "requires a value", "hosts.allow:1:17", "sshd", "10.0.0.1"},
    {"sshd: 10.0.0.1: aclexec /bin/true\n", "aclexec", "hosts.allow:1:17", "sshd", "10.0.0.1"},
    {"sshd: ALL EXCEPT\n", "ends in EXCEPT", "hosts.allow:1:11", "sshd", "10.9.9.9"},
    {"sshd: EXCEPT 10.0.0.1\n", "nothing before it", "hosts.allow:1:7", "sshd", "10.9.9.9"},
    {": ALL\n", "daemon list is empty", "hosts.allow:1:1", "sshd", "10.9.9.9"},
    {"sshd: root@\n", "nothing after '@'", "hosts.allow:1:11", "sshd", "10.9.9.9"},
    {"sshd: /etc/loop\n", "includes itself", "/etc/loop:1:1", "sshd", "10.9.9.9"},
    {"sshd: /etc/unreadable\n", "Permission denied", "hosts.allow:1:7", "sshd", "10.9.9.9"},
    {"sshd: /etc/withexcept\n", "EXCEPT does not work", "/etc/withexcept:1:4", "sshd", "10.9.9.9"},
    {"sshd: \\\n  10.0.0.1/33\n", "prefix length", "hosts.allow:2:12", "sshd", "10.9.9.9"},
};

void test_malformed(void**) {
    g_pattern_files = {{"/etc/loop", "/etc/loop\n"}, {"/etc/unreadable", "<unreadable>"},
                       {"/etc/withexcept", "gw EXCEPT x\n"}};
    for (const BadRow& r : kBadRows) {
        std::string row = std::string("[") + r.allow + "]";
        Diagnostics diags;
        auto p = compile(r.allow, "", &diags);
        CHECK(!p->valid(), row);
        const ringfence::core::Diagnostic* first = nullptr;
        for (const auto& d : diags) {
            if (d.severity == ringfence::core::Severity::error) {
                first = &d;
                break;
            }
        }
        CHECK(first != nullptr, row);
        CHECK(unit::contains(first->message, r.message), row + " got: " + join(diags));
        CHECK_STR(first->file + ":" + std::to_string(first->line) + ":" + std::to_string(first->column), r.where,
                  row + " " + first->message);
        // Even in hosts.allow, with nothing in hosts.deny, a broken rule denies.
        Decision d = evaluate(*p, request(r.daemon, r.addr, "-"), tcpd::Lookups());
        CHECK(d.verdict == D, row + " -> " + d.explanation());
        CHECK(d.reason == Decision::Reason::broken_rule, row);
        CHECK(d.options() == nullptr, row);
    }
}

void test_broken_rule_scope(void**) {
    Diagnostics diags;
    // Lists fine, option broken: denies only what the rule matches (libwrap).
    auto p = compile("sshd: 10.0.0.1: frob\n", "", &diags);
    CHECK(evaluate(*p, request("sshd", "10.0.0.2", "-"), tcpd::Lookups()).verdict == A, "other client");
    CHECK(evaluate(*p, request("vsftpd", "10.0.0.1", "-"), tcpd::Lookups()).verdict == A, "other daemon");
    // Client list broken: denies every client of the daemons it names.
    p = compile("sshd: 10.0.0.1/40\n", "", &diags);
    CHECK(evaluate(*p, request("sshd", "10.9.9.9", "-"), tcpd::Lookups()).verdict == D, "same daemon");
    CHECK(evaluate(*p, request("vsftpd", "10.9.9.9", "-"), tcpd::Lookups()).verdict == A, "other daemon");
    // Too long a rule ends the file: the rules after it are never read.
    std::string longline = "sshd: " + std::string(2100, 'x') + "\nvsftpd: ALL: deny\n";
    diags.clear();
    p = compile(longline, "", &diags);
    CHECK(unit::contains(join(diags), "longer than 2046"), join(diags));
    CHECK_INT(p->rules().size(), 1, "rules after an over-long line");
    // 2046 bytes plus '\n' is still a rule.
    std::string fits = "sshd: 10.0.0.1";
    fits += std::string(2046 - fits.size(), ' ') + "\n";
    diags.clear();
    p = compile(fits, "ALL: ALL\n", &diags);
    CHECK(p->valid(), join(diags));
    CHECK(evaluate(*p, request("sshd", "10.0.0.1", "-"), tcpd::Lookups()).verdict == A, "2046 bytes");
    std::string too_long = "sshd: 10.0.0.1" + std::string(2047 - 14, ' ') + "\n";
    diags.clear();
    p = compile(too_long, "", &diags);
    CHECK(!p->valid(), "2047 bytes");
    // Unreadable hosts.deny: everything not allowed is refused.
    tcpd::HostsFile deny;
    deny.path = "hosts.deny";
    deny.read_error = ringfence::core::Diagnostic{};
    deny.read_error->file = "hosts.deny";
    deny.read_error->message = "refusing a file that is writable by group or others";
    diags.clear();
    p = compile_files(tcpd::hosts_file_from_text("hosts.allow", "sshd: 10.0.0.1\n"), deny, &diags);
    CHECK(evaluate(*p, request("sshd", "10.0.0.1", "-"), tcpd::Lookups()).verdict == A, "allowed first");
    CHECK(evaluate(*p, request("sshd", "10.0.0.2", "-"), tcpd::Lookups()).verdict == D, "unreadable deny file");
    // Missing files are empty.
    tcpd::HostsFile missing;
    missing.path = "hosts.deny";
    diags.clear();
    p = compile_files(missing, missing, &diags);
    CHECK(p->valid() && diags.empty(), join(diags));
    CHECK(evaluate(*p, request("sshd", "10.0.0.2", "-"), tcpd::Lookups()).verdict == A, "missing files");
}

// ---------------------------------------------------------------------------
// Options

void test_options_parsed(void**) {
    Diagnostics diags;
    auto p = compile(
        "sshd: ALL: severity local0.notice : SETENV PATH /bin\\:/usr/bin : umask=027 : nice : linger 5 : "
        "rfc931 3: keepalive: user nobody.nogroup: banners /etc/banners: spawn (echo %a) &: allow\n",
        "", &diags);
    CHECK(p->valid(), join(diags));
    Decision d = evaluate(*p, request("sshd", "10.0.0.1", "-"), tcpd::Lookups());
    CHECK(d.reason == Decision::Reason::allow_option, d.explanation());
    const auto* o = d.options();
    CHECK(o != nullptr && o->size() == 11, "option count");
    using K = tcpd::Option::Kind;
    CHECK((*o)[0].kind == K::severity && (*o)[0].facility == LOG_LOCAL0 && (*o)[0].level == LOG_NOTICE, "severity");
    CHECK((*o)[1].kind == K::setenv && (*o)[1].name == "PATH" && (*o)[1].argument == "/bin:/usr/bin", "setenv");
    CHECK((*o)[2].kind == K::umask && (*o)[2].number == 027, "umask");
    CHECK((*o)[3].kind == K::nice && (*o)[3].number == 10, "nice default");
    CHECK((*o)[4].kind == K::linger && (*o)[4].number == 5, "linger");
    CHECK((*o)[5].kind == K::rfc931 && (*o)[5].number == 3, "rfc931");
    CHECK((*o)[6].kind == K::keepalive, "keepalive");
    CHECK((*o)[7].kind == K::user && (*o)[7].name == "nobody" && (*o)[7].argument == "nogroup", "user.group");
    CHECK((*o)[8].kind == K::banners && (*o)[8].value == "/etc/banners", "banners");
    CHECK((*o)[9].kind == K::spawn && (*o)[9].value == "(echo %a) &", "spawn");
    CHECK((*o)[10].kind == K::allow, "allow");
    CHECK_INT((*o)[2].column, 66, "column of umask");

    diags.clear();
    p = compile("sshd: ALL: spawn echo %z\n", "", &diags);
    CHECK(p->valid(), "unknown %z is only a warning, as in libwrap");
    CHECK(unit::contains(join(diags), "unrecognized %z"), join(diags));
}

// ---------------------------------------------------------------------------
// Lookups: only when a rule needs a name, at most once per decision; the
// double-reverse check of PARANOID.

void test_lazy_lookups(void**) {
    FakeReverse rev;
    FakeForward fwd;
    rev.ptr["10.0.0.1"] = "gw.example.com";
    fwd.add("gw.example.com", {"10.0.0.1"});
    tcpd::Lookups lk;
    lk.reverse = &rev;
    lk.forward = &fwd;
    Diagnostics diags;

    auto p = compile("sshd: 10.0.0.0/8, 10.0.0.1, 10., ALL\n", "ALL: ALL\n", &diags);
    CHECK(evaluate(*p, request("sshd", "10.0.0.1", "-"), lk).verdict == A, "numeric");
    CHECK(evaluate(*p, request("vsftpd", "10.0.0.1", "-"), lk).verdict == D, "numeric deny");
    CHECK_INT(rev.calls + fwd.calls(), 0, "numeric patterns and ALL never look up");

    p = compile("sshd: 192.168.0.0/16 .example.com LOCAL UNKNOWN KNOWN\nvsftpd: ALL\n", "", &diags);
    CHECK(evaluate(*p, request("sshd", "10.0.0.1", "-"), lk).verdict == A, "name pattern");
    CHECK_INT(rev.calls, 1, "one reverse lookup");
    CHECK_INT(fwd.calls(), 1, "one forward lookup");
    CHECK(evaluate(*p, request("telnetd", "10.0.0.1", "-"), lk).verdict == A, "daemon not matched");
    CHECK_INT(rev.calls, 1, "no lookup when the daemon does not match");

    // PARANOID: the reverse name must resolve back to the address.
    struct Case {
        const char* ptr;      // nullptr: no PTR
        const char* forward;  // nullptr: does not resolve
        const char* expect;
    } cases[] = {
        {"gw.example.com", "10.0.0.1", "gw.example.com"}, {nullptr, nullptr, "unknown"},
        {"gw.example.com", nullptr, "paranoid"},          {"gw.example.com", "10.0.0.2", "paranoid"},
        {"10.0.0.1", "10.0.0.1", "paranoid"},             {"gw.example.com", "::ffff:10.0.0.1", "gw.example.com"},
    };
    for (const Case& c : cases) {
        FakeReverse r2;
        FakeForward f2;
        if (c.ptr != nullptr) {
            r2.ptr["10.0.0.1"] = c.ptr;
            if (c.forward != nullptr) {
                f2.add(c.ptr, {c.forward});
            }
        }
        CHECK_STR(tcpd::verified_host_name(*IpAddress::parse("::ffff:10.0.0.1"), r2, f2), c.expect,
                  std::string("ptr=") + (c.ptr ? c.ptr : "-") + " fwd=" + (c.forward ? c.forward : "-"));
    }
    p = compile("", "ALL: PARANOID\n", &diags);
    FakeReverse r3;
    FakeForward f3;
    r3.ptr["10.0.0.9"] = "liar.example.com";
    f3.add("liar.example.com", {"10.0.0.1"});
    tcpd::Lookups lk3{&r3, &f3, nullptr};
    CHECK(evaluate(*p, request("sshd", "10.0.0.9", "-"), lk3).verdict == D, "paranoid refused");
    CHECK(evaluate(*p, request("sshd", "10.0.0.9", "liar.example.com"), lk3).verdict == A, "given name trusted");
}


// ---------------------------------------------------------------------------
// Explain, reasons, lint

void test_explain_trace(void**) {
    Diagnostics diags;
    auto p = compile("sshd: 10.0.0.0/8 EXCEPT 10.1.0.0/16\nvsftpd: ALL\n", "ALL: ALL\n", &diags);
    CHECK(p->valid(), join(diags));
    tcpd::Request r = request("sshd", "10.1.2.3", "-");
    tcpd::Explanation e = tcpd::explain(*p, r, tcpd::Lookups());
    CHECK_INT(static_cast<int>(e.rules.size()), 3, "every rule up to the deciding one");
    const tcpd::RuleTrace& first = e.rules[0];
    CHECK(first.daemons.matched && first.clients.evaluated && !first.clients.matched, "EXCEPT took it out");
    CHECK_INT(static_cast<int>(first.clients.tokens.size()), 2, "both client tokens");
    CHECK_STR(first.clients.tokens[0].why, "10.1.2.3 is in 10.0.0.0/8", "token 1");
    CHECK_STR(first.clients.tokens[1].why, "10.1.2.3 is in 10.1.0.0/16", "token 2 (the exception)");
    CHECK_INT(static_cast<int>(first.clients.tokens[1].part), 1, "after EXCEPT");
    const tcpd::RuleTrace& second = e.rules[1];
    CHECK(!second.daemons.matched && !second.clients.evaluated, "vsftpd rule: daemon list fails");
    CHECK_STR(second.daemons.tokens[0].why, "daemon sshd is not vsftpd", "daemon token");
    CHECK(e.decision.rule == &p->rules()[2] && e.decision.verdict == D, "hosts.deny:1 decides");
    CHECK_STR(tcpd::decision_reason(e.decision, r), "client 10.1.2.3 matches ALL; daemon sshd matches ALL",
              "reason of the catch-all");

    // Reasons in the words of core::Decision.
    tcpd::Request q = request("sshd", "10.1.2.3", "-");
    tcpd::Lookups none;
    p = compile("", "sshd: 10.0.0.0/8\n", &diags);
    ringfence::core::Decision cd = tcpd::to_core_decision(evaluate(*p, q, none), q);
    CHECK_STR(cd.summary(), "denied by hosts.deny:1 (sshd: 10.0.0.0/8): 10.1.2.3 is in 10.0.0.0/8; daemon sshd is sshd",
              "core decision");
    p = compile("ALL EXCEPT vsftpd: .example.com\n", "ALL: ALL\n", &diags);
    tcpd::Request n = request("sshd", "10.1.2.3", "gw.example.com");
    cd = tcpd::to_core_decision(evaluate(*p, n, none), n);
    CHECK_STR(cd.reason, "name gw.example.com ends in .example.com; daemon sshd matched ALL EXCEPT vsftpd",
              "name pattern, daemon list with EXCEPT");
    p = compile("", "sshd: 10.0.0.0/8 : banners /x : deny\n", &diags);
    cd = tcpd::to_core_decision(evaluate(*p, q, none), q);
    CHECK(unit::contains(cd.reason, "the rule ends in the option 'deny'"), cd.reason);
    p = compile("", "", &diags);
    cd = tcpd::to_core_decision(evaluate(*p, q, none), q);
    CHECK_STR(cd.summary(), "allowed by default (default allow): no rule matched daemon sshd and client 10.1.2.3",
              "default");
    p = compile("", "sshd: 10.0.0.0/33\n", &diags);
    cd = tcpd::to_core_decision(evaluate(*p, q, none), q);
    CHECK(cd.verdict == ringfence::core::Verdict::deny && unit::contains(cd.reason, "the rule has an error: "),
          cd.reason);
}

void test_daemon_queries(void**) {
    Diagnostics diags;
    auto p = compile("ALL EXCEPT vmware-hostd: 10.0.0.1\nvmware-*@10.0.0.0/8: ALL\n22: ALL\n", "", &diags);
    CHECK(p->valid(), join(diags));
    CHECK_INT(static_cast<int>(tcpd::rules_for_daemon(*p, "vmware-hostd").size()), 1,
              "EXCEPT excludes, daemon@host counts");
    CHECK_INT(static_cast<int>(tcpd::rules_for_daemon(*p, "sshd").size()), 1, "ALL EXCEPT names sshd");
    CHECK_INT(static_cast<int>(tcpd::rules_for_daemon(*p, "22").size()), 1, "a port is not a name");
    struct {
        const char* text;
        const char* daemon;
        const char* host;
    } splits[] = {{"sshd", "sshd", nullptr},          {"sshd@10.0.0.1", "sshd", "10.0.0.1"},
                  {"sshd@[::1]", "sshd", "[::1]"},    {"@sshd", "@sshd", nullptr},
                  {"a@b@c", "a", "b@c"},              {"sshd@", "sshd", ""}};
    for (const auto& c : splits) {
        tcpd::DaemonAndHost s = tcpd::split_daemon_host(c.text);
        CHECK_STR(std::string(s.daemon), c.daemon, c.text);
        CHECK(s.host.has_value() == (c.host != nullptr) && (!s.host || *s.host == c.host), c.text);
    }
}

// One pass (what ringfence-tcpd and ringfence-tcpdmatch use): the whole
// text is still checked, an error after the deciding rule makes the policy
// invalid and is reported, one before it refuses, and only the deciding
// rule is kept.
void test_compile_and_decide(void**) {
    auto once = [](const std::string& allow, const std::string& deny, const tcpd::Request& r, Diagnostics* diags,
                   Decision* d) {
        return tcpd::Policy::compile_and_decide(tcpd::hosts_file_from_text("hosts.allow", allow),
                                                tcpd::hosts_file_from_text("hosts.deny", deny), fake_files(), diags,
                                                r, tcpd::Lookups(), d);
    };
    Diagnostics diags;
    Decision d;
    auto p = once("sshd: 10.0.0.1\nsshd: 10.0.0.0/33\nsshd: 10.0.0.2\n", "ALL: ALL\n",
                  request("sshd", "10.0.0.1", "-"), &diags, &d);
    CHECK(!p->valid(), "an error after the deciding rule still makes the policy invalid");
    CHECK(unit::contains(join(diags), "hosts.allow:2:"), join(diags));
    CHECK(d.verdict == A && d.rule != nullptr && d.rule->line == 1 && d.rule->source == "sshd: 10.0.0.1",
          d.explanation());
    CHECK(p->rules().size() == 1 && &p->rules()[0] == d.rule, "only the deciding rule is kept");
    diags.clear();
    p = once("sshd: 10.0.0.1\nsshd: 10.0.0.0/33\nsshd: 10.0.0.2\n", "ALL: ALL\n", request("sshd", "10.0.0.2", "-"),
             &diags, &d);
    CHECK(d.verdict == D && d.reason == Decision::Reason::broken_rule && d.rule->line == 2, d.explanation());
    diags.clear();
    p = once("sshd: 10.0.0.1\n", "sshd: 10.0.0.3\nsshd: [::1\n", request("sshd", "10.0.0.9", "-"), &diags, &d);
    CHECK(d.verdict == D && d.reason == Decision::Reason::broken_rule && d.rule->file == "hosts.deny", d.explanation());
    diags.clear();
    p = once("sshd: 10.0.0.1\n", "", request("vsftpd", "10.0.0.1", "-"), &diags, &d);
    CHECK(p->valid() && d.verdict == A && d.reason == Decision::Reason::default_allow && p->rules().empty(),
          d.explanation());
}

void test_lint(void**) {
    Diagnostics diags;
    auto allow = tcpd::hosts_file_from_text("hosts.allow", "sshd: ALL: user nobody\nsshd: 10.1.\n");
    auto deny = tcpd::hosts_file_from_text("hosts.deny", "ALL: ALL\nsshd: ALL\n");
    auto p = tcpd::Policy::compile(allow, deny, fake_files(), &diags);
    FakeIdentity id;
    tcpd::LintOptions o;
    o.identity = &id;
    o.implicit_allow = true;
    Diagnostics w = tcpd::lint(*p, allow, deny, o);
    std::string all = join(w);
    CHECK(unit::contains(all, "hosts.allow:1:12: warning: user 'nobody' does not exist"), all);
    CHECK(unit::contains(all, "hosts.allow:2:12: warning: implicit \"allow\" at end of rule"), all);
    CHECK(unit::contains(all, "hosts.deny:2:1: warning: this rule is never reached: hosts.deny:1 matches"), all);
    o.identity = nullptr;
    all = join(tcpd::lint(*p, allow, deny, o));
    CHECK(!unit::contains(all, "nobody"), "no identity: user options not checked");
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wildcard_against_oracle),
        cmocka_unit_test(test_decision_table),
        cmocka_unit_test(test_netgroup_and_server),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_broken_rule_scope),
        cmocka_unit_test(test_compile_and_decide),
        cmocka_unit_test(test_options_parsed),
        cmocka_unit_test(test_lazy_lookups),
        cmocka_unit_test(test_explain_trace),
        cmocka_unit_test(test_daemon_queries),
        cmocka_unit_test(test_lint),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
