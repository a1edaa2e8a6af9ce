// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for access::explain: policy + request -> the records and the
// text (every rule considered, why each item did or did not match, the
// verdict), unresolvable memberships shown as such, the request-time parser,
// and the property that matters most: over many generated policies and
// requests, explain decides exactly as Policy::evaluate, with the same
// lookups.
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "fakes.h"
#include "pam_module/access_explain.h"
#include "unit_test.h"

using ringfence::access::Decision;
using ringfence::access::Environment;
using ringfence::access::Explanation;
using ringfence::access::Match;
using ringfence::access::ParseOptions;
using ringfence::access::Policy;
using ringfence::access::Request;
using ringfence::access::Step;
using ringfence::access::Verdict;
using ringfence::core::Diagnostics;
using ringfence::core::LocalTime;
using unit::at;
using unit::FakeIdentity;
using unit::FakeNameService;

namespace {

// Users: root; alice (wheel, vmadmins); bob; carol (primary group vmadmins);
// dave (group list unavailable). Groups root, wheel, staff, users, vmadmins,
// second (lists nobody); "flaky" cannot be looked up.
struct World {
    FakeIdentity id;
    FakeNameService dns;
    World() {
        id.add_group("root", 0);
        id.add_group("wheel", 10, {"alice"});
        id.add_group("staff", 50);
        id.add_group("users", 100);
        id.add_group("vmadmins", 1000, {"alice", "badadmin"});
        id.add_group("second", 2000);
        id.add_user("root", 0, 0);
        id.add_user("alice", 1001, 100);
        id.add_user("bob", 1002, 100);
        id.add_user("carol", 1003, 1000);
        id.add_user("dave", 1004, 50);
        id.add_user("badadmin", 1005, 100);
        id.failing_groups = {"flaky"};
        id.failing_group_lists = {"dave"};
        id.add_triple("ngadmins", {"", "alice", ""});
        id.add_triple("trusted", {"ws1.example.com", "", ""});
        id.add_triple("hostuser", {"vmhost.example.com", "bob", ""});
        dns.add("ws1.example.com", {"192.168.1.20", "2001:db8::20"});
        dns.add("vmhost.example.com", {"10.0.0.1"});
    }
};

std::shared_ptr<const Policy> compile_ok(const std::string& text, const ParseOptions& options = ParseOptions()) {
    Diagnostics diags;
    auto policy = unit::compile_text(text, options, &diags);
    if (!policy->valid()) {
        fail_msg("test setup: policy does not compile: %s", unit::join_diags(diags).c_str());
    }
    return policy;
}

struct Ask {
    const char* user;
    const char* rhost;
    const char* tty;  // null: none
    const char* service;
    LocalTime when;
};

Request request(World& w, const Ask& a, ringfence::core::UserInfo* user) {
    *user = w.id.user(a.user);
    Request r;
    r.user = user;
    r.rhost = a.rhost;
    if (a.tty != nullptr) {
        r.tty = std::string(a.tty);
    }
    r.service = a.service;
    r.when = a.when;
    return r;
}

std::string explain_text(const std::string& policy_text, const Ask& a, const ParseOptions& options = ParseOptions()) {
    World w;
    auto policy = compile_ok(policy_text, options);
    ringfence::core::UserInfo user;
    Request r = request(w, a, &user);
    Environment env{w.id, w.dns};
    Explanation e = ringfence::access::explain(*policy, r, env);
    return ringfence::access::format_explanation(e);
}

// The example of ringfence-accesschk(8).
void example_text(void**) {
    const char* policy =
        "+ : root : LOCAL\n"
        "# admins from the management network, out of hours\n"
        "- : ALL EXCEPT root : ALL : Wk0800-1800\n"
        "\n"
        "+ : (vmadmins) : 10.0.0.0/8\n"
        "- : ALL : ALL\n";
    CHECK_STR(explain_text(policy, {"alice", "10.1.2.3", nullptr, "sshd", at(unit::kTue, "21:00")}),
              "access.conf:1: + : root : LOCAL\n"
              "  users   alice is neither root nor in group root: no match\n"
              "access.conf:3: - : ALL EXCEPT root : ALL : Wk0800-1800\n"
              "  time    Tue 21:00 is outside Wk0800-1800: no match\n"
              "access.conf:5: + : (vmadmins) : 10.0.0.0/8\n"
              "  users   alice is in group vmadmins (listed member)\n"
              "  origins 10.1.2.3 is in 10.0.0.0/8\n"
              "  -> allowed by access.conf:5\n"
              "verdict: allowed by access.conf:5\n",
              "alice from 10.1.2.3");
    CHECK_STR(explain_text(policy, {"bob", "", "/dev/tty1", "login", at(unit::kMon, "10:00")}),
              "access.conf:1: + : root : LOCAL\n"
              "  users   bob is neither root nor in group root: no match\n"
              "access.conf:3: - : ALL EXCEPT root : ALL : Wk0800-1800\n"
              "  time    Mon 10:00 is within Wk0800-1800\n"
              "  users   ALL matches every user\n"
              "  users   EXCEPT root: bob is neither root nor in group root\n"
              "  origins ALL matches every origin\n"
              "  -> denied by access.conf:3\n"
              "verdict: denied by access.conf:3\n",
              "bob on tty1");
    CHECK_STR(explain_text(policy, {"root", "", "/dev/tty1", "login", at(unit::kMon, "10:00")}),
              "access.conf:1: + : root : LOCAL\n"
              "  users   root is root\n"
              "  origins tty1 is LOCAL (no rhost)\n"
              "  -> allowed by access.conf:1\n"
              "verdict: allowed by access.conf:1\n",
              "root on tty1");
}

void except_and_no_match(void**) {
    CHECK_STR(explain_text("+ : ALL EXCEPT root : ALL\n", {"root", "", "tty1", "login", at(unit::kMon, "10:00")}),
              "access.conf:1: + : ALL EXCEPT root : ALL\n"
              "  users   ALL matches every user\n"
              "  users   EXCEPT root: root is root: no match\n"
              "verdict: no rule matched (allowed, as pam_access)\n",
              "excepted");
    CHECK_STR(explain_text("- : alice : ALL EXCEPT 10.0.0.0/8 EXCEPT 10.1.0.0/16\n",
                           {"alice", "10.1.2.3", nullptr, "sshd", at(unit::kMon, "10:00")}),
              "access.conf:1: - : alice : ALL EXCEPT 10.0.0.0/8 EXCEPT 10.1.0.0/16\n"
              "  users   alice is alice\n"
              "  origins ALL matches every origin\n"
              "  origins EXCEPT 10.0.0.0/8: 10.1.2.3 is in 10.0.0.0/8\n"
              "  origins EXCEPT EXCEPT 10.1.0.0/16: 10.1.2.3 is in 10.1.0.0/16\n"
              "  -> denied by access.conf:1\n"
              "verdict: denied by access.conf:1\n",
              "double except");
}

void origins_in_words(void**) {
    struct Row {
        const char* policy;
        Ask ask;
        const char* line;  // the origins line of rule 1
    };
    const LocalTime t = at(unit::kMon, "10:00");
    const Row rows[] = {
        {"+ : alice : 192.168.0.0/16\n", {"alice", "ws1.example.com", nullptr, "sshd", t},
         "  origins ws1.example.com (192.168.1.20) is in 192.168.0.0/16\n"},
        {"+ : alice : 10.0.0.0/8\n", {"alice", "ws1.example.com", nullptr, "sshd", t},
         "  origins ws1.example.com (192.168.1.20, 2001:db8::20) are not in 10.0.0.0/8: no match\n"},
        {"+ : alice : 10.0.0.0/8\n", {"alice", "nowhere.example.com", nullptr, "sshd", t},
         "  origins nowhere.example.com (no address) is not in 10.0.0.0/8: no match\n"},
        {"+ : alice : 10.0.0.5\n", {"alice", "10.0.0.6", nullptr, "sshd", t},
         "  origins 10.0.0.6 is not 10.0.0.5: no match\n"},
        {"+ : alice : 192.168.\n", {"alice", "192.168.1.20", nullptr, "sshd", t},
         "  origins 192.168.1.20 starts with 192.168.\n"},
        {"+ : alice : .example.com\n", {"alice", "ws1.example.com", nullptr, "sshd", t},
         "  origins ws1.example.com ends in .example.com\n"},
        {"+ : alice : .example.org\n", {"alice", "ws1.example.com", nullptr, "sshd", t},
         "  origins ws1.example.com does not end in .example.org: no match\n"},
        {"+ : alice : LOCAL\n", {"alice", "10.0.0.6", nullptr, "sshd", t},
         "  origins 10.0.0.6 is a remote host (rhost), not LOCAL: no match\n"},
        {"+ : alice : 10.0.0.0/8\n", {"alice", "", "tty1", "login", t},
         "  origins tty1 is not 10.0.0.0/8 (only a remote host can be in it): no match\n"},
        {"+ : alice : @trusted\n", {"alice", "ws1.example.com", nullptr, "sshd", t},
         "  origins ws1.example.com is in netgroup trusted\n"},
        {"+ : alice : crond\n", {"alice", "", nullptr, "crond", t}, "  origins crond is crond\n"},
    };
    for (const Row& r : rows) {
        std::string text = explain_text(r.policy, r.ask);
        CHECK(unit::contains(text, r.line), std::string(r.policy) + " ->\n" + text);
    }
}

void users_in_words(void**) {
    struct Row {
        const char* policy;
        const char* user;
        ParseOptions options;
        const char* line;
    };
    ParseOptions nodefgroup;
    nodefgroup.nodefgroup = true;
    ParseOptions atgroup;
    atgroup.atgroup = true;
    const Row rows[] = {
        {"+ : ALICE : ALL\n", "alice", {}, "  users   alice is ALICE (user names compare without case)\n"},
        {"+ : wheel : ALL\n", "alice", {}, "  users   alice is in group wheel (listed member)\n"},
        {"+ : wheel : ALL\n", "alice", nodefgroup,
         "  users   alice is not wheel (nodefgroup: a bare name is not a group): no match\n"},
        {"+ : (vmadmins) : ALL\n", "carol", {}, "  users   carol is in group vmadmins (primary group)\n"},
        {"+ : (wheel) : ALL\n", "bob", {}, "  users   bob is not in group wheel: no match\n"},
        {"+ : nosuch : ALL\n", "bob", {}, "  users   bob is not nosuch, and there is no group nosuch: no match\n"},
        {"+ : (nosuch) : ALL\n", "bob", {}, "  users   there is no group nosuch: no match\n"},
        {"+ : @ngadmins : ALL\n", "alice", {}, "  users   alice is in netgroup ngadmins\n"},
        {"+ : @vmadmins : ALL\n", "alice", atgroup, "  users   alice is in group vmadmins (listed member)\n"},
        {"+ : @@hostuser : ALL\n", "bob", {}, "  users   (vmhost.example.com, bob) is in netgroup hostuser\n"},
        {"+ : bob@10.0.0.0/8 : ALL\n", "bob", {},
         "  users   bob is bob; this host vmhost.example.com (10.0.0.1) is in 10.0.0.0/8\n"},
    };
    for (const Row& r : rows) {
        std::string text = explain_text(r.policy, {r.user, "", "tty1", "login", at(unit::kMon, "10:00")}, r.options);
        CHECK(unit::contains(text, r.line), std::string(r.policy) + " for " + r.user + " ->\n" + text);
    }
}

// The evaluator's third value: the trace says which membership could not be
// resolved, and the rule refuses.
void unknown_memberships(void**) {
    World w;
    auto policy = compile_ok("+ : root : LOCAL\n+ : (flaky) : ALL\n+ : ALL : ALL\n");
    ringfence::core::UserInfo user;
    Request r = request(w, {"alice", "", "tty1", "login", at(unit::kMon, "10:00")}, &user);
    Environment env{w.id, w.dns};
    Explanation e = ringfence::access::explain(*policy, r, env);
    CHECK_INT(e.rules.size(), 2, "rules considered");
    CHECK(e.rules[0].result == Match::no, "rule 1");
    CHECK(e.rules[1].result == Match::unknown, "rule 2");
    // Unknown is not "no": the origins are still looked at.
    CHECK_INT(e.rules[1].steps.size(), 2, "steps of rule 2");
    const Step& s = e.rules[1].steps[0];
    CHECK(s.field == Step::Field::users && s.part == 0 && s.token != nullptr && s.token->text == "(flaky)", "step");
    CHECK(s.result == Match::unknown, "step result");
    CHECK(e.decision.verdict == Verdict::deny && e.decision.rule == &policy->rules()[1], "decision");
    CHECK_STR(e.decision.unresolved_group, "flaky", "unresolved");
    CHECK_STR(ringfence::access::format_explanation(e),
              "access.conf:1: + : root : LOCAL\n"
              "  users   alice is neither root nor in group root: no match\n"
              "access.conf:2: + : (flaky) : ALL\n"
              "  users   whether alice is in group flaky is unknown: the name service failed to look up the group\n"
              "  origins ALL matches every origin\n"
              "  -> denied: access.conf:2 may apply, but the membership of group 'flaky' could not be resolved\n"
              "verdict: denied: access.conf:2 may apply, but the membership of group 'flaky' could not be resolved\n",
              "text");

    // A group list that cannot be had.
    std::string text = explain_text("- : (second) : ALL\n", {"dave", "", "tty1", "login", at(unit::kMon, "10:00")});
    CHECK(unit::contains(text, "  users   whether dave is in group second is unknown: the name service failed to "
                               "list the user's groups\n"),
          text);
}

void describe_requests(void**) {
    World w;
    ringfence::core::UserInfo user;
    Request r = request(w, {"alice", "10.1.2.3", "ssh", "sshd", at(unit::kTue, "21:05")}, &user);
    CHECK_STR(ringfence::access::describe_request(r), "user alice, from 10.1.2.3 (rhost), service sshd, at Tue 21:05",
              "rhost");
    r = request(w, {"alice", "", "/dev/pts/3", "login", at(unit::kSun, "00:00")}, &user);
    CHECK_STR(ringfence::access::describe_request(r), "user alice, from pts/3 (tty), service login, at Sun 00:00",
              "tty");
    r = request(w, {"alice", "", nullptr, "crond", at(unit::kSat, "23:59")}, &user);
    CHECK_STR(ringfence::access::describe_request(r), "user alice, from crond (service), service crond, at Sat 23:59",
              "service");
}

void request_times(void**) {
    struct Row {
        const char* text;
        int weekday;  // -1: refused
        int minute;
    };
    const Row rows[] = {
        {"Tue 21:00", 2, 21 * 60},
        {"tuesday 09:05", 2, 9 * 60 + 5},
        {"TU 00:00", 2, 0},
        {"Sun 23:59", 0, 23 * 60 + 59},
        {"  Sat   12:30 ", 6, 12 * 60 + 30},
        {"2024-05-14 21:00", 2, 21 * 60},
        {"2000-02-29 00:00", 2, 0},
        {"1970-01-01 08:00", 4, 8 * 60},
        {"1969-12-31 08:00", 3, 8 * 60},
        {"2100-03-01 08:00", 1, 8 * 60},
        {"Tue 24:00", -1, 0},
        {"Tue 9:00", -1, 0},
        {"Tue 21:60", -1, 0},
        {"Tue", -1, 0},
        {"Tue 21:00 extra", -1, 0},
        {"Tuesdays 21:00", -1, 0},
        {"T 21:00", -1, 0},
        {"2023-02-29 10:00", -1, 0},
        {"2024-13-01 10:00", -1, 0},
        {"2024-04-31 10:00", -1, 0},
        {"2024-5-14 10:00", -1, 0},
        {"", -1, 0},
    };
    for (const Row& r : rows) {
        std::string why;
        auto t = ringfence::access::parse_request_time(r.text, &why);
        if (r.weekday < 0) {
            CHECK(!t && !why.empty(), r.text);
        } else {
            CHECK(t.has_value(), std::string(r.text) + ": " + why);
            if (t) {
                CHECK_INT(t->weekday, r.weekday, r.text);
                CHECK_INT(t->minute, r.minute, r.text);
            }
        }
    }
}

// ---- explain decides as evaluate, with the same lookups ----

const char* const kUserItems[] = {
    "ALL",         "root",       "alice",          "bob",         "carol",    "dave",     "wheel",
    "(wheel)",     "(vmadmins)", "(flaky)",        "flaky",       "(second)", "nosuch",   "@ngadmins",
    "@vmadmins",   "@@hostuser", "ALICE",          "bob@vmhost.example.com", "alice@10.0.0.0/8", "(users)",
    "staff",
};
const char* const kOriginItems[] = {
    "ALL",       "LOCAL",           "tty1",        "cron",         "10.0.0.0/8", "10.1.2.3",   "192.168.",
    ".example.com", "ws1.example.com", "@trusted",  "2001:db8::/32", "sshd",      "0.0.0.0/0",  "pts/0",
    "::ffff:10.0.0.0/104",
};
const char* const kTimes[] = {"", "", "", "Wk0800-1800", "!Al", "SaSu", "Al2200-0600", "Wk0900-1700|Sa1000-1200"};

template <size_t N>
const char* pick(std::mt19937& rng, const char* const (&items)[N]) {
    return items[std::uniform_int_distribution<size_t>(0, N - 1)(rng)];
}

std::string random_list(std::mt19937& rng, const char* const* items, size_t n_items) {
    std::string out;
    int parts = std::uniform_int_distribution<int>(0, 5)(rng) == 0 ? 2 + (rng() % 2) : 1;
    for (int p = 0; p < parts; ++p) {
        if (p > 0) {
            out += " EXCEPT ";
        }
        int n = 1 + static_cast<int>(rng() % 3);
        for (int i = 0; i < n; ++i) {
            out += (i > 0 ? " " : "") + std::string(items[rng() % n_items]);
        }
    }
    return out;
}

std::string random_policy(std::mt19937& rng) {
    std::string text;
    int rules = 1 + static_cast<int>(rng() % 6);
    for (int i = 0; i < rules; ++i) {
        text += rng() % 2 ? "+ : " : "- : ";
        text += random_list(rng, kUserItems, sizeof kUserItems / sizeof kUserItems[0]);
        text += " : ";
        text += random_list(rng, kOriginItems, sizeof kOriginItems / sizeof kOriginItems[0]);
        std::string times = pick(rng, kTimes);
        if (!times.empty()) {
            text += " : " + times;
        }
        text += "\n";
    }
    return text;
}

std::string why_denied(const std::string& policy_text, const Ask& a, size_t max_len = 800) {
    World w;
    auto policy = compile_ok(policy_text);
    ringfence::core::UserInfo user;
    Request r = request(w, a, &user);
    Environment env{w.id, w.dns};
    Decision d = policy->evaluate(r, env);
    return ringfence::access::denial_reason(*policy, r, env, d, max_len);
}

// The why of the module's denial log line: the deciding rule and the
// nearest earlier allow rule that named the user but did not match.
void denial_reasons(void**) {
    const Ask bob_evening{"bob", "10.1.2.3", nullptr, "sshd", at(unit::kTue, "21:00")};
    const char* timed =
        "+ : root : ALL\n"
        "+ : bob : ALL : Wk0800-1800\n"
        "+ : alice : ALL\n"
        "- : ALL : ALL\n";
    CHECK_STR(why_denied(timed, bob_evening), "- : ALL : ALL; line 2 did not match: outside Wk0800-1800", "time");
    CHECK_STR(why_denied(timed, {"bob", "10.1.2.3", nullptr, "sshd", at(unit::kTue, "10:00")}), "", "allowed");
    CHECK_STR(why_denied("+ : alice : ALL : Wk0800-1800\n- : ALL : ALL\n", bob_evening), "- : ALL : ALL",
              "a rule for another user is not the reason");
    CHECK_STR(why_denied("+ : alice : ALL\n- : bob : 10.9.9.9\n+ : bob : ALL\n",
                         {"bob", "10.9.9.9", nullptr, "sshd", at(unit::kTue, "10:00")}),
              "- : bob : 10.9.9.9", "an allow rule after the deciding one is not the reason");
    CHECK_STR(why_denied("+ : (users) : 10.0.0.0/8 192.168.0.0/16\n- : bob : ALL : Wk0800-1800\n"
                         "+ : bob : LOCAL\n- : ALL : ALL\n",
                         {"bob", "172.16.0.1", nullptr, "sshd", at(unit::kTue, "21:00")}),
              "- : ALL : ALL; line 3 did not match: 172.16.0.1 is a remote host (rhost), not LOCAL",
              "the nearest allow rule; deny rules are not reasons");
    CHECK_STR(why_denied("+ : (users) : 10.0.0.0/8 192.168.0.0/16\n- : ALL : ALL\n",
                         {"bob", "172.16.0.1", nullptr, "sshd", at(unit::kTue, "21:00")}),
              "- : ALL : ALL; line 1 did not match: 172.16.0.1 is not in 10.0.0.0/8, "
              "172.16.0.1 is not in 192.168.0.0/16",
              "every origin item");
    CHECK_STR(why_denied("+ : bob : ALL EXCEPT 10.0.0.0/8\n- : ALL : ALL\n",
                         {"bob", "10.1.2.3", nullptr, "sshd", at(unit::kTue, "21:00")}),
              "- : ALL : ALL; line 1 did not match: ALL matches every origin, "
              "EXCEPT 10.0.0.0/8: 10.1.2.3 is in 10.0.0.0/8",
              "excepted origin");
    // Unresolved: the module logs its own wording.
    CHECK_STR(why_denied("+ : (flaky) : ALL\n- : ALL : ALL\n", bob_evening), "", "unresolved group");
    // Hostile and long text: escaped, cut, never inside an escape.
    std::string rule = "- : bob \x1b[31m" + std::string(200, 'x') + " : ALL\n";
    std::string got = why_denied(rule, bob_evening);
    CHECK(got.find('\x1b') == std::string::npos, got);
    CHECK(unit::contains(got, "\\x1b[31m"), got);
    CHECK_INT(got.size(), 123, got);
    got = why_denied("+ : bob : ALL : Wk0800-1800\n" + rule, bob_evening);
    CHECK(unit::contains(got, "...; line 1 did not match: outside Wk0800-1800"), got);
    for (size_t max = 1; max < 20; ++max) {
        got = why_denied("- : bob \x1b\x1b\x1b\x1b\x1b : ALL\n", bob_evening, max);
        CHECK(got.size() <= max + 3, got);
        size_t tail = got.rfind('\\');
        CHECK(tail == std::string::npos || got.size() - 3 - tail == 4, got);
    }
}

ringfence::core::Decision common(const std::string& policy_text, const Ask& a) {
    World w;
    auto policy = compile_ok(policy_text);
    ringfence::core::UserInfo user;
    Request r = request(w, a, &user);
    Environment env{w.id, w.dns};
    return ringfence::access::decision_of(ringfence::access::explain(*policy, r, env));
}

// The one Decision shape: source, verdict and the reason in words.
void common_decisions(void**) {
    const char* policy =
        "+ : root : LOCAL\n"
        "+ : (vmadmins) : 10.0.0.0/8\n"
        "+ : bob : 10.0.0.0/8 192.168.0.0/16\n"
        "- : ALL : ALL\n";
    ringfence::core::Decision d = common(policy, {"alice", "10.1.2.3", nullptr, "sshd", at(unit::kTue, "21:00")});
    CHECK_STR(d.summary(),
              "allowed by access.conf:2 (+ : (vmadmins) : 10.0.0.0/8): alice is in group vmadmins (listed member); "
              "10.1.2.3 is in 10.0.0.0/8",
              "allow");
    d = common(policy, {"bob", "172.16.0.1", nullptr, "sshd", at(unit::kTue, "21:00")});
    CHECK_STR(d.summary(),
              "denied by access.conf:4 (- : ALL : ALL): line 3 did not match: 172.16.0.1 is not in 10.0.0.0/8, "
              "172.16.0.1 is not in 192.168.0.0/16",
              "deny with the allow rule that named the user");
    CHECK(d.source.file == "access.conf" && d.source.line == 4 && !d.allowed(), d.summary());
    d = common(policy, {"dave", "172.16.0.1", nullptr, "sshd", at(unit::kTue, "21:00")});
    CHECK_STR(d.summary(), "denied by access.conf:4 (- : ALL : ALL): ALL matches every user; ALL matches every origin",
              "deny, no rule named the user");
    d = common("+ : root : LOCAL\n", {"bob", "10.1.2.3", nullptr, "sshd", at(unit::kTue, "21:00")});
    CHECK(d.allowed() && d.source.is_default(), d.summary());
    CHECK_STR(d.summary(),
              "allowed by default (no rule matched (pam_access allows)): 1 rule considered for 10.1.2.3, none "
              "matched",
              "default");
    d = common("+ : (flaky) : ALL\n- : ALL : ALL\n", {"bob", "10.1.2.3", nullptr, "sshd", at(unit::kTue, "21:00")});
    CHECK_STR(d.summary(),
              "denied by access.conf:1 (+ : (flaky) : ALL): cannot resolve whether the user is in group 'flaky' "
              "(refused)",
              "unresolved");
}

void explain_decides_as_evaluate(void**) {
    std::mt19937 rng(20240514);
    const char* const users[] = {"root", "alice", "bob", "carol", "dave", "badadmin"};
    const char* const rhosts[] = {"", "", "10.1.2.3", "192.168.1.20", "ws1.example.com", "nowhere.example.com",
                                  "2001:db8::7", "::ffff:10.9.9.9", "fe80::1%eth0"};
    const char* const ttys[] = {"", "tty1", "/dev/tty1", "/dev/pts/0", "cron", "ssh"};
    const char* const services[] = {"sshd", "login", "crond", ""};
    int compared = 0;
    int by_verdict[3] = {0, 0, 0};
    int unknown = 0;
    for (int p = 0; p < 1500; ++p) {
        std::string text = random_policy(rng);
        ParseOptions options;
        options.atgroup = rng() % 2;
        options.nodefgroup = rng() % 4 == 0;
        Diagnostics diags;
        auto policy = unit::compile_text(text, options, &diags);
        CHECK(policy->valid(), text + unit::join_diags(diags));
        for (int q = 0; q < 16; ++q) {
            Ask a{pick(rng, users), pick(rng, rhosts), nullptr, pick(rng, services),
                  LocalTime{static_cast<int>(rng() % 7), static_cast<int>(rng() % 1440)}};
            const char* tty = pick(rng, ttys);
            a.tty = *tty != '\0' ? tty : nullptr;
            if (*a.rhost == '\0' && a.tty == nullptr && *a.service == '\0') {
                a.service = "sshd";
            }
            std::string row = text + "request: " + a.user + " rhost=" + a.rhost + " tty=" + (a.tty ? a.tty : "-") +
                              " service=" + a.service;

            World w1;
            ringfence::core::UserInfo u1;
            Request r1 = request(w1, a, &u1);
            Environment env1{w1.id, w1.dns};
            Decision d = policy->evaluate(r1, env1);

            World w2;
            ringfence::core::UserInfo u2;
            Request r2 = request(w2, a, &u2);
            Environment env2{w2.id, w2.dns};
            Explanation e = ringfence::access::explain(*policy, r2, env2);

            CHECK(e.decision.verdict == d.verdict, row + "\nexplain: " + e.decision.explanation() +
                                                       "\nevaluate: " + d.explanation());
            CHECK(e.decision.rule == d.rule, row);
            CHECK_STR(e.decision.unresolved_group, d.unresolved_group, row);
            CHECK_STR(e.decision.origin, d.origin, row);
            CHECK(e.decision.remote == d.remote, row);
            // Every rule up to the deciding one, that one last.
            size_t expect_rules = d.rule == nullptr ? policy->rules().size()
                                                    : static_cast<size_t>(d.rule - policy->rules().data()) + 1;
            CHECK_INT(e.rules.size(), expect_rules, row);
            for (size_t i = 0; i < e.rules.size(); ++i) {
                CHECK(e.rules[i].rule == &policy->rules()[i], row);
                CHECK(!e.rules[i].steps.empty(), row);
                bool last = i + 1 == e.rules.size() && d.rule != nullptr;
                CHECK(last ? e.rules[i].result != Match::no : e.rules[i].result == Match::no, row);
            }
            // No lookup that explain does not make: explain also looks up
            // the groups of rules whose origins evaluate() found not to
            // match without any lookup (it reads users first).
            for (const std::string& g : w1.id.group_calls) {
                CHECK(std::find(w2.id.group_calls.begin(), w2.id.group_calls.end(), g) != w2.id.group_calls.end(),
                      row + "group " + g + " looked up by evaluate, not by explain");
            }
            CHECK(w1.id.group_calls.size() <= w2.id.group_calls.size(), row);
            CHECK(w1.id.group_list_calls <= w2.id.group_list_calls, row);
            CHECK(w1.id.netgroup_calls.size() <= w2.id.netgroup_calls.size(), row);
            CHECK(w1.dns.queried.size() <= w2.dns.queried.size(), row);
            CHECK(w1.id.host_name_calls <= w2.id.host_name_calls, row);
            CHECK(w1.id.domain_calls <= w2.id.domain_calls, row);
            // After a denial the why is built (the deep trace decides the same);
            // after anything else, or an unresolved group, it is empty.
            World w3;
            ringfence::core::UserInfo u3;
            Request r3 = request(w3, a, &u3);
            Environment env3{w3.id, w3.dns};
            std::string why = ringfence::access::denial_reason(*policy, r3, env3, d, 800);
            bool plain_deny = d.verdict == Verdict::deny && d.unresolved_group.empty();
            CHECK(why.empty() != plain_deny, row + "\nwhy: " + why);
            CHECK(why.size() <= 803, row);
            // One pass, as a fresh process decides: the same decision, the
            // same lookups in the same order as evaluate().
            World w4;
            ringfence::core::UserInfo u4;
            Request r4 = request(w4, a, &u4);
            Environment env4{w4.id, w4.dns};
            Diagnostics diags4;
            Decision once;
            std::vector<ringfence::core::ConfigBuffer> bufs(1);
            bufs[0].path = "access.conf";
            bufs[0].data = text;
            auto fresh = Policy::compile_and_decide(std::move(bufs), options, &diags4, r4, env4, &once);
            CHECK(fresh->valid(), row);
            CHECK(once.verdict == d.verdict, row + "\nonce: " + once.explanation() + "\nevaluate: " + d.explanation());
            CHECK((once.rule == nullptr) == (d.rule == nullptr), row);
            if (once.rule != nullptr && d.rule != nullptr) {
                CHECK_STR(once.rule->location(), d.rule->location(), row);
                CHECK_STR(once.rule->source, d.rule->source, row);
            }
            CHECK_STR(once.unresolved_group, d.unresolved_group, row);
            CHECK_STR(once.origin, d.origin, row);
            CHECK(once.remote == d.remote, row);
            CHECK(w4.id.group_calls == w1.id.group_calls, row);
            CHECK_INT(w4.id.group_list_calls, w1.id.group_list_calls, row);
            CHECK_INT(w4.id.netgroup_calls.size(), w1.id.netgroup_calls.size(), row);
            CHECK(w4.dns.queried == w1.dns.queried, row);
            // As on checked stamps (the file known clean): only what the
            // decision needs is compiled; the same decision and lookups.
            World w5;
            ringfence::core::UserInfo u5;
            Request r5 = request(w5, a, &u5);
            Environment env5{w5.id, w5.dns};
            Diagnostics diags5;
            Decision checked;
            std::vector<ringfence::core::ConfigBuffer> bufs5(1);
            bufs5[0].path = "access.conf";
            bufs5[0].data = text;
            auto lean = Policy::compile_and_decide(std::move(bufs5), options, &diags5, r5, env5, &checked, true);
            CHECK(lean->valid() && lean->rule_count() == fresh->rule_count(), row);
            CHECK(checked.verdict == d.verdict,
                  row + "\nchecked: " + checked.explanation() + "\nevaluate: " + d.explanation());
            CHECK((checked.rule == nullptr) == (d.rule == nullptr), row);
            if (checked.rule != nullptr && d.rule != nullptr) {
                CHECK_STR(checked.rule->location(), d.rule->location(), row);
            }
            CHECK_STR(checked.unresolved_group, d.unresolved_group, row);
            CHECK(w5.id.group_calls == w1.id.group_calls, row);
            CHECK(w5.dns.queried == w1.dns.queried, row);
            // The text ends with the verdict.
            std::string shown = ringfence::access::format_explanation(e);
            CHECK(unit::contains(shown, "verdict: " + d.explanation() + "\n"), row + "\n" + shown);
            ++compared;
            ++by_verdict[static_cast<int>(d.verdict)];
            unknown += !d.unresolved_group.empty();
        }
    }
    // The generator reaches every outcome, or the comparison proves little.
    CHECK_INT(compared, 1500 * 16, "requests compared");
    CHECK(by_verdict[0] > 1000 && by_verdict[1] > 1000 && by_verdict[2] > 1000,
          "allow " + std::to_string(by_verdict[0]) + " deny " + std::to_string(by_verdict[1]) + " no_match " +
              std::to_string(by_verdict[2]));
    CHECK(unknown > 100, "unresolved " + std::to_string(unknown));
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(example_text),        cmocka_unit_test(except_and_no_match),
        cmocka_unit_test(origins_in_words),    cmocka_unit_test(users_in_words),
        cmocka_unit_test(unknown_memberships), cmocka_unit_test(describe_requests),
        cmocka_unit_test(request_times),       cmocka_unit_test(explain_decides_as_evaluate),
        cmocka_unit_test(denial_reasons),      cmocka_unit_test(common_decisions),
    };
    unit::apply_filters();
    return cmocka_run_group_tests_name("access_explain", tests, nullptr, nullptr);
}
