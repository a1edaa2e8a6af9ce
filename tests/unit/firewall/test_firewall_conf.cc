// SPDX-License-Identifier: BSD-3-Clause
// CMocka unit tests of the firewall.conf language and its renderers: policies
// from strings, set files from an in-memory map; nothing touches netfilter.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "compile_helper.h"
#include "iptables_helper/firewall_conf.h"
#include "iptables_helper/render.h"

using namespace ringfence;
using firewall::Policy;
using Family = core::IpAddress::Family;

namespace {

using unit::Compiled;
using unit::compile;

void test_valid_policy(void**) {
    Compiled c = compile(
        "# ESX\n"
        "policy in reject\n"
        "policy out drop\n"
        "service sshServer tcp/22\n"
        "service HA tcp/2050-2250,8042-8045 udp/8042\n"
        "set admins file admins.txt\n"
        "allow in sshServer HA from 10.0.0.0/8 2001:db8::/32 admins\n"
        "allow out udp/123 to 192.0.2.1\n"
        "deny in from 198.51.100.7\n"
        "log denied rate 3/sec\n",
        {{"/etc/ringfence/admins.txt", "# admins\n192.0.2.0/24\n\n2001:db8:1::1\n"}});
    CHECK(c.policy->valid(), c.text());
    CHECK(c.diags.empty(), c.text());
    const Policy& p = *c.policy;
    CHECK(p.default_in() == firewall::Action::reject, "");
    CHECK(p.default_out() == firewall::Action::drop, "");
    CHECK_INT(p.services().size(), 2, "");
    CHECK_INT(p.rules().size(), 3, "");
    const firewall::Rule& r = p.rules()[0];
    CHECK_INT(r.line, 7, "");
    CHECK_INT(r.specs.size(), 3, "ssh + HA tcp + HA udp");
    CHECK_INT(r.specs[1].ports.size(), 2, "");
    CHECK_INT(r.specs[1].ports[0].lo, 2050, "");
    CHECK_INT(r.specs[1].ports[0].hi, 2250, "");
    CHECK(!r.peers.any, "");
    CHECK_INT(r.peers.v4.size(), 1, "");
    CHECK_INT(r.peers.v6.size(), 1, "");
    CHECK_STR(r.peers.v6[0].to_string(), "2001:db8::/32", "");
    CHECK_INT(r.peers.sets.size(), 1, "");
    const firewall::AddressSet* s = p.find_set("admins");
    CHECK(s != nullptr, "");
    CHECK_INT(s->v4.size(), 1, "");
    CHECK_INT(s->v6.size(), 1, "");
    CHECK(p.rules()[1].direction == firewall::Direction::out, "");
    CHECK(p.rules()[2].action == firewall::Action::drop, "");
    CHECK(p.rules()[2].specs[0].protocol == firewall::Protocol::any, "");
    CHECK(p.log().enabled, "");
    CHECK_INT(p.log().rate, 3, "");
    CHECK_STR(p.log().unit, "second", "");
}

void test_defaults(void**) {
    Compiled c = compile("allow in tcp/22\n");
    CHECK(c.policy->valid(), c.text());
    CHECK(c.policy->default_in() == firewall::Action::drop, "fail closed");
    CHECK(c.policy->default_out() == firewall::Action::accept, "");
    CHECK(!c.policy->log().enabled, "");
    CHECK(c.policy->rules()[0].peers.any, "no from = anywhere");
}

struct ErrorRow {
    const char* text;
    const char* where;    // "line:col"
    const char* message;  // substring
    const char* hint;     // substring, or ""
};

void test_errors(void**) {
    const ErrorRow rows[] = {
        {"polcy in drop\n", "1:1", "unknown statement 'polcy'", "expected policy"},
        {"policy in\n", "1:10", "expected drop, reject or accept", ""},
        {"policy sideways drop\n", "1:8", "expected 'in' or 'out'", ""},
        {"policy in deny\n", "1:11", "expected drop, reject or accept, found 'deny'", ""},
        {"policy in drop\npolicy in accept\n", "2:1", "policy in already set at /etc/ringfence/firewall.conf:1", ""},
        {"service ssh tcp/0\n", "1:17", "'0' is not a port (1..65535)", "LO-HI"},
        {"service ssh tcp/65536\n", "1:17", "'65536' is not a port", ""},
        {"service ssh tcp/22,\n", "1:20", "empty port", ""},
        {"service ha tcp/2250-2050\n", "1:16", "runs backwards", "2050-2250"},
        {"service ha tcp/2050-x\n", "1:21", "'x' is not a port", ""},
        {"service ssh sctp/22\n", "1:13", "'sctp' is not a protocol", "tcp/PORTS"},
        {"service ssh tcp/\n", "1:17", "expected ports", ""},
        {"service ssh\n", "1:12", "expected ports for service 'ssh'", ""},
        {"service 9ssh tcp/22\n", "1:9", "not a valid service name", ""},
        {"service tcp tcp/22\n", "1:9", "is a keyword", ""},
        {"service a tcp/1\nservice a tcp/2\n", "2:9", "already defined at /etc/ringfence/firewall.conf:1", ""},
        {"service p icmp/300\n", "1:16", "not an ICMP type", ""},
        {"allow in ssh from 10.0.0.0/8\n", "1:10", "unknown service 'ssh'", "define it first: service ssh tcp/22"},
        {"service sshServer tcp/22\nallow in ssh from 10.0.0.0/8\n", "2:10", "unknown service 'ssh'",
         "did you mean 'sshServer' (tcp/22)?"},
        {"service SNMP udp/161\nallow in snmp\n", "2:10", "unknown service 'snmp'", "did you mean 'SNMP'?"},
        {"service https tcp/443\nallow in htps\n", "2:10", "unknown service 'htps'", "did you mean 'https'?"},
        {"service CIM tcp/5989\nallow in CIN\n", "2:10", "unknown service 'CIN'", "did you mean 'CIM'?"},
        {"service HA tcp/8042\nallow in HX\n", "2:10", "unknown service 'HX'", "define it first: service HX"},
        {"allow in vmware-nosuch\n", "1:10", "unknown service 'vmware-nosuch'", "service vmware-nosuch tcp/PORT"},
        {"service sshServer tcp/22\nallow in sshserver\n", "2:10", "unknown service 'sshserver'", "'sshServer'"},
        {"allow in tcp/22 from 10.0.0.300\n", "1:22", "not an IPv4 or IPv6 address", "192.0.2.0/24"},
        {"allow in tcp/22 from 10.0.0.0/33\n", "1:22", "not a prefix length", ""},
        {"allow in tcp/22 from 2001:db8::/129\n", "1:22", "not a prefix length", ""},
        {"allow in tcp/22 from\n", "1:21", "expected addresses or set names after 'from'", ""},
        {"allow in tcp/22 to 10.0.0.1\n", "1:17", "'to' does not go with 'in'", ""},
        {"allow out udp/53 from 10.0.0.1\n", "1:18", "'from' does not go with 'out'", ""},
        {"allow in tcp/22 10.0.0.1\n", "1:17", "found the address '10.0.0.1'", "write 'from'"},
        {"allow in tcp/22 from admins\n", "1:22", "unknown set 'admins'", "set admins file PATH"},
        {"allow in tcp/22 from host.example.com\n", "1:22", "not an address or a set", "host names"},
        {"allow in tcp/22 from any 10.0.0.1\n", "1:22", "'any' cannot be combined", ""},
        {"allow in all tcp/22\n", "1:10", "'all' cannot be combined", ""},
        {"deny in\n", "1:8", "deny in needs 'from ADDRESSES'", "policy in"},
        {"reject out tcp/25\n", "1:18", "reject out needs 'to ADDRESSES'", ""},
        {"allow\n", "1:6", "expected 'in' or 'out'", ""},
        {"log\n", "1:4", "expected 'log denied'", ""},
        {"log denied rate\n", "1:16", "expected N/min", ""},
        {"log denied rate 0/min\n", "1:17", "is not a rate", ""},
        {"log denied rate 5/fortnight\n", "1:19", "'fortnight' is not a time unit", ""},
        {"log denied every 5/min\n", "1:12", "expected 'rate N/min'", ""},
        {"log denied\nlog denied\n", "2:1", "already given", ""},
        {"set bl file /missing\n", "1:13", "does not exist", ""},
        {"set bl\n", "1:7", "expected 'file PATH'", ""},
        {"set bl file a b\n", "1:15", "unexpected 'b'", ""},
        {"set a-very-long-set-name file x\n", "1:5", "not a valid set name", "at most 14"},
    };
    for (const ErrorRow& row : rows) {
        Compiled c = compile(row.text);
        std::string label = std::string(row.text) + "---\n" + c.text();
        CHECK(!c.policy->valid(), label);
        CHECK(!c.diags.empty(), label);
        const core::Diagnostic& d = c.diags[0];
        CHECK(d.severity == core::Severity::error, label);
        CHECK_STR(std::to_string(d.line) + ":" + std::to_string(d.column), row.where, label);
        CHECK(unit::contains(d.message, row.message), label);
        CHECK(unit::contains(d.hint, row.hint), label);
        CHECK_STR(d.file, "/etc/ringfence/firewall.conf", label);
    }
}

void test_set_file_errors_name_the_set_file(void**) {
    Compiled c = compile("set bl file /etc/ringfence/bl.txt\ndeny in from bl\n",
                         {{"/etc/ringfence/bl.txt", "10.0.0.1\n# fine\n10.0.0.999\n10.0.0.2 10.0.0.3\n"}});
    CHECK(!c.policy->valid(), c.text());
    CHECK(c.diags.size() >= 3, c.text());
    CHECK_STR(c.diags[0].one_line().substr(0, 26), "/etc/ringfence/bl.txt:3:1:", c.text());
    CHECK_STR(c.diags[1].file + ":" + std::to_string(c.diags[1].line) + ":" + std::to_string(c.diags[1].column),
              "/etc/ringfence/bl.txt:4:10", c.text());
    // Then firewall.conf's own line says which set statement failed, and the
    // deny rule referring to the broken set is an error too.
    CHECK(unit::contains(c.text(), "/etc/ringfence/firewall.conf:1:13: error: set 'bl' has errors"), c.text());
    CHECK(unit::contains(c.text(), "/etc/ringfence/firewall.conf:2:14: error: unknown set 'bl'"), c.text());
}

void test_warnings(void**) {
    Compiled c = compile("allow in tcp/22 from 10.1.2.3/8 0.0.0.0/0\n");
    CHECK(c.policy->valid(), c.text());
    CHECK_INT(c.diags.size(), 2, c.text());
    CHECK(c.diags[0].severity == core::Severity::warning, c.text());
    CHECK(unit::contains(c.diags[0].hint, "10.0.0.0/8"), c.text());
    CHECK(unit::contains(c.diags[1].hint, "any"), c.text());
}

// A policy with IPv4 sources only still closes IPv6 by its default, and the
// IPv4-only rule is absent from IPv6 (never widened to "from anywhere").
void test_ipv6_always_governed(void**) {
    Compiled c = compile("service ssh tcp/22\nallow in ssh from 10.0.0.0/8\n");
    CHECK(c.policy->valid(), c.text());
    std::string v4 = firewall::render_iptables(*c.policy, Family::v4);
    std::string v6 = firewall::render_iptables(*c.policy, Family::v6);
    CHECK(unit::contains(v4, "-A RINGFENCE-IN -s 10.0.0.0/8 -p tcp -m tcp --dport 22"), v4);
    CHECK(!unit::contains(v6, "--dport 22"), v6);
    CHECK(unit::contains(v6, "-A RINGFENCE-IN -j RINGFENCE-DROP\n"), v6);
    CHECK(unit::contains(v6, "-I INPUT 1 -j RINGFENCE-IN\n"), v6);
    CHECK(unit::contains(v6, "--icmpv6-type 135 -m hl --hl-eq 255 -j ACCEPT"), v6);
}

void test_render_order_and_hooks(void**) {
    Compiled c = compile("policy in reject\nallow in tcp/22\ndeny in from 192.0.2.1\nlog denied\n");
    CHECK(c.policy->valid(), c.text());
    std::string v4 = firewall::render_iptables(*c.policy, Family::v4);
    size_t lo = v4.find("-A RINGFENCE-IN -i lo -j ACCEPT");
    size_t deny = v4.find("-A RINGFENCE-IN -s 192.0.2.1/32");
    size_t est = v4.find("-A RINGFENCE-IN -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT");
    size_t allow = v4.find("-A RINGFENCE-IN -p tcp -m tcp --dport 22");
    size_t def = v4.find("-A RINGFENCE-IN -j RINGFENCE-REJECT\n");
    CHECK(lo != std::string::npos && deny != std::string::npos && est != std::string::npos &&
              allow != std::string::npos && def != std::string::npos,
          v4);
    CHECK(lo < deny && deny < est && est < allow && allow < def, v4);
    CHECK(unit::contains(v4, "--log-prefix \"ringfence-drop: \""), v4);
    CHECK(!unit::contains(v4, ":INPUT"), "builtin chains are never declared (no policy change)");
    firewall::RenderOptions no_hooks;
    no_hooks.hooks = false;
    std::string v4b = firewall::render_iptables(*c.policy, Family::v4, no_hooks);
    CHECK(!unit::contains(v4b, "-I INPUT"), v4b);
    CHECK(firewall::render_iptables(*c.policy, Family::v4) == v4, "deterministic");
}

void test_sets_render(void**) {
    Compiled c = compile("set bl file bl\ndeny in from bl\n",
                         {{"/etc/ringfence/bl", "0.0.0.0/0\n10.0.0.1\n10.0.0.1/32\n::ffff:10.0.0.2\n2001:db8::/32\n"}});
    CHECK(c.policy->valid(), c.text());
    std::string ipset = firewall::render_ipset(*c.policy);
    CHECK(unit::contains(ipset, "add ringfence-bl-v4a 0.0.0.0/1\nadd ringfence-bl-v4a 128.0.0.0/1\n"), ipset);
    CHECK(unit::contains(ipset, "add ringfence-bl-v4a 10.0.0.1/32\nadd ringfence-bl-v4a 10.0.0.2/32\n"), ipset);
    CHECK(unit::contains(ipset, "create ringfence-bl-v6a hash:net family inet6"), ipset);
    CHECK(unit::contains(ipset, "flush ringfence-bl-v6a\nadd ringfence-bl-v6a 2001:db8::/32\n"), ipset);
    std::string v6 = firewall::render_iptables(*c.policy, Family::v6);
    CHECK(unit::contains(v6, "-A RINGFENCE-IN -m set --match-set ringfence-bl-v6a src"), v6);
    CHECK_STR(firewall::render_ipset(*compile("allow in tcp/22\n").policy), "", "no sets, no ipset input");
}

void test_icmp_families(void**) {
    Compiled c = compile("allow in icmp/8 icmpv6/128 udp from 2001:db8::1 192.0.2.1\n");
    CHECK(c.policy->valid(), c.text());
    std::string v4 = firewall::render_iptables(*c.policy, Family::v4);
    std::string v6 = firewall::render_iptables(*c.policy, Family::v6);
    CHECK(unit::contains(v4, "-A RINGFENCE-IN -s 192.0.2.1/32 -p icmp -m icmp --icmp-type 8 -m comment"), v4);
    CHECK(!unit::contains(v4, "--icmpv6-type 128 -m comment"), v4);
    CHECK(unit::contains(v6, "-A RINGFENCE-IN -s 2001:db8::1/128 -p ipv6-icmp -m icmp6 --icmpv6-type 128 -m comment"),
          v6);
    CHECK(unit::contains(v6, "-A RINGFENCE-IN -s 2001:db8::1/128 -p udp -m comment"), v6);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_policy),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_set_file_errors_name_the_set_file),
        cmocka_unit_test(test_warnings),
        cmocka_unit_test(test_ipv6_always_governed),
        cmocka_unit_test(test_render_order_and_hooks),
        cmocka_unit_test(test_sets_render),
        cmocka_unit_test(test_icmp_families),
    };
    unit::apply_filters();
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
