// SPDX-License-Identifier: BSD-3-Clause
// CMocka unit tests of the nftables renderer: policies from strings, set
// files from an in-memory map; nothing touches netfilter (nft_check.sh loads
// the output for real). One table-driven test checks render_nft() against
// render_iptables(): every rule exists in the same families with the same
// verdict in both backends.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "compile_helper.h"
#include "iptables_helper/firewall_conf.h"
#include "iptables_helper/render.h"
#include "iptables_helper/render_nft.h"

using namespace ringfence;
using firewall::Policy;
using Family = core::IpAddress::Family;

namespace {

using unit::Compiled;
using unit::compile;

std::string render(const std::string& text, const std::map<std::string, std::string>& files = {}) {
    Compiled c = compile(text, files);
    CHECK(c.policy->valid(), c.text());
    return firewall::render_nft(*c.policy);
}

// The body of one chain or set ("\tchain NAME {\n" up to its "\t}\n").
std::string block(const std::string& script, const std::string& head) {
    size_t start = script.find("\t" + head + " {\n");
    if (start == std::string::npos) {
        return "";
    }
    size_t end = script.find("\n\t}\n", start);
    return script.substr(start, end == std::string::npos ? std::string::npos : end + 4 - start);
}

std::vector<std::string> lines_of(const std::string& text) { return unit::split_lines(text); }

int count(const std::string& haystack, const std::string& needle) {
    int n = 0;
    for (size_t pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) {
        ++n;
    }
    return n;
}

void test_transaction_frame(void**) {
    std::string s = render("allow in tcp/22\n");
    std::vector<std::string> l = lines_of(s);
    CHECK(l.size() > 4, s);
    CHECK(l[0].rfind("# ", 0) == 0, s);
    CHECK_STR(l[1], "table inet ringfence", s);
    CHECK_STR(l[2], "delete table inet ringfence", s);
    CHECK_STR(l[3], "table inet ringfence {", s);
    CHECK_STR(l.back(), "}", s);
    CHECK_INT(count(s, "{"), count(s, "}"), s);
    CHECK(unit::contains(s, "\tchain input {\n\t\ttype filter hook input priority filter - 10; policy accept;\n"), s);
    CHECK(unit::contains(s, "\tchain output {\n\t\ttype filter hook output priority filter - 10; policy accept;\n"), s);
    CHECK(render("allow in tcp/22\n") == s, "deterministic");
    CHECK_STR(firewall::nft_set_name("bad", Family::v4), "bad_v4", "");
    CHECK_STR(firewall::nft_set_name("bad-list", Family::v6), "bad-list_v6", "");
}

// A rule with IPv4 sources only exists only for IPv4; the default policy
// still closes both families (the inet chain has no family condition).
void test_v4_only_rule(void**) {
    std::string s = render("service ssh tcp/22\nallow in ssh from 10.0.0.0/8\n");
    std::string in = block(s, "chain input");
    CHECK(unit::contains(in, "\t\tip saddr 10.0.0.0/8 tcp dport 22 accept comment \"firewall.conf:2\"\n"), in);
    CHECK_INT(count(s, "dport 22"), 1, s);
    CHECK(!unit::contains(s, "ip6 saddr 10."), s);
    CHECK(unit::contains(in, "\t\tjump log_drop\n\t}\n"), in);
    std::string out = block(s, "chain output");
    CHECK(!unit::contains(out, "jump log_"), "default out accept: the chain policy, no rule\n" + out);
}

void test_defaults_both_directions(void**) {
    std::string s = render("policy in drop\npolicy out reject\n");
    CHECK(unit::contains(block(s, "chain input"), "\t\tjump log_drop\n\t}\n"), s);
    CHECK(unit::contains(block(s, "chain output"), "\t\tjump log_reject\n\t}\n"), s);
    std::string a = render("policy in accept\npolicy out accept\n");
    CHECK(!unit::contains(block(a, "chain input"), "jump"), a);
    CHECK(!unit::contains(block(a, "chain output"), "jump"), a);
}

void test_drop_and_reject_chains(void**) {
    std::string s = render("log denied rate 3/sec\n");
    std::string log = "limit rate 3/second burst 3 packets log prefix \"ringfence-drop: \" level warn\n";
    std::string drop = block(s, "chain log_drop");
    CHECK_STR(drop,
              "\tchain log_drop {\n\t\tmeta nfproto ipv4 " + log + "\t\tmeta nfproto ipv6 " + log + "\t\tdrop\n\t}\n",
              s);
    std::string reject = block(s, "chain log_reject");
    CHECK_STR(reject,
              "\tchain log_reject {\n\t\tmeta nfproto ipv4 " + log + "\t\tmeta nfproto ipv6 " + log +
                  "\t\tmeta l4proto tcp reject with tcp reset\n"
                  "\t\treject with icmpx type port-unreachable\n\t}\n",
              s);
    std::string quiet = render("allow in tcp/22\n");
    CHECK(!unit::contains(quiet, " log "), "no 'log denied', no log rule\n" + quiet);
    CHECK(unit::contains(render("log denied\n"), "limit rate 10/minute burst 5 packets"), "");
}

void test_order(void**) {
    std::string s = render("policy in reject\nallow in tcp/22\ndeny in from 192.0.2.1\nreject in from 2001:db8::1\n");
    std::string in = block(s, "chain input");
    size_t lo = in.find("\t\tiifname \"lo\" accept\n");
    size_t deny = in.find("\t\tip saddr 192.0.2.1/32 jump log_drop comment \"firewall.conf:3\"\n");
    size_t rej = in.find("\t\tip6 saddr 2001:db8::1/128 jump log_reject comment \"firewall.conf:4\"\n");
    size_t est = in.find("\t\tct state established,related accept\n");
    size_t inv = in.find("\t\tct state invalid drop\n");
    size_t icmp = in.find("\t\tmeta nfproto ipv4 icmp type { 3, 11, 12, 8 } accept\n");
    size_t nd = in.find("\t\tmeta nfproto ipv6 icmpv6 type { 133, 134, 135, 136 } ip6 hoplimit 255 accept\n");
    size_t mld = in.find("\t\tip6 saddr fe80::/10 icmpv6 type { 130, 131, 132, 143 } accept\n");
    size_t allow = in.find("\t\ttcp dport 22 accept comment \"firewall.conf:2\"\n");
    size_t def = in.find("\t\tjump log_reject\n");
    for (size_t p : {lo, deny, rej, est, inv, icmp, nd, mld, allow, def}) {
        CHECK(p != std::string::npos, in);
    }
    CHECK(lo < deny && deny < rej && rej < est && est < inv && inv < icmp && icmp < nd && nd < mld && mld < allow &&
              allow < def,
          in);
    std::string out = block(s, "chain output");
    CHECK(unit::contains(out, "\t\toifname \"lo\" accept\n"), out);
    CHECK(unit::contains(out, "\t\tip6 daddr ff02::/16 icmpv6 type { 130, 131, 132, 143 } accept\n"), out);
}

void test_peers_and_destinations(void**) {
    std::string s = render(
        "set adm file adm\n"
        "allow in tcp/22 from 192.0.2.0/24 192.0.2.7 10.0.0.0/8 2001:db8::/32 2001:db8:1::1 adm\n"
        "deny out tcp/25 to 198.51.100.0/24\n",
        {{"/etc/ringfence/adm", "10.1.1.1\n"}});
    std::string in = block(s, "chain input");
    CHECK(unit::contains(in,
                         "\t\tip saddr { 10.0.0.0/8, 192.0.2.0/24 } tcp dport 22 accept comment \"firewall.conf:2\"\n"
                         "\t\tip saddr @adm_v4 tcp dport 22 accept comment \"firewall.conf:2\"\n"
                         "\t\tip6 saddr 2001:db8::/32 tcp dport 22 accept comment \"firewall.conf:2\"\n"
                         "\t\tip6 saddr @adm_v6 tcp dport 22 accept comment \"firewall.conf:2\"\n"),
          in);
    std::string out = block(s, "chain output");
    CHECK(unit::contains(out, "\t\tip daddr 198.51.100.0/24 tcp dport 25 jump log_drop comment \"firewall.conf:3\"\n"),
          out);
}

void test_ports(void**) {
    std::string s = render(
        "service web tcp/443,80,20-30,31,25 udp/53 tcp/8000-8080,8080-8090 udp\n"
        "allow in web\nallow out tcp\n");
    std::string in = block(s, "chain input");
    CHECK(unit::contains(in, "\t\ttcp dport { 20-31, 80, 443, 8000-8090 } accept comment \"firewall.conf:2\"\n"), in);
    CHECK(unit::contains(in, "\t\tmeta l4proto udp accept comment \"firewall.conf:2\"\n"),
          "udp without ports wins over udp/53\n" + in);
    CHECK(!unit::contains(in, "udp dport"), in);
    CHECK(unit::contains(block(s, "chain output"), "\t\tmeta l4proto tcp accept comment \"firewall.conf:3\"\n"), s);
}

void test_icmp_families(void**) {
    std::string s = render(
        "allow in icmp/8,0,8 icmpv6/128 udp from 2001:db8::1 192.0.2.1\n"
        "allow in icmp from 2001:db8::/32\n"
        "allow in icmp icmpv6/1\n");
    std::string in = block(s, "chain input");
    CHECK(unit::contains(in, "\t\tip saddr 192.0.2.1/32 icmp type { 0, 8 } accept comment \"firewall.conf:1\"\n"), in);
    CHECK(unit::contains(in, "\t\tip6 saddr 2001:db8::1/128 icmpv6 type 128 accept comment \"firewall.conf:1\"\n"), in);
    CHECK(!unit::contains(in, "ip6 saddr 2001:db8::1/128 icmp type"), in);
    CHECK(!unit::contains(in, "ip saddr 192.0.2.1/32 icmpv6"), in);
    CHECK(unit::contains(in, "\t\tip saddr 192.0.2.1/32 meta l4proto udp accept comment \"firewall.conf:1\"\n"), in);
    CHECK(unit::contains(in, "\t\tip6 saddr 2001:db8::1/128 meta l4proto udp accept comment \"firewall.conf:1\"\n"),
          in);
    CHECK(!unit::contains(in, "firewall.conf:2"), "icmp from IPv6 sources exists nowhere\n" + in);
    CHECK(unit::contains(in, "\t\tmeta nfproto ipv4 meta l4proto icmp accept comment \"firewall.conf:3\"\n"), in);
    CHECK(unit::contains(in, "\t\tmeta nfproto ipv6 icmpv6 type 1 accept comment \"firewall.conf:3\"\n"), in);
}

void test_set_elements(void**) {
    std::string s = render("set bl file bl\nset six file six\ndeny in from bl six\n",
                           {{"/etc/ringfence/bl",
                             "198.51.100.7\n198.51.100.0/24\n198.51.100.0/24\n10.0.0.1\n10.0.0.1/32\n"
                             "::ffff:10.0.0.2\n2001:db8::/32\n2001:db8:1::/48\n"},
                            {"/etc/ringfence/six", "# only IPv6\n2001:db8:5::1\n"}});
    CHECK_STR(block(s, "set bl_v4"),
              "\tset bl_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\tauto-merge\n\t\telements = {\n"
              "\t\t\t10.0.0.1/32,\n\t\t\t10.0.0.2/32,\n\t\t\t198.51.100.0/24\n\t\t}\n\t}\n",
              s);
    CHECK_STR(block(s, "set bl_v6"),
              "\tset bl_v6 {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t\tauto-merge\n\t\telements = {\n"
              "\t\t\t2001:db8::/32\n\t\t}\n\t}\n",
              s);
    CHECK_STR(block(s, "set six_v4"), "\tset six_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\tauto-merge\n\t}\n",
              "an empty set has no elements line\n" + s);
    std::string in = block(s, "chain input");
    CHECK(unit::contains(in,
                         "\t\tip saddr @bl_v4 jump log_drop comment \"firewall.conf:3\"\n"
                         "\t\tip saddr @six_v4 jump log_drop comment \"firewall.conf:3\"\n"
                         "\t\tip6 saddr @bl_v6 jump log_drop comment \"firewall.conf:3\"\n"
                         "\t\tip6 saddr @six_v6 jump log_drop comment \"firewall.conf:3\"\n"),
          in);
    std::string all =
        render("set every file all\nallow in from every\n", {{"/etc/ringfence/all", "0.0.0.0/0\n::/0\n"}});
    CHECK(unit::contains(all, "\t\t\t0.0.0.0/1,\n\t\t\t128.0.0.0/1\n"), all);
    CHECK(unit::contains(all, "\t\t\t::/1,\n\t\t\t8000::/1\n"), all);
}

void test_comments(void**) {
    Compiled odd = compile("allow in tcp/22\n", {}, "/etc/ringfence/my fire\"wall$.conf");
    CHECK(odd.policy->valid(), odd.text());
    std::string s = firewall::render_nft(*odd.policy);
    CHECK(unit::contains(s, "tcp dport 22 accept comment \"my_fire_wall_.conf:1\"\n"), s);
    Compiled longname = compile("allow in tcp/22\n", {}, "/etc/" + std::string(300, 'x') + ".conf");
    std::string l = firewall::render_nft(*longname.policy);
    size_t at = l.find("comment \"");
    CHECK(at != std::string::npos, l);
    size_t end = l.find('"', at + 9);
    CHECK(end - (at + 9) <= 128, "nft takes comments of at most 128 bytes\n" + l);
    CHECK(unit::contains(l, "comment \"" + std::string(100, 'x') + ":1\""), l);
    // Builtin rules carry no comment, as in render.cc.
    CHECK(!unit::contains(block(s, "chain input").substr(0, block(s, "chain input").find("tcp dport")), "comment"), s);
}

// The differential check: parse both renderings into (comment, family) ->
// verdict and require the same map. An nft line belongs to IPv4 when it
// names `ip ` or `nfproto ipv4`, to IPv6 for `ip6 ` or `nfproto ipv6`, else to
// both.
std::map<std::string, std::string> iptables_rules(const std::string& text, const char* fam) {
    std::map<std::string, std::string> out;
    for (const std::string& line : lines_of(text)) {
        size_t c = line.find("--comment \"");
        if (line.rfind("-A ", 0) != 0 || c == std::string::npos) {
            continue;
        }
        std::string chain = line.substr(3, line.find(' ', 3) - 3);
        std::string comment = line.substr(c + 11, line.find('"', c + 11) - c - 11);
        std::string target = line.substr(line.find(" -j ") + 4);
        std::string verdict = target == "ACCEPT" ? "accept" : target == "RINGFENCE-DROP" ? "drop" : "reject";
        out[std::string(fam) + " " + chain + " " + comment] = verdict;
    }
    return out;
}

std::map<std::string, std::string> nft_rules(const std::string& text) {
    std::map<std::string, std::string> out;
    std::string chain;
    for (const std::string& line : lines_of(text)) {
        if (line == "\tchain input {") {
            chain = "RINGFENCE-IN";
        } else if (line == "\tchain output {") {
            chain = "RINGFENCE-OUT";
        }
        size_t c = line.find(" comment \"");
        if (c == std::string::npos) {
            continue;
        }
        std::string comment = line.substr(c + 10, line.find('"', c + 10) - c - 10);
        std::string body = line.substr(0, c);
        std::string verdict = unit::contains(body, "jump log_drop")     ? "drop"
                              : unit::contains(body, "jump log_reject") ? "reject"
                                                                        : "accept";
        bool v4 = unit::contains(body, "\tip ") || unit::contains(body, "nfproto ipv4");
        bool v6 = unit::contains(body, "\tip6 ") || unit::contains(body, "nfproto ipv6");
        if (!v4 && !v6) {
            v4 = v6 = true;
        }
        for (const char* fam : {"v4", "v6"}) {
            if ((fam[1] == '4' && v4) || (fam[1] == '6' && v6)) {
                std::string key = std::string(fam) + " " + chain + " " + comment;
                auto it = out.find(key);
                CHECK(it == out.end() || it->second == verdict, key);
                out[key] = verdict;
            }
        }
    }
    return out;
}

void test_same_meaning_as_iptables(void**) {
    const std::map<std::string, std::string> files = {
        {"/etc/ringfence/bl", "198.51.100.0/24\n2001:db8:dead::/48\n"},
        {"/etc/ringfence/v4", "192.0.2.0/24\n"},
        {"/etc/ringfence/empty", ""},
    };
    const char* policies[] = {
        "service ssh tcp/22\nallow in ssh from 10.0.0.0/8\n",
        "service ssh tcp/22\nallow in ssh from 2001:db8::/32\npolicy out drop\nallow out udp/53 to 2001:db8::53\n",
        ("set bl file bl\nset v4 file v4\nset e file empty\npolicy in reject\ndeny in from bl 203.0.113.9\n"
         "reject in tcp/25 from v4\nallow in tcp/22 udp/60000-61000 from v4 2001:db8::/32\nallow in from e\n"
         "deny out to e 192.0.2.99\nallow out all\nlog denied rate 2/min\n"),
        ("allow in icmp/8 icmpv6/128 udp from 2001:db8::1 192.0.2.1\nallow in icmp from 2001:db8::/32\n"
         "allow in icmpv6 from 192.0.2.0/24\nallow in icmp icmpv6\nallow in tcp udp from any\n"),
        "policy in accept\npolicy out reject\nreject out tcp/25 to 0.0.0.0/0\ndeny in from ::/0\n",
    };
    for (const char* text : policies) {
        Compiled c = compile(text, files);
        CHECK(c.policy->valid(), std::string(text) + c.text());
        std::map<std::string, std::string> expected =
            iptables_rules(firewall::render_iptables(*c.policy, Family::v4), "v4");
        for (const auto& kv : iptables_rules(firewall::render_iptables(*c.policy, Family::v6), "v6")) {
            expected.insert(kv);
        }
        CHECK(!expected.empty(), text);
        std::string nft = firewall::render_nft(*c.policy);
        std::map<std::string, std::string> actual = nft_rules(nft);
        std::string e_text;
        std::string a_text;
        for (const auto& kv : expected) {
            e_text += kv.first + " -> " + kv.second + "\n";
        }
        for (const auto& kv : actual) {
            a_text += kv.first + " -> " + kv.second + "\n";
        }
        CHECK_STR(a_text, e_text, std::string(text) + "\n" + nft);
        // Default policies: the last rule of each base chain.
        struct DefaultCase {
            const char* head;
            firewall::Action def;
        };
        for (const DefaultCase& d : {DefaultCase{"chain input", c.policy->default_in()},
                                     DefaultCase{"chain output", c.policy->default_out()}}) {
            std::vector<std::string> l = lines_of(block(nft, d.head));
            CHECK(l.size() >= 3, nft);
            const std::string& last = l[l.size() - 2];
            if (d.def == firewall::Action::accept) {
                CHECK(last != "\t\tjump log_drop" && last != "\t\tjump log_reject", nft);
            } else {
                CHECK_STR(last, d.def == firewall::Action::drop ? "\t\tjump log_drop" : "\t\tjump log_reject", nft);
            }
        }
    }
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transaction_frame),
        cmocka_unit_test(test_v4_only_rule),
        cmocka_unit_test(test_defaults_both_directions),
        cmocka_unit_test(test_drop_and_reject_chains),
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_peers_and_destinations),
        cmocka_unit_test(test_ports),
        cmocka_unit_test(test_icmp_families),
        cmocka_unit_test(test_set_elements),
        cmocka_unit_test(test_comments),
        cmocka_unit_test(test_same_meaning_as_iptables),
    };
    unit::apply_filters();
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
