// SPDX-License-Identifier: BSD-3-Clause
// CMocka unit tests of the applier's pure parts: set generations, our own
// chain-reference check (iptables-nft-restore --test does not do it), the
// state file format, the drift diff, the SSH_CONNECTION parser and the SSH
// lockout verdict. The loading itself is tested for real in
// tests/integration/firewall.
#include <string>

#include "compile_helper.h"
#include "iptables_helper/applier.h"
#include "iptables_helper/evaluate.h"
#include "iptables_helper/render.h"

using namespace ringfence;
using Family = core::IpAddress::Family;

namespace {

void test_retarget_sets(void**) {
    CHECK_STR(firewall::retarget_sets("-A RINGFENCE-IN -m set --match-set ringfence-bl-v4a src -j DROP\n", 'c'),
              "-A RINGFENCE-IN -m set --match-set ringfence-bl-v4c src -j DROP\n", "");
    CHECK_STR(firewall::retarget_sets("create ringfence-x-v6a hash:net\nadd ringfence-x-v6a ::1/128\n", 'b'),
              "create ringfence-x-v6b hash:net\nadd ringfence-x-v6b ::1/128\n", "");
    // Other words that merely look alike stay.
    CHECK_STR(firewall::retarget_sets("other-v4a ringfence-drop: ringfence-x-v4\n", 'b'),
              "other-v4a ringfence-drop: ringfence-x-v4\n", "");
}

void test_check_references(void**) {
    unit::Compiled c = unit::compile("set bl file bl\ndeny in from bl\nallow in tcp/22\n",
                                     {{"/etc/ringfence/bl", "10.0.0.0/8\n"}});
    CHECK(c.policy->valid(), c.text());
    const std::string v4 = firewall::render_iptables(*c.policy, Family::v4);
    CHECK_STR(firewall::check_references(v4, {"ringfence-bl-v4a", "ringfence-bl-v6a"}), "", v4);
    CHECK(unit::contains(firewall::check_references(v4, {}), "set ringfence-bl-v4a is not created"), v4);
    CHECK(unit::contains(firewall::check_references("*filter\n:A - [0:0]\n-A A -j B\nCOMMIT\n", {}),
                         "line 3: jump to undeclared chain B"),
          "the jump iptables-nft-restore --test accepts");
    CHECK(unit::contains(firewall::check_references("*filter\n-A NOPE -j ACCEPT\nCOMMIT\n", {}),
                         "chain NOPE is not declared"),
          "");
    CHECK_STR(firewall::check_references("*filter\n:A - [0:0]\n-I INPUT 1 -j A\n-A A -j RETURN\nCOMMIT\n", {}), "",
              "builtin chains and targets");
}

void test_bundle_round_trip(void**) {
    unit::Compiled c = unit::compile("set bl file bl\ndeny in from bl\nallow in tcp/22\n",
                                     {{"/etc/ringfence/bl", "10.0.0.0/8\n2001:db8::/32\n"}});
    firewall::Bundle b = firewall::make_bundle(*c.policy, firewall::Backend::iptables, "policy text\nno newline");
    b.live = "live\n\nwith empty lines";
    CHECK_INT(b.sets, 1, "");
    CHECK_INT(b.entries, 2, "");
    std::optional<firewall::Bundle> back = firewall::deserialize(firewall::serialize(b));
    CHECK(back.has_value(), firewall::serialize(b));
    CHECK(back->backend == firewall::Backend::iptables, "");
    CHECK_STR(back->policy, b.policy, "");
    CHECK_STR(back->v4, b.v4, "");
    CHECK_STR(back->v6, b.v6, "");
    CHECK_STR(back->ipset, b.ipset, "");
    CHECK_STR(back->live, b.live, "");
    CHECK_STR(back->source, "/etc/ringfence/firewall.conf", "");
    CHECK_INT(back->entries, 2, "");
    // Damaged files are refused, not half read.
    std::string text = firewall::serialize(b);
    CHECK(!firewall::deserialize(text.substr(0, text.size() / 2)).has_value(), "truncated");
    CHECK(!firewall::deserialize("garbage\n").has_value(), "garbage");
    firewall::Bundle none;
    std::optional<firewall::Bundle> n = firewall::deserialize(firewall::serialize(none));
    CHECK(n.has_value() && n->backend == firewall::Backend::none, "");
}

void test_line_diff(void**) {
    CHECK_STR(firewall::line_diff("a\nb\nc\n", "a\nb\nc\n"), "", "equal");
    CHECK_STR(firewall::line_diff("a\nb\nc\n", "a\nc\n"), "- b\n", "deleted by hand");
    CHECK_STR(firewall::line_diff("a\nc\n", "a\nx\nc\n"), "+ x\n", "added by hand");
    CHECK_STR(firewall::line_diff("a\nb\n", "b\na\n"), "~ the same rules in another order\n", "reordered");
    CHECK_STR(firewall::line_diff("a\na\n", "a\n"), "- a\n", "a duplicate removed");
}

void test_session_check(void**) {
    unit::Compiled c = unit::compile(
        "policy in drop\n"
        "set bad file bad\n"
        "allow in tcp/22 from 192.0.2.0/24 2001:db8::/32\n"
        "deny in from bad\n"
        "reject out tcp/40000-40010 to 192.0.2.77\n",
        {{"/etc/ringfence/bad", "192.0.2.66\n"}});
    CHECK(c.policy->valid(), c.text());
    auto verdict = [&](const char* ip, uint16_t cport) {
        return firewall::check_session(*c.policy, *core::IpAddress::parse(ip), cport, 22);
    };
    firewall::SessionVerdict ok = verdict("192.0.2.10", 50000);
    CHECK(!ok.cut && ok.reconnect, ok.reason);
    CHECK_INT(ok.line, 3, "");
    CHECK(verdict("::ffff:192.0.2.10", 50000).reconnect, "v4-mapped is IPv4");
    CHECK(verdict("2001:db8::5", 50000).reconnect, "");
    firewall::SessionVerdict listed = verdict("192.0.2.66", 50000);
    CHECK(listed.cut && !listed.reconnect, listed.reason);
    CHECK_INT(listed.line, 4, "");
    CHECK(unit::contains(listed.reason, "firewall.conf:4: `deny in ...`"), listed.reason);
    firewall::SessionVerdict elsewhere = verdict("198.51.100.1", 50000);
    CHECK(!elsewhere.cut && !elsewhere.reconnect, elsewhere.reason);
    CHECK(unit::contains(elsewhere.reason, "policy in drop"), elsewhere.reason);
    firewall::SessionVerdict replies = verdict("192.0.2.77", 40005);
    CHECK(replies.cut, "an out rule on the client's port cuts the replies");
    CHECK(!verdict("192.0.2.77", 40011).cut, "");
    CHECK(verdict("127.0.0.1", 50000).reconnect, "loopback is always accepted");
    unit::Compiled open = unit::compile("policy in accept\n");
    CHECK(firewall::check_session(*open.policy, *core::IpAddress::parse("203.0.113.1"), 1, 22).reconnect, "");
}

// What sshd writes, and what it never writes: every value that is not read
// entirely must come back as an error (the caller refuses), not as a session.
void test_parse_ssh_connection(void**) {
    std::string err;
    auto parse = [&err](const char* text) {
        err.clear();
        return firewall::parse_ssh_connection(text, &err);
    };
    // A link-local session as OpenSSH writes it: the zone is the interface.
    auto ll = parse("fe80::a8fb:f9ff:fee6:f02%vh 53402 fe80::94f9:8aff:fede:51c5%vh 22");
    CHECK(ll.has_value(), err);
    CHECK_STR(ll->client.to_string(), "fe80::a8fb:f9ff:fee6:f02", "the zone is not part of the address");
    CHECK_STR(ll->zone, "vh", "");
    CHECK_STR(ll->client_text(), "fe80::a8fb:f9ff:fee6:f02%vh", "");
    CHECK_INT(ll->client_port, 53402, "");
    CHECK_STR(ll->server.to_string(), "fe80::94f9:8aff:fede:51c5", "");
    CHECK_INT(ll->server_port, 22, "");
    CHECK(parse("fe80::1%2 40000 fe80::2%2 22").has_value(), "a numeric zone (interface index): " + err);
    CHECK(parse("fe80::1%br-lan.10 40000 fe80::2%br-lan.10 22").has_value(), err);
    CHECK(parse("fe80::1 40000 fe80::2 22").has_value(), "link-local without zones: " + err);
    auto v4 = parse("192.0.2.10 50000 192.0.2.1 22");
    CHECK(v4.has_value() && v4->client.is_v4() && v4->zone.empty(), err);
    CHECK(parse("2001:db8::5 65535 2001:db8::1 2222").has_value(), err);
    // v4-mapped: read as the IPv4 address it carries (the packets are IPv4).
    auto mapped = parse("::ffff:192.0.2.10 50000 ::ffff:192.0.2.1 22");
    CHECK(mapped.has_value() && mapped->client.unmapped() == *core::IpAddress::parse("192.0.2.10"), err);
    CHECK(parse("::ffff:c000:20a 50000 192.0.2.1 22").has_value(), "hex mapped with a plain IPv4 server: " + err);

    struct Bad {
        const char* text;
        const char* says;
    };
    const Bad bad[] = {
        {"", "0 fields"},
        {"garbage", "1 field,"},
        {"192.0.2.10 50000 192.0.2.1", "3 fields"},
        {"192.0.2.10 50000 192.0.2.1 22 extra", "5 fields"},
        {"192.0.2.10 50000 192.0.2.1 22\n", "server port"},
        {"192.0.2.10 0 192.0.2.1 22", "client port `0`"},
        {"192.0.2.10 65536 192.0.2.1 22", "client port"},
        {"192.0.2.10 -1 192.0.2.1 22", "client port"},
        {"192.0.2.10 +22 192.0.2.1 22", "client port"},
        {"192.0.2.10 022 192.0.2.1 22", "client port"},
        {"192.0.2.10 50000 192.0.2.1 22x", "server port"},
        {"192.0.2.10 50000 192.0.2.1 4294967318", "server port"},
        {"host.example 50000 192.0.2.1 22", "client address `host.example` is not"},
        {"[2001:db8::5] 50000 2001:db8::1 22", "client address"},
        {"192.0.2.10 50000 192.0.2.256 22", "server address"},
        {"fe80::1%vh%x 50000 fe80::2%vh 22", "zone index of the client"},
        {"fe80::1% 50000 fe80::2% 22", "zone index of the client"},
        {"fe80::1%a/b 50000 fe80::2%a/b 22", "zone index of the client"},
        {"fe80::1%0123456789abcdef 50000 fe80::2%0123456789abcdef 22", "zone index"},
        {"fe80::1 50000 fe80::2%vh 22", "only the server address"},
        {"fe80::1%vh 50000 fe80::2 22", "only the client address"},
        {"fe80::1%vh 50000 fe80::2%eth0 22", "different zones"},
        {"2001:db8::5%vh 50000 2001:db8::1%vh 22", "not an IPv6 link-local"},
        {"192.0.2.10%vh 50000 192.0.2.1 22", "client address"},
        {"::ffff:192.0.2.10%vh 50000 ::ffff:192.0.2.1%vh 22", "not an IPv6 link-local"},
        {"192.0.2.10 50000 2001:db8::1 22", "different families"},
        {"::ffff:192.0.2.10 50000 2001:db8::1 22", "different families"},
    };
    for (const Bad& b : bad) {
        auto got = parse(b.text);
        CHECK(!got.has_value(), b.text);
        CHECK(unit::contains(err, b.says), std::string(b.text) + " -> " + err);
    }
    CHECK(!parse(std::string(300, '1').c_str()).has_value() && unit::contains(err, "longer than"), err);
}

// The policy's networks have no zone: a link-local client is matched by its
// address alone.
void test_session_check_link_local(void**) {
    unit::Compiled c = unit::compile("policy in drop\nallow in tcp/22 from 10.0.0.0/8\ndeny in from fe80::/10\n");
    CHECK(c.policy->valid(), c.text());
    std::string err;
    auto s = firewall::parse_ssh_connection("fe80::a8fb:f9ff:fee6:f02%vh 53402 fe80::94f9:8aff:fede:51c5%vh 22", &err);
    CHECK(s.has_value(), err);
    firewall::SessionVerdict v = firewall::check_session(*c.policy, s->client, s->client_port, s->server_port);
    CHECK(v.cut && !v.reconnect, v.reason);
    CHECK_INT(v.line, 3, v.reason);
    unit::Compiled ok = unit::compile("policy in drop\nallow in tcp/22 from fe80::/10\n");
    v = firewall::check_session(*ok.policy, s->client, s->client_port, s->server_port);
    CHECK(!v.cut && v.reconnect, v.reason);
}

// explain: the verdict for one new inbound connection and the deciding line,
// in the renderers' order (deny and reject before allow, whatever the file
// order; then the default).
void test_explain_inbound(void**) {
    unit::Compiled c = unit::compile(
        "policy in drop\n"
        "service ssh tcp/22\n"
        "allow in ssh from 10.0.0.0/8 2001:db8::/32\n"
        "reject in tcp/22 from 10.9.0.0/16\n"
        "allow in udp/161 from any\n");
    CHECK(c.policy->valid(), c.text());
    struct Row {
        const char* peer;
        const char* spec;
        firewall::Action action;
        int line;  // 0: the default or loopback
        const char* says;
    };
    const Row rows[] = {
        {"10.1.2.3", "tcp/22", firewall::Action::accept, 3, "accepted by "},
        {"10.9.1.1", "tcp/22", firewall::Action::reject, 4, "rejected by "},
        {"192.0.2.1", "tcp/22", firewall::Action::drop, 0, "default is `policy in drop`"},
        {"10.1.2.3", "tcp/23", firewall::Action::drop, 0, "dropped: no rule matches"},
        {"2001:db8::5", "tcp/22", firewall::Action::accept, 3, "(allow in ssh from 10.0.0.0/8 2001:db8::/32)"},
        {"::ffff:10.1.2.3", "tcp/22", firewall::Action::accept, 3, "tcp/22 from 10.1.2.3: accepted"},
        {"192.0.2.1", "udp/161", firewall::Action::accept, 5, "udp/161 from 192.0.2.1: accepted by "},
        {"127.0.0.1", "tcp/23", firewall::Action::accept, 0, "loopback"},
    };
    for (const Row& r : rows) {
        std::string err;
        auto spec = firewall::parse_connection_spec(r.spec, &err);
        auto peer = core::IpAddress::parse(r.peer);
        CHECK(spec && peer, err);
        firewall::PacketVerdict v = firewall::evaluate_inbound(*c.policy, *peer, spec->first, spec->second);
        std::string line = firewall::explain_inbound(*c.policy, *peer, spec->first, spec->second);
        std::string row = std::string(r.peer) + " " + r.spec + " -> " + line;
        CHECK(v.action == r.action, row);
        CHECK_INT(v.rule != nullptr ? v.rule->line : 0, r.line, row);
        CHECK(unit::contains(line, r.says), row);
    }
    for (const char* bad : {"tcp", "tcp/", "tcp/0", "tcp/65536", "icmp/3", "22", "tcp/22x"}) {
        std::string err;
        CHECK(!firewall::parse_connection_spec(bad, &err) && unit::contains(err, "is not PROTO/PORT"), bad);
    }
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retarget_sets),
        cmocka_unit_test(test_check_references),
        cmocka_unit_test(test_bundle_round_trip),
        cmocka_unit_test(test_line_diff),
        cmocka_unit_test(test_session_check),
        cmocka_unit_test(test_parse_ssh_connection),
        cmocka_unit_test(test_session_check_link_local),
        cmocka_unit_test(test_explain_inbound),
    };
    unit::apply_filters();
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
