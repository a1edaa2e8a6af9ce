// SPDX-License-Identifier: BSD-3-Clause
// The nftables renderer: Policy -> one `nft -f` script for table inet
// ringfence. Mirrors render.cc rule for rule; see render_nft.h for the names
// and for how the two families share one table.
#include "iptables_helper/render_nft.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "iptables_helper/plan.h"
#include "iptables_helper/render.h"

namespace ringfence::firewall {

using core::CidrRange;
using Family = core::IpAddress::Family;

namespace {

// Which families a match belongs to.
enum class Fam { both, v4, v6 };

// The same "file:line" text as the iptables renderer; nft refuses comments
// over 128 bytes, hence the shorter cap.
std::string comment(const Policy& policy, int line) {
    return " comment \"" + rule_label(policy, line, 100) + "\"";
}

std::string verdict_of(Action a) {
    switch (a) {
        case Action::accept:
            return "accept";
        case Action::drop:
            return std::string("jump ") + kNftChainDrop;
        case Action::reject:
            return std::string("jump ") + kNftChainReject;
    }
    return std::string("jump ") + kNftChainDrop;
}

// "x" for one element, "{ x, y }" for more.
std::string set_expr(const std::vector<std::string>& items) {
    if (items.size() == 1) {
        return items[0];
    }
    std::string out = "{ ";
    for (size_t i = 0; i < items.size(); ++i) {
        out += (i ? ", " : "") + items[i];
    }
    return out + " }";
}

// Sorted, with overlapping and adjacent ranges merged: the same ports, and
// an anonymous interval set that no nft version refuses.
std::vector<PortRange> merge_ports(std::vector<PortRange> ports) {
    std::sort(ports.begin(), ports.end(),
              [](const PortRange& a, const PortRange& b) { return a.lo != b.lo ? a.lo < b.lo : a.hi < b.hi; });
    std::vector<PortRange> out;
    for (const PortRange& r : ports) {
        if (!out.empty() && static_cast<unsigned>(r.lo) <= static_cast<unsigned>(out.back().hi) + 1) {
            out.back().hi = std::max(out.back().hi, r.hi);
        } else {
            out.push_back(r);
        }
    }
    return out;
}

std::string port_text(const PortRange& r) {
    return r.lo == r.hi ? std::to_string(r.lo) : std::to_string(r.lo) + "-" + std::to_string(r.hi);
}

bool address_less(const CidrRange& a, const CidrRange& b) {
    int c = std::memcmp(a.base().bytes(), b.base().bytes(), a.base().size());
    return c != 0 ? c < 0 : a.prefix_len() < b.prefix_len();
}

bool covers(const CidrRange& outer, const CidrRange& inner) {
    return outer.prefix_len() <= inner.prefix_len() && outer.contains(inner.base());
}

// The same addresses without duplicates and without networks inside a larger
// one, sorted. Networks are nested or disjoint, so after sorting by (base,
// length) an entry is covered exactly when the last one kept covers it:
// linear after the sort, for sets of millions of entries.
std::vector<std::string> normalize_networks(std::vector<CidrRange> nets) {
    std::sort(nets.begin(), nets.end(), address_less);
    std::vector<std::string> out;
    const CidrRange* last = nullptr;
    for (const CidrRange& r : nets) {
        if (last != nullptr && covers(*last, r)) {
            continue;
        }
        last = &r;
        out.push_back(r.to_string());
    }
    return out;
}

// One protocol's part of a rule: every spec of that protocol merged.
struct ProtoMatch {
    Protocol protocol = Protocol::any;
    bool every = false;            // a spec without ports/types
    std::vector<PortRange> ports;  // tcp, udp
    std::vector<uint8_t> types;    // icmp, icmpv6
};

// The rule's specs grouped by protocol, in order of first appearance.
std::vector<ProtoMatch> group_specs(const std::vector<PortSpec>& specs) {
    std::vector<ProtoMatch> out;
    for (const PortSpec& s : specs) {
        auto it = std::find_if(out.begin(), out.end(), [&](const ProtoMatch& m) { return m.protocol == s.protocol; });
        if (it == out.end()) {
            out.push_back(ProtoMatch{s.protocol, false, {}, {}});
            it = out.end() - 1;
        }
        bool none = s.protocol == Protocol::tcp || s.protocol == Protocol::udp ? s.ports.empty() : s.types.empty();
        it->every = it->every || none;
        it->ports.insert(it->ports.end(), s.ports.begin(), s.ports.end());
        it->types.insert(it->types.end(), s.types.begin(), s.types.end());
    }
    return out;
}

struct Match {
    Fam fam = Fam::both;
    std::string text;  // empty: matches everything of fam
};

Match spec_match(const ProtoMatch& m) {
    switch (m.protocol) {
        case Protocol::any:
            return {Fam::both, ""};
        case Protocol::tcp:
        case Protocol::udp: {
            std::string p = protocol_name(m.protocol);
            if (m.every) {
                return {Fam::both, "meta l4proto " + p};
            }
            std::vector<std::string> items;
            for (const PortRange& r : merge_ports(m.ports)) {
                items.push_back(port_text(r));
            }
            return {Fam::both, p + " dport " + set_expr(items)};
        }
        case Protocol::icmp:
        case Protocol::icmpv6: {
            bool v4 = m.protocol == Protocol::icmp;
            Fam fam = v4 ? Fam::v4 : Fam::v6;
            if (m.every) {
                return {fam, v4 ? "meta l4proto icmp" : "meta l4proto ipv6-icmp"};
            }
            std::vector<uint8_t> types = m.types;
            std::sort(types.begin(), types.end());
            types.erase(std::unique(types.begin(), types.end()), types.end());
            std::vector<std::string> items;
            for (uint8_t t : types) {
                items.push_back(std::to_string(t));
            }
            return {fam, std::string(v4 ? "icmp" : "icmpv6") + " type " + set_expr(items)};
        }
    }
    return {Fam::both, ""};
}

// The rule's address matches: {both, ""} without restriction; otherwise
// IPv4 networks, IPv4 sets, IPv6 networks, IPv6 sets. A family with none of
// them gets no match, so the rule does not exist there.
std::vector<Match> peer_matches(const Peers& peers, Direction dir) {
    if (peers.any) {
        return {Match{Fam::both, ""}};
    }
    std::vector<Match> out;
    const char* side = dir == Direction::in ? " saddr " : " daddr ";
    for (Family family : {Family::v4, Family::v6}) {
        bool v4 = family == Family::v4;
        std::string field = std::string(v4 ? "ip" : "ip6") + side;
        const std::vector<CidrRange>& nets = v4 ? peers.v4 : peers.v6;
        if (!nets.empty()) {
            out.push_back(Match{v4 ? Fam::v4 : Fam::v6, field + set_expr(normalize_networks(nets))});
        }
        for (const std::string& s : peers.sets) {
            out.push_back(Match{v4 ? Fam::v4 : Fam::v6, field + "@" + nft_set_name(s, family)});
        }
    }
    return out;
}

// The words before the verdict, or false when the two matches belong to
// different families. An icmp match without an address states its family:
// `meta l4proto icmp` alone would also take IPv6 packets with next header 1.
bool combine(const Match& peer, const Match& spec, std::string* out) {
    if (peer.fam != Fam::both && spec.fam != Fam::both && peer.fam != spec.fam) {
        return false;
    }
    std::string words;
    auto add = [&](const std::string& w) {
        if (!w.empty()) {
            words += (words.empty() ? "" : " ") + w;
        }
    };
    if (peer.fam == Fam::both && spec.fam != Fam::both) {
        add(spec.fam == Fam::v4 ? "meta nfproto ipv4" : "meta nfproto ipv6");
    }
    add(peer.text);
    add(spec.text);
    *out = words;
    return true;
}

void render_rule(const Policy& policy, const Rule& rule, std::string* out) {
    std::vector<Match> peers = peer_matches(rule.peers, rule.direction);
    for (const ProtoMatch& pm : group_specs(rule.specs)) {
        Match spec = spec_match(pm);
        for (const Match& peer : peers) {
            std::string words;
            if (combine(peer, spec, &words)) {
                *out += "\t\t" + words + (words.empty() ? "" : " ") + verdict_of(rule.action) +
                        comment(policy, rule.line) + "\n";
            }
        }
    }
}

// A builtin ICMP step as one rule. Without an address it states its
// family: `icmpv6 type` alone would not.
void render_icmp(const IcmpAccept& icmp, Direction dir, std::string* out) {
    const bool v4 = icmp.family == Family::v4;
    std::string types;
    for (uint8_t t : icmp.types) {
        types += (types.empty() ? "" : ", ") + std::to_string(t);
    }
    std::string words;
    if (icmp.peer) {
        words = std::string(v4 ? "ip" : "ip6") + (dir == Direction::in ? " saddr " : " daddr ") +
                icmp.peer->to_string();
    } else {
        words = v4 ? "meta nfproto ipv4" : "meta nfproto ipv6";
    }
    *out += "\t\t" + words + (v4 ? " icmp" : " icmpv6") + " type { " + types + " }" +
            (icmp.hop_limit_255 ? " ip6 hoplimit 255" : "") + " accept\n";
}

// The base chain prints the plan's steps in order.
void render_base_chain(const Policy& policy, Direction dir, std::string* out) {
    bool in = dir == Direction::in;
    *out += std::string("\tchain ") + (in ? kNftChainIn : kNftChainOut) + " {\n";
    *out += std::string("\t\ttype filter hook ") + (in ? "input" : "output") + " priority " + kNftPriority +
            "; policy accept;\n";
    for (const Step& step : policy.plan().chain(dir).steps) {
        switch (step.kind) {
            case StepKind::rule:
                render_rule(policy, *step.rule, out);
                break;
            case StepKind::builtin_icmp:
                render_icmp(step.icmp, dir, out);
                break;
            case StepKind::loopback:
                *out += std::string("\t\t") + (in ? "iifname" : "oifname") + " \"lo\" accept\n";
                break;
            case StepKind::established:
            case StepKind::invalid:
                *out += step.kind == StepKind::established ? "\t\tct state established,related accept\n"
                                                           : "\t\tct state invalid drop\n";
                break;
            case StepKind::default_policy:
                // Default accept is the chain's policy; the other tables'
                // chains at this hook still decide for themselves.
                if (step.action != Action::accept) {
                    *out += "\t\t" + verdict_of(step.action) + "\n";
                }
                break;
        }
    }
    *out += "\t}\n";
}

// One limit per family, as the iptables backend has one per family and chain.
void render_log(const Policy& policy, std::string* out) {
    const LogSettings& log = policy.log();
    if (!log.enabled) {
        return;
    }
    for (const char* fam : {"ipv4", "ipv6"}) {
        *out += std::string("\t\tmeta nfproto ") + fam + " limit rate " + std::to_string(log.rate) + "/" + log.unit +
                " burst " + std::to_string(log.burst) + " packets log prefix \"" + kLogPrefix + "\" level warn\n";
    }
}

void render_set(const AddressSet& set, Family family, std::string* out) {
    bool v4 = family == Family::v4;
    *out += "\tset " + nft_set_name(set.name, family) + " {\n";
    *out += std::string("\t\ttype ") + (v4 ? "ipv4_addr" : "ipv6_addr") + "\n";
    *out += "\t\tflags interval\n";
    *out += "\t\tauto-merge\n";
    std::vector<std::string> elements = normalize_networks(v4 ? set.v4 : set.v6);
    if (!elements.empty()) {
        *out += "\t\telements = {\n";
        for (size_t i = 0; i < elements.size(); ++i) {
            *out += "\t\t\t" + elements[i] + (i + 1 < elements.size() ? ",\n" : "\n");
        }
        *out += "\t\t}\n";
    }
    *out += "\t}\n";
}

}  // namespace

std::string nft_set_name(const std::string& set, Family family) {
    return set + (family == Family::v4 ? "_v4" : "_v6");
}

std::string render_nft(const Policy& policy) {
    const std::string table = std::string(kNftFamily) + " " + kNftTable;
    std::string out;
    out += "# ringfence-firewall: nftables ruleset (table " + table + "); load with nft -f\n";
    // Declaring the table first makes the delete succeed when it is absent;
    // both, and the new table, commit in one transaction.
    out += "table " + table + "\n";
    out += "delete table " + table + "\n";
    out += "table " + table + " {\n";
    for (const AddressSet& set : policy.sets()) {
        render_set(set, Family::v4, &out);
        render_set(set, Family::v6, &out);
    }
    out += std::string("\tchain ") + kNftChainDrop + " {\n";
    render_log(policy, &out);
    out += "\t\tdrop\n";
    out += "\t}\n";
    out += std::string("\tchain ") + kNftChainReject + " {\n";
    render_log(policy, &out);
    out += "\t\tmeta l4proto tcp reject with tcp reset\n";
    out += "\t\treject with icmpx type port-unreachable\n";
    out += "\t}\n";
    render_base_chain(policy, Direction::in, &out);
    render_base_chain(policy, Direction::out, &out);
    out += "}\n";
    return out;
}

}  // namespace ringfence::firewall
