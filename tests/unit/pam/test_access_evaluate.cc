// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for Policy::evaluate and origin_of with a fake identity and a
// fake DNS: first match, ALL/LOCAL, users, groups (bare, (group), primary
// gid), netgroups and atgroup, @@netgroup, user@host, EXCEPT, every kind of
// origin, DNS at most once per decision and only when needed, time fields,
// and the classic ESX admin recipe.
#include <optional>
#include <string>
#include <vector>

#include "fakes.h"
#include "pam_module/access_conf.h"
#include "unit_test.h"

using ringfence::access::Decision;
using ringfence::access::Environment;
using ringfence::access::Origin;
using ringfence::access::ParseOptions;
using ringfence::access::Policy;
using ringfence::access::Request;
using ringfence::access::Verdict;
using ringfence::core::Diagnostics;
using ringfence::core::LocalTime;
using unit::at;
using unit::FakeIdentity;
using unit::FakeNameService;

namespace {

constexpr Verdict A = Verdict::allow;
constexpr Verdict D = Verdict::deny;
constexpr Verdict N = Verdict::no_match;

const std::optional<std::string> kNoTty = std::nullopt;
const LocalTime kMonday10 = at(unit::kMon, "10:00");

// Users and groups:
//   root 0/0; alice (wheel, vmadmins); bob; dave (primary group staff only);
//   badadmin (vmadmins); vpxuser (vmadmins); carol (primary group vmadmins,
//   not listed as a member).
// Netgroups: ngadmins (,alice,); trusted hosts; hostuser (vmhost.example.com,bob,)
// DNS: a few names, see below.
struct World {
    FakeIdentity id;
    FakeNameService dns;

    World() {
        id.add_group("root", 0);
        id.add_group("wheel", 10, {"alice"});
        id.add_group("staff", 50);
        id.add_group("users", 100);
        id.add_group("vmadmins", 1000, {"alice", "badadmin", "vpxuser"});
        id.add_user("root", 0, 0);
        id.add_user("alice", 1001, 100);
        id.add_user("bob", 1002, 100);
        id.add_user("dave", 1003, 50);
        id.add_user("badadmin", 1004, 100);
        id.add_user("vpxuser", 1005, 100);
        id.add_user("carol", 1006, 1000);
        id.add_triple("ngadmins", {"", "alice", ""});
        id.add_triple("trusted", {"trusted.example.com", "", ""});
        id.add_triple("trusted", {"10.0.0.5", "", ""});
        id.add_triple("trusted", {"tty7", "", ""});
        id.add_triple("hostuser", {"vmhost.example.com", "bob", ""});
        id.add_triple("hostuser", {"otherhost", "alice", ""});
        dns.add("trusted.example.com", {"192.0.2.10"});
        dns.add("ws1.example.com", {"192.168.1.20", "2001:db8::20"});
        dns.add("ws10.example.com", {"192.168.10.5"});
        dns.add("v6only.example.com", {"2001:db8:10::1"});
        dns.add("mapped.example.com", {"::ffff:10.9.9.9"});
        dns.add("vmhost.example.com", {"10.0.0.1", "2001:db8:ff::1"});
    }
};

struct Ask {
    const char* user;
    const char* rhost;
    std::optional<std::string> tty;
    const char* service;
    LocalTime when;
};

Ask remote(const char* user, const char* rhost, LocalTime when = kMonday10) {
    return Ask{user, rhost, std::nullopt, "sshd", when};
}
Ask on_tty(const char* user, const char* tty, LocalTime when = kMonday10) {
    return Ask{user, "", std::string(tty), "login", when};
}
Ask service_only(const char* user, const char* service) { return Ask{user, "", std::nullopt, service, kMonday10}; }

std::string describe(const Ask& a) {
    std::string s = std::string(a.user) + " rhost='" + a.rhost + "' tty=" + (a.tty ? "'" + *a.tty + "'" : "none") +
                    " service='" + a.service + "' at day " + std::to_string(a.when.weekday) + " minute " +
                    std::to_string(a.when.minute);
    return s;
}

Decision decide(const Policy& policy, World& w, const Ask& a) {
    ringfence::core::UserInfo user = w.id.user(a.user);
    Request r;
    r.user = &user;
    r.rhost = a.rhost;
    r.tty = a.tty;
    r.service = a.service;
    r.when = a.when;
    Environment env{w.id, w.dns};
    int lookups_before = w.id.lookup_calls;
    Decision d = policy.evaluate(r, env);
    // Group membership comes with the request: evaluate never looks users up.
    CHECK_INT(w.id.lookup_calls, lookups_before, describe(a));
    return d;
}

std::shared_ptr<const Policy> compile_ok(const std::string& text, const ParseOptions& options = ParseOptions()) {
    Diagnostics diags;
    auto policy = unit::compile_text(text, options, &diags);
    if (!policy->valid()) {
        fail_msg("test setup: policy does not compile: %s", unit::join_diags(diags).c_str());
    }
    return policy;
}

struct Row {
    Ask ask;
    Verdict verdict;
    int line;  // deciding rule's line; 0 with no_match
};

void run_rows(const std::string& text, const std::vector<Row>& rows, const ParseOptions& options = ParseOptions(),
              World* world = nullptr) {
    World local;
    World& w = world != nullptr ? *world : local;
    auto policy = compile_ok(text, options);
    for (const Row& r : rows) {
        std::string row = describe(r.ask);
        Decision d = decide(*policy, w, r.ask);
        CHECK_STR(unit::verdict_name(d.verdict), unit::verdict_name(r.verdict), row);
        if (r.verdict == N) {
            CHECK(d.rule == nullptr, row);
        } else {
            CHECK(d.rule != nullptr, row);
            CHECK_INT(d.rule->line, r.line, row);
            CHECK(d.rule->allow == (r.verdict == A), row);
        }
    }
}

void first_match_wins(void**) {
    const std::string text =
        "+ : alice : ALL\n"
        "- : alice : ALL\n"
        "- : ALL : tty1\n"
        "+ : ALL : tty1\n"
        "+ : bob : tty2\n";
    run_rows(text, {
                       {on_tty("alice", "tty1"), A, 1},
                       {on_tty("bob", "tty1"), D, 3},
                       {on_tty("bob", "tty2"), A, 5},
                       {on_tty("dave", "tty2"), N, 0},
                       {remote("dave", "10.0.0.1"), N, 0},
                   });
    // No rules at all: no match (pam_access then allows).
    World w;
    auto empty = compile_ok("# nothing\n");
    Decision d = decide(*empty, w, on_tty("root", "tty1"));
    CHECK(d.verdict == N && d.rule == nullptr, "empty policy");
    CHECK(unit::contains(d.explanation(), "no rule matched"), d.explanation());
    auto policy = compile_ok(text);
    d = decide(*policy, w, on_tty("bob", "tty1"));
    CHECK_STR(d.explanation(), "denied by access.conf:3", "explanation");
    d = decide(*policy, w, on_tty("alice", "tty1"));
    CHECK_STR(d.explanation(), "allowed by access.conf:1", "explanation");
    CHECK(d.rule == &policy->rules()[0], "rule points into the policy");
}

void all_and_local(void**) {
    const std::string text =
        "+ : root : LOCAL\n"
        "- : root : ALL\n"
        "+ : alice : local\n"
        "- : all : all\n";
    run_rows(text, {
                       {on_tty("root", "tty1"), A, 1},
                       {on_tty("root", "/dev/pts/3"), A, 1},
                       {on_tty("root", ""), A, 1},
                       {service_only("root", "crond"), A, 1},
                       {remote("root", "10.0.0.1"), D, 2},
                       {remote("root", "127.0.0.1"), D, 2},  // ssh localhost is not LOCAL
                       {remote("root", "::1"), D, 2},
                       {remote("root", "localhost"), D, 2},
                       {Ask{"root", "", std::string("pts/0"), "sshd", kMonday10}, A, 1},  // empty rhost is local
                       {on_tty("alice", "tty1"), A, 3},
                       {remote("alice", "10.0.0.1"), D, 4},
                       {remote("bob", "10.0.0.1"), D, 4},
                       {on_tty("bob", "tty1"), D, 4},
                   });
}

void user_names(void**) {
    // User names are case-insensitive (strcasecmp, as pam_access); group
    // names are not (getgrnam).
    const std::string text =
        "+ : ROOT : ALL\n"
        "+ : Alice : tty1\n"
        "+ : (WHEEL) WHEEL : ALL\n"
        "+ : dav : ALL\n"
        "+ : bob2 : ALL\n";
    run_rows(text, {
                       {on_tty("root", "tty1"), A, 1},
                       {on_tty("alice", "tty1"), A, 2},
                       {on_tty("alice", "tty2"), N, 0},
                       {on_tty("dave", "tty1"), N, 0},  // no prefix match
                       {on_tty("bob", "tty1"), N, 0},
                   });
}

void bare_names_as_groups(void**) {
    const std::string text =
        "+ : wheel : ALL\n"
        "+ : staff : ALL\n"
        "- : nosuchgroup : ALL\n";
    const std::vector<Row> with_groups = {
        {on_tty("alice", "tty1"), A, 1},  // member of wheel
        {on_tty("dave", "tty1"), A, 2},   // primary group staff only
        {on_tty("bob", "tty1"), N, 0},
        {on_tty("root", "tty1"), N, 0},
    };
    run_rows(text, with_groups);
    ParseOptions nodefgroup;
    nodefgroup.nodefgroup = true;
    run_rows(text,
             {
                 {on_tty("alice", "tty1"), N, 0},
                 {on_tty("dave", "tty1"), N, 0},
                 {on_tty("bob", "tty1"), N, 0},
             },
             nodefgroup);
    // User names still match with nodefgroup, and (group) still works.
    run_rows("+ : alice : ALL\n+ : (staff) : ALL\n",
             {
                 {on_tty("alice", "tty1"), A, 1},
                 {on_tty("dave", "tty1"), A, 2},
                 {on_tty("bob", "tty1"), N, 0},
             },
             nodefgroup);
}

void parenthesised_groups(void**) {
    const std::string text =
        "+ : (vmadmins) : ALL\n"
        "- : (users) : ALL\n"
        "+ : (nosuchgroup) : ALL\n"
        "+ : (bob) (dave) : tty9\n";  // user names are not groups
    run_rows(text, {
                       {on_tty("dave", "tty9"), N, 0},
                       {on_tty("alice", "tty1"), A, 1},     // listed member
                       {on_tty("badadmin", "tty1"), A, 1},  // listed member
                       {on_tty("carol", "tty1"), A, 1},     // primary gid only
                       {on_tty("bob", "tty1"), D, 2},       // primary group users
                       {on_tty("root", "tty1"), N, 0},
                       {on_tty("dave", "tty1"), N, 0},
                   });
}

void netgroups_and_atgroup(void**) {
    const std::string text =
        "+ : @vmadmins : ALL\n"
        "+ : @ngadmins : tty1\n";
    // Default: @name is a NIS netgroup; there is no netgroup vmadmins.
    {
        World w;
        run_rows(text,
                 {
                     {on_tty("alice", "tty1"), A, 2},
                     {on_tty("alice", "tty2"), N, 0},
                     {on_tty("badadmin", "tty1"), N, 0},
                     {on_tty("carol", "tty1"), N, 0},
                     {on_tty("bob", "tty1"), N, 0},
                 },
                 ParseOptions(), &w);
        CHECK(!w.id.netgroup_calls.empty(), "netgroups asked");
        const auto& c = w.id.netgroup_calls[0];
        CHECK_STR(c.netgroup, "vmadmins", "first call");
        CHECK(!c.host.has_value(), "@ng: host is NULL");
        CHECK(c.user.has_value() && *c.user == "alice", "@ng: user is the login name");
        CHECK(!c.domain.has_value(), "no NIS domain: NULL");
    }
    // With a NIS domain, it is passed on.
    {
        World w;
        w.id.nis_domain_name = "nisdom";
        run_rows(text, {{on_tty("alice", "tty1"), A, 2}}, ParseOptions(), &w);
        CHECK(!w.id.netgroup_calls.empty() && w.id.netgroup_calls[0].domain == std::string("nisdom"), "domain");
    }
    // atgroup: @name is the UNIX group; netgroups are not asked.
    {
        World w;
        ParseOptions atgroup;
        atgroup.atgroup = true;
        run_rows(text,
                 {
                     {on_tty("alice", "tty1"), A, 1},
                     {on_tty("badadmin", "tty2"), A, 1},
                     {on_tty("carol", "tty2"), A, 1},  // primary gid
                     {on_tty("bob", "tty1"), N, 0},    // ngadmins is no group
                 },
                 atgroup, &w);
        CHECK_INT(w.id.netgroup_calls.size(), 0, "atgroup asks no netgroup");
    }
}

void host_netgroups(void**) {
    World w;
    run_rows("+ : @@hostuser : ALL\n",
             {
                 {on_tty("bob", "tty1"), A, 1},    // (vmhost.example.com,bob,)
                 {on_tty("alice", "tty1"), N, 0},  // her triple names another host
             },
             ParseOptions(), &w);
    CHECK(!w.id.netgroup_calls.empty(), "asked");
    CHECK(w.id.netgroup_calls[0].host == std::string("vmhost.example.com"), "@@: host is this host");
    CHECK(w.id.netgroup_calls[0].user == std::string("bob"), "@@: user");
    // Without a host name @@ never matches and innetgr is not asked.
    World nohost;
    nohost.id.this_host = "";
    run_rows("+ : @@hostuser : ALL\n", {{on_tty("bob", "tty1"), N, 0}}, ParseOptions(), &nohost);
    CHECK_INT(nohost.id.netgroup_calls.size(), 0, "no host name: no innetgr");
}

void user_at_host(void**) {
    World w;
    const std::string text =
        "+ : alice@vmhost.example.com : tty1\n"   // 1 name
        "+ : alice@VMHOST.EXAMPLE.COM : tty2\n"   // 2 name, case-insensitive
        "+ : alice@otherhost : tty3\n"            // 3 another host
        "+ : alice@.example.com : tty4\n"         // 4 domain
        "+ : alice@.other.com : tty5\n"           // 5 another domain
        "+ : alice@10.0.0.0/24 : tty6\n"          // 6 CIDR via DNS of this host
        "+ : alice@10.0.1.0/24 : tty7\n"          // 7 CIDR, no
        "+ : alice@10.0. : tty8\n"                // 8 prefix via DNS
        "+ : alice@10.0.0.1 : tty9\n"             // 9 address via DNS
        "+ : alice@ALL : tty10\n"                 // 10
        "+ : bob@vmhost.example.com : tty11\n"    // 11 other user
        "+ : wheel@vmhost.example.com : tty12\n"  // 12 group fallback in the user part
        "+ : @ngadmins@vmhost.example.com : tty13\n"  // 13 netgroup user part
        "+ : alice@@trusted : tty14\n"            // 14 host netgroup: this host is not in it
        "+ : alice@.example.com : 10.0.0.0/8\n";  // 15 remote request
    run_rows(text,
             {
                 {on_tty("alice", "tty1"), A, 1},
                 {on_tty("alice", "tty2"), A, 2},
                 {on_tty("alice", "tty3"), N, 0},
                 {on_tty("alice", "tty4"), A, 4},
                 {on_tty("alice", "tty5"), N, 0},
                 {on_tty("alice", "tty6"), A, 6},
                 {on_tty("alice", "tty7"), N, 0},
                 {on_tty("alice", "tty8"), A, 8},
                 {on_tty("alice", "tty9"), A, 9},
                 {on_tty("alice", "tty10"), A, 10},
                 {on_tty("alice", "tty11"), N, 0},
                 {on_tty("alice", "tty12"), A, 12},
                 {on_tty("alice", "tty13"), A, 13},
                 {on_tty("alice", "tty14"), N, 0},
                 {remote("alice", "10.1.1.1"), A, 15},
                 {on_tty("bob", "tty11"), A, 11},
                 {on_tty("bob", "tty12"), N, 0},
             },
             ParseOptions(), &w);
    // This host's name is resolved once in each decision that reaches a
    // user@address token (rules 6-9) with a matching user part and a
    // matching origin (the tty is compared first, with no lookup): alice's
    // requests for tty6..tty9, 4 in all; bob's never.
    CHECK_INT(w.dns.calls(), 4, "lookups of this host");
    for (const std::string& q : w.dns.queried) {
        CHECK_STR(q, "vmhost.example.com", "only this host is resolved");
    }
    CHECK(w.id.host_name_calls <= 17, "host name at most once per decision");

    // One decision that walks past many user@CIDR rules: one lookup.
    World w2;
    auto policy = compile_ok(
        "+ : alice@10.1.0.0/16 : ALL\n"
        "+ : alice@10.2. : ALL\n"
        "+ : alice@10.0.0.2 : ALL\n"
        "+ : alice@10.0.0.0/24 : ALL\n");
    Decision d = decide(*policy, w2, on_tty("alice", "tty1"));
    CHECK(d.verdict == A && d.rule->line == 4, "user@CIDR walk");
    CHECK_INT(w2.dns.calls_for("vmhost.example.com"), 1, "user@CIDR walk");
    CHECK_INT(w2.dns.calls(), 1, "user@CIDR walk");
    CHECK_INT(w2.id.host_name_calls, 1, "user@CIDR walk");

    // (group)@host: the user part is a group (as pam_access).
    run_rows("+ : (wheel)@vmhost.example.com : ALL\n+ : (wheel)@otherhost : tty2\n",
             {
                 {on_tty("alice", "tty1"), A, 1},
                 {on_tty("bob", "tty1"), N, 0},
             });

    // With fieldsep=| the host part can be IPv6 (with ':' it would split).
    World w3;
    ParseOptions pipe;
    pipe.fieldsep = "|";
    run_rows("+ | alice@2001:db8:ff::/48 | tty1\n+ | alice@2001:db8:fe::/48 | tty2\n",
             {
                 {on_tty("alice", "tty1"), A, 1},
                 {on_tty("alice", "tty2"), N, 0},
             },
             pipe, &w3);
    CHECK_INT(w3.dns.calls(), 2, "one lookup per decision");

    // No host name: user@host never matches.
    World nohost;
    nohost.id.this_host = "";
    run_rows("+ : alice@ALL : ALL\n+ : alice@.example.com : ALL\n", {{on_tty("alice", "tty1"), N, 0}},
             ParseOptions(), &nohost);
    CHECK_INT(nohost.dns.calls(), 0, "no host name: no DNS");
}

void except_nesting(void**) {
    run_rows("+ : ALL EXCEPT (vmadmins) EXCEPT alice : ALL\n",
             {
                 {on_tty("alice", "tty1"), A, 1},  // in vmadmins, re-included
                 {on_tty("dave", "tty1"), A, 1},
                 {on_tty("bob", "tty1"), A, 1},
                 {on_tty("badadmin", "tty1"), N, 0},
                 {on_tty("carol", "tty1"), N, 0},  // vmadmins by primary gid
             });
    run_rows("- : ALL EXCEPT root alice EXCEPT (wheel) EXCEPT ALICE : ALL\n",
             {
                 {on_tty("root", "tty1"), N, 0},
                 {on_tty("alice", "tty1"), N, 0},  // root alice, -wheel, +alice: excluded
                 {on_tty("bob", "tty1"), D, 1},
             });
    run_rows(
        "- : ALL : ALL EXCEPT LOCAL 10.0.0.0/8\n"
        "+ : ALL : ALL\n",
        {
            {remote("bob", "192.0.2.1"), D, 1},
            {remote("bob", "10.1.1.1"), A, 2},
            {on_tty("bob", "tty1"), A, 2},
        });
    // The classic recipe's line, with atgroup.
    ParseOptions atgroup;
    atgroup.atgroup = true;
    run_rows("+ : @vmadmins EXCEPT badadmin : ALL\n",
             {
                 {remote("alice", "10.0.0.9"), A, 1},
                 {remote("vpxuser", "10.0.0.9"), A, 1},
                 {remote("badadmin", "10.0.0.9"), N, 0},
                 {remote("bob", "10.0.0.9"), N, 0},
             },
             atgroup);
}

void origin_of_table(void**) {
    struct OriginRow {
        const char* rhost;
        std::optional<std::string> tty;
        const char* service;
        const char* text;
        bool remote;
    };
    const OriginRow rows[] = {
        {"10.0.0.1", std::string("tty1"), "sshd", "10.0.0.1", true},  // rhost wins
        {"h.example.com", kNoTty, "sshd", "h.example.com", true},
        {"", std::string("/dev/tty1"), "login", "tty1", false},
        {"", std::string("/dev/pts/0"), "sshd", "pts/0", false},
        {"", std::string("/dev/pts/0/x"), "sshd", "pts/0/x", false},
        {"", std::string("/x"), "login", "x", false},
        {"", std::string("/"), "login", "", false},
        {"", std::string("tty1"), "login", "tty1", false},
        {"", std::string("dev/tty1"), "login", "dev/tty1", false},
        {"", std::string(":0"), "gdm", ":0", false},
        {"", std::string("cron"), "crond", "cron", false},
        {"", std::string(""), "crond", "", false},  // empty tty used as is, no service fallback
        {"", kNoTty, "crond", "crond", false},      // no tty: the service
        {"", kNoTty, "", "", false},
    };
    for (const OriginRow& r : rows) {
        Request req;
        req.rhost = r.rhost;
        req.tty = r.tty;
        req.service = r.service;
        std::string row = std::string("rhost='") + r.rhost + "' tty=" + (r.tty ? "'" + *r.tty + "'" : "none") +
                          " service='" + r.service + "'";
        Origin o = ringfence::access::origin_of(req);
        CHECK_STR(o.text, r.text, row);
        CHECK(o.remote == r.remote, row);
    }
}

void origin_names(void**) {
    const std::string text =
        "+ : root : crond console tty1 pts/0 :0\n"
        "- : root : ALL\n";
    run_rows(text, {
                       {on_tty("root", "/dev/tty1"), A, 1},
                       {on_tty("root", "tty1"), A, 1},
                       {on_tty("root", "TTY1"), A, 1},
                       {on_tty("root", "/dev/pts/0"), A, 1},
                       {on_tty("root", ":0"), A, 1},
                       {on_tty("root", "/dev/tty2"), D, 2},
                       {on_tty("root", "tty10"), D, 2},
                       {service_only("root", "crond"), A, 1},
                       {Ask{"root", "", std::string("cron"), "crond", kMonday10}, D, 2},  // cronie's tty
                       {Ask{"root", "", std::string(""), "crond", kMonday10}, D, 2},      // empty tty
                       {remote("root", "tty1"), A, 1},  // a remote host named tty1 (as pam_access)
                       {remote("root", "console.example.com"), D, 2},
                   });
    // Decision records what was compared.
    World w;
    auto policy = compile_ok(text);
    Decision d = decide(*policy, w, on_tty("root", "/dev/pts/0"));
    CHECK_STR(d.origin, "pts/0", "decision origin");
    CHECK(!d.remote, "decision local");
    d = decide(*policy, w, remote("root", "10.0.0.1"));
    CHECK_STR(d.origin, "10.0.0.1", "decision origin");
    CHECK(d.remote, "decision remote");
}

void origin_domains(void**) {
    World w;
    run_rows("+ : ALL : .example.com\n",
             {
                 {remote("bob", "h.example.com"), A, 1},
                 {remote("bob", "H.EXAMPLE.COM"), A, 1},
                 {remote("bob", "a.b.example.com"), A, 1},
                 {remote("bob", "example.com"), N, 0},   // not equal
                 {remote("bob", ".example.com"), A, 1},  // literal equality (as pam_access)
                 {remote("bob", "hexample.com"), N, 0},
                 {remote("bob", "h.example.com.evil.org"), N, 0},
                 {remote("bob", "192.0.2.10"), N, 0},            // never an IP rhost (no reverse DNS)
                 {remote("bob", "trusted.example.org"), N, 0},
                 {on_tty("bob", "x.example.com"), N, 0},         // only remote origins
             },
             ParseOptions(), &w);
    CHECK_INT(w.dns.calls(), 0, ".domain needs no DNS");
}

void origin_v4_prefixes(void**) {
    World w;
    run_rows("+ : ALL : 192.168.1. 10.\n",
             {
                 {remote("bob", "192.168.1.5"), A, 1},
                 {remote("bob", "192.168.1.255"), A, 1},
                 {remote("bob", "192.168.10.5"), N, 0},  // octet boundary
                 {remote("bob", "192.168.11.1"), N, 0},
                 {remote("bob", "192.168.2.1"), N, 0},
                 {remote("bob", "10.255.255.255"), A, 1},
                 {remote("bob", "100.0.0.1"), N, 0},   // "10." is not "100."
                 {remote("bob", "110.0.0.1"), N, 0},
                 {remote("bob", "::ffff:192.168.1.5"), A, 1},  // v4-mapped
                 {remote("bob", "2001:db8::1"), N, 0},
                 {remote("bob", "ws1.example.com"), A, 1},      // DNS: 192.168.1.20
                 {remote("bob", "ws10.example.com"), N, 0},     // DNS: 192.168.10.5
                 {remote("bob", "v6only.example.com"), N, 0},
                 {remote("bob", "unknown.example.com"), N, 0},
                 {on_tty("bob", "192.168.1.5"), N, 0},          // only remote origins
             },
             ParseOptions(), &w);
    CHECK_INT(w.dns.calls(), 4, "one lookup per name rhost");
}

void origin_addresses(void**) {
    const std::string text =
        "+ : ALL : 10.0.0.1 2001:db8::1\n"
        "+ : ALL : 172.16.0.0/12 2001:db8:100::/40\n"
        "+ : ALL : 192.168.0.0/255.255.0.0\n";
    run_rows(text, {
                       {remote("bob", "10.0.0.1"), A, 1},
                       {remote("bob", "10.0.0.2"), N, 0},
                       {remote("bob", "2001:db8::1"), A, 1},
                       {remote("bob", "2001:0DB8:0:0::0001"), A, 1},  // binary compare
                       {remote("bob", "2001:db8::2"), N, 0},
                       {remote("bob", "::ffff:10.0.0.1"), A, 1},  // v4-mapped rhost
                       {remote("bob", "172.16.0.0"), A, 2},
                       {remote("bob", "172.31.255.255"), A, 2},
                       {remote("bob", "172.32.0.0"), N, 0},
                       {remote("bob", "172.15.255.255"), N, 0},
                       {remote("bob", "2001:db8:1ff:ffff::1"), A, 2},
                       {remote("bob", "2001:db8:200::1"), N, 0},
                       {remote("bob", "192.168.77.1"), A, 3},
                       {remote("bob", "192.169.0.1"), N, 0},
                       {remote("bob", "ws1.example.com"), A, 3},  // DNS: 192.168.1.20
                       {remote("bob", "mapped.example.com"), N, 0},
                       {on_tty("bob", "tty1"), N, 0},
                   });
    // Tokens written v4-mapped are IPv4 networks.
    run_rows("- : ALL : ::ffff:10.0.0.0/104\n- : ALL : ::ffff:192.0.2.7\n",
             {
                 {remote("bob", "10.1.2.3"), D, 1},
                 {remote("bob", "::ffff:10.1.2.3"), D, 1},
                 {remote("bob", "11.0.0.0"), N, 0},
                 {remote("bob", "192.0.2.7"), D, 2},
                 {remote("bob", "mapped.example.com"), D, 1},  // DNS gives ::ffff:10.9.9.9
             });
}

// sshd writes a link-local client with its zone ("fe80::1%eth0", PAM_RHOST
// as SSH_CONNECTION has it): compared by its address, with no DNS lookup.
void origin_link_local_zone(void**) {
    World w;
    auto policy = compile_ok("- : bob : fe80::/10\n- : alice : fe80::1\n+ : ALL : ALL\n");
    const struct {
        const char* user;
        const char* rhost;
        Verdict verdict;
        int line;
    } rows[] = {
        {"bob", "fe80::1%eth0", D, 1},   {"bob", "FE80::a8fb:f9ff:fee6:f02%vh", D, 1},
        {"alice", "fe80::1%2", D, 2},    {"alice", "fe80::2%eth0", A, 3},
        {"bob", "2001:db8::1%eth0", A, 3},  // not link-local: no zone applies, and not in fe80::/10
    };
    for (const auto& r : rows) {
        int dns_before = w.dns.calls();
        Decision d = decide(*policy, w, remote(r.user, r.rhost));
        std::string row = std::string(r.user) + " from " + r.rhost + " -> " + d.explanation();
        CHECK(d.verdict == r.verdict && d.rule != nullptr && d.rule->line == r.line, row);
        CHECK_INT(w.dns.calls(), dns_before, row + " (no DNS)");
    }
}

void origin_slash_zero(void**) {
    run_rows("+ : ALL : 0.0.0.0/0\n",
             {
                 {remote("bob", "1.2.3.4"), A, 1},
                 {remote("bob", "255.255.255.255"), A, 1},
                 {remote("bob", "0.0.0.0"), A, 1},
                 {remote("bob", "::ffff:1.2.3.4"), A, 1},
                 {remote("bob", "::1"), N, 0},
                 {remote("bob", "2001:db8::1"), N, 0},
                 {remote("bob", "v6only.example.com"), N, 0},
                 {remote("bob", "ws1.example.com"), A, 1},
                 {on_tty("bob", "tty1"), N, 0},
             });
    run_rows("+ : ALL : ::/0\n",
             {
                 {remote("bob", "::1"), A, 1},
                 {remote("bob", "2001:db8::1"), A, 1},
                 {remote("bob", "10.0.0.1"), N, 0},
                 {remote("bob", "::ffff:10.0.0.1"), N, 0},
                 {remote("bob", "v6only.example.com"), A, 1},
                 {on_tty("bob", "tty1"), N, 0},
             });
}

void origin_netgroups(void**) {
    World w;
    run_rows("+ : ALL : @trusted\n",
             {
                 {remote("bob", "trusted.example.com"), A, 1},
                 {remote("bob", "10.0.0.5"), A, 1},
                 {remote("bob", "192.0.2.10"), N, 0},  // the address of trusted: not listed as such
                 {on_tty("bob", "tty7"), A, 1},         // compared with the origin string, local too
                 {on_tty("bob", "tty1"), N, 0},
             },
             ParseOptions(), &w);
    CHECK(!w.id.netgroup_calls.empty(), "asked");
    CHECK(w.id.netgroup_calls[0].host == std::string("trusted.example.com"), "host = origin");
    CHECK(!w.id.netgroup_calls[0].user.has_value(), "origins: user is NULL");
    CHECK_INT(w.dns.calls(), 0, "netgroups need no DNS");
}

// However many rules need the rhost's addresses, a host-name rhost is
// resolved once per decision; each decision resolves afresh.
void dns_once_per_decision(void**) {
    World w;
    auto policy = compile_ok(
        "- : ALL : 10.0.0.0/8\n"
        "- : ALL : 172.16.\n"
        "- : ALL : 2001:db8:1::/48\n"
        "- : ALL : 192.0.2.0/24 198.51.100.0/24 203.0.113.0/24\n"
        "- : ALL : 10. 11. 12. 13.\n"
        "+ : ALL : 192.168.1.0/24\n"
        "- : ALL : ALL\n");
    Decision d = decide(*policy, w, remote("bob", "ws1.example.com"));
    CHECK(d.verdict == A && d.rule->line == 6, "ws1 allowed by line 6");
    CHECK_INT(w.dns.calls(), 1, "one lookup for seven rules");
    CHECK_INT(w.dns.calls_for("ws1.example.com"), 1, "the rhost");

    d = decide(*policy, w, remote("bob", "nxdomain.example.com"));
    CHECK(d.verdict == D && d.rule->line == 7, "unresolvable: last rule");
    CHECK_INT(w.dns.calls_for("nxdomain.example.com"), 1, "a failed lookup is not retried in the decision");

    d = decide(*policy, w, remote("bob", "ws1.example.com"));
    CHECK_INT(w.dns.calls_for("ws1.example.com"), 2, "the next decision resolves again");
    CHECK_INT(w.dns.calls(), 3, "total");
}

void dns_only_when_needed(void**) {
    struct DnsRow {
        const char* policy;
        Ask ask;
        Verdict verdict;
    };
    const DnsRow rows[] = {
        // Names, domains, keywords, netgroups: string compares only.
        {"+ : ALL : trusted.example.com .example.org LOCAL tty1 @trusted\n", remote("bob", "ws1.example.com"), N},
        {"+ : ALL : ws1.example.com\n", remote("bob", "ws1.example.com"), A},
        {"+ : ALL : ALL\n", remote("bob", "ws1.example.com"), A},
        // An IP rhost is never resolved.
        {"+ : ALL : 10.0.0.0/8 192.168.\n", remote("bob", "192.168.1.20"), A},
        {"+ : ALL : 10.0.0.0/8 192.168.\n", remote("bob", "2001:db8::1"), N},
        // Local origins are never resolved.
        {"+ : ALL : 10.0.0.0/8 192.168.\n", on_tty("bob", "ws1.example.com"), N},
        {"+ : ALL : 10.0.0.0/8 192.168.\n", service_only("bob", "ws1.example.com"), N},
        // Origins of a rule whose users do not match are not evaluated.
        {"- : root : 10.0.0.0/8\n- : (wheel) : 192.168.\n", remote("bob", "ws1.example.com"), N},
        // A rule outside its time window is not evaluated.
        {"- : ALL : 192.168.0.0/16 : Sa\n", remote("bob", "ws1.example.com"), N},
        // Host-name tokens are never resolved (nodns semantics), even if they
        // would resolve to the rhost's address.
        {"+ : ALL : trusted.example.com\n", remote("bob", "192.0.2.10"), N},
    };
    for (const DnsRow& r : rows) {
        World w;
        auto policy = compile_ok(r.policy);
        std::string row = std::string(r.policy) + " / " + describe(r.ask);
        Decision d = decide(*policy, w, r.ask);
        CHECK_STR(unit::verdict_name(d.verdict), unit::verdict_name(r.verdict), row);
        CHECK_INT(w.dns.calls(), 0, row);
    }
}

void time_fields(void**) {
    const std::string text =
        "+ : alice : ALL : Wk0800-1800\n"
        "- : alice : ALL\n"
        "- : bob : ALL : !Wk0800-1800\n"
        "+ : bob : 10.0.0.0/8 : Al2200-0600\n"
        "+ : bob : ALL\n"
        "- : dave : ALL : Sa2200-0200\n"
        "+ : dave : ALL\n";
    run_rows(text, {
                       {remote("alice", "10.0.0.9", at(unit::kMon, "09:00")), A, 1},
                       {remote("alice", "10.0.0.9", at(unit::kMon, "07:59")), D, 2},
                       {remote("alice", "10.0.0.9", at(unit::kMon, "18:00")), D, 2},
                       {remote("alice", "10.0.0.9", at(unit::kSat, "10:00")), D, 2},
                       {remote("bob", "10.0.0.9", at(unit::kTue, "12:00")), A, 5},
                       {remote("bob", "10.0.0.9", at(unit::kTue, "23:00")), D, 3},
                       {remote("bob", "10.0.0.9", at(unit::kSun, "12:00")), D, 3},
                       {remote("dave", "10.0.0.9", at(unit::kSun, "01:00")), D, 6},
                       {remote("dave", "10.0.0.9", at(unit::kSat, "01:00")), A, 7},
                       {remote("dave", "10.0.0.9", at(unit::kSun, "02:00")), A, 7},
                   });
    // With fieldsep=| a time field can still use '|' between alternatives.
    ParseOptions pipe;
    pipe.fieldsep = "|";
    run_rows("- | ALL | ALL | Wk0800-1800|Sa1000-1200\n",
             {
                 {remote("bob", "10.0.0.9", at(unit::kMon, "09:00")), D, 1},
                 {remote("bob", "10.0.0.9", at(unit::kSat, "11:00")), D, 1},
                 {remote("bob", "10.0.0.9", at(unit::kSat, "13:00")), N, 0},
                 {remote("bob", "10.0.0.9", at(unit::kSun, "11:00")), N, 0},
             },
             pipe);
}

// The classic ESX admin recipe, with the origins that the article lost filled
// in (192.168.1.10 for root's workstation, 192.168.1.20 for badadmin's) and
// the module option atgroup so that @vmadmins is the UNIX group.
const char* const kClassicRecipe =
    "# Access.conf\n"
    "+ : root : crond console tty1 tty2 tty3 tty3 tty5 tty6\n"
    "+ : root : 192.168.1.10\n"
    "+ : @vmadmins EXCEPT badadmin : ALL\n"
    "+ : badadmin : 192.168.1.20\n"
    "- : root : ALL\n"
    "- : ALL : ALL\n";

// A membership the name service cannot answer is unknown, never "not a
// member": a rule whose outcome depends on it refuses (allow and deny rules
// alike); one that is decided whatever the answer is not affected.
void unresolved_groups_fail_closed(void**) {
    World w;
    w.id.failing_groups = {"flaky"};
    w.id.add_group("second", 2000);  // lists nobody: needs the group list
    struct Case {
        const char* text;
        const char* user;
        Verdict verdict;
        int line;
        bool unresolved;
    };
    const Case cases[] = {
        // Deny lines for an unresolvable group: refuse, naming the group.
        {"- : (flaky) : ALL\n", "alice", D, 1, true},
        {"- : flaky : ALL\n", "alice", D, 1, true},
        {"- : ALL EXCEPT (flaky) : ALL\n", "alice", D, 1, true},
        // Allow lines too: refuse rather than fall through to later rules.
        {"+ : (flaky) : ALL\n+ : ALL : ALL\n", "alice", D, 1, true},
        // Decided whatever the answer: no effect.
        {"- : alice (flaky) : ALL\n", "alice", D, 1, false},     // name matches first
        {"- : (flaky) : tty9\n+ : ALL : ALL\n", "alice", A, 2, false},  // origin never matches
        {"- : (flaky) alice : ALL\n", "alice", D, 1, false},     // a later item matches
        {"- : root : ALL\n- : ALL : ALL\n", "alice", D, 2, false},
        // The user's own name is never looked up as a group.
        {"+ : alice : ALL\n", "alice", A, 1, false},
    };
    for (const Case& c : cases) {
        auto policy = compile_ok(c.text);
        Decision d = decide(*policy, w, on_tty(c.user, "tty1"));
        std::string row = std::string(c.text) + " for " + c.user + " -> " + d.explanation();
        CHECK_STR(unit::verdict_name(d.verdict), unit::verdict_name(c.verdict), row);
        CHECK(d.rule != nullptr && d.rule->line == c.line, row);
        CHECK_STR(d.unresolved_group, c.unresolved ? "flaky" : "", row);
        if (c.unresolved) {
            CHECK(unit::contains(d.explanation(), "could not be resolved"), row);
        }
    }

    // A group list that cannot be had: only groups the user is not a listed
    // member of (and not the primary group of) need it.
    w.id.failing_group_lists = {"alice", "carol"};
    auto policy = compile_ok("- : (second) : ALL\n+ : (wheel) : ALL\n");
    Decision d = decide(*policy, w, on_tty("alice", "tty1"));
    CHECK(d.verdict == D && d.unresolved_group == "second", d.explanation());
    policy = compile_ok("- : (wheel) : tty1\n");  // alice is listed in wheel
    CHECK(decide(*policy, w, on_tty("alice", "tty1")).verdict == D, "listed member, no group list needed");
    policy = compile_ok("+ : (vmadmins) : ALL\n");  // carol's primary group
    CHECK(decide(*policy, w, on_tty("carol", "tty1")).verdict == A, "primary group, no group list needed");
}

// Each group name is asked once per decision, only when a rule that names
// it is reached and its origins do not already rule it out, and the user's
// group list at most once: the cost follows the policy, not the number of
// groups the user is in.
void group_lookups_per_decision(void**) {
    World w;
    auto policy = compile_ok(
        "- : (vmadmins) : tty9\n"
        "- : staff vmadmins : tty8\n"
        "- : ALL EXCEPT (vmadmins) (wheel) : tty7\n"
        "+ : (wheel) : ALL\n"
        "- : (never) : ALL\n");
    w.id.group_calls.clear();
    w.id.group_list_calls = 0;
    Decision d = decide(*policy, w, on_tty("alice", "tty1"));
    CHECK(d.verdict == A && d.rule->line == 4, d.explanation());
    // Rules 1-3 cannot match from tty1 whoever alice is: no lookup for them.
    CHECK_INT(w.id.group_calls.size(), 1, "wheel only");
    CHECK_STR(w.id.group_calls[0], "wheel", "the group of the deciding rule");
    CHECK_INT(w.id.group_list_calls, 0, "wheel lists alice: no group list");
    // Where the origins match, every group up to the deciding rule is asked,
    // once each, in order.
    policy = compile_ok(
        "- : (staff) : tty1\n"
        "- : staff : tty1\n"
        "+ : (wheel) : ALL\n"
        "- : (never) : ALL\n");
    w.id.group_calls.clear();
    w.id.group_list_calls = 0;
    d = decide(*policy, w, on_tty("alice", "tty1"));
    CHECK(d.verdict == A && d.rule->line == 3, d.explanation());
    CHECK_INT(w.id.group_calls.size(), 2, "staff, wheel once each");
    CHECK_STR(w.id.group_calls[0] + " " + w.id.group_calls[1], "staff wheel", "order");
    CHECK_INT(w.id.group_list_calls, 1, "staff does not list alice: one group list");
    // An origin that needs DNS is not compared first: the users field is
    // tried first, as the rule reads, and rules the lookup out here.
    policy = compile_ok("- : bob : 10.0.0.0/8\n+ : ALL : ALL\n");
    w.dns.queried.clear();
    decide(*policy, w, remote("alice", "ws1.example.com"));
    CHECK_INT(w.dns.queried.size(), 0, "no DNS for a rule the user is not in");
    // A user name that matches is not looked up as a group.
    w.id.group_calls.clear();
    decide(*compile_ok("+ : alice : ALL\n"), w, on_tty("alice", "tty1"));
    CHECK_INT(w.id.group_calls.size(), 0, "own name");
}

// The one-pass compile-and-decide of a fresh process: the whole text is
// still checked, and evaluation stops at the first invalid line, so an
// invalid policy makes no lookup past it.
void compile_and_decide_stops_at_errors(void**) {
    World w;
    ringfence::core::UserInfo user = w.id.user("alice");
    Request r;
    r.user = &user;
    r.tty = std::string("tty1");
    r.service = "login";
    r.when = kMonday10;
    Environment env{w.id, w.dns};
    auto run = [&](const std::string& text, Decision* d, Diagnostics* diags) {
        std::vector<ringfence::core::ConfigBuffer> files(1);
        files[0].path = "access.conf";
        files[0].data = text;
        w.id.group_calls.clear();
        return Policy::compile_and_decide(std::move(files), ParseOptions(), diags, r, env, d);
    };
    Decision d;
    Diagnostics diags;
    auto policy = run("- : (staff) : ALL\n- : bad line\n+ : (wheel) : ALL\n- : ALL : ALL\n", &d, &diags);
    CHECK(!policy->valid(), "line 2 is invalid");
    CHECK_INT(diags.size(), 1, unit::join_diags(diags));
    CHECK_INT(diags[0].line, 2, "the error is line 2's");
    CHECK_INT(w.id.group_calls.size(), 1, "staff only: nothing past the invalid line");
    // Errors after the deciding rule are still found.
    diags.clear();
    policy = run("+ : (wheel) : ALL\n- : (staff) : ALL\n+ : x y : ALL : Zz0800-1800\n", &d, &diags);
    CHECK(!policy->valid(), "line 3 is invalid, after the rule that decides");
    CHECK_INT(diags.size(), 1, unit::join_diags(diags));
    CHECK_INT(w.id.group_calls.size(), 1, "wheel decided: staff not looked up");
    // A valid policy: the decision of evaluate(), its rule whole.
    diags.clear();
    policy = run("# comment\n- : (staff) : ALL\n+ : (wheel) : ALL\n- : ALL : ALL\n", &d, &diags);
    CHECK(policy->valid(), unit::join_diags(diags));
    CHECK(d.verdict == A && d.rule != nullptr && d.rule->line == 3, d.explanation());
    CHECK_STR(d.rule->source, "+ : (wheel) : ALL", "source as written");
    CHECK_STR(d.rule->location(), "access.conf:3", "location");
    CHECK_STR(d.rule->users.text, "(wheel)", "list as written");
    Decision again = decide(*policy, w, on_tty("alice", "tty1"));
    CHECK(again.verdict == d.verdict && again.rule->line == d.rule->line, again.explanation());
    CHECK_INT(policy->rules().size(), 3, "every rule, built on demand");
}

// Three-valued EXCEPT: A EXCEPT B EXCEPT C with an unknown part.
void unresolved_in_except_chains(void**) {
    World w;
    w.id.failing_groups = {"flaky"};
    struct Case {
        const char* users;
        Verdict verdict;  // for alice from tty1, rule "- : USERS : ALL" then "+ : ALL : ALL"
        bool unresolved;
    };
    const Case cases[] = {
        {"ALL EXCEPT (flaky)", D, true},               // ALL and not unknown
        {"ALL EXCEPT (flaky) EXCEPT alice", D, false},  // not (unknown and not yes) = yes
        {"ALL EXCEPT alice EXCEPT (flaky)", D, true},   // not (yes and not unknown)
        {"ALL EXCEPT (wheel) EXCEPT (flaky)", D, true},
        {"ALL EXCEPT bob EXCEPT (flaky)", D, false},    // bob: no, the rest is never tried
        {"(flaky) EXCEPT alice", A, false},             // unknown and not yes = no
    };
    for (const Case& c : cases) {
        auto policy = compile_ok(std::string("- : ") + c.users + " : ALL\n+ : ALL : ALL\n");
        Decision d = decide(*policy, w, on_tty("alice", "tty1"));
        std::string row = std::string(c.users) + " -> " + d.explanation();
        CHECK_STR(unit::verdict_name(d.verdict), unit::verdict_name(c.verdict), row);
        CHECK(d.unresolved_group.empty() != c.unresolved, row);
    }
}

void classic_recipe(void**) {
    ParseOptions atgroup;
    atgroup.atgroup = true;
    run_rows(kClassicRecipe,
             {
                 {remote("root", "10.1.2.3"), D, 6},      // root from a remote host
                 {remote("root", "192.168.1.10"), A, 3},  // root from its one host
                 {on_tty("root", "/dev/tty1"), A, 2},
                 {on_tty("root", "console"), A, 2},
                 {on_tty("root", "tty4"), D, 6},  // the recipe lists tty3 twice, no tty4
                 {service_only("root", "crond"), A, 2},
                 {Ask{"root", "", std::string("cron"), "crond", kMonday10}, D, 6},  // cronie sets PAM_TTY=cron
                 {remote("alice", "10.1.2.3"), A, 4},    // vmadmins member
                 {remote("vpxuser", "10.0.0.50"), A, 4},  // vCenter's user
                 {remote("carol", "10.1.2.3"), A, 4},    // vmadmins by primary group
                 {remote("badadmin", "10.1.2.3"), D, 7},
                 {remote("badadmin", "192.168.1.20"), A, 5},
                 {remote("bob", "10.1.2.3"), D, 7},
                 {on_tty("bob", "tty1"), D, 7},
             },
             atgroup);
    // Without atgroup, @vmadmins is a netgroup that does not exist: the
    // admins are locked out, exactly as with stock pam_access.
    run_rows(kClassicRecipe,
             {
                 {remote("alice", "10.1.2.3"), D, 7},
                 {remote("vpxuser", "10.0.0.50"), D, 7},
                 {remote("root", "192.168.1.10"), A, 3},
             });
    // The recipe as printed (origins lost) does not compile: fail closed.
    Diagnostics diags;
    auto policy = unit::compile_text(
        "# Access.conf\n"
        "+ : root : crond console tty1 tty2 tty3 tty3 tty5 tty6\n"
        "+ : root :\n"
        "+ : @vmadmins EXCEPT badadmin : ALL\n"
        "+ : badadmin :\n"
        "- : root : ALL\n"
        "- : ALL : ALL\n",
        atgroup, &diags);
    CHECK(!policy->valid(), "printed recipe");
    CHECK_INT(diags.size(), 2, unit::join_diags(diags));
    CHECK_STR(diags[0].one_line(), "access.conf:3:11: error: empty origins field", diags[0].one_line());
    CHECK_STR(diags[1].one_line(), "access.conf:5:15: error: empty origins field", diags[1].one_line());
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_match_wins),     cmocka_unit_test(all_and_local),
        cmocka_unit_test(user_names),           cmocka_unit_test(bare_names_as_groups),
        cmocka_unit_test(parenthesised_groups), cmocka_unit_test(netgroups_and_atgroup),
        cmocka_unit_test(host_netgroups),       cmocka_unit_test(user_at_host),
        cmocka_unit_test(except_nesting),       cmocka_unit_test(origin_of_table),
        cmocka_unit_test(origin_names),         cmocka_unit_test(origin_domains),
        cmocka_unit_test(origin_v4_prefixes),   cmocka_unit_test(origin_addresses),
        cmocka_unit_test(origin_slash_zero),    cmocka_unit_test(origin_netgroups),
        cmocka_unit_test(origin_link_local_zone),
        cmocka_unit_test(dns_once_per_decision), cmocka_unit_test(dns_only_when_needed),
        cmocka_unit_test(time_fields),          cmocka_unit_test(classic_recipe),
        cmocka_unit_test(unresolved_groups_fail_closed), cmocka_unit_test(group_lookups_per_decision),
        cmocka_unit_test(compile_and_decide_stops_at_errors),
        cmocka_unit_test(unresolved_in_except_chains),
    };
    unit::apply_filters();
    return cmocka_run_group_tests_name("access_evaluate", tests, nullptr, nullptr);
}
