// SPDX-License-Identifier: BSD-3-Clause
// CMocka unit tests of the rule plan (its order, the Decision the walk
// gives) and of the firewall lint: dead rules along the plan, allow-all
// rules that make the default meaningless, SSH refused to everyone.
#include <string>
#include <vector>

#include "compile_helper.h"
#include "core/decision.h"
#include "iptables_helper/evaluate.h"
#include "iptables_helper/lint.h"
#include "iptables_helper/plan.h"

using namespace ringfence;

namespace {

std::string lint_text(const unit::Compiled& c) {
    std::string out;
    for (const core::Diagnostic& d : firewall::lint(*c.policy)) {
        out += d.one_line() + "\n";
    }
    return out;
}

// Deny and reject rules come before the established step and the allow
// rules whatever their place in the file; the default closes each chain.
void test_plan_order(void**) {
    unit::Compiled c = unit::compile(
        "policy in drop\n"
        "allow in tcp/22 from 10.0.0.0/8\n"
        "deny in from 192.0.2.0/24\n"
        "allow out udp/53 to any\n"
        "reject out tcp/25 to any\n");
    CHECK(c.policy->valid(), c.text());
    using K = firewall::StepKind;
    const std::vector<firewall::Step>& in = c.policy->plan().in.steps;
    std::vector<K> kinds;
    std::vector<int> lines;
    for (const firewall::Step& s : in) {
        kinds.push_back(s.kind);
        lines.push_back(s.line());
    }
    const std::vector<K> want = {K::loopback,     K::rule,         K::established,  K::invalid,  K::builtin_icmp,
                                 K::builtin_icmp, K::builtin_icmp, K::builtin_icmp, K::rule,     K::default_policy};
    CHECK(kinds == want, "in chain order");
    CHECK_INT(lines[1], 3, "the deny rule first");
    CHECK_INT(lines[8], 2, "the allow rule after the builtin steps");
    CHECK(in.back().action == firewall::Action::drop, "policy in drop");
    const std::vector<firewall::Step>& out = c.policy->plan().out.steps;
    CHECK_INT(out[1].line(), 5, "reject out before established");
    CHECK(out.back().action == firewall::Action::accept, "policy out accept");
}

// The walk answers as a core::Decision: the deciding file:line and the
// rule as written, or the default or a builtin step by name.
void test_decision(void**) {
    unit::Compiled c = unit::compile(
        "policy in reject\n"
        "allow in tcp/22 from 10.0.0.0/8\n"
        "deny in from 10.9.0.0/16\n");
    CHECK(c.policy->valid(), c.text());
    auto decide = [&](const char* ip, uint16_t port) {
        return firewall::decide_inbound(*c.policy, *core::IpAddress::parse(ip), firewall::Protocol::tcp, port);
    };
    core::Decision d = decide("10.1.2.3", 22);
    CHECK(d.allowed(), d.summary());
    CHECK_STR(d.source.location(), "/etc/ringfence/firewall.conf:2", d.summary());
    CHECK_STR(d.source.rule, "allow in tcp/22 from 10.0.0.0/8", d.summary());
    d = decide("10.9.0.1", 22);
    CHECK(!d.allowed() && d.source.line == 3, d.summary());
    d = decide("192.0.2.1", 22);
    CHECK(!d.allowed() && d.source.is_default(), d.summary());
    CHECK_STR(d.summary(), "denied by default (policy in reject): no rule matches, and the default is "
                           "`policy in reject`", "");
    d = decide("127.0.0.1", 9);
    CHECK(d.allowed() && d.source.is_default() && d.source.rule == "loopback", d.summary());
    // An established packet of a session from a listed address: the deny
    // rule comes before the established step.
    firewall::Packet p;
    p.peer = *core::IpAddress::parse("10.9.0.1");
    p.port = 22;
    p.established = true;
    CHECK_INT(firewall::evaluate(*c.policy, p).decision.source.line, 3, "");
    p.peer = *core::IpAddress::parse("192.0.2.1");
    CHECK_STR(firewall::evaluate(*c.policy, p).decision.source.rule, "established", "");
}

struct Row {
    const char* policy;
    const char* says;  // "" = no warning; else a part of lint's output
};

void check_rows(const Row* rows, size_t n) {
    for (const Row* r = rows; r != rows + n; ++r) {
        unit::Compiled c = unit::compile(r->policy, {{"/etc/ringfence/bl", "192.0.2.1\n"}});
        CHECK(c.policy->valid(), c.text());
        std::string got = lint_text(c);
        if (*r->says == '\0') {
            CHECK_STR(got, "", r->policy);
        } else {
            CHECK(unit::contains(got, r->says), std::string(r->policy) + " -> " + got);
        }
    }
}

void test_lint_dead_rules(void**) {
    const Row rows[] = {
        // An allow rule inside an earlier deny: never allows, whatever the
        // file order.
        {"allow in tcp/22 from 10.1.0.0/16\ndeny in from 10.0.0.0/8\n",
         "firewall.conf:1:1: warning: this allow rule never allows anything: line 2 (`deny in from 10.0.0.0/8`)"},
        // The same rule twice, a narrower network after a wider one.
        {"allow in tcp/22 from 10.0.0.0/8\nallow in tcp/22 from 10.0.0.0/8\n",
         "firewall.conf:2:1: warning: this rule never decides: line 1"},
        {"allow in tcp/1-1000 from 10.0.0.0/8\nallow in tcp/22 udp/53 from 10.1.2.3\n",
         ""},  // udp/53 is not covered
        {"allow in tcp/1-1000 udp from 10.0.0.0/8\nallow in tcp/22 udp/53 from 10.1.2.3\n",
         "firewall.conf:2:1: warning: this rule never decides"},
        {"deny in from 10.0.0.0/8\ndeny in tcp/22 from 10.5.0.0/16 2001:db8::/32\nallow in tcp/22 from 192.0.2.0/24\n",
         ""},  // v6 not covered
        {"set bl file bl\ndeny in from bl\nreject in tcp/22 from bl\nallow in tcp/22 from 10.0.0.0/8\n",
         "firewall.conf:3:1: warning: this rule never decides: line 2"},
        {"allow in tcp/22 from 10.0.0.0/8\nallow in tcp/23 from 10.0.0.0/8\n", ""},
        {"allow in tcp/22 from 10.0.0.0/9\nallow in tcp/22 from 10.128.0.0/9\n", ""},
        // in and out are separate chains.
        {"allow in tcp/22 from 10.0.0.0/8\nallow out tcp/22 to 10.0.0.0/8\n", ""},
        {"allow in tcp/22 from 10.0.0.0/8\nallow out all to any\n", ""},
    };
    check_rows(rows, sizeof rows / sizeof rows[0]);
}

void test_lint_open_and_lockout(void**) {
    const Row rows[] = {
        {"allow in tcp/22 from 10.0.0.0/8\nallow in from any\n",
         "firewall.conf:2:1: warning: this rule accepts all inbound traffic from any address: `policy in drop` never "
         "applies"},
        {"policy in accept\nallow in all from any\n", ""},
        {"policy out reject\nallow in tcp/22 from 10.0.0.0/8\nallow out to any\n",
         "firewall.conf:3:1: warning: this rule accepts all outbound traffic to any address"},
        {"allow in tcp/22 from 10.0.0.0/8\ndeny in tcp/22 from any\n",
         "firewall.conf:2:1: warning: this rule drops SSH (tcp/22) from every address"},
        {"allow in tcp/22 from 10.0.0.0/8\nreject in from any\n", "firewall.conf:2:1: warning: this rule rejects SSH"},
        {"allow in tcp/443 from any\n",
         "firewall.conf: warning: no rule allows SSH (tcp/22) in, and the default is `policy in drop`"},
        {"policy in reject\nallow in tcp/20-30 from 10.0.0.0/8\n", ""},
        {"policy in accept\n", ""},
    };
    check_rows(rows, sizeof rows / sizeof rows[0]);
    // An invalid policy has errors to show, not warnings.
    unit::Compiled bad = unit::compile("allow in nosuch from any\n");
    CHECK(!bad.policy->valid(), "");
    CHECK_STR(lint_text(bad), "", "");
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_order),
        cmocka_unit_test(test_decision),
        cmocka_unit_test(test_lint_dead_rules),
        cmocka_unit_test(test_lint_open_and_lockout),
    };
    unit::apply_filters();
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
