// CMocka unit tests of the applier's pure parts: set generations, our own
// chain-reference check (iptables-nft-restore --test does not do it), the
// state file format, the drift diff and the SSH lockout verdict. The loading
// itself is tested for real in tests/integration/firewall.
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

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retarget_sets),
        cmocka_unit_test(test_check_references),
        cmocka_unit_test(test_bundle_round_trip),
        cmocka_unit_test(test_line_diff),
        cmocka_unit_test(test_session_check),
    };
    unit::apply_filters();
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
