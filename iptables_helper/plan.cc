// SPDX-License-Identifier: BSD-3-Clause
// The rule plan (plan.h): built once per compiled policy, walked by the
// evaluator, printed by the renderers.
#include "iptables_helper/plan.h"

namespace ringfence::firewall {

using Family = core::IpAddress::Family;

namespace {

core::CidrRange network(const char* text) {
    std::string ignored;
    return *core::CidrRange::parse(text, &ignored);
}

Step icmp_step(Family family, std::vector<uint8_t> types, bool hop_limit_255,
               std::optional<core::CidrRange> peer = std::nullopt) {
    Step s;
    s.kind = StepKind::builtin_icmp;
    s.icmp.family = family;
    s.icmp.types = std::move(types);
    s.icmp.hop_limit_255 = hop_limit_255;
    s.icmp.peer = std::move(peer);
    return s;
}

ChainPlan chain_plan(const Policy& policy, Direction dir) {
    ChainPlan c;
    c.direction = dir;
    Step s;
    s.kind = StepKind::loopback;
    c.steps.push_back(s);
    // Deny lists come before conntrack: listing an address cuts its live
    // sessions too, as `iptables -I INPUT 1 -s X -j DROP` did.
    for (const Rule& r : policy.rules()) {
        if (r.direction == dir && r.action != Action::accept) {
            Step rs;
            rs.kind = StepKind::rule;
            rs.action = r.action;
            rs.rule = &r;
            c.steps.push_back(rs);
        }
    }
    s.kind = StepKind::established;
    c.steps.push_back(s);
    s.kind = StepKind::invalid;
    s.action = Action::drop;
    c.steps.push_back(s);
    // Errors for tracked flows are RELATED already; these cover the rest
    // (path MTU discovery towards untracked peers) and ping.
    c.steps.push_back(icmp_step(Family::v4, {3, 11, 12, 8}, false));
    c.steps.push_back(icmp_step(Family::v6, {1, 2, 3, 4, 128}, false));
    // Neighbour discovery (RFC 4861): without it nothing on the link
    // resolves; hop limit 255 proves the sender is on the link.
    c.steps.push_back(icmp_step(Family::v6, {133, 134, 135, 136}, true));
    // Multicast listener discovery (MLDv1/v2), link-local only.
    c.steps.push_back(icmp_step(Family::v6, {130, 131, 132, 143}, false,
                                network(dir == Direction::in ? "fe80::/10" : "ff02::/16")));
    for (const Rule& r : policy.rules()) {
        if (r.direction == dir && r.action == Action::accept) {
            Step rs;
            rs.kind = StepKind::rule;
            rs.rule = &r;
            c.steps.push_back(rs);
        }
    }
    Step def;
    def.kind = StepKind::default_policy;
    def.action = dir == Direction::in ? policy.default_in() : policy.default_out();
    c.steps.push_back(def);
    return c;
}

bool peer_matches(const Policy& policy, const Peers& peers, const core::IpAddress& a) {
    if (peers.any) {
        return true;
    }
    auto in_list = [&a](const std::vector<core::CidrRange>& list) {
        for (const core::CidrRange& r : list) {
            if (r.contains(a)) {
                return true;
            }
        }
        return false;
    };
    if (in_list(a.is_v4() ? peers.v4 : peers.v6)) {
        return true;
    }
    for (const std::string& name : peers.sets) {
        const AddressSet* set = policy.find_set(name);
        if (set != nullptr && in_list(a.is_v4() ? set->v4 : set->v6)) {
            return true;
        }
    }
    return false;
}

bool spec_matches(const PortSpec& spec, bool v4, Protocol protocol, uint16_t dport) {
    if (spec.protocol == Protocol::any) {
        return true;
    }
    if (spec.protocol != protocol) {
        return false;
    }
    if (protocol == Protocol::icmp && !v4) {
        return false;
    }
    if (protocol == Protocol::icmpv6 && v4) {
        return false;
    }
    if (protocol != Protocol::tcp && protocol != Protocol::udp) {
        return spec.types.empty();
    }
    if (spec.ports.empty()) {
        return true;
    }
    for (const PortRange& r : spec.ports) {
        if (dport >= r.lo && dport <= r.hi) {
            return true;
        }
    }
    return false;
}

// The model of `-i lo` / `-o lo`: a loopback address is on lo.
bool is_loopback(const core::IpAddress& a) {
    return a.is_v4() ? a.bytes()[0] == 127 : a == *core::IpAddress::parse("::1");
}

bool icmp_matches(const IcmpAccept& icmp, const core::IpAddress& a, Protocol protocol, uint16_t type) {
    const Protocol p = icmp.family == Family::v4 ? Protocol::icmp : Protocol::icmpv6;
    if (protocol != p || a.family() != icmp.family || (icmp.peer && !icmp.peer->contains(a))) {
        return false;
    }
    for (uint8_t t : icmp.types) {
        if (t == type) {
            return true;
        }
    }
    return false;
}

bool step_matches(const Policy& policy, const Step& step, const Packet& p, const core::IpAddress& a) {
    switch (step.kind) {
        case StepKind::loopback:
            return is_loopback(a);
        case StepKind::rule:
            return rule_matches(policy, *step.rule, a, p.protocol, p.port);
        case StepKind::established:
            return p.established;
        case StepKind::invalid:
            return false;  // the walk models packets conntrack understands
        case StepKind::builtin_icmp:
            return icmp_matches(step.icmp, a, p.protocol, p.port);
        case StepKind::default_policy:
            return true;
    }
    return false;
}

}  // namespace

Plan build_plan(const Policy& policy) {
    Plan p;
    p.in = chain_plan(policy, Direction::in);
    p.out = chain_plan(policy, Direction::out);
    return p;
}

const Plan& Policy::plan() const {
    static const Plan empty;
    return plan_ ? *plan_ : empty;
}

bool rule_matches(const Policy& policy, const Rule& rule, const core::IpAddress& peer, Protocol protocol,
                  uint16_t dport) {
    const core::IpAddress a = peer.unmapped();
    if (!peer_matches(policy, rule.peers, a)) {
        return false;
    }
    for (const PortSpec& spec : rule.specs) {
        if (spec_matches(spec, a.is_v4(), protocol, dport)) {
            return true;
        }
    }
    return false;
}

const Step& first_match(const Policy& policy, const Packet& packet) {
    const core::IpAddress a = packet.peer.unmapped();
    const ChainPlan& chain = policy.plan().chain(packet.direction);
    for (const Step& s : chain.steps) {
        if (step_matches(policy, s, packet, a)) {
            return s;
        }
    }
    // Only a policy without a plan (never compiled) gets here: fail closed.
    static const Step closed = [] {
        Step s;
        s.action = Action::drop;
        return s;
    }();
    return closed;
}

}  // namespace ringfence::firewall
