#include "iptables_helper/evaluate.h"

namespace ringfence::firewall {

using Family = core::IpAddress::Family;

namespace {

bool peer_matches(const Policy& policy, const Peers& peers, const core::IpAddress& peer) {
    if (peers.any) {
        return true;
    }
    const core::IpAddress a = peer.unmapped();
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

std::string describe(const Policy& policy, const Rule& rule) {
    return policy.file() + ":" + std::to_string(rule.line) + ": `" +
           (rule.action == Action::reject ? "reject " : "deny ") + direction_name(rule.direction) + " ...`";
}

}  // namespace

bool rule_matches(const Policy& policy, const Rule& rule, const core::IpAddress& peer, Protocol protocol,
                  uint16_t dport) {
    if (!peer_matches(policy, rule.peers, peer)) {
        return false;
    }
    const bool v4 = peer.unmapped().is_v4();
    for (const PortSpec& spec : rule.specs) {
        if (spec_matches(spec, v4, protocol, dport)) {
            return true;
        }
    }
    return false;
}

SessionVerdict check_session(const Policy& policy, const core::IpAddress& client, uint16_t client_port,
                             uint16_t server_port) {
    SessionVerdict v;
    const core::IpAddress a = client.unmapped();
    const bool loopback = a.is_v4() ? a.bytes()[0] == 127 : a == *core::IpAddress::parse("::1");
    if (loopback) {
        return v;  // `-i lo -j ACCEPT` / `-o lo -j ACCEPT` come first
    }
    // Deny and reject rules come before the established-connection rule:
    // they cut live sessions. Inbound: client -> our port; outbound: our
    // replies -> the client's port.
    for (const Rule& r : policy.rules()) {
        if (r.action == Action::accept) {
            continue;
        }
        bool hit = r.direction == Direction::in ? rule_matches(policy, r, a, Protocol::tcp, server_port)
                                                : rule_matches(policy, r, a, Protocol::tcp, client_port);
        if (hit) {
            v.cut = true;
            v.reconnect = false;
            v.line = r.line;
            v.reason = describe(policy, r) + " matches it";
            return v;
        }
    }
    for (const Rule& r : policy.rules()) {
        if (r.action == Action::accept && r.direction == Direction::in &&
            rule_matches(policy, r, a, Protocol::tcp, server_port)) {
            v.line = r.line;
            return v;
        }
    }
    if (policy.default_in() != Action::accept) {
        v.reconnect = false;
        v.reason = std::string("no allow rule matches it and the default is `policy in ") +
                   action_name(policy.default_in()) + "`";
    }
    return v;
}

}  // namespace ringfence::firewall
